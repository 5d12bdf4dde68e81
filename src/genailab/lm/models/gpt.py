"""GPT: a decoder-only transformer language model, in PyTorch.

The transformer is Vaswani et al., "Attention Is All You Need" (NeurIPS 2017), decoder only;
the model is GPT-2, Radford et al., "Language Models are Unsupervised Multitask Learners"
(OpenAI, 2019): pre-LN residual blocks (LayerNorm before attention and before the MLP, one
more at the end), causal multi-head self-attention, a GELU MLP, an output head tied to the
token embedding (Press & Wolf 2017), and GPT-2's initialization with the projections into the
residual stream scaled by ``1 / sqrt(2 n_layer)``. The layout and names follow Karpathy's
nanoGPT ``model.py`` (https://github.com/karpathy/nanoGPT), so with ``rotary=False`` a
nanoGPT checkpoint, or :class:`genailab.engine.nn.GPT`'s ``state_dict``, loads key for key.

Positions come either from a learned table ``wpe`` added to the token embeddings (GPT-2) or,
with ``rotary=True`` (the default), from rotary embeddings: Su et al., "RoFormer: Enhanced
Transformer with Rotary Position Embedding" (arXiv:2104.09864, 2021). Each pair of channels
``(x_2i, x_2i+1)`` of a query or key at position ``m`` is rotated by the angle
``m * theta_i`` with ``theta_i = base^(-2i / hs)``, so that

    <R_m q, R_n k> = <q, R_{n-m} k>:

the attention score depends on the offset ``n - m`` only, never on where the pair sits. It
costs no parameters and, on small character models, learns faster than a position table.

The config is :class:`genailab.engine.nn.GPTConfig`, shared with the engine's numpy GPT: the
two are the same model (``tests/engine/test_gpt_equivalence.py`` proves it in float64, rotary
or not), so a checkpoint of either loads into the other.

Speed, for eager PyTorch on a CPU: q, k and v come from one fused ``Linear``; attention is one
``scaled_dot_product_attention(is_causal=True)`` call over all heads (no loops over heads or
positions); the rotary angles are computed once and kept as buffers; :meth:`GPT.generate`
keeps a key/value cache so that each new token costs one position, not the whole context.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genailab.engine.nn.gpt import GPTConfig
from genailab.lm.models.base import LanguageModel, check_sampling, sample_next

__all__ = ["GPT", "GPTConfig", "KVCache", "Rotary"]


class Rotary(nn.Module):
    """Rotate channel pairs ``(2i, 2i+1)`` of queries or keys at position m by ``m theta_i``.

    A pair is a complex number ``x_2i + j x_2i+1`` and the rotation one complex product with
    ``e^(j m theta_i)``: a single fused kernel forward and backward, where the real-valued
    form costs six.

    Examples
    --------
    >>> rope = Rotary(head_size=4, block_size=8)
    >>> q = torch.ones(1, 3, 2, 4)  # (B, T, nh, hs)
    >>> torch.allclose(rope(q).norm(dim=-1), q.norm(dim=-1))  # a rotation keeps lengths
    True
    """

    def __init__(self, head_size: int, block_size: int, base: float = 10000.0) -> None:
        super().__init__()
        self.head_size, self.block_size, self.base = head_size, block_size, base
        # buffers, not parameters, and not saved: the config rebuilds them
        self.register_buffer("cos", torch.empty(0), persistent=False)  # (block, hs/2)
        self.register_buffer("sin", torch.empty(0), persistent=False)  # (block, hs/2)
        self._build(torch.get_default_dtype(), torch.device("cpu"))

    def _build(self, dtype: torch.dtype, device: torch.device) -> None:
        i = torch.arange(0, self.head_size, 2, dtype=torch.float64)  # (hs/2,)
        theta = self.base ** (-i / self.head_size)  # (hs/2,) one frequency per channel pair
        m = torch.arange(self.block_size, dtype=torch.float64)  # (block,)
        angle = torch.outer(m, theta)  # (block, hs/2) computed in float64 always
        self.cos = angle.cos().to(device=device, dtype=dtype)  # (block, hs/2)
        self.sin = angle.sin().to(device=device, dtype=dtype)  # (block, hs/2)

    def _apply(self, fn, recurse=True):  # torch's signature
        # NOTE: model.double() would cast float32 tables and keep their rounding, so that
        # scores would depend on more than the offset; recompute at the new dtype instead
        super()._apply(fn, recurse)
        self._build(self.cos.dtype, self.cos.device)
        return self

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        T, hs = x.size(1), x.size(3)  # x is (B, T, H, hs): batch, time, heads, head size
        cos, sin = self.cos[start : start + T], self.sin[start : start + T]  # (T, hs/2)
        rot = torch.complex(cos, sin).unsqueeze(1)  # (T, 1, hs/2) e^(j m theta_i)
        # NOTE: complex numbers need float32 or float64; half precision goes through float32
        xf = x if x.dtype in (torch.float32, torch.float64) else x.float()  # (B, T, H, hs)
        xc = torch.view_as_complex(xf.unflatten(-1, (hs // 2, 2)))  # (B, T, H, hs/2)
        return torch.view_as_real(xc * rot).flatten(-2).type_as(x)  # (B, T, H, hs)


class KVCache:
    """The keys and values one block has computed so far; grows by one position per token."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None  # (B, nh, S, hs)
        self.v: torch.Tensor | None = None  # (B, nh, S, hs)

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.size(2)

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.k = k if self.k is None else torch.cat([self.k, k], dim=2)  # (B, nh, S+T, hs)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=2)  # (B, nh, S+T, hs)
        return self.k, self.v


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which each position sees itself and the past only."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        C = config.n_embd
        self.c_attn = nn.Linear(C, 3 * C, bias=config.bias)  # q, k, v in one product
        self.c_proj = nn.Linear(C, C, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, C, config.dropout

    def forward(
        self, x: torch.Tensor, rope: Rotary | None = None, kv: KVCache | None = None
    ) -> torch.Tensor:
        B, T, C = x.size()  # batch, time, channels
        nh, hs = self.n_head, C // self.n_head  # heads, head size
        start = 0 if kv is None else len(kv)  # positions already in the cache
        qkv = self.c_attn(x).view(B, T, 3 * nh, hs)  # (B, T, 3nh, hs) q, k, v heads
        if rope is not None:  # rotate the q and k heads together, one kernel
            qk = rope(qkv[:, :, : 2 * nh], start)  # (B, T, 2nh, hs)
            q, k = qk.split(nh, dim=2)  # (B, T, nh, hs) each
            v = qkv[:, :, 2 * nh :]  # (B, T, nh, hs)
        else:
            q, k, v = qkv.split(nh, dim=2)  # (B, T, nh, hs) each
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, nh, T, hs)
        mask, causal = None, start == 0
        if kv is not None:
            k, v = kv.append(k, v)  # (B, nh, S, hs) with S = start + T
            if start > 0 and T > 1:  # new query t sees the cache and new keys up to t
                mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(start)
        dropout = self.dropout if self.training else 0.0
        # softmax(q k^T / sqrt(hs) + causal mask) v, all heads at once, in one fused kernel
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=causal
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C) heads side by side
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class MLP(nn.Module):
    """The position-wise feed-forward of a block: C -> 4C -> GELU -> C."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        C = config.n_embd
        self.c_fc = nn.Linear(C, 4 * C, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's GELU
        self.c_proj = nn.Linear(4 * C, C, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.gelu(self.c_fc(x))  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class Block(nn.Module):
    """A pre-LN transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self, x: torch.Tensor, rope: Rotary | None = None, kv: KVCache | None = None
    ) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), rope, kv)  # (B, T, C) tokens talk to each other
        return x + self.mlp(self.ln_2(x))  # (B, T, C) each token thinks on its own


