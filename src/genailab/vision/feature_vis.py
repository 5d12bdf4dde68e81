"""Feature visualisation: an image optimised to excite a part of a trained network.

Erhan et al. (2009) asked what input maximises a unit; Olah, Mordvintsev and Schubert (2017,
"Feature Visualization") showed what it takes for the answer to be an image a person can
read rather than adversarial noise. :func:`visualize` puts their three ingredients together,
each in its own module:

1. the image's **parameterisation** (:mod:`~genailab.vision.image_param`): a 1/f-scaled
   Fourier spectrum with colours decorrelated by the square root of *our training images'*
   RGB covariance, through a sigmoid to [0, 1] (or plain pixels, the naive baseline);
2. **transformation robustness** (:mod:`~genailab.vision.robustness`): every step sees the
   images randomly padded, jittered, scaled and rotated;
3. an **objective** (:mod:`~genailab.vision.objectives`): a channel, a neuron, a class logit, a
   direction, a diversity term, any weighted sum of them.

Each step: parameters -> images in [0, 1] -> random transforms -> the network's own
normalisation (:meth:`TrainedCNN.standardize`) -> the activations the objective needs ->
Adam ascends the objective (summed over the batch). The network's weights never change.

Examples
--------
>>> from genailab.vision.alexnet import AlexNet
>>> from genailab.vision.trained import TrainedCNN
>>> from genailab.vision import objectives
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> cnn = TrainedCNN(AlexNet(1, 16, 3), "abc", [0.5], [0.25], device="cpu")
>>> result = visualize(cnn, objectives.channel("conv2", 3), steps=8, every=4)
>>> result.images.shape, result.values.shape, [step for step, _ in result.snapshots]
((1, 16, 16, 1), (8, 1), [0, 4, 8])
>>> bool(result.values[-1, 0] > result.values[0, 0])
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from genailab.errors import DataError, UnknownNameError, suggest
from genailab.vision.image_param import PARAMETERISATIONS, colour_decorrelation
from genailab.vision.objectives import IMAGE, Objective
from genailab.vision.robustness import Robustness


class _Adam:
    """Adam (Kingma & Ba 2015) ascending: ``p += lr * m_hat / (sqrt(v_hat) + eps)``.

    Written out rather than ``torch.optim.Adam``, whose first construction in a process costs
    seconds of imports; the update is the same (tested against it).
    """

    def __init__(self, params: list[torch.Tensor], lr: float, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]  # first moments
        self.v = [torch.zeros_like(p) for p in params]  # second moments

    @torch.no_grad()
    def ascend(self, grads: tuple[torch.Tensor, ...]) -> None:
        b1, b2 = self.betas
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.mul_(b1).add_(g, alpha=1 - b1)  # m = b1 m + (1 - b1) g
            v.mul_(b2).addcmul_(g, g, value=1 - b2)  # v = b2 v + (1 - b2) g^2
            m_hat = m / (1 - b1**self.t)  # bias corrections of the zero starts
            v_hat = v / (1 - b2**self.t)
            p.add_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


@dataclass
class FeatureVisResult:
    """What :func:`visualize` found.

    Attributes
    ----------
    images : ndarray (B, H, W, C) float32 in [0, 1]
        The optimised images (untransformed).
    values : ndarray (steps, B) float32
        The objective of each image at each step (on that step's transformed view, before
        the update).
    snapshots : list of (int, ndarray (B, H, W, C))
        The images after 0, ``every``, ``2 every``, ... steps and after the last.
    """

    images: np.ndarray
    values: np.ndarray
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().permute(0, 2, 3, 1).float().cpu().numpy()  # (B, H, W, C)


def _mixing(cnn: Any, colours: Any, decorrelate: bool) -> np.ndarray | None:
    """The colour square root of covariance to mix by: from ``colours`` (training images or a
    (C, C) matrix), else the network's per-channel std (channels taken as uncorrelated)."""
    if not decorrelate:
        return None
    if colours is None:
        return np.diag(np.asarray(cnn.std, dtype=np.float32))
    colours = np.asarray(colours)
    if colours.ndim == 2:
        return colours.astype(np.float32)
    return colour_decorrelation(colours)


