"""Classification with no model at all, only an image filter. The labelled training points of
three overlapping Gaussian clouds are painted on a bitmap, one colour per class; every other
pixel starts blank (grey). Then a filter runs over the whole image, pass after pass, as a GPU
would: each blank or contested pixel takes the colour that is most common in the small square
around it (Vincent Granville's "GPU classification", from his book *Synthetic Data and
Generative AI*). The colours grow out of the training points until the image is full (here
after {fill_pass:.0f} passes), then the borders between classes wobble and settle; the run stops
when a pass changes no pixel (here pass {passes:.0f}), and the video holds the settled bitmap.
A new point is classified by the colour of its pixel. Watch the test accuracy climb to
{test_accuracy:.1%}, against {bayes_accuracy:.1%} for the Bayes-optimal rule, the best any
classifier can do on this mixture, computed from the true densities (its borders are the dashed
lines).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.device import DeviceUnavailableError, resolve_device
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import BitmapClassifier
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, PALETTE_RGB, style_axes

# The known mixture: three Gaussian classes with these priors, means and covariances.
PRIORS = np.array([0.5, 0.3, 0.2])
MEANS = np.array([[0.0, 0.0], [2.0, 1.0], [0.5, 2.5]])
COVS = np.array([[[1.0, 0.3], [0.3, 0.8]], [[0.6, -0.2], [-0.2, 1.0]], [[1.2, 0.0], [0.0, 0.5]]])
UNCLASSIFIED_RGB = (232, 232, 228)  # a pale neutral for the blank pixels


@experiment(
    name="bitmap-classification",
    chapter="Granville's data videos",
    title="Classification by a bitmap that fills itself in",
    seconds=(40, 15),
)
@dataclass
class Config:
    train: int = setting(600, help="training points painted on the bitmap", ge=10, le=1_000_000)
    test: int = setting(
        5000, help="test points the accuracy curve is measured on", ge=1, le=1_000_000
    )
    resolution: int = setting(240, help="pixels per axis of the bitmap", ge=8, le=4000)
    window: int = setting(
        2, help="half-width w, in pixels, of the (2w+1) x (2w+1) filter window", ge=1, le=50
    )
    mode: Literal["majority", "random-neighbor"] = setting(
        "majority", help="a pixel takes its window's most common class, or a random neighbour's"
    )
    max_passes: int = setting(400, help="filter passes at most", ge=1, le=10_000)
    shown: int = setting(
        75,
        help="frames of the video: each pass once, then the settled bitmap held to the end "
        "(a run of more passes is sampled evenly)",
        ge=2,
        le=10_000,
    )
    device: Literal["cpu", "auto", "cuda", "mps"] = setting(
        "cpu", help="torch device; cpu (the default) gives the same frames on every machine"
    )
    seed: int = seed_setting()
    QUICK = dict(train=300, test=2000, resolution=120, shown=30)

    def __post_init__(self) -> None:
        try:  # a device this machine lacks is refused before the run starts
            resolve_device(self.device)
        except DeviceUnavailableError as err:
            raise ValueError(str(err)) from None


QUESTION = (
    "Can an image filter that only copies its neighbours' colours classify points nearly as "
    "well as the best possible rule?"
)
ANSWER = (
    "After {passes:.0f} passes no pixel changes: test accuracy {test_accuracy:.1%}, against "
    "{bayes_accuracy:.1%} for the Bayes-optimal rule, the best possible"
)
CLAIMS = (
    Claim(
        "gap_to_bayes < 0.05",
        "the filled bitmap ends within 5 points of the Bayes-optimal accuracy",
    ),
    Claim(
        "classified_share == 1 and changed_pixels == 0",
        "the filter stops by itself: every pixel has a class and a pass changes none",
    ),
)


def caption(share: float, last: bool, converged: bool, majority: bool, first: bool) -> str:
    """The message of the stretch a frame falls in: the painted points, the filling, the
    wobbling borders, and how the run ended (``last``: the run's final pass, or a hold of it)."""
    if first:
        return "Only the pixels under the training points start with a class"
    if last and converged and majority:
        return "No pixel changes any more: the borders have settled near the Bayes-optimal ones"
    if last and converged:
        return "Every pixel has a class; random copying never settles, so the filter stops here"
    if last:
        return "The pass limit stopped the filter before the borders settled"
    if share < 1:
        return (
            "Each pass, a pixel takes the most common colour in the square around it"
            if majority
            else "Each pass, a blank pixel copies the colour of a random neighbour"
        )
    return "Every pixel has a class; the borders between the classes wobble and settle"


def shown_passes(bitmaps: int, shown: int) -> list[int]:
    """The pass each of the ``shown`` frames shows, of a run that made ``bitmaps`` bitmaps
    (pass 0 and one per pass): each once and the last held, or an even sample that keeps the
    first and the last.

    Examples
    --------
    >>> shown_passes(3, 5), shown_passes(9, 5)
    ([0, 1, 2, 2, 2], [0, 2, 4, 6, 8])
    """
    if bitmaps <= shown:
        return [*range(bitmaps)] + [bitmaps - 1] * (shown - bitmaps)
    return np.round(np.linspace(0, bitmaps - 1, shown)).astype(int).tolist()


def frame_count(cfg: Config) -> int:
    """``shown``, however many passes the filter makes (the passes are fitted to it)."""
    return cfg.shown


def memory_bytes(cfg: Config) -> int:
    """The peak bytes of the frames. Every pass's bitmap is kept (int8, a byte a pixel, at most
    ``max_passes + 1`` of them) until the Bayes-optimal map of the pixels is computed in float64
    (about 160 bytes a pixel at once); the passes' own torch tensors (about 70 bytes a pixel)
    are freed by then. Beside them the points: 32 bytes each, and 160 a test point while the
    Bayes rule scores them, before any bitmap exists."""
    pixels = cfg.resolution**2
    return 32 * (cfg.train + cfg.test) + max(160 * cfg.test, pixels * (cfg.max_passes + 161))


def sample_mixture(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the known mixture and their classes (0, 1, 2)."""
    y = rng.choice(len(PRIORS), size=n, p=PRIORS)  # (n,)
    z = rng.standard_normal((n, 2))  # (n, 2)
    X = MEANS[y] + np.einsum("nij,nj->ni", np.linalg.cholesky(COVS)[y], z)  # (n, 2)
    return X, y


def bayes_rule(X: np.ndarray) -> np.ndarray:
    """The Bayes-optimal class: the arg-max of log prior + log Gaussian density."""
    diff = X[:, None, :] - MEANS  # (n, C, 2)
    inv = np.linalg.inv(COVS)  # (C, 2, 2)
    mahalanobis = np.einsum("nci,cij,ncj->nc", diff, inv, diff)  # (n, C)
    log_det = np.linalg.slogdet(COVS)[1]  # (C,)
    return np.argmax(np.log(PRIORS) - 0.5 * (mahalanobis + log_det), axis=1)  # (n,)


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    X, y = sample_mixture(cfg.train, rng)
    X_test, y_test = sample_mixture(cfg.test, rng)
    bayes_accuracy = float(np.mean(bayes_rule(X_test) == y_test))
    clf = BitmapClassifier(
        resolution=cfg.resolution,
        window=cfg.window,
        mode=cfg.mode,
        max_passes=cfg.max_passes,
        device=cfg.device,  # cpu by default: in random-neighbor mode cuda draws other numbers
        random_state=cfg.seed,
    )
    # Run every pass first, so that the curves' axes can be fixed over the whole video.
    bitmaps, accuracy = [], []
    for bitmap in clf.iter_passes(X, y):
        if not bitmaps:
            row, col = clf.pixel_of(X_test)  # (n_test,) each; the grid exists from pass 0
        bitmaps.append(bitmap.astype(np.int8))  # (ry, rx), -1 = unclassified
        accuracy.append(np.mean(bitmap[row, col] == y_test))  # unclassified points count wrong
    n = len(bitmaps)
    accuracy = np.asarray(accuracy)  # (n,)
    changed = np.concatenate([[np.nan], clf.changed_])  # (n,) pixels changed by each pass
    classified = np.array([np.mean(b >= 0) for b in bitmaps])  # (n,)
    x0, x1, y0, y1 = clf.extent_
    rx, ry = clf.resolution_
    gx, gy = np.meshgrid(
        x0 + (np.arange(rx) + 0.5) * (x1 - x0) / rx, y0 + (np.arange(ry) + 0.5) * (y1 - y0) / ry
    )
    bayes_map = bayes_rule(np.column_stack([gx.ravel(), gy.ravel()])).reshape(ry, rx)
    fixed = {
        "X": X,
        "y": y,
        "extent": np.array(clf.extent_),
        "bayes_map": bayes_map,
        "n_passes": np.array(n - 1),
        "changed_max": np.array(np.nanmax(changed, initial=0.0)),
    }
    full = np.flatnonzero(classified >= 1)
    fill_pass = int(full[0]) if full.size else -1  # the first pass with every pixel classified
    majority = cfg.mode == "majority"
    for t, k in enumerate(shown_passes(n, cfg.shown)):
        last = k == n - 1
        yield Frame(
            step=t,
            arrays={
                **fixed,
                "bitmap": bitmaps[k],
                "classified": classified[: k + 1],
                "changed": changed[: k + 1],
                "accuracy": accuracy[: k + 1],
            },
            scalars={
                "pass": k,
                "passes": n - 1,
                "fill_pass": fill_pass,
                "classified_share": classified[k],
                "changed_pixels": 0 if k == 0 else int(changed[k]),
                "test_accuracy": accuracy[k],
                "bayes_accuracy": bayes_accuracy,
                "gap_to_bayes": bayes_accuracy - accuracy[k],
            },
            text={"mode": cfg.mode, "last": str(last), "converged": str(clf.converged_)},
            caption=caption(classified[k], last, clf.converged_, majority, first=k == 0),
        )


# ------------------------------------------------------------------------------- drawing
def _pixel_colours(n_classes: int) -> np.ndarray:
    """RGB rows for labels -1, 0, 1, ...: pale neutral, then each class washed towards white."""
    washed = [0.45 * np.array(rgb) + 0.55 * 255 for rgb in PALETTE_RGB[:n_classes]]
    return np.array([UNCLASSIFIED_RGB, *washed]) / 255  # (C+1, 3)


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    extent = tuple(a["extent"])
    n_classes = int(a["y"].max()) + 1
    n_passes = int(a["n_passes"])
    main = fig.add_axes((0.04, 0.05, 0.50, 0.76))  # under the readout, itself under the band
    image = main.imshow(
        np.zeros((*a["bitmap"].shape, 3)),
        origin="lower",
        extent=extent,
        aspect="auto",
        interpolation="nearest",
    )
    main.contour(
        a["bayes_map"],
        levels=np.arange(n_classes - 1) + 0.5,
        origin="lower",
        extent=extent,
        colors=INK,
        linestyles="--",
        linewidths=1.0,
    )
    colours = [PALETTE[int(k)] for k in a["y"]]
    main.scatter(*a["X"].T, s=7, c=colours, edgecolors="black", linewidths=0.25, zorder=3)
    main.set(xlim=extent[:2], ylim=extent[2:], xticks=[], yticks=[])
    title = fig.text(0.04, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    subtitle = fig.text(0.04, 0.835, "", fontsize=11, color=MUTED)
    panels = [fig.add_axes((0.63, y, 0.34, 0.17)) for y in (0.63, 0.36, 0.09)]
    curves = []
    names = (
        "share of pixels classified",
        "pixels changed by the pass (log scale)",
        "test accuracy",
    )
    for ax, name in zip(panels, names, strict=True):
        style_axes(ax)
        ax.set_title(name, fontsize=11, color=INK, loc="left")
        ax.set_xlim(0, max(n_passes, 1))
        (line,) = ax.plot([], [], color=PALETTE[0], lw=2)
        curves.append(line)
    panels[0].set_ylim(0, 1.05)
    # symlog: linear near 0, logarithmic above, so the long tail of a few flips stays visible
    panels[1].set_yscale("symlog", linthresh=1)
    panels[1].set_ylim(0, max(10, 2 * float(a["changed_max"])))
    panels[2].set_xlabel("pass")
    bayes = frame.scalars["bayes_accuracy"]
    panels[2].axhline(bayes, color=INK, ls="--", lw=1)
    panels[2].text(0, bayes, "  Bayes-optimal", color=INK, fontsize=9, va="bottom")
    panels[2].set_ylim(0, 1)
    markers = [
        ax.text(0.98, y, "", transform=ax.transAxes, ha="right", va=va, color=INK)
        for ax, y, va in ((panels[1], 0.9, "top"), (panels[2], 0.08, "bottom"))
    ]
    return {
        "image": image,
        "colours": _pixel_colours(n_classes),
        "title": title,
        "curves": curves,
        "markers": markers,
        "subtitle": subtitle,
    }


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    art["image"].set_data(art["colours"][a["bitmap"].astype(np.int64) + 1])  # (ry, rx, 3)
    passes = np.arange(len(a["accuracy"]))
    for line, key in zip(art["curves"], ("classified", "changed", "accuracy"), strict=True):
        line.set_data(passes, a[key])
    art["markers"][0].set_text(f"{int(s['changed_pixels']):,} this pass")
    art["markers"][1].set_text(f"{s['test_accuracy']:.1%} now")
    last, converged = frame.text["last"] == "True", frame.text["converged"] == "True"
    majority = frame.text["mode"] == "majority"
    k = int(s["pass"])  # the pass shown (the held frames repeat the last)
    if k == 0:
        head = "Pass 0: only the pixels under training points have a class"
    elif last and majority and converged:
        head = f"Pass {k}: no pixel changed, the borders stopped moving"
    elif last and converged:
        head = f"Pass {k}: every pixel classified (random copying never settles)"
    elif last:
        head = f"Pass {k}: stopped before the borders settled"
    elif s["classified_share"] < 1:
        head = f"Pass {k}: {s['classified_share']:.0%} of pixels classified"
    else:
        changed = int(s["changed_pixels"])
        head = f"Pass {k}: every pixel classified, {changed:,} still flipping at borders"
    art["title"].set_text(head)
    art["subtitle"].set_text(
        f"test accuracy {s['test_accuracy']:.1%}, Bayes-optimal {s['bayes_accuracy']:.1%}"
        " (dashed borders)"
    )
