"""Finding the nearest neighbours of a point by random probing, Vincent Granville's
probabilistic method, against a navigable graph index. A few thousand points lie in the plane;
each star is a query. At every iteration each query draws a batch of random points (the faint
dots), measures its distance to them, and keeps the closest `k` seen so far (the lines); the
rings mark its true `k` nearest neighbours. The right panel is the figure to watch: recall, the
share of true neighbours found, against the distance computations spent per query, on a log
scale. The random probes follow their expected curve `1 - (1 - 1/n)^p` (dashed): after
{passes:.0f} passes over the whole data set they have found {recall_random:.2f} of the
neighbours, where the curve expects {recall_expected:.2f}. Re-working only the worst half of the
queries with the same budget does no better ({recall_worst_half:.2f}). The graph index
(`GraphIndex`, an HNSW-style graph) walks towards the query and measures only
{graph_distances:.0f} points for a recall of {recall_graph:.2f}: real indexes win by pruning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.embed import (
    ExactIndex,
    GraphIndex,
    ProbabilisticANN,
    expected_recall,
    gaussian_mixture,
)
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

SHOWN = 6  # queries drawn in the scatter (recall is measured on all of them)
EF_SWEEP = (10, 20, 50, 100, 200)  # graph beam widths (at least k is used); 50 is the default


@experiment(
    name="nearest-neighbors",
    chapter="Granville's data videos",
    title="Nearest neighbours by random probes, against a graph index",
    seconds=(40, 15),
)
@dataclass
class Config:
    points: int = setting(
        3000, help="points in the plane that the queries search", ge=20, le=300_000
    )
    queries: int = setting(
        200,
        help=f"held-out queries; recall is averaged over them ({SHOWN} are drawn)",
        ge=SHOWN,
        le=100_000,
    )
    k: int = setting(5, help="nearest neighbours each query looks for", ge=1, le=100)
    passes: float = setting(
        3.0, help="random probes per query, in multiples of the number of points", gt=0, le=20
    )
    batch: int = setting(
        100,
        help="random probes per query and iteration; a frame each iteration",
        ge=1,
        le=10_000,
    )
    components: int = setting(8, help="Gaussian clusters of the 2-D points", ge=1, le=1000)
    M: int = setting(8, help="links per node of the graph index", ge=2, le=64)
    seed: int = seed_setting()
    QUICK = dict(points=1000, queries=100, passes=3.0, batch=150)

    def __post_init__(self) -> None:
        if self.k > self.points:
            raise ValueError(f"k must be <= points={self.points}, got {self.k}")


QUESTION = (
    "How many distance computations does random probing spend to find a point's nearest "
    "neighbours, and how few does a graph index need?"
)
ANSWER = (
    "After {passes:.0f} passes ({probes_per_query:,.0f} distances a query) the random probes "
    "find {recall_random:.2f} of the neighbours; the graph index {recall_graph:.2f} after "
    "{graph_distances:.0f}"
)
CLAIMS = (
    Claim(
        "abs(recall_random - recall_expected) < 0.04",
        "the random probes follow their expected curve 1 - (1 - 1/n)^p",
    ),
    Claim(
        "recall_worst_half <= recall_random",
        "re-working only the worst half of the queries does no better",
    ),
    Claim(
        "recall_graph >= 0.99 and graph_distances < probes_per_query / 20",
        "the graph index finds 99% of them with under 1/20 of the probes' distances",
    ),
)


def caption(passes: float) -> str:
    """The message of the stretch that ``passes`` (draws per query over ``n``) falls in."""
    if passes < 0.5:
        return "Each query draws random points and keeps the closest it has seen so far"
    if passes < 1.5:
        return "Each draw finds a given neighbour with chance 1/n: recall follows the dashed curve"
    if passes < 2.5:
        return "Re-working only the worst half of the queries does no better for the same budget"
    return "A graph index walks towards the query, measuring far fewer points than the probes"


def memory_bytes(cfg: Config) -> int:
    """The peak bytes of the frames: each iteration of the random probes holds, for every
    query, its ``batch`` draws and ``k`` best rows as indices, distances and the sorted copies
    of their merge (about 56 bytes an entry, measured); beside them the points with their exact
    and graph indexes (about 256 bytes a point), the exact search's block of query-to-point
    distances (float32, 64 MB at most) and about 32 MiB that the graph build needs whatever
    the sizes (its compiled code)."""
    probes = 56 * cfg.queries * (cfg.batch + cfg.k)
    exact_block = 4 * min(cfg.queries * cfg.points, 2**24)
    return probes + exact_block + 256 * cfg.points + 2**25


def make_data(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """The indexed points (n, 2) and the held-out queries (q, 2), from ``cfg.seed``.

    Examples
    --------
    >>> X, Q = make_data(Config(points=100, queries=10))
    >>> X.shape, Q.shape
    ((100, 2), (10, 2))
    """
    rng = np.random.default_rng(cfg.seed)
    data, _ = gaussian_mixture(
        cfg.points + cfg.queries,
        dim=2,
        n_components=cfg.components,
        intrinsic_dim=2,
        spread=3.0,
        noise=0.05,
        random_state=rng,
    )  # (n + q, 2)
    return data[: cfg.points], data[cfg.points :]


def probe_index(cfg: Config, rework: str) -> ProbabilisticANN:
    """The random-probe search of the video: ``passes * n`` draws per query, seeded."""
    probes = round(cfg.passes * cfg.points)
    return ProbabilisticANN(probes=probes, batch=cfg.batch, rework=rework, random_state=cfg.seed)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true ``k`` neighbours present in its found list (q, k).

    Examples
    --------
    >>> recall_at_k(np.array([[1, 2], [3, -1]]), np.array([[2, 1], [3, 4]]))
    0.75
    """
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=2)  # (q, k)
    return float(hits.mean())


