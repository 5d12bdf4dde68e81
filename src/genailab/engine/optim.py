"""Optimizers and learning-rate schedules for the engine's tensors.

Every optimizer here reads ``p.grad`` and rewrites ``p.data`` *in place*, vectorized over each
parameter array, so a model, its optimizer and a checkpoint all see the same arrays.

- :class:`SGD` -- ``p <- p - lr * g``, with heavy-ball momentum and L2 weight decay
  (``torch.optim.SGD``'s update rule).
- :class:`Adam` -- Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015), with
  bias correction and L2 weight decay added to the gradient (``torch.optim.Adam``).
- :class:`AdamW` -- Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019):
  the decay shrinks the weights directly instead of passing through the moments
  (``torch.optim.AdamW``).
- :func:`cosine_with_warmup` -- linear warmup, then a half cosine down to ``lr_min``
  (the schedule of nanoGPT's ``get_lr``).
- :func:`clip_grad_norm` -- rescale all gradients so their joint norm is at most ``max_norm``
  (``torch.nn.utils.clip_grad_norm_``).
- :class:`Evolution` -- no gradient at all: a (1+1) evolution strategy (Rechenberg 1973), or
  (1+P) with a population, whose loss can never rise.

The Adam update at step ``t``, with ``g`` the gradient and every operation elementwise::

    m <- m + (1 - b1) (g - m)            v <- b2 v + (1 - b2) g^2
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The operations follow torch's single-tensor CPU code in the same order, so float64 runs agree
with ``torch.optim`` to rounding (about 1e-15 per step).

Optimizers take either an iterable of tensors or, like torch, of parameter groups
(``{"params": [...], "weight_decay": 0.0}``) whose keys override the defaults for that group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from genailab.engine.tensor import Tensor, no_grad

ParamsLike = Iterable[Tensor] | Iterable[dict[str, Any]]


# ----------------------------------------------------------------------------------------------
# the optimizer base: parameter groups, state, state_dict
# ----------------------------------------------------------------------------------------------


class Optimizer:
    """Base class: holds parameter groups and per-parameter state; subclasses define ``_update``.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimize, or parameter groups ``{"params": [...], **overrides}``.
    defaults : dict
        Hyper-parameters of every group that does not override them.
    """

    def __init__(self, params: ParamsLike, defaults: dict[str, Any]) -> None:
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self._params: list[Tensor] = []  # flat, in group order: state_dict indices refer to it
        seen: set[int] = set()
        for group in groups:
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(
                    f"unknown hyper-parameter(s) {sorted(unknown)} in a parameter group of "
                    f"{type(self).__name__} (accepted: {sorted(defaults)})"
                )
            group = {**self.defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise TypeError(f"optimizers take Tensors, got {type(p).__name__}")
                if id(p) in seen:
                    raise ValueError("a parameter appears twice in the optimizer's parameters")
                seen.add(id(p))
                self._params.append(p)
            self.param_groups.append(group)
        self.state: list[dict[str, Any]] = [{} for _ in self._params]
        self._scratch: list[np.ndarray | None] = [None for _ in self._params]

    @property
    def lr(self) -> float:
        """Learning rate of the first group; setting it sets every group (what a schedule does)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = float(value)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``, torch's default)."""
        for p in self._params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(i, p.data, p.grad, group)
                i += 1

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        """Update parameter ``i`` (its data ``p``, in place) from its gradient ``g``."""
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    def _buffer(self, i: int, p: np.ndarray) -> np.ndarray:
        """A scratch array shaped like parameter ``i``, reused every step (no allocation)."""
        buf = self._scratch[i]
        if buf is None or buf.shape != p.shape or buf.dtype != p.dtype:
            buf = self._scratch[i] = np.empty_like(p)
        return buf

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state (copies), in ``torch.optim``'s layout.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index, ...]}]}``,
        indices counting the parameters in group order.
        """
        state = {
            i: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for i, s in enumerate(self.state)
            if s
        }
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**group, "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved, so that training resumes exactly.

        Raises
        ------
        ValueError
            If the groups or the parameter shapes do not match this optimizer's.
        """
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in groups]
        if sizes != saved_sizes:
            raise ValueError(
                f"optimizer state has parameter groups of sizes {saved_sizes}, "
                f"but this optimizer has {sizes}"
            )
        new_state: list[dict[str, Any]] = [{} for _ in self._params]
        for key, saved in state_dict["state"].items():
            i = int(key)
            for name, value in saved.items():
                if isinstance(value, np.ndarray):
                    p = self._params[i].data
                    if value.shape != p.shape:
                        raise ValueError(
                            f"optimizer state '{name}' of parameter {i} has shape {value.shape}, "
                            f"but the parameter has shape {p.shape}"
                        )
                    value = value.astype(p.dtype, copy=True)
                new_state[i][name] = value
        self.state = new_state
        for group, saved in zip(self.param_groups, groups, strict=True):
            group.update({k: v for k, v in saved.items() if k != "params"})


