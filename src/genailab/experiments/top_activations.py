"""Which images excite a channel most? One pass over the data set, {n_images:.0f} images through
the network trained here, keeps for every channel of ``conv1`` to ``conv5`` and ``fc6`` the
{k:.0f} images on which it peaks highest (``genailab.vision.top_activations``): for a conv
channel its activation on an image is the maximum of its map, and the position of that maximum
gives the window of the image that the unit there sees, its receptive field. Each page shows a
few channels of one stage, their top images with that window left bright, and the windows cut
out. The windows grow with depth, from {crop_conv1:.0f} pixels a side at ``conv1`` to
{crop_conv5:.0f} at ``conv5`` (wider than the {image_size:.0f}-pixel image: past the border it
is padding, white in the crops), and ``fc6`` sees the whole image. What the channels pick grows
with them: the share of a channel's top images that carry its most common class, averaged over
the stage's channels (those that fire at all), rises from {purity_conv1:.0%} at ``conv1`` to
{purity_conv5:.0%} at ``conv5`` and {purity_fc6:.0%} at ``fc6``, against {purity_chance:.0%} for
{k:.0f} images drawn at random. On the shapes the first channels pick a colour
({colour_purity_conv1:.0%} of the top images of a ``conv1`` channel share one, chance
{colour_chance:.0%}) and hardly a shape ({shape_purity_conv1:.0%}, chance {shape_chance:.0%});
at ``conv5`` {shape_purity_conv5:.0%} share a shape. The pass over all six stages took
{pass_seconds:.1f} s (on a shared CPU).
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

STAGES_SHOWN = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6")
CAPTIONS = {
    "conv1": "conv1: a channel's top images; the bright square is the window its peak sees",
    "conv2": "conv2: one pooling later, each unit sees a wider window of the image",
    "conv3": "conv3: wider windows, and top images that share their class more often",
    "conv4": "conv4: the windows now span most of the image",
    "conv5": "conv5: windows wider than the image, top images mostly of one class",
    "fc6": "fc6 sees the whole image: its top images share a class far above chance",
}
TILE = 40  # display side of a crop in the crops panel, in pixels before the figure's scaling
FADE = 0.72  # how far the pixels outside the window are blended towards white
BOX = (213, 94, 0)  # PALETTE[3]: the window's outline
EDGE = (190, 190, 190)  # a crop's outline


@experiment(
    name="top-activations",
    chapter="Inside a CNN",
    order=3,
    title="Top-activating images of a CNN's channels, and the window that excited them",
    seconds=(50, 16),
)
@dataclass
class Config:
    data: Literal["shapes", "mnist"] = setting(
        "shapes", help="the pretrained network and its data: coloured shapes or MNIST digits"
    )
    preset: Literal["quick", "full"] = setting(
        "full", help="which shared pretrained network (genailab.vision.pretrained)"
    )
    k: int = setting(
        6, help="top images kept per channel (purity is measured on them)", ge=2, le=10
    )
    channels: int = setting(4, help="channels shown per stage (purity: all of them)", ge=1, le=5)
    limit: int = setting(
        0,
        help="images searched, train and test together (0: the whole data set)",
        ge=0,
        le=10_000_000,
    )
    hold: int = setting(8, help="frames per stage", ge=1, le=60)
    seed: int = seed_setting()
    device: Literal["auto", "cpu", "cuda", "mps"] = setting("auto", help="where the network runs")
    QUICK = dict(preset="quick", limit=1000, hold=3)


QUESTION = "Which images excite a CNN's channels most, and what part of them does each stage see?"
ANSWER = (
    "Windows of {crop_conv1:.0f} px at conv1 grow to {crop_conv5:.0f} at conv5; {purity_conv5:.0%} "
    "of a conv5 channel's top images share a class (chance {purity_chance:.0%})"
)
CLAIMS = (
    Claim(
        "crop_conv5 >= 5 * crop_conv1",
        "a conv5 unit sees a window over 5 times as wide as a conv1 unit's",
    ),
    Claim(
        "purity_conv5 >= 2 * purity_chance",
        "a conv5 channel's top images share a class over twice as often as chance",
    ),
    Claim(
        "purity_conv5 >= purity_conv1 + 0.2",
        "class purity of the top images grows with depth, conv1 to conv5",
    ),
)


def frame_count(cfg: Config) -> int:
    """``hold`` frames per stage shown."""
    return len(STAGES_SHOWN) * cfg.hold


# ------------------------------------------------------------------------------- measuring
def random_purity(labels: np.ndarray, k: int, draws: int, seed: int) -> float:
    """The mean purity of ``draws`` sets of ``k`` images drawn at random: chance.

    Examples
    --------
    >>> round(random_purity(np.zeros(50, int), 4, 100, 0), 2)  # one class: always pure
    1.0
    """
    from genailab.vision.top_activations import TopActivations, channel_purity

    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(labels), (draws, k))
    fake = TopActivations(
        "fc6", np.zeros((draws, k)), index, np.zeros((draws, k, 2), np.int64), None, 1, len(labels)
    )
    return float(channel_purity(fake, labels).mean())


def faded(images: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Images (M, H, W, 3) uint8 with the pixels outside each box (M, 4) blended towards white
    and the box outlined.

    Examples
    --------
    >>> out = faded(np.zeros((1, 6, 6, 3), np.uint8), np.array([[1, 4, 1, 4]]))
    >>> out[0, 0, 0].tolist(), out[0, 2, 2].tolist()
    ([184, 184, 184], [0, 0, 0])
    """
    _, H, W, _ = images.shape
    rows, cols = np.arange(H), np.arange(W)
    t, b, left, r = (boxes[:, i, None] for i in range(4))  # (M, 1) each
    inside = ((rows >= t) & (rows < b))[:, :, None] & ((cols >= left) & (cols < r))[:, None, :]
    out = images.astype(np.float32)
    out = np.where(inside[..., None], out, out + FADE * (255 - out))  # (M, H, W, 3)
    edge_r = (rows == t) | (rows == b - 1)  # (M, H)
    edge_c = (cols == left) | (cols == r - 1)  # (M, W)
    in_r, in_c = (rows >= t) & (rows < b), (cols >= left) & (cols < r)
    outline = (edge_r[:, :, None] & in_c[:, None, :]) | (in_r[:, :, None] & edge_c[:, None, :])
    out[outline] = BOX
    return out.round().astype(np.uint8)


