"""Switches and lights: the hidden wiring is linearly separable, the perceptron learns it within
the convergence theorem's bound, and the rule counts are 2^n against n + 1."""

import numpy as np
import pytest

from genailab.errors import ConfigError
from genailab.experiments.switches_and_lights import all_combinations, wiring
from genailab.lab import get, iterate_frames

NAME = "switches-and-lights"


def run(seed: int = 0, quick: bool = True, **overrides):
    return list(iterate_frames(NAME, quick=quick, seed=seed, overrides=overrides))


def test_all_combinations_is_the_binary_truth_table():
    X = all_combinations(3)
    assert X.tolist() == [[int(b) for b in f"{i:03b}"] for i in range(8)]


@pytest.mark.parametrize("seed", range(5))
def test_each_light_is_a_threshold_of_a_weighted_sum_with_margin(seed):
    weights, thresholds = wiring(8, 6, np.random.default_rng(seed))
    sums = all_combinations(8) @ weights.T  # (256, 6), integers
    assert np.all(np.abs(sums - thresholds) >= 0.5)  # no combination sits on a threshold
    on = (sums > thresholds).mean(axis=0)
    assert np.all((on > 0.2) & (on < 0.8)), on  # no light is (almost) always on or off


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_perceptron_learns_the_wiring_within_the_theorems_bound(seed):
    frames = run(seed, quick=False, intro_frames=0, training_frames=20)
    f = frames[-1]
    a, s = f.arrays, f.scalars
    assert s["converged"] and f.poster and s["train_accuracy"] == 1.0
    # Novikoff: at most (R / gamma)^2 mistakes per light, gamma the true separator's margin.
    assert np.all(a["mistakes_per_light"] <= a["mistake_bounds"])
    assert np.all(a["mistakes_per_light"] > 0)
    # The learned weights really separate every combination that was shown ...
    X = all_combinations(10)
    sums = X @ a["weights_true"].T  # (1024, 6)
    truth = (sums > a["thresholds"]).astype(int)
    pred = (X @ a["weights"][:, :-1].T + a["weights"][:, -1] > 0).astype(int)
    verdict, seen = a["verdict"].T, a["seen"]  # (1024, 6): 2 marks a wrong prediction
    assert np.array_equal(verdict == 2, pred != truth)
    assert np.all(pred[seen] == truth[seen]) and seen.sum() == 512
    assert np.array_equal(np.isin(verdict, (3, 4)), ~seen[:, None] & (pred == truth))
    # ... and, the wiring being simple, almost every combination that was not.
    assert s["unseen_accuracy"] > 0.98
    assert s["rules_written"] == 512 and s["rules_needed"] == 1024 and s["weights_needed"] == 66


def test_accuracy_figures_match_the_verdict_maps():
    for f in run(0)[::5]:
        verdict, seen, s = f.arrays["verdict"], f.arrays["seen"], f.scalars
        right = verdict != 2  # (L, N)
        assert s["rules_needed"] == verdict.shape[1] == 64
        assert right[:, seen].mean() == pytest.approx(s["train_accuracy"])
        assert right[:, ~seen].mean() == pytest.approx(s["unseen_accuracy"])


def test_the_intro_writes_the_rules_then_the_perceptron_starts_from_zero():
    frames = run(0)
    intro = [f for f in frames if f.text["phase"] == "rules"]
    assert len(intro) == 8
    written = [f.scalars["rules_written"] for f in intro]
    assert written == sorted(written) and written[-1] == 32
    assert intro[-1].arrays["sizes"].tolist() == list(range(1, 21))
    start = frames[len(intro)]
    assert np.all(start.arrays["weights"] == 0) and start.scalars["mistakes"] == 0


@pytest.mark.parametrize("quick", [True, False])
def test_frame_count_is_exact_however_fast_the_perceptron_converges(quick):
    exp = get(NAME)
    for seed, overrides in ((0, {}), (3, {"training_frames": 7}), (1, {"epochs": 2})):
        frames = run(seed, quick=quick, **overrides)
        assert len(frames) == exp.frame_count(exp.config(quick=quick, overrides=overrides))


def test_the_training_frames_spread_over_the_passes_it_took_and_end_on_the_clean_one():
    frames = run(0)
    training = frames[9:]  # the quick preset: 8 intro frames, the start, then the training
    epochs = [f.scalars["epoch"] for f in training]
    assert epochs == sorted(epochs) and epochs[-1] == int(epochs[-1]) > 2
    assert np.allclose(np.diff(epochs), epochs[-1] / len(training))
    assert [f.scalars["converged"] for f in frames].count(True) == 1 and frames[-1].poster
    # The captions: rules, start, learning, learned; a few stretches, none with figures.
    stretches = [
        c for i, c in enumerate(f.caption for f in frames) if i == 0 or c != frames[i - 1].caption
    ]
    assert len(stretches) == 4 and all(len(c) <= 90 for c in stretches)
    assert "learned" in stretches[-1]


def test_a_perceptron_cut_short_is_not_captioned_as_having_learned():
    frames = run(0, epochs=2)
    assert not frames[-1].scalars["converged"] and frames[-1].scalars["train_accuracy"] < 1
    assert "learned" not in frames[-1].caption


def test_training_on_every_combination_leaves_nothing_unseen():
    f = run(0, train_fraction=1.0)[-1]
    assert np.isnan(f.scalars["unseen_accuracy"]) and f.json_scalars()["unseen_accuracy"] is None
    assert f.scalars["train_accuracy"] == 1.0 and f.scalars["rules_written"] == 64


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"switches": 1}, "switches must be in [2, 14], got 1"),
        ({"switches": 15}, "switches must be in [2, 14], got 15"),
        ({"train_fraction": 0.0}, "train_fraction must be in (0, 1], got 0.0"),
        ({"training_frames": 0}, "training_frames must be in [1, 2000], got 0"),
    ],
)
def test_out_of_bounds_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"
