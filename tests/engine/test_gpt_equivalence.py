"""The engine's GPT against a PyTorch nanoGPT of the same config, loaded with the same weights.

The torch model below is written the way nanoGPT's ``model.py`` is (Karpathy), with
``torch.nn.functional.scaled_dot_product_attention``; its ``state_dict`` keys are the
engine's, one for one. Both run in float64, so they must agree to rounding: logits, loss,
every parameter's gradient, and the losses of ten AdamW steps.
"""

import math
from dataclasses import asdict

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch import nn as tnn

from genailab.engine import nn
from genailab.engine.optim import AdamW, clip_grad_norm
from genailab.engine.tensor import Tensor

CONFIG = nn.GPTConfig(vocab_size=65, block_size=16, n_layer=2, n_head=2, n_embd=32)


# ---- the torch twin, nanoGPT style -----------------------------------------------------------


class TorchSelfAttention(tnn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_attn = tnn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = tnn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.n_head, self.n_embd = cfg.n_head, cfg.n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
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
        self.transformer = tnn.ModuleDict(
            dict(
                wte=tnn.Embedding(cfg.vocab_size, cfg.n_embd),
                wpe=tnn.Embedding(cfg.block_size, cfg.n_embd),
                h=tnn.ModuleList([TorchBlock(cfg) for _ in range(cfg.n_layer)]),
                ln_f=tnn.LayerNorm(cfg.n_embd, bias=cfg.bias),
            )
        )
        self.lm_head = tnn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None):
        pos = torch.arange(idx.size(1))
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
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


def test_parameter_names_and_tying_match_nanogpt():
    ours, theirs = _twins()
    assert list(ours.state_dict()) == list(theirs.state_dict())  # lm_head.weight included
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.lm_head.weight is ours.transformer.wte.weight
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    # the other direction: the engine's weights load into torch and give the same logits
    fresh = nn.GPT(CONFIG, rng=7, dtype=np.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in fresh.state_dict().items()})
    idx, _ = _batch()
    np.testing.assert_allclose(
        fresh(idx)[0].data, theirs(torch.from_numpy(idx))[0].detach().numpy(), rtol=1e-9
    )


def test_block_forward_and_input_gradient_match_torch():
    torch.manual_seed(5)
    theirs = TorchBlock(CONFIG).double()
    ours = nn.Block(CONFIG, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).normal(size=(2, 7, CONFIG.n_embd))
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert _rel(yo.data, yt.detach().numpy()) < 1e-12
    w = np.random.default_rng(6).normal(size=x.shape)
    (yo * Tensor(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    assert _rel(xo.grad, xt.grad.numpy()) < 1e-12
    for name, p in ours.named_parameters():
        assert _rel(p.grad, dict(theirs.named_parameters())[name].grad.numpy()) < 1e-10, name


def test_logits_loss_and_every_gradient_match_torch():
    ours, theirs = _twins()
    idx, targets = _batch()
    logits, loss = ours(idx, targets)
    tlogits, tloss = theirs(torch.from_numpy(idx), torch.from_numpy(targets))
    assert _rel(logits.data, tlogits.detach().numpy()) < 1e-12
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    loss.backward()
    tloss.backward()
    tgrads = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert len(names) == 4 + 12 * CONFIG.n_layer
    for name, p in ours.named_parameters():
        expected = tgrads[name].grad.numpy()
        assert np.linalg.norm(expected) > 0, name
        assert _rel(p.grad, expected) <= 1e-6, name  # in fact about 1e-13


def test_ten_adamw_steps_match_torch():
    ours, theirs = _twins(seed=3)
    idx, targets = _batch(seed=4)
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


def test_explicit_attention_path_equals_the_fused_one():
    # training with dropout takes the explicit softmax(q k^T) path; a dropout rate of 1e-12
    # (no entry is dropped, the scale is 1 + 1e-12) exercises it against the dropout-free twin
    cfg = nn.GPTConfig(**{**asdict(CONFIG), "dropout": 1e-12})
    ours = nn.GPT(cfg, rng=0, dtype=np.float64)
    _, theirs = _twins()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    idx, targets = _batch()
    _, loss = ours.train()(idx, targets)
    _, tloss = theirs(torch.from_numpy(idx), torch.from_numpy(targets))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-9)
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert _rel(p.grad, tgrads[name].grad.numpy()) <= 1e-6, name


def test_causality_future_tokens_do_not_change_past_logits():
    ours, _ = _twins()
    idx, _ = _batch()
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
    with pytest.raises(ValueError, match="multiple of n_head"):
        nn.GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="block_size 16"):
        ours(np.zeros((1, 17), dtype=int))


def test_init_follows_gpt2():
    cfg = nn.GPTConfig(vocab_size=500, block_size=64, n_layer=4, n_head=4, n_embd=128)
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
