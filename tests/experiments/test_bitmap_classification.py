"""The bitmap-classification video against references: BitmapClassifier run directly on the same
data, the Bayes-optimal rule from scipy's Gaussian densities, and the pass counts."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from genailab.experiments.bitmap_classification import (
    COVS,
    MEANS,
    PRIORS,
    Config,
    bayes_rule,
    sample_mixture,
)
from genailab.lab import iterate_frames
from genailab.learn import BitmapClassifier

NAME = "bitmap-classification"
QUICK = Config(**Config.QUICK)


def bayes_scipy(X):
    parts = zip(PRIORS, MEANS, COVS, strict=True)
    return np.argmax([p * multivariate_normal(m, c).pdf(X) for p, m, c in parts], axis=0)


def data(seed, cfg=QUICK):
    rng = np.random.default_rng(seed)
    X, y = sample_mixture(cfg.train, rng)
    X_test, y_test = sample_mixture(cfg.test, rng)
    return X, y, X_test, y_test


def test_bayes_rule_is_the_argmax_of_prior_times_scipy_density():
    X = np.random.default_rng(5).uniform(-4, 6, size=(3000, 2))
    np.testing.assert_array_equal(bayes_rule(X), bayes_scipy(X))


@pytest.mark.parametrize("seed", [0, 1])
def test_final_frame_is_the_classifier_run_directly_and_the_borders_stop(seed):
    frames = list(iterate_frames(NAME, quick=True, seed=seed))
    X, y, X_test, y_test = data(seed)
    clf = BitmapClassifier(resolution=QUICK.resolution, window=QUICK.window, device="cpu")
    clf.fit(X, y)
    last = frames[-1]
    np.testing.assert_array_equal(last.arrays["bitmap"], clf.bitmap_)
    np.testing.assert_array_equal(last.arrays["X"], X)
    assert len(frames) == clf.n_passes_ + 1
    assert [f.scalars["changed_pixels"] for f in frames[1:]] == clf.changed_.tolist()
    assert last.scalars["changed_pixels"] == 0 and last.scalars["classified_share"] == 1.0
    shares = [f.scalars["classified_share"] for f in frames]
    assert np.all(np.diff(shares) >= 0) and shares[0] < 0.1
    # Accuracy: the test points read their pixels, exactly as predict() does.
    assert last.scalars["test_accuracy"] == pytest.approx(clf.score(X_test, y_test), abs=1e-12)
    bayes = np.mean(bayes_scipy(X_test) == y_test)
    assert last.scalars["bayes_accuracy"] == pytest.approx(bayes, abs=1e-12)
    # Measured (QUICK, seeds 0 and 1): 2-3 points below Bayes (0.84), far above the start.
    assert 0.0 < last.scalars["gap_to_bayes"] < 0.04
    assert frames[0].scalars["test_accuracy"] < 0.2


def test_random_neighbor_mode_fills_the_grid_and_stops_there():
    frames = list(iterate_frames(NAME, quick=True, overrides={"mode": "random-neighbor"}))
    last = frames[-1]
    assert last.scalars["classified_share"] == 1.0
    assert frames[-2].scalars["classified_share"] < 1.0
    assert (last.arrays["bitmap"] >= 0).all()


@pytest.mark.parametrize(
    ("key", "value"), [("train", 5), ("resolution", 4), ("window", 0), ("max_passes", 0)]
)
def test_bad_config_raises(key, value):
    with pytest.raises(ValueError, match=f"{key} must be at least"):
        Config(**{key: value})
