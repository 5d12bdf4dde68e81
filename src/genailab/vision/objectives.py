"""What a feature visualisation maximises: objectives over a network's activations.

An objective is a function of one forward pass: it takes the activations of the stages it
names, ``acts[stage]`` ((B, C, H, W) for conv stages, (B, D) for fully connected ones, and
``acts["image"]``, the images (B, C, H, W) in [0, 1] being optimised), and returns one value
per image of the batch, (B,), to *maximise*. Objectives add and scale
(``channel("conv3", 5) + 0.1 * diversity("conv3", 1.0)``), as in Olah et al. (2017, "Feature
Visualization"):

- :func:`channel`: the mean of a channel over all positions (a fully connected unit as is);
- :func:`neuron`: one unit at one position (the centre by default);
- :func:`class_logit`: a logit of ``fc8`` (before the softmax: maximising a probability can
  just push the other classes down);
- :func:`class_log_prob`: the log-probability of a class (the logit minus the log-sum-exp of
  all of them), which cannot rise by raising every class together;
- :func:`direction`: the dot product of a stage's activation with a direction (the mean over
  positions for conv stages, or at one position);
- :func:`diversity`: minus the mean cosine similarity of each image's Gram matrix (channels x
  channels, the "style") with the other images' of the batch, so a batch shows several
  different patterns that all excite the objective;
- :func:`l2`: minus the squared distance of the image from a grey level, the Lagrangian of a
  bound on the image's norm.

Channel, neuron and class indices may be one number (every image of the batch) or a
sequence of B (one per image), so one optimisation shows several channels at once.

Examples
--------
>>> import torch
>>> acts = {"conv1": torch.arange(8.0).view(1, 2, 2, 2)}  # (B=1, C=2, H=2, W=2)
>>> objective = channel("conv1", 1) - 2.0 * neuron("conv1", 0, 0, 0)
>>> objective(acts).tolist()  # mean(4, 5, 6, 7) - 2 * 0
[5.5]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from genailab.errors import DataError
from genailab.vision.alexnet import STAGES, check_stage

IMAGE = "image"
"""The key under which an objective finds the images being optimised."""

Acts = dict[str, torch.Tensor]


class Objective:
    """A function of activations -> (B,) values to maximise, with the stages it needs.

    Parameters
    ----------
    fn : callable
        ``fn(acts) -> Tensor (B,)``.
    stages : iterable of str
        The stages (and/or ``"image"``) that ``fn`` reads.
    name : str
        How it prints.
    """

    def __init__(self, fn: Callable[[Acts], torch.Tensor], stages: Any, name: str) -> None:
        self.fn, self.stages, self.name = fn, frozenset(stages), name

    def __call__(self, acts: Acts) -> torch.Tensor:
        missing = sorted(s for s in self.stages if s not in acts)
        if missing:
            raise DataError(
                f"objective {self.name}: needs the activations of {', '.join(missing)}; got "
                f"{', '.join(sorted(acts)) or 'none'}"
            )
        return self.fn(acts)

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    @property
    def network_stages(self) -> list[str]:
        """The network stages needed, in forward order (``"image"`` left out)."""
        return [s for s in STAGES if s in self.stages]

    def __add__(self, other: Objective | float) -> Objective:
        if isinstance(other, (int, float)):
            return Objective(lambda a: self(a) + other, self.stages, f"{self.name} + {other}")
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(
            lambda a: self(a) + other(a), self.stages | other.stages, f"{self.name} + {other.name}"
        )

    __radd__ = __add__  # sum([...]) starts from 0

    def __mul__(self, factor: float) -> Objective:
        if not isinstance(factor, (int, float)):
            return NotImplemented
        return Objective(lambda a: factor * self(a), self.stages, f"{factor} * {self.name}")

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1.0 * self

    def __sub__(self, other: Objective | float) -> Objective:
        return self + (-other)

    def __rsub__(self, other: float) -> Objective:
        return (-self) + other


# ----------------------------------------------------------------------------- helpers
def _indices(value: Any, what: str) -> int | list[int]:
    """One index, or one per image of the batch; non-negative whole numbers."""
    values = np.atleast_1d(np.asarray(value))
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise DataError(f"{what} must be a whole number or a sequence of them, got {value!r}")
    if (values < 0).any():
        raise DataError(f"{what} must be >= 0, got {value!r}")
    return int(values[0]) if np.ndim(value) == 0 else values.tolist()


def _pick(
    act: torch.Tensor, index: int | list[int], stage: str, what: str = "channel"
) -> torch.Tensor:
    """``act`` (B, C, ...) -> (B, ...) at channel ``index`` (one, or one per image)."""
    C = act.shape[1]
    biggest = index if isinstance(index, int) else max(index)
    if biggest >= C:
        raise DataError(f"{what} {biggest} out of range: {stage} has {C} (0 to {C - 1})")
    if isinstance(index, int):
        return act[:, index]
    if len(index) != act.shape[0]:
        raise DataError(
            f"{len(index)} {what}s given, one per image, for a batch of {act.shape[0]} images"
        )
    rows = torch.arange(act.shape[0], device=act.device)
    return act[rows, torch.as_tensor(index, device=act.device)]  # (B, ...)


def _position(act: torch.Tensor, stage: str, y: int | None, x: int | None) -> torch.Tensor:
    """``act`` (B, H, W) or (B, C, H, W) -> its value at (y, x), the centre by default."""
    H, W = act.shape[-2:]
    y = H // 2 if y is None else y
    x = W // 2 if x is None else x
    if not (0 <= y < H and 0 <= x < W):
        raise DataError(f"position ({y}, {x}) outside {stage}'s {H} x {W} positions")
    return act[..., y, x]


# ----------------------------------------------------------------------------- objectives
def channel(stage: str, c: int | Sequence[int]) -> Objective:
    """The mean of channel ``c`` of ``stage`` over its positions (a unit of a fully connected
    stage as is).

    Examples
    --------
    >>> acts = {"conv2": torch.ones(2, 3, 4, 4) * torch.tensor([1.0, 2, 3]).view(1, 3, 1, 1)}
    >>> channel("conv2", [0, 2])(acts).tolist()  # one channel per image
    [1.0, 3.0]
    """
    check_stage(stage)
    index = _indices(c, "channel")

    def value(acts: Acts) -> torch.Tensor:
        picked = _pick(acts[stage], index, stage)  # (B, H, W) or (B,)
        return picked.flatten(1).mean(1) if picked.ndim > 1 else picked

    return Objective(value, {stage}, f"channel({stage}, {c})")


def neuron(
    stage: str, c: int | Sequence[int], y: int | None = None, x: int | None = None
) -> Objective:
    """Channel ``c`` of ``stage`` at position (``y``, ``x``), the centre (H // 2, W // 2) by
    default (a unit of a fully connected stage as is).

    Examples
    --------
    >>> acts = {"conv1": torch.arange(18.0).view(1, 2, 3, 3)}
    >>> neuron("conv1", 1)(acts).tolist(), neuron("conv1", 0, y=0, x=2)(acts).tolist()
    ([13.0], [2.0])
    """
    check_stage(stage)
    index = _indices(c, "channel")

    def value(acts: Acts) -> torch.Tensor:
        picked = _pick(acts[stage], index, stage)  # (B, H, W) or (B,)
        return _position(picked, stage, y, x) if picked.ndim > 1 else picked

    return Objective(value, {stage}, f"neuron({stage}, {c}, {y}, {x})")


def class_logit(k: int | Sequence[int]) -> Objective:
    """The ``fc8`` logit of class ``k`` (one, or one per image).

    Examples
    --------
    >>> class_logit([1, 0])({"fc8": torch.tensor([[0.0, 5.0], [2.0, 1.0]])}).tolist()
    [5.0, 2.0]
    """
    index = _indices(k, "class")
    return Objective(
        lambda acts: _pick(acts["fc8"], index, "fc8", "class"), {"fc8"}, f"class_logit({k})"
    )


def class_log_prob(k: int | Sequence[int]) -> Objective:
    """The log-probability ``log softmax(fc8)[k]`` of class ``k`` (one, or one per image).

    Unlike the logit it cannot rise by raising every class together: it asks for an image
    that the network calls ``k`` rather than one that merely excites ``k``'s logit.

    Examples
    --------
    >>> value = class_log_prob(0)({"fc8": torch.tensor([[0.0, 0.0]])})
    >>> round(float(value[0]), 4)  # log(1/2)
    -0.6931
    """
    index = _indices(k, "class")

    def value(acts: Acts) -> torch.Tensor:
        return _pick(torch.log_softmax(acts["fc8"], dim=1), index, "fc8", "class")

    return Objective(value, {"fc8"}, f"class_log_prob({k})")


def direction(
    stage: str,
    vectors: Any,
    y: int | None = None,
    x: int | None = None,
    *,
    cossim_pow: float = 0.0,
) -> Objective:
    """The dot product of ``stage``'s activation with ``vectors``, (C,) or (B, C) one per image.

    For a conv stage the activation is its mean over positions, or the vector at (``y``,
    ``x``) when either is given (the other defaults to the centre). With ``cossim_pow`` > 0 the
    dot product is multiplied by ``max(cos, 0) ** cossim_pow``, the cosine of the angle
    between activation and direction, which rewards pointing along the direction over merely
    being large (as activation atlases do).

    Examples
    --------
    >>> acts = {"fc7": torch.tensor([[1.0, 2.0], [3.0, 0.0]])}
    >>> direction("fc7", [1.0, 1.0])(acts).tolist()
    [3.0, 3.0]
    >>> direction("fc7", [[1.0, 0.0], [0.0, 1.0]])(acts).tolist()  # one per image
    [1.0, 0.0]
    """
    check_stage(stage)
    v = torch.as_tensor(np.asarray(vectors, dtype=np.float32))
    if v.ndim not in (1, 2) or v.shape[-1] == 0 or not torch.isfinite(v).all():
        raise DataError(
            f"direction: vectors must be finite, (C,) or (B, C), got shape {tuple(v.shape)}"
        )
    at = None if y is None and x is None else (y, x)

    def value(acts: Acts) -> torch.Tensor:
        act = acts[stage]
        if act.ndim == 4:  # (B, C, H, W) -> (B, C)
            act = act.mean((2, 3)) if at is None else _position(act, stage, *at)
        B, C = act.shape
        if v.shape[-1] != C:
            raise DataError(f"direction: vectors have {v.shape[-1]} entries; {stage} has {C}")
        if v.ndim == 2 and v.shape[0] != B:
            raise DataError(f"direction: {v.shape[0]} vectors, one per image, for {B} images")
        vec = v.to(act.device, act.dtype).expand(B, C)  # (B, C)
        dot = (act * vec).sum(1)  # (B,)
        if cossim_pow > 0:
            cos = dot / (act.norm(dim=1) * vec.norm(dim=1) + 1e-8)  # (B,)
            dot = dot * cos.clamp(min=0) ** cossim_pow
        return dot

    return Objective(value, {stage}, f"direction({stage}, {tuple(v.shape)})")


def diversity(stage: str, weight: float) -> Objective:
    """Minus ``weight`` times the mean cosine similarity of each image's Gram matrix at
    ``stage`` with those of the other images of the batch (0 for a batch of one).

    The Gram matrix of a conv activation (C, H, W) is ``G = A A^T / (H W)`` with A (C, H W):
    which channels fire together, wherever they fire (Gatys et al.'s "style"). Maximising
    minus its similarity pushes the images of a batch apart in style.

    Examples
    --------
    >>> same = torch.ones(2, 2, 3, 3)  # two identical images: cosine 1
    >>> diversity("conv1", 0.5)({"conv1": same}).tolist()
    [-0.5, -0.5]
    """
    check_stage(stage)

    def value(acts: Acts) -> torch.Tensor:
        act = acts[stage]
        B = act.shape[0]
        if B < 2:
            return act.new_zeros(B)
        flat = act.flatten(2) if act.ndim == 4 else act[:, :, None]  # (B, C, HW)
        gram = flat @ flat.transpose(1, 2) / flat.shape[-1]  # (B, C, C)
        g = gram.flatten(1)  # (B, C C)
        g = g / (g.norm(dim=1, keepdim=True) + 1e-8)
        cos = g @ g.T  # (B, B)
        others = (cos.sum(1) - cos.diagonal()) / (B - 1)  # (B,) mean over the other images
        return -weight * others

    return Objective(value, {stage}, f"diversity({stage}, {weight})")


def l2(weight: float, centre: float = 0.5) -> Objective:
    """Minus ``weight`` times the squared distance of each image (in [0, 1]) from the grey
    level ``centre``: the Lagrangian form of a bound on ``||image - centre||``.

    Examples
    --------
    >>> l2(2.0)({"image": torch.full((1, 1, 2, 2), 1.0)}).tolist()  # -2 * 4 * 0.25
    [-2.0]
    """
    return Objective(
        lambda acts: -weight * ((acts[IMAGE] - centre) ** 2).flatten(1).sum(1),
        {IMAGE},
        f"l2({weight})",
    )
