"""Gradient descent with no calculus and no learning rate. The landscape is computed once, on a
grid, and stored; the slope at any point is read off that table as the difference between
neighbouring cells. Many random starting points then walk downhill together. In `grid` mode each
step is exactly one grid cell long, so the "learning rate" is simply the mesh size and needs no
tuning (Vincent Granville's observation); in `normalized` mode a longer step is halved each time
it would climb; in `neighbor` mode a point just moves to the neighbouring cell with the steepest
drop, with no derivative at all. Almost every point ends in the local minimum whose basin it
started in: the share of points that settle in each valley is the figure to watch, and it shows
why where you start matters more than how you step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import TabulatedFunction, basin_of, descend
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, PALETTE, PALETTE_RGB, TITLE_SIZE, style_axes

BOUNDS = ((-1.0, 1.0), (-1.0, 1.0))
_MOVING, _SETTLED = (np.array([*_rgb, 255]) / 255 for _rgb in (PALETTE_RGB[1], PALETTE_RGB[2]))


@experiment(
    name="gradient-descent",
    chapter="Granville's data videos",
    title="Gradient descent without a learning rate",
)
@dataclass
class Config:
    points: int = setting(100, help="starting points that walk downhill together", ge=1, le=100_000)
    steps: int = setting(200, help="steps at most; a frame each", ge=1, le=10_000)
    mode: Literal["grid", "normalized", "neighbor"] = setting(
        "grid", help="one grid cell per step, halving longer steps, or the steepest neighbour"
    )
    resolution: int = setting(
        161,
        help="grid cells per axis; the step of 'grid' mode is 2 / (resolution - 1)",
        ge=3,
        le=2001,
    )
    wells: int = setting(5, help="Gaussian wells carved into a shallow bowl", ge=1, le=50)
    seed: int = seed_setting()
    QUICK = dict(points=30, steps=60, resolution=81)


def memory_bytes(cfg: Config) -> int:
    """The trails (every point at every step) and the tabulated grid, in float64."""
    return 8 * (2 * (cfg.steps + 1) * cfg.points + 3 * cfg.resolution**2)


def landscape(wells: int, rng: np.random.Generator):
    """A bowl with ``wells`` Gaussian dips of random place, depth and width: several valleys."""
    centres = rng.uniform(-0.7, 0.7, size=(wells, 2))  # (K, 2)
    depths = rng.uniform(0.5, 1.0, size=wells)  # (K,)
    widths = rng.uniform(0.12, 0.25, size=wells)  # (K,)

    def f(x: np.ndarray) -> np.ndarray:  # (..., 2) -> (...)
        d2 = ((x[..., None, :] - centres) ** 2).sum(-1)  # (..., K)
        return 0.3 * (x**2).sum(-1) - (depths * np.exp(-d2 / (2 * widths**2))).sum(-1)

    return f


def frame_count(cfg: Config) -> int:
    """At most one frame per step, plus the starting positions."""
    return cfg.steps + 1


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    function = TabulatedFunction.tabulate(landscape(cfg.wells, rng), BOUNDS, cfg.resolution)
    minima = function.local_minima()  # (M, 2), deepest first
    starts = rng.uniform(-0.95, 0.95, size=(cfg.points, 2))  # (N, 2)
    # Trails and mean values fill preallocated arrays; each frame holds a view of the rows
    # written so far, which never change afterwards, so frames stay self-contained for free.
    trail = np.empty((cfg.steps + 1, cfg.points, 2))  # (T+1, N, 2)
    mean_values = np.empty(cfg.steps + 1)  # (T+1,)
    grid = {"x": function.axes[0], "y": function.axes[1], "z": function.values}
    for state in descend(function, starts, mode=cfg.mode, max_steps=cfg.steps):
        t = state.step
        trail[t] = state.points
        mean_values[t] = state.values.mean()
        basins = basin_of(function, state.points)  # (N,), -1 when not near a minimum
        settled = ~state.moving
        scalars = {"mean_value": mean_values[t], "settled": settled.mean()}
        for k in range(len(minima)):
            scalars[f"in_minimum_{k + 1}"] = np.mean(settled & (basins == k))
        done = not state.moving.any() or t == cfg.steps
        yield Frame(
            step=t,
            arrays={
                **grid,
                "minima": minima,
                "trail": trail[: t + 1],
                "mean_values": mean_values[: t + 1],
                "settled": settled,
            },
            scalars=scalars,
            text={"mode": cfg.mode},
            poster=done,
        )
        if done:
            return


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection

    fig = canvas.figure
    main = fig.add_axes((0.04, 0.08, 0.52, 0.82))
    curve = fig.add_axes((0.64, 0.56, 0.33, 0.32))
    bars = fig.add_axes((0.64, 0.10, 0.33, 0.30))
    x, y, z = frame.arrays["x"], frame.arrays["y"], frame.arrays["z"]
    main.contourf(x, y, z.T, levels=24, cmap="Blues_r", alpha=0.9)
    main.contour(x, y, z.T, levels=24, colors="white", linewidths=0.4, alpha=0.6)
    minima = frame.arrays["minima"]
    for k, (mx, my) in enumerate(minima):
        main.plot(mx, my, marker="x", color=PALETTE[3], markersize=10, mew=2.5, zorder=4)
        main.annotate(
            str(k + 1),
            (mx, my),
            xytext=(6, 6),
            textcoords="offset points",
            color=PALETTE[3],
            fontsize=12,
            weight="bold",
            zorder=4,
        )
    main.set(xlim=(x[0], x[-1]), ylim=(y[0], y[-1]), xticks=[], yticks=[], aspect="equal")
    trails = LineCollection([], colors=PALETTE[1], linewidths=0.9, alpha=0.8)
    main.add_collection(trails)
    dots = main.scatter([], [], s=16, color=PALETTE[1], edgecolor="black", linewidth=0.4, zorder=3)
    title = fig.text(0.04, 0.93, "", fontsize=TITLE_SIZE, color=INK)
    style_axes(curve)
    (line,) = curve.plot([], [], color=PALETTE[0], lw=2)
    curve.set_title("mean value of the points", fontsize=11, color=INK, loc="left")
    curve.set_xlabel("step")
    style_axes(bars)
    labels = [str(k + 1) for k in range(len(minima))]
    bar_set = bars.bar(labels, np.zeros(len(minima)), color=PALETTE[2])
    bars.set_ylim(0, 1)
    bars.set_title("share of points settled in each minimum", fontsize=11, color=INK, loc="left")
    bars.set_xlabel("minimum (1 = deepest)")
    return {
        "trails": trails,
        "dots": dots,
        "title": title,
        "line": line,
        "curve": curve,
        "bars": bar_set,
    }


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    trail = frame.arrays["trail"]  # (t+1, N, 2)
    segments = np.stack([trail[:-1], trail[1:]], axis=2).reshape(-1, 2, 2)  # (t*N, 2, 2)
    art["trails"].set_segments(segments)
    art["dots"].set_offsets(trail[-1])
    settled = frame.arrays["settled"]
    art["dots"].set_facecolor(np.where(settled[:, None], _SETTLED, _MOVING))  # (N, 4)
    mode = frame.text["mode"]
    art["title"].set_text(
        f"Gradient descent, mode '{mode}': step {frame.step}, "
        f"{frame.scalars['settled']:.0%} of points settled"
    )
    values = frame.arrays["mean_values"]
    art["line"].set_data(np.arange(len(values)), values)
    curve = art["curve"]
    curve.set_xlim(0, max(10, len(values) - 1))
    low, high = values.min(), values.max()
    pad = 0.05 * (high - low) + 1e-9
    curve.set_ylim(low - pad, high + pad)
    shares = [v for k, v in frame.scalars.items() if k.startswith("in_minimum_")]
    for bar, share in zip(art["bars"], shares, strict=True):
        bar.set_height(share)
