"""The overfitting video's figures: the baseline overfits, every fix beats it, early stopping
stops where the validation curve is lowest, and every variant extrapolates badly."""

import numpy as np
import pytest

from frame_memory import traced_peak
from genailab.errors import ConfigError
from genailab.experiments.overfitting import VARIANTS, memory_bytes, phases, true_function
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory

NAME = "overfitting"

FIXES = ("small_init", "weight_decay", "early_stopping", "more_data")


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames(NAME, quick=True))


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


def test_the_summary_figures_are_those_of_the_variants(frames):
    final = frames[-1].scalars
    fixes = [final[f"val_{fix}"] for fix in FIXES]
    assert final["fixes_best"] == min(fixes) and final["fixes_worst"] == max(fixes)
    assert final["baseline_climb"] == pytest.approx(
        final["val_baseline"] / final["val_baseline_min"]
    )
    ratios = [final[f"extrapolation_{n}"] / final[f"val_{n}"] for n in VARIANTS]
    assert final["extrapolation_ratio"] == pytest.approx(min(ratios))


def test_the_captions_follow_the_baselines_validation_curve(frames):
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == 4 and all(len(c) <= 90 for c in stretches)
    val = frames[-1].arrays["val"][0]
    best = int(np.argmin(val))
    for f in frames:  # learning up to the lowest point, overfitting once 50% above it
        if f.step <= best:
            assert f.caption == stretches[0]
        elif f.step < 1500:
            assert (f.caption == stretches[2]) == (val[f.step] > 1.5 * val[best]), f.step
    assert "Every fix" in captions[-1]
    assert len(frames) == get(NAME).frame_count(get(NAME).config(quick=True))


def test_phases_ignore_an_early_bump_and_never_go_back():
    val = np.array([1.0, 0.4, 0.7, 0.2, 0.25, 0.35, 0.28, 0.5, 0.5, 0.5])
    # lowest at 3; 0.35 > 1.5 * 0.2 makes 5 overfit, and 6 (back under) stays so; 0.75 * 10
    assert phases(val, 10).tolist() == [0, 0, 0, 0, 1, 2, 2, 2, 3, 3]


def test_the_more_data_variant_keeps_the_original_points(frames):
    a = frames[0].arrays
    cfg = get("overfitting").config(quick=True)
    assert len(a["x_train"]) == cfg.points
    assert len(a["x_extra"]) == cfg.more_points - cfg.points
    assert np.all(np.abs(np.r_[a["x_train"], a["x_extra"]]) <= 1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"points": 1}, "points must be in [2, 1000], got 1"),
        ({"hidden_layers": 17}, "hidden_layers must be in [1, 16], got 17"),
        ({"init_scale": 1.5}, "init_scale must be in (0, 1], got 1.5"),
        ({"reach": 1.0}, "reach must be in (1, 10], got 1.0"),
        ({"more_points": 12}, "more_points must exceed points (12), got 12"),
    ],
)
def test_bad_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_the_largest_network_on_the_most_points_is_refused_where_memory_is_short():
    largest = {"points": 1000, "more_points": 10_000, "val_points": 10_000}
    cfg = get(NAME).config(overrides={**largest, "width": 1024, "hidden_layers": 16})
    need = memory_bytes(cfg)  # four graphs of 16 (n, 1024) layers, 20 copies of 16M weights
    assert 6 * 2**30 < need < 24 * 2**30
    with pytest.raises(MemoryNeedError, match=r"would need about 6\.5 GiB of memory"):
        check_memory(need, NAME, available=4 * 2**30)


@pytest.mark.parametrize(
    "overrides",
    [
        {"width": 512, "hidden_layers": 3},  # the copies of the weights
        {"more_points": 4000, "width": 128, "hidden_layers": 4},  # the graphs
    ],
)
def test_the_memory_estimate_is_the_measured_peak(overrides):
    small = {"steps": 2, "snapshots": 2}
    for _ in get(NAME).frames(get(NAME).config(overrides=small)):
        pass  # lazy imports happen here, outside the measurement
    cfg = get(NAME).config(overrides={**small, **overrides})
    peak = traced_peak(get(NAME).frames(cfg))
    assert 0.8 * peak < memory_bytes(cfg) < 1.5 * peak
