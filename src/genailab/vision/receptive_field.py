"""The receptive field of a stage: which input pixels one unit of its maps can see.

A unit of a conv or pool stage depends on a square window of the input image, and that window
follows from the chain of kernels, strides and paddings alone (Araujo, Norris and Sim, 2019,
"Computing receptive fields of convolutional neural networks", Distill). Input pixels are
numbered 0, 1, 2, ...; before any layer a unit is one pixel (size 1, jump 1, start 0). A layer
with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` (an effective kernel
``k' = d (k - 1) + 1``) maps the field of its input units to that of its output units::

    size_out  = size_in + (k' - 1) * jump_in     # k' input units, jump_in pixels apart
    jump_out  = jump_in * s                      # neighbouring outputs are s inputs apart
    start_out = start_in - p * jump_in           # output 0 starts p input units before input 0

so unit ``(y, x)`` of the stage sees rows ``start + y * jump .. start + y * jump + size - 1``
(and the same for columns), which may run past the image where the layers padded it: the crop
that excited a unit is that window clipped to the image. ReLU, normalisation and dropout act
on each position alone and leave the field as it is; a fully connected stage sees the whole
image.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from genailab.errors import ConfigError, DataError
from genailab.vision.alexnet import FC_STAGES, STAGES, check_stage

SPATIAL_STAGES = tuple(s for s in STAGES if s not in FC_STAGES)


@dataclass(frozen=True)
class ReceptiveField:
    """The square window of input pixels one unit of a stage sees.

    Parameters
    ----------
    size : int
        Side of the window in input pixels.
    jump : int
        Input pixels between the windows of two neighbouring units (the stage's total stride).
    start : int
        First input row (and column) of unit ``(0, 0)``'s window; negative where the layers
        padded the image.

    Examples
    --------
    >>> rf = ReceptiveField(size=7, jump=2, start=-3)
    >>> rf.window(0), rf.window(5), rf.centre(5)
    ((-3, 4), (7, 14), 10.0)
    >>> rf.box(0, 5, height=28, width=28)  # (top, bottom, left, right), clipped, half-open
    (0, 4, 7, 14)
    """

    size: int
    jump: int
    start: int

    def window(self, index: int) -> tuple[int, int]:
        """The half-open range ``[first, last + 1)`` of input pixels unit ``index`` sees
        along one axis, not clipped."""
        first = self.start + int(index) * self.jump
        return first, first + self.size

    def centre(self, index: int) -> float:
        """The input coordinate at the centre of unit ``index``'s window."""
        return self.start + int(index) * self.jump + (self.size - 1) / 2

    def box(self, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
        """``(top, bottom, left, right)``: the window of unit ``(y, x)`` clipped to an image of
        ``height`` x ``width`` pixels, half-open (``image[top:bottom, left:right]``)."""
        top, bottom = self.window(y)
        left, right = self.window(x)
        return max(top, 0), min(bottom, height), max(left, 0), min(right, width)

    def then(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1):
        """The field after one more layer of this geometry (the recurrence above)."""
        effective = dilation * (kernel - 1) + 1
        return ReceptiveField(
            size=self.size + (effective - 1) * self.jump,
            jump=self.jump * stride,
            start=self.start - padding * self.jump,
        )


PIXEL = ReceptiveField(size=1, jump=1, start=0)


def _square(value, what: str, module: nn.Module) -> int:
    """One int from a layer's int-or-pair attribute; the chain here is for square windows."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if isinstance(value, str) or len(set(pair)) != 1:
        raise ConfigError(
            f"receptive field: {type(module).__name__} has {what}={value!r}; only square "
            "windows with integer padding are accepted"
        )
    return int(pair[0])


def layer_geometry(module: nn.Module) -> tuple[int, int, int, int] | None:
    """``(kernel, stride, padding, dilation)`` of a conv or pool layer, ``None`` for a layer
    that acts on each position alone (ReLU, normalisation, dropout).

    Examples
    --------
    >>> layer_geometry(nn.Conv2d(3, 8, 5, padding=2)), layer_geometry(nn.MaxPool2d(3, 2, 1))
    ((5, 1, 2, 1), (3, 2, 1, 1))
    >>> layer_geometry(nn.ReLU()) is None
    True
    """
    if isinstance(module, nn.Conv2d | nn.MaxPool2d):
        return (
            _square(module.kernel_size, "kernel_size", module),
            _square(module.stride, "stride", module),
            _square(module.padding, "padding", module),
            _square(module.dilation, "dilation", module),
        )
    if isinstance(module, nn.AvgPool2d):
        stride = module.stride if module.stride is not None else module.kernel_size
        return (
            _square(module.kernel_size, "kernel_size", module),
            _square(stride, "stride", module),
            _square(module.padding, "padding", module),
            1,
        )
    if isinstance(module, nn.Conv1d | nn.Conv3d | nn.MaxPool1d | nn.MaxPool3d | nn.Flatten):
        raise ConfigError(f"receptive field: a {type(module).__name__} has no 2-D square window")
    return None


def receptive_fields(model: nn.Module) -> dict[str, ReceptiveField]:
    """The receptive field of every conv and pool stage of an :class:`AlexNet`, in order.

    Parameters
    ----------
    model : AlexNet or TrainedCNN
        The network (a ``TrainedCNN``'s ``.model`` is used).

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> fields = receptive_fields(AlexNet(in_channels=1, image_size=28, kernel1=5))
    >>> fields["conv1"], fields["conv5"].size, fields["conv5"].jump
    (ReceptiveField(size=5, jump=1, start=-2), 43, 4)
    """
    stages = getattr(getattr(model, "model", model), "stages", None)
    if stages is None:
        raise DataError(f"receptive field: expected an AlexNet, got {type(model).__name__}")
    field, out = PIXEL, {}
    for name in SPATIAL_STAGES:
        for module in stages[name].modules():
            geometry = layer_geometry(module)
            if geometry is not None:
                field = field.then(*geometry)
        out[name] = field
    return out


def receptive_field(model: nn.Module, stage: str) -> ReceptiveField:
    """The receptive field of one conv or pool stage (a fully connected stage sees the whole
    image and has none: :class:`UnknownNameError`).

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> receptive_field(AlexNet(image_size=32, kernel1=5), "pool1")
    ReceptiveField(size=7, jump=2, start=-3)
    """
    check_stage(stage, SPATIAL_STAGES)
    return receptive_fields(model)[stage]
