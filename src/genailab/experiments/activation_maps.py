"""A convolution kernel is a template. Laid on one patch of the image, it gives one number, the
dot product of its weights with the patch's pixels plus a bias; slid over every patch, those
numbers form the kernel's activation map. The video first does exactly that, on a test digit
and one of the first-layer kernels of the network trained here on MNIST: the kernel, the patch
under it, their element-wise products, and their sum, position after position, filling the map.
Computed that way, explicitly (``genailab.vision.activation_maps.sliding_dot_product``), the
maps equal what ``torch.nn.functional.conv2d`` gives at every conv stage of both networks, on
all three images: the largest difference is {dot_max_abs_diff:.1e}. A kernel is a similarity
detector: where its map peaks, the patch under it is more like the kernel (by cosine) than
{peak_cosine_rank:.1%} of the image's patches (the median over every first-layer kernel and
image). Then three images go through every stage, ``conv1`` to ``fc8``: a digit through the
MNIST network, a coloured shape and a photograph cut to the 32-pixel input through the network
trained on shapes. The maps shrink at each pooling while their number grows, until ``fc6`` and
``fc7`` are vectors and ``fc8`` the class probabilities: the network is {p_digit:.0%} sure of
the digit and {p_shape:.0%} of the shape, and {p_photo:.0%} sure of its best guess for a
photograph unlike anything it was trained on.
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
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE

STAGE_NAMES = ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5")
PANELS = ("input", *STAGE_NAMES, "fc6", "fc7", "fc8")  # the walk through the network
SHOWN_MAPS = 16  # channel maps drawn per spatial stage, a 4 x 4 grid
TOP_CLASSES = 5  # class probabilities drawn for fc8
CAPTIONS = (
    "A kernel is a template: its dot product with one patch is one value of its map",
    "Slid over every patch, the dot products are the activation map: what conv2d computes",
    "A digit through every stage: the maps shrink while their number grows",
    "A coloured shape through the network trained on shapes, stage by stage",
    "A photograph cut to the 32-pixel input, through the same network",
)


@experiment(
    name="activation-maps",
    chapter="Inside a CNN",
    order=2,
    title="Activation maps: a kernel as a sliding dot product, an image through every stage",
    seconds=(50, 16),
)
@dataclass
class Config:
    preset: Literal["quick", "full"] = setting(
        "full", help="which shared pretrained networks (genailab.vision.pretrained)"
    )
    photo: Literal[
        "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry"
    ] = setting("chelsea", help="scikit-image's bundled photograph sent through the network")
    slide: int = setting(
        28, help="positions the kernel visits along one row of the digit", ge=2, le=64
    )
    compare: int = setting(8, help="frames of the sliding map beside conv2d's", ge=1, le=60)
    reveal: int = setting(
        1, help="stages revealed per step of the walk through the network", ge=1, le=12
    )
    hold: int = setting(2, help="frames per step of the walk through the network", ge=1, le=20)
    seed: int = seed_setting()
    device: Literal["auto", "cpu", "cuda", "mps"] = setting("auto", help="where the networks run")
    QUICK = dict(preset="quick", slide=8, compare=3, reveal=2, hold=1)


QUESTION = (
    "What does a convolution kernel compute on an image, and what does the image look like "
    "after each stage of a CNN?"
)
ANSWER = (
    "A dot product with every patch, equal to conv2d within {dot_max_abs_diff:.0e}; the maps "
    "shrink and multiply until fc8 is {p_digit:.0%} sure of the digit"
)
CLAIMS = (
    Claim(
        "dot_max_abs_diff < 1e-4",
        "the sliding dot product equals conv2d at every conv stage (max |diff| < 1e-4)",
    ),
    Claim(
        "peak_cosine_rank >= 0.9",
        "where a kernel's map peaks, the patch is more like it than 90% of patches",
    ),
)


def frame_count(cfg: Config) -> int:
    """The kernel's slide, the comparison with conv2d, and three walks through the panels."""
    return cfg.slide + cfg.compare + 3 * walk_steps(cfg) * cfg.hold


