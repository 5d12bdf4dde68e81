"""The compiled kernels of :class:`~genailab.embed.GraphIndex`: beam search, pruning, construction.

Everything here runs under numba: a graph walk jumps from node to node, which no array
expression can express. Squared L2 distances are float32 (``fastmath`` lets LLVM turn the
``d``-long loop into SIMD), node ids int32, and the graph is one ``(n, M0)`` int32 array
``nbrs`` with the degree of each node in ``deg`` (n,): a node's neighbours are
``nbrs[v, :deg[v]]``, one cache-friendly row.

Beam search (Malkov & Yashunin 2018, Alg. 2, written as the sorted "search pool" of NSG, Fu et
al. 2019): keep the ``L`` closest nodes seen so far, sorted; expand the closest one not yet
expanded (read its neighbours, insert the ones closer than the ``L``-th); stop when all ``L``
are expanded. A visited array with a per-query stamp avoids re-measuring a node without
clearing ``n`` flags for every query.

Pruning (HNSW's "heuristic", Alg. 4; NSG's "MRNG" edge selection): walk the candidates from
the nearest; keep ``c`` only if it is closer to ``p`` than to every neighbour already kept.
The kept edges point in different directions, so the graph stays navigable with few edges.

Construction (batched insertion, as the parallel build of DiskANN's Vamana, Subramanya et al.,
NeurIPS 2019): points are inserted in a random order, in batches that grow with the graph (a
fixed fraction of it). Every point of a batch walks down the upper levels and searches the
graph as it stood before the batch (read only, in parallel) and keeps ``M`` pruned neighbours;
then each old node that was chosen receives the new reverse edges and, past ``M0 = 2 M``, is
pruned again (in parallel over old nodes: each row has one writer). No step depends on thread
timing, so the graph depends only on the data and the order. The upper levels are snapshots
of the graph taken when the first ``n / M^l`` points were in (see :func:`build_graph`).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

_JIT = dict(cache=True, nogil=True, fastmath=True)
PARALLEL_MIN = 64  # fewer items than this (queries, points of a batch): the serial twin runs
BLOCK = 8  # items (queries, points) a thread takes at a time in a parallel loop
_STAMP_MAX = 2_000_000_000


# ----------------------------------------------------------------------------- small kernels
@intrinsic
def _prefetch(typingctx, arr, i, j):
    """Ask the CPU to start loading the cache line of ``arr[i, j]`` (LLVM's prefetch)."""

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        pairs = zip(args[1:], signature.args[1:], strict=True)
        idx = [context.cast(builder, a, t, types.intp) for a, t in pairs]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen


@numba.njit(**_JIT)
def _prefetch_row(X: np.ndarray, i: int) -> None:
    for j in range(0, X.shape[1], 16):  # one 64-byte line holds 16 float32
        _prefetch(X, i, j)


@numba.njit(**_JIT)
def _sqdist(X: np.ndarray, i: int, q: np.ndarray) -> np.float32:
    s = np.float32(0.0)
    for j in range(X.shape[1]):
        t = X[i, j] - q[j]
        s += t * t
    return s


@numba.njit(**_JIT)
def _sqdist_rows(X: np.ndarray, i: int, k: int) -> np.float32:
    s = np.float32(0.0)
    for j in range(X.shape[1]):
        t = X[i, j] - X[k, j]
        s += t * t
    return s


@numba.njit(**_JIT)
def _next_stamp(visited: np.ndarray, stamps: np.ndarray, t: int) -> int:
    """A fresh stamp for thread ``t``; wipe its visited row only when the counter wraps."""
    s = stamps[t] + 1
    if s >= _STAMP_MAX:
        visited[t, :] = 0
        s = 1
    stamps[t] = s
    return s


@numba.njit(**_JIT)
def beam_search(X, nbrs, deg, q, entries, L, visited, stamp, pool_d, pool_i, pool_x) -> int:
    """Fill ``pool_d, pool_i`` (length >= L) with the L nearest nodes found, sorted; return count.

    ``visited`` is a 1-D int32 row; a node ``v`` counts as seen when ``visited[v] == stamp``.
    """
    size = 0
    for e in entries:
        if visited[e] == stamp:
            continue
        visited[e] = stamp
        size = _pool_insert(pool_d, pool_i, pool_x, size, L, _sqdist(X, e, q), e)
    fresh = np.empty(nbrs.shape[1], np.int32)
    k = 0
    while k < size:
        if pool_x[k]:
            k += 1
            continue
        pool_x[k] = True
        node = pool_i[k]
        # NOTE: first collect the unseen neighbours and prefetch their vectors, then measure:
        # the loads overlap instead of each one waiting ~100 ns for memory in turn.
        n_fresh = 0
        for j in range(deg[node]):
            v = nbrs[node, j]
            if visited[v] != stamp:
                visited[v] = stamp
                fresh[n_fresh] = v
                n_fresh += 1
                _prefetch_row(X, v)
        lowest = size  # the first position that changed: resume expanding from there
        for j in range(n_fresh):
            v = fresh[j]
            d = _sqdist(X, v, q)
            if size == L and d >= pool_d[L - 1]:
                continue
            pos = _pool_position(pool_d, size, d)
            size = _pool_insert_at(pool_d, pool_i, pool_x, size, L, pos, d, v)
            if pos < lowest:
                lowest = pos
        k = lowest if lowest <= k else k + 1
    return size


@numba.njit(**_JIT)
def _pool_position(pool_d, size, d) -> int:
    lo, hi = 0, size  # binary search: the first entry farther than d
    while lo < hi:
        mid = (lo + hi) >> 1
        if pool_d[mid] <= d:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(**_JIT)
def _pool_insert_at(pool_d, pool_i, pool_x, size, L, pos, d, v) -> int:
    last = size if size < L else L - 1  # the entry past L falls off
    for t in range(last, pos, -1):
        pool_d[t] = pool_d[t - 1]
        pool_i[t] = pool_i[t - 1]
        pool_x[t] = pool_x[t - 1]
    pool_d[pos] = d
    pool_i[pos] = v
    pool_x[pos] = False
    return size + 1 if size < L else L


@numba.njit(**_JIT)
def _pool_insert(pool_d, pool_i, pool_x, size, L, d, v) -> int:
    if size == L and d >= pool_d[L - 1]:
        return size
    return _pool_insert_at(pool_d, pool_i, pool_x, size, L, _pool_position(pool_d, size, d), d, v)


@numba.njit(**_JIT)
def select_diverse(X, cand_i, cand_d, n_cand, m_max, out, out_d) -> int:
    """HNSW's heuristic: from candidates sorted by distance, keep up to ``m_max`` diverse ones.

    ``c`` is kept if no kept ``r`` is closer to it than the base point is (``|c - r| < |c - p|``
    means ``r`` already leads towards ``c``). Writes ids to ``out`` and their distances to the
    base point to ``out_d``; returns how many.
    """
    if n_cand <= m_max:  # nothing to choose from (hnswlib does the same)
        for t in range(n_cand):
            out[t] = cand_i[t]
            out_d[t] = cand_d[t]
        return n_cand
    kept = 0
    for t in range(n_cand):
        c = cand_i[t]
        good = True
        for r in range(kept):
            if _sqdist_rows(X, c, out[r]) < cand_d[t]:
                good = False
                break
        if good:
            out[kept] = c
            out_d[kept] = cand_d[t]
            kept += 1
            if kept == m_max:
                break
    return kept


# ----------------------------------------------------------------------------- search
@numba.njit(**_JIT)
def descend(X, up_nbrs, up_deg, up_off, n_levels, q) -> int:
    """Greedy walk down the upper levels (HNSW's layers above 0, searched with ef = 1).

    Level ``l`` (0 = the top, smallest) is the graph of nodes ``0 .. s_l - 1`` stored in rows
    ``up_off[l] ..`` of ``up_nbrs``; the walk starts at node 0 and returns the node where the
    last level's walk stopped, the entry for the beam search on the full graph.
    """
    cur = 0
    cur_d = _sqdist(X, 0, q)
    for lev in range(n_levels):
        base = up_off[lev]
        changed = True
        while changed:  # move to the closest neighbour while one is closer
            changed = False
            row = base + cur
            for j in range(up_deg[row]):
                v = up_nbrs[row, j]
                d = _sqdist(X, v, q)
                if d < cur_d:
                    cur_d, cur, changed = d, v, True
    return cur


@numba.njit(**_JIT)
def _search_into(X, nbrs, deg, up, q, L, k, visited, stamp, pool_d, pool_i, pool_x, out_d, out_i):
    up_nbrs, up_deg, up_off, order = up
    entries = np.empty(1, np.int32)
    entries[0] = descend(X, up_nbrs, up_deg, up_off, up_off.shape[0] - 1, q)
    pool_x[:] = False
    size = beam_search(X, nbrs, deg, q, entries, L, visited, stamp, pool_d, pool_i, pool_x)
    for t in range(k):
        out_d[t] = pool_d[t] if t < size else np.inf
        out_i[t] = order[pool_i[t]] if t < size else -1  # node -> row of the caller's X


@numba.njit(**_JIT)
def search_one(X, nbrs, deg, up_nbrs, up_deg, up_off, order, q, L, k, visited, stamps):
    """One query (scratch row 0 of ``visited``): squared distances (k,) and rows (k,).

    ``up_*`` are the upper levels; ``order`` maps a node to the row of the caller's data.
    Arrays are passed one by one, not in a tuple: numba types a tuple argument slowly, and
    for one query the call itself is a good part of the time.
    """
    stamp = _next_stamp(visited, stamps, 0)
    pool_d = np.empty(L + 1, np.float32)
    pool_i = np.empty(L + 1, np.int32)
    pool_x = np.empty(L + 1, np.bool_)
    out_d = np.empty((1, k), np.float32)
    out_i = np.empty((1, k), np.int32)
    up = (up_nbrs, up_deg, up_off, order)
    _search_into(
        X, nbrs, deg, up, q, L, k, visited[0], stamp, pool_d, pool_i, pool_x, out_d[0], out_i[0]
    )
    return out_d, out_i


@numba.njit(**_JIT)
def _search_range(X, nbrs, deg, up, Q, L, k, visited, stamps, out_d, out_i, lo, hi, t) -> None:
    """Queries ``lo .. hi - 1``, with the scratch row ``t`` of ``visited``."""
    pool_d = np.empty(L + 1, np.float32)
    pool_i = np.empty(L + 1, np.int32)
    pool_x = np.empty(L + 1, np.bool_)
    for qi in range(lo, hi):
        stamp = _next_stamp(visited, stamps, t)
        _search_into(
            X, nbrs, deg, up, Q[qi], L, k, visited[t], stamp, pool_d, pool_i, pool_x,
            out_d[qi], out_i[qi],
        )  # fmt: skip


@numba.njit(parallel=True, **_JIT)
def search_batch(X, nbrs, deg, up, Q, L, k, visited, stamps, out_d, out_i) -> None:
    """Many queries, in blocks handed to whichever thread is free (run it under
    :class:`DynamicSchedule`); a thread's scratch is the row of ``visited`` of its id."""
    nq = Q.shape[0]
    for b in prange((nq + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(nq, (b + 1) * BLOCK)
        t = numba.get_thread_id()
        _search_range(X, nbrs, deg, up, Q, L, k, visited, stamps, out_d, out_i, lo, hi, t)


@numba.njit(**_JIT)
def search_batch_serial(X, nbrs, deg, up, Q, L, k, visited, stamps, out_d, out_i) -> None:
    """:func:`search_batch` on the calling thread (scratch row 0)."""
    _search_range(X, nbrs, deg, up, Q, L, k, visited, stamps, out_d, out_i, 0, Q.shape[0], 0)


class DynamicSchedule:
    """``with DynamicSchedule(n_threads):`` parallel loops run on ``n_threads`` threads and
    hand out one iteration (a block) at a time to whichever thread is free.

    NOTE: numba's default splits a loop into one fixed share per thread; on a shared machine
    a thread that loses its core for a while then holds up the whole loop.
    """

    def __init__(self, n_threads: int) -> None:
        self.n_threads = n_threads

    def __enter__(self) -> None:
        self._saved = numba.get_num_threads(), numba.get_parallel_chunksize()
        numba.set_num_threads(self.n_threads)
        numba.set_parallel_chunksize(1)

    def __exit__(self, *exc: object) -> None:
        numba.set_num_threads(self._saved[0])
        numba.set_parallel_chunksize(self._saved[1])


def scratch(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Visited stamps (one row per possible thread id) and their counters."""
    rows = numba.config.NUMBA_NUM_THREADS
    return np.zeros((rows, n), np.int32), np.zeros(rows, np.int64)


# ----------------------------------------------------------------------------- construction
# NOTE: each parallel kernel below has a serial twin (a distinct function, so that numba's
# cache keeps both): a parallel region costs a thread wake-up (microseconds on an idle
# machine, a whole scheduler slice on a busy one), too much for the first, tiny batches.
@numba.njit(**_JIT)
def _link_range(X, nbrs, deg, up, n_levels, start, M, ef, visited, stamps, new_d, lo, hi, t):
    """Phase 1: each new point ``start + b`` for ``lo <= b < hi`` keeps ``M`` diverse
    neighbours among the points ``< start`` (the graph as it stood before the batch)."""
    up_nbrs, up_deg, up_off = up[0], up[1], up[2]
    pool_d = np.empty(ef + 1, np.float32)
    pool_i = np.empty(ef + 1, np.int32)
    pool_x = np.empty(ef + 1, np.bool_)
    entries = np.empty(1, np.int32)
    for b in range(lo, hi):
        p = start + b
        stamp = _next_stamp(visited, stamps, t)
        entries[0] = descend(X, up_nbrs, up_deg, up_off, n_levels, X[p])
        pool_x[:] = False
        size = beam_search(
            X, nbrs, deg, X[p], entries, ef, visited[t], stamp, pool_d, pool_i, pool_x
        )
        deg[p] = select_diverse(X, pool_i, pool_d, size, M, nbrs[p], new_d[b])


@numba.njit(parallel=True, **_JIT)
def _link_par(X, nbrs, deg, up, n_levels, start, stop, M, ef, visited, stamps, new_d) -> None:
    nb = stop - start
    for blk in prange((nb + BLOCK - 1) // BLOCK):
        lo, hi = blk * BLOCK, min(nb, (blk + 1) * BLOCK)
        t = numba.get_thread_id()
        _link_range(X, nbrs, deg, up, n_levels, start, M, ef, visited, stamps, new_d, lo, hi, t)


@numba.njit(**_JIT)
def _link_serial(X, nbrs, deg, up, n_levels, start, stop, M, ef, visited, stamps, new_d) -> None:
    nb = stop - start
    _link_range(X, nbrs, deg, up, n_levels, start, M, ef, visited, stamps, new_d, 0, nb, 0)


@numba.njit(**_JIT)
def _reverse_group(X, nbrs, deg, targets, sources, dists, lo, hi) -> None:
    """Phase 2: old node ``targets[lo]`` gains edges to ``sources[lo:hi]``; prune to M0."""
    M0 = nbrs.shape[1]
    v = targets[lo]
    if deg[v] + hi - lo <= M0:  # room for all: append
        for t in range(lo, hi):
            nbrs[v, deg[v]] = sources[t]
            deg[v] += 1
        return
    n_c = deg[v] + hi - lo
    cand_i = np.empty(n_c, np.int32)
    cand_d = np.empty(n_c, np.float32)
    for t in range(deg[v]):
        cand_i[t] = nbrs[v, t]
        cand_d[t] = _sqdist_rows(X, v, nbrs[v, t])
    for t in range(lo, hi):
        cand_i[deg[v] + t - lo] = sources[t]
        cand_d[deg[v] + t - lo] = dists[t]
    for t in range(1, n_c):  # insertion sort by distance: a few dozen, mostly sorted already
        d, i, u = cand_d[t], cand_i[t], t
        while u > 0 and cand_d[u - 1] > d:
            cand_d[u], cand_i[u] = cand_d[u - 1], cand_i[u - 1]
            u -= 1
        cand_d[u], cand_i[u] = d, i
    kept_d = np.empty(M0, np.float32)
    deg[v] = select_diverse(X, cand_i, cand_d, n_c, M0, nbrs[v], kept_d)


@numba.njit(parallel=True, **_JIT)
def _reverse_par(X, nbrs, deg, targets, sources, dists, starts) -> None:
    n_groups = starts.shape[0] - 1
    for blk in prange((n_groups + BLOCK - 1) // BLOCK):
        # one writer per row: each group is one node
        for g in range(blk * BLOCK, min(n_groups, (blk + 1) * BLOCK)):
            _reverse_group(X, nbrs, deg, targets, sources, dists, starts[g], starts[g + 1])


@numba.njit(**_JIT)
def _reverse_serial(X, nbrs, deg, targets, sources, dists, starts) -> None:
    for g in range(starts.shape[0] - 1):
        _reverse_group(X, nbrs, deg, targets, sources, dists, starts[g], starts[g + 1])


def _group_pairs(
    start: int, stop: int, nbrs: np.ndarray, deg: np.ndarray, new_d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reverse edges of batch ``start .. stop - 1``: (target, source, distance), grouped
    by target (sorted, stable: sources in batch order), and where each group starts."""
    M = new_d.shape[1]
    counts = deg[start:stop]  # (b,) links of each new point, at most M
    valid = np.arange(M)[None, :] < counts[:, None]  # (b, M)
    targets = nbrs[start:stop, :M][valid]  # (e,)
    sources = np.repeat(np.arange(start, stop, dtype=np.int32), counts)  # (e,)
    dists = new_d[valid]  # (e,)
    order = np.argsort(targets, kind="stable")
    targets, sources, dists = targets[order], sources[order], dists[order]
    first = np.flatnonzero(np.diff(targets, prepend=-1))  # (g,) start of each target's group
    starts = np.append(first, len(targets)).astype(np.int64)  # (g + 1,)
    return targets, sources, dists, starts


def level_sizes(n: int, M: int) -> list[int]:
    """Sizes of the upper levels, top first: ``n / M^l`` nodes at level ``l`` (HNSW's
    ``m_L = 1 / ln M``), while at least 2."""
    sizes = []
    s = n // M
    while s >= 2:
        sizes.append(s)
        s //= M
    return sizes[::-1]


def build_graph(
    X: np.ndarray, M: int, ef_construction: int, n_threads: int, grow: float
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The graph of ``X`` (n, d) float32, whose rows are in insertion order.

    Returns ``nbrs`` (n, 2M) int32 and ``deg`` (n,) int32, and the upper levels
    ``(up_nbrs, up_deg, up_off)``: level ``l`` is a snapshot of the graph taken when its
    first ``s_l`` points were in (HNSW draws each point's top level at random; here the
    random insertion order does that draw, and a level is the graph of a random subset).
    Each batch holds ``grow`` times the points already in (at least one), so a point misses
    at most that fraction of its possible links.
    """
    n = X.shape[0]
    sizes = level_sizes(n, M)
    up_off = np.zeros(len(sizes) + 1, np.int64)
    up_off[1:] = np.cumsum(sizes)
    up_nbrs = np.full((int(up_off[-1]), 2 * M), -1, np.int32)
    up_deg = np.zeros(int(up_off[-1]), np.int32)
    up = (up_nbrs, up_deg, up_off)
    nbrs = np.full((n, 2 * M), -1, np.int32)
    deg = np.zeros(n, np.int32)
    visited, stamps = scratch(n)
    done, n_levels = 1, 0
    while done < n:
        size = min(n - done, max(1, int(done * grow)))
        if n_levels < len(sizes):  # stop at the next snapshot
            size = min(size, sizes[n_levels] - done)
        new_d = np.empty((size, M), np.float32)
        par = size >= PARALLEL_MIN and n_threads > 1
        link, reverse = (_link_par, _reverse_par) if par else (_link_serial, _reverse_serial)
        args = (X, nbrs, deg, up, n_levels, done, done + size, M, ef_construction)
        with DynamicSchedule(n_threads):
            link(*args, visited, stamps, new_d)
            reverse(X, nbrs, deg, *_group_pairs(done, done + size, nbrs, deg, new_d))
        done += size
        if n_levels < len(sizes) and done == sizes[n_levels]:
            lo, hi = up_off[n_levels], up_off[n_levels + 1]
            up_nbrs[lo:hi] = nbrs[:done]
            up_deg[lo:hi] = deg[:done]
            n_levels += 1
    return nbrs, deg, up
