"""Krizhevsky, Sutskever and Hinton (2012, figure 4) showed test images beside the training
images nearest to them in the network's last hidden layer (``fc7``): an elephant's neighbours
were elephants in other poses, although they were far from it in pixels. The video repeats the
experiment on a network trained here on coloured shapes: each row is a test image (left) and
its {k:.0f} nearest training images, by pixel distance (left panel) and by distance in ``fc7``
(right panel); a green frame marks a neighbour of the query's class, an orange one another
class. Measured over all {queries:.0f} test images, not only the rows shown,
{embedding_agreement:.0%} of the ``fc7`` neighbours carry the query's label, against
{pixel_agreement:.0%} of the pixel neighbours. Pixels find the same colour
({pixel_colour_agreement:.0%} of the pixel neighbours share it) but rarely the same shape
({pixel_shape_agreement:.0%}): a shape's position, size, rotation and background move more
pixels than its outline does. The last scene shows pairs that are neighbours in ``fc7`` yet far
apart in pixels: the pixel rank is the number of training images nearer to the query in pixels;
{far_share:.1%} of the ``fc7`` neighbours lie farther in pixels than half of the
{train_images:.0f} training images. On MNIST (``--set data=mnist``) pixels do far better and
the gap is smaller: on the quick preset 96% of the ``fc7`` neighbours against 84%.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

SAME, OTHER = (0, 158, 115), (213, 94, 0)  # PALETTE[2], PALETTE[3]: frames of neighbours
BORDER = 2  # pixels of a tile's coloured frame, at the data's own resolution
CAPTIONS = (
    "Test images and their nearest training images by pixel distance",
    "The same queries, nearest in the network's fc7: the neighbours share the label",
    "Label agreement of the neighbours, measured over every test image",
    "Neighbours in fc7 that lie far apart in pixels",
)


@experiment(
    name="embedding-neighbours",
    chapter="Inside a CNN",
    order=5,
    title="Nearest neighbours in a CNN's fc7 against nearest in pixels",
    seconds=(40, 15),
)
@dataclass
class Config:
    data: Literal["shapes", "mnist"] = setting(
        "shapes", help="the pretrained network and its data: coloured shapes or MNIST digits"
    )
    preset: Literal["quick", "full"] = setting(
        "full", help="which shared pretrained network (genailab.vision.pretrained)"
    )
    k: int = setting(5, help="nearest training images per query", ge=1, le=8)
    rows: int = setting(
        4, help="queries shown (agreement is measured on every test image)", ge=1, le=5
    )
    far: int = setting(
        6, help="far-in-pixels fc7 neighbour pairs shown in the last scene", ge=1, le=8
    )
    steps: int = setting(3, help="frames per revealed row and per far pair", ge=1, le=20)
    seed: int = seed_setting()
    device: Literal["auto", "cpu", "cuda", "mps"] = setting(
        "auto", help="where the network embeds the images"
    )
    QUICK = dict(preset="quick", steps=1)


QUESTION = (
    "Are the training images nearest to a test image in a CNN's fc7 of the same class more "
    "often than those nearest in pixels?"
)
ANSWER = (
    "Yes: {embedding_agreement:.0%} of the fc7 neighbours share the query's label, "
    "{pixel_agreement:.0%} of the pixel neighbours, over {queries:.0f} test images"
)
CLAIMS = (
    Claim(
        "embedding_agreement >= 0.85",
        "most fc7 neighbours of a test image carry its label",
    ),
    Claim(
        "1 - pixel_agreement >= 3 * (1 - embedding_agreement)",
        "pixel neighbours miss the query's class at least three times as often as fc7 ones",
    ),
    Claim(
        "far_share >= 0.01",
        "some fc7 neighbours are farther in pixels than half the training set",
    ),
)


def frame_count(cfg: Config) -> int:
    """Two reveals of ``rows`` rows, a sweep over the test set, ``far`` pairs, a hold each."""
    return 2 * cfg.rows * cfg.steps + 4 * cfg.steps + cfg.far * cfg.steps + 2


def pick_rows(labels: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """``rows`` query indices of different labels where possible, reproducibly by ``seed``.

    Examples
    --------
    >>> pick_rows(np.array([0, 0, 1, 1, 2, 2]), 3, seed=0).size
    3
    >>> len(set(np.array([0, 0, 1, 1, 2, 2])[pick_rows(np.array([0, 0, 1, 1, 2, 2]), 3, 0)]))
    3
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(labels.size)
    _, first = np.unique(labels[order], return_index=True)  # one query of each label
    distinct = order[np.sort(first)]
    chosen = rng.permutation(distinct)[:rows]
    if chosen.size < rows:  # fewer labels than rows: fill with other queries
        rest = order[~np.isin(order, chosen)]
        chosen = np.concatenate([chosen, rest[: rows - chosen.size]])
    return chosen


