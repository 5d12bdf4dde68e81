"""The bitmap-classification video against references: BitmapClassifier run directly on the same
data, the Bayes-optimal rule from scipy's Gaussian densities, and the pass counts; the passes
fitted to an exact number of frames, the captions by phase and the claims."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from frame_memory import traced_peak
from genailab.device import available_devices
from genailab.errors import ConfigError
from genailab.experiments.bitmap_classification import (
    CLAIMS,
    COVS,
    MEANS,
    PRIORS,
    Config,
    bayes_rule,
    caption,
    frame_count,
    frames,
    memory_bytes,
    sample_mixture,
    shown_passes,
)
from genailab.lab import get, iterate_frames
from genailab.learn import BitmapClassifier
from genailab.memory import MemoryNeedError, check_memory

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
    # QUICK makes fewer passes than it shows frames: each pass once, then the last one held
    n = clf.n_passes_ + 1
    assert len(frames) == frame_count(QUICK) == QUICK.shown > n
    assert [f.scalars["pass"] for f in frames] == [*range(n)] + [n - 1] * (QUICK.shown - n)
    assert [f.scalars["changed_pixels"] for f in frames[1:n]] == clf.changed_.tolist()
    assert last.scalars["passes"] == clf.n_passes_
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
    assert last.arrays["classified"][-2] < 1.0  # the pass before the last left a blank
    assert (last.arrays["bitmap"] >= 0).all()
    assert last.caption == caption(1.0, True, True, False, False)  # it stops, never settles


def test_a_run_of_more_passes_than_frames_is_sampled_evenly_with_its_ends():
    cfg = get(NAME).config(quick=True, overrides={"shown": 8})
    frames = list(iterate_frames(NAME, quick=True, overrides={"shown": 8}))
    passes = [int(f.scalars["pass"]) for f in frames]
    total = int(frames[-1].scalars["passes"])
    assert len(frames) == frame_count(cfg) == 8 and total + 1 > 8
    assert passes == shown_passes(total + 1, 8)
    assert passes[0] == 0 and passes[-1] == total and np.all(np.diff(passes) > 0)
    # each frame's curves end at its own pass
    assert [len(f.arrays["accuracy"]) for f in frames] == [p + 1 for p in passes]


def test_captions_follow_the_phases_and_the_claims_hold():
    frames = list(iterate_frames(NAME, quick=True))
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert stretches == [
        caption(0.0, False, False, True, True),  # the painted points
        caption(0.5, False, False, True, False),  # filling in
        caption(1.0, False, False, True, False),  # the borders wobble
        caption(1.0, True, True, True, False),  # settled, held to the end
    ]
    assert all(len(c) <= 90 for c in stretches)
    final = frames[-1].scalars
    assert 0 < final["fill_pass"] < final["passes"]
    assert [claim.evaluate(final)["met"] for claim in CLAIMS] == [True] * len(CLAIMS)
    assert not CLAIMS[0].evaluate({**final, "gap_to_bayes": 0.08})["met"]
    # the pass limit stops the filter before the borders settle: the claim says so
    cut = list(iterate_frames(NAME, quick=True, overrides={"max_passes": 18}))
    assert cut[-1].caption == caption(1.0, True, False, True, False)
    assert not CLAIMS[1].evaluate(cut[-1].scalars)["met"]


def _missing_device() -> str:
    """A device kind this machine lacks (no machine has both cuda and mps)."""
    return next(d for d in ("cuda", "mps") if d not in available_devices())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train": 5}, "train must be in [10, 1000000], got 5"),
        ({"resolution": 4001}, "resolution must be in [8, 4000], got 4001"),
        ({"window": 0}, "window must be in [1, 50], got 0"),
        (
            {"device": "tpu"},
            "device must be one of cpu, auto, cuda, mps; got 'tpu'; did you mean 'cpu'?",
        ),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_a_device_this_machine_lacks_is_refused_in_one_line():
    missing = _missing_device()
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides={"device": missing})
    have = ", ".join(["auto", *available_devices()])
    assert str(refused.value) == (
        f"{NAME}: device '{missing}' is not available on this machine; available: {have}"
    )
    assert get(NAME).config().device == "cpu"  # the same frames on every machine


def test_a_run_too_large_for_the_machine_is_refused_before_it_starts():
    huge = get(NAME).config(overrides={"resolution": 4000, "max_passes": 10_000})
    assert memory_bytes(huge) > 24 * 2**30  # 10,001 kept bitmaps of 16 million pixels
    with pytest.raises(MemoryNeedError, match=f"^{NAME} would need about 15\\d\\.\\d GiB"):
        check_memory(memory_bytes(huge), NAME, available=24 * 2**30)


def test_the_memory_estimate_is_the_measured_peak():
    # 31 kept bitmaps and the Bayes map of 160,000 pixels: 29 MiB estimated. The passes' torch
    # tensors (not seen by tracemalloc, about 70 bytes a pixel) are freed before the map.
    cfg = get(NAME).config(overrides={"resolution": 400, "max_passes": 30})
    peak = traced_peak(frames(cfg))
    assert 0.5 < memory_bytes(cfg) / peak < 2  # measured: 0.98
