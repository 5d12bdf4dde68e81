"""Gradient descent with no calculus and no learning rate. The landscape is computed once, on a
grid, and stored; the slope at any point is read off that table as the difference between
neighbouring cells. Many random starting points then walk downhill together. In `grid` mode each
step is exactly one grid cell long, so the "learning rate" is simply the mesh size and needs no
tuning (Vincent Granville's observation); in `normalized` mode a longer step is halved each time
it would climb; in `neighbor` mode a point just moves to the neighbouring cell with the steepest
drop, with no derivative at all. Almost every point ends in the local minimum whose basin it
started in: in the run shown, {at_minimum:.0%} of the points came to rest at a local minimum,
and the two other step rules, run from the same starts, sent {same_valley:.0%} of them to the
same valley. The share of points that settle in each valley is the figure to watch: only
{deepest_share:.0%} found the deepest one, which shows why where you start matters more than how
you step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import TabulatedFunction, basin_of, descend
from genailab.learn.gradient_descent import MODES
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, PALETTE, PALETTE_RGB, style_axes

BOUNDS = ((-1.0, 1.0), (-1.0, 1.0))
_MOVING, _SETTLED = (np.array([*_rgb, 255]) / 255 for _rgb in (PALETTE_RGB[1], PALETTE_RGB[2]))


@experiment(
    name="gradient-descent",
    chapter="Granville's data videos",
    title="Gradient descent without a learning rate",
    seconds=(40, 15),
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


QUESTION = (
    "Without any learning rate to tune, do points stepping downhill on a stored table all reach "
    "a valley, and which one?"
)
ANSWER = (
    "After {step} steps, {at_minimum:.0%} of the points rest at a local minimum, "
    "{same_valley:.0%} where the other step rules go too; {deepest_share:.0%} in the deepest"
)
CLAIMS = (
    Claim("at_minimum >= 0.9", "at least 90% of the points stop at a local minimum, no rate tuned"),
    Claim(
        "same_valley >= 0.85",
        "the other two step rules send at least 85% of the points to the same valley",
    ),
    Claim(
        "deepest_share < 0.75", "at least a quarter of the points never reach the deepest valley"
    ),
)


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


def _descents(cfg: Config, others: bool = True) -> dict:
    """The landscape, the starts' every state of the descent in ``cfg.mode`` and, if
    ``others``, where the two other step rules take the same starts (their last points).

    The whole thing costs milliseconds (a table lookup per point and step), so both
    :func:`frames` and :func:`frame_count` compute it: the descent stops as soon as every point
    has settled, and only running it tells when.
    """
    rng = np.random.default_rng(cfg.seed)
    function = TabulatedFunction.tabulate(landscape(cfg.wells, rng), BOUNDS, cfg.resolution)
    starts = rng.uniform(-0.95, 0.95, size=(cfg.points, 2))  # (N, 2)
    states = list(descend(function, starts, mode=cfg.mode, max_steps=cfg.steps))
    ends = {}
    for mode in MODES if others else ():
        if mode != cfg.mode:  # each rule gets the same budget of steps
            *_, last = descend(function, starts, mode=mode, max_steps=cfg.steps)
            ends[mode] = last.points
    return {"function": function, "states": states, "others": ends}


def frame_count(cfg: Config) -> int:
    """One frame per step until every point has settled (or ``steps``), plus the starts."""
    return len(_descents(cfg, others=False)["states"])


_FIRST_STEPS = {  # what the first stretch says: how each rule steps
    "grid": "Each point steps one grid cell downhill: the mesh size is the learning rate",
    "normalized": "Each point takes a long step downhill, halving it whenever it would climb",
    "neighbor": "Each point moves to its steepest lower neighbour: no derivative at all",
}


def caption(mode: str, settled: float, done: bool) -> str:
    """The message of the stretch a frame falls in, by the share of points that settled."""
    if done:
        return "Every point has stopped: where it started decided its valley"
    if settled < 0.25:
        return _FIRST_STEPS[mode]
    if settled < 0.75:
        return "Points stop one by one at the bottom of the valley they started in"
    return "Most points have stopped; the last ones are still on their way down"


def frames(cfg: Config) -> Iterator[Frame]:
    run = _descents(cfg)
    function, states = run["function"], run["states"]
    minima = function.local_minima()  # (M, 2), deepest first
    # Where the other two step rules end, as an index into minima (-1: at no minimum).
    elsewhere = [basin_of(function, points) for points in run["others"].values()]
    # Trails and mean values fill preallocated arrays; each frame holds a view of the rows
    # written so far, which never change afterwards, so frames stay self-contained for free.
    trail = np.empty((len(states), cfg.points, 2))  # (T+1, N, 2)
    mean_values = np.empty(len(states))  # (T+1,)
    grid = {"x": function.axes[0], "y": function.axes[1], "z": function.values}
    for state in states:
        t = state.step
        trail[t] = state.points
        mean_values[t] = state.values.mean()
        basins = basin_of(function, state.points)  # (N,), -1 when not near a minimum
        settled = ~state.moving
        at_minimum = settled & (basins >= 0)
        # A point counts as agreeing once it rests at the minimum both other rules reach.
        agree = at_minimum & np.logical_and.reduce([basins == b for b in elsewhere])
        shares = [np.mean(settled & (basins == k)) for k in range(len(minima))]
        scalars = {
            "mean_value": mean_values[t],
            "settled": settled.mean(),
            "at_minimum": at_minimum.mean(),
            "same_valley": agree.mean(),
            "deepest_share": shares[0] if shares else 0.0,
        }
        for k, share in enumerate(shares):
            scalars[f"in_minimum_{k + 1}"] = share
        done = not state.moving.any()
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
            caption=caption(cfg.mode, settled.mean(), done),
            poster=t == len(states) - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection

    fig = canvas.figure
    # Nothing above y = 0.85: the top band holds the caption, the live title sits just below it.
    main = fig.add_axes((0.04, 0.04, 0.52, 0.80))
    curve = fig.add_axes((0.64, 0.50, 0.33, 0.28))
    bars = fig.add_axes((0.64, 0.10, 0.33, 0.26))
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
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
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
        f"Mode '{mode}', step {frame.step}: {frame.scalars['settled']:.0%} of the points settled, "
        f"{frame.scalars['same_valley']:.0%} where the other rules go too"
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
