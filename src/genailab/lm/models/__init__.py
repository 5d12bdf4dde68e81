"""Character-level language models, from counting pairs to a transformer, one interface.

Every model maps token ids ``(B, T)`` to next-token logits ``(B, T, V)`` and is causal
(see :class:`~genailab.lm.models.base.LanguageModel`):

- ``bigram``: :class:`BigramModel`, a table of smoothed pair counts (Shannon 1948);
- ``mlp``: :class:`MLPModel`, embeddings of the last few characters (Bengio et al. 2003);
- ``cnn``: :class:`CNNModel`, causal dilated convolutions (WaveNet, van den Oord et al. 2016);
- ``lstm``: :class:`LSTMModel`, a recurrent cell state (Hochreiter & Schmidhuber 1997);
- ``gpt``: :class:`GPT`, a decoder-only transformer (Vaswani et al. 2017, Radford et al. 2019).

:func:`build_model` makes one by name; :func:`model_from_config` rebuilds one from
``model.config_dict()``, the dict a checkpoint stores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from genailab.errors import ConfigError, UnknownNameError, suggest
from genailab.lm.models.base import LanguageModel, sample_next
from genailab.lm.models.bigram import BigramConfig, BigramModel
from genailab.lm.models.cnn import CNNConfig, CNNModel
from genailab.lm.models.gpt import GPT, GPTConfig
from genailab.lm.models.lstm import LSTMConfig, LSTMModel
from genailab.lm.models.mlp import MLPConfig, MLPModel

MODEL_CLASSES: dict[str, type[LanguageModel]] = {
    "bigram": BigramModel,
    "mlp": MLPModel,
    "cnn": CNNModel,
    "lstm": LSTMModel,
    "gpt": GPT,
}
MODELS = tuple(MODEL_CLASSES)


def build_model(name: str, vocab_size: int, **overrides: Any) -> LanguageModel:
    """Build the model called ``name`` with its default config changed by ``overrides``.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    vocab_size : int
        Number of tokens, V.
    **overrides
        Fields of the model's config dataclass (``block_size``, ``n_layer``, ...).

    Raises
    ------
    UnknownNameError
        For a name not in :data:`MODELS`.
    ConfigError
        For an override that is not a field of the config, or a value it rejects.

    Examples
    --------
    >>> model = build_model("gpt", vocab_size=65, n_layer=2)
    >>> model.config.n_layer, model.num_parameters()
    (2, 402176)
    >>> build_model("gtp", 65)
    Traceback (most recent call last):
    ...
    genailab.errors.UnknownNameError: unknown model 'gtp'; did you mean 'gpt'? (accepted: bigram, mlp, cnn, lstm, gpt)
    >>> build_model("gpt", 65, n_layers=2)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: unknown gpt setting 'n_layers'; did you mean 'n_layer'? (accepted: block_size, n_layer, n_head, n_embd, dropout, bias, rotary, rope_base)
    """  # noqa: E501
    if name not in MODEL_CLASSES:
        raise UnknownNameError(
            f"unknown model {name!r}{suggest(str(name), MODELS)} (accepted: {', '.join(MODELS)})"
        )
    cls = MODEL_CLASSES[name]
    fields = [f.name for f in dataclasses.fields(cls.config_class) if f.name != "vocab_size"]
    for key in overrides:
        if key not in fields:
            raise ConfigError(
                f"unknown {name} setting {key!r}{suggest(str(key), fields)} "
                f"(accepted: {', '.join(fields)})"
            )
    return cls(cls.config_class(vocab_size=vocab_size, **overrides))


def model_from_config(config: Mapping[str, Any]) -> LanguageModel:
    """Rebuild a model (fresh weights) from ``model.config_dict()``; load its state next.

    Examples
    --------
    >>> model = build_model("lstm", vocab_size=5, n_hidden=8)
    >>> twin = model_from_config(model.config_dict())
    >>> twin.load_state_dict(model.state_dict())
    <All keys matched successfully>
    """
    if not isinstance(config, Mapping) or "model" not in config or "vocab_size" not in config:
        raise ConfigError(
            "a model config must be a dict with 'model' and 'vocab_size', as config_dict() "
            f"returns; got {config!r:.200}"
        )
    settings = dict(config)
    name = settings.pop("model")
    return build_model(name, **settings)


__all__ = [
    "GPT",
    "MODELS",
    "MODEL_CLASSES",
    "BigramConfig",
    "BigramModel",
    "CNNConfig",
    "CNNModel",
    "GPTConfig",
    "LSTMConfig",
    "LSTMModel",
    "LanguageModel",
    "MLPConfig",
    "MLPModel",
    "build_model",
    "model_from_config",
    "sample_next",
]
