"""The training configuration of the CNN: :class:`CNNConfig`, checked, and free of torch.

Kept apart from :mod:`genailab.vision.training` so that ``genailab cnn train --help`` lists
every key (type, default, bounds, help) without importing torch.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from genailab.settings import checked, convert_value, describe_settings, seed_setting, setting

MAX_SECONDS = 10_000_000.0


def parse_ints(text: str, count: int, name: str) -> tuple[int, ...]:
    """``"32,64,96"`` -> ``(32, 64, 96)``, checking there are ``count`` positive integers.

    Examples
    --------
    >>> parse_ints("8, 16", 2, "fc")
    (8, 16)
    """
    try:
        values = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        values = ()
    if len(values) != count or min(values) < 1:
        raise ValueError(
            f"{name} must be {count} positive integers separated by commas, got {text!r}"
        )
    return values


@checked(where="cnn train")
@dataclass
class CNNConfig:
    """The knobs of a CNN training run, each with its help and bounds.

    The defaults are tuned for MNIST-5k on two CPU cores (``genailab cnn train --data
    mnist``: 98.6% held out after 10 epochs, 620 steps, about 76 s of one core's CPU, measured
    on a shared machine) and also reach 99.2% shape and 100% colour accuracy on the shapes;
    :data:`DATA_DEFAULTS` changes a few for other data.

    Examples
    --------
    >>> CNNConfig(epochs=2).epochs
    2
    >>> CNNConfig(widths="8,8")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: cnn train: widths must be 5 positive integers ... got '8,8'
    """

    epochs: int = setting(10, help="passes over the training images", ge=1, le=100_000)
    batch_size: int = setting(
        64, help="images per optimisation step (per process under DDP)", ge=1, le=65_536
    )
    lr: float = setting(3e-3, help="AdamW's peak learning rate (one-cycle schedule)", gt=0, le=10)
    warmup: float = setting(
        0.15, help="fraction of the steps spent warming the learning rate up", ge=0, lt=1
    )
    final_lr: float = setting(0.0, help="learning rate at the end, as a fraction of lr", ge=0, le=1)
    weight_decay: float = setting(
        0.05, help="AdamW's decoupled decay on the kernels and matrices", ge=0, le=10
    )
    label_smoothing: float = setting(0.05, help="cross-entropy label smoothing", ge=0, lt=1)
    augment: bool = setting(True, help="random affine transforms of each training image")
    shift: float = setting(
        0.08, help="largest random shift, as a fraction of the side", ge=0, le=0.5
    )
    rotate: float = setting(10.0, help="largest random rotation in degrees", ge=0, le=180)
    zoom: float = setting(
        0.1, help="largest random change of scale (0.1: 0.9x to 1.1x)", ge=0, lt=1
    )
    widths: str = setting("24,48,64,64,48", help="channels of conv1..conv5, comma-separated")
    fc: str = setting("192,192", help="units of fc6 and fc7, comma-separated")
    kernel1: int = setting(5, help="side of the conv1 kernels (odd)", ge=1, le=15)
    dropout: float = setting(0.25, help="dropout before fc6 and fc7", ge=0, lt=1)
    lrn: bool = setting(False, help="local response normalisation after conv1 and conv2")
    batchnorm: bool = setting(True, help="batch normalisation before each conv stage's ReLU")
    stride1: int = setting(1, help="stride of conv1: 1, 2 or 4", ge=1, le=4)
    init_conv1: float = setting(
        1.0, help="scale of conv1's initial (He) kernels; batch norm makes it harmless", gt=0, le=10
    )
    seed: int = seed_setting()
    test_fraction: float = setting(
        0.2, help="held-out fraction of each class (stratified)", gt=0, lt=1
    )
    n: int = setting(
        0,
        help="images to load or make (0: the data set's own count; shapes: 5000)",
        ge=0,
        le=1_000_000,
    )
    size: int = setting(0, help="resize the images to this side (0: their own)", ge=0, le=256)
    target: Literal["both", "shape", "colour"] = setting(
        "both", help="the shapes' label: the colour-shape pair, the shape or the colour"
    )
    eval_train: int = setting(
        1000,
        help="training images evaluated after each epoch (all at the end)",
        ge=0,
        le=10_000_000,
    )
    eval_batch: int = setting(1000, help="images per evaluation batch", ge=1, le=65_536)
    threads: int = setting(0, help="torch threads for the run; 0: torch's default", ge=0, le=1024)

    def __post_init__(self) -> None:
        parse_ints(self.widths, 5, "widths")
        parse_ints(self.fc, 2, "fc")
        if self.stride1 == 3:
            raise ValueError("stride1 must be 1, 2 or 4, got 3")
        if self.kernel1 % 2 == 0:
            raise ValueError(f"kernel1 must be odd, got {self.kernel1}")

    def network(self, in_channels: int, image_size: int, n_classes: int) -> dict[str, Any]:
        """The :class:`~genailab.vision.alexnet.AlexNet` arguments this config asks for."""
        return {
            "in_channels": in_channels,
            "image_size": image_size,
            "n_classes": n_classes,
            "widths": list(parse_ints(self.widths, 5, "widths")),
            "fc": list(parse_ints(self.fc, 2, "fc")),
            "kernel1": self.kernel1,
            "dropout": self.dropout,
            "lrn": self.lrn,
            "batchnorm": self.batchnorm,
            "stride1": self.stride1,
        }


DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "shapes": {},
}
"""Per data set, the keys whose defaults differ from :class:`CNNConfig`'s."""

_TYPES = typing.get_type_hints(CNNConfig)


def make_config(
    data: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: CNNConfig | None = None,
) -> CNNConfig:
    """``base`` (default: :class:`CNNConfig` with the :data:`DATA_DEFAULTS` of ``data``), then
    ``overrides`` (values or CLI strings).

    Examples
    --------
    >>> make_config("mnist", {"epochs": "3", "augment": "off"}).augment
    False
    >>> make_config(overrides={"epoch": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: cnn train: unknown config key 'epoch'; did you mean 'epochs'? ...
    """
    values = dataclasses.asdict(base) if base is not None else DATA_DEFAULTS.get(str(data), {})
    values = dict(values)
    for key, value in (overrides or {}).items():
        values[key] = convert_value("cnn train", key, _TYPES, value)
    return CNNConfig(**values)


def describe() -> list[dict[str, Any]]:
    """Every key of :class:`CNNConfig` as plain data, with each data set's defaults."""
    return describe_settings(CNNConfig, DATA_DEFAULTS)