# ----------------------------------------------------------------------------------------------
# SGD, Adam, AdamW
# ----------------------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    ``g <- g + wd p``; with momentum ``b <- mu b + g`` (``b = g`` at the first step) and
    ``g <- b`` (Nesterov: ``g <- g + mu b``); then ``p <- p - lr g``. Same rule as
    ``torch.optim.SGD`` (no dampening).

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        Tensors to optimize, or parameter groups.
    lr : float
        Learning rate.
    momentum : float, default 0.0
        Momentum factor ``mu``.
    weight_decay : float, default 0.0
        L2 penalty coefficient ``wd``, added to the gradient.
    nesterov : bool, default False
        Use Nesterov momentum.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    array([ 0.8, -1.6])
    """

    def __init__(
        self,
        params: ParamsLike,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD needs lr, momentum, weight_decay >= 0, got {lr}, {momentum}, {weight_decay}"
            )
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p  # a new array: p.grad itself is left as backward() made it
        if mu != 0:
            state = self.state[i]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += g
            g = g + mu * buf if group["nesterov"] else buf
        step = self._buffer(i, p)
        np.multiply(g, lr, out=step)
        p -= step


class Adam(Optimizer):
    """Adam with bias correction; weight decay is L2, added to the gradient (as torch.optim.Adam).

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        Tensors to optimize, or parameter groups.
    lr : float, default 1e-3
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment averages.
    eps : float, default 1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default 0.0
        L2 penalty coefficient: ``g <- g + weight_decay * p`` before the moments.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first Adam step moves each weight by lr against its gradient's sign
    >>> np.round(w.data, 6)
    array([ 0.9, -1.9])
    """

    _decoupled = False

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(
                f"{type(self).__name__} needs lr, eps, weight_decay >= 0, "
                f"got {lr}, {eps}, {weight_decay}"
            )
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__} needs betas in [0, 1), got {betas}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        state = self.state[i]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            if self._decoupled:
                p *= 1 - lr * wd  # AdamW: shrink the weights, not the gradient
            else:
                g = g + wd * p  # Adam: L2 term into the gradient (a new array)
        buf = self._buffer(i, p)
        np.subtract(g, m, out=buf)  # m <- m + (1 - b1)(g - m), torch's lerp_
        buf *= 1 - b1
        m += buf
        np.multiply(g, 1 - b2, out=buf)  # v <- b2 v + (1 - b2) g^2, torch's mul_ + addcmul_
        buf *= g
        v *= b2
        v += buf
        step_size = lr / (1 - b1**t)
        bias_correction2_sqrt = (1 - b2**t) ** 0.5
        np.sqrt(v, out=buf)  # denominator sqrt(v) / sqrt(1 - b2^t) + eps
        buf /= bias_correction2_sqrt
        buf += eps
        np.divide(m, buf, out=buf)
        buf *= step_size
        p -= buf


class AdamW(Adam):
    """Adam with decoupled weight decay (as torch.optim.AdamW): ``p <- p (1 - lr wd)`` first.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        Tensors to optimize, or parameter groups (nanoGPT puts biases and LayerNorm gains in a
        group with ``weight_decay=0.0``).
    lr : float, default 1e-3
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment averages.
    eps : float, default 1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default 0.01
        Decoupled decay rate; the weights shrink by ``lr * weight_decay`` each step.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()  # shrink by 1 - 0.1 * 0.5, then the Adam step of size 0.1
    >>> np.round(w.data, 6)
    array([ 0.85, -1.8 ])
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ----------------------------------------------------------------------------------------------
# schedules and gradient clipping
# ----------------------------------------------------------------------------------------------


