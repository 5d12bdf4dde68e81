"""k-means for the quantisers of the indexes: k-means++ seeding, then Lloyd iterations.

Lloyd's algorithm alternates two steps until the centres stop moving:

1. assign every point to its nearest centre;
2. move every centre to the mean of its points.

Each step can only lower the inertia ``sum_i ||x_i - c(i)||^2``, so it converges (to a local
minimum). The assignment is the expensive step, ``n * k`` distances; it is one matrix product
with ``||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2`` (the BLAS trick; ``||x||^2`` is the same for
every centre of a row, so it is not even needed to pick the nearest).

Seeding (Arthur and Vassilvitskii, "k-means++: the advantages of careful seeding", 2007):
the first centre is a random point, each next one a point drawn with probability proportional
to ``D(x)^2``, its squared distance to the nearest centre chosen so far. That alone is
``O(log k)``-competitive with the optimum. The sequential draw is a numba loop: one pass over
the points per centre, updating ``D^2`` and its running sum together.

A cluster that loses all its points is re-seeded with the point farthest from its centre
(the worst-served point), so the ``k`` centres stay distinct and useful; scikit-learn does
the same.
"""

from __future__ import annotations

import numbers
from typing import Any, Self

import numba
import numpy as np
import torch

from genailab.errors import ConfigError, DataError, NotFittedError
from genailab.estimator import Clusterer, as_features

_BLOCK_FLOATS = 1 << 24  # rows per block * centres: a 64 MB distance block


