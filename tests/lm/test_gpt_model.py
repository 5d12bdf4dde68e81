"""The torch GPT: the KV cache, the engine's GPT as a reference, and rotary positions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genailab.engine import nn as enn
from genailab.errors import ConfigError
from genailab.lm.models import GPT, GPTConfig, build_model
from genailab.lm.models.gpt import KVCache, Rotary

torch.set_num_threads(1)


def small_gpt(seed: int = 0, **overrides) -> GPT:
    torch.manual_seed(seed)
    config = dict(vocab_size=13, block_size=12, n_layer=2, n_head=2, n_embd=16)
    return GPT(GPTConfig(**{**config, **overrides})).eval()


def ids(B: int, T: int, seed: int = 0, V: int = 13) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


# ---- the KV cache ----------------------------------------------------------------------------


@pytest.mark.parametrize("rotary", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kv_cache_generates_the_same_tokens_as_the_full_context(rotary, dtype):
    model = small_gpt(rotary=rotary).to(dtype)
    prompt = ids(3, 4)
    for seed in range(3):
        # 20 new tokens: past block_size 12, so the sliding window is covered too
        kw = dict(max_new_tokens=20, top_k=8, temperature=1.3)
        cached = model.generate(prompt, generator=torch.Generator().manual_seed(seed), **kw)
        full = model.generate(
            prompt, generator=torch.Generator().manual_seed(seed), use_cache=False, **kw
        )
        assert cached.shape == (3, 24)
        assert torch.equal(cached, full)


@pytest.mark.parametrize("rotary", [True, False])
def test_cached_logits_match_the_full_forward_position_by_position(rotary):
    model = small_gpt(rotary=rotary).double()
    idx = ids(2, 10)
    full = model(idx)  # (B, T, V)
    cache = [KVCache() for _ in model.transformer.h]
    parts = [model(idx[:, :4], cache), model(idx[:, 4:5], cache), model(idx[:, 5:10], cache)]
    assert len(cache[0]) == 10
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="length 13 is longer than block_size 12"):
        model(idx[:, :3], cache)


# ---- the engine's GPT as a reference ---------------------------------------------------------


@pytest.mark.parametrize("rotary", [True, False])
def test_loads_the_engine_gpt_state_dict_and_agrees_in_float64(rotary):
    config = GPTConfig(vocab_size=17, block_size=10, n_layer=2, n_head=2, n_embd=16, bias=True,
                       rotary=rotary)  # fmt: skip
    engine = enn.GPT(config, rng=0, dtype=np.float64)
    model = GPT(config).double().eval()
    state = {k: torch.from_numpy(v) for k, v in engine.state_dict().items()}
    assert set(state) == set(model.state_dict())  # nanoGPT's names, key for key
    model.load_state_dict(state)
    idx = ids(3, 10, V=17)
    expected, loss = engine(idx.numpy(), targets=idx.roll(-1, 1).numpy())
    logits = model(idx)
    np.testing.assert_allclose(logits.detach().numpy(), expected.data, rtol=0, atol=1e-9)
    assert model.loss(idx, idx.roll(-1, 1)).item() == pytest.approx(loss.item(), abs=1e-9)
    assert model.lm_head.weight is model.transformer.wte.weight  # tied


def test_no_bias_and_rotary_change_the_parameter_names_as_documented():
    keys = set(small_gpt(bias=False, rotary=True).state_dict())
    assert "transformer.wpe.weight" not in keys
    assert not any(k.endswith(".bias") for k in keys)
    assert not any("rope" in k for k in keys)  # rotary angles are rebuilt, never saved


def test_gpt2_initialization_scales_the_residual_projections():
    model = build_model("gpt", 65, n_layer=8, n_embd=256, n_head=4)
    std = {n: p.std().item() for n, p in model.named_parameters() if p.dim() == 2}
    assert std["transformer.wte.weight"] == pytest.approx(0.02, rel=0.05)
    assert std["transformer.h.0.attn.c_attn.weight"] == pytest.approx(0.02, rel=0.05)
    assert std["transformer.h.3.mlp.c_proj.weight"] == pytest.approx(0.02 / 4, rel=0.05)
    assert std["transformer.h.3.attn.c_proj.weight"] == pytest.approx(0.02 / 4, rel=0.05)


def test_default_config_parameter_count():
    # 4 blocks of 12 C^2 + 2 LayerNorm gains, the final gain, the tied (V, C) embedding
    C = 128
    assert build_model("gpt", 65).num_parameters() == 4 * (12 * C * C + 2 * C) + C + 65 * C


# ---- rotary positions ------------------------------------------------------------------------


def test_rotary_scores_depend_only_on_the_offset_between_positions():
    hs, T = 8, 12
    rope = Rotary(hs, T).double()
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(hs, generator=g, dtype=torch.float64), torch.randn(hs, dtype=torch.float64)
    Q = rope(q.expand(1, T, 1, hs))[0, :, 0]  # (T, hs) the same query at every position
    K = rope(k.expand(1, T, 1, hs))[0, :, 0]  # (T, hs) the same key at every position
    scores = Q @ K.T  # (T, T) score of position m against n
    for offset in range(-T + 1, T):
        diagonal = torch.diagonal(scores, offset=offset)
        torch.testing.assert_close(diagonal, diagonal[:1].expand_as(diagonal), rtol=0, atol=1e-12)
    assert not torch.allclose(scores[0, 0], scores[0, 1])  # yet the offset matters
    assert torch.allclose(Q[0], q) and torch.allclose(K[0], k)  # position 0 is not rotated


def test_rotary_start_continues_the_positions():
    rope = Rotary(4, 8).double()
    x = torch.randn(2, 8, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(rope(x[:, 5:7], start=5), rope(x)[:, 5:7], rtol=0, atol=0)


def test_rotary_needs_an_even_head_size():
    with pytest.raises(ConfigError, match="even head size, got n_embd // n_head = 5"):
        GPTConfig(n_embd=20, n_head=4)
    GPTConfig(n_embd=20, n_head=4, rotary=False)  # learned positions take any head size


def test_dropout_is_active_in_training_only():
    model = small_gpt(dropout=0.5)
    idx = ids(2, 8)
    torch.testing.assert_close(model(idx), model(idx), rtol=0, atol=0)
    model.train()
    assert not torch.equal(model(idx), model(idx))


def test_training_a_few_steps_lowers_the_loss():
    model = small_gpt().train()
    x = (torch.arange(8)[:, None] * 3 + torch.arange(12)) % 13  # (B, T) counting mod 13
    y = (x + 1) % 13  # the next token is always the next number
    opt = torch.optim.AdamW(model.optim_groups(0.1), lr=1e-2)
    first = model.loss(x, y).item()
    for _ in range(40):
        loss = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
