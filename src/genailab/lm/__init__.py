"""Text for the language models: corpora, their train/validation split, and tokenizers.

- :mod:`~genailab.lm.corpus`: :func:`load_corpus` reads a shipped corpus (:data:`CORPORA`:
  ``"cats"``, original poems about cats) or any UTF-8 text file into a :class:`Corpus`,
  split first 90% train / last 10% validation as in nanoGPT; :func:`check_length` checks
  that both splits hold a few context windows.
- :mod:`~genailab.lm.tokenizer`: :class:`CharTokenizer`, one id per character, with a
  vocabulary that is saved with a model.
- :mod:`~genailab.lm.bpe`: :class:`BPETokenizer`, byte-level byte-pair encoding trained on
  a corpus, exact on any UTF-8 text.
- :mod:`~genailab.lm.models`: the models (:data:`MODELS`: bigram, mlp, cnn, lstm, gpt), one
  interface, ids ``(B, T)`` -> next-token logits ``(B, T, V)``; :func:`build_model`,
  :func:`model_from_config`; :func:`resolve_device` (:mod:`~genailab.device`) picks the device.
- :mod:`~genailab.lm.train`: :func:`train` trains a model (:data:`PRESETS` of
  :class:`TrainConfig`), with checkpoints (:mod:`~genailab.lm.checkpoint`) and resume;
  :func:`load` (:mod:`~genailab.lm.sample`) rebuilds a run as a :class:`TrainedModel`, whose
  ``generate`` writes text.
- :mod:`~genailab.lm.inspect`: :func:`attention_maps` (every layer's and head's causal
  attention weights) and :func:`logit_lens` (the next-token prediction read after every
  block) look inside a trained :class:`GPT`.
"""

from collections.abc import Mapping
from typing import Any

from genailab.device import DEVICES, DeviceUnavailableError, resolve_device
from genailab.lm.bpe import BPETokenizer
from genailab.lm.checkpoint import CheckpointError
from genailab.lm.corpus import (
    CORPORA,
    Corpus,
    CorpusError,
    CorpusNotFoundError,
    check_length,
    load_corpus,
)
from genailab.lm.inspect import attention_maps, logit_lens
from genailab.lm.models import (
    GPT,
    MODELS,
    BigramModel,
    CNNModel,
    GPTConfig,
    LanguageModel,
    LSTMModel,
    MLPModel,
    build_model,
    model_from_config,
)
from genailab.lm.sample import SamplingError, TrainedModel, load
from genailab.lm.tokenizer import CharTokenizer, TokenizerError, UnknownCharacterError
from genailab.lm.train import PRESETS, TrainConfig, train


def tokenizer_from_dict(data: Mapping[str, Any]) -> CharTokenizer | BPETokenizer:
    """Rebuild whichever tokenizer ``to_dict`` saved, by its ``"kind"`` (``char`` or ``bpe``).

    Examples
    --------
    >>> tokenizer_from_dict(CharTokenizer.fit("purr").to_dict())
    CharTokenizer(vocab_size=3)
    """
    kinds = {"char": CharTokenizer, "bpe": BPETokenizer}
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise TokenizerError(
            f"unknown tokenizer kind {kind!r}; expected one of: {', '.join(kinds)}"
        )
    return kinds[kind].from_dict(data)


__all__ = [
    "CORPORA",
    "DEVICES",
    "GPT",
    "MODELS",
    "PRESETS",
    "BPETokenizer",
    "BigramModel",
    "CNNModel",
    "CharTokenizer",
    "CheckpointError",
    "Corpus",
    "CorpusError",
    "CorpusNotFoundError",
    "DeviceUnavailableError",
    "GPTConfig",
    "LSTMModel",
    "LanguageModel",
    "MLPModel",
    "SamplingError",
    "TokenizerError",
    "TrainConfig",
    "TrainedModel",
    "UnknownCharacterError",
    "attention_maps",
    "build_model",
    "check_length",
    "load",
    "load_corpus",
    "logit_lens",
    "model_from_config",
    "resolve_device",
    "tokenizer_from_dict",
    "train",
]