@numba.njit(cache=True, nogil=True, fastmath=True)
def _squared_to(X: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """``out[i] = ||X[i] - c||^2`` (float32 sums, as the data)."""
    n, d = X.shape
    for i in range(n):
        s = np.float32(0.0)
        for j in range(d):
            t = X[i, j] - c[j]
            s += t * t
        out[i] = s


@numba.njit(cache=True, nogil=True)
def _seed_plus_plus(X: np.ndarray, first: int, u: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Greedy k-means++: ``u`` (k - 1, trials) uniform draws; returns the seed rows."""
    n = X.shape[0]
    k, trials = u.shape[0] + 1, u.shape[1]
    chosen = np.empty(k, dtype=np.int64)
    chosen[0] = first
    d2 = np.empty(n, dtype=np.float32)  # squared distance to the nearest seed so far
    _squared_to(X, X[first], d2)
    cand = np.empty(n, dtype=np.float32)
    best = np.empty(n, dtype=np.float32)
    for m in range(1, k):
        cum = np.cumsum(d2.astype(np.float64))  # (n,)
        best_pot = np.inf
        pick = 0
        for t in range(trials):
            # a row drawn with probability D(x)^2 / sum D^2 ...
            i = min(np.searchsorted(cum, u[m - 1, t] * cum[-1], side="right"), n - 1)
            _squared_to(X, X[i], cand)
            # ... and of the drawn rows, the one that lowers the potential sum D^2 most
            pot = np.minimum(cand, d2).astype(np.float64).sum()
            if pot < best_pot:
                best_pot, pick = pot, i
                best[:] = cand
        chosen[m] = pick
        np.minimum(d2, best, d2)
    return chosen


def kmeans_plus_plus(
    X: np.ndarray, k: int, rng: np.random.Generator, n_local_trials: int | None = None
) -> np.ndarray:
    """``k`` initial centres of the rows of ``X`` (float32, (n, d)) by greedy k-means++.

    Each new centre is the best of ``n_local_trials`` rows drawn with probability
    proportional to ``D(x)^2`` (the one that lowers ``sum D^2`` most); the default
    ``2 + int(log k)`` is scikit-learn's. ``n_local_trials=1`` is the original k-means++.

    Examples
    --------
    >>> X = np.array([[0, 0], [0, 0.1], [10, 10], [10, 10.1]], dtype=np.float32)
    >>> C = kmeans_plus_plus(X, 2, np.random.default_rng(0))
    >>> sorted(C[:, 0].round().tolist())
    [0.0, 10.0]
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    trials = 2 + int(np.log(k)) if n_local_trials is None else int(n_local_trials)
    first = int(rng.integers(X.shape[0]))
    chosen = _seed_plus_plus(X, first, rng.random((k - 1, trials)))
    return X[chosen].copy()


@numba.njit(cache=True, nogil=True, fastmath=True)
def _assign_thin(X: np.ndarray, C: np.ndarray, labels: np.ndarray) -> None:  # pragma: no cover
    """Nearest centre of every row, by direct distances (for rows of a few coordinates)."""
    n, d = X.shape
    for i in range(n):
        best, arg = np.inf, 0
        for c in range(C.shape[0]):
            s = np.float32(0.0)
            for j in range(d):
                t = X[i, j] - C[c, j]
                s += t * t
            if s < best:
                best, arg = s, c
        labels[i] = arg


def assign(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of every row and its squared distance (float64, recomputed directly).

    Parameters
    ----------
    X : ndarray of float32, shape (n, d)
    centres : ndarray of float32, shape (k, d)

    Returns
    -------
    labels : ndarray of int64, shape (n,)
    squared : ndarray of float64, shape (n,)

    Examples
    --------
    >>> X = np.array([[0, 0], [4, 0]], dtype=np.float32)
    >>> labels, d2 = assign(X, np.array([[3, 0], [0, 1]], dtype=np.float32))
    >>> labels.tolist(), d2.tolist()
    ([1, 0], [1.0, 1.0])
    """
    n, k = X.shape[0], centres.shape[0]
    centres = np.ascontiguousarray(centres, dtype=np.float32)
    C_t = torch.from_numpy(np.ascontiguousarray(centres, dtype=np.float32))
    c_sq = (C_t * C_t).sum(1)  # (k,)
    labels = np.empty(n, dtype=np.int64)
    block = max(1, _BLOCK_FLOATS // k)
    for start in range(0, n, block):
        x = X[start : start + block]  # (b, d)
        # ||c||^2 - 2 x.c: ||x||^2 does not change which centre is nearest
        if X.shape[1] < 32:  # thin rows (PQ subspaces): a product with K < 32 wastes BLAS
            _assign_thin(x, centres, labels[start : start + block])
        else:
            d2 = torch.addmm(c_sq[None, :], torch.from_numpy(x), C_t.T, alpha=-2.0)  # (b, k)
            labels[start : start + block] = d2.argmin(dim=1).numpy()
    # NOTE: the expansion cancels digits when x is near c; the distances that count (inertia,
    # the farthest point for re-seeding) are recomputed from the definition in float64.
    diff = X.astype(np.float64) - centres[labels].astype(np.float64)  # (n, d)
    return labels, np.einsum("ij,ij->i", diff, diff)


def lloyd_step(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Lloyd iteration: assign to ``centres``, then move each centre to its points' mean.

    A centre with no points is re-seeded with the point farthest from its own centre (each
    empty cluster takes the next farthest point, and that point moves to it).

    Parameters
    ----------
    X : ndarray of float32, shape (n, d)
    centres : ndarray of float32, shape (k, d)

    Returns
    -------
    new_centres : ndarray of float32, shape (k, d)
    labels : ndarray of int64, shape (n,)
        The assignment to the *old* centres (as moved by re-seeding).
    squared : ndarray of float64, shape (n,)
        Squared distance of each row to its old centre.

    Examples
    --------
    >>> X = np.array([[0, 0], [2, 0], [10, 0]], dtype=np.float32)
    >>> C, labels, _ = lloyd_step(X, np.array([[0, 0], [9, 0]], dtype=np.float32))
    >>> C.tolist(), labels.tolist()
    ([[1.0, 0.0], [10.0, 0.0]], [0, 0, 1])
    """
    k = centres.shape[0]
    labels, squared = assign(X, centres)
    counts = np.bincount(labels, minlength=k)  # (k,)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        far = np.argsort(-squared, kind="stable")[: empty.size]  # the worst-served points
        labels[far] = empty
        squared[far] = 0.0
        counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, X.shape[1]))  # (k, d) float64 sums, so means keep their digits
    _add_rows(sums, labels, X)
    new = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)  # (k, d)
    return new, labels, squared


