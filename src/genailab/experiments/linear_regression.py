"""Fitting a straight line four ways, to points scattered around a line that sits far from the
origin: they follow `y = a x + b` plus noise, with `x` well away from zero and an intercept `b` far
from zero. Two models try to fit them: a line through the origin, `y = w x`, and a line with a
bias, `y = w x + b`; each is fitted twice, by evolution (mutate the weights, keep the child if its
error is lower) and by gradient descent (the gradient of the mean squared error comes from
genailab's own autograd engine, one plain SGD step at a time). Both methods end where the
closed-form least-squares answer says they should (dotted lines on the loss curves). Watch the
lines without a bias: pinned to the origin, they can only tilt, and the best they can do misses
the cloud, with an error many times larger (here {no_bias_ratio:.0f} times). The top-right panel
shows the same search in the plane of slope and intercept, where the fits without a bias are
stuck on the line `b = 0`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.engine import Tensor
from genailab.engine.optim import SGD, Evolution
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

FITS = ("gd_bias", "evolution_bias", "gd_no_bias", "evolution_no_bias")
COLOURS = {
    "gd_bias": PALETTE[0],
    "evolution_bias": PALETTE[5],
    "gd_no_bias": PALETTE[3],
    "evolution_no_bias": PALETTE[1],
}
LABELS = {
    "gd_bias": "gradient descent, w x + b",
    "evolution_bias": "evolution, w x + b",
    "gd_no_bias": "gradient descent, w x",
    "evolution_no_bias": "evolution, w x",
}


@experiment(
    name="linear-regression",
    chapter="From zero to GPT",
    title="Linear regression by evolution and by gradient descent, with and without a bias",
    order=3,
    seconds=(40, 15),
)
@dataclass
class Config:
    points: int = setting(40, help="data points scattered around the true line", ge=2, le=100_000)
    slope: float = setting(1.5, help="the true slope a of y = a x + b", ge=-100, le=100)
    intercept: float = setting(
        8.0,
        help="the true intercept b; far from 0, it is what a line through 0 misses",
        ge=-100,
        le=100,
    )
    x_low: float = setting(1.5, help="x is drawn uniformly in [x_low, x_high]", ge=-100, le=100)
    x_high: float = setting(4.5, help="upper end of the range of x", ge=-100, le=100)
    noise: float = setting(0.6, help="standard deviation of the noise added to y", ge=0, le=10)
    steps: int = setting(
        3000, help="gradient steps, and generations of evolution", ge=1, le=1_000_000
    )
    lr: float = setting(
        0.05,
        help="gradient descent's step size; must stay below 2 / the MSE's curvature",
        gt=0,
        le=1,
    )
    sigma: float = setting(
        0.5, help="evolution's first mutation size (then the one-fifth rule)", gt=0, le=10
    )
    snapshots: int = setting(
        400, help="frames at most, spread evenly on a log scale of steps", ge=2, le=10_000
    )
    seed: int = seed_setting()
    QUICK = dict(snapshots=60)

    def __post_init__(self) -> None:
        if not self.x_low < self.x_high:
            raise ValueError(f"x_low must be below x_high, got {self.x_low} and {self.x_high}")
        limit = largest_stable_lr(self)
        if not self.lr < limit:
            raise ValueError(
                f"lr must be below {limit:.4g} on these points (2 / the MSE's largest "
                f"curvature), got {self.lr}; gradient descent would diverge"
            )


QUESTION = (
    "Can a line through the origin fit points that sit far from it, or does a straight-line "
    "fit need a bias, whether it is found by evolution or by gradient descent?"
)
ANSWER = (
    "After {step} steps both methods reach least squares: error {mse_gd_bias:.3g} with a bias, "
    "{mse_gd_no_bias:.3g} without, {no_bias_ratio:.0f} times larger"
)
CLAIMS = (
    Claim(
        "mse_gd_no_bias > 5 * mse_gd_bias",
        "without a bias the best line errs over 5 times more than with one",
    ),
    Claim(
        "max(mse_gd_bias, mse_evolution_bias) < 1.01 * mse_lstsq_bias",
        "with a bias, both methods end within 1% of the least-squares error",
    ),
    Claim(
        "max(mse_gd_no_bias, mse_evolution_no_bias) < 1.01 * mse_lstsq_no_bias",
        "without one, both end on the best line through the origin, and no better",
    ),
)
CAPTIONS = (
    "All four fits start at w = b = 0 and tilt their lines towards the cloud",
    "Without a bias the lines stop early: pinned to the origin, they can only tilt",
    "With a bias the lines slide up to the cloud: the intercept is the slow direction",
    "With a bias both methods end on least squares; without, the lines miss the cloud",
)


def phases(path: np.ndarray, loss: np.ndarray, closed: dict, floors: np.ndarray) -> np.ndarray:
    """The caption (an index into ``CAPTIONS``) of every step, from what the fits have done.

    One more phase is reached when the fits without a bias have settled (within 1% of their
    least-squares error), when those with one are halfway up to the least-squares intercept,
    and when they have settled too; a phase once reached is kept, so captions never go back.
    """
    start = loss[0].max()

    def settled(names: tuple[str, ...], floor: float) -> np.ndarray:
        k = [FITS.index(name) for name in names]
        return np.all(loss[:, k] - floor <= 0.01 * floor + 1e-6 * start, axis=1)  # (T,)

    bias_fits = [FITS.index("gd_bias"), FITS.index("evolution_bias")]
    target = closed["bias"][1]
    halfway = (
        np.all(path[:, bias_fits, 1] / target >= 0.5, axis=1)
        if abs(target) > 1e-9
        else np.ones(len(loss), dtype=bool)
    )
    no_bias_done = settled(("gd_no_bias", "evolution_no_bias"), floors[1])
    bias_done = settled(("gd_bias", "evolution_bias"), floors[0])
    phase = no_bias_done.astype(int) + (no_bias_done & halfway) + (no_bias_done & bias_done)
    return np.maximum.accumulate(phase)


def inputs(cfg: Config, rng: np.random.Generator) -> np.ndarray:
    """The ``x`` of the data, uniform in ``[x_low, x_high]``: the first draw of ``frames``."""
    return rng.uniform(cfg.x_low, cfg.x_high, size=cfg.points)  # (n,)


def largest_stable_lr(cfg: Config) -> float:
    """The step size above which gradient descent on these points diverges.

    The MSE of ``w x + b`` is a quadratic with Hessian ``H = 2 [[mean x^2, mean x], [mean x,
    1]]``; a gradient step multiplies the error along H's eigenvector of eigenvalue ``lam`` by
    ``1 - lr lam``, which shrinks only while ``lr < 2 / lam``. The model without a bias has the
    curvature ``2 mean x^2 <= max lam``, so the bound holds for it too.

    Examples
    --------
    >>> round(largest_stable_lr(Config()), 4)  # the default lr, 0.05, is well below
    0.0876
    """
    x = inputs(cfg, np.random.default_rng(cfg.seed))
    hessian = 2 * np.array([[np.mean(x * x), x.mean()], [x.mean(), 1.0]])  # (2, 2)
    return float(2 / np.linalg.eigvalsh(hessian).max())


def least_squares(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Closed-form fits: ``(w, b)`` by ``np.linalg.lstsq`` and the no-intercept
    ``w = sum(x y) / sum(x^2)`` (where the derivative of ``sum (w x - y)^2`` vanishes)."""
    with_bias = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    return {"bias": with_bias, "no_bias": np.array([x @ y / (x @ x), 0.0])}


