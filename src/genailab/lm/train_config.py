"""The training configuration of the language models: :class:`TrainConfig` and its presets.

Kept apart from the training (:mod:`genailab.lm.training`, :mod:`genailab.lm.train_loop`) and
free of torch, so that the command line can list the presets, the backends and every key (with
its type, default, bounds and help: :func:`describe`) without importing torch.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from genailab.errors import ConfigError, UnknownNameError, suggest
from genailab.settings import checked, convert_value, describe_settings, setting

BACKENDS = ("torch", "engine")
TOKENIZERS = ("char", "bpe")
MODELS = ("bigram", "mlp", "cnn", "lstm", "gpt")  # = genailab.lm.models.MODELS, torch-free
MAX_SECONDS = 10_000_000.0  # about four months: a wall-time budget beyond is a typo


@checked(where="lm train")
@dataclass
class TrainConfig:
    """The knobs of a training run, each declared with its help and bounds; :data:`PRESETS`
    holds named sets of them, and the defaults are the ``cpu`` preset.

    ``genailab lm train --help`` lists every field with its type, default, each preset's
    value, bounds and help (:func:`describe`). The model sizes (``n_layer`` to
    ``kernel_size``) go to the models whose config has that field; 0 means the model's own
    default (see :data:`MODEL_SIZES` for each preset's choices), and setting a size the model
    does not have is an error.

    Examples
    --------
    >>> PRESETS["tiny"].block_size, PRESETS["tiny"].max_iters
    (16, 60)
    >>> TrainConfig(lr=0.0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: lm train: lr must be in (0, 10], got 0.0
    >>> TrainConfig(lr=1e-3, min_lr=1e-2)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: lm train: min_lr (0.01) must be at most lr (0.001)
    """

    model: Literal["bigram", "mlp", "cnn", "lstm", "gpt"] = setting(
        "gpt", help="the model; choose it with --model (a --set model is refused)"
    )
    block_size: int = setting(
        64, help="context length T: tokens the model reads to predict the next", ge=1, le=16_384
    )
    batch_size: int = setting(
        16, help="windows per optimization step (per process under DDP)", ge=1, le=65_536
    )
    max_iters: int = setting(
        1000, help="optimization steps; the cosine schedule ends there", ge=0, le=10_000_000
    )
    lr: float = setting(3e-3, help="peak learning rate, reached after the warm-up", gt=0, le=10)
    min_lr: float = setting(
        3e-4, help="the learning rate the cosine decays to (<= lr)", ge=0, le=10
    )
    warmup_iters: int = setting(
        50, help="steps of linear warm-up to lr (<= max_iters)", ge=0, le=10_000_000
    )
    weight_decay: float = setting(
        0.1, help="AdamW's decoupled decay, on matrices and embeddings only", ge=0, le=10
    )
    beta1: float = setting(0.9, help="AdamW's decay rate of the mean gradient", ge=0, lt=1)
    beta2: float = setting(0.99, help="AdamW's decay rate of the mean squared gradient", ge=0, lt=1)
    grad_clip: float = setting(
        1.0, help="largest joint gradient norm; 0 for no clipping", ge=0, le=1e6
    )
    eval_interval: int = setting(
        250, help="steps between evaluations, each followed by a checkpoint", ge=1, le=10_000_000
    )
    eval_iters: int = setting(
        20, help="batches of each split averaged in one evaluation", ge=1, le=100_000
    )
    dropout: float = setting(0.0, help="dropout rate of the models that have it", ge=0, lt=1)
    n_layer: int = setting(
        0, help="layers of the gpt, mlp, cnn or lstm; 0: the model's default", ge=0, le=1024
    )
    n_head: int = setting(0, help="attention heads per gpt layer; 0: the default", ge=0, le=1024)
    n_embd: int = setting(
        0, help="embedding width (all but the bigram); 0: the model's default", ge=0, le=65_536
    )
    n_hidden: int = setting(
        0, help="hidden width of the mlp or lstm; 0: the model's default", ge=0, le=65_536
    )
    context: int = setting(0, help="tokens the mlp reads; 0: its default", ge=0, le=4096)
    kernel_size: int = setting(
        0, help="convolution width of the cnn (2 or more); 0: its default", ge=0, le=64
    )
    rotary: bool = setting(True, help="rotary positions in the gpt instead of a learned table")
    bpe_vocab_size: int = setting(
        512, help="vocabulary size of the bpe tokenizer (--tokenizer bpe)", ge=256, le=65_536
    )
    threads: int = setting(0, help="torch threads for the run; 0: torch's default", ge=0, le=1024)

    def __post_init__(self) -> None:
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr ({self.min_lr}) must be at most lr ({self.lr})")
        if self.warmup_iters > self.max_iters:
            raise ValueError(
                f"warmup_iters ({self.warmup_iters}) exceeds max_iters ({self.max_iters})"
            )


_FIELD_TYPES = typing.get_type_hints(TrainConfig)

SIZES = ("n_layer", "n_head", "n_embd", "n_hidden", "context", "kernel_size")
"""The size fields of :class:`TrainConfig`, each passed to the models that have it."""

PRESETS: dict[str, TrainConfig] = {
    # seconds on a CPU: for tests and smoke runs
    "tiny": TrainConfig(
        block_size=16,
        batch_size=8,
        max_iters=60,
        lr=3e-3,
        min_lr=3e-4,
        warmup_iters=10,
        eval_interval=20,
        eval_iters=4,
        threads=1,  # a tiny model gains nothing from a second thread, and loses to contention
    ),
    # the default (TrainConfig's own defaults): a real result in about a minute on two CPU
    # cores. Against nanoGPT's CPU settings below: rotary positions, a 3x higher peak rate
    # with a 50-step warm-up, batch 16. On tiny Shakespeare it reaches val 1.86 in 60 s where
    # those settings take 89-106 s to reach 1.91 (benchmarks/lm.py; the README lists the
    # variants measured).
    "cpu": TrainConfig(),
    # nanoGPT's shakespeare_char CPU settings, for comparison in benchmarks/lm.py
    "nanogpt-cpu": TrainConfig(
        batch_size=12,
        max_iters=2000,
        lr=1e-3,
        min_lr=1e-4,
        warmup_iters=100,
        beta2=0.99,
        eval_interval=250,
        eval_iters=20,
        rotary=False,
    ),
    # a GPU: nanoGPT's shakespeare_char model (6 x 6 x 384, context 256)
    "gpu": TrainConfig(
        block_size=256,
        batch_size=64,
        max_iters=5000,
        lr=1e-3,
        min_lr=1e-4,
        warmup_iters=100,
        eval_interval=500,
        eval_iters=200,
        dropout=0.2,
    ),
}
"""Named training configurations: ``tiny`` (tests), ``cpu`` (the default), ``nanogpt-cpu``
(nanoGPT's own CPU settings, for the benchmark) and ``gpu``."""

_GPT_CPU = {"n_layer": 4, "n_head": 4, "n_embd": 128}
MODEL_SIZES: dict[str, dict[str, dict[str, int]]] = {
    "tiny": {
        "gpt": {"n_layer": 1, "n_head": 2, "n_embd": 16},
        "mlp": {"context": 4, "n_embd": 8, "n_hidden": 32},
        "cnn": {"n_embd": 16, "n_layer": 3},
        "lstm": {"n_embd": 16, "n_hidden": 32},
    },
    "cpu": {"gpt": _GPT_CPU},
    "nanogpt-cpu": {"gpt": _GPT_CPU},
    "gpu": {
        "gpt": {"n_layer": 6, "n_head": 6, "n_embd": 384},
        "mlp": {"context": 16, "n_embd": 64, "n_hidden": 1024},
        "cnn": {"n_embd": 256, "n_layer": 8},
        "lstm": {"n_embd": 128, "n_hidden": 512, "n_layer": 2},
    },
}
"""Model sizes per preset and model, applied after the preset and before the overrides;
a model missing here keeps its own defaults."""


def make_config(
    preset: str = "cpu",
    model: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_iters: int | None = None,
) -> TrainConfig:
    """The preset, then ``model`` and its sizes in the preset, then ``overrides`` (CLI strings
    or values), then ``max_iters``.

    A ``max_iters`` below the warm-up keeps a proportional warm-up (a tenth of the run).

    Raises
    ------
    UnknownNameError
        For a preset that is not in :data:`PRESETS`.
    ConfigError
        For an unknown key, a bad value, or ``model`` among the overrides (it is chosen with
        ``model``, the ``--model`` flag); the message names it and what is accepted.

    Examples
    --------
    >>> make_config("tiny", "lstm", {"lr": "0.01"}).lr
    0.01
    >>> make_config("tiny", overrides={"lrr": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: lm train: unknown config key 'lrr'; did you mean 'lr'? ...
    """
    if preset not in PRESETS:
        raise UnknownNameError(
            f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}{suggest(preset, PRESETS)}"
        )
    values = dataclasses.asdict(PRESETS[preset])
    overrides = convert_overrides(overrides)
    if "model" in overrides:
        raise ConfigError(
            f"lm train: choose the model with --model {overrides['model']} (model= in Python), "
            f"not --set model={overrides['model']}"
        )
    if max_iters is not None and overrides.get("max_iters", max_iters) != max_iters:
        raise ConfigError(
            f"lm train: --max-iters {max_iters} and --set max_iters={overrides['max_iters']} "
            "disagree; give one"
        )
    name = model or values["model"]
    if name not in MODELS:
        raise UnknownNameError(
            f"unknown model {name!r}{suggest(str(name), MODELS)} (accepted: {', '.join(MODELS)})"
        )
    layers: list[Mapping[str, Any]] = [
        {"model": name},
        MODEL_SIZES.get(preset, {}).get(name, {}),
        overrides,
        {} if max_iters is None else {"max_iters": convert_setting("max_iters", max_iters)},
    ]
    for layer in layers:
        values.update(layer)
    if values["warmup_iters"] > values["max_iters"] and "warmup_iters" not in overrides:
        values["warmup_iters"] = values["max_iters"] // 10  # a short run, a short warm-up
    return TrainConfig(**values)


def convert_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``overrides`` with every value converted to its field's type (an unknown key refused).

    Examples
    --------
    >>> convert_overrides({"lr": "0.01", "rotary": "off"})
    {'lr': 0.01, 'rotary': False}
    """
    return {key: convert_setting(key, value) for key, value in (overrides or {}).items()}


def convert_setting(key: str, value: Any) -> Any:
    """Convert ``value`` (a CLI string or a Python value) to the type of TrainConfig's ``key``.

    Examples
    --------
    >>> convert_setting("max_iters", "20"), convert_setting("rotary", "off")
    (20, False)
    >>> convert_setting("max_iters", "2.5")
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: lm train: max_iters must be an integer, got '2.5'
    """
    return convert_value("lm train", key, _FIELD_TYPES, value)


def describe() -> list[dict[str, Any]]:
    """Every key of :class:`TrainConfig` as plain data, with each preset's value.

    One dict per key (see :func:`genailab.settings.describe_settings`): ``key``, ``type``,
    ``choices``, ``default`` (the ``cpu`` preset's), ``bounds``, ``interval``, ``help``, and
    the value in each other preset, the gpt's sizes from :data:`MODEL_SIZES` included (the
    model that ``lm train`` trains by default). ``genailab lm train --help`` prints it.

    Examples
    --------
    >>> rows = {row["key"]: row for row in describe()}
    >>> rows["block_size"]["default"], rows["block_size"]["tiny"], rows["block_size"]["gpu"]
    (64, 16, 256)
    >>> rows["n_embd"]["gpu"], rows["lr"]["interval"]
    (384, '(0, 10]')
    """
    defaults = dataclasses.asdict(TrainConfig())
    presets = {}
    for name, preset in PRESETS.items():
        if name == "cpu":
            continue  # the defaults
        values = {**dataclasses.asdict(preset), **MODEL_SIZES.get(name, {}).get("gpt", {})}
        presets[name] = {k: v for k, v in values.items() if v != defaults[k]}
    return describe_settings(TrainConfig, presets)
