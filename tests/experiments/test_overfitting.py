"""The overfitting video's figures: the baseline overfits, every fix beats it, early stopping
stops where the validation curve is lowest, and every variant extrapolates badly."""

import numpy as np
import pytest

from genailab.experiments.overfitting import VARIANTS, true_function
from genailab.lab import get, iterate_frames

FIXES = ("small_init", "weight_decay", "early_stopping", "more_data")


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("overfitting", quick=True))


def test_the_baseline_overfits(frames):
    final = frames[-1]
    val, train = final.arrays["val"][0], final.arrays["train"][0]  # every step of the baseline
    assert final.scalars["val_baseline"] == val[-1]
    assert final.scalars["val_baseline_min"] == val.min()
    assert val[-1] > 2.5 * val.min()  # validation loss turned and climbed
    assert train[-1] < 0.25 * val[-1]  # while the training loss stayed low
    assert train[-1] < train[val.argmin()]


def test_every_fix_ends_below_the_baseline(frames):
    final = frames[-1].scalars
    for fix in FIXES:
        assert final[f"val_{fix}"] < final["val_baseline"], fix
    assert final["val_more_data"] < 0.5 * final["val_baseline"]


def test_early_stopping_picks_the_argmin_of_the_validation_curve(frames):
    for frame in frames:
        val = frame.arrays["val"][0]
        assert frame.scalars["early_stopping_step"] == np.argmin(val)
        assert frame.scalars["val_early_stopping"] == val.min()


def test_every_variant_extrapolates_badly(frames):
    final = frames[-1]
    grid, curves = final.arrays["grid"], final.arrays["curves"]  # (G,), (5, G)
    outside = np.abs(grid) > 1
    np.testing.assert_allclose(final.arrays["truth"], true_function(grid))
    for v, name in enumerate(VARIANTS):
        error = np.mean((curves[v, outside] - true_function(grid[outside])) ** 2)
        assert final.scalars[f"extrapolation_{name}"] == pytest.approx(error, rel=1e-12)
        assert error > 3 * final.scalars[f"val_{name}"], name
        assert error > 0.5


def test_the_more_data_variant_keeps_the_original_points(frames):
    a = frames[0].arrays
    cfg = get("overfitting").config(quick=True)
    assert len(a["x_train"]) == cfg.points
    assert len(a["x_extra"]) == cfg.more_points - cfg.points
    assert np.all(np.abs(np.r_[a["x_train"], a["x_extra"]]) <= 1)


def test_config_is_validated():
    with pytest.raises(ValueError, match="more_points must exceed points"):
        get("overfitting").config(overrides={"more_points": 12})