def graph_sweep(
    index: GraphIndex, Q: np.ndarray, k: int, truth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recall and distance computations per query of the graph at the beam widths ``EF_SWEEP``.

    The count is :meth:`GraphIndex.last_search_visits` after each single query: the nodes
    whose distance the beam search measured on the bottom layer (the short greedy walk down
    the upper levels is not counted).
    """
    efs = np.unique([max(e, k) for e in EF_SWEEP])  # (E,)
    recalls = np.empty(efs.size)
    costs = np.empty(efs.size)
    for j, ef in enumerate(efs):
        index.ef = int(ef)
        _, idx = index.kneighbors(Q, k=k)  # (q, k) a batch, for the recall
        recalls[j] = recall_at_k(idx, truth)
        counts = [_measured(index, q, k) for q in Q]  # single queries: one stamp row each
        costs[j] = np.mean(counts)
    return efs, recalls, costs


def _measured(index: GraphIndex, q: np.ndarray, k: int) -> float:
    index.kneighbors(q, k=k)
    return float(index.last_search_visits())


def frame_count(cfg: Config) -> int:
    """One frame per iteration of the random probes, plus the start."""
    return int(np.ceil(max(round(cfg.passes * cfg.points), cfg.k) / cfg.batch)) + 1


def frames(cfg: Config) -> Iterator[Frame]:
    X, Q = make_data(cfg)  # (n, 2), (q, 2)
    n, k = cfg.points, cfg.k
    _, truth = ExactIndex().fit(X).kneighbors(Q, k=k)  # (q, k) the rings
    graph = GraphIndex(M=cfg.M, ef_construction=64, random_state=cfg.seed).fit(X)
    default_ef = max(int(graph.ef), k)  # the index's own default beam width
    efs, graph_recall, graph_cost = graph_sweep(graph, Q, k, truth)
    at_default = int(np.flatnonzero(efs == default_ef)[0]) if default_ef in efs else -1

    # the worst-half variant, run in full first: drawn as its recall against draws per query
    half = [
        (s.probes.mean(), recall_at_k(s.indices, truth))
        for s in probe_index(cfg, "worst-half").fit(X).iter_search(Q, k=k)
    ]
    half_probes, half_recall = (np.array(v) for v in zip(*half, strict=True))  # (H,), (H,)

    # Every row swapped into a list must be one of this iteration's draws (ProbeState.drawn;
    # in "all" mode every query draws): checked below, frame by frame.
    total = frame_count(cfg)
    probes = np.zeros(total)  # (T,) draws per query after each iteration
    recall = np.zeros(total)
    probes_consistent = True
    grid = np.geomspace(1, 20 * n, 200)  # (200,) for the dashed expected curve
    static = {
        "points": X,
        "queries": Q[:SHOWN],
        "truth": X[truth[:SHOWN]],  # (S, k, 2)
        "expected_x": grid,
        "expected_y": expected_recall(grid, n),
        "graph_cost": graph_cost,
        "graph_recall": graph_recall,
        "graph_ef": efs.astype(float),
    }
    index = probe_index(cfg, "all").fit(X)
    previous = np.full((SHOWN, k), -1)
    states = index.iter_search(Q, k=k, iterations=total - 1)
    for t in range(total):
        if t == 0:
            best = np.full((SHOWN, k), -1)
            drawn = np.zeros((SHOWN, 0), dtype=np.int64)
        else:
            state = next(states)
            drawn = state.drawn[:SHOWN]  # (S, b)
            best = state.indices[:SHOWN]  # (S, k)
            new = (best >= 0) & ~(best[:, :, None] == previous[:, None, :]).any(axis=2)
            probes_consistent &= bool(
                (best[:, :, None] == drawn[:, None, :]).any(axis=2)[new].all()
            )
            probes[t] = state.probes.mean()
            recall[t] = recall_at_k(state.indices, truth)
        previous = best
        upto = half_probes <= probes[t]
        scalars = {
            "probes_per_query": probes[t],
            "passes": probes[t] / n,
            "recall_random": recall[t],
            "recall_expected": float(expected_recall(probes[t], n)),
            "recall_worst_half": float(half_recall[upto][-1]) if upto.any() else 0.0,
            "recall_graph": float(graph_recall[at_default]),
            "graph_distances": float(graph_cost[at_default]),
            "graph_ef": float(efs[at_default]),
            "probes_consistent": float(probes_consistent),
        }
        yield Frame(
            step=t,
            arrays={
                **static,
                "drawn": X[drawn].reshape(-1, 2),  # (S * b, 2)
                "drawn_query": np.repeat(np.arange(SHOWN), drawn.shape[1]),
                "best": np.where(best[..., None] >= 0, X[best], np.nan),  # (S, k, 2)
                "probes": probes[: t + 1],
                "recall": recall[: t + 1],
                "half_probes": half_probes[upto],
                "half_recall": half_recall[upto],
            },
            scalars=scalars,
            text={"n": str(n), "k": str(k)},
            caption=caption(probes[t] / n),
            poster=t == total - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection

    fig = canvas.figure
    main = fig.add_axes((0.02, 0.03, 0.46, 0.77))  # its title ends below 0.85
    curve = fig.add_axes((0.57, 0.13, 0.40, 0.68))
    a = frame.arrays
    X, Q, truth = a["points"], a["queries"], a["truth"]
    main.scatter(X[:, 0], X[:, 1], s=3, color="#c8c8c8", linewidth=0, zorder=1)
    pad = 0.05 * (X.max(0) - X.min(0))
    lo, hi = X.min(0) - pad, X.max(0) + pad
    main.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xticks=[], yticks=[], aspect="equal")
    for side in main.spines.values():
        side.set_color(MUTED)
    colours = np.array([PALETTE[i % 7] for i in range(len(Q))])
    drawn = main.scatter([], [], s=4, alpha=0.35, linewidth=0, zorder=2)
    truth_flat = truth.reshape(-1, 2)
    main.scatter(
        truth_flat[:, 0],
        truth_flat[:, 1],
        s=45,
        facecolor="none",
        edgecolor=np.repeat(colours, truth.shape[1]),
        linewidth=1.3,
        zorder=3,
    )
    links = LineCollection([], colors=np.repeat(colours, truth.shape[1]), linewidths=1.2, zorder=4)
    main.add_collection(links)
    found = main.scatter([], [], s=8, color=INK, linewidth=0, zorder=5)
    main.scatter(Q[:, 0], Q[:, 1], marker="*", s=130, c=colours, edgecolor=INK, lw=0.8, zorder=6)
    main.set_title(
        "stars: queries · rings: true neighbours · lines: best found · dots: this batch",
        fontsize=SMALL_SIZE,
        color=MUTED,
        loc="left",
    )

    style_axes(curve)
    n = int(frame.text["n"])
    curve.set_xscale("log")
    curve.set_xlim(1, 20 * n)
    curve.set_ylim(0, 1.02)
    curve.set_xlabel("distance computations per query (log scale)")
    curve.set_ylabel(f"recall@{frame.text['k']}")
    curve.plot(
        a["expected_x"],
        a["expected_y"],
        "--",
        color=PALETTE[0],
        lw=1.2,
        label="expected 1-(1-1/n)^p",
    )
    (random_line,) = curve.plot([], [], color=PALETTE[0], lw=2.2, label="random probes")
    (half_line,) = curve.plot([], [], color=PALETTE[4], lw=1.6, label="probes, worst half reworked")
    cost, rec = a["graph_cost"], a["graph_recall"]
    if np.isfinite(cost).all():
        curve.plot(
            cost,
            rec,
            "o-",
            color=PALETTE[2],
            lw=1.6,
            ms=4,
            label=f"graph index, ef {a['graph_ef'][0]:.0f}-{a['graph_ef'][-1]:.0f}",
        )
        default = int(frame.scalars["graph_ef"])
        j = int(np.flatnonzero(a["graph_ef"] == default)[0])
        curve.annotate(
            f"ef={default}: {rec[j]:.2f} after {cost[j]:.0f}",
            (cost[j], rec[j]),
            xytext=(-20, -24),
            textcoords="offset points",
            color=PALETTE[2],
            fontsize=SMALL_SIZE,
        )
    else:  # the graph's work could not be counted: its recall alone
        curve.axhline(frame.scalars["recall_graph"], color=PALETTE[2], lw=1.6, label="graph index")
    curve.plot([n], [1.0], "s", color=PALETTE[3], ms=6, label=f"brute force ({n:,})")
    curve.axvline(n, color=MUTED, lw=0.6, ls=":")
    curve.axhline(0.95, color=MUTED, lw=0.6, ls=":")
    curve.legend(loc="lower right", fontsize=SMALL_SIZE, frameon=False)
    (tip,) = curve.plot([], [], "o", color=PALETTE[0], ms=6)
    title = fig.text(0.02, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    return {
        "drawn": drawn,
        "colours": colours,
        "links": links,
        "found": found,
        "random": random_line,
        "half": half_line,
        "tip": tip,
        "title": title,
    }


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    drawn = a["drawn"]
    art["drawn"].set_offsets(drawn if len(drawn) else np.empty((0, 2)))
    art["drawn"].set_color(art["colours"][a["drawn_query"]])
    best, Q = a["best"], a["queries"]  # (S, k, 2), (S, 2)
    starts = np.broadcast_to(Q[:, None, :], best.shape)  # (S, k, 2)
    segments = np.stack([starts, best], axis=2).reshape(-1, 2, 2)  # (S*k, 2, 2)
    art["links"].set_segments(segments)
    art["found"].set_offsets(best.reshape(-1, 2))
    probes = a["probes"]
    art["random"].set_data(np.maximum(probes[1:], 1), a["recall"][1:])
    art["half"].set_data(a["half_probes"], a["half_recall"])
    art["tip"].set_data([max(probes[-1], 1)], [a["recall"][-1]])
    art["title"].set_text(
        f"Random probes, iteration {frame.step}: {s['probes_per_query']:,.0f} draws per query "
        f"({s['passes']:.1f} passes), recall@{frame.text['k']} = {s['recall_random']:.2f}"
    )
