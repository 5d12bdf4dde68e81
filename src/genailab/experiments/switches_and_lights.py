"""A row of switches drives a row of lights, and we want to predict which lights come on. The
obvious way is a table of if-else rules, one per switch combination: it is exact for what it has
seen, silent about the rest, and its size doubles with every switch added (the bottom-left curve:
a million rules for twenty switches). Yet each light here follows a simple law, on when a weighted
sum of the switches passes a threshold, and Rosenblatt's perceptron (1958) learns exactly such
laws with n + 1 numbers per light. It sees half of the combinations, one at a time, and nudges its
weights by `w += lr * (y - y_hat) * x` whenever it gets a light wrong. Watch the weights settle
(top right), the mistakes vanish from the maps of every combination (one square each, wrong ones
in blue) and the accuracy on the combinations it never saw, which no rule table can answer. In
this run it took {epoch:.0f} passes and {mistakes} mistakes, far fewer than the convergence
theorem's bound of {mistake_bound:,.0f}, and got {unseen_accuracy:.1%} of the unseen lights right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import Perceptron
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

MAX_N = 20  # the rule-explosion panel counts up to this many switches
TABLE_ROWS = 9  # if-else rules written out in the table
# Map colours: off, on, wrong, then off and on again, paler, for combinations never shown.
MAP_COLOURS = ("#C8C8C8", PALETTE[1], PALETTE[0], "#EDEDED", "#F6D99B")
WRONG = MAP_COLOURS[2]


@experiment(
    name="switches-and-lights",
    chapter="From zero to GPT",
    title="Switches and lights: if-else rules versus a perceptron",
    order=1,
    seconds=(40, 15),
)
@dataclass
class Config:
    switches: int = setting(
        10, help="switches n: 2^n combinations; the maps show one square each", ge=2, le=14
    )
    lights: int = setting(6, help="lights, each with its own hidden wiring to learn", ge=1, le=8)
    train_fraction: float = setting(
        0.5, help="share of the 2^n combinations the perceptron is shown", gt=0, le=1
    )
    epochs: int = setting(
        40,
        help="passes over the shown combinations at most; stops at one without a mistake",
        ge=1,
        le=800,
    )
    training_frames: int = setting(
        120,
        help="frames spread evenly over the perceptron's passes, however many it takes",
        ge=1,
        le=2000,
    )
    intro_frames: int = setting(
        24, help="frames spent writing the if-else rules before the perceptron", ge=0, le=1000
    )
    seed: int = seed_setting()
    QUICK = dict(switches=6, lights=4, epochs=20, training_frames=24, intro_frames=8)


def all_combinations(n: int) -> np.ndarray:
    """Every setting of ``n`` switches, in binary order (the first switch is the high bit)."""
    return (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1  # (2^n, n)


def wiring(n: int, lights: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hidden integer weights (-3..3) and half-integer thresholds: light k is on iff
    ``switches @ weights[k] > thresholds[k]``. Each threshold sits at the median sum, so every
    light is on for roughly half of the combinations, and at least 0.5 away from any sum."""
    X = all_combinations(n)  # (2^n, n)
    weights = np.zeros((lights, n), dtype=np.int64)
    thresholds = np.zeros(lights)
    for k in range(lights):
        while not weights[k].any():
            weights[k] = rng.integers(-3, 4, size=n)
        thresholds[k] = np.floor(np.median(X @ weights[k])) + 0.5
    return weights, thresholds


QUESTION = (
    "Can a perceptron learn which lights a row of switches turns on, and light the "
    "combinations it never saw, where a table of if-else rules has no answer?"
)
ANSWER = (
    "In {epoch:.0f} passes and {mistakes} mistakes, {weights_needed} weights learned the "
    "wiring: {unseen_accuracy:.1%} right on the {unseen_combinations} combinations never seen"
)
CLAIMS = (
    Claim("train_accuracy == 1", "it ends a pass without a mistake: every seen light is right"),
    Claim(
        "unseen_accuracy > 0.85",
        "it gets over 85% of the lights right on combinations it never saw",
    ),
    Claim(
        "mistakes <= mistake_bound",
        "it makes no more mistakes than the convergence theorem allows",
    ),
)


def caption(phase: str, progress: float, passes: int, converged: bool) -> str:
    """The message of the stretch a frame falls in: the rules, the start, learning, and the
    last pass, the one without a mistake (when the perceptron got there)."""
    if phase == "rules":
        return "The if-else way: one rule per combination seen, and none for the unseen"
    if progress == 0:
        return "A perceptron starts with every weight at zero: all lights off"
    if not converged or progress <= max(passes - 1, 0.5 * passes):
        return "Each mistake nudges the weights: w += (y - ŷ) x, and the maps turn right"
    return "A whole pass without a mistake: the wiring is learned, unseen lights included"


