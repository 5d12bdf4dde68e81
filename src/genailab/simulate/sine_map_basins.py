"""Granville's two-dimensional sine map: orbits, attractors and basins of attraction.

The map, with two real parameters ``rho`` and ``lam`` (lambda), is

    x' = x - rho x + lam sin(y) = (1 - rho) x + lam sin(y)
    y' = y - rho y + lam sin(x) = (1 - rho) y + lam sin(x).

It is the fixed-point iteration ``z' = z + g(z)`` for finding the roots of
``g(x, y) = (-rho x + lam sin y, -rho y + lam sin x)``, the form in which Vincent Granville
studies the sine map in "Beautiful Mathematical Images" (Data Science Central, 2021; section 2.1,
"fixed point algorithm") and in his book *Gentle Introduction to Chaotic Dynamical Systems*
(MLTechniques, 2023); the code here is our own. Its fixed points solve ``rho x = lam sin y`` and
``rho y = lam sin x``; the origin is always one, and when ``lam = rho pi / 2`` so is
``(pi / 2, pi / 2)``. The Jacobian is ``[[1 - rho, lam cos y], [lam cos x, 1 - rho]]``, with
eigenvalues ``1 - rho +- lam sqrt(cos x cos y)``: a fixed point attracts when both have modulus
below one. For ``0 < rho < 2`` every orbit stays in the box ``|x|, |y| <= lam / min(rho, 2 - rho)``
(up to its starting transient), so nothing escapes, but orbits may settle on a fixed point, on
a cycle (period 2 is common) or wander chaotically.

A *basin of attraction* is the set of starting points whose orbit ends on a given attractor.
:func:`basins` iterates every pixel of a grid at once (numpy, float64), then identifies the
attractor each pixel reached: it detects the period ``p <= max_period`` of the final orbit
(``|z_{n+p} - z_n| < tol``), summarises the cycle by the mean of its ``p`` points (the same
whichever point of the cycle the orbit is on), rounds that mean to a grid of ``cluster_tol``,
and merges rounded centres closer than ``2 cluster_tol`` (leader clustering, largest first), so
that two pixels share a label exactly when their cycles coincide to within that tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

__all__ = ["BasinMap", "SineMapParams", "basins", "family", "orbit", "sine_map"]

ESCAPED = -1  # label of a starting point whose orbit left the escape radius
UNSETTLED = -2  # label of a starting point whose orbit found no cycle of period <= max_period
_CHECK = 8  # steps between two removals of the pixels that have stopped moving


class SineMapParams(NamedTuple):
    """The two parameters of the map: ``x' = (1 - rho) x + lam sin y`` (and symmetrically)."""

    rho: float
    lam: float


def _params(params) -> SineMapParams:
    try:
        rho, lam = (float(v) for v in params)
    except (TypeError, ValueError):
        raise ValueError(f"params must be a pair (rho, lam) of numbers, got {params!r}") from None
    if not (np.isfinite(rho) and np.isfinite(lam)):
        raise ValueError(f"params must be finite, got rho={rho}, lam={lam}")
    return SineMapParams(rho, lam)


def sine_map(x: np.ndarray, y: np.ndarray, params) -> tuple[np.ndarray, np.ndarray]:
    """One step of the map for arrays of points (any matching shapes).

    Examples
    --------
    >>> x, y = sine_map(np.array([np.pi / 2]), np.array([np.pi / 2]), (0.5, 0.25 * np.pi))
    >>> np.allclose([x[0], y[0]], np.pi / 2)     # lam = rho pi / 2 fixes (pi/2, pi/2)
    True
    """
    rho, lam = _params(params)
    return (1 - rho) * x + lam * np.sin(y), (1 - rho) * y + lam * np.sin(x)