def enlarged(crops: np.ndarray, side: int = TILE) -> np.ndarray:
    """Square crops (M, S, S, 3) resized to (M, side, side, 3) by nearest pixel, outlined in
    light grey (the window's edge, where it runs into the white padding).

    Examples
    --------
    >>> enlarged(np.zeros((2, 5, 5, 3), np.uint8), 10).shape
    (2, 10, 10, 3)
    """
    S = crops.shape[1]
    pick = np.minimum((np.arange(side) * S) // side, S - 1)  # (side,)
    out = crops[:, pick][:, :, pick].copy()  # (M, side, side, 3)
    out[:, [0, -1]] = EDGE
    out[:, :, [0, -1]] = EDGE
    return out


def grid(tiles: np.ndarray, gap: int = 2) -> np.ndarray:
    """Tiles (R, K, h, w, 3) as one white-separated image.

    Examples
    --------
    >>> grid(np.zeros((2, 3, 4, 4, 3), np.uint8)).shape
    (10, 16, 3)
    """
    R, K, h, w, _ = tiles.shape
    out = np.full((R * (h + gap) - gap, K * (w + gap) - gap, 3), 255, np.uint8)
    for r in range(R):  # a few rows and columns, for drawing
        for c in range(K):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[r, c]
    return out


def as_rgb(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 1) grey as (N, H, W, 3); RGB unchanged."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


# ------------------------------------------------------------------------------- frames
def frames(cfg: Config) -> Iterator[Frame]:
    import time

    from genailab.vision.pretrained import pretrained
    from genailab.vision.top_activations import channel_purity, top_activations_by_stage

    cnn, train_set, test_set = pretrained(cfg.data, cfg.preset, seed=cfg.seed, device=cfg.device)
    images = np.concatenate([train_set.images, test_set.images])  # (N, H, W, C) uint8
    labels = np.concatenate([train_set.labels, test_set.labels])  # (N,)
    attributes = {
        name: np.concatenate([train_set.attributes[name], test_set.attributes[name]])
        for name in ("shape", "colour")
        if name in train_set.attributes
    }
    rng = np.random.default_rng(cfg.seed)
    if cfg.limit and cfg.limit < len(images):
        keep = np.sort(rng.choice(len(images), cfg.limit, replace=False))
        images, labels = images[keep], labels[keep]
        attributes = {name: v[keep] for name, v in attributes.items()}
    N, size = len(images), images.shape[1]

    start = time.perf_counter()
    tops = top_activations_by_stage(cnn, images, STAGES_SHOWN, k=cfg.k)
    pass_seconds = time.perf_counter() - start

    summary: dict[str, float] = {
        "n_images": float(N),
        "k": float(cfg.k),
        "image_size": float(size),
        "pass_seconds": pass_seconds,
        "purity_chance": random_purity(labels, cfg.k, 4000, cfg.seed),
    }
    for name in ("shape", "colour"):
        summary[f"{name}_chance"] = (
            random_purity(attributes[name], cfg.k, 4000, cfg.seed) if name in attributes else np.nan
        )
    purity = {}
    for stage, top in tops.items():
        alive = top.values[:, 0] > 0  # a channel silent on every image has no top images
        purity[stage] = channel_purity(top, labels)  # (C,)
        summary[f"crop_{stage}"] = float(top.crop_size)
        summary[f"purity_{stage}"] = float(purity[stage][alive].mean()) if alive.any() else 0.0
        for name in ("shape", "colour"):
            summary[f"{name}_purity_{stage}"] = (
                float(channel_purity(top, attributes[name])[alive].mean())
                if name in attributes and alive.any()
                else np.nan
            )

    colour = as_rgb(images)  # (N, H, W, 3)
    pages = []
    for stage in STAGES_SHOWN:
        top = tops[stage]
        alive = np.flatnonzero(top.values[:, 0] > 0)
        pool = alive if alive.size >= cfg.channels else np.arange(top.n_channels)
        shown = np.sort(rng.choice(pool, min(cfg.channels, pool.size), replace=False))  # (R,)
        index = top.indices[shown]  # (R, k)
        boxes = top.boxes()[shown].reshape(-1, 4)  # (R k, 4)
        marked = faded(colour[index.reshape(-1)], boxes).reshape(*index.shape, size, size, 3)
        crops = top.crops(colour, fill=255)[shown]  # (R, k, S, S, 3)
        big = enlarged(crops.reshape(-1, *crops.shape[2:])).reshape(*index.shape, TILE, TILE, 3)
        pages.append(
            {
                "images": grid(marked),
                "crops": grid(big),
                "channels": shown,
                "values": top.values[shown],  # (R, k)
                "purity": purity[stage][shown],  # (R,)
                "n_channels": top.n_channels,
            }
        )

    crop_sizes = np.array([summary[f"crop_{s}"] for s in STAGES_SHOWN])
    purities = np.array([summary[f"purity_{s}"] for s in STAGES_SHOWN])
    shape_p = np.array([summary[f"shape_purity_{s}"] for s in STAGES_SHOWN])
    colour_p = np.array([summary[f"colour_purity_{s}"] for s in STAGES_SHOWN])
    step = 0
    for j, stage in enumerate(STAGES_SHOWN):
        page = pages[j]
        for h in range(cfg.hold):
            yield Frame(
                step=step,
                arrays={
                    "images": page["images"],
                    "crops": page["crops"],
                    "channels": page["channels"],
                    "values": page["values"],
                    "channel_purity": page["purity"],
                    "crop_sizes": crop_sizes[: j + 1],
                    "purities": purities[: j + 1],
                    "shape_purities": shape_p[: j + 1],
                    "colour_purities": colour_p[: j + 1],
                },
                scalars={**summary, "stage_index": float(j), "n_channels": page["n_channels"]},
                text={"stage": stage, "data": cfg.data},
                caption=CAPTIONS[stage],
                poster=stage == "conv5" and h == cfg.hold - 1,
            )
            step += 1


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas) -> dict:
    fig = canvas.figure
    art = {
        "images_ax": fig.add_axes((0.075, 0.10, 0.355, 0.66)),
        "crops_ax": fig.add_axes((0.45, 0.10, 0.33, 0.66)),
        "size_ax": fig.add_axes((0.83, 0.55, 0.15, 0.25)),
        "purity_ax": fig.add_axes((0.83, 0.12, 0.15, 0.28)),
        "shown": {},
        "texts": [],
    }
    for key in ("images_ax", "crops_ax"):
        art[key].set_axis_off()
    art["head"] = fig.text(0.075, 0.80, "", fontsize=LABEL_SIZE + 1, color=INK)
    art["note"] = fig.text(0.07, 0.035, "", fontsize=SMALL_SIZE, color=MUTED)
    return art