def frame_count(cfg: Config) -> int:
    """The intro, the untrained perceptron, then the training frames."""
    return cfg.intro_frames + 1 + cfg.training_frames


def passes_needed(X: np.ndarray, Y: np.ndarray, orders: list[np.ndarray]) -> tuple[int, bool]:
    """Train a perceptron pass by pass in the given orders until a pass makes no mistake:
    how many passes it took (that one included) and whether it got there."""
    model = Perceptron(lr=1.0, shuffle=False)
    for epoch, order in enumerate(orders):
        before = model.mistakes_.sum() if hasattr(model, "coef_") else 0
        model.partial_fit(X[order], Y[order])
        if model.mistakes_.sum() == before:
            return epoch + 1, True
    return len(orders), False


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    n, L = cfg.switches, cfg.lights
    X = all_combinations(n)  # (N, n)
    weights, thresholds = wiring(n, L, rng)
    sums = X @ weights.T  # (N, L)
    Y = (sums > thresholds).astype(np.int64)  # (N, L), the truth
    N = len(X)
    n_train = max(1, round(cfg.train_fraction * N))
    order = rng.permutation(N)
    train, unseen = np.sort(order[:n_train]), np.sort(order[n_train:])

    # Convergence theorem: from zero weights, light k makes at most (R / gamma_k)^2 mistakes,
    # gamma_k the margin of its true (normalised) separator in the space x~ = (x, 1).
    Xt = np.hstack([X[train], np.ones((n_train, 1))])  # (n_train, n+1)
    U = np.hstack([weights, -thresholds[:, None]])  # (L, n+1)
    gamma = np.abs(Xt @ U.T).min(axis=0) / np.linalg.norm(U, axis=1)  # (L,)
    bounds = (np.linalg.norm(Xt, axis=1).max() / gamma) ** 2  # (L,)

    is_unseen = np.zeros((N, 1), dtype=np.int64)
    is_unseen[unseen] = 1
    sizes = np.arange(1, MAX_N + 1)
    constant = {
        "weights_true": weights.astype(float),
        "thresholds": thresholds,
        "rule_switches": X[train[:TABLE_ROWS]],
        "rule_lights": Y[train[:TABLE_ROWS]],
        "mistake_bounds": bounds,
        "seen": is_unseen[:, 0] == 0,  # (N,): the combinations the perceptron is shown
    }
    # Training is cheap: run it once to know how many passes it takes, then replay it in the
    # same example order, stopping at training_frames points spread evenly over those passes.
    # So the frame count is known beforehand, however fast the perceptron converges.
    orders = [rng.permutation(train) for _ in range(cfg.epochs)]
    passes, converged = passes_needed(X, Y, orders)
    sequence = np.concatenate(orders[:passes])  # every example shown, in order
    stops = np.round(np.arange(1, cfg.training_frames + 1) * len(sequence) / cfg.training_frames)

    total = frame_count(cfg)
    progress, train_acc, unseen_acc = (np.full(total, np.nan) for _ in range(3))
    model = Perceptron(lr=1.0, shuffle=False)  # the order is the one drawn above

    def frame(step: int, written: int, shown_n: int, epoch: float, clean: bool = False) -> Frame:
        fitted = hasattr(model, "coef_")
        pred = model.predict(X) if fitted else np.zeros_like(Y)  # zero weights: all lights off
        right = pred == Y  # (N, L)
        verdict = np.where(right, Y + 3 * is_unseen, 2).T  # (L, N): an index into MAP_COLOURS
        progress[step], train_acc[step] = epoch, right[train].mean()
        unseen_acc[step] = right[unseen].mean() if len(unseen) else np.nan
        mistakes = model.mistakes_ if fitted else np.zeros(L, dtype=np.int64)
        coef = np.hstack([model.coef_, model.intercept_[:, None]]) if fitted else np.zeros_like(U)
        phase = "rules" if step < cfg.intro_frames else "perceptron"
        return Frame(
            step=step,
            arrays={
                **constant,
                "weights": coef,  # (L, n+1): the last column is the bias
                "verdict": verdict,
                "mistakes_per_light": mistakes.copy(),
                "sizes": sizes[:shown_n],
                "progress": progress[: step + 1],
                "train_accuracy": train_acc[: step + 1],
                "unseen_accuracy": unseen_acc[: step + 1],
            },
            scalars={
                "epoch": epoch,
                "train_accuracy": train_acc[step],
                "unseen_accuracy": unseen_acc[step],
                "mistakes": int(mistakes.sum()),
                "mistake_bound": float(bounds.sum()),
                "rules_written": written,
                "rules_needed": N,
                "unseen_combinations": len(unseen),
                "weights_needed": (n + 1) * L,
                "converged": clean,
            },
            text={"phase": phase},
            caption=caption(phase, epoch, passes, converged),
            poster=clean,
        )

    step = 0
    for k in range(cfg.intro_frames):  # the if-else table fills up; its cost curve grows
        written = round(n_train * (k + 1) / cfg.intro_frames)
        yield frame(step, written, round(MAX_N * (k + 1) / cfg.intro_frames), 0.0)
        step += 1
    yield frame(step, n_train, MAX_N, 0.0)  # the perceptron before it has seen anything
    step += 1
    shown = 0
    for j, stop in enumerate(stops.astype(int)):
        if stop > shown:  # two stops may fall on the same example when a pass is short
            chunk = sequence[shown:stop]
            model.partial_fit(X[chunk], Y[chunk])
            shown = stop
        last = j == len(stops) - 1
        yield frame(step, n_train, MAX_N, passes * shown / len(sequence), last and converged)
        step += 1


