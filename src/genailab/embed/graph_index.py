"""Approximate nearest neighbours on a navigable graph (HNSW), built in parallel.

Each indexed vector is a node linked to up to ``M0 = 2 M`` others; a query starts at an
entry node and walks the graph greedily with a beam of width ``ef`` (the ``ef`` nodes closest
to the query found so far), expanding the closest unexpanded node until none is left. The
walk measures a few hundred distances instead of ``n``; a wider beam finds more of the true
neighbours (recall) and costs more time, so ``ef`` is the speed/recall knob and may be changed
after ``fit``.

The graph is the one of HNSW (Malkov & Yashunin, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs", IEEE TPAMI 2018): each
point is inserted by searching the graph with a beam of width ``ef_construction`` and linking
to ``M`` neighbours chosen by the diversity "heuristic" (Alg. 4; the "MRNG" rule of NSG, Fu et
al., VLDB 2019), which keeps long edges that point in new directions. Nodes keep up to
``2 M`` links, as hnswlib's bottom layer does.

HNSW's upper layers hold a random ``1 / M`` of the nodes each; a query walks down them
greedily to land near its target before the beam search. Here the insertion order is random,
so the first ``n / M^l`` nodes inserted are such a random subset: level ``l`` is a snapshot of
the graph taken when they were all in. Same hierarchy, no separate code to build it.

Points are inserted in batches so that the build runs on every core and its result does not
depend on thread timing (see :mod:`genailab.embed.graph_build`, the numba kernels).
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numba
import numpy as np

from genailab.embed import graph_build as gb
from genailab.embed.exact_index import exact_search
from genailab.embed.neighbor_index import NeighborIndex

_GROW = 1 / 40  # a batch adds 2.5% to the graph: each point misses at most 2.5% of its links


def _int_param(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}")
    return int(value)


class GraphIndex(NeighborIndex):
    """Approximate k-nearest-neighbour search by beam search on an HNSW-style graph.

    Parameters
    ----------
    M : int, default 16
        Links a new point makes; nodes keep up to ``2 M``. More links: higher recall at a
        given ``ef``, larger index, slower build.
    ef_construction : int, default 100
        Beam width while building: a wider beam finds better links (and builds slower).
    ef : int, default 50
        Beam width while searching (at least ``k`` is used); may be set after ``fit``.
    metric : {"l2", "cosine"}, default "l2"
    n_threads : int, optional
        Threads for ``fit`` and for batches of queries; default: all of numba's.
    random_state : int, optional
        Seeds the insertion order. The graph depends on nothing else (not on ``n_threads``
        either): the same seed gives the same index.

    Attributes
    ----------
    neighbors_ : ndarray of int32, shape (n, 2 M)
        Row ``v`` holds the links of node ``v`` in its first ``degree_[v]`` entries.
    degree_ : ndarray of int32, shape (n,)
    order_ : ndarray of int32, shape (n,)
        Node ``v`` (in insertion order) is row ``order_[v]`` of the fitted ``X``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 16)).astype(np.float32)
    >>> index = GraphIndex(M=8, ef=40, random_state=0).fit(X)
    >>> dist, idx = index.kneighbors(X[:3], k=5)
    >>> idx[:, 0].tolist(), dist.shape
    ([0, 1, 2], (3, 5))
    """

    PARAMS: ClassVar[tuple[str, ...]] = (
        "M",
        "ef_construction",
        "ef",
        "metric",
        "n_threads",
        "random_state",
    )

    def __init__(
        self,
        M: int = 16,
        ef_construction: int = 100,
        ef: int = 50,
        metric: str = "l2",
        n_threads: int | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__(metric=metric)
        self.M = M
        self.ef_construction = ef_construction
        self.ef = ef
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        _int_param("M", self.M, 2)
        _int_param("ef_construction", self.ef_construction, 1)
        _int_param("ef", self.ef, 1)
        if self.n_threads is not None:
            _int_param("n_threads", self.n_threads, 1)
        if self.random_state is not None:
            _int_param("random_state", self.random_state, 0)

    def _threads(self) -> int:
        limit = numba.config.NUMBA_NUM_THREADS
        return min(limit, self.n_threads) if self.n_threads is not None else numba.get_num_threads()

    # ------------------------------------------------------------------ build
    def _build(self, X: np.ndarray) -> None:
        rng = np.random.default_rng(self.random_state)
        # The graph numbers the nodes in insertion order (a random permutation), so that the
        # first s nodes form a random subset: HNSW's upper levels are snapshots of them.
        self.order_ = rng.permutation(X.shape[0]).astype(np.int32)  # (n,) node -> row of X
        self._vectors = np.ascontiguousarray(X[self.order_])  # (n, d)
        self.neighbors_, self.degree_, self._upper = gb.build_graph(
            self._vectors, int(self.M), int(self.ef_construction), self._threads(), _GROW
        )
        self._prepare()

    def _prepare(self) -> None:
        """Per-thread scratch for searches: visited stamps, one row per chunk of queries."""
        n = self._vectors.shape[0]
        self._arrays = (self._vectors, self.neighbors_, self.degree_, *self._upper, self.order_)
        self._visited = np.zeros((1, n), np.int32)
        self._stamps = np.zeros(1, np.int64)
        self._batch_scratch: tuple[np.ndarray, np.ndarray] | None = None  # made when needed

    def last_search_visits(self) -> int:
        """Nodes whose distance the last single-query search measured on the bottom layer.

        The cost of a search, for comparison with brute force's ``n``: the short walk down the
        upper levels (a few nodes per level) is not counted. Only single queries
        (``kneighbors`` on one vector) record it; 0 before the first.

        Examples
        --------
        >>> X = np.random.default_rng(0).normal(size=(2000, 8))
        >>> index = GraphIndex(M=8, ef=20, random_state=0).fit(X)
        >>> _ = index.kneighbors(X[0], k=5)
        >>> 0 < index.last_search_visits() < 2000
        True
        """
        if not hasattr(self, "_visited"):
            raise ValueError("this GraphIndex is not fitted yet; call fit(X) first")
        if self._stamps[0] == 0:
            return 0
        return int(np.count_nonzero(self._visited[0] == self._stamps[0]))

    # ------------------------------------------------------------------ search
    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ef = self.ef
        if type(ef) is not int:  # the fast path skips the slower isinstance checks
            ef = _int_param("ef", ef, 1)
        elif ef < 1:
            raise ValueError(f"ef must be an int >= 1; got {ef!r}")
        L = max(ef, k)
        if Q.shape[0] == 1:  # no thread start-up for one query
            out_d, out_i = gb.search_one(*self._arrays, Q[0], L, k, self._visited, self._stamps)
            return self._unreached(Q, out_d, out_i)
        threads = self._threads() if Q.shape[0] >= gb.PARALLEL_MIN else 1
        if self._batch_scratch is None:
            self._batch_scratch = gb.scratch(self._vectors.shape[0])
        out_d = np.empty((Q.shape[0], k), np.float32)
        out_i = np.empty((Q.shape[0], k), np.int32)
        arrays = (*self._arrays[:3], self._arrays[3:])  # the upper levels as one tuple
        if threads == 1:
            gb.search_batch_serial(*arrays, Q, L, k, *self._batch_scratch, out_d, out_i)
        else:
            with gb.DynamicSchedule(threads):
                gb.search_batch(*arrays, Q, L, k, *self._batch_scratch, out_d, out_i)
        return self._unreached(Q, out_d, out_i)

    def _unreached(
        self, Q: np.ndarray, out_d: np.ndarray, out_i: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Queries whose walk reached fewer than ``k`` nodes get an exact answer instead.

        NOTE: pruning can leave a node with no edge leading to it; a walk then never meets
        it, and with ``k`` close to ``n`` a query can run out of nodes. Rare, so brute force.
        """
        short = out_i[:, -1] < 0  # (q,) the pool held fewer than k nodes
        if short.any():
            d2, rows = exact_search(Q[short], self._vectors, out_i.shape[1])
            out_d[short], out_i[short] = d2, self.order_[rows]
        return out_d, out_i

    # ------------------------------------------------------------------ save / load
    def _state(self) -> dict[str, np.ndarray]:
        return {
            "vectors": self._vectors,  # in node order
            "neighbors": self.neighbors_,
            "degree": self.degree_,
            "order": self.order_,
            "upper_neighbors": self._upper[0],
            "upper_degree": self._upper[1],
            "upper_offsets": self._upper[2],
        }

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self._vectors = np.ascontiguousarray(state["vectors"], dtype=np.float32)
        self.neighbors_ = np.ascontiguousarray(state["neighbors"], dtype=np.int32)
        self.degree_ = np.ascontiguousarray(state["degree"], dtype=np.int32)
        self.order_ = np.ascontiguousarray(state["order"], dtype=np.int32)
        self._upper = (
            np.ascontiguousarray(state["upper_neighbors"], dtype=np.int32),
            np.ascontiguousarray(state["upper_degree"], dtype=np.int32),
            np.ascontiguousarray(state["upper_offsets"], dtype=np.int64),
        )
        self._prepare()