def as_rgb(images: np.ndarray) -> np.ndarray:
    """Grey (N, H, W, 1) images as RGB (N, H, W, 3); RGB ones unchanged.

    Examples
    --------
    >>> as_rgb(np.zeros((2, 4, 4, 1), dtype=np.uint8)).shape
    (2, 4, 4, 3)
    """
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def frames(cfg: Config) -> Iterator[Frame]:
    from genailab.vision.neighbours import (
        agreement_per_query,
        embedding_neighbours,
        pixel_neighbours,
        pixel_ranks,
    )
    from genailab.vision.pretrained import pretrained

    cnn, train_set, test_set = pretrained(cfg.data, cfg.preset, seed=cfg.seed, device=cfg.device)
    train, test = train_set.images, test_set.images  # (n, H, W, C), (q, H, W, C) uint8
    y_train, y_test = train_set.labels, test_set.labels
    k = cfg.k
    emb = embedding_neighbours(cnn, train, test, k=k)  # fc7, Euclidean, as in the paper
    pix = pixel_neighbours(train, test, k=k)
    emb_q = agreement_per_query(emb.indices, y_train, y_test)  # (q,)
    pix_q = agreement_per_query(pix.indices, y_train, y_test)  # (q,)
    ranks, shares = pixel_ranks(train, test, emb.indices)  # (q, k) each pair's pixel rank, / n
    n, q = train.shape[0], test.shape[0]

    summary = {
        "embedding_agreement": float(emb_q.mean()),
        "pixel_agreement": float(pix_q.mean()),
        "queries": float(q),
        "train_images": float(n),
        "k": float(k),
        "far_share": float((shares > 0.5).mean()),
        "median_pixel_share": float(np.median(shares)),
        "test_accuracy": float(cnn.summary.get("test_accuracy", np.nan)),
    }
    attrs = {}
    for name in ("shape", "colour"):
        if name in train_set.attributes:
            a_train, a_test = train_set.attributes[name], test_set.attributes[name]
            attrs[name] = (a_train, a_test)
            summary[f"pixel_{name}_agreement"] = float(
                (a_train[pix.indices] == a_test[:, None]).mean()
            )
            summary[f"embedding_{name}_agreement"] = float(
                (a_train[emb.indices] == a_test[:, None]).mean()
            )
    if "shape" not in attrs:  # MNIST: the label is the only attribute
        summary["pixel_shape_agreement"] = summary["pixel_agreement"]
        summary["pixel_colour_agreement"] = float("nan")

    shown = pick_rows(y_test, cfg.rows, cfg.seed)  # (R,)
    tiles_pix = np.concatenate([test[shown, None], train[pix.indices[shown]]], axis=1)
    tiles_emb = np.concatenate([test[shown, None], train[emb.indices[shown]]], axis=1)
    match_pix = y_train[pix.indices[shown]] == y_test[shown, None]  # (R, k)
    match_emb = y_train[emb.indices[shown]] == y_test[shown, None]  # (R, k)

    # the far pairs: the fc7 neighbours with the largest pixel rank, one per query, beside the
    # query's own pixel-nearest training image
    far_rank = shares.max(axis=1)  # (q,)
    far_queries = np.argsort(-far_rank, kind="stable")[: cfg.far]  # (F,)
    far_col = shares[far_queries].argmax(axis=1)  # (F,)
    far_train = emb.indices[far_queries, far_col]  # (F,)
    far_tiles = np.stack(
        [test[far_queries], train[far_train], train[pix.indices[far_queries, 0]]], axis=1
    )  # (F, 3, H, W, C)
    far_ranks = ranks[far_queries, far_col]  # (F,)
    far_match = y_train[far_train] == y_test[far_queries]  # (F,)

    arrays = {
        "tiles_pix": as_rgb(tiles_pix),  # (R, 1 + k, H, W, 3)
        "tiles_emb": as_rgb(tiles_emb),
        "match_pix": match_pix,
        "match_emb": match_emb,
        "far_tiles": as_rgb(far_tiles),  # (F, 3, H, W, 3)
        "far_ranks": far_ranks,
        "far_match": far_match,
        "share_hist": np.histogram(shares, bins=20, range=(0, 1))[0] / shares.size,  # (20,)
    }
    classes = list(test_set.classes)
    text = {
        "row_labels": "|".join(classes[int(y)] for y in y_test[shown]),
        "data": train_set.name,
        "n": str(n),
    }

    step = 0

    def frame(scene: int, reveal: int, sweep: int, far: int, poster: bool = False) -> Frame:
        nonlocal step
        m = max(1, round(q * sweep / (4 * cfg.steps))) if sweep else 0
        running = {
            "running_queries": float(m),
            "running_embedding": float(emb_q[:m].mean()) if m else 0.0,
            "running_pixel": float(pix_q[:m].mean()) if m else 0.0,
        }
        f = Frame(
            step=step,
            arrays={**arrays, "state": np.array([scene, reveal, m, far])},
            scalars={**running, **summary},
            text=text,
            caption=CAPTIONS[scene],
            poster=poster,
        )
        step += 1
        return f

    R, s = cfg.rows, cfg.steps
    for i in range(R * s):  # the pixel neighbours, row by row
        yield frame(0, i // s + 1, 0, 0)
    for i in range(R * s):  # then the fc7 neighbours beside them
        yield frame(1, R + i // s + 1, 0, 0)
    for i in range(4 * s):  # the agreement, accumulated over the test set
        yield frame(2, 2 * R, i + 1, 0, poster=i == 4 * s - 1)
    yield frame(2, 2 * R, 4 * s, 0)
    for i in range(cfg.far * s):
        yield frame(3, 2 * R, 4 * s, i // s + 1)
    yield frame(3, 2 * R, 4 * s, cfg.far)


# ------------------------------------------------------------------------------- drawing
def mosaic(tiles: np.ndarray, match: np.ndarray, shown: int, gap: int = 3) -> np.ndarray:
    """Rows of tiles (R, T, H, W, 3) as one image: the query, a wider gap, its neighbours
    framed green (same label) or orange (another); rows past ``shown`` left blank.

    Examples
    --------
    >>> mosaic(np.zeros((2, 3, 4, 4, 3), np.uint8), np.ones((2, 2), bool), 1).shape
    (11, 24, 3)
    """
    R, T, H, W, _ = tiles.shape
    out = np.full((R * (H + gap) - gap, T * (W + gap) + gap, 3), 255, dtype=np.uint8)
    for r in range(min(shown, R)):
        y = r * (H + gap)
        for t in range(T):
            x = t * (W + gap) + (2 * gap if t else 0)  # the query stands apart
            tile = tiles[r, t].copy()
            if t:
                colour = SAME if match[r, t - 1] else OTHER
                tile[:BORDER], tile[-BORDER:] = colour, colour
                tile[:, :BORDER], tile[:, -BORDER:] = colour, colour
            out[y : y + H, x : x + W] = tile
    return out


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    grids = [fig.add_axes((0.08, 0.37, 0.41, 0.48)), fig.add_axes((0.57, 0.37, 0.41, 0.48))]
    for ax, title in zip(grids, ("nearest in pixels", "nearest in fc7"), strict=True):
        ax.set_axis_off()
        ax.set_title(title, fontsize=LABEL_SIZE + 1, color=INK, loc="left")
    legend = fig.text(
        0.5,
        0.315,
        "green frame: a training image of the query's class;  orange: of another class",
        ha="center",
        fontsize=SMALL_SIZE,
        color=MUTED,
    )
    far = fig.add_axes((0.12, 0.30, 0.86, 0.56))
    far.set_axis_off()
    bars = fig.add_axes((0.10, 0.09, 0.34, 0.16))
    style_axes(bars)
    agree = bars.barh([0, 1], [0, 0], color=[PALETTE[1], PALETTE[0]], height=0.6)
    bars.set_yticks([0, 1], ["pixels", "fc7"])
    bars.set_xlim(0, 1.12)
    bars.set_ylim(-0.6, 1.6)
    bars.set_xticks([0, 0.5, 1], ["0%", "50%", "100%"])
    bars.set_xlabel("neighbours with the query's class", fontsize=SMALL_SIZE)
    values = [bars.text(0, y, "", va="center", fontsize=LABEL_SIZE, color=INK) for y in (0, 1)]
    note = bars.set_title("", fontsize=SMALL_SIZE, color=MUTED, loc="left")
    parts = fig.add_axes((0.60, 0.09, 0.36, 0.16))
    style_axes(parts)
    hist = fig.add_axes((0.60, 0.09, 0.36, 0.16))
    style_axes(hist)
    hist.set_visible(False)
    return dict(
        grids=grids,
        far=far,
        legend=legend,
        bars=bars,
        agree=agree,
        values=values,
        note=note,
        parts=parts,
        hist=hist,
        images={},
        texts=[],
        drawn=set(),
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, sc = frame.arrays, frame.scalars
    scene, reveal, m, far_shown = (int(v) for v in a["state"])
    R, _, H, _, _ = a["tiles_pix"].shape
    for text in art["texts"]:
        text.remove()
    art["texts"] = []
    grids, far = art["grids"], art["far"]
    in_grids = scene < 3
    for ax in grids:
        ax.set_visible(in_grids)
    art["legend"].set_visible(in_grids)
    far.set_visible(not in_grids)
    if in_grids:
        labels = frame.text["row_labels"].split("|")
        for j, (ax, tiles, match) in enumerate(
            zip(grids, ("tiles_pix", "tiles_emb"), ("match_pix", "match_emb"), strict=True)
        ):
            rows_shown = min(reveal, R) if j == 0 else max(0, reveal - R)
            _show(art, f"grid{j}", ax, mosaic(a[tiles], a[match], rows_shown))
            for r in range(rows_shown):
                art["texts"].append(
                    ax.text(
                        -3,
                        r * (H + 3) + H / 2,
                        labels[r].replace(" ", "\n"),
                        ha="right",
                        va="center",
                        fontsize=SMALL_SIZE,
                        color=INK,
                    )
                )
    else:
        _far(art, frame, far_shown)
    _bars(art, sc, m)
    if scene in (1, 2) and "parts" not in art["drawn"]:
        art["has_parts"] = _parts(art["parts"], sc)
        art["drawn"].add("parts")
    art["parts"].set_visible(scene in (1, 2) and art.get("has_parts", False))
    art["hist"].set_visible(scene == 3)
    if scene == 3 and "hist" not in art["drawn"]:
        _hist(art["hist"], a["share_hist"])
        art["drawn"].add("hist")


def _far(art: dict, frame: Frame, shown: int) -> None:
    """Columns of (query, its fc7 neighbour far in pixels, its pixel-nearest image)."""
    a, far = frame.arrays, art["far"]
    F, _, H, W, _ = a["far_tiles"].shape
    gap, label_gap, wide = 8, H // 2, W // 2  # room for the pixel ranks, under and beside
    tops = (0, H + gap, 2 * (H + gap) + label_gap)
    img = np.full((tops[2] + H, F * (W + wide) - wide, 3), 255, dtype=np.uint8)
    for i in range(shown):
        for r in range(3):
            y, x = tops[r], i * (W + wide)
            img[y : y + H, x : x + W] = a["far_tiles"][i, r]
    _show(art, "far", far, img)
    for r, name in enumerate(("query", "its fc7\nneighbour", "its nearest\nin pixels")):
        art["texts"].append(
            far.text(
                -4,
                tops[r] + H / 2,
                name,
                ha="right",
                va="center",
                fontsize=LABEL_SIZE,
                color=INK,
            )
        )
    for i in range(shown):
        same = bool(a["far_match"][i])
        art["texts"].append(
            far.text(
                i * (W + wide) + W / 2,
                H + gap + H + 1,
                f"pixel rank\n{int(a['far_ranks'][i]):,} of {int(frame.text['n']):,}",
                ha="center",
                va="top",
                fontsize=SMALL_SIZE,
                color=PALETTE[2] if same else PALETTE[3],
                bbox=dict(facecolor="white", edgecolor="none", pad=1),
            )
        )


def _show(art: dict, key: str, ax, img: np.ndarray) -> None:
    """One imshow per panel, updated in place; the axes fit the image with its aspect."""
    shown = art["images"].get(key)
    if shown is None:
        art["images"][key] = ax.imshow(img, interpolation="nearest")
        ax.set_xlim(-0.5, img.shape[1] - 0.5)
        ax.set_ylim(img.shape[0] - 0.5, -0.5)
    else:
        shown.set_data(img)


def _bars(art: dict, sc: dict, m: int) -> None:
    values = (sc["running_pixel"], sc["running_embedding"]) if m else (0.0, 0.0)
    for bar, label, v in zip(art["agree"], art["values"], values, strict=True):
        bar.set_width(v)
        label.set_text(f"{v:.0%}" if m else "")
        label.set_x(v + 0.02)
    total = int(sc["queries"])
    art["note"].set_text(
        f"measured over {m:,} of {total:,} test images"
        if m
        else "measured over every test image next"
    )


def _parts(ax, sc: dict) -> bool:
    """What the neighbours share with the query, attribute by attribute (the shapes); False
    when the data has no attributes beside the label (MNIST)."""
    names = [n for n in ("shape", "colour") if f"embedding_{n}_agreement" in sc]
    if not names:
        return False
    y = np.arange(len(names))
    pix = [sc[f"pixel_{n}_agreement"] for n in names]
    emb = [sc[f"embedding_{n}_agreement"] for n in names]
    ax.barh(y - 0.2, pix, height=0.38, color=PALETTE[1], label="pixels")
    ax.barh(y + 0.2, emb, height=0.38, color=PALETTE[0], label="fc7")
    for yy, p, e in zip(y, pix, emb, strict=True):
        ax.text(p + 0.02, yy - 0.2, f"{p:.0%}", va="center", fontsize=SMALL_SIZE, color=INK)
        ax.text(e + 0.02, yy + 0.2, f"{e:.0%}", va="center", fontsize=SMALL_SIZE, color=INK)
    ax.set_yticks(y, [f"same {n}" for n in names])
    ax.set_xlim(0, 1.12)
    ax.set_xticks([0, 0.5, 1], ["0%", "50%", "100%"])
    ax.set_xlabel("neighbours sharing it, all test images", fontsize=SMALL_SIZE)
    ax.legend(
        fontsize=SMALL_SIZE,
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=2,
        borderaxespad=0.2,
    )
    return True


def _hist(ax, hist: np.ndarray) -> None:
    edges = np.linspace(0, 1, hist.size + 1)
    ax.bar(edges[:-1], np.maximum(hist, 1e-4), width=np.diff(edges), align="edge", color=PALETTE[0])
    ax.axvline(0.5, color=MUTED, lw=1, ls="--")
    ax.set_xlim(0, 1)
    ax.set_yscale("log")
    ax.set_xticks([0, 0.5, 1], ["nearest", "half the set", "farthest"])
    ax.set_xlabel("pixel rank of every fc7 neighbour", fontsize=SMALL_SIZE)
    ax.set_ylabel("share", fontsize=SMALL_SIZE)
    ax.set_title(
        "how far in pixels the fc7 neighbours lie", fontsize=SMALL_SIZE, color=MUTED, loc="left"
    )
