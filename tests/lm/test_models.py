"""Every language model against one contract: shapes, causality, the loss, sampling, configs.

The conformance tests run over all of ``MODELS``; the bigram is also checked against its
closed form (smoothed pair counts, and the bigram cross-entropy of a text).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genailab.device import DeviceUnavailableError, available_devices, resolve_device
from genailab.errors import ConfigError, GenailabError, UnknownNameError
from genailab.lm import load_corpus
from genailab.lm.models import MODELS, build_model, model_from_config

torch.set_num_threads(1)

V, BLOCK = 11, 16
SMALL = {  # small but non-trivial sizes, so each test takes milliseconds
    "bigram": {},
    "mlp": dict(context=3, n_embd=8, n_hidden=32, n_layer=2),
    "cnn": dict(n_embd=16, n_layer=3),
    "lstm": dict(n_embd=16, n_hidden=32, n_layer=2),
    "gpt": dict(n_layer=2, n_head=2, n_embd=16),
}


def make(name: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    model = build_model(name, V, block_size=BLOCK, **{**SMALL[name], **overrides})
    if model.count_based:  # an untrained table is uniform; fit it to random text
        model.fit_counts(np.random.default_rng(seed).integers(0, V, 500))
    return model.eval()


def random_ids(B: int, T: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


# ---- conformance: every model --------------------------------------------------------------


def test_models_are_the_five_of_the_ladder():
    assert MODELS == ("bigram", "mlp", "cnn", "lstm", "gpt")


@pytest.mark.parametrize("name", MODELS)
def test_forward_gives_next_token_logits_per_position(name):
    model = make(name)
    for T in (1, 5, BLOCK):
        logits = model(random_ids(3, T))
        assert logits.shape == (3, T, V)
        assert torch.isfinite(logits).all()
    with pytest.raises(ValueError, match="longer than block_size 16"):
        model(random_ids(1, BLOCK + 1))


@pytest.mark.parametrize("name", MODELS)
def test_causal_logits_at_t_ignore_every_later_token(name):
    model = make(name)
    idx = random_ids(2, BLOCK)
    logits = model(idx)
    for t in (0, 3, BLOCK - 2):
        changed = idx.clone()
        changed[:, t + 1 :] = (idx[:, t + 1 :] + 1 + random_ids(2, BLOCK - t - 1, 1) % (V - 1)) % V
        assert (changed[:, t + 1 :] != idx[:, t + 1 :]).all()
        other = model(changed)
        assert torch.equal(other[:, : t + 1], logits[:, : t + 1])  # exactly, not approximately
        assert not torch.allclose(other[:, t + 1], logits[:, t + 1])  # the next one does move


@pytest.mark.parametrize("name", MODELS)
def test_loss_is_mean_cross_entropy_skipping_minus_one(name):
    model = make(name)
    idx, targets = random_ids(3, 9), random_ids(3, 9, seed=1)
    targets[0, :4] = -1
    targets[2, 8] = -1
    logits = model(idx).double()
    log_p = logits.log_softmax(dim=-1)  # (B, T, V)
    keep = targets != -1
    reference = -log_p[keep].gather(1, targets[keep][:, None]).mean()  # by hand
    loss = model.loss(idx, targets)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-5)
    assert loss.item() == pytest.approx(
        F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1).item(), rel=1e-5
    )


@pytest.mark.parametrize("name", MODELS)
def test_generate_appends_tokens_deterministically_for_a_seed(name):
    model = make(name)
    prompt = random_ids(2, 3)

    def sample(seed, **kw):
        return model.generate(prompt, 25, generator=torch.Generator().manual_seed(seed), **kw)

    out = sample(0)
    assert out.shape == (2, 3 + 25)
    assert torch.equal(out[:, :3], prompt)
    assert ((out >= 0) & (out < V)).all()
    assert torch.equal(sample(0), out)
    assert not torch.equal(sample(1), out)
    greedy = sample(0, temperature=0)
    assert torch.equal(greedy, sample(7, temperature=0))  # no randomness in greedy decoding
    if name != "bigram":  # (equal pair counts tie; top_k keeps every tied token)
        assert torch.equal(sample(3, top_k=1), greedy)  # top_k=1 is greedy too
    # a context longer than block_size is cropped
    long = model.generate(random_ids(1, BLOCK + 4), 3, generator=torch.Generator().manual_seed(0))
    assert long.shape == (1, BLOCK + 7)


@pytest.mark.parametrize("name", MODELS)
def test_generate_restores_training_mode(name):
    model = make(name).train()
    model.generate(random_ids(1, 2), 2)
    assert model.training


@pytest.mark.parametrize("name", MODELS)
def test_config_dict_round_trip_rebuilds_the_same_model(name):
    model = make(name, seed=0)
    saved = json.loads(json.dumps(model.config_dict()))  # what a checkpoint stores
    assert saved["model"] == name and saved["vocab_size"] == V and saved["block_size"] == BLOCK
    torch.manual_seed(123)  # a different initialization, overwritten by the state dict
    twin = model_from_config(saved).eval()
    assert type(twin) is type(model) and twin.config == model.config
    idx = random_ids(2, BLOCK)
    if name != "bigram":
        assert not torch.equal(twin(idx), model(idx))
    twin.load_state_dict(model.state_dict())
    assert torch.equal(twin(idx), model(idx))
    assert twin.num_parameters() == model.num_parameters() > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(max_new_tokens=-1), "max_new_tokens must be an integer >= 0, got -1"),
        (dict(max_new_tokens=2, temperature=-0.5), "temperature must be a number >= 0"),
        (dict(max_new_tokens=2, top_k=0), "top_k must be None or an integer >= 1, got 0"),
    ],
)
def test_generate_rejects_bad_sampling_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make("mlp").generate(random_ids(1, 2), **kwargs)


# ---- names and settings ----------------------------------------------------------------------


def test_unknown_model_name_lists_the_models_and_suggests_one():
    with pytest.raises(UnknownNameError, match=r"unknown model 'lstn'; did you mean 'lstm'\?") as e:
        build_model("lstn", V)
    assert "bigram, mlp, cnn, lstm, gpt" in str(e.value)
    assert isinstance(e.value, GenailabError)


def test_unknown_override_names_the_key_and_the_accepted_ones():
    with pytest.raises(ConfigError, match=r"unknown cnn setting 'kernel'; did you mean") as e:
        build_model("cnn", V, kernel=3)
    assert "kernel_size" in str(e.value)


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("mlp", dict(context=0), "MLPConfig.context must be an integer >= 1, got 0"),
        ("lstm", dict(dropout=1.0), r"LSTMConfig.dropout must be a number in \[0.0, 1.0\)"),
        ("cnn", dict(n_layer="3"), "CNNConfig.n_layer must be an integer >= 1, got '3'"),
        ("bigram", dict(alpha=-1.0), r"BigramConfig.alpha must be a number in \[0.0, inf\)"),
        ("gpt", dict(rotary="yes"), "GPTConfig: rotary must be true or false, got 'yes'"),
    ],
)
def test_bad_setting_values_raise_one_line_config_errors(name, overrides, message):
    with pytest.raises(ConfigError, match=message) as e:
        build_model(name, V, **overrides)
    assert "\n" not in str(e.value)


def test_model_from_config_rejects_a_dict_without_a_model():
    with pytest.raises(ConfigError, match="'model' and 'vocab_size'"):
        model_from_config({"n_layer": 2})


# ---- the bigram: closed forms ----------------------------------------------------------------


def test_fit_counts_sets_smoothed_log_frequencies():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 7, 400)
    ids[ids == 6] = 5  # token 6 never occurs: its row stays uniform, its column is alpha only
    alpha = 0.5
    model = build_model("bigram", 7, alpha=alpha).fit_counts(ids)
    counts = np.zeros((7, 7))
    for a, b in itertools.pairwise(ids):  # count by hand, pair by pair
        counts[a, b] += 1
    expected = np.log((counts + alpha) / (counts.sum(1, keepdims=True) + alpha * 7))
    np.testing.assert_array_equal(model.counts_, counts)
    np.testing.assert_allclose(model.table.detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(model.table.detach().exp().sum(1).numpy(), 1.0, rtol=1e-6)
    assert model.table[6].detach().exp().numpy() == pytest.approx(np.full(7, 1 / 7))


def test_bigram_loss_is_the_closed_form_cross_entropy_of_the_text():
    from genailab.lm import CharTokenizer

    corpus = load_corpus("cats")
    tok = CharTokenizer.fit(corpus.text)
    train, val = tok.encode(corpus.train_text), tok.encode(corpus.val_text)
    model = build_model("bigram", tok.vocab_size, block_size=256).fit_counts(train)
    counts = np.bincount(train[:-1] * tok.vocab_size + train[1:], minlength=tok.vocab_size**2)
    counts = counts.reshape(tok.vocab_size, tok.vocab_size) + 1.0  # alpha = 1
    p = counts / counts.sum(1, keepdims=True)
    closed_form = -np.mean(np.log(p[val[:-1], val[1:]]))
    n = (len(val) - 1) // 256 * 256
    x = torch.from_numpy(val[:n]).view(-1, 256)
    y = torch.from_numpy(val[1 : n + 1]).view(-1, 256)
    windows = -np.mean(np.log(p[val[:n], val[1 : n + 1]]))
    assert model.loss(x, y).item() == pytest.approx(windows, rel=1e-5)
    assert 1.5 < closed_form < math.log(tok.vocab_size)  # better than uniform, as a bigram is
    assert windows == pytest.approx(closed_form, abs=0.05)


def test_fit_counts_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\), got \[0, 5\]"):
        build_model("bigram", 3).fit_counts(np.array([0, 1, 5]))


# ---- devices -----------------------------------------------------------------------------------


def test_resolve_device_auto_picks_the_best_available():
    expected = "cuda" if torch.cuda.is_available() else available_devices()[0]
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without cuda")
def test_resolve_device_names_what_is_available_when_cuda_is_not():
    assert resolve_device("auto") == torch.device(available_devices()[0])
    with pytest.raises(DeviceUnavailableError, match="device 'cuda' is not available") as e:
        resolve_device("cuda")
    assert isinstance(e.value, GenailabError)
    assert "available: auto, " in str(e.value) and "cpu" in str(e.value)


def test_resolve_device_rejects_unknown_names():
    with pytest.raises(UnknownNameError, match=r"unknown device 'cdua'; did you mean 'cuda'\?"):
        resolve_device("cdua")
    with pytest.raises(UnknownNameError, match="accepted: auto, cpu, cuda, mps"):
        resolve_device("tpu")
