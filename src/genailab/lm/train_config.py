"""The training configuration of the language models: :class:`TrainConfig` and its presets.

Kept apart from the training loop (:mod:`genailab.lm.train`) and free of torch, so that the
command line can list the presets, the backends and every key without importing torch.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genailab.errors import ConfigError, UnknownNameError, suggest
from genailab.settings import convert_value

BACKENDS = ("torch", "engine")
TOKENIZERS = ("char", "bpe")


@dataclass
class TrainConfig:
    """The knobs of a training run; :data:`PRESETS` holds named sets of them.

    Parameters
    ----------
    model : str
        One of :data:`genailab.lm.models.MODELS`.
    block_size : int
        Context length T: tokens the model sees to predict the next one.
    batch_size : int
        Windows per step (per process under DDP).
    max_iters : int
        Optimization steps; also where the cosine schedule reaches ``min_lr``.
    lr, min_lr : float
        Peak learning rate, and the floor the cosine decays to.
    warmup_iters : int
        Steps of linear warm-up from ``lr / warmup_iters`` to ``lr``.
    weight_decay : float
        AdamW's decoupled decay, on 2-D weights only.
    beta1, beta2 : float
        AdamW's moment decay rates.
    grad_clip : float
        Largest joint gradient norm (0 for no clipping).
    eval_interval, eval_iters : int
        Steps between evaluations, and batches per split in each.
    dropout : float
        Dropout of the models that have it.
    n_layer, n_head, n_embd, n_hidden, context, kernel_size : int
        Sizes of the model, each passed to the models whose config has that field; 0 means
        the model's own default (see :data:`MODEL_SIZES` for each preset's choices).
        Setting a size the model does not have is an error.
    rotary : bool
        Rotary position embeddings in the GPT instead of learned positions.
    bpe_vocab_size : int
        Vocabulary size of the BPE tokenizer (only with ``tokenizer="bpe"``).
    threads : int
        ``torch.set_num_threads`` for the run; 0 leaves torch's default.

    Examples
    --------
    >>> PRESETS["tiny"].block_size, PRESETS["tiny"].max_iters
    (16, 60)
    """

    model: str = "gpt"
    block_size: int = 64
    batch_size: int = 32
    max_iters: int = 1500
    lr: float = 2e-3
    min_lr: float = 1e-4
    warmup_iters: int = 50
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_iters: int = 20
    dropout: float = 0.0
    n_layer: int = 0
    n_head: int = 0
    n_embd: int = 0
    n_hidden: int = 0
    context: int = 0
    kernel_size: int = 0
    rotary: bool = True
    bpe_vocab_size: int = 512
    threads: int = 0

    def __post_init__(self) -> None:
        positive = ("block_size", "batch_size", "eval_interval", "eval_iters", "bpe_vocab_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_iters", "warmup_iters", "threads", *SIZES):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.lr > 0.0 or not 0.0 <= self.min_lr <= self.lr:
            raise ValueError(f"need 0 < lr and 0 <= min_lr <= lr, got {self.lr}, {self.min_lr}")
        if self.warmup_iters > self.max_iters:
            raise ValueError(
                f"warmup_iters ({self.warmup_iters}) exceeds max_iters ({self.max_iters})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


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
    # the default: a real result in about a minute on two CPU cores. Against nanoGPT's CPU
    # settings below: rotary positions, a 3x higher peak rate with a 50-step warm-up, batch
    # 16. On tiny Shakespeare it reaches val 1.86 in 60 s where those settings take 89-106 s
    # to reach 1.91 (benchmarks/lm.py; the README lists the variants measured).
    "cpu": TrainConfig(
        batch_size=16,
        max_iters=1000,
        lr=3e-3,
        min_lr=3e-4,
        warmup_iters=50,
        eval_interval=250,
        eval_iters=20,
    ),
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
    """The preset, then ``model``, then ``overrides`` (CLI strings or values), then ``max_iters``.

    Raises
    ------
    UnknownNameError
        For a preset that is not in :data:`PRESETS`.
    ConfigError
        For an unknown key or a bad value; the message names it and what is accepted.

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
    overrides = dict(overrides or {})
    name = str(overrides.get("model", model or values["model"]))
    layers: list[Mapping[str, Any]] = [
        {"model": name},
        MODEL_SIZES.get(preset, {}).get(name, {}),
        overrides,
        {} if max_iters is None else {"max_iters": max_iters},
    ]
    for layer in layers:
        for key, value in layer.items():
            values[key] = convert_setting(key, value)
    if values["warmup_iters"] > values["max_iters"]:  # a short run keeps a proportional warm-up
        values["warmup_iters"] = values["max_iters"] // 10
    try:
        return TrainConfig(**values)
    except ValueError as err:
        raise ConfigError(f"lm train: {err}") from None


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
