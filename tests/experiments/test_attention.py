"""The attention video's figures against the model that genailab.lm.train makes with the same
settings: its losses, its attention maps and its logit lens, recomputed from the checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genailab.experiments.attention import frame_count, reading, train_settings
from genailab.lab import get, iterate_frames
from genailab.lm import attention_maps, load, load_corpus, logit_lens, train


@pytest.fixture(scope="module")
def cfg():
    return get("attention").config(quick=True)


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("attention", quick=True))


@pytest.fixture(scope="module")
def reference(cfg, tmp_path_factory):
    """The same training run, done directly, and the model it saved."""
    out = tmp_path_factory.mktemp("attention-reference")
    summary = train(out=out, **train_settings(cfg))
    return summary, load(out)


def test_losses_are_those_train_reports(frames, reference, cfg):
    summary, _ = reference
    final = frames[-1]
    assert final.scalars["val_loss"] == summary["val_loss"]
    assert final.scalars["train_loss"] == summary["train_loss"]
    assert final.scalars["iters"] == cfg.iters == summary["iters"]
    history = np.array([[h["iter"], h["train_loss"], h["val_loss"]] for h in summary["history"]])
    np.testing.assert_array_equal(final.arrays["history"], history)
    training = [f for f in frames if f.text["phase"] == "train"]
    assert [f.step for f in training] == [h["iter"] for h in summary["history"]]
    for frame, entry in zip(training, summary["history"], strict=True):
        assert frame.scalars["val_loss"] == entry["val_loss"]


def test_maps_and_lens_are_the_trained_models(frames, reference, cfg):
    _, lm = reference
    final = frames[-1]
    ids = final.arrays["ids"]
    assert lm.tokenizer.decode(ids) == "\n" + cfg.line
    maps = attention_maps(lm.model, ids).numpy()  # (L, H, T, T)
    np.testing.assert_allclose(final.arrays["maps"], maps, rtol=0, atol=1e-6)
    with torch.no_grad():
        own = torch.softmax(lm.model(torch.as_tensor(ids)[None]), dim=-1)[0].numpy()  # (T, V)
    probs = final.arrays["probs"]  # (L+1, V) at the last position
    np.testing.assert_allclose(probs[-1], own[-1], rtol=0, atol=1e-6)  # the model's prediction
    lens = logit_lens(lm.model, ids).exp().numpy()  # (L+1, T, V)
    np.testing.assert_allclose(probs, lens[:, -1], rtol=0, atol=1e-6)
    # the figures: how sure each stage is of the truth, over the line and at its end
    targets = final.arrays["targets"]
    stages = ["embeddings"] + [f"block{i + 1}" for i in range(cfg.n_layer)]
    p_true = lens[:, np.arange(len(ids)), targets]  # (L+1, T)
    for i, stage in enumerate(stages):
        assert final.scalars[f"p_next_{stage}"] == pytest.approx(p_true[i, -1], abs=1e-6)
        assert final.scalars[f"p_line_{stage}"] == pytest.approx(p_true[i].mean(), abs=1e-6)
    line_loss = -np.log(own[np.arange(len(ids)), targets]).mean()
    assert final.scalars["line_loss"] == pytest.approx(line_loss, abs=1e-5)


def test_every_map_is_causal_and_every_row_a_distribution(frames, cfg):
    T = len(cfg.line) + 1
    above = np.triu(np.ones((T, T), dtype=bool), 1)
    for frame in frames:
        maps = frame.arrays["maps"]
        assert maps.shape == (cfg.n_layer, cfg.n_head, T, T)
        np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
        assert np.all(maps[..., above] == 0)
        np.testing.assert_allclose(frame.arrays["probs"].sum(-1), 1.0, atol=1e-5)


def test_attention_figures(frames, cfg):
    final = frames[-1]
    maps = final.arrays["maps"].astype(np.float64)
    T = maps.shape[-1]
    for layer in range(cfg.n_layer):
        rows = maps[layer]  # (H, T, T)
        entropy = -(rows * np.log2(np.where(rows > 0, rows, 1))).sum(-1).mean()
        assert final.scalars[f"attention_entropy_bits_layer{layer + 1}"] == pytest.approx(entropy)
        assert 0 <= entropy <= np.log2(np.arange(1, T + 1)).mean() + 1e-9  # at most uniform
    back = np.maximum(np.arange(T)[:, None] - np.arange(T)[None, :], 0)  # t - s
    reach = (maps * back).sum(-1).mean(-1)  # (L, H)
    layer, head = np.unravel_index(reach.argmax(), reach.shape)
    assert (final.scalars["reach_layer"], final.scalars["reach_head"]) == (layer + 1, head + 1)
    assert final.scalars["reach_chars"] == pytest.approx(reach.max())
    reading_frames = [f for f in frames if f.text["phase"] == "read"]
    assert all(tuple(f.arrays["focus"][:2]) == (layer, head) for f in reading_frames)


def test_the_line_its_targets_and_the_video_order(frames, cfg):
    corpus = load_corpus(cfg.corpus)
    assert "\n" + cfg.line in corpus.val_text  # a line the model never trained on
    text, following = reading(cfg)
    final = frames[-1]
    assert final.text["line"] == text == "\n" + cfg.line
    ids, targets = final.arrays["ids"], final.arrays["targets"]
    np.testing.assert_array_equal(targets[:-1], ids[1:])  # each position predicts the next
    at = corpus.val_text.index(text) + len(text)
    assert following == corpus.val_text[at]
    assert final.text["vocab"][targets[-1]] == following
    assert len(frames) == frame_count(cfg)
    phases = [f.text["phase"] for f in frames]
    order = ["train", "sweep", "lens", "read"]
    assert phases == sorted(phases, key=order.index) and set(phases) == set(order)
    assert [f.poster for f in frames].index(True) == len(frames) - 1
    positions = [int(f.arrays["focus"][2]) for f in frames if f.text["phase"] == "read"]
    assert list(dict.fromkeys(positions)) == list(range(len(text)))  # every position in turn
    steps = [f.step for f in frames]
    assert steps == sorted(steps)


def test_a_line_that_is_not_in_the_corpus_has_no_known_next_character():
    frames = list(
        iterate_frames(
            "attention", quick=True, overrides={"line": "purr, purr", "iters": 10, "snapshots": 1}
        )
    )
    final = frames[-1]
    assert final.arrays["targets"][-1] == -1
    assert "p_next_embeddings" not in final.scalars
    assert np.isfinite(final.scalars["line_loss"]) and np.isfinite(final.scalars["p_line_block1"])


def test_config_is_validated():
    exp = get("attention")
    with pytest.raises(ValueError, match="more than block_size 16"):
        exp.config(overrides={"block_size": 16})
    with pytest.raises(ValueError, match=r"never uses for training: '\\x07'"):
        exp.config(overrides={"line": "cat\x07"})
    with pytest.raises(ValueError, match=r"multiple of n_head \(5\)"):
        exp.config(overrides={"n_head": 5})
    with pytest.raises(ValueError, match="line must not be empty"):
        exp.config(overrides={"line": ""})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iters": 0}, "attention: iters must be in [1, 20000], got 0"),
        ({"n_layer": 25}, "attention: n_layer must be in [1, 24], got 25"),
        ({"dropout": 1.0}, "attention: dropout must be in [0, 1), got 1.0"),
        ({"n_embd": 60, "n_head": 4}, "attention: n_embd (60) must be a multiple of n_head"),
    ],
)
def test_each_kind_of_bad_value_is_one_line(overrides, message):
    from genailab.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        get("attention").config(overrides=overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_memory_bytes_refuses_a_huge_model_and_counts_the_run_it_builds(cfg, reference, frames):
    from genailab.experiments.attention import memory_bytes
    from genailab.lm.train_memory import training_bytes
    from genailab.memory import MemoryNeedError, check_memory

    huge = get("attention").config(
        overrides={"n_layer": 24, "n_embd": 1024, "batch_size": 1024, "block_size": 1024}
    )
    assert memory_bytes(huge) > 24 * 2**30
    with pytest.raises(MemoryNeedError, match="would need about"):
        check_memory(memory_bytes(huge), "attention", available=24 * 2**30)
    summary, _ = reference
    corpus = load_corpus(cfg.corpus)
    built = training_bytes(
        "gpt", summary["model_config"], cfg.batch_size, cfg.block_size, len(corpus.text)
    )
    # each snapshot's maps (L, H, T, T) and lens (L+1, T, V), which the frames share
    maps = {id(f.arrays["maps"]): f.arrays["maps"].nbytes for f in frames}
    T, V = len(cfg.line) + 1, len(frames[-1].text["vocab"])
    held = sum(maps.values()) + len(maps) * 4 * (cfg.n_layer + 1) * T * V
    assert built + held <= memory_bytes(cfg) <= 1.1 * (built + held)