def cosine_with_warmup(
    step: int, warmup: int, total: int, lr_max: float, lr_min: float = 0.0
) -> float:
    """Learning rate at ``step``: linear warmup to ``lr_max``, then cosine decay to ``lr_min``.

    ``lr_max (step + 1) / warmup`` while ``step < warmup`` (never zero, ``lr_max`` at the last
    warmup step); then ``lr_min + (lr_max - lr_min) (1 + cos(pi r)) / 2`` with
    ``r = (step - warmup) / (total - warmup)``; ``lr_min`` from ``step >= total`` on.

    Parameters
    ----------
    step : int
        The current step, counted from 0.
    warmup : int
        Number of warmup steps (0 for none).
    total : int
        The step at which the decay reaches ``lr_min``; ``total >= warmup``.
    lr_max, lr_min : float
        Peak and final learning rates.

    Returns
    -------
    float
        The learning rate to set, e.g. ``opt.lr = cosine_with_warmup(...)``.

    Examples
    --------
    >>> [round(cosine_with_warmup(s, 2, 6, 1.0, 0.1), 3) for s in range(8)]
    [0.5, 1.0, 1.0, 0.868, 0.55, 0.232, 0.1, 0.1]
    """
    if step < 0 or warmup < 0 or total < warmup:
        raise ValueError(
            f"cosine_with_warmup needs step >= 0 and 0 <= warmup <= total, "
            f"got step={step}, warmup={warmup}, total={total}"
        )
    if step < warmup:
        return lr_max * (step + 1) / warmup
    if step >= total:
        return lr_min
    ratio = (step - warmup) / (total - warmup)
    return lr_min + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr_max - lr_min)


def clip_grad_norm(params: Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients in place so that their joint norm is at most ``max_norm``.

    The joint norm is the norm of the vector of every gradient entry; the gradients are
    multiplied by ``min(1, max_norm / (norm + 1e-6))``, as ``torch.nn.utils.clip_grad_norm_``.
    Parameters without a gradient are skipped.

    Parameters
    ----------
    params : iterable of Tensor
        Parameters whose ``.grad`` to clip.
    max_norm : float
        Largest norm allowed.
    norm_type : float, default 2.0
        Order of the norm (``math.inf`` for the largest absolute entry).

    Returns
    -------
    float
        The joint norm *before* clipping.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> w = Tensor(np.zeros(2), requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm([w], max_norm=1.0)
    5.0
    >>> np.round(w.grad, 6)
    array([0.6, 0.8])
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads])
        total = float(np.linalg.norm(norms, ord=norm_type))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:  # torch multiplies by min(coef, 1); a factor of exactly 1 changes nothing
        for g in grads:
            g *= coef
    return total


# ----------------------------------------------------------------------------------------------
# Evolution: gradient-free (1+1) and (1+P) evolution strategies
# ----------------------------------------------------------------------------------------------


