"""LSH: random-hyperplane locality-sensitive hashing, with multi-probe and exact re-ranking.

Charikar's sign-random-projection hash ("Similarity estimation techniques from rounding
algorithms", 2002): draw a random Gaussian direction ``w`` and keep the bit ``sign(w . x)``.
Two vectors at angle ``theta`` get different bits exactly when the hyperplane ``w . x = 0``
falls between them, which happens with probability ``theta / pi``. So ``n_bits`` such bits make
a bucket key that near vectors (small angle) share with probability ``(1 - theta/pi)^n_bits``
and far ones rarely share. ``n_tables`` independent tables give a near vector ``n_tables``
chances: a true neighbour is missed with probability ``(1 - (1 - theta/pi)^n_bits)^n_tables``.

Hyperplane LSH approximates *angular* distance. For ``metric="cosine"`` that is the metric
itself; for ``"l2"`` the data are centred first (hyperplanes through the data's mean), so the
angle seen from the mean stands in for distance: good when the data sit all around their
mean, rough otherwise. Either way every candidate is re-ranked with its exact L2 distance,
so the distances returned are exact; only recall is approximate.

Multi-probe (Lv et al., "Multi-probe LSH", 2007): the bits whose projection ``w . q`` is
closest to 0 are the least confident; besides the query's own bucket, ``probes`` more
buckets per table are visited, each with one of the least-confident bits flipped.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np

from genailab.embed.ivf_index import _finish, _heap_push, _sq_dist
from genailab.embed.neighbor_index import NeighborIndex


@numba.njit(cache=True, nogil=True, fastmath=True)
def _query(q, keys, sorted_keys, order, vectors, ids, k, out_d, out_i):  # pragma: no cover
    """One query: the union of its buckets over tables and probes, exact top-k of it."""
    n = vectors.shape[0]
    n_tables, n_keys = keys.shape[0], keys.shape[1]
    kk = min(k + 1, n)
    seen = np.zeros(n, dtype=np.bool_)  # NOTE: a row in several buckets is scored once
    hd = np.full(kk, np.inf, dtype=np.float32)
    hi = np.full(kk, -1, dtype=np.int64)
    found = 0
    for t in range(n_tables):
        sk = sorted_keys[t]
        for p in range(n_keys):
            key = keys[t, p]
            lo = np.searchsorted(sk, key, side="left")
            hi_ = np.searchsorted(sk, key, side="right")
            for c in range(lo, hi_):
                r = order[t, c]
                if seen[r]:
                    continue
                seen[r] = True
                found += 1
                s = _sq_dist(q, vectors, r)
                if s < hd[0]:
                    _heap_push(hd, hi, s, r)
    if found < kk:
        # too few candidates for k answers: widen the first table's bucket to the rows
        # with the next keys in sorted order (they share the high bits), until enough
        sk, pos = sorted_keys[0], np.searchsorted(sorted_keys[0], keys[0, 0])
        lo, up = pos - 1, pos
        while found < kk:
            if up < n and (lo < 0 or sk[up] - keys[0, 0] <= keys[0, 0] - sk[lo]):
                r = order[0, up]
                up += 1
            else:
                r = order[0, lo]
                lo -= 1
            if seen[r]:
                continue
            seen[r] = True
            found += 1
            s = _sq_dist(q, vectors, r)
            if s < hd[0]:
                _heap_push(hd, hi, s, r)
    _finish(q, vectors, ids, hi, k, out_d, out_i)


# NOTE: a batch runs one query per thread; a single query calls _query directly, as starting
# the thread pool would cost more than the search itself.
@numba.njit(cache=True, nogil=True, parallel=True, fastmath=True)
def _search(Q, keys, sorted_keys, order, vectors, ids, k, out_d, out_i):  # pragma: no cover
    for qi in numba.prange(Q.shape[0]):
        _query(Q[qi], keys[qi], sorted_keys, order, vectors, ids, k, out_d[qi], out_i[qi])


def _is_int(value: object, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= low


class LSHIndex(NeighborIndex):
    """Random-hyperplane LSH: ``n_tables`` hash tables of ``n_bits`` sign bits, re-ranked exactly.

    See the module docstring: hyperplane LSH approximates angular distance; for ``"l2"`` the
    data are centred first. Recall grows with ``n_tables`` and ``probes``, falls with
    ``n_bits`` (smaller buckets, fewer candidates, faster).

    Parameters
    ----------
    n_bits : int, default 14
        Bits per key (1 to 62); buckets hold about ``n / 2^n_bits`` rows.
    n_tables : int, default 8
        Independent hash tables.
    probes : int, default 2
        Extra buckets visited per table, each with one least-confident bit flipped
        (0 to ``n_bits``); may be changed after :meth:`fit`.
    metric : {"l2", "cosine"}, default "l2"
    random_state : int, optional
        Seed of the hyperplanes.

    Attributes
    ----------
    planes_ : ndarray of float32, shape (n_tables * n_bits, d)
    center_ : ndarray of float32, shape (d,)
        Origin of the hyperplanes (the data mean for ``"l2"``, zero for ``"cosine"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 16)).astype(np.float32)
    >>> index = LSHIndex(n_bits=8, n_tables=4, random_state=0).fit(X)
    >>> dist, idx = index.kneighbors(X[:3], k=2)
    >>> idx[:, 0].tolist(), float(dist[0, 0])
    ([0, 1, 2], 0.0)
    """

    PARAMS = ("n_bits", "n_tables", "probes", "metric", "random_state")

    def __init__(
        self,
        n_bits: int = 14,
        n_tables: int = 8,
        probes: int = 2,
        metric: str = "l2",
        random_state: int | None = None,
    ) -> None:
        super().__init__(metric=metric)
        self.n_bits = n_bits
        self.n_tables = n_tables
        self.probes = probes
        self.random_state = random_state

    def _check_params(self) -> None:
        if not _is_int(self.n_bits, 1) or self.n_bits > 62:
            raise ValueError(f"n_bits must be an int in [1, 62], got {self.n_bits!r}")
        if not _is_int(self.n_tables, 1):
            raise ValueError(f"n_tables must be an int >= 1, got {self.n_tables!r}")
        if not _is_int(self.probes, 0) or self.probes > self.n_bits:
            raise ValueError(
                f"probes must be an int in [0, n_bits={self.n_bits}], got {self.probes!r}"
            )

    def _projections(self, A: np.ndarray) -> np.ndarray:
        """``w . (a - center)`` for every hyperplane, (m, n_tables, n_bits)."""
        P = (A - self.center_) @ self.planes_.T  # (m, n_tables * n_bits)
        return P.reshape(A.shape[0], self.n_tables, self.n_bits)

    def _keys(self, P: np.ndarray) -> np.ndarray:
        """Bits ``P > 0`` packed into int64 keys, over the last axis."""
        weights = np.left_shift(np.int64(1), np.arange(self.n_bits, dtype=np.int64))  # (b,)
        return ((P > 0).astype(np.int64) * weights).sum(axis=-1)

    def _build(self, X: np.ndarray) -> None:
        rng = np.random.default_rng(self.random_state)
        d = X.shape[1]
        self.planes_ = rng.normal(size=(self.n_tables * self.n_bits, d)).astype(np.float32)
        center = X.mean(axis=0) if self.metric == "l2" else np.zeros(d)
        self.center_ = center.astype(np.float32)  # (d,)
        self._vectors = X
        self._index_buckets()

    def _index_buckets(self) -> None:
        keys = self._keys(self._projections(self._vectors)).T  # (n_tables, n)
        self._order = np.argsort(keys, axis=1, kind="stable")  # rows of each table, by key
        self._sorted_keys = np.ascontiguousarray(np.take_along_axis(keys, self._order, axis=1))

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not _is_int(self.probes, 0) or self.probes > self.n_bits:
            raise ValueError(
                f"probes must be an int in [0, n_bits={self.n_bits}], got {self.probes!r}"
            )
        P = self._projections(Q)  # (q, T, b)
        own = self._keys(P)  # (q, T)
        # the `probes` least confident bits of each table: smallest |w . q|
        weak = np.argsort(np.abs(P), axis=2)[:, :, : self.probes]  # (q, T, probes)
        flipped = own[:, :, None] ^ np.left_shift(np.int64(1), weak)  # (q, T, probes)
        keys = np.ascontiguousarray(np.concatenate([own[:, :, None], flipped], axis=2))
        out_d = np.full((Q.shape[0], k), np.inf)
        out_i = np.full((Q.shape[0], k), -1, dtype=np.int64)
        args = (self._sorted_keys, self._order, self._vectors, np.arange(self._vectors.shape[0]))
        if Q.shape[0] == 1:
            _query(Q[0], keys[0], *args, k, out_d[0], out_i[0])
        else:
            _search(Q, keys, *args, k, out_d, out_i)
        return out_d, out_i

    def _state(self) -> dict[str, np.ndarray]:
        return {"planes": self.planes_, "center": self.center_, "vectors": self._vectors}

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self.planes_, self.center_ = state["planes"], state["center"]
        self._vectors = state["vectors"]
        self._index_buckets()
