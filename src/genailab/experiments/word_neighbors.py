"""Word vectors put words with similar uses close together, and a nearest-neighbour index finds
them. The video uses the 50-dimensional GloVe vectors (Pennington, Socher and Manning, 2014) of
the {vocab:,.0f} most frequent English words and a graph index (`GraphIndex`, cosine similarity)
to ask two kinds of question. First, the nearest neighbours of a word: cat finds dog first (on
the full preset, among 50,000 words, rabbit and monkey come next). Second, analogies by
arithmetic: start at `king`, subtract `man`, add `woman`, and ask the index for the word nearest
to the result, leaving out the three words of the question; it answers `queen` (cosine
{queen_answer_cosine:.2f}), as `paris - france + italy` answers `rome`. The left panel is a 2-D
projection (the principal components of the words on screen) in which the arrow walks through
that sum; the right panel lists the index's answers with their cosine similarity. The figures to
watch are the similarity of each answer, the rank of the expected word among all the words, and
whether the index returned exactly what a brute-force search returns: here it did for
{index_equals_exact:.0%} of the {questions:.0f} questions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.embed import ExactIndex, GraphIndex, load_glove
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

WORDS = ("cat", "king", "paris", "computer")
ANALOGIES = (
    ("king", "man", "woman", "queen"),
    ("paris", "france", "italy", "rome"),
    ("tokyo", "japan", "china", "beijing"),
    ("walking", "walk", "swim", "swimming"),
)
HOLD = 2  # frames that show the starting word before the arrow moves
LABELS = 24  # text artists kept for the word labels (the most words one scene shows)


@experiment(
    name="word-neighbors",
    chapter="Features, embeddings, losses",
    title="Word neighbours and king - man + woman = queen, answered by an index",
    seconds=(40, 15),
)
@dataclass
class Config:
    vocab: int = setting(
        50_000, help="the most frequent GloVe words kept, out of 400,000", ge=1_000, le=400_000
    )
    index: Literal["graph", "exact"] = setting(
        "graph", help="the graph index (HNSW-style) or a brute-force search answers"
    )
    M: int = setting(16, help="links per node of the graph index", ge=2, le=64)
    ef: int = setting(100, help="beam width of the graph's searches", ge=1, le=10_000)
    k: int = setting(8, help="neighbours listed for each question", ge=1, le=20)
    words: int = setting(
        4, help=f"neighbour questions shown: {', '.join(WORDS)}", ge=0, le=len(WORDS)
    )
    analogies: int = setting(
        4,
        help="analogies shown: " + ", ".join(f"{a}-{b}+{c}" for a, b, c, _ in ANALOGIES),
        ge=0,
        le=len(ANALOGIES),
    )
    steps: int = setting(12, help="frames per move of the arrow and per reveal", ge=1, le=100)
    seed: int = seed_setting()
    QUICK = dict(vocab=10_000, M=8, words=1, analogies=2, steps=3)

    def __post_init__(self) -> None:
        if self.words + self.analogies == 0:
            raise ValueError("words and analogies cannot both be 0: nothing to show")


QUESTION = (
    "Do word vectors answer king - man + woman with queen, and does a graph index find the "
    "same words as a brute-force search?"
)
ANSWER = (
    "Queen ranks {queen_rank:.0f} for king - man + woman (cosine {queen_answer_cosine:.2f}); "
    "{analogies_correct:.0%} of {analogies:.0f} analogies land right; the index = brute force "
    "on {index_equals_exact:.0%}"
)
CLAIMS = (
    Claim(
        "queen_rank == 1 and queen_answer_cosine > 0.8",
        "king - man + woman is nearest to queen, at a cosine above 0.8",
    ),
    Claim("analogies_correct == 1", "every analogy shown lands on its expected word"),
    Claim(
        "index_equals_exact == 1",
        "the graph index returns exactly brute force's answers to every question",
    ),
)
NEIGHBOURS_CAPTION = "Words used alike lie close together: the index lists a word's neighbours"


def analogy_caption(a: str, b: str, c: str) -> str:
    """The message of an analogy's scene: the same from its start to its answer.

    Examples
    --------
    >>> analogy_caption("king", "man", "woman")
    'king - man + woman: walk the sum, then ask the index for the nearest word'
    """
    return f"{a} - {b} + {c}: walk the sum, then ask the index for the nearest word"


def memory_bytes(cfg: Config) -> int:
    """The peak bytes of the frames, about 1.9 KB a word (measured on the whole vocabulary):
    its fixed-width string (272 bytes) and Python string in the lookup, its 50 float32 numbers
    and the copies that the unit rows and the exact index keep (200 bytes each), and the
    float64 temporaries of fitting that index. The graph index adds its own copy, its links
    (8 bytes a link) and the temporaries of its build, about 500 bytes more a word."""
    graph = 500 + 8 * cfg.M if cfg.index == "graph" else 0
    return cfg.vocab * (1900 + graph)


@dataclass
class Answer:
    """One question put to the index and to brute force.

    ``found`` and ``exact`` are the ``k`` rows nearest to ``query`` (question words left out),
    nearest first; ``cosines`` the index's cosine similarities; ``expected_rank`` the 1-based
    rank of the expected word among all the words by exact cosine (0 when there is none).
    """

    query: np.ndarray
    found: np.ndarray
    cosines: np.ndarray
    exact: np.ndarray
    expected_rank: int


def ask(
    index,
    exact: ExactIndex,
    unit: np.ndarray,
    query: np.ndarray,
    leave_out: list[int],
    k: int,
    expected: int = -1,
) -> Answer:
    """The ``k`` nearest words to ``query`` by ``index`` and by ``exact``, ``leave_out`` dropped.

    ``unit`` holds the unit word vectors (n, d), for the exact rank of ``expected``.

    Examples
    --------
    >>> unit = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]] + [[0, 0, 0], [0, 0, 0], [0, 0, 0],
    ...                                                    [0, 0.1, 0]]
    >>> unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    >>> exact = ExactIndex(metric="cosine").fit(unit)
    >>> ans = ask(exact, exact, unit, unit[0], leave_out=[0], k=2, expected=3)
    >>> ans.found.tolist(), ans.expected_rank  # row 3 is nearly row 0
    ([3, 1], 1)
    """
    extra = k + len(leave_out)  # the left-out words can take at most that many places
    lists = []
    for searcher in (index, exact):
        dist, rows = searcher.kneighbors(query, k=extra)  # (extra,) 1 - cos, nearest first
        keep = ~np.isin(rows, leave_out)
        lists.append((rows[keep][:k], 1.0 - dist[keep][:k]))
    rank = 0
    if expected >= 0:
        cos = unit @ (query / np.linalg.norm(query))  # (n,) exact cosine of every word
        cos[leave_out] = -np.inf
        rank = int(np.count_nonzero(cos > cos[expected])) + 1
    return Answer(query, lists[0][0], lists[0][1], lists[1][0], rank)


def project(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and the top-2 principal directions (d, 2) of the rows of ``vectors``.

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [2.0, 1.0, 0.0]])
    >>> centre, basis = project(pts)
    >>> centre.tolist(), np.abs(basis).round(6).tolist()  # x (spread 2) first, then y
    ([1.0, 0.5, 0.0], [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    """
    centre = vectors.mean(axis=0)  # (d,)
    _, _, vt = np.linalg.svd(vectors - centre, full_matrices=False)
    return centre, vt[:2].T  # (d,), (d, 2)


