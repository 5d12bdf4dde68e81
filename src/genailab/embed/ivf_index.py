"""IVF: an inverted-file index, with an optional product-quantised code (IVF-PQ).

Build (Sivic and Zisserman's "Video Google", 2003; Jegou, Douze and Schmid, "Product
quantization for nearest neighbor search", 2011, which added the PQ part):

1. a coarse quantiser: k-means with ``nlist`` centres on (a sample of) the data;
2. inverted lists: every row goes to the list of its nearest centre. The lists are one array
   of vectors sorted by list, plus ``offsets`` (CSR): list ``l`` is rows
   ``offsets[l]:offsets[l + 1]``, contiguous in memory, so a scan streams through it.

Query: the ``nprobe`` centres nearest to ``q``, then every vector of their lists. The true
neighbour is missed only when it lies in a list that was not probed, so recall grows with
``nprobe`` and is exact at ``nprobe = nlist``; the cost is about ``nprobe / nlist`` of brute
force, plus the ``nlist`` centre distances.

Product quantisation (``pq=m``): the residual ``r = x - c`` of a row to its list centre is cut
into ``m`` sub-vectors of ``d / m`` coordinates, and each sub-vector is replaced by the nearest
of ``2^pq_bits`` sub-centroids learned by k-means in that subspace: ``m`` bytes per row
instead of ``4 d``. The distance then splits over the subspaces (asymmetric distance
computation, ADC; the query is not quantised)::

    ||q - c - r||^2 = ||q - c||^2 + (||r||^2 + 2 c.r) - 2 sum_s q_s . r_s

``||q - c||^2`` is known from the coarse step, ``||r||^2 + 2 c.r`` is one float per row stored at
build time, and ``q_s . r_s`` is a lookup in a per-query table of ``m x 2^pq_bits`` dot
products computed once: a row costs ``m`` lookups instead of ``d`` multiply-adds. The
``rerank`` best rows by ADC are then re-ranked with their exact vectors.

The list scans are numba loops (one query per thread, a bounded max-heap of the best
candidates); the final ``k`` distances are recomputed in float64.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np
import torch

from genailab.embed.kmeans import KMeans, assign
from genailab.embed.neighbor_index import NeighborIndex

_TABLE_FLOATS = 1 << 22  # queries per block * m * 2^bits: 16 MB of ADC tables per block


# ---------------------------------------------------------------- numba kernels
@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
def _sq_dist(q, vectors, r):  # pragma: no cover
    """||q - vectors[r]||^2 in float32: the inner loop of every list and bucket scan."""
    s = np.float32(0.0)
    for j in range(q.shape[0]):
        t = q[j] - vectors[r, j]
        s += t * t
    return s


@numba.njit(cache=True, nogil=True, inline="always")
def _heap_push(hd, hi, d, i):  # pragma: no cover
    """Replace the root of the max-heap ``(hd, hi)`` by ``(d, i)`` and sift it down."""
    size = hd.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and hd[child + 1] > hd[child]:
            child += 1
        if hd[child] <= d:
            break
        hd[pos] = hd[child]
        hi[pos] = hi[child]
        pos = child
    hd[pos] = d
    hi[pos] = i


@numba.njit(cache=True, nogil=True)
def _nearest_lists(coarse, nprobe, offsets, need):  # pragma: no cover
    """The ``nprobe`` lists with the smallest ``coarse`` distance, more if they hold < need rows."""
    nlist = coarse.shape[0]
    hd = np.full(nprobe, np.inf, dtype=np.float32)
    hi = np.full(nprobe, -1, dtype=np.int64)
    for c in range(nlist):
        if coarse[c] < hd[0]:
            _heap_push(hd, hi, coarse[c], c)
    held = 0
    for p in range(nprobe):
        held += offsets[hi[p] + 1] - offsets[hi[p]]
    if held >= need:
        return hi
    # rare (tiny lists, large k): take lists in order of distance until there are enough rows
    order = np.argsort(coarse)
    held = 0
    m = 0
    while held < need:
        held += offsets[order[m] + 1] - offsets[order[m]]
        m += 1
    return order[: max(m, nprobe)].copy()


@numba.njit(cache=True, nogil=True)
def _finish(q, vectors, ids, pos, k, out_d, out_i):  # pragma: no cover
    """The ``k`` best of candidate rows ``pos`` by float64 distance, nearest first, ties by id."""
    pos = pos[pos >= 0]
    cand = ids[pos]
    o = np.argsort(cand)  # by id first, so that the stable sort below breaks ties by id
    pos, cand = pos[o], cand[o]
    d64 = np.empty(pos.shape[0])
    for c in range(pos.shape[0]):
        s = 0.0
        for j in range(q.shape[0]):
            t = np.float64(q[j]) - np.float64(vectors[pos[c], j])
            s += t * t
        d64[c] = s
    o = np.argsort(d64, kind="mergesort")[:k]
    out_d[: o.shape[0]] = d64[o]
    out_i[: o.shape[0]] = cand[o]


_JIT = {"cache": True, "nogil": True, "fastmath": True}


@numba.njit(**_JIT)
def _query_flat(q, coarse, vectors, ids, offsets, nprobe, k, out_d, out_i):  # pragma: no cover
    """One query: exact distances to every row of its probed lists."""
    kk = min(k + 1, vectors.shape[0])  # one spare: a float32 near-tie at k is re-judged in f64
    lists = _nearest_lists(coarse, nprobe, offsets, kk)
    hd = np.full(kk, np.inf, dtype=np.float32)
    hi = np.full(kk, -1, dtype=np.int64)
    for li in lists:
        for r in range(offsets[li], offsets[li + 1]):
            s = _sq_dist(q, vectors, r)
            if s < hd[0]:
                _heap_push(hd, hi, s, r)
    _finish(q, vectors, ids, hi, k, out_d, out_i)


@numba.njit(**_JIT)
def _query_pq(
    q, coarse, T, codes, extra, vectors, ids, offsets, nprobe, k, rerank, out_d, out_i
):  # pragma: no cover
    """One query: ADC distances over its probed lists, then exact re-ranking of the best."""
    m = codes.shape[1]
    n = vectors.shape[0]
    kk = min(k + 1, n)
    size = min(max(rerank, kk), n) if rerank > 0 else k  # the ADC shortlist
    lists = _nearest_lists(coarse, nprobe, offsets, size)
    hd = np.full(size, np.inf, dtype=np.float32)
    hi = np.full(size, -1, dtype=np.int64)
    for li in lists:
        base = coarse[li]  # ||q - c||^2
        for r in range(offsets[li], offsets[li + 1]):
            s = base + extra[r]
            for s_ in range(m):
                s += T[s_, codes[r, s_]]  # T (m, ksub): -2 q_s . r_s of every sub-centroid
            if s < hd[0]:
                _heap_push(hd, hi, s, r)
    if rerank == 0:  # PQ estimates only: sorted ADC distances
        o = np.argsort(hd)
        out_d[:] = hd[o]
        out_i[:] = ids[hi[o]]
        return
    # exact float32 distances of the ADC shortlist, keep the best kk, then float64
    ed = np.full(kk, np.inf, dtype=np.float32)
    ei = np.full(kk, -1, dtype=np.int64)
    for c in range(size):
        r = hi[c]
        if r < 0:
            continue
        s = _sq_dist(q, vectors, r)
        if s < ed[0]:
            _heap_push(ed, ei, s, r)
    _finish(q, vectors, ids, ei, k, out_d, out_i)


# NOTE: a batch runs one query per thread; a single query calls _query_* directly, as
# starting the thread pool would cost more than the search itself.
@numba.njit(parallel=True, **_JIT)
def _search_flat(Q, coarse, vectors, ids, offsets, nprobe, k, out_d, out_i):  # pragma: no cover
    for qi in numba.prange(Q.shape[0]):
        _query_flat(Q[qi], coarse[qi], vectors, ids, offsets, nprobe, k, out_d[qi], out_i[qi])


@numba.njit(parallel=True, **_JIT)
def _search_pq(
    Q, coarse, tables, codes, extra, vectors, ids, offsets, nprobe, k, rerank, out_d, out_i
):  # pragma: no cover
    for qi in numba.prange(Q.shape[0]):
        _query_pq(
            Q[qi], coarse[qi], tables[qi], codes, extra, vectors, ids, offsets, nprobe, k,
            rerank, out_d[qi], out_i[qi],
        )  # fmt: skip


# ---------------------------------------------------------------- the index
def _is_int(value: object, low: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= low


class IVFIndex(NeighborIndex):
    """Inverted-file index: k-means lists, ``nprobe`` of them scanned per query; optional PQ.

    See the module docstring for the method and the ADC formula.

    Parameters
    ----------
    nlist : int, default 1024
        Lists (coarse k-means centres); about ``sqrt(n)`` to ``4 sqrt(n)`` is usual.
    nprobe : int, default 8
        Lists scanned per query; more is slower and more exact (``nlist``: exact search).
        May be changed after :meth:`fit` (a sweep needs no refit); above ``nlist`` it is
        ``nlist``.
    pq : int, optional
        Sub-vectors per row for a product-quantised code (must divide the dimension);
        ``None`` (default) scans the exact float32 vectors.
    pq_bits : int, default 8
        Bits per sub-vector code, 1 to 8 (``2^pq_bits`` sub-centroids per subspace).
    rerank : int, default 64
        With ``pq``: the best rows by PQ distance re-ranked with exact distances (at least
        ``k + 1`` are); 0 returns the PQ estimates themselves.
    metric : {"l2", "cosine"}, default "l2"
    random_state : int, optional
        Seed of the training sample and of the k-means seeding.
    train_size : int, optional
        Rows the k-means are trained on (a random sample); default ``min(n, 32 nlist)``,
        and at least ``max(nlist, 2^pq_bits)``.
    max_iter : int, default 10
        Lloyd iterations of each k-means (faiss trains IVF with 10 too: the lists only
        need to be good, not optimal).

    Attributes
    ----------
    centroids_ : ndarray of float32, shape (nlist, d)
    list_sizes_ : ndarray of int64, shape (nlist,)
    codebooks_ : ndarray of float32, shape (pq, 2^pq_bits, d / pq), only with ``pq``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 16)).astype(np.float32)
    >>> index = IVFIndex(nlist=16, nprobe=16, random_state=0).fit(X)  # all lists: exact
    >>> dist, idx = index.kneighbors(X[:3], k=2)
    >>> idx[:, 0].tolist(), float(dist[0, 0])
    ([0, 1, 2], 0.0)
    """

    PARAMS = (
        "nlist",
        "nprobe",
        "pq",
        "pq_bits",
        "rerank",
        "metric",
        "random_state",
        "train_size",
        "max_iter",
    )

    def __init__(
        self,
        nlist: int = 1024,
        nprobe: int = 8,
        pq: int | None = None,
        pq_bits: int = 8,
        rerank: int = 64,
        metric: str = "l2",
        random_state: int | None = None,
        train_size: int | None = None,
        max_iter: int = 10,
    ) -> None:
        super().__init__(metric=metric)
        self.nlist = nlist
        self.nprobe = nprobe
        self.pq = pq
        self.pq_bits = pq_bits
        self.rerank = rerank
        self.random_state = random_state
        self.train_size = train_size
        self.max_iter = max_iter

    def _check_params(self) -> None:
        for name, low in (("nlist", 1), ("nprobe", 1), ("rerank", 0), ("max_iter", 1)):
            if not _is_int(getattr(self, name), low):
                raise ValueError(f"{name} must be an int >= {low}, got {getattr(self, name)!r}")
        if self.pq is not None and not _is_int(self.pq, 1):
            raise ValueError(f"pq must be None or an int >= 1 (sub-vectors), got {self.pq!r}")
        if not _is_int(self.pq_bits, 1) or self.pq_bits > 8:
            raise ValueError(f"pq_bits must be an int in [1, 8], got {self.pq_bits!r}")
        if self.train_size is not None and not _is_int(self.train_size, 1):
            raise ValueError(f"train_size must be None or an int >= 1, got {self.train_size!r}")

    # ---------------------------------------------------------------- build
    def _build(self, X: np.ndarray) -> None:
        n, d = X.shape
        if self.nlist > n:
            raise ValueError(f"nlist={self.nlist} is larger than the {n} vectors to index")
        if self.pq is not None and d % self.pq:
            raise ValueError(f"pq={self.pq} must divide the dimension {d}")
        ksub = 2**self.pq_bits
        if self.pq is not None and ksub > n:
            raise ValueError(f"pq_bits={self.pq_bits} needs at least {ksub} vectors, got {n}")
        rng = np.random.default_rng(self.random_state)
        size = min(n, 32 * self.nlist) if self.train_size is None else min(n, self.train_size)
        size = max(size, self.nlist, ksub if self.pq is not None else 1)
        train = X[np.sort(rng.choice(n, size, replace=False))] if size < n else X  # (t, d)
        coarse = KMeans(self.nlist, self.max_iter, random_state=rng, n_local_trials=1)
        self.centroids_ = coarse.fit(train).cluster_centers_  # (nlist, d)
        labels = assign(X, self.centroids_)[0]  # (n,)
        order = np.argsort(labels, kind="stable")  # rows grouped by list: the CSR layout
        self._ids = order
        self._vectors = np.ascontiguousarray(X[order])  # (n, d)
        self._offsets = np.searchsorted(labels[order], np.arange(self.nlist + 1))  # (nlist+1,)
        if self.pq is not None:
            self._train_pq(labels[order], size, rng)
        self._prepare()

    def _train_pq(self, labels: np.ndarray, size: int, rng: np.random.Generator) -> None:
        """Sub-centroids of the residuals, every row's code and its ``||r||^2 + 2 c.r``."""
        m, ksub = self.pq, 2**self.pq_bits
        n, d = self._vectors.shape
        C = self.centroids_[labels]  # (n, d) each row's list centre
        R = self._vectors - C  # (n, d) residuals
        Rs = R.reshape(n, m, d // m)  # (n, m, ds)
        size = min(size, 64 * ksub)  # 64 rows per sub-centroid: plenty in d / m dimensions
        sample = rng.choice(n, size, replace=False) if size < n else np.arange(n)
        books = np.empty((m, ksub, d // m), dtype=np.float32)
        codes = np.empty((n, m), dtype=np.uint8)
        for s in range(m):  # m small k-means, one per subspace
            km = KMeans(ksub, self.max_iter, random_state=rng, n_local_trials=1)
            books[s] = km.fit(Rs[sample, s]).cluster_centers_
            codes[:, s] = assign(np.ascontiguousarray(Rs[:, s]), books[s])[0]
        self.codebooks_ = books
        self._codes = codes
        approx = books[np.arange(m), codes].reshape(n, d).astype(np.float64)  # (n, d) r-hat
        self._extra = (np.einsum("ij,ij->i", approx, approx + 2.0 * C)).astype(np.float32)

    def _prepare(self) -> None:
        self.list_sizes_ = np.diff(self._offsets)  # (nlist,)
        self._c_sq = np.einsum("ij,ij->i", self.centroids_, self.centroids_)  # (nlist,)
        if self.pq is not None:
            self._books_t = np.ascontiguousarray(self.codebooks_.transpose(0, 2, 1))  # (m, ds, K)

    # ---------------------------------------------------------------- search
    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not _is_int(self.nprobe, 1):
            raise ValueError(f"nprobe must be an int >= 1, got {self.nprobe!r}")
        nprobe = min(int(self.nprobe), self.nlist)
        nq = Q.shape[0]
        # ||q - c||^2 for every centre: one matrix product (exact enough to rank centres, and
        # with PQ it is the first term of the ADC sum)
        q_sq = np.einsum("ij,ij->i", Q, Q)  # (q,)
        if nq < 64:  # NOTE: torch's call overhead (~100 us) dwarfs a few matrix-vector products
            coarse = self._c_sq - 2.0 * (Q @ self.centroids_.T)  # (q, nlist)
        else:
            coarse = torch.addmm(
                torch.from_numpy(self._c_sq)[None, :],
                torch.from_numpy(Q),
                torch.from_numpy(self.centroids_).T,
                alpha=-2.0,
            ).numpy()  # (q, nlist)
        coarse += q_sq[:, None]
        # every slot is written by the kernels (they scan lists until k + 1 rows are seen)
        out_d = np.empty((nq, k))
        out_i = np.empty((nq, k), dtype=np.int64)
        if self.pq is None:
            args = (self._vectors, self._ids, self._offsets, nprobe, k)
            if nq == 1:
                _query_flat(Q[0], coarse[0], *args, out_d[0], out_i[0])
            else:
                _search_flat(Q, coarse, *args, out_d, out_i)
            return out_d, out_i
        m, ksub, ds = self.codebooks_.shape
        block = max(1, _TABLE_FLOATS // (m * ksub))
        for start in range(0, nq, block):
            sl = slice(start, start + block)
            Qs = Q[sl].reshape(-1, m, ds).transpose(1, 0, 2)  # (m, b, ds)
            # one batched matrix product per subspace: (m, b, ds) @ (m, ds, ksub)
            tables = np.matmul(Qs, self._books_t).transpose(1, 0, 2)  # (b, m, ksub)
            tables = np.ascontiguousarray(-2.0 * tables)
            args = (self._codes, self._extra, self._vectors, self._ids, self._offsets)
            args += (nprobe, k, int(self.rerank))
            if nq == 1:
                _query_pq(Q[0], coarse[0], tables[0], *args, out_d[0], out_i[0])
            else:
                _search_pq(Q[sl], coarse[sl], tables, *args, out_d[sl], out_i[sl])
        return out_d, out_i

    # ---------------------------------------------------------------- save / load
    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "centroids": self.centroids_,
            "vectors": self._vectors,
            "ids": self._ids,
            "offsets": self._offsets,
        }
        if self.pq is not None:
            state |= {"codebooks": self.codebooks_, "codes": self._codes, "extra": self._extra}
        return state

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self.centroids_ = state["centroids"]
        self._vectors, self._ids, self._offsets = state["vectors"], state["ids"], state["offsets"]
        if self.pq is not None:
            self.codebooks_, self._codes = state["codebooks"], state["codes"]
            self._extra = state["extra"]
        self._prepare()
