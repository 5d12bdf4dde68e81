"""The engine's GPT against a PyTorch nanoGPT of the same config, loaded with the same weights,
and against genailab's own torch GPT (:class:`genailab.lm.models.GPT`), which shares its config.

The torch model below is written the way nanoGPT's ``model.py`` is (Karpathy), with
``torch.nn.functional.scaled_dot_product_attention``, plus rotary positions written from the
RoFormer paper's real-valued formula (Su et al. 2021); its ``state_dict`` keys are the
engine's, one for one. Both run in float64, so they must agree to rounding: logits, loss,
every parameter's gradient, and the losses of ten AdamW steps, rotary on and off.
"""

import math
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch import nn as tnn

from genailab.engine import nn
from genailab.engine.optim import AdamW, clip_grad_norm
from genailab.engine.tensor import Tensor

# biases on, so that every kind of parameter is compared; the rotary one is the default
CONFIG = nn.GPTConfig(vocab_size=65, block_size=16, n_layer=2, n_head=2, n_embd=32, bias=True)
LEARNED = replace(CONFIG, rotary=False)
BOTH = pytest.mark.parametrize("cfg", [CONFIG, LEARNED], ids=["rotary", "learned"])


# ---- the torch twin, nanoGPT style -----------------------------------------------------------


