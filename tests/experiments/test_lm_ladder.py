"""The lm-ladder video's figures: its curves are what genailab.lm.train reports for the same
settings, the bigram's loss is the count model's cross-entropy computed in numpy, every model
beats the uniform guess, and the sampled lines depend on the seed alone."""

import math

import numpy as np
import pytest
import torch

from genailab.errors import ConfigError
from genailab.experiments.lm_ladder import (
    CLAIMS,
    LADDER,
    caption,
    evaluation_steps,
    frame_count,
    sample_line,
    train_settings,
)
from genailab.lab import get, iterate_frames
from genailab.lm import CharTokenizer, load, load_corpus, train
from genailab.lm.train_loop import get_batch


@pytest.fixture(scope="module")
def cfg():
    return get("lm-ladder").config(quick=True)


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("lm-ladder", quick=True))


@pytest.fixture(scope="module")
def runs(cfg, tmp_path_factory):
    """Each model trained by genailab.lm.train alone, with the experiment's settings."""
    out = {}
    for model in LADDER:
        folder = tmp_path_factory.mktemp(model)
        out[model] = (train(out=folder, **train_settings(cfg, model)), folder)
    return out


def test_the_frames_replay_the_evaluations_in_lockstep(cfg, frames):
    steps = evaluation_steps(cfg)
    assert steps[0] == 0 and steps[-1] == cfg.iters
    assert len(frames) == frame_count(cfg) == len(steps) + cfg.hold
    assert [f.step for f in frames[: len(steps)]] == steps
    assert [f.poster for f in frames] == [False] * (len(frames) - 1) + [True]
    assert {f.text["stage"] for f in frames[len(steps) - 1 :]} == {"table"}
    for k, frame in enumerate(frames[: len(steps)]):
        val = frame.arrays["val"]  # (M, k + 1)
        assert val.shape == (len(LADDER), k + 1)
        assert list(frame.arrays["iters"]) == steps[: k + 1]
        for m, model in enumerate(LADDER):
            assert frame.scalars[f"val_{model}"] == val[m, -1]
            assert frame.text[f"line_{model}"].startswith(cfg.prompt)
    bigram = frames[-1].arrays["val"][0]
    assert np.all(bigram == bigram[0])  # counted once: a flat line from step 0


def test_the_quick_preset_tells_the_full_ones_story(cfg, frames):
    """The headline claims hold on the quick preset, with margin: the networks pass the bigram
    clearly and the whole-window models pass the MLP (40 steps once left the GPT worst)."""
    final = frames[-1].scalars
    for claim in CLAIMS:
        assert claim.evaluate(final)["met"], claim.expr
    assert final["val_gpt"] < final["val_bigram"] - 0.3
    assert final["val_mlp"] < final["val_bigram"] - 0.2
    assert max(final[f"val_{m}"] for m in ("cnn", "lstm", "gpt")) < final["val_mlp"] - 0.05
    assert (final["steps"], final["block_size"]) == (cfg.iters, cfg.block_size)


def test_the_captions_follow_the_phases_of_training(cfg, frames):
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == len(set(stretches)) == 4  # each message once, in order
    assert all(c and len(c) <= 90 for c in stretches)
    assert stretches[-1] == caption(cfg.iters, cfg.iters, table=True)
    assert {f.caption for f in frames if f.text["stage"] == "table"} == {stretches[-1]}
    assert frames[0].caption == caption(0, cfg.iters, table=False) != stretches[-1]


def test_the_curves_are_what_train_reports(frames, runs):
    final = frames[-1]
    for m, model in enumerate(LADDER):
        summary, _ = runs[model]
        history = summary["history"]
        assert final.scalars[f"val_{model}"] == pytest.approx(summary["val_loss"], rel=1e-9)
        assert final.scalars[f"train_{model}"] == pytest.approx(summary["train_loss"], rel=1e-9)
        assert final.scalars[f"params_{model}"] == summary["num_parameters"]
        assert final.arrays["params"][m] == summary["num_parameters"]
        if model == "bigram":
            assert summary["iters"] == 0 and len(history) == 1
        else:
            np.testing.assert_allclose(
                final.arrays["val"][m], [h["val_loss"] for h in history], rtol=1e-9
            )
            np.testing.assert_allclose(
                final.arrays["train"][m], [h["train_loss"] for h in history], rtol=1e-9
            )
    # the same settings for every rung but the model's own sizes
    settings = [train_settings(get("lm-ladder").config(quick=True), m) for m in LADDER]
    shared = ("block_size", "batch_size", "lr", "min_lr", "warmup_iters", "eval_interval")
    for key in shared:
        assert len({s["overrides"][key] for s in settings}) == 1, key
    assert len({s["max_iters"] for s in settings}) == 1


