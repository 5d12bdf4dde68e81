"""Attention maps and the logit lens against the GPT's own forward pass, in float64."""

from __future__ import annotations

import math

import pytest
import torch

from genailab.lm import attention_maps, logit_lens
from genailab.lm.models import GPT, GPTConfig, build_model

torch.set_num_threads(1)


def sharp_gpt(rotary: bool, seed: int = 0, **overrides) -> GPT:
    """A float64 GPT whose attention is far from uniform (queries and keys scaled up)."""
    torch.manual_seed(seed)
    config = dict(vocab_size=13, block_size=12, n_layer=3, n_head=2, n_embd=16, rotary=rotary)
    model = GPT(GPTConfig(**{**config, **overrides})).double().eval()
    with torch.no_grad():
        for block in model.transformer.h:
            C = block.attn.n_embd
            block.attn.c_attn.weight[: 2 * C] *= 40.0  # q and k rows: sharper softmax
    return model


def ids(B: int, T: int, seed: int = 0, V: int = 13) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


def catch_attention(model: GPT, idx: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(input, output)`` of every block's attention module during ``model(idx)``."""
    caught = []
    hooks = [
        block.attn.register_forward_hook(lambda m, args, out: caught.append((args[0], out)))
        for block in model.transformer.h
    ]
    try:
        with torch.no_grad():
            model(idx)
    finally:
        for hook in hooks:
            hook.remove()
    return caught


@pytest.mark.parametrize("rotary", [True, False])
@pytest.mark.parametrize("bias", [False, True])
def test_weights_times_values_give_each_blocks_attention_output(rotary, bias):
    model = sharp_gpt(rotary, bias=bias)
    idx = ids(3, 12)
    w = attention_maps(model, idx)  # (B, L, H, T, T)
    assert w.shape == (3, 3, 2, 12, 12) and w.dtype == torch.float64
    caught = catch_attention(model, idx)
    for layer, (block, (x, out)) in enumerate(zip(model.transformer.h, caught, strict=True)):
        attn = block.attn
        B, T, C = x.shape
        nh, hs = attn.n_head, C // attn.n_head
        v = attn.c_attn(x)[..., 2 * C :].view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        y = (w[:, layer] @ v).transpose(1, 2).reshape(B, T, C)  # heads side by side
        torch.testing.assert_close(attn.c_proj(y), out, rtol=0, atol=1e-10)


@pytest.mark.parametrize("rotary", [True, False])
def test_rows_are_causal_distributions_and_far_from_uniform(rotary):
    model = sharp_gpt(rotary)
    w = attention_maps(model, ids(1, 12)[0])  # (L, H, T, T)
    assert w.shape == (3, 2, 12, 12)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 2, 12, dtype=w.dtype), rtol=0, atol=1e-12)
    above = torch.ones(12, 12, dtype=torch.bool).triu(1)
    assert bool((w[..., above] == 0).all())  # nothing read from the future
    assert bool((w[..., ~above] > 0).all())
    assert torch.equal(w[..., 0, 0], torch.ones(3, 2, dtype=w.dtype))  # position 0 sees itself
    # sharp: the mean row entropy is well below a uniform causal row's, log(t + 1)
    entropy = -(w * w.clamp_min(1e-300).log()).sum(-1)  # (L, H, T)
    uniform = torch.log(torch.arange(1, 13, dtype=w.dtype))
    assert entropy[..., 1:].mean() < 0.6 * uniform[1:].mean()


def test_rotary_attention_depends_on_offsets_only():
    # with rotary positions and a constant input, scores depend on t - s alone, so row t is
    # the softmax over a prefix of the same offsets as row t + 1 (equal up to normalization)
    model = sharp_gpt(True)
    w = attention_maps(model, [5] * 12)[0]  # (H, T, T), first block: no earlier mixing
    ratio_now = w[:, 6, 6] / w[:, 6, 5]  # offsets 0 and 1 from position 6
    ratio_later = w[:, 9, 9] / w[:, 9, 8]  # the same offsets from position 9
    torch.testing.assert_close(ratio_now, ratio_later, rtol=1e-10, atol=0)


