"""An AlexNet-shaped network learns the coloured shapes here, live, and its first layer shows
what it learns first. Each tile on the left is one ``conv1`` kernel, its three input channels
drawn as red, green and blue (scaled per tile, grey is zero). At the start they are small random
noise (He's initialisation scaled down; batch norm after conv1 makes the scale harmless):
neighbouring weights are unrelated (their correlation is {smooth_init:.2f}) and the three colour
channels vary independently. Trained with AdamW on labels that name a colour and a shape (30
classes), the kernels turn into colour detectors: the share of a kernel's energy in one colour
direction (one spatial pattern times one colour, as a colour blob or a coloured edge is) rises
from {colour_init:.0%} to {colour:.0%}, and the correlation between neighbouring weights from
{smooth_init:.2f} to {smooth:.2f} as the tiles smooth out. Colour is learned first: the colour
of nearly every held-out image is right within about a hundred steps, while the shape, which
needs edges and corners combined by the later layers, comes slowly; at the end the network
names colour and shape of {test_accuracy:.0%} of the held-out images ({colour_accuracy:.0%} of
the colours, {shape_accuracy:.0%} of the shapes; chance is 3%). Krizhevsky, Sutskever and
Hinton (2012, figure 3) found colour blobs and oriented edges in AlexNet's first layer after
90 passes over ImageNet; a few hundred steps here show the colour half of that story.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

CAPTIONS = (
    "At the start the first-layer kernels are small random noise",
    "Colour comes first: the kernels take on colours, colour accuracy climbs",
    "The kernels smooth into colour blobs while the shape is learned slowly",
    "Colour solved by the first layer; the shape needs the layers above it",
)
EXAMPLES = 6  # training images shown under the kernels


@experiment(
    name="cnn-training",
    chapter="Inside a CNN",
    title="Training a CNN: its first-layer kernels form from noise into colour detectors",
    order=1,
    seconds=(45, 15),
)
@dataclass
class Config:
    n: int = setting(3000, help="coloured-shape images made (20% held out)", ge=200, le=100_000)
    size: int = setting(32, help="side of the images in pixels", ge=16, le=64)
    epochs: int = setting(8, help="passes over the training images", ge=1, le=1000)
    batch_size: int = setting(32, help="images per step", ge=4, le=1024)
    lr: float = setting(4e-3, help="AdamW's peak learning rate (one-cycle)", gt=0, le=1)
    kernels: int = setting(24, help="conv1 kernels (the tiles)", ge=4, le=64)
    kernel1: int = setting(7, help="side of the conv1 kernels (odd)", ge=3, le=11)
    widths: str = setting("48,64,64,48", help="channels of conv2..conv5, comma-separated")
    fc: str = setting("192,192", help="units of fc6 and fc7, comma-separated")
    init_conv1: float = setting(
        0.1, help="scale of conv1's random initial kernels (He = 1)", gt=0, le=10
    )
    every: int = setting(10, help="training steps between frames", ge=1, le=10_000)
    eval_images: int = setting(
        200, help="held-out (and training) images scored at each frame", ge=50, le=100_000
    )
    seed: int = seed_setting()
    device: Literal["auto", "cpu", "cuda", "mps"] = setting("auto", help="where the net trains")
    QUICK = dict(
        n=1200,
        size=24,
        epochs=8,
        kernels=16,
        widths="24,24,16,16",
        fc="64,64",
        every=8,
        eval_images=120,
    )

    def __post_init__(self) -> None:
        from genailab.vision.config import parse_ints

        parse_ints(self.widths, 4, "widths")
        parse_ints(self.fc, 2, "fc")
        if self.kernel1 % 2 == 0:
            raise ValueError(f"kernel1 must be odd, got {self.kernel1}")
        if self.n * 4 // 5 < self.batch_size:
            raise ValueError(f"n {self.n} leaves fewer training images than batch_size")


QUESTION = "What do the first-layer kernels of a CNN learn, and how soon?"
ANSWER = (
    "Colour detectors, first: energy in one colour {colour_init:.0%} to {colour:.0%}; colour "
    "{colour_accuracy:.0%} right, colour and shape {test_accuracy:.0%}"
)
CLAIMS = (
    Claim("colour_accuracy > 0.95", "the colour of over 95% of held-out images is right"),
    Claim(
        "test_accuracy > 0.2",
        "colour and shape together right for over 20% of held-out images (chance: 3%)",
    ),
    Claim(
        "smooth > smooth_init + 0.15",
        "neighbouring kernel weights go from unrelated to correlated (+0.15)",
    ),
    Claim(
        "colour > colour_init + 0.2",
        "kernels move 20 points of their energy into one colour direction",
    ),
)


# ------------------------------------------------------------------------------- measuring
def training_config(cfg: Config) -> dict[str, Any]:
    """The :class:`~genailab.vision.config.CNNConfig` overrides of the run."""
    return {
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "widths": f"{cfg.kernels},{cfg.widths}",
        "fc": cfg.fc,
        "kernel1": cfg.kernel1,
        "init_conv1": cfg.init_conv1,
        "dropout": 0.0,  # a few hundred steps: regularisation would only slow it
        "augment": False,
        "label_smoothing": 0.0,
        "seed": cfg.seed,
        "eval_train": 0,
    }


def steps_of(cfg: Config) -> int:
    """Training steps of the run: whole batches of the training images, times the epochs."""
    n_test = _held_out(cfg)
    return (cfg.n - n_test) // cfg.batch_size * cfg.epochs


def _held_out(cfg: Config) -> int:
    """Images the stratified 20% split holds out: 20% of each of the 30 classes, rounded."""
    from genailab.vision.shapes import COLOURS, SHAPES

    classes = len(SHAPES) * len(COLOURS)
    counts = cfg.n // classes + (np.arange(classes) < cfg.n % classes)  # make_shapes balances
    return int(np.clip(np.rint(0.2 * counts), 1, counts - 1).sum())


def frame_count(cfg: Config) -> int:
    """The untrained network, then one frame every ``every`` steps."""
    return 1 + steps_of(cfg) // cfg.every


def neighbour_correlation(kernels: np.ndarray) -> float:
    """Mean correlation between horizontally and vertically adjacent weights of each kernel
    channel (each channel centred on its own mean): about 0 for independent random weights,
    near 1 for smooth blobs and broad edges. ``kernels`` (O, C, k, k).

    Examples
    --------
    >>> smooth = np.tile(np.linspace(-1, 1, 5), (2, 3, 5, 1))  # (2, 3, 5, 5) horizontal ramps
    >>> round(neighbour_correlation(smooth), 2)
    0.86
    """
    w = kernels - kernels.mean(axis=(2, 3), keepdims=True)  # (O, C, k, k)
    pairs = [(w[..., :, :-1], w[..., :, 1:]), (w[..., :-1, :], w[..., 1:, :])]
    num = sum((a * b).sum(axis=(2, 3)) for a, b in pairs)  # (O, C)
    den = sum(np.sqrt((a * a).sum(axis=(2, 3)) * (b * b).sum(axis=(2, 3))) for a, b in pairs)
    return float(np.mean(num / np.maximum(den, 1e-12)))


def colour_concentration(kernels: np.ndarray) -> float:
    """Mean share of each kernel's energy in its first singular direction as a (k*k, C) matrix:
    1 when the kernel is one spatial pattern times one colour (a blob, a coloured edge), about
    0.5 for independent random weights over three channels. ``kernels`` (O, C, k, k).

    Examples
    --------
    >>> pattern = np.random.default_rng(0).normal(size=(4, 1, 5, 5))
    >>> round(colour_concentration(pattern * np.array([1.0, -0.5, 0.2])[:, None, None]), 3)
    1.0
    """
    o, c = kernels.shape[:2]
    m = kernels.reshape(o, c, -1).transpose(0, 2, 1)  # (O, k*k, C)
    s = np.linalg.svd(m, compute_uv=False)  # (O, C)
    return float(np.mean(s[:, 0] ** 2 / np.maximum((s**2).sum(1), 1e-24)))


def kernel_tiles(kernels: np.ndarray) -> np.ndarray:
    """Each kernel (O, 3, k, k) as an RGB tile (O, k, k, 3) in [0, 1]: 0.5 is a zero weight,
    each tile scaled by its own largest absolute weight."""
    w = kernels.transpose(0, 2, 3, 1)  # (O, k, k, 3)
    scale = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
    return 0.5 + 0.5 * w / np.maximum(scale, 1e-12)


def _measure(cnn, test, train, n_eval: int) -> dict[str, float]:
    from genailab.vision.training import attribute_accuracies

    k = len(cnn.classes)
    pred = cnn.predict(test.images[:n_eval])
    sub = test.subset(np.arange(min(n_eval, len(test))))
    out = {
        "test_accuracy": float((pred == sub.labels).mean()),
        "train_accuracy": cnn.accuracy(train.images[:n_eval], train.labels[:n_eval]),
        **attribute_accuracies(sub, pred, k),
    }
    w = cnn.model.conv("conv1").weight.detach().cpu().double().numpy()  # (O, 3, k, k)
    out["smooth"] = neighbour_correlation(w)
    out["colour"] = colour_concentration(w)
    out["tiles"] = kernel_tiles(w)
    return out


def frames(cfg: Config) -> Iterator[Frame]:
    import torch

    from genailab.vision.alexnet import AlexNet
    from genailab.vision.datasets import load_dataset, split
    from genailab.vision.trained import TrainedCNN
    from genailab.vision.training import channel_stats, init_weights, make_config, train

    overrides = training_config(cfg)
    data = load_dataset("shapes", n=cfg.n, size=cfg.size, seed=cfg.seed)
    train_set, test_set = split(data, 0.2, cfg.seed)
    # the untrained network: the very weights the run starts from (same seed, same init)
    net_cfg = make_config("shapes", overrides)
    torch.manual_seed(cfg.seed)
    start = AlexNet(**net_cfg.network(3, cfg.size, len(train_set.classes)))
    init_weights(start, cfg.init_conv1)
    mean, std = channel_stats(train_set.images)
    untrained = TrainedCNN(start, train_set.classes, mean, std, "shapes", device=cfg.device)
    points = [(0, _measure(untrained, test_set, train_set, cfg.eval_images))]

    def on_step(step: int, cnn, metrics: dict) -> None:
        points.append((step, _measure(cnn, test_set, train_set, cfg.eval_images)))
        points[-1][1]["loss"] = metrics["loss"]

    train(
        (train_set, test_set),
        config=net_cfg,
        device=cfg.device,
        on_step=on_step,
        step_every=cfg.every,
        progress=False,
    )
    points[0][1]["loss"] = float(np.log(len(train_set.classes)))
    total = steps_of(cfg)
    init = points[0][1]
    curves = {
        key: np.array([p[key] for _, p in points])
        for key in ("test_accuracy", "train_accuracy", "colour_accuracy", "shape_accuracy")
    }
    smooth = np.array([p["smooth"] for _, p in points])
    colour = np.array([p["colour"] for _, p in points])
    steps = np.array([s for s, _ in points])
    stretch = _stretches(steps, curves["colour_accuracy"], total)
    examples = train_set.images[:EXAMPLES]
    for i, (step, p) in enumerate(points):
        scalars = {
            "test_accuracy": p["test_accuracy"],
            "train_accuracy": p["train_accuracy"],
            "colour_accuracy": p["colour_accuracy"],
            "shape_accuracy": p["shape_accuracy"],
            "smooth": p["smooth"],
            "colour": p["colour"],
            "smooth_init": init["smooth"],
            "colour_init": init["colour"],
            "loss": p["loss"],
        }
        yield Frame(
            step=int(step),
            arrays={
                "tiles": p["tiles"],
                "steps": steps[: i + 1],
                **{k: v[: i + 1] for k, v in curves.items()},
                "smooth_curve": smooth[: i + 1],
                "colour_curve": colour[: i + 1],
                "examples": examples if i == 0 else np.zeros((0,)),
            },
            scalars=scalars,
            text={"total": str(total)},
            caption=CAPTIONS[stretch[i]],
            poster=i == len(points) - 1,
        )


def _stretches(steps: np.ndarray, colour_accuracy: np.ndarray, total: int) -> np.ndarray:
    """The caption of each frame: the untrained start (the first tenth of the frames, at least
    the first), colour (until the colour accuracy passes 90%, at least another tenth), the
    smoothing kernels and the slow shape, and the trained network (the last fifth)."""
    n = len(steps)
    first = max(1, n // 10)
    reached = np.flatnonzero(colour_accuracy >= 0.9)
    colour_end = max(first + max(1, n // 10), int(reached[0]) if len(reached) else first)
    last = n - max(1, n // 5)
    colour_end = min(colour_end, last - max(1, n // 10))
    index = np.arange(n)
    return np.select([index < first, index < colour_end, index < last], [0, 1, 2], 3)


# ------------------------------------------------------------------------------- drawing
def _grid(count: int) -> tuple[int, int]:
    """Rows and columns of the kernel mosaic: square-ish, wider than tall."""
    rows = max(1, int(np.sqrt(count)))
    return rows, int(np.ceil(count / rows))


def _mosaic(tiles: np.ndarray, rows: int, cols: int, gap: int = 1) -> np.ndarray:
    """Tiles (O, k, k, 3) side by side on a white sheet, ``gap`` pixels apart."""
    o, k = tiles.shape[:2]
    sheet = np.ones((rows * (k + gap) - gap, cols * (k + gap) - gap, 3))
    for i in range(o):  # a few dozen tiles: a loop over them, not over pixels
        r, c = divmod(i, cols)
        sheet[r * (k + gap) : r * (k + gap) + k, c * (k + gap) : c * (k + gap) + k] = tiles[i]
    return sheet


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    art: dict = {}
    tiles = a["tiles"]
    rows, cols = _grid(len(tiles))
    art["grid"] = (rows, cols)
    ax = fig.add_axes((0.03, 0.25, 0.44, 0.58))
    ax.set_axis_off()
    art["kernels"] = ax.imshow(_mosaic(tiles, rows, cols), interpolation="nearest")
    art["step"] = fig.text(0.03, 0.855, "", fontsize=LABEL_SIZE, color=INK)
    fig.text(
        0.03,
        0.2,
        f"the {len(tiles)} conv1 kernels ({tiles.shape[1]}x{tiles.shape[1]}, RGB; grey = 0) "
        "and training images:",
        fontsize=SMALL_SIZE,
        color=MUTED,
    )
    examples = a["examples"]
    for i, image in enumerate(examples):
        eax = fig.add_axes((0.03 + i * 0.075, 0.05, 0.065, 0.125))
        eax.imshow(image, interpolation="nearest")
        eax.set_axis_off()
    total = int(frame.text["total"])
    acc = fig.add_axes((0.56, 0.49, 0.41, 0.27))
    style_axes(acc)
    acc.set(xlim=(0, total), ylim=(0, 1.02))
    acc.set_ylabel("accuracy")
    names = {
        "test_accuracy": ("held-out: colour and shape", PALETTE[0], 2.2, "-"),
        "train_accuracy": ("training: colour and shape", PALETTE[0], 1.4, "--"),
        "colour_accuracy": ("held-out: colour", PALETTE[3], 1.6, "-"),
        "shape_accuracy": ("held-out: shape", PALETTE[2], 1.6, "-"),
    }
    art["acc"] = {
        key: acc.plot([], [], color=c, lw=lw, ls=ls, label=label)[0]
        for key, (label, c, lw, ls) in names.items()
    }
    acc.axhline(1 / 30, color=MUTED, lw=1, ls=":")
    acc.legend(
        fontsize=SMALL_SIZE, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2
    )
    struct = fig.add_axes((0.56, 0.09, 0.41, 0.27))
    style_axes(struct)
    struct.set(xlim=(0, total), ylim=(0, 1.02), xlabel="training step")
    struct.set_ylabel("kernel structure")
    art["smooth"] = struct.plot([], [], color=PALETTE[4], lw=2, label="neighbour correlation")[0]
    art["colour"] = struct.plot([], [], color=PALETTE[1], lw=2, label="energy share in one colour")[
        0
    ]
    struct.legend(
        fontsize=SMALL_SIZE, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2
    )
    live = [art["kernels"], art["step"], *art["acc"].values(), art["smooth"], art["colour"]]
    freeze_background(fig, live)
    return art


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    art["kernels"].set_data(_mosaic(a["tiles"], *art["grid"]))
    steps = a["steps"]
    for key, line in art["acc"].items():
        line.set_data(steps, a[key])
    art["smooth"].set_data(steps, a["smooth_curve"])
    art["colour"].set_data(steps, a["colour_curve"])
    art["step"].set_text(
        f"step {frame.step}: {s['test_accuracy']:.0%} of held-out images right "
        f"(colour {s['colour_accuracy']:.0%}, shape {s['shape_accuracy']:.0%})"
    )