def frame_count(cfg: Config) -> int:
    """Neighbour questions: one reveal each; analogies: hold, two moves and a reveal."""
    return cfg.words * cfg.steps + cfg.analogies * (HOLD + 3 * cfg.steps)


def frames(cfg: Config) -> Iterator[Frame]:
    words, vectors = load_glove(n=cfg.vocab)  # (n,), (n, 50); raises without the glove extra
    row = {w: i for i, w in enumerate(words.tolist())}
    needed = {w for w in WORDS[: cfg.words]} | {w for a in ANALOGIES[: cfg.analogies] for w in a}
    missing = sorted(w for w in needed if w not in row)
    if missing:
        raise ValueError(f"vocab={cfg.vocab} leaves out {missing}; use a larger vocab")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)  # (n, 50)
    exact = ExactIndex(metric="cosine").fit(vectors)
    if cfg.index == "graph":
        index = GraphIndex(
            M=cfg.M, ef_construction=100, ef=cfg.ef, metric="cosine", random_state=cfg.seed
        ).fit(vectors)
    else:
        index = exact
    k = cfg.k

    scenes = []  # (kind, question words, answer)
    for w in WORDS[: cfg.words]:
        scenes.append(("neighbors", (w,), ask(index, exact, unit, unit[row[w]], [row[w]], k)))
    for a, b, c, e in ANALOGIES[: cfg.analogies]:
        query = unit[row[a]] - unit[row[b]] + unit[row[c]]  # (50,) the analogy's vector
        rows = [row[a], row[b], row[c]]
        scenes.append(("analogy", (a, b, c, e), ask(index, exact, unit, query, rows, k, row[e])))

    # the run's figures, the same on every frame (the last frame's are the gallery's)
    summary = {
        "index_equals_exact": np.mean([np.array_equal(s[2].found, s[2].exact) for s in scenes]),
        "recall_vs_exact": np.mean([np.isin(s[2].found, s[2].exact).mean() for s in scenes]),
    }
    for kind, question, ans in scenes:
        if kind == "analogy":
            summary[f"{question[3]}_rank"] = ans.expected_rank
            summary[f"{question[3]}_answer_cosine"] = float(ans.cosines[0])
    correct = [words[s[2].found[0]] == s[1][3] for s in scenes if s[0] == "analogy"]
    summary["analogies_correct"] = float(np.mean(correct)) if correct else float("nan")
    summary.update(vocab=cfg.vocab, questions=len(scenes), analogies=len(correct))

    step = 0
    for kind, question, ans in scenes:
        for frame in _scene_frames(cfg, kind, question, ans, words, row, unit):
            frame.step = step
            frame.scalars = {**frame.scalars, **summary}
            step += 1
            yield frame


