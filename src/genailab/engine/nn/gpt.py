"""GPT: a decoder-only transformer language model, on the engine's numpy autograd.

The transformer is Vaswani et al., "Attention Is All You Need" (NeurIPS 2017), decoder only;
the model is GPT-2, Radford et al., "Language Models are Unsupervised Multitask Learners"
(OpenAI, 2019): token embeddings, pre-LN residual blocks (LayerNorm before attention and
before the MLP, one more at the end), GELU (tanh form) and an output head that shares the
token embedding's weights. Positions are either rotary (``rotary=True``, the default; Su et
al., "RoFormer", arXiv:2104.09864, 2021: each channel pair of a query or key at position m is
rotated by ``m theta_i``, see :func:`~genailab.engine.functional.rotary_embedding`) or GPT-2's
learned table ``wpe``. The layout, the names and the initialization follow Karpathy's nanoGPT
``model.py`` (https://github.com/karpathy/nanoGPT), so a torch nanoGPT's ``state_dict`` loads
here key for key (with ``rotary=False``), and so does that of genailab's torch GPT
(:class:`genailab.lm.models.GPT`, the same model with the same :class:`GPTConfig`)::

    transformer.wte.weight              (V, C)       token embedding (= lm_head.weight)
    transformer.wpe.weight              (block, C)   position embedding (rotary=False only)
    transformer.h.{i}.ln_1.weight/bias  (C,)         LayerNorm before attention
    transformer.h.{i}.attn.c_attn.*     (3C, C)      q, k, v projections stacked, (3C,) bias
    transformer.h.{i}.attn.c_proj.*     (C, C)       attention output projection
    transformer.h.{i}.ln_2.weight/bias  (C,)         LayerNorm before the MLP
    transformer.h.{i}.mlp.c_fc.*        (4C, C)      MLP expansion
    transformer.h.{i}.mlp.c_proj.*      (C, 4C)      MLP projection back
    transformer.ln_f.weight/bias        (C,)         final LayerNorm
    lm_head.weight                      (V, C)       tied: the same array as wte

(the biases only with ``bias=True``). Weights are ``(out, in)`` as in ``torch.nn.Linear``;
OpenAI's GPT-2 checkpoints store the four projection matrices ``(in, out)`` (a ``Conv1D``) and
need a transpose, as in nanoGPT's ``from_pretrained``. ``named_parameters`` lists the tied
weight once, under ``wte``; ``state_dict`` has both keys, like torch. ``model.config`` is a
plain dataclass, so a checkpoint ``{"config": asdict(model.config), "model":
model.state_dict()}`` rebuilds the model on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from genailab.engine import functional as F
from genailab.engine.nn.layers import Dropout, Embedding, LayerNorm, Linear
from genailab.engine.nn.module import Module, ModuleDict, ModuleList
from genailab.engine.tensor import Tensor, no_grad
from genailab.settings import checked, setting

RngLike = np.random.Generator | int | None
Rope = tuple[np.ndarray, np.ndarray] | None  # (cos, sin), each (T, hs/2), or learned positions


@checked(where="GPTConfig")
@dataclass
class GPTConfig:
    """Sizes and options of a GPT, for the engine's :class:`GPT` and the torch
    :class:`genailab.lm.models.GPT` alike; the defaults are a small character model for a CPU.

    Parameters
    ----------
    vocab_size : int
        Number of tokens, V.
    block_size : int
        Longest context (the number of positions).
    n_layer, n_head, n_embd : int
        Blocks, attention heads per block, and width C (a multiple of ``n_head``).
    dropout : float
        Dropout after the embeddings, on the attention weights and on each residual branch.
    bias : bool
        Biases in the Linear and LayerNorm layers (GPT-2 has them; without is a bit faster).
    rotary : bool
        Rotary position embeddings instead of a learned position table ``wpe``.
    rope_base : float
        The base of the rotary frequencies ``base^(-2i / hs)``.

    Examples
    --------
    >>> GPTConfig(n_embd=30, n_head=4)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: GPTConfig: n_embd (30) must be a multiple of n_head (4)
    >>> GPTConfig(n_layer=0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: GPTConfig: n_layer must be in [1, 1024], got 0
    """

    vocab_size: int = setting(65, help="number of tokens, V", ge=1, le=10_000_000)
    block_size: int = setting(64, help="longest context, in tokens", ge=1, le=1_000_000)
    n_layer: int = setting(4, help="transformer blocks", ge=1, le=1024)
    n_head: int = setting(4, help="attention heads per block", ge=1, le=1024)
    n_embd: int = setting(128, help="width C of the residual stream", ge=1, le=65_536)
    dropout: float = setting(0.0, help="dropout rate of the embeddings and branches", ge=0, lt=1)
    bias: bool = setting(False, help="biases in the Linear and LayerNorm layers")
    rotary: bool = setting(True, help="rotary positions instead of a learned table")
    rope_base: float = setting(10000.0, help="base of the rotary frequencies", ge=1, le=1e9)

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.rotary and (self.n_embd // self.n_head) % 2:
            raise ValueError(
                "rotary embeddings need an even head size, got n_embd // n_head = "
                f"{self.n_embd // self.n_head}"
            )


class CausalSelfAttention(Module):
    """Multi-head self-attention in which each position sees itself and the past only."""

    def __init__(self, config: GPTConfig, rng: RngLike = None, dtype: Any = np.float32) -> None:
        rng = np.random.default_rng(rng)
        C = config.n_embd
        self.c_attn = Linear(C, 3 * C, bias=config.bias, rng=rng, dtype=dtype)  # q, k, v at once
        self.c_proj = Linear(C, C, bias=config.bias, rng=rng, dtype=dtype)
        self.attn_dropout = Dropout(config.dropout, rng=rng)
        self.resid_dropout = Dropout(config.dropout, rng=rng)
        self.n_head, self.n_embd, self.dropout = config.n_head, C, config.dropout

    def forward(self, x: Tensor, rope: Rope = None) -> Tensor:
        B, T, C = x.shape  # batch, time, channels
        nh, hs = self.n_head, C // self.n_head  # heads, head size
        # q, k, v from the three row blocks of c_attn's (3C, C) weight, a product each: cutting
        # the (B, T, 3C) output instead costs three output-sized gradient buffers on the way back
        w, b = self.c_attn.weight, self.c_attn.bias
        q, k, v = (
            F.linear(x, w[i * C : (i + 1) * C], None if b is None else b[i * C : (i + 1) * C])
            .reshape(B, T, nh, hs)  # (B, T, nh, hs)
            .transpose(0, 2, 1, 3)  # (B, nh, T, hs)
            for i in range(3)
        )
        if rope is not None:  # rotate queries and keys: the score of (m, n) sees n - m only
            cos, sin = rope[0][:T], rope[1][:T]  # (T, hs/2)
            q, k = F.rotary_embedding(q, cos, sin), F.rotary_embedding(k, cos, sin)
        if self.training and self.dropout > 0:  # dropping attention weights needs them explicit
            att = (q @ k.swapaxes(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
            future = np.triu(np.full((T, T), -np.inf, dtype=att.dtype), k=1)  # (T, T)
            att = self.attn_dropout((att + future).softmax(axis=-1))  # (B, nh, T, T)
            y = att @ v  # (B, nh, T, hs)
        else:  # softmax(q k^T / sqrt(hs) + mask) v, one fused op
            y = F.scaled_dot_product_attention(q, k, v, causal=True)  # (B, nh, T, hs)
        y = y.transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C) heads side by side
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class FeedForward(Module):
    """The position-wise MLP of a block: C -> 4C -> GELU -> C (nanoGPT's ``MLP``)."""

    def __init__(self, config: GPTConfig, rng: RngLike = None, dtype: Any = np.float32) -> None:
        rng = np.random.default_rng(rng)
        C = config.n_embd
        self.c_fc = Linear(C, 4 * C, bias=config.bias, rng=rng, dtype=dtype)
        self.c_proj = Linear(4 * C, C, bias=config.bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(config.dropout, rng=rng)

    def forward(self, x: Tensor) -> Tensor:
        h = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class Block(Module):
    """A pre-LN transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> block = Block(GPTConfig(n_embd=16, n_head=2), rng=0)
    >>> block(Tensor(np.ones((3, 5, 16), dtype=np.float32))).shape  # (B, T, C) in and out
    (3, 5, 16)
    """

    def __init__(self, config: GPTConfig, rng: RngLike = None, dtype: Any = np.float32) -> None:
        rng = np.random.default_rng(rng)
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias, dtype=dtype)
        self.attn = CausalSelfAttention(config, rng=rng, dtype=dtype)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias, dtype=dtype)
        self.mlp = FeedForward(config, rng=rng, dtype=dtype)

    def forward(self, x: Tensor, rope: Rope = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), rope)  # (B, T, C) tokens talk to each other
        return x + self.mlp(self.ln_2(x))  # (B, T, C) each token thinks on its own


