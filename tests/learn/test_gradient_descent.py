"""Granville's tabulated gradient descent against closed forms and SciPy's minima and flows.

The test landscapes are sums of Gaussian wells, f(x) = -sum_k a_k exp(-||x - c_k||^2 / (2 s_k^2)),
in 2-D, 3-D and 5-D. Their true minima come from scipy.optimize.minimize started at each centre
(the centres are only approximate minima where wells overlap), and the true basin of a start from
integrating the analytic gradient flow with scipy.integrate.solve_ivp.
"""

import dataclasses
import functools
import itertools

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import minimize

from genailab.learn import DescentStep, TabulatedFunction, basin_of, descend, settle

MODES = ("grid", "normalized", "neighbor")


# ----------------------------------------------------------------------------- landscapes


@dataclasses.dataclass(frozen=True, eq=False)
class Wells:
    """f(x) = -sum_k a_k exp(-||x - c_k||^2 / (2 s_k^2)) and its analytic gradient."""

    centres: np.ndarray  # (K, d)
    depths: np.ndarray  # (K,)
    widths: np.ndarray  # (K,)

    def _terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diff = x[..., None, :] - self.centres  # (..., K, d)
        bumps = self.depths * np.exp(-(diff**2).sum(-1) / (2 * self.widths**2))  # (..., K)
        return diff, bumps

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return -self._terms(x)[1].sum(-1)

    def grad(self, x: np.ndarray) -> np.ndarray:
        diff, bumps = self._terms(x)
        return ((bumps / self.widths**2)[..., None] * diff).sum(-2)  # (..., d)

    def hessian(self, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
        d = len(x)
        cols = [(self.grad(x + eps * e) - self.grad(x - eps * e)) / (2 * eps) for e in np.eye(d)]
        return np.array(cols)  # (d, d), symmetric up to rounding

    def minima(self) -> np.ndarray:
        runs = [
            minimize(self, c, jac=self.grad, method="BFGS", options={"gtol": 1e-11})
            for c in self.centres
        ]
        return np.array([r.x for r in runs])  # (K, d)


@dataclasses.dataclass(frozen=True, eq=False)
class Case:
    wells: Wells
    table: TabulatedFunction
    minima: np.ndarray  # (K, d) true minima of the analytic function
    starts: np.ndarray  # (N, d) uniform in the box


SPECS = {
    # d: (centres, depths, widths, half side of the box, nodes per axis)
    2: ([(-2, -1.5), (2, -1), (0.5, 2.2)], [1.0, 0.8, 1.2], [0.9, 0.8, 1.0], 4.0, 81),
    3: (
        [(-1.5, -1.5, -1), (1.5, -1, 0.5), (0, 1.8, -0.5), (0.5, 0.3, 2)],
        [1.0, 0.8, 1.2, 0.9],
        [0.8, 0.8, 0.9, 0.7],
        3.0,
        61,
    ),
    # 13^5 = 371,293 nodes: coarse (half a width per cell) but a few MB only.
    5: ([(-1.5, -1, 0, 1, -0.5), (1.5, 1, -1, 0, 0.5), (0, 1.5, 1.5, -1.5, 0)], [1, 0.8, 1.2],
        [1.0, 1.0, 1.0], 3.0, 13),
}  # fmt: skip


@functools.cache
def case(d: int) -> Case:
    centres, depths, widths, half, n = SPECS[d]
    wells = Wells(np.array(centres, float), np.array(depths, float), np.array(widths, float))
    table = TabulatedFunction.tabulate(wells, [(-half, half)] * d, n)
    starts = np.random.default_rng(d).uniform(-half, half, (300, d))
    return Case(wells, table, wells.minima(), starts)


def cells_apart(points: np.ndarray, targets: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Chebyshev distance in cells, max_k |x_k - m_k| / h_k, between every pair: (N, M)."""
    return (np.abs(points[:, None, :] - targets[None]) / h).max(-1)


def true_minimum(c: Case, points: np.ndarray) -> np.ndarray:
    """Index of the true minimum within one cell per axis of each point, else -1: (N,)."""
    dist = cells_apart(points, c.minima, c.table.spacing)  # (N, K)
    return np.where(dist.min(1) <= 1.0, dist.argmin(1), -1)


def flow_basins(c: Case, x0: np.ndarray, t_end: float = 60.0) -> np.ndarray:
    """True minimum that the gradient flow of the analytic f reaches from each point, else -1."""
    n, d = x0.shape

    # dx/dt = -grad f / |f| traces the same paths as dx/dt = -grad f (f < 0 everywhere, so the
    # factor is positive) but does not crawl through the far tails where |grad f| ~ 1e-10, and
    # every minimum attracts at a rate ~1/s^2; all the points are integrated as one system.
    def velocity(_t: float, y: np.ndarray) -> np.ndarray:
        x = y.reshape(n, d)
        return (-c.wells.grad(x) / np.abs(c.wells(x))[:, None]).ravel()

    sol = solve_ivp(velocity, (0.0, t_end), x0.ravel(), rtol=1e-6, atol=1e-9)
    assert sol.success, sol.message
    end = sol.y[:, -1].reshape(n, d)
    dist = np.linalg.norm(end[:, None, :] - c.minima[None], axis=-1)  # (n, K)
    return np.where(dist.min(1) < 1e-3, dist.argmin(1), -1)  # -1: still near a saddle


# Ambiguity margin: a start counts as clear only when the reference sends it AND its shifts by
# +-1 and +-2 cells along every axis to the same minimum, i.e. no basin boundary lies within two
# cells of it along any axis. One cell is what the table itself blurs; the second covers the
# zigzag of the `neighbor` walk around the flow line.
REACH = (1, 2)


def clear_basins(c: Case, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Basin of each start under the analytic flow, and whether it is clear: (N,), (N,) bool."""
    d = starts.shape[1]
    shifts = [np.zeros((1, d))] + [s * k * np.eye(d) for k in REACH for s in (1, -1)]
    shifts = np.concatenate(shifts) * c.table.spacing  # (1 + 2 d len(REACH), d)
    probes = np.clip(starts[:, None, :] + shifts, c.table.lower, c.table.upper)  # (N, P, d)
    basins = flow_basins(c, probes.reshape(-1, d)).reshape(len(starts), len(shifts))
    clear = (basins == basins[:, :1]).all(1) & (basins[:, 0] >= 0)
    return basins[:, 0], clear


def is_near_saddle(c: Case, x: np.ndarray) -> bool:
    """Whether a true saddle point of f (gradient 0, Hessian indefinite) is within a cell of x."""
    run = minimize(
        lambda y: (c.wells.grad(y) ** 2).sum(), x, method="BFGS", options={"gtol": 1e-14}
    )
    eig = np.linalg.eigvalsh(c.wells.hessian(run.x))
    near = cells_apart(run.x[None], x[None], c.table.spacing)[0, 0] <= 1.0
    return bool(near and np.linalg.norm(c.wells.grad(run.x)) < 1e-6 and eig[0] < 0 < eig[-1])


# ------------------------------------------------------------------- 1. table and gradient


@pytest.mark.parametrize("d", [1, 2, 3])
def test_gradient_is_second_order_inside_and_first_order_on_the_faces(d: int) -> None:
    a = np.array([1.3, -0.8, 0.6])[:d]

    def f(x: np.ndarray) -> np.ndarray:
        return np.sin(x @ a) + np.exp(0.3 * x[..., 0])

    def grad(x: np.ndarray) -> np.ndarray:
        g = np.cos(x @ a)[..., None] * a
        g[..., 0] += 0.3 * np.exp(0.3 * x[..., 0])
        return g

    bounds = [(-1.0, 1.5), (-2.0, 1.0), (-1.0, 1.0)][:d]  # unequal spacings per axis
    inner, faces, between = [], [], []
    rng = np.random.default_rng(0)
    for n in (9, 17, 33):  # the spacing halves each time, so coarse nodes stay nodes
        t = TabulatedFunction.tabulate(f, bounds, n)
        nodes = np.stack(np.meshgrid(*t.axes, indexing="ij"), axis=-1)
        assert t.gradient.shape == (*t.shape, d)
        err = np.abs(t.gradient - grad(nodes)).max(-1)[(slice(None, None, (n - 1) // 8),) * d]
        inner.append(err[(slice(1, -1),) * d].max())  # the 9^d nodes common to all three grids
        faces.append(err.max())
        # Points at least one coarse cell inside the box, where no border node is interpolated.
        box = t.upper - t.lower
        pts = rng.uniform(t.lower + box / 8, t.upper - box / 8, (2000, d))
        between.append(np.abs(t.gradient_at(pts) - grad(pts)).max())
    # Halving h divides the central-difference error by 4, the one-sided border one by 2.
    np.testing.assert_allclose(np.divide(inner[:-1], inner[1:]), 4.0, rtol=0.05)
    np.testing.assert_allclose(np.divide(faces[:-1], faces[1:]), 2.0, rtol=0.1)
    np.testing.assert_allclose(np.divide(between[:-1], between[1:]), 4.0, rtol=0.1)


def test_value_at_reproduces_nodes_and_is_exact_for_multilinear_functions() -> None:
    rng = np.random.default_rng(1)
    b = np.array([0.5, -1.0, 2.0, 0.3, -0.7])

    def f(x: np.ndarray) -> np.ndarray:  # degree <= 1 in each coordinate: multilinear
        return 1.5 + x @ b + 0.7 * x[..., 0] * x[..., 1] - 0.25 * np.prod(x, axis=-1)

    t = TabulatedFunction.tabulate(f, [(-1, 2), (0, 1), (-3, -1), (-1, 1), (5, 6)], (3, 4, 5, 3, 4))
    pts = rng.uniform(t.lower - 0.5, t.upper + 0.5, (5000, 5))  # some outside: clipped
    np.testing.assert_allclose(t.value_at(pts), f(np.clip(pts, t.lower, t.upper)), atol=1e-12)

    c = case(3)
    nodes = np.stack(np.meshgrid(*c.table.axes, indexing="ij"), axis=-1).reshape(-1, 3)
    np.testing.assert_allclose(c.table.value_at(nodes), c.table.values.ravel(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(c.table.value_at(nodes), c.wells(nodes), rtol=0, atol=1e-13)


def test_nearest_cell_and_table_invariants() -> None:
    t = case(2).table
    idx = np.random.default_rng(2).integers(0, 81, (500, 2))
    jitter = np.random.default_rng(3).uniform(-0.49, 0.49, (500, 2)) * t.spacing
    np.testing.assert_array_equal(t.nearest_cell(t.lower + idx * t.spacing + jitter), idx)
    np.testing.assert_array_equal(t.nearest_cell(np.array([[-9.0, 9.0]])), [[0, 80]])
    assert t.ndim == 2 and t.shape == (81, 81)
    np.testing.assert_allclose(t.spacing, [0.1, 0.1])
    assert t.gradient is t.gradient  # computed once
    with pytest.raises(ValueError, match="read-only"):
        t.values[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.values = np.zeros((81, 81))  # type: ignore[misc]


# ----------------------------------------------------------- 2. every point ends at a minimum


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("mode", MODES)
def test_every_point_settles_within_a_cell_of_a_true_minimum(d: int, mode: str) -> None:
    c = case(d)
    end = settle(c.table, c.starts, mode)
    assert not end.moving.any()
    missed = np.flatnonzero(true_minimum(c, end.points) < 0)
    if mode == "neighbor":
        assert len(missed) == 0  # a saddle node always has a lower neighbour
    else:
        # A fixed-size step that fails stops the point, so a path running along a ridge into a
        # saddle may halt there (see the module docstring and the saddle test below). That must
        # be the only way to miss, and rare: 0.02-0.08 % of uniform starts on these wells.
        assert all(is_near_saddle(c, end.points[k]) for k in missed)
        assert len(missed) <= 0.01 * len(c.starts)


def test_one_dimensional_descent() -> None:
    t = TabulatedFunction.tabulate(lambda x: ((x - 0.3) ** 2)[..., 0], [(-1, 1)], 41)
    starts = np.linspace(-1, 1, 9)[:, None]
    for mode in MODES:
        end = settle(t, starts, mode)
        assert np.all(np.abs(end.points - 0.3) <= t.spacing), mode
    # On a flat floor, where the interpolated gradient is not zero yet, a step that would keep
    # the value level is refused: points move only when they go down.
    floor = TabulatedFunction.tabulate(
        lambda x: np.maximum(np.abs(x[..., 0]) - 0.5, 0), [(-1, 1)], 21
    )
    for mode in ("grid", "normalized"):
        assert floor.gradient_at([[0.45]])[0, 0] > 0
        assert settle(floor, [[0.45]], mode).points.tolist() == [[0.45]], mode


def test_gradient_modes_stall_on_a_saddle_and_neighbor_does_not() -> None:
    # Two equal wells, mirror images in x0 = 0 (h = 0.25 is exact in binary, so the table is
    # exactly symmetric): a start on the mirror line goes straight down the ridge to the saddle.
    wells = Wells(np.array([[-1.5, 0.0], [1.5, 0.0]]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    t = TabulatedFunction.tabulate(wells, [(-4, 4), (-4, 4)], 33)
    np.testing.assert_array_equal(t.values, t.values[::-1])
    c = Case(wells, t, wells.minima(), np.array([[0.0, 3.0]]))
    saddle = np.array([[0.0, 0.0]])
    for mode in ("grid", "normalized"):
        end = settle(t, c.starts, mode)
        assert cells_apart(end.points, saddle, t.spacing).max() <= 1.0, mode
        assert is_near_saddle(c, end.points[0])
    assert true_minimum(c, settle(t, c.starts, "neighbor").points)[0] >= 0


# ----------------------------------------------------- 3. each point stays in its true basin


@pytest.mark.parametrize("d", [2, 3])
def test_points_end_in_the_basin_of_the_gradient_flow(d: int) -> None:
    c = case(d)
    basin, clear = clear_basins(c, c.starts)
    assert np.mean(~clear) < 0.15  # the comparison below covers most of the box
    for mode in MODES:
        got = true_minimum(c, settle(c.table, c.starts, mode).points)
        wrong = np.count_nonzero(clear & (got != basin))
        if mode == "neighbor" and d == 3:
            # NOTE: the lattice walk steps in 26 directions only. Near a ridge that runs at an
            # angle to all of them it keeps stepping at that angle, so it can cross the ridge a
            # few cells from where it started: the band it may cross grows with the length of the
            # ridge, not with one cell, and no fixed cell margin excludes it (here +-4 cells would,
            # at the cost of 22 % of the starts). In 2-D (8 directions) it stays within REACH.
            # Gradient modes follow the flow's direction and stay exact.
            assert wrong <= 0.02 * np.count_nonzero(clear), wrong
        else:
            assert wrong == 0, mode


# ------------------------------------------------------------------------ 4. local minima


@pytest.mark.parametrize("d", [2, 3, 5])
def test_local_minima_are_the_true_minima_deepest_first(d: int) -> None:
    c = case(d)
    found = c.table.local_minima()
    assert found.shape == c.minima.shape
    dist = cells_apart(found, c.minima, c.table.spacing)  # (K, K)
    assert np.all(dist.min(1) <= 1.0) and len(set(dist.argmin(1))) == len(c.minima)
    depth = c.wells(found)
    assert np.all(np.diff(depth) > 0)  # sorted by value, lowest first
    assert dist.argmin(1)[0] == np.argmin(c.wells(c.minima))


def test_local_minima_on_the_border_and_on_a_plateau() -> None:
    box = [(-1, 1), (0, 2), (-2, -1)]
    slope = TabulatedFunction.tabulate(lambda x: x @ np.array([1.0, 2.0, -3.0]), box, 5)
    np.testing.assert_allclose(slope.local_minima(), [[-1, 0, -1]])  # a corner of the box
    face = TabulatedFunction.tabulate(lambda x: (x[..., 0] - 0.3) ** 2 + x[..., 1], box[:2], 21)
    np.testing.assert_allclose(face.local_minima(), [[0.3, 0.0]], atol=1e-12)  # inside a face
    flat = TabulatedFunction.tabulate(lambda x: np.zeros(x.shape[:-1]), box[:2], 5)
    assert flat.local_minima().shape == (0, 2)  # strict: a plateau has no minimum
    assert basin_of(flat, np.zeros((3, 2))).tolist() == [-1, -1, -1]
    for mode in ("grid", "normalized"):  # zero gradient: settled at once, not moved
        end = settle(flat, np.array([[0.1, 1.3]]), mode)
        assert end.step == 1 and end.points.tolist() == [[0.1, 1.3]]


def test_basin_of_uses_a_one_and_a_half_cell_radius() -> None:
    t = case(2).table
    m = t.local_minima()  # (3, 2)
    h = t.spacing
    pts = np.array([m[1] + 1.4 * h, m[2] - [1.5, 0.0] * h, m[0] + [1.6, 0.0] * h])
    assert basin_of(t, pts).tolist() == [1, 2, -1]


# --------------------------------------------------------------- 5. trajectories, step by step


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("mode", MODES)
def test_trajectories_descend_and_obey_their_rule(d: int, mode: str) -> None:
    c = case(d)
    t, h = c.table, c.table.spacing
    path = list(descend(t, c.starts, mode))
    assert [s.step for s in path] == list(range(len(path)))
    np.testing.assert_array_equal(path[0].points, c.starts)
    for before, after in itertools.pairwise(path):
        assert np.all(after.values <= before.values)  # never uphill, for any point
        assert np.all((after.points >= t.lower) & (after.points <= t.upper))
        # Settled points stay settled and stay put.
        assert not np.any(after.moving & ~before.moving)
        np.testing.assert_array_equal(after.points[~before.moving], before.points[~before.moving])
        moved = np.linalg.norm((after.points - before.points) / h, axis=1)  # (N,) in cells
        if mode == "grid":
            np.testing.assert_allclose(moved[after.moving], 1.0, rtol=1e-9)
            np.testing.assert_allclose(t.value_at(after.points), after.values, rtol=0, atol=0)
        elif mode == "normalized":
            went = moved > 0  # a move is exactly the current step; a refusal halves it
            np.testing.assert_allclose(moved[went], before.step_length[went], rtol=1e-9)
            halved = before.moving & ~went
            np.testing.assert_array_equal(after.step_length[halved], before.step_length[halved] / 2)
            assert np.all(after.step_length[after.moving] >= 0.125)
            assert np.all(after.step_length[~after.moving & before.moving] < 0.125)
        elif after.step >= 2:  # neighbor: lattice moves between nodes, after the snap
            shift = (after.points - before.points) / h
            np.testing.assert_allclose(shift, np.rint(shift), atol=1e-9)
            assert np.abs(np.rint(shift)).max() <= 1
            np.testing.assert_allclose(t.value_at(after.points), after.values, atol=1e-13)
    assert not path[-1].moving.any() and len(path) <= 501


def test_gradient_steps_follow_the_gradient_in_cell_units() -> None:
    # Unequal spacings (0.1 and 0.5): the step direction is -(g * h) in cells, not -g.
    bowl = TabulatedFunction.tabulate(lambda x: x[..., 0] ** 2 + 3 * x[..., 1] ** 2,
                                      [(-1, 1), (-5, 5)], (21, 21))  # fmt: skip
    h = bowl.spacing
    starts = np.array([[0.83, -3.7], [-0.41, 2.2], [0.5, 4.1]])
    slope = bowl.gradient_at(starts) * h  # (3, 2) per cell
    expected = -slope / np.linalg.norm(slope, axis=1, keepdims=True)  # unit steps in cells
    for mode, cells in (("grid", 1.0), ("normalized", 4.0)):
        first = list(descend(bowl, starts, mode, max_steps=1))[-1]
        np.testing.assert_allclose((first.points - starts) / h, cells * expected, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_a_slope_leads_every_point_to_the_corner_without_leaving_the_box(mode: str) -> None:
    slope = TabulatedFunction.tabulate(lambda x: x @ np.array([1.0, 0.3]), [(-1, 1), (0, 2)], 21)
    starts = np.random.default_rng(4).uniform(slope.lower, slope.upper, (200, 2))
    path = list(descend(slope, starts, mode))
    for s in path:
        assert np.all((s.points >= slope.lower) & (s.points <= slope.upper))
    assert cells_apart(path[-1].points, slope.lower[None], slope.spacing).max() <= 1.0


# ------------------------------------------------------------------------- 6. bad input


def test_bad_input_names_the_value_and_what_is_accepted() -> None:
    t = case(2).table
    ok = np.zeros((4, 2))
    cases = [
        (lambda: descend(t, ok, "adam"), r"mode must be one of 'grid', 'normalized', 'neighbor'"),
        (lambda: descend(t, np.zeros((4, 3))), r"starts must have shape \(N, 2\); got \(4, 3\)"),
        (lambda: descend(t, np.zeros(2)), r"starts must have shape \(N, 2\); got \(2,\)"),
        (lambda: descend(t, [[0.0, np.nan]]), r"starts must be finite; got \[0.0, nan\] in row 0"),
        (lambda: descend(t, ok, max_steps=0), "max_steps must be an int >= 1; got 0"),
        (lambda: descend(t, ok, max_steps=2.5), "max_steps must be an int >= 1; got 2.5"),
        (lambda: descend(t, ok, initial_step=0), "initial_step must be > 0 cells; got 0"),
        (lambda: descend(t, ok, min_step=-1.0), r"min_step must be > 0 cells; got -1.0"),
        (lambda: settle(t, ok, "steepest"), "got 'steepest'"),
        (lambda: basin_of(t, np.zeros((2, 5))), r"points must have shape \(N, 2\)"),
        (
            lambda: TabulatedFunction.tabulate(
                lambda x: np.where(x[..., 0] > 0, 1, np.nan), [(-1, 1)], 5
            ),
            "values must be finite; got NaN or inf at 3 of 5 nodes",
        ),
        (
            lambda: TabulatedFunction((np.arange(3.0),), np.array([0.0, np.nan, 1.0])),
            "values must be finite",
        ),
        (
            lambda: TabulatedFunction.tabulate(np.sum, [(0, 1), (0, 1)], (5, 2)),
            r"resolution must be an int >= 3, or 2 of them; got \(5, 2\)",
        ),
        (
            lambda: TabulatedFunction.tabulate(np.sum, [(0, 1), (1, 1)], 5),
            r"bounds must have low < high; got \(1.0, 1.0\) on axis 1",
        ),
        (
            lambda: TabulatedFunction.tabulate(np.sum, [(0, 1), (0, 1)], (5, 5, 5)),
            r"resolution must be an int >= 3, or 2 of them; got \(5, 5, 5\)",
        ),
        (
            lambda: TabulatedFunction((np.array([0.0, 1.0, 3.0]),), np.zeros(3)),
            "axis 0 must be evenly spaced",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()  # descend checks on the call, before any step is asked for


# -------------------------------------------------------------------- 7. many points at once


@functools.cache
def many_starts() -> tuple[np.ndarray, np.ndarray]:
    """10,000 uniform starts in the 2-D box and their basins under the analytic flow."""
    starts = np.random.default_rng(7).uniform(-4, 4, (10_000, 2))
    return starts, flow_basins(case(2), starts)


@pytest.mark.parametrize("mode", MODES)
def test_ten_thousand_points_settle_in_their_flow_basins(mode: str) -> None:
    c = case(2)
    starts, basin = many_starts()
    end = settle(c.table, starts, mode)  # vectorized: about a tenth of a second
    assert isinstance(end, DescentStep) and not end.moving.any()
    got = true_minimum(c, end.points)
    # Checking the margin of all 10,000 starts would take 9 flows each, so only the starts that
    # disagree are checked: every one of them must lie within REACH of a ridge (about 7 % of the
    # box does; 0.02-0.9 % of the starts disagree, depending on the mode).
    wrong = np.flatnonzero(got != basin)
    assert len(wrong) < 0.02 * len(starts)
    assert not clear_basins(c, starts[wrong])[1].any()
    # basin_of names the table minimum that lies within a cell of the true one each point reached.
    table_min = c.table.local_minima()[basin_of(c.table, end.points)]  # (N, 2)
    reached = got >= 0
    np.testing.assert_array_equal(true_minimum(c, table_min[reached]), got[reached])