def visualize(
    cnn: Any,
    objective: Objective,
    *,
    steps: int = 256,
    batch: int = 1,
    param: str = "fourier",
    decorrelate: bool = True,
    robust: bool | Robustness = True,
    lr: float = 0.05,
    seed: int = 0,
    device: str = "auto",
    on_step: Callable[[int, np.ndarray], None] | None = None,
    every: int = 16,
    colours: Any = None,
) -> FeatureVisResult:
    """Optimise ``batch`` images to maximise ``objective`` on ``cnn``.

    Parameters
    ----------
    cnn : TrainedCNN
        The network (its ``model``, ``channels``, ``image_size`` and ``standardize``).
    objective : Objective
        From :mod:`genailab.vision.objectives`; (B,) values to maximise.
    steps : int
        Adam steps.
    batch : int
        Images optimised together (each objective index may give one per image).
    param : {"fourier", "pixel"}
        The parameterisation (:mod:`~genailab.vision.image_param`).
    decorrelate : bool
        Mix colours by the training data's colour covariance square root.
    robust : bool or Robustness
        Random transforms before each step (``True``: :class:`Robustness`'s defaults).
    lr : float
        Adam's learning rate.
    seed : int
        Seeds the start and the transforms.
    device : str
        ``"auto"``: where the network is; otherwise a device name (a copy of the network
        runs there).
    on_step : callable, optional
        ``on_step(step, values)`` after each step, values (B,) numpy.
    every : int
        Steps between snapshots.
    colours : array, optional
        Training images (N, H, W, C) whose colour covariance decorrelates, or its square root
        (C, C) from :func:`~genailab.vision.image_param.colour_decorrelation`. Without it the
        channels are taken as uncorrelated, with the network's per-channel std.

    Returns
    -------
    FeatureVisResult

    Raises
    ------
    DataError, UnknownNameError
        A bad count, parameterisation or an objective the network cannot answer.
    """
    from genailab.device import resolve_device

    for name, value, low in (("steps", steps, 1), ("batch", batch, 1), ("every", every, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DataError(f"visualize: {name} must be a whole number >= {low}, got {value!r}")
    if param not in PARAMETERISATIONS:
        raise UnknownNameError(
            f"visualize: unknown param {param!r}{suggest(str(param), PARAMETERISATIONS)} "
            f"(accepted: {', '.join(PARAMETERISATIONS)})"
        )
    if not isinstance(objective, Objective):
        raise DataError(
            f"visualize: objective must come from genailab.vision.objectives, got {objective!r}"
        )
    if not lr > 0:
        raise DataError(f"visualize: lr must be > 0, got {lr!r}")
    model = cnn.model
    weight = next(model.parameters())
    dev = weight.device if device == "auto" else resolve_device(device)
    if dev != weight.device:
        model = copy.deepcopy(model).to(dev)
    model.eval()
    transform = robust if isinstance(robust, Robustness) else Robustness() if robust else None
    stages = objective.network_stages

    image = PARAMETERISATIONS[param](
        batch, cnn.channels, cnn.image_size, _mixing(cnn, colours, decorrelate), seed
    ).to(dev)
    params = list(image.parameters())
    adam = _Adam(params, lr)
    generator = torch.Generator().manual_seed(seed)

    values = np.zeros((steps, batch), np.float32)
    with torch.no_grad():
        snapshots = [(0, _hwc(image()))]
    for step in range(steps):
        x = image()  # (B, C, H, W) in [0, 1]
        seen = transform(x, generator) if transform is not None else x
        acts = model.activations(cnn.standardize(seen), stages) if stages else {}
        acts[IMAGE] = x
        value = objective(acts)  # (B,)
        if value.shape != (batch,):
            raise DataError(
                f"visualize: {objective.name} gave shape {tuple(value.shape)}, expected ({batch},)"
            )
        # NOTE: autograd.grad w.r.t. the image's parameters only: the network's weights get no
        # .grad, and the (frozen) network is shared with its other users untouched
        grads = torch.autograd.grad(value.sum(), params)
        adam.ascend(grads)
        values[step] = value.detach().float().cpu().numpy()
        if on_step is not None:
            on_step(step, values[step].copy())
        if (step + 1) % every == 0 or step + 1 == steps:
            with torch.no_grad():
                snapshots.append((step + 1, _hwc(image())))
    return FeatureVisResult(images=snapshots[-1][1], values=values, snapshots=snapshots)


def _float_images(cnn: Any, images: Any) -> torch.Tensor:
    """Images (B, H, W, C) uint8 or floats in [0, 1] -> (B, C, H, W) float32 in [0, 1]."""
    array = cnn.check_images(images)
    x = torch.from_numpy(np.ascontiguousarray(array)).float().permute(0, 3, 1, 2)
    return x / 255.0 if array.dtype == np.uint8 else x  # (B, C, H, W)


@torch.no_grad()
def _values(cnn: Any, objective: Objective, x: torch.Tensor) -> np.ndarray:
    """``objective`` on images ``x`` (B, C, H, W) in [0, 1]: (B,) float32 numpy."""
    model = cnn.model.eval()
    x = x.to(next(model.parameters()).device)
    acts = model.activations(cnn.standardize(x), objective.network_stages)
    acts[IMAGE] = x
    return objective(acts).float().cpu().numpy()


def objective_values(cnn: Any, objective: Objective, images: Any) -> np.ndarray:
    """``objective`` on ``images`` (B, H, W, C) uint8 or floats in [0, 1]: (B,) float32.

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> from genailab.vision.trained import TrainedCNN
    >>> from genailab.vision import objectives
    >>> cnn = TrainedCNN(AlexNet(1, 16, 3), "abc", [0.5], [0.25], device="cpu")
    >>> objective_values(cnn, objectives.class_logit(0), np.zeros((2, 16, 16, 1))).shape
    (2,)
    """
    return _values(cnn, objective, _float_images(cnn, images))


def jitter_survival(
    cnn: Any,
    objective: Objective,
    images: Any,
    pixels: int = 2,
    trials: int = 16,
    seed: int = 0,
    fill: float = 0.5,
) -> np.ndarray:
    """How much of ``objective`` each image keeps when shifted by a random whole number of
    pixels (up to ``pixels`` along each axis; the uncovered border filled with ``fill``):
    the mean over ``trials`` shifts of value(shifted) / value(image), (B,) float32.

    1 means the pattern excites the objective wherever it sits; an adversarial pixel pattern
    tuned to one alignment falls towards 0 (or below).

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> from genailab.vision.trained import TrainedCNN
    >>> from genailab.vision import objectives
    >>> cnn = TrainedCNN(AlexNet(1, 16, 3), "abc", [0.5], [0.25], device="cpu")
    >>> flat = np.full((1, 16, 16, 1), 0.5, np.float32)  # grey: shifts change nothing
    >>> jitter_survival(cnn, objectives.class_logit(0), flat).round(3).tolist()
    [1.0]
    """
    from genailab.vision.robustness import crop, jitter, pad

    x = _float_images(cnn, images)  # (B, C, H, W)
    base = _values(cnn, objective, x)  # (B,)
    g = torch.Generator().manual_seed(seed)
    size = x.shape[-1]
    after = np.mean(
        [
            _values(cnn, objective, crop(jitter(pad(x, pixels, fill), pixels, g), size))
            for _ in range(trials)
        ],
        axis=0,
    )  # (B,) mean over the trials (each one batched forward pass)
    return (after / np.where(np.abs(base) > 1e-12, base, 1e-12)).astype(np.float32)
