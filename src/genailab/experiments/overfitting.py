"""A network far too big for its data, 64 + 64 tanh units on the engine, learns a smooth curve
from twelve noisy points (black). As training goes on, its training loss keeps falling while the
loss on held-out points, the validation loss, turns and climbs: the red curve bends to pass
through every point, noise included. That is overfitting, and the video then tries the usual
fixes on the very same network, each from the same start: smaller initial weights (it begins
nearly linear and gets wiggly only slowly), weight decay (every step pulls the weights towards
zero), early stopping (keep the weights of the step where the validation loss was lowest), and
four times more data. Each one ends with a lower validation loss than the baseline: here
{fixes_best:.3f} to {fixes_worst:.3f}, against the baseline's {val_baseline:.3f}. The grey bands
are the warning: outside the range the points came from, every variant, good or bad, guesses,
and its extrapolation error is many times its error inside the range (here at least
{extrapolation_ratio:.0f} times). No amount of regularization tells a network what the data never
showed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.engine import Tensor, nn, no_grad, optim
from genailab.engine import functional as F
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

VARIANTS = ("baseline", "small_init", "weight_decay", "early_stopping", "more_data")
LABELS = {
    "baseline": "baseline",
    "small_init": "smaller initial weights",
    "weight_decay": "weight decay",
    "early_stopping": "early stopping",
    "more_data": "4x more data",
}
COLOURS = {
    "baseline": PALETTE[3],
    "small_init": PALETTE[4],
    "weight_decay": PALETTE[2],
    "early_stopping": PALETTE[0],
    "more_data": PALETTE[1],
}
FIXES = VARIANTS[1:]
TRAINED = ("baseline", "small_init", "weight_decay", "more_data")  # early stopping: a snapshot
GRID = 201  # points of the drawn curves


@experiment(
    name="overfitting",
    chapter="From zero to GPT",
    title="Overfitting, four fixes, and the danger outside the data",
    order=6,
    seconds=(40, 15),
)
@dataclass
class Config:
    points: int = setting(12, help="noisy training points, x uniform in [-1, 1]", ge=2, le=1000)
    more_points: int = setting(
        48,
        help="training points of the 'more data' variant, the first ones included",
        ge=3,
        le=10_000,
    )
    val_points: int = setting(50, help="held-out points for the validation loss", ge=1, le=10_000)
    noise: float = setting(0.2, help="standard deviation of the noise on y", gt=0, le=10)
    width: int = setting(64, help="units per hidden layer (tanh)", ge=1, le=1024)
    hidden_layers: int = setting(2, help="hidden layers of the network", ge=1, le=16)
    steps: int = setting(3000, help="full-batch gradient steps (momentum 0.9)", ge=1, le=100_000)
    lr: float = setting(
        0.05,
        help="SGD learning rate; at the defaults, 0.2 already makes the baseline diverge",
        gt=0,
        le=1,
    )
    init_scale: float = setting(
        0.1, help="'smaller initial weights': every initial weight times this", gt=0, le=1
    )
    weight_decay: float = setting(
        0.003, help="L2 coefficient of the weight-decay variant", gt=0, le=1
    )
    reach: float = setting(
        2.5, help="curves are drawn on [-reach, reach]; beyond +-1 is extrapolation", gt=1, le=10
    )
    snapshots: int = setting(100, help="frames, spread evenly over the steps", ge=2, le=10_000)
    seed: int = seed_setting()
    QUICK = dict(steps=2000, snapshots=30)

    def __post_init__(self) -> None:
        if self.more_points <= self.points:
            raise ValueError(
                f"more_points must exceed points ({self.points}), got {self.more_points}"
            )


QUESTION = (
    "When a network far too big for its data overfits, which fixes bring its validation loss "
    "down, and does any of them help outside the range of the data?"
)
ANSWER = (
    "Validation loss: baseline {val_baseline:.3f}, {baseline_climb:.1f} times its lowest; the "
    "fixes {fixes_best:.3f} to {fixes_worst:.3f}; outside the data, {extrapolation_ratio:.0f}x+ "
    "worse"
)
CLAIMS = (
    Claim(
        "val_baseline > 2 * val_baseline_min",
        "the baseline overfits: its validation loss ends over twice its lowest",
    ),
    Claim("fixes_worst < val_baseline", "every fix ends with a lower validation loss"),
    Claim(
        "extrapolation_ratio > 3",
        "outside the data every variant errs over 3 times more than inside",
    ),
)


def caption(phase: int, points: int, fixes_ahead: bool) -> str:
    """The message of a stretch: the baseline still improving, turning, overfitting, the end."""
    if phase == 0:
        return f"Five copies of one big network learn a smooth curve from {points} noisy points"
    if phase == 1:
        return "The baseline's validation loss turns: it starts to fit the noise"
    if phase == 2:
        return "Training loss falls, validation climbs: the red curve bends through every point"
    if fixes_ahead:
        return "Every fix stays below the baseline; outside the data, all of them guess"
    return "Outside the data every variant guesses, good fit or bad"


def phases(val: np.ndarray, steps: int) -> np.ndarray:
    """The caption (0-3) of every step, from the baseline's whole validation curve ``val``.

    Up to its lowest point the baseline is still learning (0); after it, it has turned (1),
    and once 50% above that lowest it overfits (2); the last quarter of the steps compares the
    fixes (3). A phase once reached is kept: an early bump (momentum) moves nothing, since
    every step before the lowest one is phase 0.
    """
    best = int(np.argmin(val))
    t = np.arange(len(val))
    phase = np.where(t > best, 1 + (val > 1.5 * val[best]), 0)
    phase = np.maximum.accumulate(phase)
    return np.where(t >= 0.75 * steps, 3, phase)


def memory_bytes(cfg: Config) -> int:
    """Peak bytes of a run, counted in float64 arrays (measured against tracemalloc).

    Weights: about 20 copies of the parameters (the four trained variants' weights, gradients
    and momentum, the common start, the early-stopping snapshot and its model). Activations:
    the four training losses are built before any backward pass, so the graphs of all four
    stay alive together, about 2.5 arrays of (points, width) per hidden layer each; the
    validation loss and the drawn curves pass through one layer at a time, without a graph.
    """
    w, layers = cfg.width, cfg.hidden_layers
    params = 2 * w + (layers - 1) * (w * w + w) + w + 1
    graphs = 2.5 * w * layers * (3 * cfg.points + cfg.more_points)
    passes = 3 * w * max(cfg.val_points, GRID)
    curves = 2 * len(TRAINED) * (cfg.steps + 1)
    return int(8 * (20 * params + graphs + passes + curves))


def true_function(x: np.ndarray) -> np.ndarray:
    """The smooth curve behind the data."""
    return np.sin(3 * x) + 0.5 * x


def frame_count(cfg: Config) -> int:
    """One frame per snapshot step (steps spread evenly, duplicates merged)."""
    return len(_shown(cfg))


def _shown(cfg: Config) -> set[int]:
    return set(np.unique(np.linspace(0, cfg.steps, cfg.snapshots).round().astype(int)).tolist())


def _predict(model: nn.MLP, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return model(Tensor(x[:, None])).data[:, 0]  # (n,)


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    sizes = [1] + [cfg.width] * cfg.hidden_layers + [1]

    def mlp() -> nn.MLP:
        return nn.MLP(sizes, activation="tanh", dtype=np.float64, rng=rng)

    start = mlp().state_dict()  # every variant starts here (the small one scaled down)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1.0, 1.0, n)
        return x, true_function(x) + cfg.noise * rng.standard_normal(n)

    x_train, y_train = sample(cfg.points)
    x_val, y_val = sample(cfg.val_points)
    x_extra, y_extra = sample(cfg.more_points - cfg.points)
    x_more, y_more = np.r_[x_train, x_extra], np.r_[y_train, y_extra]

    runs = {}
    for name in TRAINED:
        model = mlp()
        model.load_state_dict(
            {k: v * cfg.init_scale for k, v in start.items()} if name == "small_init" else start
        )
        decay = cfg.weight_decay if name == "weight_decay" else 0.0
        opt = optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=decay)
        x, y = (x_more, y_more) if name == "more_data" else (x_train, y_train)
        runs[name] = (model, opt, Tensor(x[:, None]), y[:, None])
    stopped = mlp()  # early stopping: the baseline's weights at its best validation step
    best_step, best_state = 0, start

    grid = np.linspace(-cfg.reach, cfg.reach, GRID)  # (G,)
    outside = np.abs(grid) > 1.0  # extrapolation: where no training x ever fell
    truth = true_function(grid)
    x_val_t = Tensor(x_val[:, None])
    train = np.empty((len(TRAINED), cfg.steps + 1))  # (V, T+1)
    val = np.empty((len(TRAINED), cfg.steps + 1))
    shown = _shown(cfg)
    shown_frames = []  # captioned once the whole validation curve is known
    for t in range(cfg.steps + 1):
        losses = []
        for v, (model, _, x, y) in enumerate(runs.values()):
            loss = F.mse(model(x), y)  # the training loss, whose graph backward() uses below
            losses.append(loss)
            train[v, t] = loss.item()
            with no_grad():
                val[v, t] = np.mean((model(x_val_t).data[:, 0] - y_val) ** 2)
        if val[0, t] < val[0, best_step]:
            best_step, best_state = t, runs["baseline"][0].state_dict()
        if t in shown:
            stopped.load_state_dict(best_state)
            curves = {name: _predict(run[0], grid) for name, run in runs.items()}
            curves["early_stopping"] = _predict(stopped, grid)
            curve_array = np.stack([curves[name] for name in VARIANTS])  # (5, G)
            extrapolation = ((curve_array[:, outside] - truth[outside]) ** 2).mean(axis=1)  # (5,)
            val_now = dict(zip(TRAINED, val[:, t], strict=True))
            val_now["early_stopping"] = val[0, best_step]
            scalars = {f"val_{name}": val_now[name] for name in VARIANTS}
            scalars |= {"train_baseline": train[0, t], "early_stopping_step": best_step}
            fixes = [val_now[name] for name in FIXES]
            if t == cfg.steps:  # the final figures
                scalars = {
                    "val_baseline_min": val[0, best_step],
                    **scalars,
                    **{
                        f"extrapolation_{n}": e
                        for n, e in zip(VARIANTS, extrapolation, strict=True)
                    },
                    "baseline_climb": val[0, t] / val[0, best_step],
                    "fixes_best": min(fixes),
                    "fixes_worst": max(fixes),
                    # how many times its validation loss each variant errs outside [-1, 1]
                    "extrapolation_ratio": min(
                        extrapolation[i] / val_now[name] for i, name in enumerate(VARIANTS)
                    ),
                }
            shown_frames.append(
                Frame(
                    step=t,
                    arrays={
                        "x_train": x_train,
                        "y_train": y_train,
                        "x_extra": x_extra,
                        "y_extra": y_extra,
                        "grid": grid,
                        "truth": truth,
                        "curves": curve_array,
                        "train": train[:, : t + 1],
                        "val": val[:, : t + 1],
                        "extrapolation": extrapolation,
                    },
                    scalars=scalars,
                    text={
                        "steps": str(cfg.steps),
                        "floor": f"{cfg.noise**2:.3f}",
                        "fixes_ahead": "yes" if max(fixes) < val_now["baseline"] else "",
                    },
                )
            )
        if t == cfg.steps:
            break
        for (_, opt, _, _), loss in zip(runs.values(), losses, strict=True):
            opt.zero_grad()
            loss.backward()
            opt.step()
    phase = phases(val[0], cfg.steps)
    ahead = bool(shown_frames[-1].text["fixes_ahead"])  # the last quarter's verdict: the end's
    for frame in shown_frames:
        frame.caption = caption(phase[frame.step], cfg.points, ahead)
        yield frame


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    art: dict = {"title": fig.text(0.04, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)}
    ax = fig.add_axes((0.05, 0.08, 0.51, 0.665))
    style_axes(ax)
    grid = a["grid"]
    reach = float(grid[-1])
    for side in (-1, 1):
        ax.axvspan(side * 1.0, side * reach, color="#eeeeee", zorder=0)
        ax.text(
            side * (reach - 0.08),
            2.85,
            "extrapolation",
            color=MUTED,
            fontsize=SMALL_SIZE,
            va="top",
            ha="left" if side < 0 else "right",
        )
    ax.plot(grid, a["truth"], color=INK, lw=1.5, ls="--", label="true curve", zorder=2)
    ax.scatter(
        a["x_extra"],
        a["y_extra"],
        s=14,
        facecolor="white",
        edgecolor=COLOURS["more_data"],
        lw=1,
        zorder=3,
        label="extra data",
    )
    n = len(a["x_train"])
    art["points"] = ax.scatter(
        a["x_train"], a["y_train"], s=30, color=INK, zorder=5, label=f"{n} points"
    )
    art["curves"] = [
        ax.plot(
            [],
            [],
            color=COLOURS[name],
            lw=3.0 if name == "baseline" else 1.8,
            label=LABELS[name],
            zorder=4,
        )[0]
        for name in VARIANTS
    ]
    ax.set(xlim=(-reach, reach), ylim=(-3.0, 3.0), xlabel="x")
    handles, labels = ax.get_legend_handles_labels()
    order = [3, 4, 5, 6, 7, 0, 1, 2]  # the variants first, then the data
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        fontsize=SMALL_SIZE,
        frameon=False,
        ncol=4,
        columnspacing=0.9,
        handlelength=1.6,
    )
    steps = int(frame.text["steps"])
    floor = float(frame.text["floor"])
    # top right: the baseline's training and validation losses
    div = fig.add_axes((0.66, 0.53, 0.31, 0.27))
    style_axes(div)
    div.set_yscale("log")
    ticks = (1e-4, 1e-3, 1e-2, 0.1, 1.0)
    div.set_yticks(ticks, [f"{v:g}" for v in ticks])
    div.minorticks_off()
    div.set(xlim=(0, steps), ylim=(1e-4, 3.0))
    (art["base_train"],) = div.plot(
        [], [], color=COLOURS["baseline"], lw=1.5, ls="--", label="training"
    )
    (art["base_val"],) = div.plot([], [], color=COLOURS["baseline"], lw=2.2, label="validation")
    (art["stop"],) = div.plot(
        [], [], "o", color=COLOURS["early_stopping"], ms=7, zorder=5, label="lowest validation"
    )
    div.legend(fontsize=SMALL_SIZE, frameon=False, loc="lower right")
    div.set_title("baseline: training and validation loss", fontsize=11, loc="left")
    # bottom right: validation loss of every variant
    vals = fig.add_axes((0.66, 0.09, 0.31, 0.31))
    style_axes(vals)
    vals.set_yscale("log")
    ticks = (0.05, 0.1, 0.2, 0.5, 1.0)
    vals.set_yticks(ticks, [f"{v:g}" for v in ticks])
    vals.minorticks_off()
    vals.set(xlim=(0, steps), ylim=(0.03, 2.0), xlabel="SGD step")
    vals.axhline(floor, color=MUTED, lw=1, ls=":")
    art["val_lines"] = [
        vals.plot([], [], color=COLOURS[name], lw=2.2 if name == "baseline" else 1.6)[0]
        for name in VARIANTS
    ]
    vals.set_title("validation loss (dotted line: noise)", fontsize=11, loc="left")
    # Draw the axes, legends and bands once; the points stay live to stay above the curves.
    live = [art["title"], art["points"], *art["curves"], *art["val_lines"]]
    freeze_background(fig, [*live, art["base_train"], art["base_val"], art["stop"]])
    return art


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    for line, curve in zip(art["curves"], a["curves"], strict=True):
        line.set_data(a["grid"], curve)
    steps = np.arange(a["train"].shape[1])
    art["base_train"].set_data(steps, np.maximum(a["train"][0], 1e-4))
    art["base_val"].set_data(steps, a["val"][0])
    stop = int(s["early_stopping_step"])
    art["stop"].set_data([stop], [a["val"][0, stop]])
    val = {n: a["val"][i] for i, n in enumerate(("baseline", "small_init", "weight_decay"))}
    val["more_data"] = a["val"][3]
    val["early_stopping"] = np.minimum.accumulate(a["val"][0])  # the best so far
    for line, name in zip(art["val_lines"], VARIANTS, strict=True):
        line.set_data(steps, val[name])
    fixes = [s[f"val_{n}"] for n in VARIANTS[1:]]
    art["title"].set_text(
        f"Step {frame.step}: validation loss {s['val_baseline']:.3f} for the baseline, "
        f"{min(fixes):.3f} to {max(fixes):.3f} with the fixes"
    )