def _show(art: dict, key: str, ax, image: np.ndarray) -> None:
    shown = art["shown"].get(key)
    if shown is None or shown.get_array().shape != image.shape:
        if shown is not None:
            shown.remove()
        art["shown"][key] = ax.imshow(image, interpolation="nearest")
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
    else:
        shown.set_data(image)


def _curves(art: dict, frame: Frame) -> None:
    a, s = frame.arrays, frame.scalars
    n = len(STAGES_SHOWN)
    x = np.arange(len(a["crop_sizes"]))
    labels = [st.replace("conv", "c") for st in STAGES_SHOWN]

    ax = art["size_ax"]
    ax.clear()
    style_axes(ax)
    ax.bar(x, a["crop_sizes"], color=PALETTE[0], width=0.6)
    ax.axhline(s["image_size"], color=MUTED, lw=0.8, ls="--")
    ax.text(
        -0.5,
        s["image_size"] + 1,
        "image",
        ha="left",
        va="bottom",
        fontsize=SMALL_SIZE - 1,
        color=MUTED,
    )
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, 1.25 * max(s["crop_conv5"], s["image_size"]))
    ax.set_xticks(range(n), labels, fontsize=SMALL_SIZE - 1)
    ax.set_title("window side (pixels)", fontsize=SMALL_SIZE, color=INK, loc="left")

    ax = art["purity_ax"]
    ax.clear()
    style_axes(ax)
    ax.plot(x, a["purities"], "o-", color=PALETTE[0], ms=4, lw=1.6, label="class")
    if np.isfinite(a["shape_purities"]).all():
        ax.plot(x, a["shape_purities"], "o-", color=PALETTE[2], ms=3, lw=1.1, label="shape")
        ax.plot(x, a["colour_purities"], "o-", color=PALETTE[4], ms=3, lw=1.1, label="colour")
    ax.axhline(s["purity_chance"], color=PALETTE[0], lw=0.8, ls="--")
    ax.text(
        -0.5,
        s["purity_chance"] - 0.03,
        "chance",
        ha="left",
        va="top",
        fontsize=SMALL_SIZE - 1,
        color=PALETTE[0],
    )
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(range(n), labels, fontsize=SMALL_SIZE - 1)
    ax.set_title("top images sharing a ...", fontsize=SMALL_SIZE, color=INK, loc="left")
    legend = ax.legend(
        loc="lower right", fontsize=SMALL_SIZE - 1, handlelength=1.2, framealpha=1, borderpad=0.2
    )
    legend.get_frame().set_linewidth(0)


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas))
    a, s, stage = frame.arrays, frame.scalars, frame.text["stage"]
    if art.get("stage") == stage:
        return  # a hold: the page is already drawn
    art["stage"] = stage
    _show(art, "images", art["images_ax"], a["images"])
    _show(art, "crops", art["crops_ax"], a["crops"])
    for text in art["texts"]:
        text.remove()
    art["texts"] = []
    rows = len(a["channels"])
    height = a["images"].shape[0]
    for r, channel in enumerate(a["channels"]):
        y = (r + 0.5) * (height + 2) / rows - 1
        art["texts"].append(
            art["images_ax"].text(
                -3,
                y,
                f"ch {channel}\nmax {a['values'][r, 0]:.1f}\npure {a['channel_purity'][r]:.0%}",
                ha="right",
                va="center",
                fontsize=SMALL_SIZE - 1,
                color=INK,
            )
        )
    window = "the whole image" if stage.startswith("fc") else f"window {s[f'crop_{stage}']:.0f} px"
    art["head"].set_text(
        f"{stage}: {rows} of {int(s['n_channels'])} channels, each its top {int(s['k'])} of "
        f"{int(s['n_images']):,} images · {window}"
    )
    art["images_ax"].set_title(
        "top images, the window of the peak left bright",
        fontsize=SMALL_SIZE,
        color=MUTED,
        loc="left",
    )
    art["crops_ax"].set_title(
        "the windows cut out (white: padding)", fontsize=SMALL_SIZE, color=MUTED, loc="left"
    )
    art["note"].set_text(
        f"one pass over {int(s['n_images']):,} images found the top {int(s['k'])} of every "
        f"channel of six stages in {s['pass_seconds']:.1f} s"
    )
    _curves(art, frame)