def orbit(x0, params, n: int) -> np.ndarray:
    """The orbit ``z_0, z_1, ..., z_n`` of one or many starting points.

    Parameters
    ----------
    x0 : array-like, shape (2,) or (P, 2)
        Starting point(s) ``(x, y)``.
    params : (rho, lam)
        The map's parameters.
    n : int
        Number of steps, at least 0.

    Returns
    -------
    ndarray, shape (n + 1, 2) or (n + 1, P, 2)

    Examples
    --------
    >>> orbit([0.0, 0.0], (0.8, 2.0), 3)     # the origin is always fixed
    array([[0., 0.],
           [0., 0.],
           [0., 0.],
           [0., 0.]])
    """
    start = np.asarray(x0, dtype=np.float64)
    if start.shape[-1:] != (2,) or start.ndim > 2:
        raise ValueError(f"x0 must have shape (2,) or (P, 2), got {start.shape}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    p = _params(params)
    out = np.empty((n + 1, *start.shape))  # (n+1, [P,] 2)
    out[0] = start
    for i in range(n):  # a loop over time only; all points step together
        out[i + 1, ..., 0], out[i + 1, ..., 1] = sine_map(out[i, ..., 0], out[i, ..., 1], p)
    return out


def family(t: float) -> SineMapParams:
    """The one-parameter family the gallery sweeps: ``rho = 0.35 + 0.65 t``, ``lam = 2.5 rho``.

    Along it the ratio ``lam / rho`` (and so the box ``|x|, |y| <= 2.5`` the fixed points live
    in) stays fixed while the step grows: at ``t = 0`` seven broad, marbled basins, around
    ``t = 0.6`` quilted "pillow" basins, at ``t = 1`` (``rho = 1``) a fine plaid of nine
    attractors, five of them 2-cycles. Just past ``rho = 1`` the cycles double and many orbits
    never settle, which is why the family stops there.

    Examples
    --------
    >>> family(0.5)
    SineMapParams(rho=0.675, lam=1.6875)
    """
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1], got {t}")
    rho = round(0.35 + 0.65 * t, 12)
    return SineMapParams(rho, round(2.5 * rho, 12))


@dataclass
class BasinMap:
    """The basins of attraction of the sine map over a grid of starting points.

    Attributes
    ----------
    labels : ndarray of int, shape (H, W)
        Attractor index of each starting point (row ``i`` is ``y[i]``, column ``j`` is
        ``x[j]``); ``-1`` escaped, ``-2`` found no cycle (chaotic or too slow).
    attractors : ndarray, shape (K, 2)
        Mean point of each attractor's cycle, largest basin first.
    periods : ndarray of int, shape (K,)
        Period of each attractor (1 for a fixed point).
    shares : ndarray, shape (K,)
        Share of all pixels in each basin.
    settle : ndarray of int, shape (H, W)
        Last iteration at which the orbit still moved (``|z_n - z_{n-2}| > settle_tol``):
        small where the orbit settles fast, large near basin boundaries.
    x, y : ndarray, shapes (W,) and (H,)
        The grid's coordinates.
    params : SineMapParams
    """

    labels: np.ndarray
    attractors: np.ndarray
    periods: np.ndarray
    shares: np.ndarray
    settle: np.ndarray
    x: np.ndarray
    y: np.ndarray
    params: SineMapParams

    @property
    def n_attractors(self) -> int:
        """Number of distinct attractors found."""
        return len(self.attractors)