def walk_steps(cfg: Config) -> int:
    """Steps of one walk through the panels, ``reveal`` panels a step."""
    return -(-len(PANELS) // cfg.reveal)


# ------------------------------------------------------------------------------- measuring
def stage_inputs(model, x) -> dict[str, object]:
    """The tensor each conv stage takes in (N, C, H, W): the image or the previous stage's
    output, from one forward pass."""
    from genailab.vision.alexnet import STAGES

    acts = model.activations(x, STAGES[: STAGES.index("conv5")])
    previous = {"conv1": x, "conv2": "pool1", "conv3": "pool2", "conv4": "conv3", "conv5": "conv4"}
    return {s: v if s == "conv1" else acts[v] for s, v in previous.items()}


def dot_product_gap(cnn, image: np.ndarray) -> float:
    """The largest |sliding dot product - conv2d| over every conv stage's maps for one image
    (both on the stage's real input, before its normalisation and ReLU)."""
    import torch.nn.functional as F

    from genailab.vision.activation_maps import evaluating, sliding_dot_product

    model = cnn.model
    worst = 0.0
    with evaluating(model):
        for stage, inp in stage_inputs(model, cnn.prepare(image[None])).items():
            conv = model.conv(stage)
            reference = F.conv2d(inp, conv.weight, conv.bias, conv.stride, conv.padding)
            mine = sliding_dot_product(
                inp[0].double().cpu(),
                conv.weight.double().cpu(),
                conv.bias.double().cpu(),
                stride=conv.stride[0],
                padding=conv.padding[0],
            )  # (O, H', W') float64
            gap = np.abs(mine - reference[0].double().cpu().numpy()).max()
            worst = max(worst, float(gap))
    return worst


def patch_cosines(cnn, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every conv1 kernel's dot products and cosines with every patch of the prepared image:
    (P, O) each, P the map's positions."""
    from numpy.lib.stride_tricks import sliding_window_view

    conv = cnn.model.conv("conv1")
    kernels = conv.weight.detach().cpu().double().numpy()  # (O, C, k, k)
    k, pad, stride = kernels.shape[-1], conv.padding[0], conv.stride[0]
    x = cnn.prepare(image[None])[0].cpu().double().numpy()  # (C, H, W)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    patches = windows.transpose(1, 2, 0, 3, 4).reshape(-1, kernels[0].size)  # (P, C k k)
    flat = kernels.reshape(len(kernels), -1)  # (O, C k k)
    dots = patches @ flat.T  # (P, O)
    norms = np.linalg.norm(patches, axis=1, keepdims=True) * np.linalg.norm(flat, axis=1)
    return dots, dots / np.maximum(norms, 1e-12)


def peak_cosine_ranks(cnn, image: np.ndarray) -> np.ndarray:
    """For each conv1 kernel, the share of the image's patches less like it (by cosine)
    than the patch where its map peaks: (O,)."""
    dots, cos = patch_cosines(cnn, image)
    peak = cos[dots.argmax(axis=0), np.arange(cos.shape[1])]  # (O,)
    return (cos < peak).mean(axis=0)


def mosaic(maps: np.ndarray, count: int = SHOWN_MAPS, gap: int = 1) -> np.ndarray:
    """The first ``count`` maps (C, H, W) in a square grid, each scaled by its own maximum to
    [0, 1] (a silent map stays 0), NaN in the gaps.

    Examples
    --------
    >>> mosaic(np.ones((20, 3, 3))).shape
    (15, 15)
    """
    shown = maps[:count]
    C, H, W = shown.shape
    cols = int(np.ceil(np.sqrt(C)))
    rows = int(np.ceil(C / cols))
    top = shown.reshape(C, -1).max(axis=1)  # (C,)
    scaled = shown / np.where(top > 0, top, 1)[:, None, None]
    out = np.full((rows * (H + gap) - gap, cols * (W + gap) - gap), np.nan)
    for i in range(C):  # at most 16 tiles, for drawing
        r, c = divmod(i, cols)
        out[r * (H + gap) : r * (H + gap) + H, c * (W + gap) : c * (W + gap) + W] = scaled[i]
    return out


def vector_grid(vector: np.ndarray) -> np.ndarray:
    """A fully connected stage's units as a near-square grid, scaled to [0, 1].

    Examples
    --------
    >>> vector_grid(np.arange(8.0)).shape
    (2, 4)
    """
    n = vector.size
    rows = int(np.floor(np.sqrt(n)))
    while n % rows:
        rows -= 1
    top = vector.max()
    return (vector / (top if top > 0 else 1)).reshape(rows, n // rows)


def walk(cnn, image: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, str], float]:
    """One image through every stage: the panels' arrays, their titles, and the top class
    probability."""
    from genailab.vision.activation_maps import activation_maps

    maps = activation_maps(cnn, image)
    arrays = {"input": image[..., 0] / 255.0 if image.shape[-1] == 1 else image / 255.0}
    titles = {"input": f"input {image.shape[0]}x{image.shape[1]}"}
    for stage in STAGE_NAMES:
        C, H, W = maps[stage].shape
        arrays[stage] = mosaic(maps[stage])
        titles[stage] = f"{stage}  {C}x{H}x{H}" if H == W else f"{stage}  {C}x{H}x{W}"
    for stage in ("fc6", "fc7"):
        arrays[stage] = vector_grid(maps[stage])
        titles[stage] = f"{stage}  {maps[stage].size} units"
    logits = maps["fc8"].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")[:TOP_CLASSES]
    arrays["fc8"] = probs[order]
    titles["fc8"] = "fc8  probabilities"
    titles["fc8_names"] = "|".join(cnn.classes[i] for i in order)
    return arrays, titles, float(probs[order[0]])


# ------------------------------------------------------------------------------- frames
def frames(cfg: Config) -> Iterator[Frame]:
    import torch
    import torch.nn.functional as F

    from genailab.vision.activation_maps import patch_dot, photo_input, sliding_dot_product
    from genailab.vision.datasets import sample_photos
    from genailab.vision.pretrained import pretrained

    digits, _, digit_test = pretrained("mnist", cfg.preset, seed=cfg.seed, device=cfg.device)
    shapes, _, shape_test = pretrained("shapes", cfg.preset, seed=cfg.seed, device=cfg.device)
    rng = np.random.default_rng(cfg.seed)
    digit = digit_test.images[rng.integers(len(digit_test))]  # (28, 28, 1) uint8
    shape = shape_test.images[rng.integers(len(shape_test))]  # (32, 32, 3)
    photo = photo_input(
        sample_photos((cfg.photo,))[cfg.photo], shapes.image_size, shapes.channels
    )  # (32, 32, 3)
    cases = ((digits, digit), (shapes, shape), (shapes, photo))

    gap = max(dot_product_gap(cnn, image) for cnn, image in cases)
    ranks = np.concatenate([peak_cosine_ranks(cnn, image) for cnn, image in cases])  # (3 O,)
    walks = [walk(cnn, image) for cnn, image in cases]
    summary = {
        "dot_max_abs_diff": gap,
        "peak_cosine_rank": float(np.median(ranks)),
        "p_digit": walks[0][2],
        "p_shape": walks[1][2],
        "p_photo": walks[2][2],
    }

    # the kernel shown sliding: the conv1 kernel whose map peaks highest on the digit
    conv = digits.model.conv("conv1")
    weights = conv.weight.detach().cpu().double().numpy()  # (O, 1, k, k)
    biases = conv.bias.detach().cpu().double().numpy()  # (O,)
    x = digits.prepare(digit[None])[0].cpu().double().numpy()  # (1, 28, 28), as the net sees it
    pad, stride = conv.padding[0], conv.stride[0]
    maps = sliding_dot_product(x, weights, biases, stride=stride, padding=pad)  # (O, H', W')
    o = int(maps.reshape(len(maps), -1).max(axis=1).argmax())
    kernel, bias, full_map = weights[o], float(biases[o]), maps[o]  # (1, k, k), (H', W')
    with torch.no_grad():
        torch_map = (
            F.conv2d(
                torch.from_numpy(x[None]).float(),
                conv.weight[o : o + 1].detach().cpu(),
                conv.bias[o : o + 1].detach().cpu(),
                stride=stride,
                padding=pad,
            )[0, 0]
            .double()
            .numpy()
        )  # (H', W') float32 arithmetic, as the network runs
    H, W = full_map.shape
    peak_y, _ = np.unravel_index(full_map.argmax(), full_map.shape)
    columns = np.linspace(0, W - 1, cfg.slide).round().astype(int)  # (slide,)
    shared = {"image": digit[..., 0] / 255.0, "kernel": kernel[0], "full_map": full_map}
    text = {"kernel": f"conv1 kernel {o}", "k": str(kernel.shape[-1])}
    step = 0

    for col in columns:
        dot = patch_dot(x, kernel, int(peak_y), int(col), bias=bias, stride=stride, padding=pad)
        revealed = np.full((H, W), np.nan)
        revealed[:peak_y] = full_map[:peak_y]
        revealed[peak_y, : col + 1] = full_map[peak_y, : col + 1]
        yield Frame(
            step=step,
            arrays={
                **shared,
                "patch": dot.patch[0],
                "products": dot.products[0],
                "map": revealed,
                "at": np.array([peak_y, col, pad, stride]),
            },
            scalars={**summary, "value": dot.value, "bias": bias, "scene": 0.0},
            text=text,
            caption=CAPTIONS[0],
        )
        step += 1
    for _ in range(cfg.compare):
        yield Frame(
            step=step,
            arrays={**shared, "map": full_map, "torch_map": torch_map},
            scalars={**summary, "map_gap": float(np.abs(full_map - torch_map).max()), "scene": 1.0},
            text=text,
            caption=CAPTIONS[1],
            poster=False,
        )
        step += 1
    for scene, (arrays, titles, _) in enumerate(walks):
        last = walk_steps(cfg) - 1
        for p in range(last + 1):
            shown = min((p + 1) * cfg.reveal, len(PANELS)) - 1  # the last panel shown
            for h in range(cfg.hold):
                yield Frame(
                    step=step,
                    arrays={**arrays, "reveal": np.array([shown])},
                    scalars={**summary, "scene": 2.0 + scene},
                    text=titles,
                    caption=CAPTIONS[2 + scene],
                    poster=scene == 1 and p == last and h == cfg.hold - 1,
                )
                step += 1


# ------------------------------------------------------------------------------- drawing
def _heat(ax, key: str, art: dict, data: np.ndarray, cmap: str, vmin=None, vmax=None) -> None:
    """One imshow per (axes, key), updated in place; rebuilt when the shape changes."""
    shown = art["images"].get(key)
    if shown is None or shown.get_array().shape != data.shape:
        if shown is not None:
            shown.remove()
        import matplotlib as mpl

        colours = mpl.colormaps[cmap].copy()
        colours.set_bad("white")
        art["images"][key] = ax.imshow(
            data, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
    else:
        shown.set_data(data)
        if vmin is not None:
            shown.set_clim(vmin, vmax)


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color(MUTED)
        side.set_linewidth(0.6)


def _setup(canvas: Canvas) -> dict:
    from matplotlib.patches import Rectangle

    fig = canvas.figure
    art: dict = {"images": {}, "texts": []}
    # the sliding dot product: image | kernel (.) patch = products | map
    slide = {
        "image": fig.add_axes((0.03, 0.14, 0.27, 0.64)),
        "kernel": fig.add_axes((0.345, 0.47, 0.085, 0.21)),
        "patch": fig.add_axes((0.46, 0.47, 0.085, 0.21)),
        "products": fig.add_axes((0.575, 0.47, 0.085, 0.21)),
        "torch": fig.add_axes((0.36, 0.14, 0.27, 0.64)),
        "map": fig.add_axes((0.70, 0.14, 0.27, 0.64)),
    }
    for ax in slide.values():
        _bare(ax)
    art["slide"] = slide
    art["window"] = Rectangle((0, 0), 1, 1, fill=False, edgecolor=PALETTE[3], linewidth=2)
    slide["image"].add_patch(art["window"])
    art["cursor"] = Rectangle((0, 0), 1, 1, fill=False, edgecolor=PALETTE[3], linewidth=2)
    slide["map"].add_patch(art["cursor"])
    art["ops"] = [
        fig.text(0.4375, 0.575, "×", ha="center", va="center", fontsize=16, color=INK),
        fig.text(0.5525, 0.575, "=", ha="center", va="center", fontsize=16, color=INK),
    ]
    art["sum"] = fig.text(0.50, 0.36, "", ha="center", va="top", fontsize=LABEL_SIZE, color=INK)
    art["note"] = fig.text(0.50, 0.05, "", ha="center", fontsize=SMALL_SIZE, color=MUTED)
    # the walk: two rows of six panels
    walk_axes = {}
    for i, name in enumerate(PANELS):
        r, c = divmod(i, 6)
        left, bottom = 0.025 + c * 0.163, 0.50 - r * 0.44
        walk_axes[name] = fig.add_axes((left, bottom, 0.135, 0.32))
        _bare(walk_axes[name])
    art["walk"] = walk_axes
    art["walk_note"] = fig.text(
        0.025,
        0.015,
        f"each stage: its first {SHOWN_MAPS} channel maps, each scaled to its own maximum "
        "(black: zero); fc6, fc7: every unit",
        fontsize=SMALL_SIZE,
        color=MUTED,
    )
    return art


def _title(ax, text: str, colour: str = INK) -> None:
    ax.set_title(text, fontsize=SMALL_SIZE + 1, color=colour, loc="left", pad=4)


def _draw_slide(frame: Frame, art: dict) -> None:
    a, s = frame.arrays, frame.scalars
    ax = art["slide"]
    scene = int(s["scene"])
    full = a["full_map"]
    lo, hi = float(np.nanmin(full)), float(np.nanmax(full))
    _heat(ax["image"], "image", art, a["image"], "gray", 0, 1)
    _title(ax["image"], "the digit (28x28)")
    _heat(ax["map"], "map", art, a["map"], "magma", lo, hi)
    _title(ax["map"], f"its map: {frame.text['kernel']} · image")
    k = int(frame.text["k"])
    for name in ("kernel", "patch", "products"):
        ax[name].set_visible(scene == 0)
    ax["torch"].set_visible(scene == 1)
    for op in art["ops"]:
        op.set_visible(scene == 0)
    if scene == 0:
        y, x, pad, stride = (int(v) for v in a["at"])
        top, left = y * stride - pad, x * stride - pad
        art["window"].set_bounds(left - 0.5, top - 0.5, k, k)
        art["cursor"].set_bounds(x - 0.5, y - 0.5, 1, 1)
        art["window"].set_visible(True)
        art["cursor"].set_visible(True)
        bound = float(np.abs(a["kernel"]).max())
        _heat(ax["kernel"], "kernel", art, a["kernel"], "RdBu_r", -bound, bound)
        _title(ax["kernel"], "kernel")
        _heat(ax["patch"], "patch", art, a["patch"], "gray", -0.5, 3.0)
        _title(ax["patch"], "patch")
        pb = max(float(np.abs(a["products"]).max()), 1e-6)
        _heat(ax["products"], "products", art, a["products"], "RdBu_r", -pb, pb)
        _title(ax["products"], "products")
        total = s["value"] - s["bias"]
        art["sum"].set_text(
            f"sum of the {k * k} products {total:+.2f}\n+ bias {s['bias']:+.2f}\n"
            f"= {s['value']:+.2f}, the map at row {y}, column {x}"
        )
        art["note"].set_text("the patch is the digit as the network sees it (normalised)")
    else:
        art["window"].set_visible(False)
        art["cursor"].set_visible(False)
        _heat(ax["torch"], "torch", art, a["torch_map"], "magma", lo, hi)
        _title(ax["torch"], "torch.nn.functional.conv2d")
        _title(ax["map"], "sliding dot product (numpy)")
        art["sum"].set_text("")
        art["note"].set_text(
            f"largest difference on this map {s['map_gap']:.1e}; over every conv stage of both "
            f"networks and all three images {s['dot_max_abs_diff']:.1e}"
        )


def _bars(ax, probs: np.ndarray, names: str) -> None:
    """fc8's most probable classes as bars, labelled above each."""
    ax.clear()
    _bare(ax)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    rows = np.arange(len(probs))[::-1]  # the most probable on top
    ax.barh(rows, probs, color=PALETTE[0], height=0.6)
    ax.set_xlim(0, 1.0)
    ax.set_ylim(-0.6, len(probs) - 0.1)
    for y, p, label in zip(rows, probs, names.split("|"), strict=True):
        ax.text(0.0, y + 0.36, f"{label}  {p:.0%}", va="bottom", fontsize=SMALL_SIZE - 1)


def _draw_walk(frame: Frame, art: dict) -> None:
    a, t = frame.arrays, frame.text
    reveal = int(a["reveal"][0])
    for i, name in enumerate(PANELS):
        ax = art["walk"][name]
        ax.set_visible(i <= reveal)
        if i > reveal:
            continue
        colour = PALETTE[3] if i == reveal else INK
        if name == "fc8":
            key = (t["fc8_names"], tuple(np.round(a["fc8"], 6)))
            if art.get("fc8_key") != key:  # drawn once per walk
                _bars(ax, a["fc8"], t["fc8_names"])
                art["fc8_key"] = key
        elif name == "input":
            image = a["input"]
            _heat(ax, name, art, image, "gray", 0, 1)
        else:
            _heat(ax, name, art, a[name], "magma", 0, 1)
        _title(ax, t[name], colour)


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas))
    scene = int(frame.scalars["scene"])
    sliding = scene < 2
    for ax in art["slide"].values():
        ax.set_visible(sliding)
    for text in (*art["ops"], art["sum"], art["note"]):
        text.set_visible(sliding)
    for ax in art["walk"].values():
        ax.set_visible(not sliding)
    art["walk_note"].set_visible(not sliding)
    if sliding:
        _draw_slide(frame, art)
    else:
        _draw_walk(frame, art)