class Evolution:
    """Gradient-free optimizer: mutate the parameters, keep the mutation only if it helps.

    Each :meth:`step` draws ``population`` children ``x + sigma * N(0, I)`` from the parent ``x``
    (the current parameters), evaluates ``loss_fn`` on each, and keeps the best child iff its
    loss is strictly lower than the parent's. The parent's loss is therefore non-increasing by
    construction -- provided ``loss_fn`` is deterministic (full batch, no dropout).

    Parameters
    ----------
    params : iterable of Tensor
        The tensors to evolve; their ``.data`` is rewritten in place.
    sigma : float, default 0.1
        Standard deviation of the Gaussian mutation.
    population : int, default 1
        Children per step: 1 is the (1+1) strategy, P > 1 the (1+P) strategy.
    sigma_schedule : callable, optional
        ``sigma_schedule(step) -> sigma`` for the step about to be taken (counted from 0);
        overrides ``sigma``.
    rng : numpy.random.Generator or int, optional
        Source of the mutations (a seed is accepted too).

    Attributes
    ----------
    loss : float or None
        Loss of the current parameters (None before the first step).
    steps : int
        Steps taken so far.
    accepted : int
        Steps whose child replaced the parent.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> w = Tensor(np.array([3.0, -2.0]), requires_grad=True)
    >>> opt = Evolution([w], sigma=0.3, rng=0)
    >>> losses = [opt.step(lambda: float((w.data**2).sum())) for _ in range(200)]
    >>> all(a >= b for a, b in zip(losses, losses[1:])), losses[-1] < 0.05
    (True, True)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        sigma: float = 0.1,
        population: int = 1,
        sigma_schedule: Callable[[int], float] | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("Evolution got an empty parameter list")
        if sigma <= 0:
            raise ValueError(f"Evolution needs sigma > 0, got {sigma}")
        if population < 1:
            raise ValueError(f"Evolution needs population >= 1, got {population}")
        self.sigma = float(sigma)
        self.population = int(population)
        self.sigma_schedule = sigma_schedule
        self.rng = np.random.default_rng(rng)
        self.loss: float | None = None
        self.steps = 0
        self.accepted = 0

    def _noise(self, sigma: float) -> list[np.ndarray]:
        out = []
        for p in self.params:
            dtype = p.data.dtype if p.data.dtype in (np.float32, np.float64) else np.float64
            z = self.rng.standard_normal(p.data.shape, dtype=dtype)
            z *= sigma
            out.append(z)
        return out

    def step(self, loss_fn: Callable[[], Any]) -> float:
        """Take one step; return the loss of the parameters now in place (never higher).

        Parameters
        ----------
        loss_fn : callable
            ``loss_fn() -> float`` (or a scalar Tensor) evaluated on the current parameters,
            under ``no_grad``.
        """
        sigma = (
            self.sigma if self.sigma_schedule is None else float(self.sigma_schedule(self.steps))
        )
        with no_grad():
            if self.loss is None:
                self.loss = _as_float(loss_fn())
            parent = [p.data.copy() for p in self.params]
            best_loss, best_noise = self.loss, None
            for _ in range(self.population):
                noise = self._noise(sigma)
                for p, x, z in zip(self.params, parent, noise, strict=True):
                    np.add(x, z, out=p.data)
                loss = _as_float(loss_fn())
                if loss < best_loss:  # NaN never wins
                    best_loss, best_noise = loss, noise
            for p, x in zip(self.params, parent, strict=True):  # back to the parent ...
                p.data[...] = x
            if best_noise is not None:  # ... or on to the best child
                for p, z in zip(self.params, best_noise, strict=True):
                    p.data += z
                self.accepted += 1
        self.loss = best_loss
        self.steps += 1
        return best_loss

    def state_dict(self) -> dict[str, Any]:
        """Sigma, counters, the parent's loss and the generator's state."""
        return dict(
            sigma=self.sigma,
            steps=self.steps,
            accepted=self.accepted,
            loss=self.loss,
            rng=self.rng.bit_generator.state,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.sigma = state_dict["sigma"]
        self.steps = state_dict["steps"]
        self.accepted = state_dict["accepted"]
        self.loss = state_dict["loss"]
        self.rng.bit_generator.state = state_dict["rng"]


def _as_float(value: Any) -> float:
    """A loss as a Python float: Tensors through ``.item()``, numbers through ``float``."""
    return float(value.item()) if hasattr(value, "item") else float(value)
