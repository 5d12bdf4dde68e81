"""Math-free, parameter-free gradient descent on a tabulated function.

Vincent Granville's idea (MLTechniques, "Math-free, Parameter-free Gradient Descent in Python",
2023): compute the function once, on an evenly spaced grid, and never again. The gradient is a
discrete derivative of that table (``np.gradient``: central differences, second-order accurate
inside the box, first-order on its faces) and the learning rate is the mesh size itself, so there
is nothing to tune. This module is written from that idea, not from his code; it works in any
dimension ``d >= 1`` and is vectorized over the points.

Between grid nodes, values and gradients are multilinear interpolations of the table. Lengths
are counted in *cells*: a displacement ``dx`` measures ``dx / h`` cells, ``h`` the spacing of
each axis. Granville's descriptions of the update are loose; these are the rules, pinned down:

``grid``
    Each step moves exactly one cell along the steepest descent in cell units,
    ``u = -(g * h) / ||g * h||`` and ``x <- x + h * u`` (``g`` the interpolated gradient). A point
    settles for good as soon as that step would not lower its value, or its gradient is zero; in
    a round bowl that leaves it within half a cell of the minimum.
``normalized``
    The same direction, but the step starts at ``initial_step`` cells; when it would not lower
    the value the point stays put and its own step is halved. It settles once its step is below
    ``min_step`` cells (or its gradient is zero).
``neighbor``
    No derivative at all. At step 1 the point snaps to the lowest corner of the cell it lies in.
    From there each step goes to the *steepest* of the ``3**d - 1`` neighbouring nodes, the one
    with the largest drop per cell of distance (a diagonal neighbour is ``sqrt(k)`` cells away),
    if that drop is positive; ties stay. It settles on a node that no neighbour undercuts, which
    (barring exact ties) is one of :meth:`TabulatedFunction.local_minima`.

In every mode a point's value never rises from one step to the next, and points never leave the
box (positions are clipped into it). Two consequences worth knowing:

- ``grid`` and ``normalized`` stop where a step fails, so a path that runs along a ridge into a
  saddle point can come to rest within a cell of the saddle; ``neighbor`` never stops on a saddle,
  which always has a lower neighbour.
- ``neighbor`` walks in ``3**d - 1`` directions only (in 2-D up to 22.5 degrees off the
  gradient), so near a ridge between two basins it may cross into the other basin where the
  gradient flow would not. Taking the steepest rather than the lowest neighbour (a diagonal is
  longer, hence often lower) keeps that band narrow: several times fewer crossings on the test
  wells.
"""

import collections
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Self, get_args

import numpy as np

Mode = Literal["grid", "normalized", "neighbor"]
MODES: tuple[str, ...] = get_args(Mode)


@functools.cache
def _block(d: int, entries: tuple[int, ...]) -> np.ndarray:
    """Every integer offset whose coordinates are taken from ``entries``: (len(entries)**d, d)."""
    grids = np.meshgrid(*[np.array(entries)] * d, indexing="ij")
    block = np.stack(grids, axis=-1).reshape(-1, d)  # first row is entries[0] on every axis
    block.setflags(write=False)
    return block