def _cluster(keys: np.ndarray, cluster_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Group points closer than about ``2 cluster_tol``: (M, 2) -> labels (M,), centres (K, 2)."""
    q = np.round(keys / cluster_tol).astype(np.int64)  # (M, 2)
    q -= q.min(axis=0)
    span = int(q[:, 1].max()) + 1
    # One int64 per cell (row-major over the cells) sorts ~20x faster than np.unique(axis=0).
    flat_unique, inverse, counts = np.unique(
        q[:, 0] * span + q[:, 1], return_inverse=True, return_counts=True
    )
    unique = np.stack([flat_unique // span, flat_unique % span], axis=1)  # (U, 2)
    inverse = inverse.reshape(-1)
    # Leader clustering of the (few) rounded centres, most common first: a centre joins the
    # first leader within 2 grid cells (so rounding boundaries cannot split an attractor).
    order = np.argsort(-counts, kind="stable")
    leaders: list[int] = []
    assign = np.empty(len(unique), dtype=np.int64)
    for u in order:
        if leaders:
            gap = np.abs(unique[leaders] - unique[u]).max(axis=1)  # (L,)
            near = int(np.argmin(gap))
            if gap[near] <= 2:
                assign[u] = near
                continue
        assign[u] = len(leaders)
        leaders.append(u)
    labels = assign[inverse]  # (M,)
    k = len(leaders)
    sizes = np.bincount(labels, minlength=k)
    centres = np.stack(
        [np.bincount(labels, weights=keys[:, d], minlength=k) / sizes for d in range(2)], axis=1
    )  # (K, 2)
    return labels, centres


def _iterate(xs, ys, a, lam, n_iter, tol, settle_tol):
    """Iterate the grid ``ys x xs``; return the final points and settle times, flat (H*W,).

    NOTE: it runs on one torch thread (the caller sets it): after the first compactions the
    active tensors are small, and on a busy machine two threads spin-wait far more than they
    gain (4-8x slower measured on a loaded 2-core box).
    """
    X = torch.from_numpy(np.repeat(xs[None, :], len(ys), axis=0).reshape(-1))  # (P,) P = H*W
    Y = torch.from_numpy(np.repeat(ys[:, None], len(xs), axis=1).reshape(-1))  # (P,)
    index = torch.arange(X.numel())  # (P,) flat pixel index of each active entry
    final_x, final_y = torch.empty_like(X), torch.empty_like(Y)  # (H*W,)
    settle_t = torch.zeros(X.numel(), dtype=torch.int32)  # (H*W,)
    freeze_tol = tol * 1e-4
    # Three rotating buffers per coordinate hold z_n, z_{n-1}, z_{n-2}; the settle time is the
    # last n with |z_n - z_{n-2}| > settle_tol, which is finite for fixed points and 2-cycles.
    X1, Y1, X2, Y2 = X.clone(), Y.clone(), X.clone(), Y.clone()
    sx, sy, moved = torch.empty_like(X), torch.empty_like(X), torch.empty_like(X)
    active_settle = torch.zeros(X.numel(), dtype=torch.int32)  # (P,)
    for n in range(1, n_iter + 1):  # a loop over time; every active pixel steps at once
        torch.sin(X, out=sx)
        torch.sin(Y, out=sy)
        X2, X1, X = X1, X, X2  # the oldest buffer receives z_n
        Y2, Y1, Y = Y1, Y, Y2
        torch.add(torch.mul(X1, a, out=X), sy, alpha=lam, out=X)  # x' = (1 - rho) x + lam sin y
        torch.add(torch.mul(Y1, a, out=Y), sx, alpha=lam, out=Y)  # y' = (1 - rho) y + lam sin x
        torch.sub(X, X2, out=moved).abs_()
        moved.add_(torch.sub(Y, Y2, out=sx).abs_())  # L1 distance |z_n - z_{n-2}|
        active_settle.masked_fill_(moved > settle_tol, n)
        if n % _CHECK and n < n_iter:
            continue
        done = moved.new_ones(X.shape, dtype=torch.bool) if n == n_iter else moved <= freeze_tol
        # Compacting copies six tensors: worth it only once a good share has stopped.
        if n < n_iter and int(done.sum()) < 0.2 * X.numel():
            continue
        final_x[index[done]], final_y[index[done]] = X[done], Y[done]
        settle_t[index[done]] = active_settle[done]
        keep = ~done
        if not bool(keep.any()):
            break
        index, active_settle = index[keep], active_settle[keep]
        X, Y, X1, Y1, X2, Y2 = (v[keep] for v in (X, Y, X1, Y1, X2, Y2))
        sx, sy, moved = torch.empty_like(X), torch.empty_like(X), torch.empty_like(X)
    return final_x, final_y, settle_t


def basins(
    params,
    resolution: int = 1024,
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-8.0, 8.0), (-8.0, 8.0)),
    n_iter: int = 500,
    *,
    max_period: int = 4,
    tol: float = 1e-6,
    cluster_tol: float = 1e-3,
    settle_tol: float = 1e-3,
    escape_radius: float = 1e6,
) -> BasinMap:
    """Label every pixel of a ``resolution x resolution`` grid by the attractor its orbit reaches.

    All pixels are iterated together (float64 numpy arrays, in place), ``n_iter`` steps, then
    ``max_period`` more to detect cycles; see the module docstring for how attractors are
    identified. A 1024 x 1024 grid with 500 steps takes a few seconds on one CPU core.

    Parameters
    ----------
    params : (rho, lam)
        The map's parameters.
    resolution : int
        Pixels per side, at least 2; the grid includes the bounds' end points.
    bounds : ((x_min, x_max), (y_min, y_max))
        The square or rectangle of starting points.
    n_iter : int
        Steps before the attractor is read off, at least 1.
    max_period : int
        Longest cycle recognised, at least 1.
    tol : float
        ``|z_{n+p} - z_n| < tol`` counts as a cycle of period ``p``.
    cluster_tol : float
        Cycle means closer than about twice this are one attractor.
    settle_tol : float
        Movement threshold for the ``settle`` time (used to shade images).
    escape_radius : float
        Orbits beyond this distance count as escaped.

    Returns
    -------
    BasinMap

    Examples
    --------
    >>> result = basins((1.0, 2.0), resolution=64, n_iter=100)
    >>> result.labels.shape, result.n_attractors, result.periods.tolist()
    ((64, 64), 3, [2, 1, 1])
    >>> result.shares.tolist()        # the 2-cycle around the origin takes half the plane
    [0.5, 0.25, 0.25]
    """
    p = _params(params)
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution}")
    try:
        (x_lo, x_hi), (y_lo, y_hi) = ((float(a), float(b)) for a, b in bounds)
    except (TypeError, ValueError):
        msg = f"bounds must be ((x_min, x_max), (y_min, y_max)), got {bounds!r}"
        raise ValueError(msg) from None
    if not (x_lo < x_hi and y_lo < y_hi):
        raise ValueError(f"bounds must have min < max on both axes, got {bounds!r}")
    for name, value, low in (("n_iter", n_iter, 1), ("max_period", max_period, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    for name, value in (("tol", tol), ("cluster_tol", cluster_tol), ("settle_tol", settle_tol)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")

    rho, lam = p
    a = 1.0 - rho
    xs = np.linspace(x_lo, x_hi, resolution)  # (W,)
    ys = np.linspace(y_lo, y_hi, resolution)  # (H,)
    shape = (resolution, resolution)
    # Work on flat arrays of the still-moving pixels only: every `_CHECK` steps the pixels whose
    # orbit has stopped moving (|z_n - z_{n-2}| <= tol * 1e-4: a fixed point or a 2-cycle, to
    # near machine precision) are frozen and dropped, so the cost follows the slow pixels near
    # basin boundaries instead of the whole grid.
    # The loop runs on torch float64 tensors: torch's vectorised sine is several times faster
    # than numpy's on CPU, and the sine is most of the cost.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # NOTE: one thread; see _iterate
    try:
        final_x, final_y, settle_t = _iterate(xs, ys, a, lam, n_iter, tol, settle_tol)
    finally:
        torch.set_num_threads(threads)
    X, Y = final_x.numpy().reshape(shape), final_y.numpy().reshape(shape)  # (H, W)
    settle = settle_t.numpy().reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        # Period detection: step max_period more times, keeping a running sum of the cycle.
        escaped = ~(np.isfinite(X) & np.isfinite(Y)) | (np.hypot(X, Y) > escape_radius)
        period = np.zeros(X.shape, dtype=np.int64)  # (H, W), 0 = no cycle found yet
        mean_x, mean_y = np.zeros_like(X), np.zeros_like(Y)
        sum_x, sum_y = np.zeros_like(X), np.zeros_like(Y)
        cx, cy = X.copy(), Y.copy()
        for k in range(1, max_period + 1):
            sum_x += cx
            sum_y += cy
            cx, cy = a * cx + lam * np.sin(cy), a * cy + lam * np.sin(cx)
            closed = (period == 0) & ~escaped & (np.hypot(cx - X, cy - Y) < tol)
            period[closed] = k
            mean_x[closed] = sum_x[closed] / k
            mean_y[closed] = sum_y[closed] / k

    labels = np.full(X.shape, UNSETTLED, dtype=np.int64)  # (H, W)
    labels[escaped] = ESCAPED
    cyclic = period > 0
    if cyclic.any():
        keys = np.stack([mean_x[cyclic], mean_y[cyclic]], axis=1)  # (M, 2)
        raw, centres = _cluster(keys, cluster_tol)
        counts = np.bincount(raw, minlength=len(centres))  # (K,)
        # An attractor's period is its pixels' most common one (a pixel started exactly on an
        # unstable fixed point inside a 2-cycle would otherwise decide it).
        votes = np.bincount(
            raw * (max_period + 1) + period[cyclic], minlength=len(centres) * (max_period + 1)
        )
        periods_raw = votes.reshape(len(centres), max_period + 1).argmax(axis=1)  # (K,)
        # Canonical order: largest basin first, ties broken by position.
        order = np.lexsort((centres[:, 1], centres[:, 0], -counts))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        labels[cyclic] = rank[raw]
        attractors, periods, counts = centres[order], periods_raw[order], counts[order]
    else:
        attractors, periods, counts = np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0)
    return BasinMap(
        labels=labels,
        attractors=attractors,
        periods=periods,
        shares=counts / labels.size,
        settle=settle,
        x=xs,
        y=ys,
        params=p,
    )
