"""A network with one hidden layer of sine units, y(x) = sum_k a_k sin(w_k x + b_k) + c, fits a
signal made of three sine waves, much as a Fourier series would. Two copies start from the same
random hidden layer. The orange one may only tune its outer layer (the amplitudes a and the
constant c): that problem is linear least squares, so its error can never go below the dashed
line that `np.linalg.lstsq` reaches in one shot. The blue one also trains its hidden layer with
gradient descent on genailab's own autograd engine (Adam): its units slide their frequencies towards
the signal's three components (the crosses in the spectrum) and its error falls far below that
floor. The last part repeats both fits for networks of 1 to 32 units: the figure to watch is how
many units each mode needs to explain 99% of the signal, many random units against a handful of
learned ones ({units_needed_outer_only:.0f} against {units_needed_both_layers:.0f} in this run),
which is why learning the features, layer after layer, pays. (With {sweep_largest:.0f} random
units exact least squares finally fits the signal to an error of {sweep_largest_outer:.1g},
against {sweep_largest_both:.1g} after Adam's steps.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import SineNetwork
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

# The signal: three sine waves, (frequency in cycles per unit of x, amplitude, phase).
COMPONENTS = np.array([(1.3, 1.0, 0.0), (3.7, 0.6, 1.0), (7.9, 0.3, 0.4)])
SWEEP_UNITS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
ERROR_FLOOR = 1e-8  # errors below this are drawn at it (a perfect fit reaches 1e-30)
OUTER, BOTH = PALETTE[1], PALETTE[0]


@experiment(
    name="sine-network",
    chapter="From zero to GPT",
    title="A layer of sine units: random features against learned ones",
    order=4,
    seconds=(40, 15),
)
@dataclass
class Config:
    units: int = setting(
        12, help="hidden sine units of the network trained in the first part", ge=1, le=1000
    )
    points: int = setting(200, help="samples of the signal on [0, 1]", ge=8, le=100_000)
    steps: int = setting(1500, help="Adam steps per fit", ge=1, le=100_000)
    snapshots: int = setting(64, help="frames of the first part", ge=2, le=10_000)
    sweep_max_units: int = setting(
        32, help="the sweep tries 1, 2, 3, 4, 6, 8, 12, 16, 24, 32 units up to this", ge=1, le=32
    )
    sweep_draws: int = setting(
        3,
        help="random hidden layers per unit count; the sweep shows the median error",
        ge=1,
        le=100,
    )
    target_error: float = setting(
        0.01,
        help="share of the signal's variance left unexplained that counts as a fit",
        gt=0,
        lt=1,
    )
    max_frequency: float = setting(
        12.0,
        help="initial frequencies are drawn in [0, max_frequency] cycles per unit",
        gt=0,
        le=100,
    )
    learning_rate: float = setting(0.02, help="Adam's peak learning rate", gt=0, le=1)
    seed: int = seed_setting()
    QUICK = dict(steps=600, snapshots=24, sweep_draws=1)


QUESTION = (
    "How many sine units does a network need to fit a signal when it learns its hidden layer, "
    "against keeping a random one and tuning only the outer layer?"
)
ANSWER = (
    "{units} units: error {error_both_layers:.2g} learning both layers, "
    "{error_outer_only_lstsq:.2g} at best with a random one; a {explained:.0%} fit takes "
    "{units_needed_both_layers:.0f} learned units, {units_needed_outer_only:.0f} random"
)
CLAIMS = (
    Claim(
        "error_both_layers < 0.1 * error_outer_only_lstsq",
        "learning the hidden layer ends over 10 times below the random layer's floor",
    ),
    Claim(
        "error_outer_only_lstsq <= error_outer_only_adam",
        "tuning only the outer layer, Adam never beats least squares",
    ),
    Claim(
        "units_needed_both_layers < units_needed_outer_only",
        "learned features fit the signal with fewer units than random ones",
    ),
)


def caption(phase: str, progress: float, cfg: Config, fewer: bool = True) -> str:
    """The message of the stretch a frame falls in: training early, late, the sweep, the end."""
    if phase == "train":
        if progress < 0.25:
            return "One random hidden layer, two copies: orange tunes its outer layer, blue both"
        return "Blue's units slide onto the signal's frequencies; orange stays above its floor"
    if phase == "sweep":
        return (
            f"Both again with 1 to {max(sweep_units(cfg))} units: how many explain "
            f"{1 - cfg.target_error:.0%} of the signal?"
        )
    if fewer:
        return "Learned features fit the signal with fewer units than random ones need"
    return "Here random features needed no more units than learned ones"


def memory_bytes(cfg: Config) -> int:
    """Peak bytes of a run: the engine's graphs of the hidden layer, (points, units) float64.

    A training step's graph holds three (n, K) arrays (``w x``, ``+ b``, ``sin``) and its
    backward pass three gradients of that shape; part 1 trains its two networks side by side,
    about seven such arrays at once (its least-squares floor, solved first, needs fewer). The
    sweep fits one network at a time, at most 32 units wide. Beside them, the loss curves (a
    float per step, in lists and arrays) and the frames' vectors of n points are small.
    """
    n = cfg.points
    widest = max(7 * cfg.units, 6 * max(sweep_units(cfg)))  # (n, K) arrays alive at once
    return 8 * n * (widest + 16) + 160 * (cfg.steps + 1)


def signal(x: np.ndarray) -> np.ndarray:
    """The target: sum of the three COMPONENTS, sampled at ``x``."""
    f, amp, phase = COMPONENTS.T  # (3,) each
    return (amp * np.sin(2 * np.pi * f * x[:, None] + phase)).sum(-1)  # (n,)


def sweep_units(cfg: Config) -> list[int]:
    """The unit counts of the sweep: SWEEP_UNITS up to ``sweep_max_units``."""
    return [k for k in SWEEP_UNITS if k <= cfg.sweep_max_units] or [cfg.sweep_max_units]


def units_needed(units: np.ndarray, errors: np.ndarray, target: float) -> float:
    """The fewest units of the sweep whose error is at most ``target`` (NaN if none)."""
    hit = np.flatnonzero(errors <= target)
    return float(units[hit[0]]) if len(hit) else float("nan")


def frame_count(cfg: Config) -> int:
    """The training snapshots, one frame per size of the unit sweep, and the verdict."""
    return len(_snapshot_steps(cfg)) + len(sweep_units(cfg)) + 1


def _snapshot_steps(cfg: Config) -> np.ndarray:
    return np.unique(np.linspace(0, cfg.steps, cfg.snapshots).round().astype(int))


def _spectrum(net: SineNetwork) -> dict[str, np.ndarray]:
    """Each unit as (frequency in cycles, |amplitude|); sin(-wx + b) = sin(wx + pi - b)."""
    return {"freq": np.abs(net.frequencies_) / (2 * np.pi), "amp": np.abs(net.amplitudes_)}


def frames(cfg: Config) -> Iterator[Frame]:
    x = np.linspace(0.0, 1.0, cfg.points)  # (n,)
    y = signal(x)  # (n,)
    var = y.var()  # errors are MSE / var: the share of the signal left unexplained

    def net(units: int, train_hidden: bool, solver: str, random_state) -> SineNetwork:
        return SineNetwork(
            units,
            train_hidden=train_hidden,
            solver=solver,
            steps=cfg.steps,
            max_frequency=cfg.max_frequency,
            learning_rate=cfg.learning_rate,
            random_state=random_state,
        )

    data = {"x": x, "y": y, "components": COMPONENTS}

    # ---- part 1: one network of cfg.units units, trained in both modes side by side
    floor = net(cfg.units, False, "lstsq", cfg.seed).fit(x, y)
    floor_error = floor.loss_curve_[-1] / var
    outer = net(cfg.units, False, "adam", cfg.seed)
    both = net(cfg.units, True, "adam", cfg.seed)
    curve_outer, curve_both = np.empty(cfg.steps + 1), np.empty(cfg.steps + 1)
    shown = set(_snapshot_steps(cfg).tolist())
    for t, _ in zip(outer.fit_steps(x, y), both.fit_steps(x, y), strict=True):
        curve_outer[t] = outer.loss_curve_[-1] / var
        curve_both[t] = both.loss_curve_[-1] / var
        if t not in shown:
            continue
        spec_outer, spec_both = _spectrum(outer), _spectrum(both)
        yield Frame(
            step=t,
            arrays={
                **data,
                "fit_outer": outer.predict(x),
                "fit_both": both.predict(x),
                "fit_floor": floor.predict(x),
                "curve_outer": curve_outer[: t + 1],
                "curve_both": curve_both[: t + 1],
                "freq_outer": spec_outer["freq"],
                "amp_outer": spec_outer["amp"],
                "freq_both": spec_both["freq"],
                "amp_both": spec_both["amp"],
            },
            scalars={
                "error_outer": curve_outer[t],
                "error_both": curve_both[t],
                "error_lstsq": floor_error,
            },
            text={"phase": "train", "units": str(cfg.units), "steps": str(cfg.steps)},
            caption=caption("train", t / max(cfg.steps, 1), cfg),
        )
    main = {
        "fit_outer": outer.predict(x),
        "fit_both": both.predict(x),
        "fit_floor": floor.predict(x),
        "curve_outer": curve_outer,
        "curve_both": curve_both,
        **{f"{k}_outer": v for k, v in _spectrum(outer).items()},
        **{f"{k}_both": v for k, v in _spectrum(both).items()},
    }

    # ---- part 2: the sweep over unit counts; the outer-only mode gets its exact optimum
    units = np.array(sweep_units(cfg))
    err_outer, err_both = np.full(len(units), np.nan), np.full(len(units), np.nan)
    for i, k in enumerate(units):
        draws_outer, draws_both = [], []
        for d in range(cfg.sweep_draws):
            draw = np.random.SeedSequence([cfg.seed, int(k), d])  # the same start for both modes
            o = net(int(k), False, "lstsq", draw).fit(x, y)
            b = net(int(k), True, "adam", draw).fit(x, y)
            draws_outer.append(o.loss_curve_[-1] / var)
            draws_both.append(b.loss_curve_[-1] / var)
            if d == 0:
                shown_outer, shown_both = o, b
        err_outer[i], err_both[i] = np.median(draws_outer), np.median(draws_both)
        spec_outer, spec_both = _spectrum(shown_outer), _spectrum(shown_both)
        yield Frame(
            step=cfg.steps + 1 + i,
            arrays={
                **data,
                **main,
                "fit_floor": shown_outer.predict(x),  # the sweep's outer-only fit is exact
                "fit_both": shown_both.predict(x),
                "freq_outer": spec_outer["freq"],
                "amp_outer": spec_outer["amp"],
                "freq_both": spec_both["freq"],
                "amp_both": spec_both["amp"],
                "sweep_units": units[: i + 1],
                "sweep_outer": err_outer[: i + 1],
                "sweep_both": err_both[: i + 1],
            },
            scalars={"units": int(k), "error_outer": err_outer[i], "error_both": err_both[i]},
            text={"phase": "sweep", "units": str(k), "target": f"{cfg.target_error:g}"},
            caption=caption("sweep", 1.0, cfg),
        )

    # ---- the summary: part 1's network again, with the whole sweep
    needed_outer = units_needed(units, err_outer, cfg.target_error)
    needed_both = units_needed(units, err_both, cfg.target_error)
    yield Frame(
        step=cfg.steps + 1 + len(units),
        arrays={
            **data,
            **main,
            "sweep_units": units,
            "sweep_outer": err_outer,
            "sweep_both": err_both,
        },
        scalars={
            "error_outer_only_lstsq": floor_error,
            "error_outer_only_adam": curve_outer[-1],
            "error_both_layers": curve_both[-1],
            "units_needed_outer_only": needed_outer,
            "units_needed_both_layers": needed_both,
            "target_error": cfg.target_error,
            "explained": 1 - cfg.target_error,
            "units": cfg.units,
            "sweep_largest": int(units[-1]),
            "sweep_largest_outer": err_outer[-1],
            "sweep_largest_both": err_both[-1],
        },
        text={"phase": "summary", "units": str(cfg.units), "target": f"{cfg.target_error:g}"},
        caption=caption("summary", 1.0, cfg, fewer=bool(needed_both < needed_outer)),
        poster=True,
    )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection

    fig = canvas.figure
    title = fig.text(0.04, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    # left: the signal and the two fits
    fit = fig.add_axes((0.05, 0.10, 0.50, 0.72))
    style_axes(fit)
    x, y = frame.arrays["x"], frame.arrays["y"]
    fit.plot(x, y, color=MUTED, lw=6, alpha=0.35, solid_capstyle="round", label="signal")
    (floor,) = fit.plot([], [], color=OUTER, lw=1.2, ls="--", label="outer layer only: lstsq")
    (outer,) = fit.plot([], [], color=OUTER, lw=2, label="outer layer only: Adam")
    (both,) = fit.plot([], [], color=BOTH, lw=2, label="both layers: Adam")
    pad = 0.35 * np.ptp(y)
    fit.set(xlim=(0, 1), ylim=(y.min() - pad, y.max() + pad), xlabel="x")
    fit.legend(loc="upper right", fontsize=SMALL_SIZE, frameon=False, ncol=2)
    # top right: error curves (part 1) or the sweep (part 2), in the same place
    loss = fig.add_axes((0.64, 0.55, 0.33, 0.26))
    style_axes(loss)
    loss.set_yscale("log")
    (loss_outer,) = loss.plot([], [], color=OUTER, lw=2)
    (loss_both,) = loss.plot([], [], color=BOTH, lw=2)
    loss_floor = loss.axhline(1.0, color=OUTER, lw=1.2, ls="--")
    loss.set(ylim=(ERROR_FLOOR, 2.0), xlabel="step")
    loss.set_title("error (unexplained share)", fontsize=11, color=INK, loc="left")
    sweep = fig.add_axes((0.64, 0.55, 0.33, 0.26))
    style_axes(sweep)
    sweep.set(xscale="log", yscale="log", ylim=(ERROR_FLOOR, 2.0), xlabel="hidden units")
    sweep.set_xlim(0.85, SWEEP_UNITS[-1] * 1.2)
    sweep.set_xticks(SWEEP_UNITS, [str(k) for k in SWEEP_UNITS])
    sweep.minorticks_off()
    (sweep_outer,) = sweep.plot([], [], "o-", color=OUTER, lw=2, ms=4)
    (sweep_both,) = sweep.plot([], [], "o-", color=BOTH, lw=2, ms=4)
    sweep.axhline(float(frame.text.get("target", "0.01")), color=INK, lw=1, ls=":")
    sweep.set_title("error against number of units", fontsize=11, color=INK, loc="left")
    needed = sweep.text(0.03, 0.04, "", transform=sweep.transAxes, fontsize=SMALL_SIZE, color=INK)
    # bottom right: each unit as a stem at its frequency, height |a_k|
    spec = fig.add_axes((0.64, 0.10, 0.33, 0.29))
    style_axes(spec)
    f_true, a_true = frame.arrays["components"][:, 0], frame.arrays["components"][:, 1]
    spec.scatter(f_true, a_true, marker="x", s=60, color=INK, lw=2, zorder=4)
    stems_outer = LineCollection([], colors=OUTER, lw=1.5, alpha=0.8)
    stems_both = LineCollection([], colors=BOTH, lw=2)
    spec.add_collection(stems_outer)
    spec.add_collection(stems_both)
    dots_outer = spec.scatter([], [], s=14, color=OUTER, zorder=3)
    dots_both = spec.scatter([], [], s=18, color=BOTH, zorder=3)
    spec.set(xlim=(0, 12.5), ylim=(0, 1.5), xlabel="frequency (cycles per unit of x)")
    spec.set_title("each unit: |a| at its frequency (x: the signal)", fontsize=11, loc="left")
    return {
        "title": title,
        "floor": floor,
        "outer": outer,
        "both": both,
        "loss": loss,
        "loss_outer": loss_outer,
        "loss_both": loss_both,
        "loss_floor": loss_floor,
        "sweep": sweep,
        "sweep_outer": sweep_outer,
        "sweep_both": sweep_both,
        "needed": needed,
        "stems_outer": stems_outer,
        "stems_both": stems_both,
        "dots_outer": dots_outer,
        "dots_both": dots_both,
    }


def _stems(freq: np.ndarray, amp: np.ndarray) -> np.ndarray:
    return np.stack([np.c_[freq, 0 * amp], np.c_[freq, amp]], axis=1)  # (K, 2, 2)


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s, phase = frame.arrays, frame.scalars, frame.text["phase"]
    x = a["x"]
    art["floor"].set_data(x, a["fit_floor"])
    art["both"].set_data(x, a["fit_both"])
    art["outer"].set_data(x, a["fit_outer"])
    art["outer"].set_visible(phase != "sweep")  # the sweep fits the outer layer by lstsq only
    for mode in ("outer", "both"):
        freq, amp = a[f"freq_{mode}"], a[f"amp_{mode}"]
        art[f"stems_{mode}"].set_segments(_stems(freq, np.minimum(amp, 1.5)))
        art[f"dots_{mode}"].set_offsets(np.c_[freq, np.minimum(amp, 1.5)])
    training = phase == "train"
    art["loss"].set_visible(training)
    art["sweep"].set_visible(not training)
    units = frame.text["units"]
    if training:
        t = frame.step
        steps = np.arange(t + 1)
        art["loss_outer"].set_data(steps, np.maximum(a["curve_outer"], ERROR_FLOOR))
        art["loss_both"].set_data(steps, np.maximum(a["curve_both"], ERROR_FLOOR))
        art["loss_floor"].set_ydata([s["error_lstsq"]] * 2)
        art["loss"].set_xlim(0, max(int(frame.text["steps"]), 1))
        art["title"].set_text(
            f"{units} sine units, step {t}: error {s['error_outer']:.2g} tuning the outer layer "
            f"only, {s['error_both']:.2g} training both"
        )
        return
    k = a["sweep_units"]
    art["sweep_outer"].set_data(k, np.maximum(a["sweep_outer"], ERROR_FLOOR))
    art["sweep_both"].set_data(k, np.maximum(a["sweep_both"], ERROR_FLOOR))
    if phase == "sweep":
        art["title"].set_text(
            f"Sweep, {units} units: median error {s['error_outer']:.2g} with random features "
            f"(lstsq), {s['error_both']:.2g} learned"
        )
        return
    target = frame.text["target"]
    n_outer, n_both = s["units_needed_outer_only"], s["units_needed_both_layers"]

    def show(n: float) -> str:
        return "more than the sweep" if np.isnan(n) else f"{n:.0f}"

    art["needed"].set_text(
        f"units to reach error {target} (dotted):\n"
        f"outer layer only: {show(n_outer)}\nboth layers: {show(n_both)}"
    )
    art["title"].set_text(
        f"{units} units: error {s['error_outer_only_lstsq']:.2g} (outer layer, lstsq) against "
        f"{s['error_both_layers']:.2g} (both layers)"
    )