def rope(x, base):
    """RoFormer's rotation of x (B, nh, T, hs): pair (2i, 2i+1) at position m turns by
    m * base^(-2i/hs), written out as (x1 cos - x2 sin, x1 sin + x2 cos)."""
    T, hs = x.size(2), x.size(3)
    theta = base ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)  # (hs/2,)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * theta  # (T, hs/2)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (B, nh, T, hs/2)
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class TorchSelfAttention(tnn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_attn = tnn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = tnn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.n_head, self.n_embd = cfg.n_head, cfg.n_embd
        self.rotary, self.base = cfg.rotary, cfg.rope_base

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        if self.rotary:
            q, k = rope(q, self.base), rope(k, self.base)
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.c_proj(y)


class TorchMLP(tnn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = tnn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.gelu = tnn.GELU(approximate="tanh")
        self.c_proj = tnn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class TorchBlock(tnn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = TorchSelfAttention(cfg)
        self.ln_2 = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = TorchMLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(tnn.Module):
    def __init__(self, cfg):
        super().__init__()
        parts = dict(wte=tnn.Embedding(cfg.vocab_size, cfg.n_embd))
        if not cfg.rotary:
            parts["wpe"] = tnn.Embedding(cfg.block_size, cfg.n_embd)
        parts["h"] = tnn.ModuleList([TorchBlock(cfg) for _ in range(cfg.n_layer)])
        parts["ln_f"] = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.transformer = tnn.ModuleDict(parts)
        self.lm_head = tnn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None):
        x = self.transformer.wte(idx)
        if "wpe" in self.transformer:
            x = x + self.transformer.wpe(torch.arange(idx.size(1)))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        loss = TF.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


# ---- helpers ---------------------------------------------------------------------------------


def _twins(cfg=CONFIG, seed=0):
    torch.manual_seed(seed)
    theirs = TorchGPT(cfg).double()
    with torch.no_grad():  # LayerNorm gains and biases away from 1 and 0, so no term hides
        for name, p in theirs.named_parameters():
            if "ln_" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    ours = nn.GPT(cfg, rng=seed, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _batch(cfg=CONFIG, B=3, seed=1):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, cfg.vocab_size, size=(B, cfg.block_size))
    targets = rng.integers(0, cfg.vocab_size, size=(B, cfg.block_size))
    targets[0, :3] = -1  # ignored positions, as nanoGPT allows
    return idx, targets


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


# ---- the proofs ------------------------------------------------------------------------------


@BOTH
def test_parameter_names_and_tying_match_nanogpt(cfg):
    ours, theirs = _twins(cfg)
    assert ("transformer.wpe.weight" in ours.state_dict()) is not cfg.rotary
    assert list(ours.state_dict()) == list(theirs.state_dict())  # lm_head.weight included
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.lm_head.weight is ours.transformer.wte.weight
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    # the other direction: the engine's weights load into torch and give the same logits
    fresh = nn.GPT(cfg, rng=7, dtype=np.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in fresh.state_dict().items()})
    idx, _ = _batch(cfg)
    np.testing.assert_allclose(
        fresh(idx)[0].data, theirs(torch.from_numpy(idx))[0].detach().numpy(), rtol=1e-9
    )


@BOTH
def test_block_forward_and_input_gradient_match_torch(cfg):
    from genailab.engine import functional as F

    torch.manual_seed(5)
    theirs = TorchBlock(cfg).double()
    ours = nn.Block(cfg, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).normal(size=(2, 7, cfg.n_embd))
    hs = cfg.n_embd // cfg.n_head
    rope = F.rotary_angles(hs, 7, cfg.rope_base, dtype=np.float64) if cfg.rotary else None
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo, rope), theirs(xt)
    assert _rel(yo.data, yt.detach().numpy()) < 1e-12
    w = np.random.default_rng(6).normal(size=x.shape)
    (yo * Tensor(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    assert _rel(xo.grad, xt.grad.numpy()) < 1e-12
    for name, p in ours.named_parameters():
        assert _rel(p.grad, dict(theirs.named_parameters())[name].grad.numpy()) < 1e-10, name


@BOTH
def test_logits_loss_and_every_gradient_match_torch(cfg):
    ours, theirs = _twins(cfg)
    idx, targets = _batch(cfg)
    logits, loss = ours(idx, targets)
    tlogits, tloss = theirs(torch.from_numpy(idx), torch.from_numpy(targets))
    assert _rel(logits.data, tlogits.detach().numpy()) < 1e-12
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    loss.backward()
    tloss.backward()
    tgrads = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert len(names) == (3 if cfg.rotary else 4) + 12 * cfg.n_layer  # wte, (wpe), ln_f x2
    for name, p in ours.named_parameters():
        expected = tgrads[name].grad.numpy()
        assert np.linalg.norm(expected) > 0, name
        assert _rel(p.grad, expected) <= 1e-6, name  # in fact about 1e-13


@BOTH
def test_ten_adamw_steps_match_torch(cfg):
    ours, theirs = _twins(cfg, seed=3)
    idx, targets = _batch(cfg, seed=4)
    kw = dict(lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    opt = AdamW(ours.optim_groups(kw["weight_decay"]), **kw)
    tparams = list(theirs.parameters())
    topt = torch.optim.AdamW(
        [
            {"params": [p for p in tparams if p.dim() >= 2]},
            {"params": [p for p in tparams if p.dim() < 2], "weight_decay": 0.0},
        ],
        **kw,
    )
    ti, tt = torch.from_numpy(idx), torch.from_numpy(targets)
    losses, tlosses = [], []
    for _ in range(10):
        _, loss = ours(idx, targets)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm(ours.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        _, tloss = theirs(ti, tt)
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        topt.step()
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-9)
    assert losses[-1] < losses[0] - 0.1  # it learned the batch
    final, tfinal = ours(idx, targets)[1].item(), theirs(ti, tt)[1].item()
    assert final == pytest.approx(tfinal, rel=1e-9)


@BOTH
def test_explicit_attention_path_equals_the_fused_one(cfg):
    # training with dropout takes the explicit softmax(q k^T) path; a dropout rate of 1e-12
    # (no entry is dropped, the scale is 1 + 1e-12) exercises it against the dropout-free twin
    ours = nn.GPT(replace(cfg, dropout=1e-12), rng=0, dtype=np.float64)
    _, theirs = _twins(cfg)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    idx, targets = _batch(cfg)
    _, loss = ours.train()(idx, targets)
    _, tloss = theirs(torch.from_numpy(idx), torch.from_numpy(targets))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-9)
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert _rel(p.grad, tgrads[name].grad.numpy()) <= 1e-6, name


@BOTH
def test_causality_future_tokens_do_not_change_past_logits(cfg):
    ours, _ = _twins(cfg)
    idx, _ = _batch(cfg)
    changed = idx.copy()
    changed[:, 10:] = (changed[:, 10:] + 1) % CONFIG.vocab_size
    a, b = ours(idx)[0].data, ours(changed)[0].data
    np.testing.assert_array_equal(a[:, :10], b[:, :10])
    assert not np.allclose(a[:, 10:], b[:, 10:])


def test_config_checkpoint_rebuilds_the_model_and_validates():
    ours, _ = _twins()
    checkpoint = {"config": asdict(ours.config), "model": ours.state_dict()}
    rebuilt = nn.GPT(nn.GPTConfig(**checkpoint["config"]), dtype=np.float64)
    rebuilt.load_state_dict(checkpoint["model"])
    idx, _ = _batch()
    np.testing.assert_array_equal(rebuilt(idx)[0].data, ours(idx)[0].data)
    with pytest.raises(ValueError, match="block_size 16"):
        ours(np.zeros((1, 17), dtype=int))


def test_init_follows_gpt2():
    cfg = nn.GPTConfig(vocab_size=500, block_size=64, n_layer=4, n_head=4, n_embd=128, bias=True)
    model = nn.GPT(cfg, rng=0)
    params = dict(model.named_parameters())
    assert np.std(params["transformer.wte.weight"].data) == pytest.approx(0.02, rel=0.02)
    proj = params["transformer.h.0.attn.c_proj.weight"].data
    assert np.std(proj) == pytest.approx(0.02 / math.sqrt(2 * 4), rel=0.05)
    assert np.all(params["transformer.h.0.mlp.c_fc.bias"].data == 0)
    assert np.all(params["transformer.ln_f.weight"].data == 1)


def test_generate_appends_tokens_within_vocab_and_respects_top_k():
    ours, _ = _twins()
    idx, _ = _batch()
    out = ours.generate(idx[:, :4], max_new_tokens=20, rng=0)  # runs past block_size 16
    assert out.shape == (3, 24)
    np.testing.assert_array_equal(out[:, :4], idx[:, :4])
    assert out.min() >= 0 and out.max() < CONFIG.vocab_size
    greedy = ours.generate(idx[:, :4], max_new_tokens=1, top_k=1, rng=0)
    expected = ours(idx[:, :4])[0].data[:, -1].argmax(axis=-1)
    np.testing.assert_array_equal(greedy[:, -1], expected)


# ---- the engine's GPT and genailab's torch GPT: one config, one model -----------------------


def _engine_and_lm(cfg, seed=0):
    """genailab.lm's torch GPT and the engine's GPT with its weights, both in float64."""
    from genailab.lm.models import GPT as TorchLMGPT

    torch.manual_seed(seed)
    theirs = TorchLMGPT(cfg).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "ln_" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    ours = nn.GPT(cfg, rng=seed, dtype=np.float64)
    state = theirs.state_dict()
    assert set(ours.state_dict()) == set(state)  # the same names, key for key
    ours.load_state_dict({k: v.detach().numpy() for k, v in state.items()})
    return ours, theirs


@BOTH
@pytest.mark.parametrize("bias", [True, False])
def test_the_engine_gpt_is_genailabs_torch_gpt(cfg, bias):
    cfg = replace(cfg, bias=bias)
    ours, theirs = _engine_and_lm(cfg)
    idx, targets = _batch(cfg)
    logits, loss = ours(idx, targets)
    tidx, ttargets = torch.from_numpy(idx), torch.from_numpy(targets)
    tlogits = theirs(tidx)
    tloss = TF.cross_entropy(tlogits.flatten(0, 1), ttargets.flatten(), ignore_index=-1)
    assert _rel(logits.data, tlogits.detach().numpy()) < 1e-12
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    loss.backward()
    tloss.backward()
    tgrads = dict(theirs.named_parameters())
    assert sorted(n for n, _ in ours.named_parameters()) == sorted(tgrads)
    for name, p in ours.named_parameters():
        expected = tgrads[name].grad.numpy()
        assert np.linalg.norm(expected) > 0, name
        assert _rel(p.grad, expected) <= 1e-10, name


def test_rotary_scores_depend_on_the_offset_only():
    """<R_m q, R_n k> = <q, R_(n-m) k>: shifting both positions keeps the score."""
    from genailab.engine import functional as F

    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(1, 1, 16, 8)), rng.normal(size=(1, 1, 16, 8))
    cos, sin = F.rotary_angles(8, 16, dtype=np.float64)
    same_q = np.repeat(q[:, :, :1], 16, axis=2)  # one query vector at every position
    same_k = np.repeat(k[:, :, :1], 16, axis=2)  # one key vector at every position
    rq = F.rotary_embedding(Tensor(same_q), cos, sin).data[0, 0]  # (T, hs)
    rk = F.rotary_embedding(Tensor(same_k), cos, sin).data[0, 0]
    scores = rq @ rk.T  # (T, T) score of query position m against key position n
    for offset in (-5, 0, 3):
        diagonal = np.diagonal(scores, offset=offset)
        np.testing.assert_allclose(diagonal, diagonal[0], rtol=1e-12)
    assert not np.allclose(np.diagonal(scores, 0)[0], np.diagonal(scores, 3)[0])


def test_one_config_for_both_models_with_the_same_defaults_and_errors():
    from genailab.errors import ConfigError
    from genailab.lm.models import GPT as TorchLMGPT
    from genailab.lm.models import GPTConfig, build_model

    assert GPTConfig is nn.GPTConfig
    engine, torch_gpt = nn.GPT(nn.GPTConfig(), rng=0), TorchLMGPT(GPTConfig())
    assert engine.config == torch_gpt.config
    assert engine.num_parameters() == torch_gpt.num_parameters()
    bad = [
        (dict(n_embd=30, n_head=4), "GPTConfig: n_embd (30) must be a multiple of n_head (4)"),
        (dict(n_embd=20, n_head=4), "GPTConfig: rotary embeddings need an even head size"),
        (dict(n_layer=0), "GPTConfig: n_layer must be in [1, 1024], got 0"),
        (dict(dropout=1.0), "GPTConfig: dropout must be in [0, 1), got 1.0"),
        (dict(rotary="yes"), "GPTConfig: rotary must be true or false, got 'yes'"),
    ]
    for values, message in bad:
        with pytest.raises(ConfigError) as engine_error:
            nn.GPT(nn.GPTConfig(**values))
        with pytest.raises(ConfigError) as torch_error:
            build_model("gpt", 65, **values)
        assert str(engine_error.value) == str(torch_error.value), values
        assert str(engine_error.value).startswith(message), str(engine_error.value)
    nn.GPTConfig(n_embd=20, n_head=4, rotary=False)  # learned positions take any head size
