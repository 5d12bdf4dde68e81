"""Looking inside a trained GPT: its attention maps and its logit lens.

Both tools run the model's own forward pass and listen to it with hooks, so they follow
whatever :class:`~genailab.lm.models.GPT` does between its modules (embeddings, positions,
dropout) without restating it:

- :func:`attention_maps` catches the input of every block's attention module and recomputes,
  with that module's own fused ``c_attn`` projection and the rotary module the model passes it
  (or none, with learned positions), the causal softmax weights ``softmax(q k^T / sqrt(hs))``
  that ``scaled_dot_product_attention`` uses but never returns: one ``(T, T)`` map per layer
  and head, row ``t`` saying how much position ``t`` reads from each position ``s <= t``.
- :func:`logit_lens` catches the residual stream after the embeddings and after each block
  and reads every one of them with the model's final LayerNorm and tied output head, as if the
  network stopped there (nostalgebraist, "interpreting GPT: the logit lens", LessWrong 2020).
  The last reading is the model's own prediction, and the prediction of the next token is the
  last position's row.

Both put the model in eval mode for the call (no dropout) and back in the mode it was in, and
compute without gradients, in the model's dtype (``model.double()`` for exact comparisons).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genailab.lm.models.gpt import GPT


def _check(model: Any, idx: Any, caller: str) -> tuple[torch.Tensor, bool]:
    """``idx`` as a ``(B, T)`` long tensor on the model's device, and whether it was 1-D."""
    if not isinstance(model, GPT):
        raise TypeError(
            f"{caller} needs a genailab.lm GPT (the 'gpt' model), got {type(model).__name__}"
        )
    ids = idx if isinstance(idx, torch.Tensor) else torch.as_tensor(np.asarray(idx))
    if ids.numel() and ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValueError(f"{caller}: idx must hold integer token ids, got {ids.dtype}")
    single = ids.dim() == 1
    if single:
        ids = ids[None, :]  # (1, T)
    if ids.dim() != 2 or ids.size(1) < 1:
        raise ValueError(
            f"{caller}: idx must be token ids of shape (T,) or (B, T) with T >= 1, "
            f"got shape {tuple(ids.shape) if not single else (ids.size(1),)}"
        )
    config = model.config
    if ids.size(1) > config.block_size:
        raise ValueError(
            f"{caller}: a sequence of {ids.size(1)} tokens is longer than the model's "
            f"block_size {config.block_size}; pass at most its last {config.block_size} tokens"
        )
    if ids.numel() and (ids.min() < 0 or ids.max() >= config.vocab_size):
        raise ValueError(
            f"{caller}: token ids must be in [0, {config.vocab_size}), got ids from "
            f"{int(ids.min())} to {int(ids.max())}"
        )
    device = model.transformer.wte.weight.device
    return ids.to(device=device, dtype=torch.long), single


def _run_with_hooks(
    model: GPT, idx: torch.Tensor, hooks: list[tuple[nn.Module, str, Any]]
) -> torch.Tensor:
    """``model(idx)`` in eval mode without gradients, with ``(module, kind, fn)`` hooks on."""
    handles = []
    was_training = model.training
    model.eval()
    try:
        for module, kind, fn in hooks:
            if kind == "pre":
                handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(fn, with_kwargs=True))
        with torch.no_grad():
            return model(idx)  # (B, T, V)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def attention_maps(model: GPT, idx: Any) -> torch.Tensor:
    """The causal attention weights of every layer and head of ``model`` reading ``idx``.

    Parameters
    ----------
    model : GPT
        A :class:`~genailab.lm.models.GPT`, rotary or with learned positions.
    idx : sequence of int, ndarray or Tensor
        Token ids, ``(T,)`` or a batch ``(B, T)``, with ``T <= block_size``.

    Returns
    -------
    Tensor
        ``(n_layer, n_head, T, T)`` for ``(T,)`` ids, ``(B, n_layer, n_head, T, T)`` for a
        batch, in the model's dtype: ``w[l, h, t, s]`` is how much position ``t`` reads from
        position ``s`` in head ``h`` of block ``l``. Each row sums to 1 and is zero above the
        diagonal (``s > t``); each head's output, before ``c_proj`` mixes the heads, is
        ``w @ v``.

    Raises
    ------
    TypeError
        If ``model`` is not a GPT (the other models have no attention).
    ValueError
        For ids that are not integers in ``[0, vocab_size)``, or longer than ``block_size``.

    Examples
    --------
    >>> from genailab.lm.models import GPTConfig
    >>> _ = torch.manual_seed(0)
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=4, n_embd=16))
    >>> w = attention_maps(model, [3, 1, 4, 1, 5])
    >>> w.shape  # (n_layer, n_head, T, T)
    torch.Size([2, 4, 5, 5])
    >>> bool(torch.allclose(w.sum(-1), torch.ones(2, 4, 5))), float(w[0, 0, 0, 1])
    (True, 0.0)
    >>> attention_maps(model, torch.tensor([[1, 2], [3, 4], [5, 6]])).shape  # (B, L, H, T, T)
    torch.Size([3, 2, 4, 2, 2])
    """
    ids, single = _check(model, idx, "attention_maps")
    blocks = list(model.transformer.h)
    inputs: list[tuple[torch.Tensor, Any] | None] = [None] * len(blocks)

    def catch(layer: int) -> Any:
        def hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
            x = args[0] if args else kwargs["x"]
            rope = args[1] if len(args) > 1 else kwargs.get("rope")
            inputs[layer] = (x, rope)

        return hook

    hooks = [(block.attn, "pre", catch(i)) for i, block in enumerate(blocks)]
    _run_with_hooks(model, ids, hooks)
    maps = []
    with torch.no_grad():
        for block, caught in zip(blocks, inputs, strict=True):
            x, rope = caught  # x: (B, T, C), the attention's input ln_1(residual)
            attn = block.attn
            B, T, C = x.shape
            nh = attn.n_head
            hs = C // nh
            qkv = attn.c_attn(x).view(B, T, 3 * nh, hs)  # (B, T, 3nh, hs) q, k, v heads
            qk = qkv[:, :, : 2 * nh]  # (B, T, 2nh, hs)
            if rope is not None:  # the model's own rotary module, as its forward applies it
                qk = rope(qk, 0)
            q, k = qk.split(nh, dim=2)  # (B, T, nh, hs) each
            q, k = q.transpose(1, 2), k.transpose(1, 2)  # (B, nh, T, hs)
            scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B, nh, T, T)
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # (T, T)
            scores = scores.masked_fill(future, -math.inf)
            maps.append(F.softmax(scores, dim=-1))  # (B, nh, T, T) rows sum to 1
    out = torch.stack(maps, dim=1)  # (B, L, nh, T, T)
    return out[0] if single else out


