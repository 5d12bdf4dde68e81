"""Random search against evolution: monotone errors, evolution far ahead at the same budget, and
random search's best error against the order-statistics law."""

import numpy as np
import pytest

from genailab.engine import Tensor
from genailab.errors import ConfigError
from genailab.experiments.random_search_vs_evolution import RandomSearch, expected_best
from genailab.lab import get, iterate_frames

NAME = "random-search-vs-evolution"


def last_frame(seed: int, **overrides):
    return list(iterate_frames(NAME, seed=seed, overrides=overrides))[-1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_evolution_never_gets_worse_and_ends_far_below_random_search(seed):
    f = last_frame(seed, generations=300, every=300)
    a, s = f.arrays, f.scalars
    for key in ("evolution_loss", "random_loss"):
        assert np.all(np.diff(a[key]) <= 0), f"{key} rose"
        assert len(a[key]) == 300
    assert a["evolution_loss"][0] == a["random_loss"][0]  # one shared first guess
    # Same budget, 300 loss evaluations each: about four orders of magnitude apart, always.
    assert s["ratio"] > 1_000, s
    assert s["random_search_loss"] / s["evolution_loss"] == pytest.approx(s["ratio"])
    # The survivor is near the true weights; the best random guess is not.
    assert np.abs(a["evolution_weights"] - a["true_weights"]).max() < 0.02
    assert np.abs(a["random_weights"] - a["true_weights"]).max() > 0.05


def test_the_losses_in_the_frames_are_the_mse_of_the_weights_they_show():
    for f in list(iterate_frames(NAME, quick=True))[::10]:
        a = f.arrays
        d = len(a["true_weights"])
        assert a["random_weights"].shape == a["evolution_weights"].shape == (d,)
        assert f.scalars["evolution_loss"] == a["evolution_loss"][-1] >= 0
        assert np.all(a["children"] >= a["evolution_loss"])  # a child is never below its parent


def test_one_dimensional_random_search_best_distance_shrinks_like_one_over_n():
    # Guessing t = 1/2 uniformly in [0, 1]: the best of N guesses is farther than r with
    # probability (1 - 2r)^N, so E[best distance] = int_0^1/2 (1 - 2r)^N dr = 1 / (2 (N + 1)).
    N, runs = 20, 3000
    rng = np.random.default_rng(0)
    best = np.empty((runs, N))
    for r in range(runs):
        w = Tensor(np.zeros(1))
        search = RandomSearch([w], 0.0, 1.0, rng)
        best[r] = [search.step(lambda w=w: abs(w.data[0] - 0.5)) for _ in range(N)]
    n = np.arange(1, N + 1)
    mean, sem = best.mean(axis=0), best.std(axis=0) / np.sqrt(runs)
    np.testing.assert_array_less(np.abs(mean - 1 / (2 * (n + 1))), 4 * sem + 1e-12)
    assert np.all(np.diff(best, axis=1) <= 0)


def test_random_search_in_five_dimensions_follows_the_asymptotic_law():
    # E[best MSE] ~ Gamma(1 + 2/d) (c N)^(-2/d): averaged over data sets, within a few percent.
    seeds = range(60)
    ratios = []
    for seed in seeds:
        f = last_frame(seed, generations=200, every=200)
        ratios.append(f.scalars["random_search_loss"] / f.scalars["expected_random_loss"])
    # Each ratio is Weibull-like with a coefficient of variation near 0.45: SEM about 6%.
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.15)


def test_expected_best_matches_the_exact_one_dimensional_mean_for_large_n():
    n = np.array([100, 1000, 10000])
    exact = 2 / ((n + 1) * (n + 2))  # (w - 0)^2 with w uniform in [-1, 1]
    np.testing.assert_allclose(expected_best(n, np.eye(1), 1.0), exact, rtol=0.031)


def test_fixed_mutation_size_stalls_where_the_one_fifth_rule_keeps_going():
    adaptive = last_frame(0, generations=300, every=300)
    fixed = last_frame(0, generations=300, every=300, adapt_sigma=False)
    assert np.all(fixed.arrays["sigma"] == 0.5)
    assert fixed.scalars["evolution_loss"] > 100 * adaptive.scalars["evolution_loss"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"generations": 1}, "generations must be in [2, 10000], got 1"),
        ({"weights": 51}, "weights must be in [1, 50], got 51"),
        ({"sigma": 0.0}, "sigma must be in (0, 100], got 0.0"),
        ({"box": 0.5}, "box must be in [1, 100], got 0.5"),
        ({"weights": 10, "points": 9}, "points must be at least weights (10), got 9"),
    ],
)
def test_bad_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_as_many_points_as_weights_is_enough():
    f = last_frame(0, weights=8, points=8, generations=20, every=20)
    assert np.isfinite(f.scalars["expected_random_loss"]) and f.scalars["evolution_loss"] >= 0
