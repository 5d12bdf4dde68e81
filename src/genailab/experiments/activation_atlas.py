"""An activation atlas (Carter et al. 2019) of the chapter's trained network. Every spatial
position of its last conv stage in a test image is a patch: the stage's channel vector there,
a description of what that part of the image looked like to the network. Here
{patches:,.0f} patches are laid out in the plane by UMAP (left) and, for comparison, by their
first two principal components (PCA, right), each dot coloured by the digit its image shows.
UMAP keeps neighbours together: the 5 nearest neighbours of a point on its map were near it in
the stage's space too, a trustworthiness of {trust_umap:.2f} against PCA's {trust_pca:.2f}. A
grid is then put over each map, the vectors in each cell are averaged, and cells with too few
points are dropped. UMAP's cells are purer: {purity_umap:.0%} of a kept cell's patches share
its majority digit, against {purity_pca:.0%} for PCA's cells and {purity_chance:.0%} if the
digits were spread at random. Finally each kept cell's mean activation is made visible: an
image is optimised (feature visualisation) until the stage's response points along that mean,
and the {cells:.0f} images, put back where their cells are, form the atlas: neighbouring
tiles show neighbouring strokes and textures.
"""

from __future__ import annotations

import time
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

K_TRUST = 5  # neighbours of the trustworthiness


@experiment(
    name="activation-atlas",
    chapter="Inside a CNN",
    order=6,
    title="An activation atlas: image patches laid out on one map",
    seconds=(45, 13),
)
@dataclass
class Config:
    data: Literal["mnist", "shapes"] = setting(
        "mnist", help="the pretrained network and its test images (labels: its classes)"
    )
    network: Literal["quick", "full"] = setting(
        "full", help="which shared pretrained network (pretrained(data, network))"
    )
    stage: Literal["conv2", "conv3", "conv4", "conv5"] = setting(
        "conv5", help="the conv stage whose positions are the patches"
    )
    images: int = setting(1000, help="test images whose positions are collected", ge=10, le=5000)
    patches: int = setting(2000, help="patches kept (drawn at random)", ge=50, le=4000)
    grid: int = setting(12, help="grid cells per side of the layout", ge=2, le=40)
    min_count: int = setting(5, help="cells with fewer patches are dropped", ge=1, le=1000)
    neighbours: int = setting(15, help="UMAP's n_neighbors", ge=2, le=200)
    epochs: int = setting(
        0, help="UMAP's optimisation epochs (0: umap-learn's default, 500 below 10k)", ge=0, le=5000
    )
    steps: int = setting(128, help="feature-visualisation steps of the tiles", ge=8, le=2048)
    reveal: int = setting(12, help="frames in which the patches appear", ge=2, le=100)
    snapshots: int = setting(8, help="frames of the tiles forming", ge=2, le=64)
    device: Literal["auto", "cpu", "cuda", "mps"] = setting(
        "auto", help="torch device of the network and the tiles"
    )
    seed: int = seed_setting()
    QUICK = dict(
        network="quick",
        epochs=200,
        images=200,
        patches=600,
        grid=8,
        min_count=4,
        steps=24,
        reveal=5,
        snapshots=4,
    )

    def __post_init__(self) -> None:
        if self.steps < self.snapshots:
            raise ValueError(f"steps must be >= snapshots={self.snapshots}, got {self.steps}")


QUESTION = (
    "Laid out by UMAP, do the activations of thousands of image patches form a map whose "
    "regions mean something, more than a PCA projection does?"
)
ANSWER = (
    "Yes: trustworthiness {trust_umap:.2f} against PCA's {trust_pca:.2f}; cells "
    "{purity_umap:.0%} pure against {purity_pca:.0%} (chance {purity_chance:.0%})"
)
CLAIMS = (
    Claim(
        "trust_umap >= trust_pca + 0.1",
        "UMAP's map keeps neighbours: trustworthiness 0.1 above PCA's",
    ),
    Claim(
        "purity_umap >= 1.3 * purity_pca",
        "UMAP's grid cells are purer in label than PCA's, by 30% or more",
    ),
    Claim(
        "purity_umap >= 2 * purity_chance",
        "UMAP's cells are at least twice as pure as labels at random",
    ),
)

GRID_FRAMES = 3  # frames of each of the two grid stretches
HOLD_FRAMES = 3  # frames of the finished atlas


def frame_count(cfg: Config) -> int:
    """The patches appearing, the grid (cells kept, then their purity), the tiles forming,
    the finished atlas."""
    return cfg.reveal + 2 * GRID_FRAMES + cfg.snapshots + HOLD_FRAMES