def logit_lens(model: GPT, idx: Any) -> torch.Tensor:
    """Next-token log-probabilities read from the residual stream after every block.

    The hidden state after the embeddings (stage 0) and after each of the ``n_layer`` blocks
    (stages 1 to ``n_layer``) goes through the model's final LayerNorm ``ln_f`` and its tied
    output head, then ``log_softmax``. The last stage is the model's own output.

    Parameters
    ----------
    model : GPT
        A :class:`~genailab.lm.models.GPT`.
    idx : sequence of int, ndarray or Tensor
        Token ids, ``(T,)`` or a batch ``(B, T)``, with ``T <= block_size``.

    Returns
    -------
    Tensor
        ``(n_layer + 1, T, V)`` for ``(T,)`` ids, ``(B, n_layer + 1, T, V)`` for a batch:
        ``lens[i, t]`` is the log-probability of each next token at position ``t`` after
        stage ``i``; ``lens[:, -1]`` is the prediction of the token that follows ``idx``.

    Raises
    ------
    TypeError
        If ``model`` is not a GPT.
    ValueError
        For ids that are not integers in ``[0, vocab_size)``, or longer than ``block_size``.

    Examples
    --------
    >>> from genailab.lm.models import GPTConfig
    >>> _ = torch.manual_seed(0)
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=4, n_embd=16))
    >>> lens = logit_lens(model, [3, 1, 4, 1, 5])
    >>> lens.shape  # (n_layer + 1, T, V)
    torch.Size([3, 5, 10])
    >>> own = torch.log_softmax(model(torch.tensor([[3, 1, 4, 1, 5]]))[0], dim=-1)
    >>> bool(torch.allclose(lens[-1], own, atol=1e-6))  # the last stage is the model's output
    True
    """
    ids, single = _check(model, idx, "logit_lens")
    blocks = list(model.transformer.h)
    stream: list[torch.Tensor | None] = [None] * (len(blocks) + 1)

    def before_first(module: nn.Module, args: tuple, kwargs: dict) -> None:
        stream[0] = args[0] if args else kwargs["x"]  # (B, T, C) the embeddings

    def after(layer: int) -> Any:
        def hook(module: nn.Module, args: tuple, kwargs: dict, output: torch.Tensor) -> None:
            stream[layer + 1] = output  # (B, T, C) the residual stream after block `layer`

        return hook

    hooks = [(blocks[0], "pre", before_first)]
    hooks += [(block, "post", after(i)) for i, block in enumerate(blocks)]
    _run_with_hooks(model, ids, hooks)
    with torch.no_grad():
        hidden = torch.stack(stream, dim=1)  # (B, L+1, T, C)
        logits = model.lm_head(model.transformer.ln_f(hidden))  # (B, L+1, T, V)
        out = F.log_softmax(logits, dim=-1)
    return out[0] if single else out
