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
- :mod:`~genailab.lm.training`: :func:`train` trains a model (:data:`PRESETS` of
  :class:`TrainConfig` in :mod:`~genailab.lm.train_config`), checking every argument and the
  memory it needs (:mod:`~genailab.lm.train_memory`) first, then running the loop of
  :mod:`~genailab.lm.train_loop` (or :mod:`~genailab.lm.train_engine`, on the numpy engine),
  with checkpoints (:mod:`~genailab.lm.checkpoint`) and resume; :func:`load`
  (:mod:`~genailab.lm.sample`) rebuilds a run as a :class:`TrainedModel`, whose ``generate``
  writes text. ``genailab.lm.train`` is the function; its module is ``training``.
- :mod:`~genailab.lm.inspect`: :func:`attention_maps` (every layer's and head's causal
  attention weights) and :func:`logit_lens` (the next-token prediction read after every
  block) look inside a trained :class:`GPT`.
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "bpe": ["BPETokenizer"],
        "checkpoint": ["CheckpointError"],
        "corpus": [
            "CORPORA",
            "Corpus",
            "CorpusError",
            "CorpusNotFoundError",
            "check_length",
            "load_corpus",
        ],
        "inspect": ["attention_maps", "logit_lens"],
        "models": [
            "GPT",
            "MODELS",
            "BigramModel",
            "CNNModel",
            "GPTConfig",
            "LSTMModel",
            "LanguageModel",
            "MLPModel",
            "build_model",
            "model_from_config",
        ],
        "sample": ["SamplingError", "TrainedModel", "load"],
        "tokenizer": ["CharTokenizer", "TokenizerError", "UnknownCharacterError"],
        "tokenizers": ["tokenizer_from_dict"],
        "training": ["train"],
        "train_config": ["PRESETS", "TrainConfig"],
    },
)
