"""The sine-network video's figures against numpy's least squares and the sweep's own data."""

import numpy as np
import pytest

from frame_memory import traced_peak
from genailab.errors import ConfigError
from genailab.experiments.sine_network import memory_bytes, signal, units_needed
from genailab.lab import get, iterate_frames
from genailab.learn import SineNetwork
from genailab.memory import MemoryNeedError, check_memory

NAME = "sine-network"


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames(NAME, quick=True))


def test_the_outer_layer_floor_is_numpy_least_squares(frames):
    first = frames[0]
    x, y = first.arrays["x"], first.arrays["y"]
    np.testing.assert_allclose(y, signal(x))
    # the same hidden layer as the experiment's (same random_state), solved by numpy directly
    hidden = SineNetwork(12, steps=0, random_state=0).fit(x, y).features(x)
    design = np.column_stack([hidden, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    floor = np.mean((design @ coef - y) ** 2) / y.var()
    for f in frames:
        if f.text["phase"] == "train":
            assert f.scalars["error_lstsq"] == pytest.approx(floor, rel=1e-9)
            np.testing.assert_allclose(f.arrays["fit_floor"], design @ coef, atol=1e-9)


def test_gradient_descent_on_the_outer_layer_stays_above_its_floor(frames):
    train = [f for f in frames if f.text["phase"] == "train"]
    assert train[0].step == 0 and train[-1].step == 600
    curve = train[-1].arrays["curve_outer"]  # every step, not only the shown ones
    floor = train[-1].scalars["error_lstsq"]
    assert curve.min() >= floor * (1 - 1e-9)
    y = train[-1].arrays["y"]
    start = np.mean(y**2) / y.var()  # both modes start from the network y = 0
    assert curve[0] == pytest.approx(start, rel=1e-12)
    assert train[-1].arrays["curve_both"][0] == pytest.approx(start, rel=1e-12)


def test_training_both_layers_goes_far_below_the_outer_layer_floor(frames):
    final = frames[-1].scalars
    assert final["error_both_layers"] < 0.05 * final["error_outer_only_lstsq"]
    assert final["error_outer_only_lstsq"] <= final["error_outer_only_adam"]
    assert final["error_both_layers"] < final["target_error"] < final["error_outer_only_lstsq"]


def test_learned_features_need_fewer_units_for_the_same_error(frames):
    last = frames[-1]
    units, outer, both = (last.arrays[k] for k in ("sweep_units", "sweep_outer", "sweep_both"))
    assert units.tolist() == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
    target = last.scalars["target_error"]
    needed_outer = last.scalars["units_needed_outer_only"]
    needed_both = last.scalars["units_needed_both_layers"]
    assert needed_outer == units_needed(units, outer, target)
    assert needed_both == units_needed(units, both, target)
    assert needed_both < needed_outer
    assert np.all(outer[units < needed_outer] > target)
    sweep = [f for f in frames if f.text["phase"] == "sweep"]
    assert [f.scalars["units"] for f in sweep] == units.tolist()
    assert last.poster


def test_the_captions_tell_the_two_parts_in_four_stretches(frames):
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == 4 and all(len(c) <= 90 for c in stretches)
    phases = [f.text["phase"] for f in frames]
    assert captions[phases.index("sweep")] == stretches[2] and "99%" in stretches[2]
    assert phases.count("train") > captions.count(stretches[0]) > 1  # early training only
    assert "fewer units" in stretches[3]
    final = frames[-1].scalars
    assert final["units"] == 12 and final["explained"] == pytest.approx(0.99)
    assert final["sweep_largest"] == 32
    assert final["sweep_largest_outer"] == frames[-1].arrays["sweep_outer"][-1]


def test_frame_count_is_exact(frames):
    exp = get(NAME)
    assert len(frames) == exp.frame_count(exp.config(quick=True))
    cfg = exp.config(overrides={"steps": 5, "sweep_max_units": 3, "sweep_draws": 1})
    assert len(list(exp.frames(cfg))) == exp.frame_count(cfg) == 6 + 3 + 1
    assert exp.frame_count(exp.config()) == 64 + 10 + 1  # the full preset


def test_units_needed_reads_the_first_unit_count_under_the_target():
    units = np.array([1, 2, 4, 8])
    assert units_needed(units, np.array([0.5, 0.2, 0.009, 0.001]), 0.01) == 4
    assert np.isnan(units_needed(units, np.array([0.5, 0.2, 0.1, 0.05]), 0.01))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"points": 7}, "points must be in [8, 100000], got 7"),
        ({"units": 1001}, "units must be in [1, 1000], got 1001"),
        ({"sweep_max_units": 33}, "sweep_max_units must be in [1, 32], got 33"),
        ({"target_error": 1.0}, "target_error must be in (0, 1), got 1.0"),
        ({"learning_rate": 0.0}, "learning_rate must be in (0, 1], got 0.0"),
    ],
)
def test_out_of_bounds_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_the_largest_network_on_the_most_points_is_refused_where_memory_is_short():
    cfg = get(NAME).config(overrides={"points": 100_000, "units": 1000})
    need = memory_bytes(cfg)  # seven (n, K) float64 arrays: 5.2 GiB
    assert 5 * 2**30 < need < 24 * 2**30
    with pytest.raises(MemoryNeedError, match=r"would need about 5\.2 GiB of memory"):
        check_memory(need, NAME, available=4 * 2**30)
    check_memory(need, NAME, available=24 * 2**30)  # a 24 GiB machine runs it


@pytest.mark.parametrize(
    "overrides",
    [
        {"points": 5000, "units": 200, "sweep_max_units": 1},  # part 1's pair of networks
        {"points": 20_000, "units": 1},  # the sweep's 32 units
    ],
)
def test_the_memory_estimate_is_the_measured_peak(overrides):
    cfg = get(NAME).config(overrides={"steps": 2, "snapshots": 2, "sweep_draws": 1, **overrides})
    peak = traced_peak(get(NAME).frames(cfg))
    assert 0.8 * peak < memory_bytes(cfg) < 1.5 * peak
