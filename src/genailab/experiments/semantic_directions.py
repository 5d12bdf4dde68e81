"""A direction in a network's embedding can carry one attribute. On a network trained here to
name both the shape and the colour of coloured shapes, the direction ``d`` is the mean ``fc7``
of the red training images minus that of the blue ones. Taken within each shape alone, those
differences share a common part: their mean cosine is {consistency:.2f}, against
{cross_consistency:.2f} with the directions of another pair of colours (bottom right). The
video then walks every blue test image's embedding along ``d``, ``e + t d`` (kept
non-negative, as the ReLU before ``fc7`` keeps every real image), and reads the walked points
two ways: with the network's own last layer (``fc8``, one linear map, so it answers exactly
what the classifier would say of an image with that embedding), summed into colour and shape
probabilities; and by their nearest training images in ``fc7``. The left panel shows, for one
test image of each shape, the nearest training image at each step. Where the walk arrives
(t = {arrival_t:.2f}, the first step at which the classifier reads red for at least 90% of
the images and 90% of their nearest neighbours are red), it reads red for {colour_flip:.0%}
of them and keeps its shape for {shape_kept:.0%} (chance: 20%); the nearest training images
are red for {neighbour_colour:.0%} and of the query's shape for {neighbour_shape:.0%}. The
attribute moved; the shape stayed. A full step (t = 1) is not always enough: the direction
averages over shapes, and the less the shapes agree, the less of each shape's own difference
it carries (on the full preset the colour turns at t = 1.75).
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
from genailab.vision.shapes import SHAPES

ARRIVAL = 0.9  # share of walked images (fc8) and of their neighbours that has the new colour
SAME, OTHER = (0, 158, 115), (213, 94, 0)  # PALETTE[2], PALETTE[3]: frames of neighbours
BORDER = 2
CAPTIONS = (
    "One direction for colour: the mean fc7 of red images minus that of blue ones",
    "Walk blue images along it: the classifier reads red and keeps the shape",
    "The walked points' nearest training images: red, and of the same shape",
)
STRIP_T = (0.5, 1.0, 1.5, 2.0)  # the steps whose nearest training images the strip shows


@experiment(
    name="semantic-directions",
    chapter="Inside a CNN",
    order=7,
    title="A colour direction in a CNN's embedding: walk along it, the colour changes",
    seconds=(40, 15),
)
@dataclass
class Config:
    towards: Literal["red", "green", "blue", "yellow", "magenta", "cyan"] = setting(
        "red", help="the colour the direction points to"
    )
    away: Literal["red", "green", "blue", "yellow", "magenta", "cyan"] = setting(
        "blue", help="the colour it points away from (the walked images')"
    )
    preset: Literal["quick", "full"] = setting(
        "full", help="which shared pretrained network (genailab.vision.pretrained)"
    )
    t_max: float = setting(2.0, help="the walk's last step, in multiples of d", gt=0, le=5)
    steps: int = setting(16, help="frames of the walk, t from 0 to t_max", ge=4, le=200)
    k: int = setting(5, help="nearest training images of each walked point", ge=1, le=20)
    seed: int = seed_setting()
    device: Literal["auto", "cpu", "cuda", "mps"] = setting(
        "auto", help="where the network embeds the images"
    )
    QUICK = dict(preset="quick", steps=8)

    def __post_init__(self) -> None:
        if self.towards == self.away:
            raise ValueError(f"towards and away are both {self.towards!r}: pick two colours")


QUESTION = (
    "Does walking an image's embedding along the red-minus-blue direction turn it red for the "
    "classifier and for its nearest neighbours, and keep its shape?"
)
ANSWER = (
    "Yes: at t = {arrival_t:.2f} the classifier reads red for {colour_flip:.0%} and "
    "keeps the shape for {shape_kept:.0%}; neighbours: {neighbour_colour:.0%} red, "
    "{neighbour_shape:.0%} same shape"
)
CLAIMS = (
    Claim(
        "colour_flip >= 0.9 and neighbour_colour >= 0.9",
        "the walk turns the colour red, for the classifier and for the nearest neighbours",
    ),
    Claim(
        "shape_kept >= 0.6 and neighbour_shape >= 0.6",
        "there the classifier and the neighbours keep the shape (chance: 20%)",
    ),
    Claim(
        "consistency >= cross_consistency + 0.15",
        "the colour direction is shared across shapes more than with another colour pair",
    ),
)


def frame_count(cfg: Config) -> int:
    """Consistency (one frame per shape and a hold), the walk, the neighbours' hold."""
    return len(SHAPES) + 1 + (cfg.steps + 1) + max(4, cfg.steps // 2)


def walk_grid(t_max: float, steps: int) -> np.ndarray:
    """The walk's steps: ``steps + 1`` values from 0 to ``t_max``, the strip's among them.

    Examples
    --------
    >>> walk_grid(2.0, 8).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    """
    grid = np.linspace(0.0, t_max, steps + 1)
    extra = [t for t in STRIP_T if t <= t_max]
    return np.unique(np.round(np.concatenate([grid, extra]), 10))


def frames(cfg: Config) -> Iterator[Frame]:
    from genailab.vision.directions import (
        attribute_direction,
        class_attribute,
        cosine_matrix,
        direction_consistency,
        fc8_logits,
        group_directions,
        marginal,
        softmax,
        walk,
    )
    from genailab.vision.neighbours import nearest
    from genailab.vision.pretrained import pretrained

    cnn, train_set, test_set = pretrained("shapes", cfg.preset, seed=cfg.seed, device=cfg.device)
    names = train_set.attribute_classes["colour"]
    shape_names = train_set.attribute_classes["shape"]
    colour, shape = train_set.attributes["colour"], train_set.attributes["shape"]  # (n,) each
    E_train = cnn.embed(train_set.images)  # (n, D) fc7
    d = attribute_direction(E_train, colour, cfg.towards, cfg.away, names, "colour")
    to, fro = d.towards, d.away

    # consistency: the direction taken within each shape, and a baseline pair of colours
    per_shape, shape_codes = group_directions(E_train, colour, to, fro, shape)  # (G, D)
    cosines = cosine_matrix(per_shape)  # (G, G)
    consistency = direction_consistency(E_train, colour, to, fro, shape)
    others = [c for c in range(len(names)) if c not in (to, fro)][:2]
    base, _ = group_directions(E_train, colour, others[0], others[1], shape)  # (G, D)
    both = cosine_matrix(np.vstack([per_shape, base]))  # (2G, 2G)
    G = per_shape.shape[0]
    cross = float(both[:G, G:].mean())

    # the walk: every test image of the "away" colour
    sel = np.flatnonzero(test_set.attributes["colour"] == fro)  # (q,)
    own_shape = test_set.attributes["shape"][sel]  # (q,)
    E0 = cnn.embed(test_set.images[sel])  # (q, D)
    ts = walk_grid(cfg.t_max, cfg.steps)  # (T,)
    # NOTE: fc7 follows a ReLU; a walked point is clipped at 0 to stay where images can go
    W = np.maximum(walk(E0, d, ts), 0.0)  # (T, q, D)
    P = softmax(fc8_logits(cnn.model, W))  # (T, q, classes)
    n_classes = len(cnn.classes)
    p_colour = marginal(P, class_attribute(train_set.labels, colour, n_classes), len(names))
    p_shape = marginal(P, class_attribute(train_set.labels, shape, n_classes), len(shape_names))
    start_shape = p_shape[0].argmax(axis=-1)  # (q,) the classifier's shape before walking
    flip = (p_colour.argmax(axis=-1) == to).mean(axis=1)  # (T,)
    kept = (p_shape.argmax(axis=-1) == start_shape).mean(axis=1)  # (T,)
    p_towards = p_colour[..., to].mean(axis=1)  # (T,)
    T, q, D = W.shape
    found = nearest(E_train, W.reshape(T * q, D), k=cfg.k, space="fc7")
    idx = found.indices.reshape(T, q, cfg.k)  # (T, q, k)
    nb_colour = (colour[idx] == to).mean(axis=(1, 2))  # (T,)
    nb_shape = (shape[idx] == own_shape[None, :, None]).mean(axis=(1, 2))  # (T,)
    reached = np.flatnonzero((flip >= ARRIVAL) & (nb_colour >= ARRIVAL))
    at = int(reached[0]) if reached.size else T - 1

    # the strip: one test image of each shape and its nearest training image along the walk
    rng = np.random.default_rng(cfg.seed)
    rows = np.array([rng.choice(np.flatnonzero(own_shape == s)) for s in np.unique(own_shape)])
    cols = [int(np.argmin(np.abs(ts - t))) for t in STRIP_T if t <= cfg.t_max]
    strip = np.concatenate(
        [test_set.images[sel[rows]][:, None], train_set.images[idx[cols][:, rows, 0].T]], axis=1
    )  # (R, 1 + C, H, W, 3)
    first = idx[cols][:, rows, 0].T  # (R, C) the training rows in the strip
    strip_ok = (colour[first] == to) & (shape[first] == own_shape[rows, None])  # (R, C)

    summary = {
        "consistency": consistency,
        "cross_consistency": cross,
        "arrival_t": float(ts[at]),
        "colour_flip": float(flip[at]),
        "shape_kept": float(kept[at]),
        "neighbour_colour": float(nb_colour[at]),
        "neighbour_shape": float(nb_shape[at]),
        "start_colour": float((p_colour[0].argmax(-1) == fro).mean()),
        "walked_images": float(q),
        "direction_norm": d.norm,
        "test_accuracy": float(cnn.summary.get("test_accuracy", np.nan)),
    }
    arrays = {
        "ts": ts,
        "p_towards": p_towards,
        "flip": flip,
        "kept": kept,
        "nb_colour": nb_colour,
        "nb_shape": nb_shape,
        "cosines": cosines,
        "strip": strip,
        "strip_ok": strip_ok,
        "strip_t": ts[cols],
    }
    text = {
        "towards": d.towards_name,
        "away": d.away_name,
        "shapes": "|".join(shape_names[c] for c in shape_codes),
        "others": f"{names[others[0]]} \u2212 {names[others[1]]}",
    }
    step = 0

    def frame(scene: int, shown_pairs: int, upto: int, poster: bool = False) -> Frame:
        nonlocal step
        f = Frame(
            step=step,
            arrays={**arrays, "state": np.array([scene, shown_pairs, upto, at])},
            scalars={"t": float(ts[upto]), **summary},
            text=text,
            caption=CAPTIONS[scene],
            poster=poster,
        )
        step += 1
        return f

    for g in range(1, G + 1):  # the per-shape cosines, one shape at a time
        yield frame(0, g, 0)
    yield frame(0, G, 0)
    for i in range(cfg.steps + 1):
        yield frame(1, G, round(i * (T - 1) / cfg.steps))
    hold = max(4, cfg.steps // 2)
    for i in range(hold):
        yield frame(2, G, T - 1, poster=i == hold - 1)


# ------------------------------------------------------------------------------- drawing
def strip_mosaic(tiles: np.ndarray, ok: np.ndarray, columns: int, gap: int = 4) -> np.ndarray:
    """Rows of (query, nearest training image at each strip step) as one image; neighbours
    framed green (new colour, same shape) or orange; columns past ``columns`` left blank.

    Examples
    --------
    >>> strip_mosaic(np.zeros((2, 3, 4, 4, 3), np.uint8), np.ones((2, 2), bool), 1).shape
    (12, 28, 3)
    """
    R, C1, H, W, _ = tiles.shape
    out = np.full((R * (H + gap) - gap, C1 * (W + gap) + gap, 3), 255, dtype=np.uint8)
    for r in range(R):
        for c in range(min(C1, columns + 1)):
            x = c * (W + gap) + (2 * gap if c else 0)  # the query stands apart
            tile = tiles[r, c].copy()
            if c:
                edge = SAME if ok[r, c - 1] else OTHER
                tile[:BORDER], tile[-BORDER:] = edge, edge
                tile[:, :BORDER], tile[:, -BORDER:] = edge, edge
            out[r * (H + gap) : r * (H + gap) + H, x : x + W] = tile
    return out


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a, txt = frame.arrays, frame.text
    strip = fig.add_axes((0.09, 0.10, 0.40, 0.70))
    strip.set_axis_off()
    strip.set_title(
        f"nearest training image of each walked {txt['away']} image",
        fontsize=LABEL_SIZE,
        color=INK,
        loc="left",
        pad=20,
    )
    fig.text(
        0.09,
        0.05,
        f"green frame: {txt['towards']} and the query's shape; orange: not",
        fontsize=SMALL_SIZE,
        color=MUTED,
    )
    curves = fig.add_axes((0.58, 0.44, 0.39, 0.29))
    style_axes(curves)
    ts = a["ts"]
    curves.set_xlim(0, ts[-1])
    curves.set_ylim(-0.03, 1.03)
    curves.set_xlabel("t  (t = 1: the whole mean difference)", fontsize=SMALL_SIZE)
    curves.set_yticks([0, 0.5, 1], ["0%", "50%", "100%"])
    styles = (
        ("flip", f"fc8 reads {txt['towards']}", PALETTE[3], "-"),
        ("nb_colour", f"neighbours {txt['towards']}", PALETTE[3], "--"),
        ("kept", "fc8 keeps the shape", PALETTE[0], "-"),
        ("nb_shape", "neighbours: same shape", PALETTE[0], "--"),
    )
    lines = {}
    for key, label, colour, ls in styles:
        (lines[key],) = curves.plot([], [], ls, color=colour, lw=2, label=label)
    curves.legend(
        fontsize=SMALL_SIZE,
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=2,
        title=f"over all {int(frame.scalars['walked_images'])} {txt['away']} test images",
        title_fontsize=SMALL_SIZE,
        alignment="left",
    )
    now = curves.axvline(0, color=MUTED, lw=1)
    arrival = curves.axvline(ts[int(a["state"][3])], color=INK, lw=1, ls=":", visible=False)
    note = curves.text(
        ts[int(a["state"][3])], 0.5, "", fontsize=SMALL_SIZE, color=INK, ha="left", va="center"
    )
    heat = fig.add_axes((0.60, 0.05, 0.17, 0.25))
    G = a["cosines"].shape[0]
    image = heat.imshow(np.full((G, G), np.nan), vmin=-1, vmax=1, cmap="RdBu_r")
    shapes = txt["shapes"].split("|")
    heat.set_xticks([])
    heat.set_yticks(range(G), shapes, fontsize=SMALL_SIZE - 1)
    heat.tick_params(length=0, colors=MUTED)
    heat.set_title(
        f"cosine of {txt['towards']} \u2212 {txt['away']}, shape by shape",
        fontsize=SMALL_SIZE,
        color=INK,
        loc="left",
    )
    readout = fig.text(0.79, 0.10, "", fontsize=SMALL_SIZE, color=INK, va="bottom")
    return dict(
        strip=strip,
        curves=curves,
        lines=lines,
        now=now,
        arrival=arrival,
        note=note,
        heat=image,
        readout=readout,
        shown=None,
        texts=[],
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, sc, txt = frame.arrays, frame.scalars, frame.text
    scene, pairs, upto, at = (int(v) for v in a["state"])
    ts = a["ts"]

    C = np.full_like(a["cosines"], np.nan)  # the rows of the shapes shown so far
    C[:pairs, :pairs] = a["cosines"][:pairs, :pairs]
    art["heat"].set_data(C)
    lines = [
        "mean cosine across shapes:",
        f"{txt['towards']} \u2212 {txt['away']}: {sc['consistency']:.2f}",
        f"against {txt['others']}: {sc['cross_consistency']:.2f}",
    ]
    art["readout"].set_text("\n".join(lines) if pairs == C.shape[0] else "")

    walking = scene >= 1
    t = ts[upto]
    columns = int(np.sum(a["strip_t"] <= t + 1e-9)) if walking else 0
    img = strip_mosaic(a["strip"], a["strip_ok"], columns)
    if art["shown"] is None:
        art["shown"] = art["strip"].imshow(img, interpolation="nearest")
    else:
        art["shown"].set_data(img)
    for text in art["texts"]:
        text.remove()
    art["texts"] = []
    H, W = a["strip"].shape[2:4]
    gap = 4
    art["texts"].append(
        art["strip"].text(
            W / 2, -3, "query", ha="center", va="bottom", fontsize=SMALL_SIZE, color=INK
        )
    )
    for c, tc in enumerate(a["strip_t"][:columns]):
        x = (c + 1) * (W + gap) + 2 * gap + W / 2
        art["texts"].append(
            art["strip"].text(
                x, -3, f"t = {tc:g}", ha="center", va="bottom", fontsize=SMALL_SIZE, color=INK
            )
        )
    for r, name in enumerate(txt["shapes"].split("|")):
        art["texts"].append(
            art["strip"].text(
                -3,
                r * (H + gap) + H / 2,
                name,
                ha="right",
                va="center",
                fontsize=SMALL_SIZE,
                color=INK,
            )
        )

    upto_plot = upto + 1 if walking else 0
    for key, line in art["lines"].items():
        show = key in ("flip", "kept") or scene == 2
        line.set_data(ts[:upto_plot], a[key][:upto_plot])
        line.set_visible(show)
    art["now"].set_xdata([t, t])
    art["now"].set_visible(walking)
    art["arrival"].set_visible(walking and upto >= at)
    art["note"].set_text(f" {ARRIVAL:.0%} {txt['towards']}" if walking and upto >= at else "")