class GPT(LanguageModel):
    """GPT-2 style language model: ``forward(idx) -> logits``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))
    >>> idx = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])  # (B, T) token ids
    >>> model(idx).shape  # (B, T, V)
    torch.Size([2, 4, 11])
    >>> abs(model.loss(idx, idx.roll(-1, dims=1)).item() - math.log(11)) < 0.1  # uniform at init
    True
    >>> model.generate(idx, 5, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([2, 9])
    """

    name = "gpt"
    config_class = GPTConfig

    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config)
        C = config.n_embd
        parts = dict(
            wte=nn.Embedding(config.vocab_size, C),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(C, bias=config.bias),
        )
        if not config.rotary:
            parts["wpe"] = nn.Embedding(config.block_size, C)
        self.transformer = nn.ModuleDict(parts)
        self.rope = (
            Rotary(C // config.n_head, config.block_size, config.rope_base)
            if config.rotary
            else None
        )
        self.lm_head = nn.Linear(C, config.vocab_size, bias=False)
        # weight tying: reading a token in and writing it out share one (V, C) matrix
        self.lm_head.weight = self.transformer.wte.weight
        # GPT-2's initialization: N(0, 0.02) weights, zero biases, and the two projections
        # per block that write into the residual stream scaled by 1/sqrt(2 n_layer), so the
        # variance of the stream does not grow with depth
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, cache: list[KVCache] | None = None) -> torch.Tensor:
        """Next-token logits (B, T, V) of ``idx`` (B, T); with ``cache`` (one
        :class:`KVCache` per block), ``idx`` continues the positions already cached."""
        start = 0 if cache is None else len(cache[0])
        _, T = self.check_input(idx, start)
        tf = self.transformer
        x = tf.wte(idx)  # (B, T, C)
        if self.rope is None:
            pos = torch.arange(start, start + T, device=idx.device)  # (T,)
            x = x + tf.wpe(pos)  # (B, T, C)
        x = tf.drop(x)  # (B, T, C)
        for i, block in enumerate(tf.h):
            x = block(x, self.rope, None if cache is None else cache[i])  # (B, T, C)
        x = tf.ln_f(x)  # (B, T, C)
        return self.lm_head(x)  # (B, T, V)

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> torch.Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T0); return (B, T0 + n).

        With ``use_cache`` each new token runs one position through the blocks, reading the
        keys and values of the earlier ones from a :class:`KVCache`; the tokens are the same
        as without it (:meth:`LanguageModel.generate`) for the same ``generator`` seed.
        """
        if not use_cache:
            return super().generate(idx, max_new_tokens, temperature, top_k, generator)
        check_sampling(max_new_tokens, temperature, top_k)
        if idx.dim() != 2 or idx.size(1) < 1:
            raise ValueError(f"idx must be (B, T) with T >= 1, got shape {tuple(idx.shape)}")
        block_size = self.config.block_size
        was_training = self.training
        self.eval()
        try:
            cache: list[KVCache] | None = None
            for _ in range(max_new_tokens):
                if cache is not None and len(cache[0]) < block_size:
                    logits = self(idx[:, -1:], cache)  # (B, 1, V) one new position
                else:
                    # NOTE: once the context is full the window slides and every position
                    # moves, so the cache is rebuilt from the cropped window, exactly as the
                    # no-cache path reads it
                    cache = [KVCache() for _ in self.transformer.h]
                    logits = self(idx[:, -block_size:], cache)  # (B, T, V)
                nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)  # (B, 1)
                idx = torch.cat([idx, nxt], dim=1)  # (B, T + 1)
        finally:
            self.train(was_training)
        return idx