@pytest.mark.parametrize("rotary", [True, False])
def test_lens_after_the_last_block_is_the_models_own_prediction(rotary):
    model = sharp_gpt(rotary)
    idx = ids(2, 10, seed=3)
    lens = logit_lens(model, idx)  # (B, L+1, T, V)
    assert lens.shape == (2, 4, 10, 13) and lens.dtype == torch.float64
    with torch.no_grad():
        own = torch.log_softmax(model(idx), dim=-1)  # (B, T, V)
    torch.testing.assert_close(lens[:, -1], own, rtol=0, atol=1e-10)
    torch.testing.assert_close(lens.exp().sum(-1), torch.ones(2, 4, 10, dtype=lens.dtype))
    # the first stage reads the embeddings alone, with positions when they are learned
    tf = model.transformer
    with torch.no_grad():
        x = tf.wte(idx)  # (B, T, C)
        if not rotary:
            x = x + tf.wpe(torch.arange(10))
        first = torch.log_softmax(model.lm_head(tf.ln_f(x)), dim=-1)
    torch.testing.assert_close(lens[:, 0], first, rtol=0, atol=1e-10)
    # the stages in between differ from both ends: every block changes the prediction
    for stage in range(lens.size(1) - 1):
        assert (lens[:, stage + 1] - lens[:, stage]).abs().max() > 1e-3


def test_a_single_sequence_equals_its_row_of_a_batch():
    model = sharp_gpt(True)
    idx = ids(3, 8, seed=5)
    w, lens = attention_maps(model, idx), logit_lens(model, idx)
    for b in range(3):
        torch.testing.assert_close(attention_maps(model, idx[b]), w[b], rtol=0, atol=1e-12)
        torch.testing.assert_close(logit_lens(model, idx[b].tolist()), lens[b], rtol=0, atol=1e-12)


def test_dropout_is_off_and_the_model_is_left_as_it_was():
    model = sharp_gpt(True, dropout=0.5).train()
    idx = ids(1, 12, seed=2)[0]
    first, second = attention_maps(model, idx), attention_maps(model, idx)
    assert torch.equal(first, second)  # no dropout on the weights
    assert torch.equal(logit_lens(model, idx), logit_lens(model, idx))
    assert model.training  # back in training mode
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    torch.testing.assert_close(first.sum(-1), torch.ones(3, 2, 12, dtype=first.dtype))


def test_float32_model_gives_float32_maps_close_to_float64():
    model = sharp_gpt(True)
    idx = ids(1, 12, seed=4)[0]
    w64, lens64 = attention_maps(model, idx), logit_lens(model, idx)
    model.float()
    w32, lens32 = attention_maps(model, idx), logit_lens(model, idx)
    assert w32.dtype == lens32.dtype == torch.float32
    torch.testing.assert_close(w32.double(), w64, rtol=0, atol=1e-4)
    torch.testing.assert_close(lens32.double(), lens64, rtol=0, atol=1e-3)


def test_wrong_inputs_give_clear_errors():
    model = sharp_gpt(True)
    lstm = build_model("lstm", vocab_size=13)
    for inspect in (attention_maps, logit_lens):
        with pytest.raises(TypeError, match=r"needs a genailab\.lm GPT .*got LSTMModel"):
            inspect(lstm, [1, 2, 3])
        with pytest.raises(ValueError, match="13 tokens is longer than the model's block_size 12"):
            inspect(model, list(range(13)))
        with pytest.raises(
            ValueError, match=r"token ids must be in \[0, 13\), got ids from 0 to 13"
        ):
            inspect(model, [0, 13])
        with pytest.raises(ValueError, match=r"integer token ids, got torch\.float32"):
            inspect(model, torch.zeros(4))
        with pytest.raises(ValueError, match=r"shape \(T,\) or \(B, T\) with T >= 1"):
            inspect(model, [])
        with pytest.raises(ValueError, match=r"shape \(T,\) or \(B, T\).*got shape \(1, 2, 3\)"):
            inspect(model, torch.zeros(1, 2, 3, dtype=torch.long))


def test_uniform_attention_at_zero_queries_is_one_over_t_plus_one():
    # zero query weights: every score is 0, so row t is uniform over the t + 1 visible positions
    model = sharp_gpt(False)
    with torch.no_grad():
        for block in model.transformer.h:
            block.attn.c_attn.weight[: block.attn.n_embd] = 0.0
    w = attention_maps(model, ids(1, 6)[0])  # (L, H, T, T)
    expected = torch.ones(6, 6, dtype=w.dtype).tril() / torch.arange(1, 7, dtype=w.dtype)[:, None]
    torch.testing.assert_close(w, expected.expand_as(w), rtol=0, atol=1e-15)
    assert math.isclose(float(w[0, 0, 5, 0]), 1 / 6)
