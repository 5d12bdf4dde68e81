"""An AlexNet-shaped convolutional network scaled to small images (28-64 px).

Krizhevsky, Sutskever and Hinton (2012) stacked five convolution stages and three fully
connected ones: ``conv1 .. conv5`` with ReLU, max pooling after ``conv1``, ``conv2`` and
``conv5`` (overlapping 3x3 windows, stride 2), local response normalisation after the first
two, dropout before ``fc6`` and ``fc7``, and ``fc8`` giving one logit per class. This is that
network with widths and kernels fitted to MNIST digits and the coloured shapes instead of
224-px photographs: the default is about 330 thousand weights instead of 60 million.

Every stage has its name, so that anything that looks inside (activation maps, top-activating
images, feature visualisation, embeddings) asks for ``"conv3"`` or ``"fc7"``:

=========  =========================================  ==================================
stage      what it is                                 output, for a 28 x 28 input
=========  =========================================  ==================================
conv1      Conv2d(k1, pad k1 // 2) [+ BN] + ReLU      (N, w1, 28, 28)
pool1      [LRN] + MaxPool2d(3, 2, pad 1)             (N, w1, 14, 14)
conv2      Conv2d(5, pad 2) [+ BN] + ReLU             (N, w2, 14, 14)
pool2      [LRN] + MaxPool2d(3, 2, pad 1)             (N, w2, 7, 7)
conv3      Conv2d(3, pad 1) [+ BN] + ReLU             (N, w3, 7, 7)
conv4      Conv2d(3, pad 1) [+ BN] + ReLU             (N, w4, 7, 7)
conv5      Conv2d(3, pad 1) [+ BN] + ReLU             (N, w5, 7, 7)
pool5      MaxPool2d(3, 2, pad 1)                     (N, w5, 4, 4)
fc6        Flatten + Dropout + Linear + ReLU          (N, f6)
fc7        Dropout + Linear + ReLU                    (N, f7), the embedding
fc8        Linear                                     (N, n_classes), the logits
=========  =========================================  ==================================

[+ BN]: with ``batchnorm=True``. With ``stride1=2`` conv1 is (N, w1, 14, 14) and every later
side halves too (7, 7, 4, 4, 4, 2).

A conv stage's activation is taken after its ReLU and before the pooling, as in the paper's
figures; ``fc7`` after its ReLU is the "4096-d" embedding of the paper's figure 4.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from genailab.errors import ConfigError, UnknownNameError, suggest

STAGES = (
    *("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"),
    *("fc6", "fc7", "fc8"),
)
CONV_STAGES = ("conv1", "conv2", "conv3", "conv4", "conv5")
FC_STAGES = ("fc6", "fc7", "fc8")


def _pool(channels: int, lrn: bool) -> nn.Sequential:
    parts: list[nn.Module] = []
    if lrn:  # the paper's constants: size 5, alpha 1e-4, beta 0.75, k 2
        parts.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
    parts.append(nn.MaxPool2d(3, stride=2, padding=1))
    return nn.Sequential(*parts)


def _pooled(size: int) -> int:
    """The side after MaxPool2d(3, 2, padding=1)."""
    return (size + 2 - 3) // 2 + 1


class AlexNet(nn.Module):
    """AlexNet's eight stages, scaled to small images.

    Parameters
    ----------
    in_channels : int
        1 (grey digits) or 3 (RGB).
    image_size : int
        Side of the square input in pixels (8 to 256).
    n_classes : int
        Logits of ``fc8``.
    widths : sequence of 5 ints
        Channels of ``conv1 .. conv5``.
    fc : sequence of 2 ints
        Units of ``fc6`` and ``fc7``.
    kernel1 : int
        Odd side of the ``conv1`` kernels (the paper's was 11, at stride 4, on 224 px).
    dropout : float
        Probability of dropping a unit before ``fc6`` and ``fc7`` during training.
    lrn : bool
        Local response normalisation after ``conv1`` and ``conv2`` (off by default: later
        work found it adds little once the network is trained well).
    batchnorm : bool
        Batch normalisation (Ioffe & Szegedy 2015) between each conv stage's convolution and
        its ReLU: not in the paper, but it trains the eight stages in a fraction of the steps
        (``net.conv(stage)`` stays the convolution).
    stride1 : int
        Stride of ``conv1`` (the paper's was 4); 2 halves every later side and cuts the cost
        about fourfold.

    Examples
    --------
    >>> net = AlexNet(in_channels=1, image_size=28, n_classes=10)
    >>> x = torch.zeros(2, 1, 28, 28)
    >>> tuple(net(x).shape), tuple(net.activations(x, ["conv2", "fc7"])["conv2"].shape)
    ((2, 10), (2, 64, 14, 14))
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        n_classes: int = 10,
        widths: Sequence[int] = (32, 64, 96, 96, 64),
        fc: Sequence[int] = (256, 256),
        kernel1: int = 5,
        dropout: float = 0.5,
        lrn: bool = False,
        batchnorm: bool = False,
        stride1: int = 1,
    ) -> None:
        super().__init__()
        widths, fc = tuple(int(w) for w in widths), tuple(int(f) for f in fc)
        if len(widths) != 5 or min(widths) < 1:
            raise ConfigError(f"alexnet: widths must be 5 positive channel counts, got {widths}")
        if len(fc) != 2 or min(fc) < 1:
            raise ConfigError(f"alexnet: fc must be 2 positive unit counts, got {fc}")
        if kernel1 < 1 or kernel1 % 2 == 0:
            raise ConfigError(f"alexnet: kernel1 must be an odd positive size, got {kernel1}")
        if stride1 not in (1, 2, 4):
            raise ConfigError(f"alexnet: stride1 must be 1, 2 or 4, got {stride1}")
        if not 8 <= image_size <= 256:
            raise ConfigError(f"alexnet: image_size must be in [8, 256], got {image_size}")
        if in_channels not in (1, 3):
            raise ConfigError(f"alexnet: in_channels must be 1 or 3, got {in_channels}")
        self.config = {
            "in_channels": int(in_channels),
            "image_size": int(image_size),
            "n_classes": int(n_classes),
            "widths": list(widths),
            "fc": list(fc),
            "kernel1": int(kernel1),
            "dropout": float(dropout),
            "lrn": bool(lrn),
            "batchnorm": bool(batchnorm),
            "stride1": int(stride1),
        }
        w1, w2, w3, w4, w5 = widths
        side1 = (image_size + 2 * (kernel1 // 2) - kernel1) // stride1 + 1
        side = _pooled(_pooled(_pooled(side1)))

        def conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Sequential:
            parts: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2)]
            if batchnorm:
                parts.append(nn.BatchNorm2d(c_out))
            return nn.Sequential(*parts, nn.ReLU())

        self.stages = nn.ModuleDict(
            OrderedDict(
                conv1=conv(in_channels, w1, kernel1, stride1),
                pool1=_pool(w1, lrn),
                conv2=conv(w1, w2, 5),
                pool2=_pool(w2, lrn),
                conv3=conv(w2, w3, 3),
                conv4=conv(w3, w4, 3),
                conv5=conv(w4, w5, 3),
                pool5=_pool(w5, False),
                fc6=nn.Sequential(
                    nn.Flatten(), nn.Dropout(dropout), nn.Linear(w5 * side * side, fc[0]), nn.ReLU()
                ),
                fc7=nn.Sequential(nn.Dropout(dropout), nn.Linear(fc[0], fc[1]), nn.ReLU()),
                fc8=nn.Linear(fc[1], n_classes),
            )
        )

    # ------------------------------------------------------------------ looking inside
    def conv(self, stage: str) -> nn.Conv2d:
        """The ``Conv2d`` of a conv stage (its kernels are ``.weight``, (out, in, k, k))."""
        check_stage(stage, CONV_STAGES)
        return self.stages[stage][0]

    def linear(self, stage: str) -> nn.Linear:
        """The ``Linear`` of a fully connected stage."""
        check_stage(stage, FC_STAGES)
        module = self.stages[stage]
        return module if isinstance(module, nn.Linear) else module[-2]

    def forward(self, x: torch.Tensor, upto: str = "fc8") -> torch.Tensor:
        """The output of stage ``upto`` (the logits by default) for images ``x``, (N, C, H, W)."""
        check_stage(upto)
        for name, stage in self.stages.items():
            x = stage(x)
            if name == upto:
                break
        return x

    def activations(
        self, x: torch.Tensor, stages: Iterable[str] = STAGES
    ) -> dict[str, torch.Tensor]:
        """Each asked stage's output for images ``x`` (N, C, H, W), in one forward pass that
        stops at the deepest one asked."""
        wanted = [check_stage(s) for s in stages]
        if not wanted:
            return {}
        last = max(STAGES.index(s) for s in wanted)
        out: dict[str, torch.Tensor] = {}
        for name in STAGES[: last + 1]:
            x = self.stages[name](x)
            if name in wanted:
                out[name] = x
        return out

    def config_dict(self) -> dict[str, Any]:
        """The arguments that rebuild this network (``AlexNet(**net.config_dict())``)."""
        return dict(self.config)


def check_stage(stage: str, accepted: Sequence[str] = STAGES) -> str:
    """``stage`` if it names one of ``accepted``, else :class:`UnknownNameError` listing them.

    Examples
    --------
    >>> check_stage("fc7")
    'fc7'
    >>> check_stage("fc9")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.UnknownNameError: unknown stage 'fc9'; did you mean 'fc8' or 'fc7' or ...
    """
    if stage not in accepted:
        raise UnknownNameError(
            f"unknown stage '{stage}'{suggest(str(stage), accepted)} "
            f"(accepted: {', '.join(accepted)})"
        )
    return stage
