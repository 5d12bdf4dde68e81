"""How much memory a training run needs, estimated from its sizes before anything is built.

``lm train`` refuses a request that cannot fit (``--set n_embd=30000``, a huge batch times
context) at once, with :func:`genailab.memory.check_memory`, rather than minutes later with a
``MemoryError``. Torch-free, so the experiments can estimate their runs the same way. The
estimate, in float32 numbers of 4 bytes, adds:

- **weights and optimizer**: ``P`` parameters (:func:`parameter_count`, exact), each with its
  gradient and AdamW's two moments, plus one copy for the checkpoint: ``20 P`` bytes;
- **activations**: what the backward pass keeps, per token of the batch (``B * T`` tokens):
  about ``30 C`` numbers per transformer block (torch keeps about 15, the engine about 35)
  plus one attention row of ``T`` scores per head (the engine keeps them; torch's fused
  kernel may not), and three copies of
  the ``V`` logits (the logits, their softmax, their gradient); the other models by the
  tensors their layers save (an LSTM, its four gates and two states at every step);
- **data**: the corpus as token ids (8 bytes a character) and the temporaries of tokenizing
  it (about 32 bytes a character, briefly).

``tests/lm/test_train_memory.py`` holds the parameter count to the models' own, and the
activations to what autograd really saves, within a stated factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLOAT = 4  # bytes of a float32 number
STATE_COPIES = 5  # weight, gradient, AdamW's two moments, the checkpoint's copy
DATA_BYTES_PER_CHAR = 8 + 32  # int64 ids, and the temporaries of encoding the text


def parameter_count(model: str, config: Mapping[str, Any]) -> int:
    """The exact number of trainable numbers of ``model`` built with ``config``.

    ``config`` is the model's full config (``asdict`` of its config dataclass, ``vocab_size``
    included), as :meth:`~genailab.lm.models.LanguageModel.config_dict` returns it.

    Examples
    --------
    >>> parameter_count("gpt", dict(vocab_size=65, block_size=64, n_layer=2, n_head=4,
    ...                             n_embd=128, bias=False, rotary=True))
    402176
    >>> parameter_count("mlp", dict(vocab_size=5, context=3, n_embd=4, n_hidden=8, n_layer=1))
    173
    """
    V = config["vocab_size"]
    if model == "bigram":
        return V * V
    if model == "gpt":
        C, L, bias = config["n_embd"], config["n_layer"], config["bias"]
        block = 12 * C * C + (9 * C if bias else 0) + 2 * (2 * C if bias else C)  # + 2 norms
        positions = 0 if config["rotary"] else config["block_size"] * C
        return V * C + positions + L * block + (2 * C if bias else C)  # tied head: wte once
    if model == "mlp":
        n, E, H, L = config["context"], config["n_embd"], config["n_hidden"], config["n_layer"]
        hidden = (n * E * H + H) + (L - 1) * (H * H + H)
        return (V + 1) * E + hidden + H * V + V  # the extra embedding row: before the start
    if model == "cnn":
        C, L, k = config["n_embd"], config["n_layer"], config["kernel_size"]
        blocks = L * ((C * 2 * C * k + 2 * C) + 2 * (C * C + C))  # gated conv, res, skip
        return V * C + blocks + (C * C + C) + (C * V + V)
    if model == "lstm":
        E, H, L = config["n_embd"], config["n_hidden"], config["n_layer"]
        layers = sum(4 * H * ((E if i == 0 else H) + H) + 8 * H for i in range(L))
        return V * E + layers + H * V + V
    raise ValueError(f"no parameter count for model {model!r}")


def activation_numbers_per_token(model: str, config: Mapping[str, Any], block_size: int) -> int:
    """Numbers kept for the backward pass per token of a batch of windows of ``block_size``.

    Examples
    --------
    >>> activation_numbers_per_token("gpt", dict(vocab_size=65, n_layer=1, n_head=2,
    ...                                          n_embd=16), block_size=8)
    739
    """
    V = config["vocab_size"]
    logits = 3 * V  # the logits, their log-softmax and their gradient
    if model == "bigram":
        return logits
    if model == "gpt":
        C, L, nh = config["n_embd"], config["n_layer"], config["n_head"]
        return C + L * (30 * C + nh * block_size) + 2 * C + logits
    if model == "mlp":
        n, E, H, L = config["context"], config["n_embd"], config["n_hidden"], config["n_layer"]
        return 2 * n + n * E + L * 2 * H + logits  # window ids, embeddings, tanh in and out
    if model == "cnn":
        C, L = config["n_embd"], config["n_layer"]
        return C + L * 5 * C + 2 * C + logits  # per block: padded input, gates, z, the sums
    if model == "lstm":
        E, H, L = config["n_embd"], config["n_hidden"], config["n_layer"]
        return E + L * 16 * H + H + logits  # per layer: the gates and states of every step
    raise ValueError(f"no activation count for model {model!r}")


def training_bytes(
    model: str,
    config: Mapping[str, Any],
    batch_size: int,
    block_size: int,
    corpus_chars: int = 0,
) -> int:
    """Estimated peak bytes of training ``model`` (its full ``config``) on batches of
    ``batch_size`` windows of ``block_size`` tokens, on a corpus of ``corpus_chars``.

    Examples
    --------
    >>> config = dict(vocab_size=59, block_size=64, n_layer=4, n_head=4, n_embd=128,
    ...               bias=False, rotary=True)
    >>> round(training_bytes("gpt", config, 16, 64, corpus_chars=44_000) / 2**20, 1)  # MiB
    83.0
    """
    weights = STATE_COPIES * FLOAT * parameter_count(model, config)
    if model == "bigram":  # counted, not trained: the counts, frequencies and logs in float64
        weights = 4 * 8 * config["vocab_size"] ** 2
    tokens = batch_size * block_size
    activations = FLOAT * tokens * activation_numbers_per_token(model, config, block_size)
    return int(weights + activations + DATA_BYTES_PER_CHAR * corpus_chars)


def describe_request(
    model: str, config: Mapping[str, Any], batch_size: int, block_size: int
) -> str:
    """The run in words, for the memory error: ``lm train: a gpt of 1.2M parameters with ...``.

    Examples
    --------
    >>> describe_request("lstm", dict(vocab_size=10, n_embd=4, n_hidden=8, n_layer=1), 4, 16)
    'lm train: an lstm of 578 parameters with batch_size 4 x block_size 16'
    """
    n = parameter_count(model, config)
    size = f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n:,}"
    article = "an" if model in ("mlp", "lstm") else "a"
    return (
        f"lm train: {article} {model} of {size} parameters with batch_size {batch_size} x "
        f"block_size {block_size}"
    )
