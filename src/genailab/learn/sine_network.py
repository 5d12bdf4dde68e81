"""A network of sine units: one hidden layer that fits a 1-D signal like a Fourier series.

The model is ``y(x) = sum_k a_k sin(w_k x + b_k) + c``: ``K`` hidden units, each a sine wave of
its own frequency ``w_k`` and phase ``b_k``, mixed by an outer layer of amplitudes ``a_k`` and an
intercept ``c``. A Fourier series is the special case where the frequencies are the fixed
multiples of a base frequency; here they are either drawn at random and frozen, or learned.

Two ways to train it, which are the point of the comparison:

``train_hidden=False``
    The hidden layer stays at its random draw and only ``(a, c)`` move. The prediction is then
    linear in the trained parameters, so the mean squared error is a convex quadratic whose
    minimum is the linear least-squares solution (``solver="lstsq"``, exact, one call to
    ``np.linalg.lstsq``); gradient descent (``solver="adam"``) can only approach that floor.
    This is the "random features" model (Rahimi & Recht, "Random Features for Large-Scale
    Kernel Machines", NIPS 2007).
``train_hidden=True``
    Both layers learn by gradient descent on genailab's autograd engine with Adam: each unit
    slides its frequency and phase towards a component of the signal, so a few units can do what
    many random ones cannot. The loss is no longer convex; a unit can get stuck.

Adam's learning rate follows a half cosine from ``learning_rate`` down to a hundredth of it,
which lets the last steps settle instead of rattling around the minimum.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from genailab.engine import Tensor
from genailab.engine import functional as F
from genailab.engine.optim import Adam, cosine_with_warmup
from genailab.errors import ConfigError, NotFittedError
from genailab.estimator import Regressor, as_features, as_targets

Solver = Literal["adam", "lstsq"]


class SineNetwork(Regressor):
    """Fit ``y(x) = sum_k a_k sin(w_k x + b_k) + c`` to 1-D data, scikit-learn style.

    Parameters
    ----------
    n_units : int, default 16
        Number of hidden sine units ``K``.
    train_hidden : bool, default True
        Learn the frequencies and phases too (hierarchical learning); with False only the
        outer layer ``(a, c)`` is fitted and the hidden layer keeps its random draw.
    max_frequency : float, default 12.0
        Initial frequencies are drawn uniformly in ``[0, max_frequency]`` cycles per unit of
        ``x``, i.e. ``w_k = 2 pi f_k``; phases uniformly in ``[-pi, pi]``.
    solver : {"adam", "lstsq"}, default "adam"
        ``"lstsq"`` solves the outer layer exactly (only with ``train_hidden=False``);
        ``"adam"`` runs ``steps`` full-batch Adam steps on the engine.
    steps : int, default 2000
        Number of Adam steps.
    learning_rate : float, default 0.02
        Adam's peak learning rate (cosine decay to a hundredth of it).
    random_state : int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Source of the initial hidden layer. The same ``random_state`` gives the same hidden
        layer whatever ``train_hidden`` and ``solver`` are, so the two modes start alike.

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_units,)
        Angular frequencies ``w_k`` (radians per unit of ``x``).
    phases_ : ndarray of shape (n_units,)
        Phases ``b_k``.
    amplitudes_ : ndarray of shape (n_units,)
        Outer weights ``a_k``.
    intercept_ : ndarray of shape ()
        The constant ``c`` (a 0-d array; ``float(intercept_)`` for a number).
    loss_curve_ : list of float
        Mean squared error on the training data after 0, 1, ..., ``n_iter_`` steps.
    n_iter_ : int
        Number of optimizer steps taken (0 for ``"lstsq"``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 100)
    >>> y = np.sin(2 * np.pi * 3 * x + 0.5)
    >>> outer = SineNetwork(n_units=4, train_hidden=False, solver="lstsq", random_state=0)
    >>> both = SineNetwork(n_units=4, steps=800, random_state=0)
    >>> outer.fit(x, y).loss_curve_[-1] > 0.01, both.fit(x, y).loss_curve_[-1] < 1e-4
    (True, True)
    >>> both.predict([0.25]).shape
    (1,)
    """

    def __init__(
        self,
        n_units: int = 16,
        *,
        train_hidden: bool = True,
        max_frequency: float = 12.0,
        solver: Solver = "adam",
        steps: int = 2000,
        learning_rate: float = 0.02,
        random_state: int | np.random.SeedSequence | np.random.Generator | None = None,
    ) -> None:
        self.n_units = n_units
        self.train_hidden = train_hidden
        self.max_frequency = max_frequency
        self.solver = solver
        self.steps = steps
        self.learning_rate = learning_rate
        self.random_state = random_state

    # ------------------------------------------------------------------------------ fitting
    def fit(self, X, y) -> SineNetwork:
        """Train on ``X`` of shape (n,) or (n, 1) and targets ``y`` of shape (n,); return self."""
        for _ in self.fit_steps(X, y):
            pass
        return self

    def fit_steps(self, X, y) -> Iterator[int]:
        """Train like :meth:`fit`, yielding the step count after the start and after each step.

        At each yield the fitted attributes hold the current network, so a caller can draw it
        (``predict``) while it learns. ``"lstsq"`` yields once, with the solution.
        """
        self._check_params()
        x = self._inputs(X, reset=True)
        y = as_targets(self, y, len(x))
        rng = np.random.default_rng(self.random_state)
        K = self.n_units
        # The hidden layer is drawn first and the same way in every mode (same random_state,
        # same start); the outer layer starts at zero, so every mode starts from y = 0.
        self.frequencies_ = 2 * np.pi * rng.uniform(0.0, self.max_frequency, K)  # (K,)
        self.phases_ = rng.uniform(-np.pi, np.pi, K)  # (K,)
        self.amplitudes_ = np.zeros(K)  # (K,)
        self.intercept_ = np.zeros(())  # ()
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0
        if self.solver == "lstsq":
            design = np.column_stack([self.features(x), np.ones(len(x))])  # (n, K + 1)
            coef = np.linalg.lstsq(design, y, rcond=None)[0]  # (K + 1,)
            self.amplitudes_[:], self.intercept_[...] = coef[:K], coef[K]
            self.loss_curve_.append(float(np.mean((design @ coef - y) ** 2)))
            yield 0
            return
        # The engine's tensors wrap the very arrays above: the optimizer rewrites them in
        # place, so the fitted attributes follow every step for free.
        w = Tensor(self.frequencies_, requires_grad=self.train_hidden)
        b = Tensor(self.phases_, requires_grad=self.train_hidden)
        a = Tensor(self.amplitudes_, requires_grad=True)
        c = Tensor(self.intercept_, requires_grad=True)
        opt = Adam([a, c, w, b] if self.train_hidden else [a, c], lr=self.learning_rate)
        xt = Tensor(x[:, None])  # (n, 1)
        for t in range(self.steps + 1):
            h = (xt * w + b).sin()  # (n, K): the hidden layer
            loss = F.mse(h @ a + c, y)  # (n, K) @ (K,) -> (n,)
            self.loss_curve_.append(loss.item())
            self.n_iter_ = t
            yield t
            if t == self.steps:
                return
            opt.lr = cosine_with_warmup(
                t, 0, self.steps, self.learning_rate, self.learning_rate / 100
            )
            opt.zero_grad()
            loss.backward()
            opt.step()

    # ------------------------------------------------------------------------------ using
    def features(self, X) -> np.ndarray:
        """The hidden layer's outputs ``sin(w_k x + b_k)``, shape (n, n_units)."""
        self._check_fitted()
        return np.sin(self._inputs(X, reset=False)[:, None] * self.frequencies_ + self.phases_)

    def predict(self, X) -> np.ndarray:
        """The network's output at ``X`` (shape (n,) or (n, 1)), shape (n,)."""
        return self.features(X) @ self.amplitudes_ + self.intercept_

    # ------------------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if not isinstance(self.n_units, int | np.integer) or self.n_units < 1:
            raise ConfigError(f"n_units must be an integer of at least 1, got {self.n_units!r}")
        if self.solver not in ("adam", "lstsq"):
            raise ConfigError(f"solver must be 'adam' or 'lstsq', got {self.solver!r}")
        if self.solver == "lstsq" and self.train_hidden:
            raise ConfigError(
                "solver='lstsq' fits only the outer layer: it needs train_hidden=False "
                "(use solver='adam' to train both layers)"
            )
        if self.steps < 0:
            raise ConfigError(f"steps must be at least 0, got {self.steps}")
        if not self.max_frequency > 0:
            raise ConfigError(f"max_frequency must be positive, got {self.max_frequency}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "frequencies_"):
            raise NotFittedError("this SineNetwork is not fitted yet: call fit(X, y) first")

    def _inputs(self, X, reset: bool) -> np.ndarray:
        """1-D inputs as a float64 vector (n,), from (n,) or (n, 1)."""
        why = "a 1-D signal y(x): X of shape (n,) or (n, 1)"
        return as_features(self, X, reset=reset, n_features=1, why=why, allow_1d=True)[:, 0]
