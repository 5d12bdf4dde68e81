"""Two ways to find the weights of a model without any calculus, given the same budget of one
guess per generation. Random search draws completely fresh weights every time and keeps the best
it has ever seen; evolution keeps one parent, makes one mutated child (the parent plus a little
Gaussian noise), and lets the better of the two survive, widening its mutations when they often
succeed and narrowing them when they rarely do (Rechenberg's one-fifth rule). The model is a linear
regression with a handful of weights. On the log-scale error curves, random search crawls down the
law that order statistics predict, its best error shrinking only like `N^(-2/d)` after `N` guesses
in `d` dimensions (dashed), while evolution falls by orders of magnitude; the bars show both sets
of weights closing in, or not, on the true ones. The figure to watch is the ratio of final errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from genailab.engine import Tensor
from genailab.engine.optim import Evolution
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

RANDOM, EVOLUTION = PALETTE[1], PALETTE[0]


@experiment(
    name="random-search-vs-evolution",
    chapter="From zero to GPT",
    title="Random search versus evolution",
    order=2,
    seconds=(40, 16),
)
@dataclass
class Config:
    weights: int = setting(5, help="d, the number of weights both methods must find", ge=1, le=50)
    points: int = setting(
        64, help="data points of the regression; at least one per weight", ge=1, le=100_000
    )
    generations: int = setting(
        500, help="guesses each method may evaluate: the shared budget", ge=2, le=10_000
    )
    box: float = setting(
        2.0,
        help="random search draws each weight in [-box, box]; the true ones lie in [-1, 1]",
        ge=1,
        le=100,
    )
    sigma: float = setting(0.5, help="evolution's first mutation size", gt=0, le=100)
    adapt_sigma: bool = setting(
        True, help="one-fifth rule: every 10 generations, widen or narrow the mutations"
    )
    every: int = setting(1, help="one frame every this many generations", ge=1, le=10_000)
    seed: int = seed_setting()
    QUICK = dict(generations=150, every=2)

    def __post_init__(self) -> None:
        # Fewer points than weights leave X^T X singular: many weights fit exactly, and the
        # order-statistics law (which needs det(X^T X) > 0) has no value to draw.
        if self.points < self.weights:
            raise ValueError(f"points must be at least weights ({self.weights}), got {self.points}")


QUESTION = (
    "With the same budget of one guess per generation, how much closer does evolution get to "
    "the true weights than random guessing?"
)
ANSWER = (
    "After {guesses} guesses each: random search's error {random_search_loss:.2g} "
    "(order statistics predict {expected_random_loss:.2g}), evolution's {evolution_loss:.2g}, "
    "{ratio:,.0f} times lower"
)
CLAIMS = (
    Claim(
        "evolution_loss < random_search_loss / 100",
        "evolution ends at least 100 times closer than random search",
    ),
    Claim(
        "random_search_loss < 3 * expected_random_loss",
        "random search stalls where order statistics say it must",
    ),
)


def caption(generation: int, generations: int) -> str:
    """The message of the stretch a generation falls in."""
    if generation < generations * 0.15:
        return "Both start from the same guess; each may try one new guess per generation"
    if generation < generations * 0.55:
        return "Random search stalls: a better guess gets rarer the closer it gets"
    return "Evolution keeps narrowing its mutations and closing in on the true weights"


class RandomSearch:
    """Pure random guessing: each step draws fresh parameters uniformly in ``[low, high]`` and
    keeps them iff their loss beats the best seen so far (same interface as ``Evolution``).

    Parameters
    ----------
    params : list of Tensor
        Parameters whose ``.data`` is overwritten with the best guess so far.
    low, high : float
        The box the guesses are drawn from.
    rng : numpy.random.Generator
        Source of the guesses.

    Examples
    --------
    >>> w = Tensor(np.zeros(1))
    >>> search = RandomSearch([w], 0.0, 1.0, np.random.default_rng(0))
    >>> losses = [search.step(lambda: abs(w.data[0] - 0.5)) for _ in range(100)]
    >>> losses[-1] < 0.02 and all(a >= b for a, b in zip(losses, losses[1:]))
    True
    """

    def __init__(self, params: list[Tensor], low: float, high: float, rng: np.random.Generator):
        self.params, self.low, self.high, self.rng = list(params), low, high, rng
        self.loss: float | None = None

    def step(self, loss_fn: Callable[[], float]) -> float:
        """Draw one guess, evaluate it, keep the better of it and the best so far."""
        best = [p.data.copy() for p in self.params]
        for p in self.params:
            p.data[...] = self.rng.uniform(self.low, self.high, size=p.shape)
        loss = float(loss_fn())
        if self.loss is None or loss < self.loss:
            self.loss = loss
        else:
            for p, x in zip(self.params, best, strict=True):
                p.data[...] = x
        return self.loss


def expected_best(n_guesses: np.ndarray, A: np.ndarray, box: float) -> np.ndarray:
    """Mean best loss of random search after ``N`` guesses, for large ``N`` (order statistics).

    The loss is ``(w - w*)^T A (w - w*)`` with ``w*`` inside the box ``[-box, box]^d``. A guess
    scores below ``e`` when it falls in an ellipsoid of volume ``V_d e^(d/2) / sqrt(det A)``
    (``V_d`` the unit ball's), so with probability ``F(e) = c e^(d/2)``,
    ``c = V_d / (sqrt(det A) (2 box)^d)``, and the best of ``N`` guesses has mean
    ``int_0^inf (1 - F(e))^N de ~ Gamma(1 + 2/d) (c N)^(-2/d)``.

    Examples
    --------
    In one dimension, ``(w - w*)^2`` in ``[-1, 1]``: ``2 / N^2`` (exactly ``2 / ((N+1)(N+2))``).

    >>> expected_best([10, 100], np.eye(1), 1.0).round(6).tolist()
    [0.02, 0.0002]
    """
    d = len(A)
    ball = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    c = ball / (math.sqrt(np.linalg.det(A)) * (2 * box) ** d)
    return math.gamma(1 + 2 / d) * (c * np.asarray(n_guesses, dtype=float)) ** (-2 / d)


def shown_generations(cfg: Config) -> list[int]:
    """One frame every ``every`` generations, and one for the last."""
    shown = [*range(0, cfg.generations, cfg.every)]
    return shown if shown[-1] == cfg.generations - 1 else [*shown, cfg.generations - 1]


def frame_count(cfg: Config) -> int:
    """The number of generations shown."""
    return len(shown_generations(cfg))


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    d, n, G = cfg.weights, cfg.points, cfg.generations
    X = rng.normal(size=(n, d))  # (n, d)
    w_true = rng.uniform(-1, 1, size=d)  # (d,), inside the box
    y = X @ w_true  # (n,), no noise: the best error is 0

    def mse(w: np.ndarray) -> float:
        return float(np.mean((X @ w - y) ** 2))

    # Both start from the same first guess, then spend one loss evaluation per generation.
    w_random, w_evolved = Tensor(np.zeros(d)), Tensor(rng.uniform(-cfg.box, cfg.box, size=d))
    search = RandomSearch([w_random], -cfg.box, cfg.box, rng)
    evolution = Evolution([w_evolved], sigma=cfg.sigma, rng=rng)
    tried = {}

    def evaluate(name: str, w: Tensor) -> Callable[[], float]:
        def loss() -> float:
            tried[name] = mse(w.data)
            return tried[name]

        return loss

    # The whole run is cheap: compute it first, so that every frame knows the axes' ranges.
    hist = {k: np.empty(G) for k in ("random", "evolution", "random_try", "child", "sigma")}
    w_hist = {k: np.empty((G, d)) for k in ("random", "evolution")}
    accepted = 0
    for g in range(G):
        if g == 0:  # the shared first guess
            search.loss = evolution.loss = tried["random"] = tried["child"] = mse(w_evolved.data)
            w_random.data[...] = w_evolved.data
        else:
            search.step(evaluate("random", w_random))
            evolution.step(evaluate("child", w_evolved))
        hist["sigma"][g] = evolution.sigma
        hist["random"][g], hist["evolution"][g] = search.loss, evolution.loss
        hist["random_try"][g], hist["child"][g] = tried["random"], tried["child"]
        w_hist["random"][g], w_hist["evolution"][g] = w_random.data, w_evolved.data
        if cfg.adapt_sigma and g % 10 == 0 and g > 0:  # one-fifth rule, on the last 10 children
            rate, accepted = (evolution.accepted - accepted) / 10, evolution.accepted
            evolution.sigma *= 1 / 0.82 if rate > 0.2 else 0.82

    guesses = np.arange(1, G + 1)
    theory = expected_best(guesses, X.T @ X / n, cfg.box)  # MSE = (w - w*)^T (X^T X / n) (w - w*)
    floor = max(min(hist["evolution"].min(), theory.min()), 1e-12)
    top = max(hist["random_try"].max(), hist["child"].max())
    for g in shown_generations(cfg):
        yield Frame(
            step=g,
            arrays={
                "random_loss": hist["random"][: g + 1],
                "evolution_loss": hist["evolution"][: g + 1],
                "random_tries": hist["random_try"][: g + 1],
                "children": hist["child"][: g + 1],
                "sigma": hist["sigma"][: g + 1],
                "expected_random_loss": theory,
                "random_weights": w_hist["random"][g],
                "evolution_weights": w_hist["evolution"][g],
                "true_weights": w_true,
                "loss_range": np.array([floor, top]),
                "sigma_range": np.array([hist["sigma"].min(), hist["sigma"].max()]),
            },
            scalars={
                "generation": g,
                "random_search_loss": hist["random"][g],
                "evolution_loss": hist["evolution"][g],
                "ratio": hist["random"][g] / max(hist["evolution"][g], 1e-300),
                "expected_random_loss": theory[g],
                "sigma": hist["sigma"][g],
                "guesses": g + 1,
            },
            caption=caption(g, G),
            poster=g == G - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    G = len(a["expected_random_loss"])
    d = len(a["true_weights"])
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band

    # Left: error curves on a log scale, every guess as a faint dot.
    curve = fig.add_axes((0.08, 0.11, 0.50, 0.73))
    style_axes(curve)
    low, high = a["loss_range"]
    curve.set(yscale="log", xlim=(0, G - 1), ylim=(low / 3, high * 3), xlabel="generation")
    curve.set_ylabel("mean squared error")
    tries = curve.scatter([], [], s=5, color=RANDOM, alpha=0.25, linewidths=0)
    children = curve.scatter([], [], s=5, color=EVOLUTION, alpha=0.25, linewidths=0)
    guesses = np.arange(1, G + 1)
    curve.plot(guesses - 1, a["expected_random_loss"], color=RANDOM, lw=1.2, ls="--")
    (random_line,) = curve.plot([], [], color=RANDOM, lw=2.4, label="random search: best so far")
    (evo_line,) = curve.plot([], [], color=EVOLUTION, lw=2.4, label="evolution: the parent")
    curve.plot([], [], color=RANDOM, lw=1.2, ls="--", label="order statistics: ~ N^(-2/d)")
    curve.scatter([], [], s=12, color=MUTED, alpha=0.5, label="each guess tried")
    curve.legend(loc="lower left", fontsize=SMALL_SIZE + 1, frameon=False)

    # Right top: the weights of both against the truth.
    bars = fig.add_axes((0.66, 0.50, 0.31, 0.33))
    style_axes(bars)
    index = np.arange(d)
    random_bars = bars.bar(index - 0.2, np.zeros(d), width=0.38, color=RANDOM)
    evo_bars = bars.bar(index + 0.2, np.zeros(d), width=0.38, color=EVOLUTION)
    bars.scatter(index, a["true_weights"], marker="_", s=400, color=INK, lw=2.5, zorder=3)
    bars.axhline(0, color=MUTED, lw=0.8)
    lim = 1.15 * max(np.abs(a["true_weights"]).max(), 1.0)
    bars.set(xticks=index, xlim=(-0.6, d - 0.4), ylim=(-lim, lim))
    bars.set_xticklabels([f"w{j + 1}" for j in range(d)])
    bars.set_title("weights (black: the true ones)", fontsize=11, color=INK, loc="left")

    # Right bottom: evolution's mutation size, set by the one-fifth rule.
    step = fig.add_axes((0.66, 0.11, 0.31, 0.24))
    style_axes(step)
    s_low, s_high = a["sigma_range"]
    step.set(yscale="log", xlim=(0, G - 1), ylim=(s_low / 2, s_high * 2), xlabel="generation")
    (sigma_line,) = step.plot([], [], color=EVOLUTION, lw=1.8)
    step.set_title("evolution's mutation size σ", fontsize=11, color=INK, loc="left")
    live = [title, tries, children, random_line, evo_line, *random_bars, *evo_bars, sigma_line]
    freeze_background(fig, live)
    return dict(
        title=title,
        tries=tries,
        children=children,
        random_line=random_line,
        evo_line=evo_line,
        random_bars=random_bars,
        evo_bars=evo_bars,
        sigma_line=sigma_line,
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    g = np.arange(len(a["random_loss"]))
    art["random_line"].set_data(g, a["random_loss"])
    art["evo_line"].set_data(g, a["evolution_loss"])
    art["tries"].set_offsets(np.column_stack([g, a["random_tries"]]))
    art["children"].set_offsets(np.column_stack([g, a["children"]]))
    art["sigma_line"].set_data(g, a["sigma"])
    for bar, h in zip(art["random_bars"], a["random_weights"], strict=True):
        bar.set_height(h)
    for bar, h in zip(art["evo_bars"], a["evolution_weights"], strict=True):
        bar.set_height(h)
    ratio = float(f"{s['ratio']:.2g}")  # two significant digits, written out in full
    art["title"].set_text(
        f"Generation {s['generation']:.0f}: error {s['random_search_loss']:.2g} by random "
        f"search, {s['evolution_loss']:.2g} by evolution"
        + (f" ({ratio:,.0f}× lower)" if ratio > 1 else "")
    )