def caption(part: str, cfg: Config) -> str:
    """The message of each stretch."""
    return {
        "reveal": f"Each dot: {cfg.stage}'s vector at one position of one image, laid out in 2-D",
        "cells": f"A grid over each map; cells with under {cfg.min_count} patches are dropped",
        "purity": "Each kept cell in its majority label's colour: UMAP's cells are purer",
        "tiles": "Each cell's mean activation, made visible by feature visualisation",
        "atlas": "The atlas: neighbouring cells show neighbouring features",
    }[part]


def _mosaic(
    tiles: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int, frame: np.ndarray
) -> np.ndarray:
    """Tiles (K, T, T, C) put at their cells of a ``size`` x ``size`` grid, row 0 at the
    bottom, on white, each in a 2-pixel frame of colour ``frame`` (K, 3) (its cell's majority
    label): (size (T + 4), size (T + 4), 3) in [0, 1]."""
    T = tiles.shape[1]
    rgb = np.broadcast_to(tiles, (*tiles.shape[:3], 3)) if tiles.shape[3] == 1 else tiles
    framed = np.broadcast_to(frame[:, None, None, :], (len(tiles), T + 4, T + 4, 3)).copy()
    framed[:, 2:-2, 2:-2] = rgb  # (K, T + 4, T + 4, 3)
    S = T + 4
    out = np.ones((size, size, S, S, 3), np.float32)
    out[size - 1 - rows, cols] = framed
    return out.transpose(0, 2, 1, 3, 4).reshape(size * S, size * S, 3)


def _cell_map(grid, size: int, n_labels: int, show_purity: bool) -> np.ndarray:
    """The grid as an RGBA image (size, size, 4), row 0 at the bottom: dropped cells light
    grey, kept ones pale, or (``show_purity``) in their majority label's colour with the
    opacity of their purity."""
    from matplotlib import colors as mcolors

    out = np.zeros((size * size, 4), np.float32)
    occupied = grid.counts > 0
    out[occupied] = (0.85, 0.85, 0.85, 0.6)
    if show_purity:
        palette = np.array([mcolors.to_rgb(c) for c in _label_colours(n_labels)])
        out[grid.kept, :3] = palette[grid.majority]
        out[grid.kept, 3] = 0.15 + 0.8 * grid.cell_purity
    else:
        out[grid.kept] = (0.55, 0.75, 0.95, 0.55)
    return out.reshape(size, size, 4)[::-1]