# ------------------------------------------------------------------------------- drawing
def _rule_lines(frame: Frame) -> str:
    switches, lights = frame.arrays["rule_switches"], frame.arrays["rule_lights"]
    written = int(frame.scalars["rules_written"])
    lines = []
    for s, y in zip(switches[:written], lights[:written], strict=True):
        lamps = "".join("●" if v else "○" for v in y)
        lines.append(f"if {''.join(map(str, s))} then {lamps}")
    more = written - len(lines)
    if more > 0:
        lines.append(f"... {more:,} more rules")
    lines += [""] * (TABLE_ROWS + 1 - len(lines))
    unseen = int(frame.scalars["rules_needed"]) - written
    lines.append(f"{written:,} rules; none for the {unseen:,} unseen" if unseen else "")
    return "\n".join(lines)


def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.colors import ListedColormap

    fig = canvas.figure
    n = frame.arrays["rule_switches"].shape[1]
    L = frame.arrays["weights"].shape[0]
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band

    # Left: the if-else rule table, and how many rules n switches need.
    fig.text(0.03, 0.80, "if-else rules: switches → lights", fontsize=11, color=INK)
    table = fig.text(
        0.03, 0.77, "", fontsize=SMALL_SIZE + 1, family="DejaVu Sans Mono", color=INK, va="top"
    )
    explode = fig.add_axes((0.07, 0.09, 0.28, 0.255))
    style_axes(explode)
    explode.set_yscale("log")
    explode.set(xlim=(0.5, MAX_N + 0.5), ylim=(1, 3 * 2.0**MAX_N))
    explode.set_xticks([1, 5, 10, 15, 20])
    explode.set_xlabel("number of switches n")
    explode.set_title("numbers to store, per light", fontsize=11, color=INK, loc="left")
    (rules_line,) = explode.plot([], [], color=PALETTE[3], lw=2.2, label="if-else rules: 2ⁿ")
    (weights_line,) = explode.plot([], [], color=PALETTE[2], lw=2.2, label="perceptron: n + 1")
    explode.legend(loc="upper left", fontsize=SMALL_SIZE, frameon=False)
    here = explode.scatter([], [], s=30, color=INK, zorder=4)
    rules_here = explode.text(n + 0.8, 2.0**n, "", fontsize=SMALL_SIZE, color=INK, va="top")
    weights_here = explode.text(n + 0.8, n + 1, "", fontsize=SMALL_SIZE, color=INK, va="top")

    # Right top: the perceptron's weights, one row per light.
    heat = fig.add_axes((0.46, 0.625, 0.50, 0.165))
    image = heat.imshow(
        np.zeros((L, n + 1)), cmap="PuOr_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest"
    )
    heat.set_xticks(range(n + 1), [f"s{j + 1}" for j in range(n)] + ["bias"], fontsize=SMALL_SIZE)
    heat.set_yticks(range(L), [f"light {k + 1}" for k in range(L)], fontsize=SMALL_SIZE)
    heat.tick_params(length=0, colors=MUTED)
    for side in heat.spines.values():
        side.set_visible(False)
    fig.text(0.46, 0.80, "perceptron weights, per light", fontsize=11, color=INK)
    fig.text(0.96, 0.80, "■ positive", fontsize=SMALL_SIZE + 1, color="#E66101", ha="right")
    fig.text(0.875, 0.80, "■ negative", fontsize=SMALL_SIZE + 1, color="#5E3C99", ha="right")

    # Right middle: every combination as a square, one map per light.
    h = n // 2
    cmap = ListedColormap(MAP_COLOURS)
    maps, width, gap = [], 0.50 / L, 0.012
    for k in range(L):
        ax = fig.add_axes((0.46 + k * width, 0.345, width - gap, 0.18))
        im = ax.imshow(
            np.zeros((2**h, 2 ** (n - h))),
            cmap=cmap,
            vmin=-0.5,
            vmax=len(MAP_COLOURS) - 0.5,
            interpolation="nearest",
            aspect="auto",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"light {k + 1}", fontsize=SMALL_SIZE, color=MUTED, labelpad=2)
        for side in ax.spines.values():
            side.set_visible(False)
        maps.append(im)
    fig.text(0.46, 0.54, "one square per combination", fontsize=11, color=INK)
    legend = ((0.697, "on", MAP_COLOURS[1]), (0.741, "off", "#AAAAAA"), (0.787, "wrong", WRONG))
    for x, label, colour in legend:
        fig.text(x, 0.54, f"■ {label}", fontsize=SMALL_SIZE + 1, color=colour)
    fig.text(0.96, 0.54, "pale: unseen", fontsize=SMALL_SIZE + 1, color=MUTED, ha="right")

    # Right bottom: accuracy on the combinations seen and unseen.
    acc = fig.add_axes((0.51, 0.08, 0.45, 0.15))
    style_axes(acc)
    acc.set_ylim(0.4, 1.03)
    acc.set_yticks([0.5, 0.75, 1.0], ["50%", "75%", "100%"])
    acc.set_xlabel("epoch", fontsize=SMALL_SIZE, color=MUTED, labelpad=1)
    (seen,) = acc.plot([], [], color=PALETTE[2], lw=2)
    (unseen,) = acc.plot([], [], color=PALETTE[4], lw=2)
    fig.text(0.46, 0.255, "accuracy", fontsize=11, color=INK)
    seen_text = fig.text(0.545, 0.255, "", fontsize=11, color=PALETTE[2])
    unseen_text = fig.text(0.665, 0.255, "", fontsize=11, color=PALETTE[4])
    mistakes_text = fig.text(0.955, 0.095, "", fontsize=SMALL_SIZE, color=MUTED, ha="right")

    moving = [title, image, *maps, seen_text, unseen_text, mistakes_text]
    intro = [table, rules_line, weights_line, here, rules_here, weights_here]
    freeze_background(fig, moving + intro, [acc])
    return dict(
        moving=moving,
        table=table,
        rules_line=rules_line,
        weights_line=weights_line,
        here=here,
        rules_here=rules_here,
        weights_here=weights_here,
        image=image,
        maps=maps,
        acc=acc,
        seen=seen,
        unseen=unseen,
        seen_text=seen_text,
        unseen_text=unseen_text,
        mistakes_text=mistakes_text,
        title=title,
        n=n,
        L=L,
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s, n = frame.arrays, frame.scalars, art["n"]
    if not art.get("intro_done"):
        art["table"].set_text(_rule_lines(frame))
        sizes = a["sizes"]
        art["rules_line"].set_data(sizes, 2.0**sizes)
        art["weights_line"].set_data(sizes, sizes + 1)
        reached = len(sizes) >= n
        art["here"].set_offsets([[n, 2.0**n], [n, n + 1]] if reached else np.empty((0, 2)))
        art["rules_here"].set_text(f"{2**n:,} rules" if reached else "")
        art["weights_here"].set_text(f"{n + 1} weights" if reached else "")
        if frame.text["phase"] != "rules":  # the left half is complete: fold it into the pixels
            art["intro_done"] = True
            freeze_background(canvas.figure, art["moving"], [art["acc"]])

    w = a["weights"]
    scale = np.abs(w).max(axis=1, keepdims=True)  # the decision depends on w's direction only
    art["image"].set_data(np.divide(w, scale, out=np.zeros_like(w), where=scale > 0))
    h = n // 2
    for im, verdict in zip(art["maps"], a["verdict"], strict=True):
        im.set_data(verdict.reshape(2**h, 2 ** (n - h)))

    progress = a["progress"]
    art["seen"].set_data(progress, a["train_accuracy"])
    art["unseen"].set_data(progress, a["unseen_accuracy"])
    art["acc"].set_xlim(0, max(3.0, float(np.nanmax(progress))))
    unseen = s["unseen_accuracy"]
    art["seen_text"].set_text(f"seen {s['train_accuracy']:.1%}")
    art["unseen_text"].set_text("" if np.isnan(unseen) else f"unseen {unseen:.1%}")
    art["mistakes_text"].set_text(
        f"{s['mistakes']:,.0f} mistakes (theorem: ≤ {s['mistake_bound']:,.0f})"
    )
    # The live readout under the band: the figures of this frame (the caption says the rest).
    if frame.text["phase"] == "rules":
        text = (
            f"{s['rules_written']:,.0f} rules written, one per combination seen; "
            f"{s['rules_needed']:,.0f} combinations in all"
        )
    else:
        text = (
            f"Epoch {s['epoch']:.1f}: {s['train_accuracy']:.1%} of the seen lights right, "
            + ("" if np.isnan(unseen) else f"{unseen:.1%} of the unseen, ")
            + f"with {(n + 1) * art['L']} weights"
        )
    art["title"].set_text(text)
