"""The cat-poems video against a training run of its own: the same poems, losses and words."""

import math

import numpy as np
import pytest
import torch

from genailab.experiments.cat_poems import (
    CLAIMS,
    FPS,
    Config,
    _plays,
    _typing_frames,
    caption,
    frame_count,
    layout,
    real_word_counts,
    sampled_words,
    training_overrides,
    word_set,
)
from genailab.lab import iterate_frames
from genailab.lm import load, load_corpus, train


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("cat-poems", quick=True))


def checkpoints(frames):
    """One frame per checkpoint (its last), in order."""
    last = {}
    for f in frames:
        last[f.step] = f
    return [last[k] for k in sorted(last)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same training run, made here: its poems sampled in on_eval, and its summary."""
    cfg = Config(**Config.QUICK)
    out = tmp_path_factory.mktemp("run")
    poems = []

    def on_eval(snapshot):
        poems.append(snapshot.generate(cfg.prompt, cfg.max_tokens, cfg.temperature, seed=cfg.seed))

    summary = train(
        cfg.corpus,
        "gpt",
        preset="cpu",
        max_iters=cfg.iters,
        out=out,
        overrides=training_overrides(cfg),
        seed=cfg.seed,
        progress=False,
        on_eval=on_eval,
    )
    return cfg, out, poems, summary


def test_every_checkpoint_poem_is_the_models_sample(frames, reference):
    cfg, out, poems, _ = reference
    shown = checkpoints(frames)
    assert [f.step for f in shown] == list(range(0, cfg.iters + 1, cfg.eval_interval))
    assert [f.text["poem"] for f in shown] == poems
    for f in shown:
        assert f.text["poem"].startswith(cfg.prompt)
        assert len(f.text["poem"]) == len(cfg.prompt) + cfg.max_tokens
    # the saved weights of the end write the last poem again
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in training (cfg.threads): a tiny model loses to a second one
    try:
        final = load(out).generate(cfg.prompt, cfg.max_tokens, cfg.temperature, seed=cfg.seed)
    finally:
        torch.set_num_threads(threads)
    assert shown[-1].text["poem"] == final
    assert poems[0] != poems[-1]


def test_the_losses_are_the_training_history(frames, reference):
    _, _, _, summary = reference
    history = summary["history"]
    last = frames[-1]
    np.testing.assert_array_equal(last.arrays["iters"], [h["iter"] for h in history])
    np.testing.assert_allclose(last.arrays["val"], [h["val_loss"] for h in history], rtol=1e-12)
    np.testing.assert_allclose(last.arrays["train"], [h["train_loss"] for h in history])
    assert last.scalars["val_loss"] == pytest.approx(summary["val_loss"], rel=1e-12)
    assert last.scalars["train_loss"] == pytest.approx(summary["train_loss"], rel=1e-12)
    assert last.scalars["val_loss_min"] == pytest.approx(min(h["val_loss"] for h in history))
    for f, h in zip(checkpoints(frames)[:-1], history, strict=False):
        assert f.scalars["val_loss"] == pytest.approx(h["val_loss"], rel=1e-12)
        assert f.arrays["val"][-1] == pytest.approx(h["val_loss"], rel=1e-12)
    # the untrained model guesses about uniformly over the vocabulary: loss near log V
    vocab = len(set(load_corpus("cats").train_text))
    assert history[0]["val_loss"] == pytest.approx(np.log(vocab), abs=0.1)
    assert history[-1]["val_loss"] < history[0]["val_loss"] - 1.0


def test_the_word_shares_count_the_poems_words(frames):
    vocabulary = word_set(load_corpus("cats").train_text)
    shown = checkpoints(frames)
    shares = []
    for f in shown:
        real, total = real_word_counts(f.text["poem"], f.text["prompt"], vocabulary)
        shares.append(real / total)
        assert f.text["words"].startswith(f"{real} of the {total} words")
    np.testing.assert_allclose(frames[-1].arrays["share"], shares, rtol=1e-12)
    final = frames[-1].scalars
    assert final["real_word_share_first"] == pytest.approx(shares[0], rel=1e-12)
    assert final["real_word_share_last"] == pytest.approx(shares[-1], rel=1e-12)


def test_the_quick_preset_goes_from_noise_to_words_as_the_full_one(frames):
    """The claims hold on the quick preset, with margin (60 steps once ended at 9% real words)."""
    final = frames[-1].scalars
    for claim in CLAIMS:
        assert claim.evaluate(final)["met"], claim.expr
    assert final["real_word_share_first"] < 0.1 and final["real_word_share_last"] > 0.4
    assert final["val_loss"] < final["uniform"] - 2.0
    assert final["val_loss_first"] == pytest.approx(final["uniform"], abs=0.1)
    assert final["words_last"] >= 50  # enough words that the share is not one poem's luck


def test_the_captions_follow_the_checkpoints(frames):
    shown = checkpoints(frames)
    K = len(shown)
    for k, f in enumerate(shown):
        assert {g.caption for g in frames if g.step == f.step} == {caption(k, K)}
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == len(set(stretches)) == 4 and all(len(c) <= 90 for c in stretches)
    assert "noise" in stretches[0] and stretches[-1].startswith("Trained")
    assert len(frames) == frame_count(Config(**Config.QUICK))


def test_the_first_poem_is_typed_after_the_prompt_and_the_last_is_held_whole(frames):
    first, last = frames[0], frames[-1]
    prompt_chars = int(first.arrays["prompt_mask"].sum())
    assert first.text["phase"] == "typing" and int(first.arrays["shown"]) == prompt_chars
    assert first.text["page"][:prompt_chars] in ("The cat ", "The cat\n")  # may wrap there
    assert last.text["phase"] == "shown" and int(last.arrays["shown"]) == len(last.text["page"])
    typed = [int(f.arrays["shown"]) for f in frames if f.step == 0 and f.text["phase"] == "typing"]
    assert typed == sorted(typed) and len(typed) > 1
    opacities = [float(f.arrays["opacity"]) for f in frames]
    assert min(opacities) > 0.0 and max(opacities) == 1.0


@pytest.mark.parametrize("poem", ["The cat sat.", "The cat " + "x" * 400])
def test_any_page_is_typed_in_the_frames_counted_before_training(poem):
    """frame_count cannot know the page (cut at 14 lines, or lengthened by wrapping): the typing
    lasts as long as max_tokens characters take, whatever the model wrote."""
    cfg = Config(**Config.QUICK)
    page, mask = layout(poem, len(cfg.prompt))
    hold, fade = round(cfg.hold_s * FPS), round(cfg.fade_s * FPS)
    for first, after in ((True, hold + fade), (False, max(1, round(cfg.final_hold_s * FPS)))):
        plays = list(_plays(cfg, page, mask, first=first, last=not first))
        assert len(plays) == _typing_frames(cfg, first) + after
        shown = [p[0] for p in plays]
        assert shown == sorted(shown)  # typed on, never back
        assert shown[-1] == len(page) and plays[-1][2] == "shown"
        assert all(p[2] == "typing" for p in plays if p[0] < len(page))
    assert _typing_frames(cfg, first=False) == math.ceil(
        cfg.max_tokens * FPS / cfg.typing_chars_per_s
    )


def test_frames_are_deterministic_for_a_seed(frames):
    again = list(iterate_frames("cat-poems", quick=True))
    assert [f.text["poem"] for f in again] == [f.text["poem"] for f in frames]
    assert [f.scalars for f in again] == [f.scalars for f in frames]
    other = checkpoints(list(iterate_frames("cat-poems", quick=True, seed=1)))
    assert other[-1].text["poem"] != checkpoints(frames)[-1].text["poem"]


def test_real_words_on_a_hand_example():
    vocabulary = word_set("The cat's mat. A cat sat on the mat!")
    assert vocabulary == {"the", "cat's", "mat", "a", "cat", "sat", "on"}
    # the prompt's words are not the model's; "mat" is cut by the length limit, so left out
    assert sampled_words("The cat sat on thw mat", "The cat ") == ["sat", "on", "thw"]
    assert real_word_counts("The cat sat on thw mat", "The cat ", vocabulary) == (2, 3)
    # a word ending after the prompt is the model's; a final word closed by punctuation counts
    sample = "The ca sat, The CAT'S zzq mat."
    assert sampled_words(sample, "The ca") == ["sat", "the", "cat's", "zzq", "mat"]
    assert real_word_counts(sample, "The ca", vocabulary) == (4, 5)
    assert real_word_counts("The cat ", "The cat ", vocabulary) == (0, 0)
    with pytest.raises(ValueError, match="prompt"):
        sampled_words("A dog", "The cat ")


def test_layout_wraps_at_spaces_and_marks_the_prompt():
    page, mask = layout("The cat sat on the mat\nand purred", 8, width=10, lines=3)
    assert page == "The cat\nsat on the\nmat"
    assert mask.tolist() == [True] * 8 + [False] * (len(page) - 8)
    page, mask = layout("abcdefghijkl", 2, width=5)
    assert page == "abcde\nfghij\nkl"
    assert mask.sum() == 2 and not mask[5]


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="n_embd"):
        Config(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="iters"):
        Config(iters=0)
    with pytest.raises(ValueError, match="prompt"):
        list(iterate_frames("cat-poems", quick=True, overrides={"prompt": "The cat \u00e9"}))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_tokens": 0}, "cat-poems: max_tokens must be in [1, 2000], got 0"),
        ({"eval_interval": 20001}, "cat-poems: eval_interval must be in [10, 20000], got 20001"),
        ({"threads": -1}, "cat-poems: threads must be in [0, 64], got -1"),
        ({"n_embd": 30}, "cat-poems: n_embd (30) must be a multiple of n_head (4)"),
    ],
)
def test_each_kind_of_bad_value_is_one_line(overrides, message):
    from genailab.errors import ConfigError
    from genailab.lab import get

    with pytest.raises(ConfigError) as err:
        get("cat-poems").config(overrides=overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_memory_bytes_refuses_a_huge_model_and_counts_the_run_it_builds(reference):
    from genailab.experiments.cat_poems import memory_bytes
    from genailab.lab import get
    from genailab.lm.train_memory import training_bytes
    from genailab.memory import MemoryNeedError, check_memory

    huge = get("cat-poems").config(
        overrides={"n_layer": 24, "n_embd": 1024, "batch_size": 1024, "block_size": 1024}
    )
    assert memory_bytes(huge) > 24 * 2**30
    with pytest.raises(MemoryNeedError, match="would need about"):
        check_memory(memory_bytes(huge), "cat-poems", available=24 * 2**30)
    cfg, _, _, summary = reference
    text = load_corpus(cfg.corpus).text
    built = training_bytes(
        "gpt", summary["model_config"], cfg.batch_size, cfg.block_size, len(text)
    )
    assert built <= memory_bytes(cfg) <= 1.1 * built