def _scene_frames(cfg, kind, question, ans, words, row, unit) -> Iterator[Frame]:
    """The frames of one question: a 2-D view fitted once, then the arrow or the reveal."""
    k, steps = cfg.k, cfg.steps
    names = list(question[:3]) if kind == "analogy" else [question[0]]
    if kind == "analogy" and question[3] not in [words[i] for i in ans.found]:
        names.append(question[3])  # the expected word, even when the index missed it
    names += [words[i] for i in ans.found if words[i] not in names]
    vecs = unit[[row[w] for w in names]]  # (P, 50)
    if kind == "analogy":
        a, b, c = (unit[row[w]] for w in question[:3])
        path = np.stack([a, a - b, a - b + c])  # (3, 50) the corners of the walk
        centre, basis = project(np.vstack([vecs, path]))
        corners = (path - centre) @ basis  # (3, 2)
    else:
        centre, basis = project(vecs)
        corners = np.empty((0, 2))
    xy = (vecs - centre) @ basis  # (P, 2)
    role = np.zeros(len(names), dtype=np.int64)  # 0 question, 1 answer, 2 expected
    role[len(question[:3]) if kind == "analogy" else 1 :] = 1
    if kind == "analogy":
        role[names.index(question[3])] = 2
    answers = ans.found  # (k,)
    same = bool(np.array_equal(ans.found, ans.exact))
    base = {
        "cosine": float(ans.cosines[0]),
        "expected_rank": float(ans.expected_rank),
        "matches_exact": float(same),
    }
    labels = "|".join(names)
    bar_words = "|".join(words[i] for i in answers)

    # the timeline: (tip position (2,), leg of the walk (0 = not moving yet), answers shown,
    # readout); the walk's legs go king -> king - man -> king - man + woman. The readout is the
    # live title under the band; the band's caption stays the scene's message.
    timeline = []
    if kind == "neighbors":
        for t in range(steps):
            shown = int(np.ceil(k * (t + 1) / steps))
            timeline.append((xy[0], 0, shown, f"The {k} nearest words to '{question[0]}'"))
    else:
        a_w, b_w, c_w, e_w = question
        for _ in range(HOLD):
            timeline.append((corners[0], 0, 0, f"Start at '{a_w}'"))
        for leg, walked in ((1, f"{a_w} - {b_w}"), (2, f"{a_w} - {b_w} + {c_w}")):
            start, end = corners[leg - 1], corners[leg]
            for t in range(1, steps + 1):
                tip = start + (end - start) * t / steps  # the sum is linear: so is its shadow
                timeline.append((tip, leg, 0, f"Walk the sum: {walked}"))
        answer = words[answers[0]]
        verdict = "" if answer == e_w else f" (expected '{e_w}')"
        for t in range(steps):
            shown = int(np.ceil(k * (t + 1) / steps))
            text = f"{a_w} - {b_w} + {c_w} is nearest to '{answer}'{verdict}"
            timeline.append((corners[2], 2, shown, text))
    last = len(timeline) - 1
    caption = NEIGHBOURS_CAPTION if kind == "neighbors" else analogy_caption(*question[:3])
    for t, (tip, leg, shown, readout) in enumerate(timeline):
        yield Frame(
            step=0,
            arrays={
                "xy": xy,
                "role": role,
                "corners": corners,  # (3, 2) or (0, 2)
                "leg": np.array(leg),
                "operands": xy[1:3] if kind == "analogy" else np.empty((0, 2)),  # b, c
                "tip": np.asarray(tip, dtype=np.float64),
                "cosines": ans.cosines,
                "shown": np.array(shown),
            },
            scalars=dict(base),
            text={
                "kind": kind,
                "labels": labels,
                "bars": bar_words,
                "readout": readout,
                "index": cfg.index,
                "agree": "same as brute force" if same else "differs from brute force",
                "expected": question[3] if kind == "analogy" else "",
            },
            caption=caption,
            poster=kind == "analogy" and question[3] == "queen" and t == last,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    view = fig.add_axes((0.03, 0.05, 0.55, 0.79))  # under the readout, itself under the band
    view.set(xticks=[], yticks=[])
    for side in view.spines.values():
        side.set_color(MUTED)
    bars = fig.add_axes((0.72, 0.10, 0.25, 0.70))
    style_axes(bars)
    points = view.scatter([], [], s=40, zorder=3)
    labels = [
        view.text(0, 0, "", fontsize=11, zorder=4, visible=False, ha="left", va="bottom")
        for _ in range(LABELS)
    ]
    (path,) = view.plot([], [], "-", color=PALETTE[3], lw=2.2, zorder=2)
    arrow = view.annotate(
        "",
        xy=(0, 0),
        xytext=(0, 0),
        arrowprops=dict(arrowstyle="-|>", color=PALETTE[3], lw=2.4, mutation_scale=18),
        zorder=5,
    )
    offset = view.annotate(
        "",
        xy=(0, 0),
        xytext=(0, 0),
        arrowprops=dict(arrowstyle="-|>", color=MUTED, lw=1.4, ls="--", mutation_scale=14),
        zorder=2,
    )
    net = view.annotate(
        "",
        xy=(0, 0),
        xytext=(0, 0),
        arrowprops=dict(arrowstyle="-|>", color=MUTED, lw=1.4, ls="--", mutation_scale=14),
        zorder=2,
    )
    tip = view.scatter([], [], s=90, marker="X", color=PALETTE[3], zorder=6)
    links = view.plot([], [], "-", color=PALETTE[0], lw=0.8, alpha=0.6, zorder=1)[0]
    bar_set = bars.barh(np.arange(20), np.zeros(20), color=PALETTE[0])
    bars.set_xlim(0, 1)
    bars.set_xlabel("cosine similarity")
    bars.invert_yaxis()
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    legend = view.text(0.01, 0.01, "", transform=view.transAxes, fontsize=SMALL_SIZE, color=MUTED)
    note = bars.set_title("", fontsize=SMALL_SIZE, color=MUTED, loc="left")
    return dict(
        view=view,
        bars=bars,
        points=points,
        labels=labels,
        path=path,
        arrow=arrow,
        offset=offset,
        net=net,
        tip=tip,
        links=links,
        bar_set=bar_set,
        title=title,
        note=note,
        legend=legend,
        scene=None,
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, txt = frame.arrays, frame.text
    xy, role, shown = a["xy"], a["role"], int(a["shown"])
    names = txt["labels"].split("|")
    view = art["view"]
    scene = (txt["readout"] if txt["kind"] == "neighbors" else txt["labels"], xy.shape)
    if art["scene"] != scene:  # a new question: new fixed limits for the whole scene
        art["scene"] = scene
        pts = np.vstack([xy, a["corners"]])
        lo, hi = pts.min(0), pts.max(0)
        pad = 0.12 * (hi - lo).max()
        view.set_xlim(lo[0] - pad, hi[0] + 3 * pad)  # room for the labels on the right
        view.set_ylim(lo[1] - pad, hi[1] + pad)
    answers_shown = np.zeros(len(names), dtype=bool)
    answers_shown[role == 0] = True
    rank_of = np.cumsum(role >= 1) * (role >= 1)  # answer positions 1.. in list order
    answers_shown |= (rank_of >= 1) & (rank_of <= shown)
    answers_shown |= role == 2  # the expected word is always in sight
    colours = np.array([INK, PALETTE[0], PALETTE[2]])[role]
    art["points"].set_offsets(xy[answers_shown])
    art["points"].set_color(colours[answers_shown])
    for j, label in enumerate(art["labels"]):
        visible = j < len(names) and answers_shown[j]
        label.set_visible(visible)
        if visible:
            question = role[j] == 0  # question words to the left, answers to the right
            label.set_text(names[j] + " " if question else " " + names[j])
            label.set_horizontalalignment("right" if question else "left")
            label.set_position(xy[j])
            label.set_color(colours[j])
            label.set_fontweight("bold" if role[j] != 1 else "normal")
    if txt["kind"] == "analogy":
        corners, leg, tip = a["corners"], int(a["leg"]), a["tip"]  # (3, 2), int, (2,)
        done = corners[: max(leg, 1)]  # the legs walked so far, then an arrow to the tip
        art["path"].set_data(done[:, 0], done[:, 1])
        art["arrow"].set_visible(leg > 0)
        art["arrow"].xy = tuple(tip)
        art["arrow"].set_position(tuple(done[-1]))
        art["tip"].set_offsets(tip[None])
        b, c = a["operands"]  # the offset man -> woman that the second leg adds
        art["offset"].set_visible(True)
        art["offset"].xy = tuple(c)
        art["offset"].set_position(tuple(b))
        landed = leg == 2 and np.allclose(tip, corners[2])
        art["net"].set_visible(landed)  # king -> the sum: parallel to man -> woman
        art["net"].xy = tuple(tip)
        art["net"].set_position(tuple(corners[0]))
        a_w, b_w, c_w = txt["labels"].split("|")[:3]
        art["legend"].set_text(f"dashed: {b_w} \u2192 {c_w}, and the same shift from {a_w}")
        art["links"].set_data([], [])
    else:
        art["path"].set_data([], [])
        art["arrow"].set_visible(False)
        art["offset"].set_visible(False)
        art["net"].set_visible(False)
        art["legend"].set_text("")
        art["tip"].set_offsets(np.empty((0, 2)))
        idx = np.flatnonzero((rank_of >= 1) & (rank_of <= shown))
        segs = np.full((3 * idx.size, 2), np.nan)  # query -> neighbour, NaN breaks the line
        segs[0::3], segs[1::3] = xy[0], xy[idx]
        art["links"].set_data(segs[:, 0], segs[:, 1])
    cos = a["cosines"]
    bar_words = txt["bars"].split("|")
    for j, bar in enumerate(art["bar_set"]):
        bar.set_width(cos[j] if j < min(shown, len(cos)) else 0.0)
        bar.set_color(
            PALETTE[2] if j < len(bar_words) and bar_words[j] == txt["expected"] else PALETTE[0]
        )
    bars = art["bars"]
    bars.set_ylim(len(cos) - 0.5, -0.5)
    bars.set_yticks(np.arange(len(cos)))
    bars.set_yticklabels([w if j < shown else "" for j, w in enumerate(bar_words)])
    art["note"].set_text(f"{txt['index']} index, cosine: {txt['agree']}")
    art["title"].set_text(txt["readout"])
