"""Linear regression by evolution and by gradient descent, against the closed-form answers:
np.linalg.lstsq with a bias, sum(x y) / sum(x^2) without."""

import numpy as np
import pytest

from genailab.errors import ConfigError
from genailab.experiments.linear_regression import (
    CAPTIONS,
    FITS,
    inputs,
    largest_stable_lr,
    least_squares,
)
from genailab.lab import get, iterate_frames

NAME = "linear-regression"
K = {name: k for k, name in enumerate(FITS)}


def run(seed: int = 0, **overrides):
    return list(iterate_frames(NAME, quick=True, seed=seed, overrides=overrides))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_a_bias_both_methods_reach_the_least_squares_line(seed):
    f = run(seed)[-1]
    x, y, path = f.arrays["x"], f.arrays["y"], f.arrays["path"]
    reference = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    np.testing.assert_allclose(f.arrays["lstsq_bias"], reference, rtol=1e-12)
    for name in ("gd_bias", "evolution_bias"):
        np.testing.assert_allclose(path[-1, K[name]], reference, atol=1e-5)
        assert f.scalars[f"mse_{name}"] == pytest.approx(f.scalars["mse_lstsq_bias"], rel=1e-9)
    mse = np.mean((reference[0] * x + reference[1] - y) ** 2)
    assert f.scalars["mse_lstsq_bias"] == pytest.approx(mse, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_a_bias_the_fit_is_the_no_intercept_solution_and_much_worse(seed):
    f = run(seed)[-1]
    x, y, path = f.arrays["x"], f.arrays["y"], f.arrays["path"]
    w = np.sum(x * y) / np.sum(x**2)
    np.testing.assert_allclose(path[-1, K["gd_no_bias"]], [w, 0.0], atol=1e-9)
    np.testing.assert_allclose(path[-1, K["evolution_no_bias"]], [w, 0.0], atol=1e-5)
    assert f.scalars["mse_gd_no_bias"] == pytest.approx(np.mean((w * x - y) ** 2), rel=1e-12)
    # On shifted data (b = 8, x in [1.5, 4.5]) a line pinned to the origin misses the cloud.
    assert f.scalars["mse_gd_no_bias"] > 5 * f.scalars["mse_gd_bias"]
    assert np.all(path[:, K["gd_no_bias"], 1] == 0)  # no bias ever appears


def test_first_gradient_step_is_the_analytic_gradient():
    # From w = b = 0, d MSE / dw = -2 mean(x y) and d MSE / db = -2 mean(y): one SGD step of
    # the engine's autograd must land exactly there.
    frames = run(0)
    a = frames[-1].arrays
    x, y, lr = a["x"], a["y"], 0.05
    step1 = a["path"][1]
    np.testing.assert_allclose(step1[K["gd_bias"]], [2 * lr * np.mean(x * y), 2 * lr * y.mean()])
    np.testing.assert_allclose(step1[K["gd_no_bias"]], [2 * lr * np.mean(x * y), 0.0])
    assert np.all(a["path"][0] == 0)


def test_evolution_never_gets_worse_and_descent_eventually_only_improves():
    loss = run(0)[-1].arrays["loss"]  # (T, 4)
    for name in ("evolution_bias", "evolution_no_bias"):
        assert np.all(np.diff(loss[:, K[name]]) <= 0)
    assert np.all(np.diff(loss[50:, K["gd_bias"]]) <= 1e-12)


def test_frames_are_log_spaced_and_end_on_the_last_step():
    frames = run(0, snapshots=30)
    steps = [f.step for f in frames]
    assert steps[0] == 0 and steps[-1] == 3000 and steps == sorted(set(steps))
    assert len(steps) <= 30 and frames[-1].poster
    assert frames[-1].scalars.keys() >= {f"mse_{name}" for name in FITS}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_captions_follow_the_fits_in_order_and_never_go_back(seed):
    frames = run(seed)
    index = [CAPTIONS.index(f.caption) for f in frames]
    assert index == sorted(index) and set(index) == {0, 1, 2, 3}, index
    # The second caption comes once the lines without a bias have settled on their floor ...
    first = next(f for f in frames if f.caption == CAPTIONS[1]).scalars
    assert first["mse_gd_no_bias"] < 1.01 * first["mse_lstsq_no_bias"]
    assert first["mse_gd_bias"] > 1.5 * first["mse_lstsq_bias"]  # ... while those with one climb
    last_climbing = [f for f in frames if f.caption == CAPTIONS[2]][-1].scalars
    assert last_climbing["mse_gd_bias"] > 1.01 * last_climbing["mse_lstsq_bias"]


@pytest.mark.parametrize("quick", [True, False])
def test_frame_count_is_exact(quick):
    frames = list(iterate_frames(NAME, quick=quick))
    assert len(frames) == get(NAME).frame_count(get(NAME).config(quick=quick))
    f = frames[-1].scalars
    assert f["no_bias_ratio"] == pytest.approx(f["mse_gd_no_bias"] / f["mse_gd_bias"])


def test_least_squares_helper():
    x = np.array([1.0, 2.0, 3.0])
    fits = least_squares(x, 2 * x + 1)
    np.testing.assert_allclose(fits["bias"], [2.0, 1.0])
    np.testing.assert_allclose(fits["no_bias"], [(2 * 14 + 6) / 14, 0.0])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"points": 1}, "points must be in [2, 100000], got 1"),
        ({"snapshots": 10_001}, "snapshots must be in [2, 10000], got 10001"),
        ({"lr": 0.0}, "lr must be in (0, 1], got 0.0"),
        ({"noise": -0.1}, "noise must be in [0, 10], got -0.1"),
        ({"x_low": 3.0, "x_high": 1.0}, "x_low must be below x_high, got 3.0 and 1.0"),
        (
            {"lr": 0.2},
            "lr must be below 0.0876 on these points (2 / the MSE's largest curvature), "
            "got 0.2; gradient descent would diverge",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def _gradient_descent_loss(x, y, lr, steps):
    """Plain gradient descent on the MSE of w x + b from zero, in numpy: the last loss."""
    w = b = 0.0
    for _ in range(steps):
        r = w * x + b - y
        w, b = w - lr * 2 * np.mean(r * x), b - lr * 2 * np.mean(r)
    return np.mean((w * x + b - y) ** 2)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_lr_limit_is_where_gradient_descent_on_the_experiments_points_starts_to_diverge(seed):
    cfg = get(NAME).config(seed=seed)
    f = run(seed, steps=1, snapshots=2)[-1]
    x, y = f.arrays["x"], f.arrays["y"]
    np.testing.assert_array_equal(x, inputs(cfg, np.random.default_rng(seed)))
    limit = largest_stable_lr(cfg)
    start = np.mean(y**2)
    assert _gradient_descent_loss(x, y, 0.98 * limit, 2000) < 1e-2 * start
    assert _gradient_descent_loss(x, y, 1.02 * limit, 2000) > 1e6 * start
    get(NAME).config(seed=seed, overrides={"lr": 0.99 * limit})  # accepted
    with pytest.raises(ConfigError, match="lr must be below"):
        get(NAME).config(seed=seed, overrides={"lr": limit})
