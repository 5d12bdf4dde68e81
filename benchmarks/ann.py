"""Approximate nearest neighbours: recall@10 against queries/s and build time, for every
genailab index and, in the same run, hnswlib and faiss-cpu when installed (the bench extra).

Two data sets, each with held-out queries and the exact top 10 (ExactIndex) as the truth:

1. GloVe 6B 50-d (:func:`genailab.embed.load_glove`): 100,000 words indexed and 1,000 other
   words as queries, drawn at random from the 101,000 most frequent; cosine.
2. :func:`genailab.embed.gaussian_mixture`: 100,000 x 128 overlapping components with an
   intrinsic dimension of 12, 1,000 more points as queries; L2.

For each index, a sweep of its speed knob (``ef``, ``nprobe``, ``probes``) gives points
(recall@10, queries/s) in two settings:

- single queries: a Python loop of one query per call, one thread (torch, numba, faiss and
  hnswlib all set to 1): the latency an online service sees;
- batches: the 1,000 queries in one call, all threads.

Build time is the wall time of ``fit`` (``add_items`` / ``train`` + ``add``), all threads.
The table gives, per method, the highest queries/s at recall@10 >= 0.95 and its ratio to
hnswlib's (M=16, ef_construction=200) from the same run. The goal (issue 6): genailab's best
index at >= 0.5x hnswlib single, >= 1x in batches, building no slower.

Run: ``python benchmarks/ann.py [--quick] [--data glove,mixture] [--out PNG]``.
``--quick``: 20,000 rows and 200 queries per data set, shorter sweeps (about a minute).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
import torch

import genailab.embed as embed

K = 10
TARGET = 0.95
ALL_THREADS = numba.config.NUMBA_NUM_THREADS
# a single-query sweep point stops after this long (or all queries); --quick uses a quarter
SINGLE_BUDGET_S = 1.0
# each timing is repeated this many times and the fastest kept: on a shared machine the
# fastest run is the one that had the cores to itself
BATCH_REPEATS = 3


# ----------------------------------------------------------------------------- data
def load_data(name: str, n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Indexed rows, held-out queries and the metric of data set ``name``."""
    rng = np.random.default_rng(0)
    if name == "glove":
        _, vectors = embed.load_glove(n + n_queries)  # the most frequent words
        rows = rng.permutation(n + n_queries)
        return vectors[rows[:n]], vectors[rows[n:]], "cosine"
    if name == "mixture":
        X, _ = embed.gaussian_mixture(n + n_queries, dim=128, random_state=0)
        return X[:n], X[n:], "l2"
    raise ValueError(f"data set must be 'glove' or 'mixture'; got {name!r}")


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = (found[:, :K, None] == truth[:, None, :K]).any(axis=2)  # (q, K)
    return float(hits.mean())


# ----------------------------------------------------------------------------- methods
@dataclass
class Method:
    """How to build one index and query it at each value of its knob."""

    name: str
    build: Callable[[np.ndarray], object]
    knob: str
    values: list
    set_knob: Callable[[object, object], None]
    batch: Callable[[object, np.ndarray], np.ndarray]  # (q, d) -> (q, K) indices
    single: Callable[[object, np.ndarray], np.ndarray]  # (d,) -> (K,) indices
    points: list = field(default_factory=list)  # (knob, recall, single q/s, batch q/s)
    build_s: float = float("nan")


def genailab_method(name: str, make: Callable, knob: str, values: list) -> Method:
    def build(X):
        return make().fit(X)

    return Method(
        name,
        build,
        knob,
        values,
        set_knob=lambda index, v: setattr(index, knob, v) if knob else None,
        batch=lambda index, Q: index.kneighbors(Q, K)[1],
        single=lambda index, q: index.kneighbors(q, K)[1],
    )