def test_the_bigram_loss_is_the_count_models_cross_entropy(cfg, frames):
    corpus = load_corpus(cfg.corpus)
    tok = CharTokenizer.fit(corpus.train_text)
    V = tok.vocab_size
    train_ids, val_ids = tok.encode(corpus.train_text), tok.encode(corpus.val_text)
    counts = np.zeros((V, V))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)  # count(a, b)
    alpha = 1.0  # BigramConfig's add-one smoothing
    log_p = np.log((counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * V))  # (V, V)
    # the evaluation windows of lm.train: eval_iters batches drawn from a generator seeded
    # with seed + 1, the same for every model
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    losses = []
    for _ in range(cfg.eval_iters):
        x, y = get_batch(torch.from_numpy(val_ids), cfg.block_size, cfg.batch_size, gen)
        losses.append(-log_p[x.numpy(), y.numpy()].mean())
    assert frames[-1].scalars["val_bigram"] == pytest.approx(np.mean(losses), rel=1e-5)
    # the windows cover the validation text well: close to its exact cross-entropy
    exact = -log_p[val_ids[:-1], val_ids[1:]].mean()
    assert frames[-1].scalars["val_bigram"] == pytest.approx(exact, abs=0.1)


def test_every_model_beats_the_uniform_guess(frames):
    final = frames[-1].scalars
    assert final["uniform"] == pytest.approx(math.log(59))  # the cats corpus: 59 characters
    for model in LADDER:
        assert final[f"val_{model}"] < final["uniform"] - 0.5, model
        first = frames[0].scalars[f"val_{model}"]
        if model != "bigram":  # an untrained network guesses nearly uniformly
            assert first == pytest.approx(final["uniform"], abs=0.25), model
            assert final[f"val_{model}"] < first - 0.5, model


def test_the_sampled_lines_depend_on_the_seed_alone(cfg, frames, runs):
    """Two separate trainings (the video's and train()'s) write the same line for the seed."""
    final = frames[-1].text
    for model in LADDER:
        trained = load(runs[model][1])  # the final checkpoint of the separate run
        line = sample_line(trained, cfg)
        assert line == final[f"line_{model}"], model
        assert sample_line(trained, cfg) == line
        other = get("lm-ladder").config(quick=True, seed=cfg.seed + 1)
        assert sample_line(trained, other) != line, model
        assert "\n" not in line and len(line) <= len(cfg.prompt) + 3 * cfg.sample_chars


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iters": 0}, "lm-ladder: iters must be in [1, 20000], got 0"),
        ({"iters": 20001}, "lm-ladder: iters must be in [1, 20000], got 20001"),
        ({"lr": 0}, "lm-ladder: lr must be in (0, 1], got 0"),
        ({"device": "tpu"}, "lm-ladder: device must be one of cpu, auto, cuda, mps; got 'tpu'"),
        ({"prompt": "The\ncat"}, "lm-ladder: prompt must be one line, got 'The\\ncat'"),
        ({"prompt": ""}, "lm-ladder: prompt must not be empty"),
        ({"block_size": 4, "prompt": "The cat"}, "lm-ladder: prompt has 7 characters, more than"),
    ],
)
def test_bad_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError) as err:
        get("lm-ladder").config(quick=True, overrides=overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_the_three_language_model_videos_train_by_the_same_rules():
    """One set of training settings (experiments/_lm_training.py) behind the three videos."""
    from genailab.experiments import attention, cat_poems, lm_ladder

    runs = {
        "lm-ladder": lm_ladder.train_settings(get("lm-ladder").config(), "gpt"),
        "attention": attention.train_settings(get("attention").config()),
        "cat-poems": cat_poems.train_settings(get("cat-poems").config()),
    }
    for name, args in runs.items():
        cfg = get(name).config()
        o = args["overrides"]
        assert (args["device"], args["preset"], args["progress"]) == ("cpu", "cpu", False), name
        assert o["warmup_iters"] == min(50, cfg.iters // 10), name
        assert o["min_lr"] == pytest.approx(cfg.lr / 10), name
        assert (o["weight_decay"], o["beta1"], o["beta2"], o["grad_clip"]) == (0.1, 0.9, 0.99, 1.0)
        assert (o["threads"], o["rotary"], args["max_iters"]) == (1, True, cfg.iters), name
    overrides = {"device": "auto", "threads": 0, "warmup_iters": 7}
    moved = attention.train_settings(get("attention").config(overrides=overrides))
    assert (moved["device"], moved["overrides"]["threads"]) == ("auto", 0)
    assert moved["overrides"]["warmup_iters"] == 7


def test_memory_bytes_refuses_a_huge_ladder_and_counts_the_runs_it_builds(cfg, runs):
    from genailab.experiments.lm_ladder import SIZES, memory_bytes
    from genailab.lm.train_memory import training_bytes
    from genailab.memory import MemoryNeedError, check_memory

    huge = get("lm-ladder").config(overrides={"batch_size": 1024, "block_size": 1024})
    assert memory_bytes(huge) > 24 * 2**30
    with pytest.raises(MemoryNeedError, match="would need about"):
        check_memory(memory_bytes(huge), "lm-ladder", available=24 * 2**30)
    # the estimate is that of the models train() really built (their configs as recorded)
    corpus = load_corpus(cfg.corpus)
    built = max(
        training_bytes(m, s["model_config"], cfg.batch_size, cfg.block_size, len(corpus.text))
        for m, (s, _) in runs.items()
    )
    assert built <= memory_bytes(cfg) <= 1.1 * built
    assert set(SIZES["tiny"]) == set(LADDER)
