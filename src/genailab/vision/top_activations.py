"""Top-activating examples: the data set images that excite one channel most, and where.

Zeiler and Fergus (2014) and the AlexNet paper's successors read a channel by the images that
drive it hardest. For a conv or pool stage a channel's response to an image is a map; its
activation for the image is the map's maximum over positions, and the position of that maximum
says which part of the image did it: the unit there sees one window of input pixels, its
receptive field (:mod:`genailab.vision.receptive_field`), and that window cut out of the image
is the crop that excited the channel. For a fully connected stage the activation is the unit's
value and the whole image is the crop.

:func:`top_activations_by_stage` finds the ``k`` best images of every channel of any stages in
ONE batched pass over the data set: each batch's per-channel maxima (``(B, C)``) are merged
into the running best ``(C, k)`` by one sort along the candidates, for all channels at once,
so the cost is the forward pass; nothing keeps the activations of the whole set. The result
(:class:`TopActivations`) holds values, image indices and positions ``(C, k)``, and cuts the
crops (:meth:`TopActivations.crops`), padded where a window runs past the image border.

Examples
--------
>>> from genailab.vision.alexnet import AlexNet
>>> _ = torch.manual_seed(0)
>>> net = AlexNet(in_channels=1, image_size=28, widths=(4, 4, 4, 4, 4), fc=(8, 8))
>>> images = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
>>> top = top_activations(net, images, "conv2", k=3)
>>> top.values.shape, top.indices.shape, top.positions.shape, top.field.size
((4, 3), (4, 3), (4, 3, 2), 15)
>>> top.crops(images, channel=0).shape  # the 3 best windows of channel 0, 15 x 15 pixels
(3, 15, 15)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from genailab.errors import DataError
from genailab.vision.activation_maps import _as_array, evaluating, network_and_prepare
from genailab.vision.alexnet import FC_STAGES, STAGES, check_stage
from genailab.vision.receptive_field import ReceptiveField, receptive_fields


@dataclass(frozen=True)
class TopActivations:
    """The ``k`` images of a data set that excite each channel of one stage most.

    Attributes
    ----------
    stage : str
        The stage (``"conv3"``, ``"fc7"``, ...).
    values : ndarray of float32, shape (C, k)
        Row ``c``: channel ``c``'s activation on its best images, largest first (for a
        spatial stage the maximum of its map over positions).
    indices : ndarray of int64, shape (C, k)
        The rows of those images in the data set; ties go to the lower row.
    positions : ndarray of int64, shape (C, k, 2)
        ``(y, x)`` of the maximum in the map (the first in row-major order on ties); zeros
        for a fully connected stage.
    field : ReceptiveField or None
        The window one unit of the stage sees; ``None`` for a fully connected stage (it
        sees the whole image).
    image_size : int
        Side of the network's (square) input.
    n_images : int
        Images the pass went over.
    """

    stage: str
    values: np.ndarray
    indices: np.ndarray
    positions: np.ndarray
    field: ReceptiveField | None
    image_size: int
    n_images: int

    @property
    def k(self) -> int:
        """Images kept per channel."""
        return int(self.values.shape[1])

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[0])

    @property
    def crop_size(self) -> int:
        """Side of a crop: the receptive field's size, or the image for a fc stage."""
        return self.image_size if self.field is None else self.field.size

    def check_channel(self, channel) -> int:
        """``channel`` as an int if the stage has it, else a one-line :class:`DataError`."""
        if (
            isinstance(channel, bool)
            or not isinstance(channel, numbers.Integral)
            or not 0 <= channel < self.n_channels
        ):
            raise DataError(
                f"channel {channel!r} is not a channel of {self.stage} (accepted: an int in "
                f"[0, {self.n_channels - 1}])"
            )
        return int(channel)

    def windows(self, channel: int | None = None) -> np.ndarray:
        """``(top, left)`` of each crop's window in image pixels, not clipped (negative or
        past the border where the layers padded): (k, 2), or (C, k, 2) for all channels."""
        pos = self.positions if channel is None else self.positions[self.check_channel(channel)]
        if self.field is None:
            return np.zeros_like(pos)
        return self.field.start + pos * self.field.jump  # (..., k, 2)

    def boxes(self, channel: int | None = None) -> np.ndarray:
        """``(top, bottom, left, right)`` of each window clipped to the image, half-open as
        :meth:`ReceptiveField.box`: (k, 4), or (C, k, 4) for all channels."""
        corner = self.windows(channel)  # (..., k, 2)
        lo = np.clip(corner, 0, self.image_size)
        hi = np.clip(corner + self.crop_size, 0, self.image_size)
        return np.stack([lo[..., 0], hi[..., 0], lo[..., 1], hi[..., 1]], axis=-1)

    def crops(self, images, channel: int | None = None, fill: float = 0) -> np.ndarray:
        """The receptive-field window of each top image, cut from ``images``.

        Parameters
        ----------
        images : array (N, H, W, C) or (N, H, W)
            The data set the pass went over (indexed by :attr:`indices`).
        channel : int, optional
            One channel (default: all of them).
        fill : number
            The value of the pixels of a window that lie outside the image (where the
            layers zero-padded it).

        Returns
        -------
        ndarray, images' dtype
            ``(k, S, S[, C])`` for one channel, ``(C, k, S, S[, C])`` for all, with ``S``
            :attr:`crop_size`; the whole image for a fully connected stage.
        """
        array = _as_array(images, "images")
        if array.ndim not in (3, 4) or array.shape[1:3] != (self.image_size, self.image_size):
            raise DataError(
                f"images: expected (N, {self.image_size}, {self.image_size}[, C]) as the pass "
                f"went over, got shape {array.shape}"
            )
        if len(array) < self.n_images:
            raise DataError(f"images: the pass went over {self.n_images} images, got {len(array)}")
        index = self.indices if channel is None else self.indices[self.check_channel(channel)]
        corner = self.windows(channel)  # (..., k, 2)
        S = self.crop_size
        pad = max(0, -int(corner.min()), int(corner.max()) + S - self.image_size)
        chosen = array[index.reshape(-1)]  # (M, H, W[, C]) only the images shown
        width = [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (array.ndim - 3)
        padded = np.pad(chosen, width, constant_values=fill)  # (M, H + 2p, W + 2p[, C])
        steps = np.arange(S)
        rows = corner.reshape(-1, 2)[:, 0, None] + pad + steps  # (M, S)
        cols = corner.reshape(-1, 2)[:, 1, None] + pad + steps  # (M, S)
        m = np.arange(len(chosen))[:, None, None]
        out = padded[m, rows[:, :, None], cols[:, None, :]]  # (M, S, S[, C])
        return out.reshape(*index.shape, *out.shape[1:])


def _check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise DataError(f"k must be an int in [1, {n}] (the images), got {k!r}")
    return int(k)


def _merge(
    best: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    values: torch.Tensor,
    index: torch.Tensor,
    where: torch.Tensor,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The running top ``k`` of every channel after one more batch.

    ``best``: values, image indices and flat positions, each (C, k') (None before the first
    batch); ``values``, ``where``: the batch's per-channel maxima and their flat positions,
    (C, B); ``index``: the batch's image indices (B,).
    """
    C, B = values.shape
    idx = index.expand(C, B)  # (C, B)
    if best is not None:
        values = torch.cat([best[0], values], dim=1)  # (C, k' + B)
        idx = torch.cat([best[1], idx], dim=1)
        where = torch.cat([best[2], where], dim=1)
    # NOTE: a stable sort, not torch.topk: topk picks among equal values arbitrarily, and dead
    # ReLU channels tie at 0 on many images. The running best holds lower image indices than
    # the batch and is itself ordered by index within a tie, so the stable sort breaks every
    # tie towards the lower index, and a pass in chunks equals the pass in one batch.
    order = torch.sort(values, dim=1, descending=True, stable=True).indices[:, :k]  # (C, k)
    return values.gather(1, order), idx.gather(1, order), where.gather(1, order)


def top_activations_by_stage(
    model_or_trained,
    images,
    stages: Iterable[str] = STAGES,
    k: int = 9,
    batch_size: int = 256,
) -> dict[str, TopActivations]:
    """The ``k`` top-activating images of every channel of each stage, in one pass.

    Parameters
    ----------
    model_or_trained : AlexNet or TrainedCNN
        A ``TrainedCNN`` prepares the images as in training; a plain ``AlexNet`` takes them
        scaled to [0, 1]. The pass runs on the network's device, in its dtype.
    images : array (N, H, W, C) or (N, H, W), uint8 or floats in [0, 1]
        The data set, at the network's input size.
    stages : iterable of str
        Any stages (``conv1 .. fc8``).
    k : int
        Images kept per channel, ``1 <= k <= N``.
    batch_size : int
        Images per forward pass; the result does not depend on it.

    Returns
    -------
    dict of str to TopActivations

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> net = AlexNet(in_channels=1, image_size=28, widths=(4, 4, 4, 4, 4), fc=(8, 8))
    >>> images = np.zeros((10, 28, 28), np.uint8)
    >>> tops = top_activations_by_stage(net, images, ["conv1", "fc7"], k=2)
    >>> tops["conv1"].values.shape, tops["fc7"].field, tops["fc7"].crop_size
    ((4, 2), None, 28)
    """
    wanted = list(
        dict.fromkeys(check_stage(s) for s in ([stages] if isinstance(stages, str) else stages))
    )
    if not wanted:
        raise DataError(f"stages: name at least one stage (accepted: {', '.join(STAGES)})")
    array = _as_array(images, "images")
    if array.ndim not in (3, 4) or len(array) == 0:
        raise DataError(f"images: expected a batch (N, H, W, C) or (N, H, W), got {array.shape}")
    N = len(array)
    k = _check_k(k, N)
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or batch_size < 1
    ):
        raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
    model, prepare = network_and_prepare(model_or_trained)
    weight = next(model.parameters())  # the network's device and float dtype
    fields = receptive_fields(model)
    grey = model.config_dict()["in_channels"] == 1
    best: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
    widths: dict[str, int] = {}
    with evaluating(model):
        for lo in range(0, N, int(batch_size)):
            chunk = array[lo : lo + int(batch_size)]
            if chunk.ndim == 3 and grey:
                chunk = chunk[..., None]  # (B, H, W) grey -> (B, H, W, 1)
            x = prepare(chunk).to(weight.device, weight.dtype)  # (B, C_in, H, W)
            index = torch.arange(lo, lo + len(chunk), device=weight.device)  # (B,)
            for stage, out in model.activations(x, wanted).items():
                flat = out.reshape(len(chunk), out.shape[1], -1)  # (B, C, H*W), fc: (B, C, 1)
                values, where = flat.max(dim=2)  # (B, C): the first maximum on ties
                widths[stage] = out.shape[-1] if out.ndim == 4 else 1
                best[stage] = _merge(best.get(stage), values.T, index, where.T, k)
    size = int(model.config_dict()["image_size"])
    result = {}
    for stage in wanted:
        values, idx, where = (t.cpu().numpy() for t in best[stage])
        positions = np.stack([where // widths[stage], where % widths[stage]], axis=-1)
        result[stage] = TopActivations(
            stage=stage,
            values=values.astype(np.float32),
            indices=idx.astype(np.int64),
            positions=positions.astype(np.int64),  # (C, k, 2)
            field=None if stage in FC_STAGES else fields[stage],
            image_size=size,
            n_images=N,
        )
    return result


def top_activations(
    model_or_trained, images, stage: str, k: int = 9, batch_size: int = 256
) -> TopActivations:
    """The ``k`` top-activating images of every channel of one stage
    (:func:`top_activations_by_stage` for one stage).

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> net = AlexNet(in_channels=1, image_size=28, widths=(4, 4, 4, 4, 4), fc=(8, 8))
    >>> top_activations(net, np.zeros((5, 28, 28)), "conv9")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.UnknownNameError: unknown stage 'conv9'; did you mean ...
    """
    return top_activations_by_stage(model_or_trained, images, [stage], k, batch_size)[stage]


def channel_purity(top: TopActivations, labels: Sequence[int] | np.ndarray) -> np.ndarray:
    """For each channel, the share of its ``k`` top images that carry their most common label.

    With labels drawn at random from classes of shares ``p``, the expected purity is near
    the largest share; a channel that fires for one class scores near 1.

    Examples
    --------
    >>> top = TopActivations("fc7", np.zeros((2, 4)), np.array([[0, 1, 2, 3], [0, 3, 1, 3]]),
    ...                      np.zeros((2, 4, 2), np.int64), None, 8, 4)
    >>> channel_purity(top, [5, 5, 5, 7]).tolist()
    [0.75, 0.5]
    """
    labels = np.asarray(labels)
    if labels.shape != (top.n_images,):
        raise DataError(f"labels: expected ({top.n_images},) for the images, got {labels.shape}")
    _, codes = np.unique(labels, return_inverse=True)
    chosen = codes[top.indices]  # (C, k)
    counts = np.zeros((top.n_channels, codes.max() + 1), np.int64)  # (C, classes)
    np.add.at(counts, (np.arange(top.n_channels)[:, None], chosen), 1)
    return counts.max(axis=1) / top.k