def _add_rows(sums: np.ndarray, labels: np.ndarray, X: np.ndarray) -> None:
    """``sums[labels[i]] += X[i]`` for every row: sort by label, then one reduceat."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sums[sorted_labels[starts]] += np.add.reduceat(X[order].astype(np.float64), starts, axis=0)


class KMeans(Clusterer):
    """k-means clustering: k-means++ seeding, then Lloyd iterations (see the module docstring).

    Parameters
    ----------
    n_clusters : int, default 8
    max_iter : int, default 25
        Lloyd iterations at most.
    tol : float, default 1e-4
        Stop when the inertia improves by less than this fraction.
    random_state : int or numpy.random.Generator, optional
    n_local_trials : int, optional
        Candidates per k-means++ seed (see :func:`kmeans_plus_plus`); ``2 + log k`` by default,
        1 for the fastest seeding.

    Attributes
    ----------
    cluster_centers_ : ndarray of float32, shape (n_clusters, d)
    labels_ : ndarray of int64, shape (n,)
        Nearest centre of every training row (to the final centres).
    inertia_ : float
        Sum of squared distances of the rows to their nearest centre.
    n_iter_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 0.1, (50, 2)), rng.normal(5, 0.1, (50, 2))]
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_[:, 0].round().tolist()) == [0.0, 5.0]
    True
    """

    def __init__(
        self,
        n_clusters: int = 8,
        max_iter: int = 25,
        tol: float = 1e-4,
        random_state: int | np.random.Generator | None = None,
        n_local_trials: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_local_trials = n_local_trials

    def fit(self, X: Any, y: Any = None) -> Self:
        """Cluster the rows of ``X`` (n, d); return self (``y`` is ignored)."""
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ConfigError(f"n_clusters must be an int >= 1, got {k!r}")
        it = self.max_iter
        if isinstance(it, bool) or not isinstance(it, numbers.Integral) or it < 1:
            raise ConfigError(f"max_iter must be an int >= 1, got {it!r}")
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ConfigError(f"tol must be a number >= 0, got {self.tol!r}")
        trials = self.n_local_trials
        if trials is not None and (
            isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1
        ):
            raise ConfigError(f"n_local_trials must be None or an int >= 1, got {trials!r}")
        X = np.ascontiguousarray(as_features(self, X, reset=True, dtype=np.float32))
        if k > X.shape[0]:
            raise DataError(f"n_clusters={k} is larger than the {X.shape[0]} rows of X")
        rng = np.random.default_rng(self.random_state)
        centres = kmeans_plus_plus(X, int(k), rng, trials)
        previous = np.inf
        for self.n_iter_ in range(1, int(it) + 1):
            centres, _, squared = lloyd_step(X, centres)
            inertia = float(squared.sum())  # of the centres before this step's move
            if previous - inertia <= self.tol * inertia:
                break
            previous = inertia
        self.cluster_centers_ = centres
        self.labels_, squared = assign(X, centres)
        self.inertia_ = float(squared.sum())
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centre of every row of ``X`` (n, d)."""
        return assign(self._rows(X), self.cluster_centers_)[0]

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the inertia of ``X`` (its squared distances to the nearest centres).

        Higher is better, as model selection wants; scikit-learn's ``KMeans.score`` is the same.

        Examples
        --------
        >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
        >>> KMeans(n_clusters=2, random_state=0).fit(X).score([[1.0, 1.0]])  # 1^2 + 0^2
        -1.0
        """
        return -float(assign(self._rows(X), self.cluster_centers_)[1].sum())

    def _rows(self, X: Any) -> np.ndarray:
        if not hasattr(self, "cluster_centers_"):
            raise NotFittedError("this KMeans is not fitted yet; call fit(X) first")
        return np.ascontiguousarray(as_features(self, X, reset=False, dtype=np.float32))
