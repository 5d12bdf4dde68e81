"""Probabilistic nearest-neighbour search by random probes (Granville's method).

Vincent Granville describes it in "Synthetic Data and Generative AI" (Elsevier, 2024) and in
his article "Probabilistic nearest neighbor search": every query holds a current list of its
best ``k`` candidates; at each iteration it draws random rows of the data set and swaps in those
that are closer than its current worst. A variant re-works only the queries that are doing
worst, the half whose current ``k``-th distance is largest, so the budget goes where the lists
are poorest. This is our own implementation, vectorised over queries: an iteration draws a
``(queries, batch)`` block of row numbers, computes those distances as one batched product,
and merges them into the current lists.

What it is, honestly: a random sample. The lists only ever hold the best of the rows drawn,
so a true neighbour is in the answer exactly when it has been drawn. With ``p`` draws per
query, uniform with replacement over ``n`` rows, a given row is missed by one draw with
probability ``1 - 1/n`` and by all ``p`` with ``(1 - 1/n)^p``; by linearity of expectation the
expected recall@k is, for any ``k``,

    ``E[recall] = 1 - (1 - 1/n)^p  ~  1 - exp(-p / n)``.

(:func:`expected_recall`; the tests check the measured recall against it.) Recall 0.5 costs
``0.69 n`` draws, 0.95 costs ``3 n``: three brute-force passes. Nothing in the method uses the
geometry of the data (no index is built), so no data set makes it cheaper. The
``"worst-half"`` variant spends the draws unevenly: it lifts the worst queries, but
``1 - exp(-p / n)`` is concave in ``p``, so spending the same budget unevenly *lowers* the
average recall (Jensen's inequality; the tests see it too). It is a lesson in why real
indexes (IVF lists, graphs, hashes) *prune*: they look at a few per cent of the rows, chosen
by where the query is, and reach 0.95.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from genailab.embed.exact_index import CentredVectors
from genailab.embed.neighbor_index import NeighborIndex, as_vectors, unit_rows

_BLOCK_FLOATS = 1 << 22  # queries per block * batch * d: a 16 MB gathered block
REWORK = ("all", "worst-half")


def expected_recall(probes: Any, n: int) -> np.ndarray:
    """Expected recall@k of ``probes`` uniform draws (with replacement) from ``n`` rows.

    ``1 - (1 - 1/n)^probes``: the chance that a given true neighbour has been drawn.

    Examples
    --------
    >>> float(expected_recall(3000, 1000).round(4))  # three passes' worth of draws
    0.9503
    """
    return 1.0 - (1.0 - 1.0 / n) ** np.asarray(probes, dtype=np.float64)


@dataclass(frozen=True)
class ProbeState:
    """The lists of every query after one iteration of :meth:`ProbabilisticANN.iter_search`.

    Attributes
    ----------
    iteration : int
        1 for the state after the first batch of draws.
    probes : ndarray of int64, shape (q,)
        Draws made so far, per query.
    distances : ndarray of float32, shape (q, k)
        Current best distances (the metric's, as :meth:`~NeighborIndex.kneighbors`), nearest
        first; ``inf`` where fewer than ``k`` distinct rows were drawn yet.
    indices : ndarray of int64, shape (q, k)
        Their rows; -1 where not filled yet.
    reworked : ndarray of bool, shape (q,)
        The queries that drew in this iteration.
    drawn : ndarray of int64, shape (w, batch)
        The rows drawn in this iteration by each reworked query, in the order of
        ``np.flatnonzero(reworked)``.
    """

    iteration: int
    probes: np.ndarray
    distances: np.ndarray
    indices: np.ndarray
    reworked: np.ndarray
    drawn: np.ndarray


class ProbabilisticANN(CentredVectors, NeighborIndex):
    """Granville's probabilistic nearest-neighbour search: random probes, keep the closest.

    See the module docstring: expected recall after ``p`` probes of ``n`` rows is
    ``1 - (1 - 1/n)^p``; reaching 0.95 costs about three brute-force passes.

    Parameters
    ----------
    probes : int, default 10000
        Draws per query (on average, for ``"worst-half"``); at least ``k`` are made, and draws
        go on past the budget until every list holds ``k`` distinct rows.
    batch : int, default 256
        Draws per query and iteration.
    rework : {"all", "worst-half"}, default "all"
        Which queries draw at each iteration: all, or only those whose current ``k``-th
        distance is at or above the median (then there are twice as many iterations, for the
        same total budget).
    metric : {"l2", "cosine"}, default "l2"
    random_state : int, optional
        Seed of the draws; each search starts from it again, so results repeat.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 8)).astype(np.float32)
    >>> index = ProbabilisticANN(probes=1500, random_state=0).fit(X)
    >>> dist, idx = index.kneighbors(X[:200], k=1)
    >>> round(float((idx[:, 0] == np.arange(200)).mean()), 2)  # about 1 - exp(-3) = 0.95
    0.96
    """

    PARAMS = ("probes", "batch", "rework", "metric", "random_state")

    def __init__(
        self,
        probes: int = 10_000,
        batch: int = 256,
        rework: str = "all",
        metric: str = "l2",
        random_state: int | None = None,
    ) -> None:
        super().__init__(metric=metric)
        self.probes = probes
        self.batch = batch
        self.rework = rework
        self.random_state = random_state

    def _check_params(self) -> None:
        for name in ("probes", "batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.rework not in REWORK:
            raise ValueError(f"rework must be one of {REWORK}, got {self.rework!r}")

    # ---------------------------------------------------------------- the iterations
    def _iterate(self, Q: np.ndarray, k: int, iterations: int | None) -> Iterator[tuple]:
        """Yield (iteration, probes, squared, indices, reworked, drawn) on centred ``Q``."""
        self._check_params()
        n = self._vectors.shape[0]
        nq = Q.shape[0]
        rng = np.random.default_rng(self.random_state)
        batch = int(self.batch)
        per_iter = batch if self.rework == "all" else batch / 2
        if iterations is None:
            iterations = int(np.ceil(max(self.probes, k) / per_iter))
        q_sq = np.einsum("ij,ij->i", Q, Q)  # (q,)
        best_d = np.full((nq, k), np.inf, dtype=np.float32)  # (q, k) squared, unsorted
        best_i = np.full((nq, k), -1, dtype=np.int64)
        probes = np.zeros(nq, dtype=np.int64)
        it = 0
        while True:
            it += 1
            if self.rework == "all" or it == 1:
                work = np.ones(nq, dtype=bool)
            else:
                # the worst half: current k-th distance at or above the median of them all
                kth = best_d.max(axis=1)  # (q,)
                work = kth >= np.median(kth)
            rows_q = np.flatnonzero(work)  # (w,)
            draws = rng.integers(n, size=(rows_q.size, batch))  # (w, b)
            d2 = self._distances(Q[rows_q], q_sq[rows_q], draws)  # (w, b)
            best_d[rows_q], best_i[rows_q] = _merge(best_d[rows_q], best_i[rows_q], d2, draws, k)
            probes[rows_q] += batch
            yield it, probes.copy(), best_d, best_i, work, draws
            if it >= iterations and np.isfinite(best_d).all():
                return

    def _distances(self, Q: np.ndarray, q_sq: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Squared distances of each query to its own drawn rows, (w, b), in query blocks."""
        out = np.empty(rows.shape, dtype=np.float32)
        block = max(1, _BLOCK_FLOATS // (rows.shape[1] * Q.shape[1]))
        for s in range(0, Q.shape[0], block):
            X = self._vectors[rows[s : s + block]]  # (blk, b, d) gathered
            dots = np.einsum("qd,qbd->qb", Q[s : s + block], X)  # (blk, b)
            x_sq = self._x_sq[rows[s : s + block]]  # (blk, b)
            out[s : s + block] = q_sq[s : s + block, None] - 2.0 * dots + x_sq
        return out

    def iter_search(
        self, Q: Any, k: int = 10, iterations: int | None = None
    ) -> Iterator[ProbeState]:
        """Run the search one iteration at a time, yielding every query's lists after each.

        Parameters
        ----------
        Q : array_like of shape (q, d)
        k : int, default 10
        iterations : int, optional
            How many to run (at least until all lists are full); by default those that spend
            ``probes`` draws per query.

        Yields
        ------
        ProbeState

        Examples
        --------
        >>> X = np.random.default_rng(0).normal(size=(300, 4))
        >>> index = ProbabilisticANN(batch=100, random_state=0).fit(X)
        >>> [s.probes[0] for s in index.iter_search(X[:5], k=3, iterations=4)]
        [np.int64(100), np.int64(200), np.int64(300), np.int64(400)]
        """
        if not hasattr(self, "n_indexed_"):
            raise ValueError("this ProbabilisticANN is not fitted yet; call fit(X) first")
        if not _is_int(k, 1) or k > self.n_indexed_:
            raise ValueError(f"k must be an int in [1, {self.n_indexed_}], got {k!r}")
        if iterations is not None and not _is_int(iterations, 1):
            raise ValueError(f"iterations must be None or an int >= 1, got {iterations!r}")
        Q = as_vectors(Q, "Q", self.dim_)
        if self.metric == "cosine":
            Q = unit_rows(Q, "Q")
        for it, probes, d2, idx, work, drawn in self._iterate(Q - self.center_, int(k), iterations):
            order = np.argsort(d2, axis=1, kind="stable")  # (q, k)
            sq = np.maximum(np.take_along_axis(d2, order, axis=1), 0.0)
            dist = sq / 2.0 if self.metric == "cosine" else np.sqrt(sq)
            idx = np.take_along_axis(idx, order, axis=1)
            yield ProbeState(it, probes, dist.astype(np.float32), idx, work.copy(), drawn)

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        Q = Q - self.center_
        for state in self._iterate(Q, k, None):
            idx = state[3]  # (q, k) the lists after the last iteration
        # the winners' distances from the definition, in float64, then sorted (ties by row)
        diff = Q[:, None, :].astype(np.float64) - self._vectors[idx].astype(np.float64)
        exact = np.einsum("qkd,qkd->qk", diff, diff)  # (q, k)
        order = np.lexsort((idx, exact), axis=1)
        return np.take_along_axis(exact, order, axis=1), np.take_along_axis(idx, order, axis=1)


def _is_int(value: object, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= low


def _merge(
    best_d: np.ndarray, best_i: np.ndarray, d2: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` closest distinct rows of each query among its current list and new draws."""
    cand_d = np.concatenate([best_d, d2], axis=1)  # (w, k + b)
    cand_i = np.concatenate([best_i, rows], axis=1)
    # a row drawn twice (or already held) must count once: sort by row, void the repeats
    order = np.lexsort((cand_d, cand_i), axis=1)  # by row, then distance: a finite copy first
    cand_i = np.take_along_axis(cand_i, order, axis=1)
    cand_d = np.take_along_axis(cand_d, order, axis=1)
    repeat = np.zeros(cand_i.shape, dtype=bool)
    repeat[:, 1:] = cand_i[:, 1:] == cand_i[:, :-1]
    cand_d[repeat | (cand_i < 0)] = np.inf
    keep = np.argpartition(cand_d, k - 1, axis=1)[:, :k]  # (w, k)
    new_d = np.take_along_axis(cand_d, keep, axis=1)  # (w, k)
    new_i = np.take_along_axis(cand_i, keep, axis=1)
    new_i[np.isinf(new_d)] = -1  # an empty slot, not a row
    return new_d, new_i