class GPT(Module):
    """GPT-2 style language model: ``forward(idx, targets) -> (logits, loss)``.

    Parameters
    ----------
    config : GPTConfig
        The sizes; kept as ``model.config`` for checkpoints.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights and of the dropout masks.
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from dataclasses import asdict
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16), rng=0)
    >>> idx = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])  # (B, T) token ids
    >>> logits, loss = model(idx, targets=np.roll(idx, -1, axis=1))
    >>> logits.shape, abs(loss.item() - 2.398) < 0.2  # near log(11): uniform at init
    ((2, 4, 11), True)
    >>> twin = GPT(GPTConfig(**asdict(model.config)))  # a checkpoint rebuilds the model
    >>> twin.load_state_dict(model.state_dict())
    >>> model.generate(idx[:1, :2], max_new_tokens=3, rng=0).shape
    (1, 5)
    """

    def __init__(self, config: GPTConfig, rng: RngLike = None, dtype: Any = np.float32) -> None:
        rng = np.random.default_rng(rng)
        self.config = config
        C = config.n_embd
        parts = dict(wte=Embedding(config.vocab_size, C, rng=rng, dtype=dtype))
        if not config.rotary:
            parts["wpe"] = Embedding(config.block_size, C, rng=rng, dtype=dtype)
        self.transformer = ModuleDict(
            **parts,
            drop=Dropout(config.dropout, rng=rng),
            h=ModuleList(Block(config, rng=rng, dtype=dtype) for _ in range(config.n_layer)),
            ln_f=LayerNorm(C, bias=config.bias, dtype=dtype),
        )
        # the rotary angles: tables, not parameters, rebuilt from the config
        hs = C // config.n_head
        self.rope: Rope = (
            F.rotary_angles(hs, config.block_size, config.rope_base, dtype=dtype)
            if config.rotary
            else None
        )
        self.lm_head = Linear(C, config.vocab_size, bias=False, rng=rng, dtype=dtype)
        # weight tying (Press & Wolf 2017): reading a token in and writing it out share a matrix
        self.lm_head.weight = self.transformer.wte.weight
        # GPT-2's initialization: N(0, 0.02) weights, zero biases, and the projections that
        # write into the residual stream scaled down by sqrt(2 n_layer) (two per block)
        for module in self.modules():
            if isinstance(module, Linear | Embedding):
                module.weight.data[...] = rng.normal(0.0, 0.02, module.weight.shape)
            if isinstance(module, Linear) and module.bias is not None:
                module.bias.data[...] = 0.0
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                p.data[...] = rng.normal(0.0, 0.02 / math.sqrt(2 * config.n_layer), p.shape)

    def forward(
        self, idx: np.ndarray, targets: np.ndarray | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Logits (B, T, V) of the next token at every position of ``idx`` (B, T), and the
        mean cross-entropy against ``targets`` (B, T) if given (-1 marks a target to skip)."""
        x = self._features(idx)  # (B, T, C)
        logits = self.lm_head(x)  # (B, T, V)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits, np.asarray(targets), ignore_index=-1)

    def _features(self, idx: np.ndarray) -> Tensor:
        idx = np.asarray(idx)
        T = idx.shape[1]
        if idx.shape[1] > self.config.block_size:
            raise ValueError(
                f"GPT: a sequence of length {T} is longer than block_size "
                f"{self.config.block_size}; crop the context to its last block_size tokens"
            )
        tf = self.transformer
        x = tf.wte(idx)  # (B, T, C)
        if self.rope is None:
            x = x + tf.wpe(np.arange(T))  # (B, T, C) plus the learned (T, C) positions
        x = tf.drop(x)  # (B, T, C)
        for block in tf.h:
            x = block(x, self.rope)  # (B, T, C)
        return tf.ln_f(x)  # (B, T, C)

    def optim_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """Optimizer groups as nanoGPT: matrices decay, biases and LayerNorm gains do not."""
        params = self.parameters()
        return [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]

    @no_grad()
    def generate(
        self,
        idx: np.ndarray,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: RngLike = None,
    ) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T); return (B, T + new).

        Each token is drawn from ``softmax(logits / temperature)`` of the last position,
        restricted to the ``top_k`` most likely tokens if given. Call ``model.eval()`` first
        if the model has dropout.
        """
        rng = np.random.default_rng(rng)
        idx = np.asarray(idx)
        for _ in range(max_new_tokens):
            x = self._features(idx[:, -self.config.block_size :])  # (B, T, C)
            logits = self.lm_head(x[:, -1]).data / temperature  # (B, V)
            if top_k is not None:
                kth = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1])]  # (B,)
                logits = np.where(logits < kth[:, None], -np.inf, logits)  # (B, V)
            probs = np.exp(logits - logits.max(axis=-1, keepdims=True))  # (B, V)
            cdf = np.cumsum(probs / probs.sum(axis=-1, keepdims=True), axis=-1)  # (B, V)
            u = rng.random((idx.shape[0], 1))  # (B, 1) inverse-CDF sampling
            nxt = np.minimum((cdf < u).sum(axis=-1, keepdims=True), cdf.shape[-1] - 1)  # (B, 1)
            idx = np.concatenate([idx, nxt], axis=1)  # (B, T + 1)
        return idx