def unit(A: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(A / np.linalg.norm(A, axis=1, keepdims=True), dtype=np.float32)


def methods_for(n: int, d: int, metric: str, quick: bool) -> list[Method]:
    ef = [10, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128] if not quick else [10, 16, 24, 32, 64]
    nlist = 1024 if n >= 50_000 else 256
    nprobe = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64] if not quick else [1, 4, 16, 64]
    out = [
        genailab_method("ExactIndex", lambda: embed.ExactIndex(metric=metric), "", [None]),
        genailab_method(
            "GraphIndex M=16 efC=100",
            lambda: embed.GraphIndex(M=16, ef_construction=100, metric=metric, random_state=0),
            "ef",
            ef,
        ),
    ]
    if hasattr(embed, "IVFIndex"):
        out.append(
            genailab_method(
                f"IVFIndex nlist={nlist}",
                lambda: embed.IVFIndex(nlist=nlist, metric=metric, random_state=0),
                "nprobe",
                nprobe,
            )
        )
        pq = next(m for m in (d // 4, d // 5, d // 2, d) if m >= 1 and d % m == 0)
        out.append(
            genailab_method(
                f"IVFIndex nlist={nlist} PQ{pq} rerank=64",
                lambda: embed.IVFIndex(nlist=nlist, pq=pq, metric=metric, random_state=0),
                "nprobe",
                nprobe,
            )
        )
    if hasattr(embed, "LSHIndex"):
        out.append(
            genailab_method(
                "LSHIndex 14 bits x 8 tables",
                lambda: embed.LSHIndex(metric=metric, random_state=0),
                "probes",
                [0, 1, 2, 4, 8] if not quick else [0, 2, 8],
            )
        )
    if hasattr(embed, "ProbabilisticANN"):
        # NOTE: slow by nature (recall ~ probes / n): only a few small budgets.
        out.append(
            genailab_method(
                "ProbabilisticANN",
                lambda: embed.ProbabilisticANN(metric=metric, random_state=0),
                "probes",
                [n // 20, n // 5] if not quick else [n // 20],
            )
        )
    try:
        import hnswlib
    except ImportError:
        hnswlib = None
    if hnswlib is not None:

        def hnsw_build(X):
            index = hnswlib.Index(space="l2", dim=X.shape[1])
            index.init_index(max_elements=len(X), M=16, ef_construction=200, random_seed=0)
            index.add_items(X if metric == "l2" else unit(X), num_threads=ALL_THREADS)
            return index

        out.append(
            Method(
                "hnswlib M=16 efC=200",
                hnsw_build,
                "ef",
                ef,
                set_knob=lambda index, v: index.set_ef(v),
                batch=lambda index, Q: index.knn_query(Q, K, num_threads=ALL_THREADS)[0],
                single=lambda index, q: index.knn_query(q, K, num_threads=1)[0][0],
            )
        )
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:

        def faiss_hnsw(X):
            index = faiss.IndexHNSWFlat(X.shape[1], 16)
            index.hnsw.efConstruction = 200
            index.add(X)
            return index

        def faiss_ivf(X):
            quantizer = faiss.IndexFlatL2(X.shape[1])
            index = faiss.IndexIVFFlat(quantizer, X.shape[1], nlist)
            index.train(X)
            index.add(X)
            return index

        def set_hnsw(index, v):
            index.hnsw.efSearch = v

        def set_ivf(index, v):
            index.nprobe = v

        for name, build, knob, values, setter in (
            ("faiss HNSWFlat M=16 efC=200", faiss_hnsw, "ef", ef, set_hnsw),
            (f"faiss IVFFlat nlist={nlist}", faiss_ivf, "nprobe", nprobe, set_ivf),
        ):
            out.append(
                Method(
                    name,
                    # faiss's L2 on unit rows ranks as cosine does
                    (lambda b: lambda X: b(X if metric == "l2" else unit(X)))(build),
                    knob,
                    values,
                    set_knob=setter,
                    batch=lambda index, Q: index.search(Q if metric == "l2" else unit(Q), K)[1],
                    single=lambda index, q: index.search(
                        (q if metric == "l2" else unit(q[None])[0])[None], K
                    )[1][0],
                )
            )
    return out


def set_threads(n: int) -> None:
    numba.set_num_threads(n)
    torch.set_num_threads(n)
    try:
        import faiss

        faiss.omp_set_num_threads(n)
    except ImportError:
        pass


# ----------------------------------------------------------------------------- measuring
def run_method(m: Method, X: np.ndarray, Q: np.ndarray, truth: np.ndarray, budget_s: float) -> None:
    set_threads(ALL_THREADS)
    if not m.name.startswith(("hnswlib", "faiss")):
        m.build(X[:2000])  # warm-up: numba compiles (or loads its cache) once, not timed
    start = time.perf_counter()
    index = m.build(X)
    m.build_s = time.perf_counter() - start
    for value in m.values:
        m.set_knob(index, value)
        set_threads(ALL_THREADS)
        m.batch(index, Q[:8])  # warm-up (numba compiles on first call)
        best = float("inf")
        for _ in range(BATCH_REPEATS):
            start = time.perf_counter()
            found = m.batch(index, Q)
            best = min(best, time.perf_counter() - start)
            if best > budget_s:  # a slow method: once is enough
                break
        batch_qps = len(Q) / best
        set_threads(1)
        m.single(index, Q[0])
        done, start = 0, time.perf_counter()
        while done < len(Q) and time.perf_counter() - start < budget_s:
            m.single(index, Q[done])
            done += 1
        best = time.perf_counter() - start
        for _ in range(BATCH_REPEATS - 1):  # the same queries again; the fastest pass counts
            start = time.perf_counter()
            for i in range(done):
                m.single(index, Q[i])
            best = min(best, time.perf_counter() - start)
        single_qps = done / best
        m.points.append((value, recall_at_k(np.asarray(found), truth), single_qps, batch_qps))
    set_threads(ALL_THREADS)


def best_at_target(m: Method, col: int) -> tuple[float, object]:
    """The highest queries/s (column 2: single, 3: batch) with recall >= TARGET."""
    ok = [(p[col], f"{m.knob}={p[0]}" if m.knob else "-") for p in m.points if p[1] >= TARGET]
    return max(ok, key=lambda t: t[0]) if ok else (float("nan"), None)


def table(data: str, methods: list[Method]) -> str:
    ref = next((m for m in methods if m.name.startswith("hnswlib")), None)
    ref_single = best_at_target(ref, 2)[0] if ref else float("nan")
    ref_batch = best_at_target(ref, 3)[0] if ref else float("nan")
    ref_build = ref.build_s if ref else float("nan")
    lines = [
        f"\n### {data}: best queries/s at recall@{K} >= {TARGET} (ratios vs hnswlib, same run)\n",
        "| method | build s | x hnswlib | single q/s (knob) | x hnswlib "
        "| batch q/s (knob) | x hnswlib | max recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def fmt(qps, knob, ref_qps):
        if np.isnan(qps):
            return "not reached", "-"
        ratio = f"{qps / ref_qps:.2f}" if not np.isnan(ref_qps) else "-"
        return f"{qps:,.0f} ({knob})", ratio

    for m in methods:
        s, sr = fmt(*best_at_target(m, 2), ref_single)
        b, br = fmt(*best_at_target(m, 3), ref_batch)
        bt = f"{m.build_s / ref_build:.2f}" if ref else "-"
        top = max(p[1] for p in m.points)
        lines.append(f"| {m.name} | {m.build_s:.1f} | {bt} | {s} | {sr} | {b} | {br} | {top:.4f} |")
    return "\n".join(lines)


def plot(results: dict[str, list[Method]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 4.5 * len(results)), squeeze=False)
    for row, (data, methods) in enumerate(results.items()):
        for col, (label, c) in enumerate((("single queries, 1 thread", 2), ("batch", 3))):
            ax = axes[row, col]
            for m in methods:
                pts = m.points  # in knob order, along which recall grows
                style = "-o" if not m.name.startswith(("hnswlib", "faiss")) else "--s"
                ax.plot([p[c] for p in pts], [p[1] for p in pts], style, ms=4, label=m.name)
            ax.axhline(TARGET, color="grey", lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.set_xlabel("queries / s")
            ax.set_ylabel(f"recall@{K}")
            ax.set_title(f"{data}: {label}")
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(
        f"recall@{K} against queries/s: up and to the right is better; dotted: recall {TARGET}"
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(out, dpi=110)
    print(f"plot: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, short sweeps")
    parser.add_argument("--data", default="glove,mixture", help="comma list: glove, mixture")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("ann_recall_vs_qps.png")
    )
    parser.add_argument("--only", default="", help="keep methods whose name contains this")
    args = parser.parse_args()
    n, n_queries = (20_000, 200) if args.quick else (100_000, 1_000)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{ALL_THREADS} threads, load {os.getloadavg()[0]:.2f}, numba {numba.__version__}"
    )
    results = {}
    for data in args.data.split(","):
        X, Q, metric = load_data(data, n, n_queries)
        set_threads(ALL_THREADS)
        _, truth = embed.ExactIndex(metric=metric).fit(X).kneighbors(Q, K)
        methods = [
            m
            for m in methods_for(len(X), X.shape[1], metric, args.quick)
            if args.only.lower() in m.name.lower()
        ]
        print(f"\n{data}: {X.shape[0]:,} x {X.shape[1]} indexed, {len(Q):,} queries, {metric}")
        for m in methods:
            run_method(m, X, Q, truth, SINGLE_BUDGET_S / (4 if args.quick else 1))
            pts = ", ".join(f"{v}: {r:.3f} {s:,.0f}/{b:,.0f}" for v, r, s, b in m.points)
            print(
                f"  {m.name}: build {m.build_s:.1f} s; {m.knob or '-'} -> recall "
                f"single/batch q/s: {pts}",
                flush=True,
            )
        results[data] = methods
        print(table(data, methods), flush=True)
    print(f"\nload at the end: {os.getloadavg()[0]:.2f}")
    plot(results, args.out)


if __name__ == "__main__":
    main()
