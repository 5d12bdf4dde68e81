"""Granville's sine map: fixed points in closed form, basins against per-point orbits."""

import numpy as np
import pytest
from scipy.optimize import brentq

from genailab.simulate import basins, family, orbit, sine_map


def _step(z, rho, lam):  # the map written out independently, for one point
    x, y = z
    return np.array([(1 - rho) * x + lam * np.sin(y), (1 - rho) * y + lam * np.sin(x)])


@pytest.mark.parametrize("rho", [0.3, 0.8, 1.5])
def test_lam_equal_rho_pi_over_2_fixes_the_point_pi_over_2(rho):
    params = (rho, rho * np.pi / 2)
    for point in ([np.pi / 2, np.pi / 2], [-np.pi / 2, -np.pi / 2], [0.0, 0.0]):
        path = orbit(point, params, 20)  # (21, 2)
        np.testing.assert_allclose(path, np.broadcast_to(point, (21, 2)), atol=1e-12)


def test_orbit_matches_the_map_written_out():
    params = (0.7, 1.9)
    starts = np.array([[0.3, -1.2], [5.0, 2.0]])
    path = orbit(starts, params, 15)  # (16, 2, 2)
    for p, start in enumerate(starts):
        z = start.copy()
        for _ in range(15):
            z = _step(z, *params)
        np.testing.assert_allclose(path[-1, p], z, rtol=1e-12)
    x, y = sine_map(starts[:, 0], starts[:, 1], params)
    np.testing.assert_allclose(np.stack([x, y], 1), path[1])


def test_attractors_are_stable_fixed_points_or_cycles():
    rho, lam = 1.0, 2.0
    result = basins((rho, lam), resolution=81, n_iter=200)
    # On the diagonal a fixed point solves x = (lam / rho) sin x: x* from scipy's root finder.
    x_star = brentq(lambda x: x - lam / rho * np.sin(x), 1.0, 3.0)
    found = list(zip(result.attractors, result.periods, strict=True))
    fixed = {tuple(np.round(c, 6)) for c, p in found if p == 1}
    assert fixed == {(round(x_star, 6),) * 2, (round(-x_star, 6),) * 2}
    # the 2-cycles: around the origin (the largest basin), and (x*, 0) <-> (0, x*) and its mirror
    cycles = {tuple(np.round(c, 6)) for c, p in found if p == 2}
    assert cycles == {(0.0, 0.0), (round(x_star / 2, 6),) * 2, (round(-x_star / 2, 6),) * 2}
    np.testing.assert_allclose(result.attractors[0], 0.0, atol=1e-9)
    for c, period in zip(result.attractors, result.periods, strict=True):
        if period == 1:
            x, y = c
            np.testing.assert_allclose(_step(c, rho, lam), c, atol=1e-7)
            # Jacobian eigenvalues 1 - rho +- lam sqrt(cos x cos y): both inside the unit circle
            root = np.sqrt(complex(np.cos(x) * np.cos(y)))
            assert max(abs(1 - rho + lam * root), abs(1 - rho - lam * root)) < 1
    # the cycle (x*, 0) -> (0, x*) -> (x*, 0) really is one, with mean (x*/2, x*/2)
    a = np.array([x_star, 0.0])
    np.testing.assert_allclose(_step(a, rho, lam), a[::-1], atol=1e-12)
    np.testing.assert_allclose(_step(_step(a, rho, lam), rho, lam), a, atol=1e-12)


def test_basin_labels_agree_with_single_orbits():
    params = family(0.6)
    result = basins(params, resolution=101, n_iter=300)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 101, size=(2, 60))
    starts = np.stack([result.x[cols], result.y[rows]], axis=1)  # (60, 2)
    path = orbit(starts, params, 300 + 4)  # (305, 60, 2)
    for p in range(60):
        tail = path[-5:, p]  # (5, 2): the last point and 4 more
        period = next(k for k in range(1, 5) if np.abs(tail[k] - tail[0]).sum() < 1e-6)
        mean = tail[:period].mean(axis=0)
        nearest = np.argmin(np.abs(result.attractors - mean).sum(1))
        assert np.abs(result.attractors[nearest] - mean).sum() < 1e-4
        assert result.labels[rows[p], cols[p]] == nearest
        assert result.periods[nearest] == period


def _matched(coarse, fine):
    """Relabel ``fine`` with ``coarse``'s attractor indices, matched by position."""
    mapping = np.array([np.argmin(np.abs(coarse.attractors - c).sum(1)) for c in fine.attractors])
    return np.where(fine.labels >= 0, mapping[np.maximum(fine.labels, 0)], fine.labels)


@pytest.mark.parametrize("t", [0.0, 0.5, 1.0])
def test_basin_labels_are_stable_under_resolution(t):
    coarse = basins(family(t), resolution=61, n_iter=300)
    fine = basins(family(t), resolution=121, n_iter=300)  # every other pixel is a coarse pixel
    np.testing.assert_allclose(fine.x[::2], coarse.x, atol=1e-12)
    assert fine.n_attractors >= coarse.n_attractors
    agree = np.mean(_matched(coarse, fine)[::2, ::2] == coarse.labels)
    assert agree > 0.97
    np.testing.assert_allclose(fine.shares[:4].sum(), coarse.shares[:4].sum(), atol=0.05)


def test_symmetry_of_the_map_shows_in_the_basins():
    # (x, y) -> (y, x) commutes with the map, so the basin image is symmetric about the
    # diagonal: the attractor of the transposed pixel is the mirrored attractor.
    result = basins(family(0.3), resolution=81, n_iter=300)
    mirrored = np.array(
        [np.argmin(np.abs(result.attractors - c[::-1]).sum(1)) for c in result.attractors]
    )
    labels = result.labels
    agree = np.mean(mirrored[labels] == labels.T)
    assert agree > 0.99


def test_family_ends():
    assert family(0.0) == (0.35, 0.875)
    assert family(1.0) == (1.0, 2.5)


@pytest.mark.slow
def test_a_1024_grid_runs_and_agrees_with_a_coarse_one():
    fine = basins(family(0.5), resolution=1024, n_iter=300)
    assert fine.labels.shape == (1024, 1024) and fine.settle.shape == (1024, 1024)
    coarse = basins(family(0.5), resolution=128, n_iter=300)
    assert fine.n_attractors >= coarse.n_attractors
    np.testing.assert_allclose(fine.shares[:5], coarse.shares[:5], atol=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 1}, "resolution must be an int >= 2, got 1"),
        ({"resolution": 3.5}, "resolution must be an int >= 2, got 3.5"),
        ({"n_iter": 0}, "n_iter must be an int >= 1, got 0"),
        ({"bounds": ((1, 0), (0, 1))}, "min < max"),
        ({"tol": 0.0}, "tol must be > 0"),
    ],
)
def test_bad_basin_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        basins((0.5, 1.0), **{"resolution": 8, **kwargs})


def test_bad_params_and_starts_raise():
    with pytest.raises(ValueError, match="params must be a pair"):
        orbit([0, 0], (1.0,), 3)
    with pytest.raises(ValueError, match=r"x0 must have shape \(2,\) or \(P, 2\)"):
        orbit([0, 0, 0], (1.0, 2.0), 3)
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\], got 1.5"):
        family(1.5)