# NOTE: eq=False because field-wise == on arrays is ambiguous; the cached properties below write
# into the instance __dict__ directly, which a frozen dataclass without slots allows.
@dataclass(frozen=True, eq=False)
class TabulatedFunction:
    """A function sampled once on a regular grid: the only thing the descent ever looks at.

    Parameters
    ----------
    axes : tuple of ndarray
        One 1-D, evenly spaced, increasing array of at least 3 coordinates per dimension.
    values : ndarray
        The function at every node, shape ``(n_1, ..., n_d)``; stored as read-only float64.

    Examples
    --------
    >>> bowl = TabulatedFunction.tabulate(lambda p: ((p - 0.3) ** 2).sum(-1), [(-1, 1)] * 2, 21)
    >>> bowl.shape, bowl.spacing.tolist()
    ((21, 21), [0.1, 0.1])
    >>> bowl.local_minima().round(3).tolist()
    [[0.3, 0.3]]
    >>> bowl.value_at([[0.0, 0.0]]).round(3).tolist()
    [0.18]
    """

    axes: tuple[np.ndarray, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        axes = tuple(np.array(a, dtype=np.float64) for a in self.axes)
        for i, a in enumerate(axes):
            steps = np.diff(a)
            if a.ndim != 1 or a.size < 3 or not np.all(steps > 0):
                raise ValueError(f"axis {i} must be 1-D, increasing, >= 3 points; got {a!r}")
            if not np.allclose(steps, steps.mean(), rtol=1e-6, atol=0):
                raise ValueError(f"axis {i} must be evenly spaced; got steps {steps!r}")
            a.setflags(write=False)
        values = np.array(self.values, dtype=np.float64)
        if values.shape != tuple(a.size for a in axes):
            raise ValueError(
                f"values must have shape {tuple(a.size for a in axes)} to match the axes; "
                f"got {values.shape}"
            )
        if not np.all(np.isfinite(values)):
            bad = int(np.count_nonzero(~np.isfinite(values)))
            raise ValueError(
                f"values must be finite; got NaN or inf at {bad} of {values.size} nodes"
            )
        values.setflags(write=False)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "values", values)

    @classmethod
    def tabulate(
        cls,
        f: Callable[[np.ndarray], np.ndarray],
        bounds: Sequence[tuple[float, float]],
        resolution: int | Sequence[int],
    ) -> Self:
        """Sample ``f`` (points ``(..., d)`` -> values ``(...)``) on a grid over ``bounds``.

        ``resolution`` is the number of nodes per axis (>= 3), one int for all or one per axis.

        Examples
        --------
        >>> TabulatedFunction.tabulate(lambda p: p[..., 0], [(0, 1), (0, 2)], (3, 5)).shape
        (3, 5)
        """
        box = np.asarray(bounds, dtype=np.float64)
        if box.ndim != 2 or box.shape[1] != 2 or len(box) == 0:
            raise ValueError(f"bounds must be a sequence of (low, high) pairs; got {bounds!r}")
        for i, (low, high) in enumerate(box):
            if not low < high:  # also rejects NaN
                raise ValueError(f"bounds must have low < high; got ({low}, {high}) on axis {i}")
        res = np.asarray(resolution)
        res = np.full(len(box), res) if res.ndim == 0 else res
        if res.shape != (len(box),) or not np.issubdtype(res.dtype, np.integer) or any(res < 3):
            raise ValueError(
                f"resolution must be an int >= 3, or {len(box)} of them; got {resolution!r}"
            )
        axes = tuple(np.linspace(low, high, n) for (low, high), n in zip(box, res, strict=True))
        nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)  # (n_1, ..., n_d, d)
        return cls(axes, np.asarray(f(nodes), dtype=np.float64))

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def lower(self) -> np.ndarray:
        return np.array([a[0] for a in self.axes])  # (d,)

    @property
    def upper(self) -> np.ndarray:
        return np.array([a[-1] for a in self.axes])  # (d,)

    @property
    def spacing(self) -> np.ndarray:
        return (self.upper - self.lower) / (np.array(self.shape) - 1)  # (d,)

    @functools.cached_property
    def gradient(self) -> np.ndarray:
        """The discrete gradient at every node, shape ``(*shape, d)``, computed on first use."""
        parts = np.gradient(self.values, *self.spacing)  # a list of d arrays, a bare array if d=1
        grad = np.stack(parts if self.ndim > 1 else [parts], axis=-1)  # (*shape, d)
        grad.setflags(write=False)
        return grad

    def value_at(self, points: np.ndarray) -> np.ndarray:
        """Multilinear interpolation of the table at ``points`` (N, d), clipped into the box."""
        return self._interpolate(self.values, _as_points(self, points, "points"))

    def gradient_at(self, points: np.ndarray) -> np.ndarray:
        """Multilinear interpolation of :attr:`gradient` at ``points`` (N, d): (N, d)."""
        return self._interpolate(self.gradient, _as_points(self, points, "points"))

    def nearest_cell(self, points: np.ndarray) -> np.ndarray:
        """Integer index of the node nearest to each point (N, d), clipped into the box: (N, d)."""
        t = (_as_points(self, points, "points") - self.lower) / self.spacing  # (N, d) in cells
        return np.clip(np.rint(t).astype(np.intp), 0, np.array(self.shape) - 1)

    def local_minima(self) -> np.ndarray:
        """Nodes strictly lower than all their ``3**d - 1`` neighbours, lowest first: (M, d).

        A node on a face of the box compares only with the neighbours that exist.
        """
        idx = self._minimum_nodes  # (M, d)
        return self.lower + idx * self.spacing

    @functools.cached_property
    def _minimum_nodes(self) -> np.ndarray:
        # Padding with +inf gives border nodes phantom neighbours that never win the comparison.
        padded = np.pad(self.values, 1, constant_values=np.inf)
        is_min = np.ones(self.shape, dtype=bool)
        for offset in _block(self.ndim, (0, -1, 1))[1:]:  # 3^d - 1 shifted views, no copies
            view = tuple(slice(1 + o, 1 + o + n) for o, n in zip(offset, self.shape, strict=True))
            is_min &= self.values < padded[view]
        idx = np.argwhere(is_min)  # (M, d)
        return idx[np.argsort(self.values[tuple(idx.T)], kind="stable")]

    def _cell(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cell holding each point (N, d): its first corner (N, d) and the offset in it."""
        t = (x - self.lower) / self.spacing  # (N, d) position in cells
        i0 = np.clip(np.floor(t).astype(np.intp), 0, np.array(self.shape) - 2)  # (N, d)
        return i0, t - i0  # the offset is in [0, 1] on every axis

    def _interpolate(self, table: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Blend ``table`` (*shape, ...) over the 2^d corners of the cell holding each point."""
        i0, frac = self._cell(x)  # (N, d), (N, d)
        corners = _block(self.ndim, (0, 1))  # (2^d, d)
        # The weight of a corner is the product over axes of frac (far side) or 1 - frac (near).
        w = np.where(corners, frac[:, None, :], 1.0 - frac[:, None, :]).prod(axis=-1)  # (N, 2^d)
        idx = i0[:, None, :] + corners  # (N, 2^d, d)
        gathered = table[tuple(np.moveaxis(idx, -1, 0))]  # (N, 2^d, ...)
        return np.einsum("nc,nc...->n...", w, gathered)


def _as_points(function: TabulatedFunction, points: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != function.ndim:
        raise ValueError(f"{name} must have shape (N, {function.ndim}); got {x.shape}")
    if not np.all(np.isfinite(x)):
        row = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"{name} must be finite; got {x[row].tolist()} in row {row}")
    return np.clip(x, function.lower, function.upper)  # (N, d)


@dataclass
class DescentStep:
    """The state of every point after one step of :func:`descend`.

    ``moving`` flags the points that have not settled yet; ``step_length`` is each point's
    current step in cells (it only changes in ``normalized`` mode; 1 otherwise).
    """

    step: int
    points: np.ndarray  # (N, d)
    values: np.ndarray  # (N,)
    moving: np.ndarray  # (N,) bool
    step_length: np.ndarray  # (N,)


def descend(
    function: TabulatedFunction,
    starts: np.ndarray,
    mode: Mode = "grid",
    max_steps: int = 500,
    initial_step: float = 4.0,
    min_step: float = 0.125,
) -> Iterator[DescentStep]:
    """Run the descent from ``starts`` (N, d); yield step 0 (the starts) then one step per move.

    Stops after ``max_steps`` steps or as soon as every point has settled. The modes are
    defined in the module docstring; ``initial_step`` and ``min_step`` (in cells) only matter
    for ``normalized``. Arguments are checked here, before the first step is asked for.

    Examples
    --------
    >>> bowl = TabulatedFunction.tabulate(lambda p: (p**2).sum(-1), [(-1, 1)] * 2, 11)
    >>> path = list(descend(bowl, np.array([[0.75, -0.55]]), mode="neighbor"))
    >>> [s.points[0].round(2).tolist() for s in path]
    [[0.75, -0.55], [0.6, -0.4], [0.4, -0.2], [0.2, -0.2], [0.0, 0.0], [0.0, 0.0]]
    >>> [bool(s.moving[0]) for s in path]  # the last step finds no lower neighbour
    [True, True, True, True, True, False]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    if not isinstance(max_steps, int | np.integer) or max_steps < 1:
        raise ValueError(f"max_steps must be an int >= 1; got {max_steps!r}")
    if not initial_step > 0:
        raise ValueError(f"initial_step must be > 0 cells; got {initial_step!r}")
    if not min_step > 0:
        raise ValueError(f"min_step must be > 0 cells; got {min_step!r}")
    x = _as_points(function, starts, "starts")
    return _descent(function, x, mode, max_steps, float(initial_step), float(min_step))


def _descent(
    fn: TabulatedFunction, x: np.ndarray, mode: str, max_steps: int, initial: float, least: float
) -> Iterator[DescentStep]:
    h, d = fn.spacing, fn.ndim
    values = fn.value_at(x)  # (N,)
    moving = np.ones(len(x), dtype=bool)
    length = np.full(len(x), initial if mode == "normalized" else 1.0)
    yield DescentStep(0, x, values, moving, length)
    offsets = _block(d, (0, -1, 1))  # (3^d, d); row 0 is the node itself
    reach = np.maximum(np.linalg.norm(offsets, axis=1), 1.0)  # (3^d,) cells to each neighbour
    top = np.array(fn.shape) - 1  # (d,) last node index per axis
    for step in range(1, max_steps + 1):
        x, values, moving, length = x.copy(), values.copy(), moving.copy(), length.copy()
        i = np.flatnonzero(moving)  # only the points still on their way cost anything
        if mode == "neighbor":
            if step == 1:
                # NOTE: the interpolated start value is a convex blend of its cell's corners, so
                # snapping to the lowest corner never raises it (the nearest node might).
                corners = fn._cell(x)[0][:, None, :] + _block(d, (0, 1))  # (N, 2^d, d)
                heights = fn.values[tuple(np.moveaxis(corners, -1, 0))]  # (N, 2^d)
                cells = corners[np.arange(len(x)), heights.argmin(axis=1)]  # (N, d)
                x, values = fn.lower + cells * h, fn.values[tuple(cells.T)]
            else:
                around = np.clip(cells[i, None, :] + offsets, 0, top)  # (n, 3^d, d)
                heights = fn.values[tuple(np.moveaxis(around, -1, 0))]  # (n, 3^d)
                # Steepest, not lowest: the drop per cell of distance, so a diagonal neighbour
                # wins only when it is really downhill; the walk then tracks the gradient flow.
                best = ((heights - heights[:, :1]) / reach).argmin(axis=1)  # (n,); ties: stay
                rows = np.arange(len(i))
                moving[i] = heights[rows, best] < heights[:, 0]
                cells[i] = around[rows, best]
                x[i], values[i] = fn.lower + cells[i] * h, heights[rows, best]
        else:
            slope = fn.gradient_at(x[i]) * h  # (n, d) change of f per cell along each axis
            norm = np.linalg.norm(slope, axis=1)  # (n,)
            u = -slope / np.where(norm > 0, norm, 1.0)[:, None]  # (n, d) unit step in cells
            trial = np.clip(x[i] + length[i, None] * u * h, fn.lower, fn.upper)  # (n, d)
            trial_values = fn.value_at(trial)  # (n,)
            lower = (trial_values < values[i]) & (norm > 0)
            x[i[lower]], values[i[lower]] = trial[lower], trial_values[lower]
            if mode == "grid":
                moving[i] = lower
            else:
                length[i[~lower]] /= 2.0
                moving[i] = (length[i] >= least) & (norm > 0)
        yield DescentStep(step, x, values, moving, length)
        if not moving.any():
            return


def settle(
    function: TabulatedFunction,
    starts: np.ndarray,
    mode: Mode = "grid",
    max_steps: int = 500,
    initial_step: float = 4.0,
    min_step: float = 0.125,
) -> DescentStep:
    """Run :func:`descend` to the end and return its last step.

    Examples
    --------
    >>> bowl = TabulatedFunction.tabulate(lambda p: ((p - 0.3) ** 2).sum(-1), [(-1, 1)] * 2, 21)
    >>> end = settle(bowl, np.array([[-0.9, 0.8], [0.9, -0.7]]), mode="neighbor")
    >>> end.points.round(3).tolist(), bool(end.moving.any())
    ([[0.3, 0.3], [0.3, 0.3]], False)
    """
    steps = descend(function, starts, mode, max_steps, initial_step, min_step)
    return collections.deque(steps, maxlen=1).pop()  # run it through, keeping only the last


def basin_of(function: TabulatedFunction, points: np.ndarray) -> np.ndarray:
    """Index into ``function.local_minima()`` of the minimum nearest to each point (N, d): (N,).

    Distances are Chebyshev distances in cells, ``max_k |x_k - m_k| / h_k``, so the rule does not
    depend on the dimension. A point farther than 1.5 cells from every minimum gets -1: it has not
    reached a minimum (yet), it stalled near a saddle, or it sits on a plateau, where no node is
    strictly lowest.

    Examples
    --------
    >>> bowl = TabulatedFunction.tabulate(lambda p: ((p - 0.3) ** 2).sum(-1), [(-1, 1)] * 2, 21)
    >>> basin_of(bowl, np.array([[0.32, 0.25], [-0.9, 0.8]])).tolist()
    [0, -1]
    """
    x = _as_points(function, points, "points")  # (N, d)
    minima = function.local_minima()  # (M, d)
    if len(minima) == 0:
        return np.full(len(x), -1)
    dist = (np.abs(x[:, None, :] - minima[None]) / function.spacing).max(axis=-1)  # (N, M)
    nearest = dist.argmin(axis=1)  # (N,)
    return np.where(dist[np.arange(len(x)), nearest] <= 1.5, nearest, -1)