def shown_steps(cfg: Config) -> np.ndarray:
    """The steps that get a frame: ``snapshots`` points evenly spread on a log scale of
    ``step + 1``, rounded, without repeats (so every one of the first few steps is shown)."""
    return np.unique(np.round(np.geomspace(1, cfg.steps + 1, cfg.snapshots)).astype(int) - 1)


def frame_count(cfg: Config) -> int:
    """The number of steps shown."""
    return len(shown_steps(cfg))


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    x = inputs(cfg, rng)  # (n,)
    y = cfg.slope * x + cfg.intercept + cfg.noise * rng.normal(size=cfg.points)  # (n,)
    closed = least_squares(x, y)

    def mse(w: float, b: float) -> float:
        return float(np.mean((w * x + b - y) ** 2))

    # Four fits, all from w = b = 0: parameters are engine tensors of shape (1,).
    params = {
        name: [Tensor(np.zeros(1), requires_grad=name.startswith("gd")) for _ in range(size)]
        for name, size in zip(FITS, (2, 2, 1, 1), strict=True)
    }
    sgd = {name: SGD(params[name], lr=cfg.lr) for name in ("gd_bias", "gd_no_bias")}
    evolution = {
        name: Evolution(params[name], sigma=cfg.sigma, rng=rng)
        for name in ("evolution_bias", "evolution_no_bias")
    }
    accepted = dict.fromkeys(evolution, 0)

    def line(name: str) -> tuple[float, float]:
        p = params[name]
        return float(p[0].data[0]), float(p[1].data[0]) if len(p) == 2 else 0.0

    def gd_step(name: str) -> None:
        w, *b = params[name]
        pred = x * w + b[0] if b else x * w  # (n,)
        loss = ((pred - y) ** 2).mean()  # the autograd graph: d loss / d w, d loss / d b
        sgd[name].zero_grad()
        loss.backward()
        sgd[name].step()

    # The run is cheap: compute it all first, so that every frame knows the axes' ranges.
    T = cfg.steps + 1
    path = np.empty((T, len(FITS), 2))  # (T, 4, 2): (w, b) of each fit after each step
    loss = np.empty((T, len(FITS)))  # (T, 4)
    for t in range(T):
        if t > 0:
            for name in sgd:
                gd_step(name)
            for name, opt in evolution.items():
                opt.step(lambda name=name: mse(*line(name)))
                if t % 10 == 0:  # Rechenberg's one-fifth rule on the last 10 children
                    rate, accepted[name] = (opt.accepted - accepted[name]) / 10, opt.accepted
                    opt.sigma *= 1 / 0.82 if rate > 0.2 else 0.82
        for k, name in enumerate(FITS):
            path[t, k] = line(name)
            loss[t, k] = mse(*path[t, k])

    floors = np.array([mse(*closed["bias"]), mse(*closed["no_bias"])])
    constant = {
        "x": x,
        "y": y,
        "lstsq_bias": closed["bias"],
        "lstsq_no_bias": closed["no_bias"],
        "lstsq_mse": floors,
        "loss_range": np.array([floors.min(), loss.max()]),
        "steps": np.array(T),
    }
    phase = phases(path, loss, closed, floors)
    for t in shown_steps(cfg):
        scalars = {"step": t}
        scalars |= {f"mse_{name}": loss[t, k] for k, name in enumerate(FITS)}
        scalars |= {"mse_lstsq_bias": floors[0], "mse_lstsq_no_bias": floors[1]}
        scalars["no_bias_ratio"] = loss[t, FITS.index("gd_no_bias")] / max(
            loss[t, FITS.index("gd_bias")], 1e-300
        )
        yield Frame(
            step=int(t),
            arrays={**constant, "path": path[: t + 1], "loss": loss[: t + 1]},
            scalars=scalars,
            caption=CAPTIONS[phase[t]],
            poster=t == T - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    x, y = a["x"], a["y"]
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    styles = {name: "-" if name.startswith("gd") else "--" for name in FITS}

    # Left: the data and the four lines, origin included.
    data = fig.add_axes((0.06, 0.10, 0.44, 0.72))
    style_axes(data)
    x_max, y_max = 1.15 * x.max(), 1.15 * y.max()
    data.set(xlim=(0, x_max), ylim=(min(0, y.min()) - 0.5, y_max), xlabel="x", ylabel="y")
    data.scatter(x, y, s=16, color=INK, alpha=0.75, zorder=3, label="data")
    data.plot(0, 0, marker="+", color=MUTED, markersize=12, mew=1.5)
    lines = {}
    for name in FITS:
        (lines[name],) = data.plot(
            [], [], color=COLOURS[name], lw=2.2, ls=styles[name], label=LABELS[name]
        )
    data.legend(loc="upper left", fontsize=SMALL_SIZE, frameon=False)

    # Right top: the (slope, intercept) plane with the MSE's contours and each fit's path.
    plane = fig.add_axes((0.60, 0.49, 0.37, 0.31))
    style_axes(plane)
    best, origin_fit = a["lstsq_bias"], a["lstsq_no_bias"]
    ws, bs = (0.0, best[0], origin_fit[0]), (0.0, best[1])
    w_span, b_span = max(max(ws) - min(ws), 1.0), max(max(bs) - min(bs), 1.0)
    w_grid = np.linspace(min(ws) - 0.15 * w_span, max(ws) + 0.25 * w_span, 120)
    b_grid = np.linspace(min(bs) - 0.15 * b_span, max(bs) + 0.25 * b_span, 120)
    W, B = np.meshgrid(w_grid, b_grid)  # (120, 120)
    Z = ((W[..., None] * x + B[..., None] - y) ** 2).mean(-1)  # (120, 120)
    plane.contour(W, B, np.log10(Z), levels=18, colors=MUTED, linewidths=0.5, alpha=0.7)
    plane.axhline(0, color=PALETTE[3], lw=0.8, alpha=0.6)
    plane.plot(*best, marker="*", color=INK, markersize=11, zorder=4)
    plane.plot(*origin_fit, marker="*", color=PALETTE[3], markersize=11, zorder=4)
    plane.set(xlim=(w_grid[0], w_grid[-1]), ylim=(b_grid[0], b_grid[-1]))
    plane.set_xlabel("slope w", labelpad=1)
    plane.set_ylabel("intercept b", labelpad=1)
    plane.set_title("slope and intercept (★: least squares)", fontsize=11, color=INK, loc="left")
    paths = {}
    for name in FITS:
        (paths[name],) = plane.plot([], [], color=COLOURS[name], lw=1.4, ls=styles[name])

    # Right bottom: the four losses on log-log axes, the two least-squares floors dotted.
    curve = fig.add_axes((0.60, 0.10, 0.37, 0.27))
    style_axes(curve)
    low, high = a["loss_range"]
    curve.set(xscale="log", yscale="log", xlim=(1, a["steps"]), ylim=(0.2 * low, 2 * high))
    curve.set_xlabel("step (generation) + 1", labelpad=1)
    curve.set_title("mean squared error", fontsize=11, color=INK, loc="left")
    for floor, colour, model in zip(
        a["lstsq_mse"], (PALETTE[0], PALETTE[3]), ("w x + b", "w x"), strict=True
    ):
        curve.axhline(floor, color=colour, lw=1, ls=":")
        curve.text(
            a["steps"] ** 0.97,
            floor * 0.8,
            f"least squares, {model}: {floor:.3g}",
            color=colour,
            fontsize=SMALL_SIZE - 1,
            ha="right",
            va="top",
        )
    losses = {}
    for name in FITS:
        (losses[name],) = curve.plot([], [], color=COLOURS[name], lw=1.8, ls=styles[name])
    live = [title, *lines.values(), *paths.values(), *losses.values()]
    freeze_background(fig, live)
    return dict(title=title, lines=lines, paths=paths, losses=losses, x_max=x_max)


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    path, loss = a["path"], a["loss"]  # (t+1, 4, 2), (t+1, 4)
    ends = np.array([0.0, art["x_max"]])
    steps = np.arange(1, len(loss) + 1)
    for k, name in enumerate(FITS):
        w, b = path[-1, k]
        art["lines"][name].set_data(ends, w * ends + b)
        art["paths"][name].set_data(path[:, k, 0], path[:, k, 1])
        art["losses"][name].set_data(steps, loss[:, k])
    with_bias, without = s["mse_gd_bias"], s["mse_gd_no_bias"]
    art["title"].set_text(
        f"Step {s['step']:.0f}: error {with_bias:.3g} with a bias, {without:.3g} without"
        + (f", {without / with_bias:.0f}× larger" if without > with_bias else "")
    )
