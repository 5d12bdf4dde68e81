"""The sine-network video's figures against numpy's least squares and the sweep's own data."""

import numpy as np
import pytest

from genailab.experiments.sine_network import signal, units_needed
from genailab.lab import iterate_frames
from genailab.learn import SineNetwork


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("sine-network", quick=True))


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


def test_units_needed_reads_the_first_unit_count_under_the_target():
    units = np.array([1, 2, 4, 8])
    assert units_needed(units, np.array([0.5, 0.2, 0.009, 0.001]), 0.01) == 4
    assert np.isnan(units_needed(units, np.array([0.5, 0.2, 0.1, 0.05]), 0.01))