def _label_colours(n: int) -> list[str]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def frames(cfg: Config) -> Iterator[Frame]:
    from genailab.vision import atlas as A
    from genailab.vision import objectives
    from genailab.vision.feature_vis import visualize
    from genailab.vision.pretrained import pretrained

    cnn, train_set, test_set = pretrained(cfg.data, cfg.network, device=cfg.device)
    labels_all, classes = test_set.labels, tuple(test_set.classes)
    n = min(cfg.images, len(test_set.images))
    # the test sets are ordered by label: a seeded draw of the images, not the first n
    chosen = np.sort(np.random.default_rng(cfg.seed).permutation(len(test_set.images))[:n])
    t0 = time.perf_counter()
    patches = A.collect_patches(
        cnn,
        test_set.images[chosen],
        labels_all[chosen],
        cfg.stage,
        max_patches=cfg.patches,
        seed=cfg.seed,
    )
    X, labels = patches.vectors, patches.labels  # (P, C), (P,)
    t_umap = time.perf_counter()
    Y_umap = A.umap_layout(
        X, n_neighbors=cfg.neighbours, n_epochs=cfg.epochs or None, seed=cfg.seed
    )  # (P, 2)
    t_umap = time.perf_counter() - t_umap
    Y_pca = A.pca_layout(X)  # (P, 2)
    grid = A.grid_cells(Y_umap, X, labels, cfg.grid, cfg.min_count)
    pca_grid = A.grid_cells(Y_pca, X, labels, cfg.grid, cfg.min_count)
    layout_s = time.perf_counter() - t0
    P = len(X)
    order = np.random.default_rng(cfg.seed).permutation(P)  # the order the dots appear in
    shown_counts = np.unique(
        np.geomspace(max(4 * K_TRUST, P // 40), P, cfg.reveal).round().astype(int)
    )
    shown_counts = np.resize(shown_counts, cfg.reveal)  # exactly `reveal` frames
    shown_counts.sort()
    shown_counts[-1] = P
    final = {
        "patches": float(P),
        "cells": float(len(grid.kept)),
        "cells_pca": float(len(pca_grid.kept)),
        "purity_umap": grid.purity,
        "purity_pca": pca_grid.purity,
        "purity_chance": A.chance_purity(labels, grid),
        "kept_share": grid.kept_points / P,
        "umap_s": t_umap,
    }
    static = {
        "umap": Y_umap,
        "pca": Y_pca,
        "labels": labels,
        "order": order,
    }
    text = {"classes": "\t".join(classes), "stage": cfg.stage, "data": cfg.data}

    step = 0
    for shown in shown_counts:
        idx = order[:shown]
        trust_u = A.trustworthiness(X[idx], Y_umap[idx], K_TRUST)
        trust_p = A.trustworthiness(X[idx], Y_pca[idx], K_TRUST)
        yield Frame(
            step=step,
            arrays={**static},
            scalars={"shown": float(shown), "trust_umap": trust_u, "trust_pca": trust_p},
            text={**text, "part": "reveal"},
            caption=caption("reveal", cfg),
        )
        step += 1
    trust = {"trust_umap": trust_u, "trust_pca": trust_p, "shown": float(P)}
    grids = {
        "cells_umap": _cell_map(grid, cfg.grid, len(classes), False),
        "cells_pca": _cell_map(pca_grid, cfg.grid, len(classes), False),
        "extent_umap": np.r_[grid.lo[0], grid.hi[0], grid.lo[1], grid.hi[1]],
        "extent_pca": np.r_[pca_grid.lo[0], pca_grid.hi[0], pca_grid.lo[1], pca_grid.hi[1]],
    }
    for part in ("cells", "purity"):
        if part == "purity":
            grids["cells_umap"] = _cell_map(grid, cfg.grid, len(classes), True)
            grids["cells_pca"] = _cell_map(pca_grid, cfg.grid, len(classes), True)
        for _ in range(GRID_FRAMES):
            yield Frame(
                step=step,
                arrays={**static, **grids},
                scalars={**trust, **final},
                text={**text, "part": part},
                caption=caption(part, cfg),
            )
            step += 1

    t = time.perf_counter()
    objective = objectives.direction(cfg.stage, grid.means, cossim_pow=1.0)
    every = max(1, cfg.steps // cfg.snapshots)
    result = visualize(
        cnn,
        objective,
        steps=cfg.steps,
        batch=len(grid.means),
        seed=cfg.seed,
        device=cfg.device,
        every=every,
        colours=train_set.images[:500],
    )
    tiles_s = time.perf_counter() - t
    shots = [images for _, images in result.snapshots]
    from matplotlib import colors as mcolors

    palette = np.array([mcolors.to_rgb(c) for c in _label_colours(len(classes))])
    frame_colours = palette[grid.majority]  # (K, 3)
    picks = np.linspace(1, len(shots) - 1, cfg.snapshots).round().astype(int)
    final = {**final, "tiles_s": tiles_s, "build_s": layout_s + tiles_s}
    for j, pick in enumerate(picks):
        last = j == len(picks) - 1
        images = result.images if last else shots[pick]
        yield Frame(
            step=step,
            arrays={
                **static,
                **grids,
                "mosaic": _mosaic(images, grid.rows, grid.cols, cfg.grid, frame_colours),
            },
            scalars={**trust, **final, "vis_step": float(result.snapshots[pick][0])},
            text={**text, "part": "tiles"},
            caption=caption("tiles", cfg),
        )
        step += 1
    mosaic = _mosaic(result.images, grid.rows, grid.cols, cfg.grid, frame_colours)
    for j in range(HOLD_FRAMES):
        yield Frame(
            step=step,
            arrays={**static, **grids, "mosaic": mosaic},
            scalars={**trust, **final, "vis_step": float(cfg.steps)},
            text={**text, "part": "atlas"},
            caption=caption("atlas", cfg),
            poster=j == HOLD_FRAMES - 1,
        )
        step += 1


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    classes = frame.text["classes"].split("\t")
    colours = np.array(_label_colours(len(classes)))
    left = fig.add_axes((0.03, 0.05, 0.44, 0.78))
    right = fig.add_axes((0.52, 0.38, 0.27, 0.45))
    bars = fig.add_axes((0.60, 0.07, 0.37, 0.22))
    art: dict = {"left": left, "right": right, "colours": colours}
    for ax, key, name in ((left, "umap", "UMAP"), (right, "pca", "PCA")):
        Y = a[key]
        pad = 0.04 * (Y.max(0) - Y.min(0))
        ax.set(xlim=(Y[:, 0].min() - pad[0], Y[:, 0].max() + pad[0]))
        ax.set(ylim=(Y[:, 1].min() - pad[1], Y[:, 1].max() + pad[1]), xticks=[], yticks=[])
        for side in ax.spines.values():
            side.set_color(MUTED)
        art[key] = ax.scatter([], [], s=7 if key == "umap" else 4, linewidth=0, zorder=2)
        art[key + "_cells"] = ax.imshow(
            np.zeros((2, 2, 4)),
            extent=(0, 1, 0, 1),
            origin="upper",
            zorder=3,
            interpolation="nearest",
            aspect="auto",
        )
        art[key + "_title"] = ax.set_title(name, fontsize=LABEL_SIZE, color=INK, loc="left")
    art["mosaic"] = left.imshow(
        np.ones((2, 2, 3)),
        extent=left.get_xlim() + left.get_ylim(),
        zorder=4,
        interpolation="nearest",
        aspect="auto",
        visible=False,
    )
    # the label legend, beside the PCA map
    if len(classes) <= 12:
        handles = [
            right.scatter([], [], s=25, color=colours[i], label=name[:14])
            for i, name in enumerate(classes)
        ]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.805, 0.84),
            fontsize=SMALL_SIZE,
            frameon=False,
            handletextpad=0.2,
            title="label",
            title_fontsize=SMALL_SIZE,
        )
    else:  # too many to list: say so
        fig.text(
            0.81,
            0.80,
            f"{len(classes)} labels,\none colour each",
            fontsize=SMALL_SIZE,
            color=MUTED,
            va="top",
        )
    style_axes(bars)
    bars.set_xlim(0, 1)
    bars.set_yticks([0, 1], ["trustworthiness", "cell purity"], fontsize=SMALL_SIZE)
    bars.tick_params(axis="x", labelsize=SMALL_SIZE)
    h = 0.36
    art["bar_trust"] = bars.barh([0 - h / 2, 0 + h / 2], [0, 0], h, color=[PALETTE[0], MUTED])
    art["bar_purity"] = bars.barh([1 - h / 2, 1 + h / 2], [0, 0], h, color=[PALETTE[0], MUTED])
    art["chance"] = bars.plot([], [], "|", color=PALETTE[3], ms=16, mew=2)[0]
    bars.invert_yaxis()
    art["bar_text"] = [
        bars.text(0, y, "", va="center", fontsize=SMALL_SIZE, color=INK)
        for y in (-h / 2, h / 2, 1 - h / 2, 1 + h / 2)
    ]
    fig.text(
        0.60,
        0.31,
        "UMAP (blue) against PCA (grey); red tick: chance purity",
        fontsize=SMALL_SIZE,
        color=MUTED,
    )
    art["status"] = fig.text(0.03, 0.845, "", fontsize=LABEL_SIZE, color=INK)
    return art


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s, part = frame.arrays, frame.scalars, frame.text["part"]
    shown = int(s["shown"])
    idx = a["order"][:shown]
    colours = art["colours"][a["labels"][idx]]
    for key in ("umap", "pca"):
        art[key].set_offsets(a[key][idx])
        art[key].set_color(colours)
        art[key].set_alpha(0.8 if part == "reveal" else 0.35)
        cells = art[key + "_cells"]
        if part == "reveal":
            cells.set_visible(False)
        else:
            lo_x, hi_x, lo_y, hi_y = a["extent_" + key]
            cells.set_data(a["cells_" + key])
            cells.set_extent((lo_x, hi_x, lo_y, hi_y))
            cells.set_visible(True)
    mosaic = art["mosaic"]
    if "mosaic" in a:
        lo_x, hi_x, lo_y, hi_y = a["extent_umap"]
        mosaic.set_data(a["mosaic"])
        mosaic.set_extent((lo_x, hi_x, lo_y, hi_y))
        mosaic.set_visible(True)
        art["umap_cells"].set_visible(False)
        art["umap"].set_visible(False)
    else:
        mosaic.set_visible(False)
        art["umap"].set_visible(True)
    stage, n_cells = frame.text["stage"], s.get("cells", 0)
    art["umap_title"].set_text("")
    art["pca_title"].set_text("PCA, the first two components")
    status = {
        "reveal": f"UMAP of {stage} on {frame.text['data']}: {shown:,} patches so far",
        "cells": f"{s.get('cells', 0):.0f} cells kept on UMAP's map, {s.get('cells_pca', 0):.0f}"
        " on PCA's",
        "purity": "colour: majority label; opacity: its share of the cell",
        "tiles": f"feature visualisation, step {s.get('vis_step', 0):.0f}",
        "atlas": f"the atlas: {n_cells:.0f} tiles, framed in their cell's majority label",
    }[part]
    art["status"].set_text(status)
    values = [s["trust_umap"], s["trust_pca"]]
    purity = [s.get("purity_umap", 0.0), s.get("purity_pca", 0.0)] if part != "reveal" else [0, 0]
    for bar, v in zip(art["bar_trust"], values, strict=True):
        bar.set_width(v)
    for bar, v in zip(art["bar_purity"], purity, strict=True):
        bar.set_width(v)
    texts = [*values, *purity]
    for label, v in zip(art["bar_text"], texts, strict=True):
        label.set_text(f"{v:.2f}" if v else "")
        label.set_x(v + 0.01)
    if part != "reveal":
        art["chance"].set_data([s["purity_chance"]], [1.0])
    else:
        art["chance"].set_data([], [])
