"""A plain bootstrap never invents a record: every synthetic value is one of the 100 observed
ones, so nothing falls below the smallest or above the largest. Vincent Granville's quantile
extrapolation (his book *Synthetic Data and Generative AI*) shakes each resampled value with
Gaussian noise of width `v` times the spread of the data, and here the bandwidth `v` grows frame
by frame from 0, the plain bootstrap, to 1. The 100 observations come from a known skewed
distribution (a lognormal, median 1), so every panel also shows the truth, dashed: the
synthetic CDF (left, top) turns from the observed staircase into a smooth curve, the histogram
of synthetic draws (left, bottom) spills past the observed minimum and maximum, and the right
panel tracks the synthetic 0.1% and 99.9% quantiles against the true ones while the median and
quartiles, the body, move far less, thanks to the variance correction (on by default) that
shrinks each draw towards the mean so the spread stays that of the data. The figures to watch
are the share of draws outside the observed range and how far the tails reach: the right tail
stretches towards the true one but stays well short of it, while the symmetric noise pushes the
left tail below zero, where a lognormal never goes, which is why Granville's method also offers
truncation. Some smoothing helps: in the run shown, the largest gap between the synthetic and
the true CDF is smallest at `v` = {best_bandwidth:.2f} ({best_cdf_gap:.3f}, against
{bootstrap_cdf_gap:.3f} for the plain bootstrap), then grows again as the noise blurs the shape
(to {max_cdf_gap_to_truth:.3f} at `v` = {bandwidth:.1f}).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from genailab.generate import QuantileExtrapolator
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

TAILS = (0.001, 0.999)  # the tail quantiles tracked frame by frame
BODY = (0.25, 0.5, 0.75)  # quartiles and median: the body of the distribution
GRID_POINTS = 400
HIST_BINS = 60


@experiment(
    name="beyond-the-range",
    chapter="Granville's data videos",
    title="Quantile extrapolation: synthetic data beyond the observed range",
    fps=10,
    seconds=(40, 15),
)
@dataclass
class Config:
    observations: int = setting(
        100, help="observed values, drawn from the lognormal truth", ge=10, le=100_000
    )
    sigma: float = setting(
        0.5,
        help="spread of log X: the observations are lognormal(0, sigma), median 1",
        gt=0,
        le=3,
    )
    max_bandwidth: float = setting(
        1.0,
        help="the bandwidth v grows from 0 (the plain bootstrap) to this, one value a frame",
        gt=0,
        le=5,
    )
    steps: int = setting(51, help="frames, i.e. bandwidth values", ge=2, le=1000)
    draws: int = setting(
        20_000,
        help="synthetic draws per frame for the histogram and the share outside",
        ge=100,
        le=10_000_000,
    )
    variance_correction: bool = setting(
        True, help="shrink each draw towards the mean so the spread stays that of the data"
    )
    seed: int = seed_setting()
    QUICK = dict(steps=11, draws=4000)


QUESTION = (
    "A bootstrap never leaves the observed range: how far past it does Granville's quantile "
    "extrapolation reach, and does it reach the true tails?"
)
ANSWER = (
    "At v = {bandwidth:.1f}: {share_outside:.1%} of draws outside the observed range; 99.9% "
    "quantile {synthetic_q999:.2f} (true {true_q999:.2f}), 0.1% quantile {synthetic_q001:.2f}"
)
CLAIMS = (
    Claim(
        "bootstrap_share_outside == 0 and share_outside > 0.02",
        "the bootstrap never leaves the observed range; with noise over 2% of draws do",
    ),
    Claim(
        "synthetic_q999 < 0.8 * true_q999 and synthetic_q001 < 0",
        "the tails miss the skew: the right one stays short, the left one dips below zero",
    ),
    Claim(
        "abs(median_shift) < 0.15 and iqr_ratio < 1.2",
        "the median moves less than 0.15 and the quartiles spread under 20% more",
    ),
    Claim(
        "best_cdf_gap < 0.7 * min(bootstrap_cdf_gap, max_cdf_gap_to_truth)",
        "some smoothing brings the CDF closest to the truth; less or more is worse",
    ),
)
BLUR = 1.25  # past the best bandwidth, a CDF gap this many times the best one counts as blur


def caption(t: int, q001: float, blurred: bool) -> str:
    """The message of frame ``t``'s stretch: the bootstrap, the smoothing, the tail below
    zero (``q001``, the 0.1% quantile, is negative), then the blur (``blurred``)."""
    if t == 0:
        return "v = 0 is the plain bootstrap: every synthetic value is an observed one"
    if blurred:
        return "More noise blurs the shape: the CDF drifts away from the true one again"
    if q001 >= 0:
        return "A little noise smooths the staircase and spills draws past the observed extremes"
    return "The left tail dips below zero, where a lognormal never goes; the body stays put"


def memory_bytes(cfg: Config) -> int:
    """Peak bytes of a run, counted in float64 arrays (measured against tracemalloc).

    Every frame's fitted extrapolator keeps its own copy of the n observations (all of them
    are fitted first, so that the last one's tails fix the axes). A frame's ``draws`` synthetic
    values pass through a few arrays of that length: rows, noise and values drawn in rounds of
    at most a million, then the kept ones and their concatenation. The smoothed CDF on the grid
    evaluates a (grid, n) table of normal CDFs, in chunks of at most 2^22 entries: one numpy
    array and PyTorch's ``ndtr`` of it (which tracemalloc does not see).
    """
    n, m = cfg.observations, cfg.draws
    models = cfg.steps * n
    draws = 3 * m + 4 * min(1_000_000, math.ceil(1.2 * m))
    table = 2 * min(GRID_POINTS * n, 2**22)
    return 8 * (models + draws + table)


# ------------------------------------------------------------------------------ the truth
def true_cdf(q: np.ndarray, sigma: float) -> np.ndarray:
    """CDF of lognormal(0, sigma): ``Phi(log q / sigma)`` for ``q > 0``, 0 elsewhere.

    Examples
    --------
    >>> true_cdf(np.array([-1.0, 1.0]), 0.5).tolist()
    [0.0, 0.5]
    """
    q = np.asarray(q, dtype=np.float64)
    logq = np.log(np.where(q > 0, q, 1.0))  # placeholder 1.0 where q <= 0, masked below
    F = torch.special.ndtr(torch.from_numpy(logq / sigma)).numpy()
    return np.where(q > 0, F, 0.0)


def true_pdf(q: np.ndarray, sigma: float) -> np.ndarray:
    """Density of lognormal(0, sigma), 0 for ``q <= 0``.

    Examples
    --------
    >>> round(float(true_pdf(np.array([1.0]), 1.0)[0]), 6)  # 1 / sqrt(2 pi)
    0.398942
    """
    q = np.asarray(q, dtype=np.float64)
    safe = np.where(q > 0, q, 1.0)
    f = np.exp(-0.5 * (np.log(safe) / sigma) ** 2) / (safe * sigma * np.sqrt(2 * np.pi))
    return np.where(q > 0, f, 0.0)


def true_quantile(p: np.ndarray, sigma: float) -> np.ndarray:
    """Quantile of lognormal(0, sigma): ``exp(sigma * Phi^{-1}(p))``.

    Examples
    --------
    >>> true_quantile(np.array([0.5]), 0.7).tolist()
    [1.0]
    """
    z = torch.special.ndtri(torch.as_tensor(np.asarray(p, dtype=np.float64))).numpy()
    return np.exp(sigma * z)


def observations(cfg: Config) -> tuple[np.ndarray, int]:
    """The seeded observations (n,) and the seed every frame's extrapolator samples with."""
    rng = np.random.default_rng(cfg.seed)
    x = rng.lognormal(0.0, cfg.sigma, size=cfg.observations)  # (n,)
    # One seed for all frames: the same rows I and noise eps are drawn at every bandwidth, so
    # each synthetic value moves continuously as v grows and the histogram morphs smoothly.
    return x, int(rng.integers(2**31))


def extrapolator(cfg: Config, bandwidth: float, model_seed: int) -> QuantileExtrapolator:
    """The (unfitted) quantile extrapolator of one frame."""
    return QuantileExtrapolator(
        bandwidth=float(bandwidth),
        variance_correction=cfg.variance_correction,
        random_state=model_seed,
    )


def frame_count(cfg: Config) -> int:
    """One frame per bandwidth value."""
    return cfg.steps


def frames(cfg: Config) -> Iterator[Frame]:
    x, model_seed = observations(cfg)
    x_sorted = np.sort(x)  # (n,)
    lo_obs, hi_obs = float(x_sorted[0]), float(x_sorted[-1])
    bandwidths = np.linspace(0.0, cfg.max_bandwidth, cfg.steps)  # (T,)
    models = [extrapolator(cfg, v, model_seed).fit(x) for v in bandwidths]
    # All quantiles first: the last frame's tails fix the axis limits of the whole video.
    levels = np.array([TAILS[0], *BODY, TAILS[1]])  # (5,)
    quantiles = np.stack([m.quantile(levels) for m in models])  # (T, 5)
    truth = true_quantile(np.array(TAILS), cfg.sigma)  # (2,)
    low = min(quantiles[:, 0].min(), truth[0], true_quantile(np.array([1e-4]), cfg.sigma)[0])
    high = max(quantiles[:, -1].max(), truth[1])
    pad = 0.05 * (high - low)
    limits = np.array([low - pad, high + pad])  # (2,)
    grid = np.linspace(*limits, GRID_POINTS)  # (G,)
    edges = np.linspace(*limits, HIST_BINS + 1)  # (B+1,)
    cdf_true, pdf_true = true_cdf(grid, cfg.sigma), true_pdf(grid, cfg.sigma)  # (G,), (G,)
    share_outside = np.empty(cfg.steps)  # (T,)
    # Every frame's CDF first too (a small table each): the captions need to know where the
    # gap to the truth is smallest, and the frames carry the best so far.
    cdfs = np.stack([m.cdf(grid) for m in models])  # (T, G) smooth for v > 0, a staircase at 0
    gaps = np.abs(cdfs - cdf_true).max(axis=1)  # (T,)
    best = int(np.argmin(gaps))
    blurred = np.logical_or.accumulate((np.arange(cfg.steps) > best) & (gaps > BLUR * gaps[best]))
    # NOTE: with variance_correction at v = 0 the draws are m + (x_I - m) / 1, which rounding can
    # carry one ulp past an observed extreme; a tolerance far below any real spill ignores that.
    tol = 1e-9 * (hi_obs - lo_obs)
    for t, (v, model) in enumerate(zip(bandwidths, models, strict=True)):
        z = model.sample(cfg.draws)  # (M,)
        share_outside[t] = np.mean((z < lo_obs - tol) | (z > hi_obs + tol))
        counts, _ = np.histogram(z, bins=edges)  # (B,)
        density = counts / (cfg.draws * np.diff(edges))  # (B,) integrates to the share inside
        q, so_far = quantiles[t], int(np.argmin(gaps[: t + 1]))
        scalars = {
            "bandwidth": float(v),
            "synthetic_q001": q[0],
            "synthetic_q999": q[-1],
            "true_q001": truth[0],
            "true_q999": truth[1],
            "observed_min": lo_obs,
            "observed_max": hi_obs,
            "share_outside": share_outside[t],
            "share_below_zero": float(np.mean(z < 0)),
            "median": q[2],
            "median_shift": q[2] - quantiles[0, 2],
            "iqr_ratio": (q[3] - q[1]) / (quantiles[0, 3] - quantiles[0, 1]),
            "max_cdf_gap_to_truth": float(gaps[t]),
            "bootstrap_share_outside": share_outside[0],
            "bootstrap_cdf_gap": float(gaps[0]),
            "best_bandwidth": float(bandwidths[so_far]),
            "best_cdf_gap": float(gaps[so_far]),
        }
        yield Frame(
            step=t,
            arrays={
                "observed": x_sorted,
                "grid": grid,
                "synthetic_cdf": cdfs[t],
                "true_cdf": cdf_true,
                "true_pdf": pdf_true,
                "edges": edges,
                "density": density,
                "bandwidths": bandwidths[: t + 1],
                "quantiles": quantiles[: t + 1],
                "share_outside": share_outside[: t + 1],
                "true_tails": truth,
                "limits": limits,
                "max_bandwidth": np.array([cfg.max_bandwidth]),
            },
            scalars=scalars,
            text={"correction": "on" if cfg.variance_correction else "off"},
            caption=caption(t, q[0], bool(blurred[t])),
            poster=t == cfg.steps - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a = frame.arrays
    limits, obs = a["limits"], a["observed"]
    lo_obs, hi_obs = obs[0], obs[-1]
    # Nothing above y = 0.90: the top band holds the caption; the live readout sits below it.
    cdf_ax = fig.add_axes((0.06, 0.50, 0.42, 0.28))
    hist_ax = fig.add_axes((0.06, 0.08, 0.42, 0.30))
    range_ax = fig.add_axes((0.57, 0.08, 0.40, 0.70))
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)
    subtitle = fig.text(0.03, 0.835, "", fontsize=SMALL_SIZE + 1, color=MUTED)
    for ax in (cdf_ax, hist_ax, range_ax):
        style_axes(ax)
    for ax in (cdf_ax, hist_ax):
        ax.set_xlim(*limits)
        for edge in (lo_obs, hi_obs):
            ax.axvline(edge, color=MUTED, lw=1, ls=":", zorder=1)

    # ECDF: observed staircase, synthetic smooth CDF, true CDF dashed.
    steps_y = np.arange(1, len(obs) + 1) / len(obs)  # (n,)
    cdf_ax.step(
        np.r_[limits[0], obs, limits[1]],
        np.r_[0.0, steps_y, 1.0],
        where="post",
        color=INK,
        lw=1.0,
        zorder=3,  # on top: at v = 0 the synthetic CDF is this very staircase
        label=f"observed ({len(obs)} values)",
    )
    (synth_cdf,) = cdf_ax.plot([], [], color=PALETTE[1], lw=2.2, label="synthetic")
    cdf_ax.plot(a["grid"], a["true_cdf"], color=PALETTE[0], lw=1.3, ls="--", label="true")
    cdf_ax.set_ylim(0, 1.02)
    cdf_ax.set_title("CDF", fontsize=11, color=INK, loc="left")
    cdf_ax.legend(loc="lower right", fontsize=SMALL_SIZE, frameon=False)

    # Histogram of the synthetic draws, the true density dashed, observed extremes dotted.
    edges = a["edges"]
    bars = hist_ax.bar(
        edges[:-1], np.zeros(len(edges) - 1), width=np.diff(edges), align="edge",
        color=PALETTE[1], alpha=0.75, label="synthetic draws",
    )  # fmt: skip
    hist_ax.plot(a["grid"], a["true_pdf"], color=PALETTE[0], lw=1.3, ls="--", label="true density")
    # Fixed at 1.8x the true peak: the spiky bootstrap histogram at v = 0 is clipped, on purpose.
    hist_ax.set_ylim(0, 1.8 * a["true_pdf"].max())
    hist_ax.set_title(
        "synthetic draws; dotted: observed min and max",
        fontsize=11,
        color=INK,
        loc="left",
    )
    hist_ax.legend(loc="upper right", fontsize=SMALL_SIZE, frameon=False)

    # Range vs bandwidth: synthetic tails and body, against the observed and true extremes.
    vmax = float(a["max_bandwidth"][0])
    range_ax.set_xlim(0, vmax)
    range_ax.set_ylim(*limits)
    range_ax.set_xlabel("bandwidth v")
    for edge in (lo_obs, hi_obs):
        range_ax.axhline(edge, color=MUTED, lw=1, ls=":")
    for tail in a["true_tails"]:
        range_ax.axhline(tail, color=PALETTE[0], lw=1.3, ls="--")
    range_ax.text(vmax, hi_obs, "observed max ", color=MUTED, fontsize=SMALL_SIZE,
                  ha="right", va="bottom")  # fmt: skip
    range_ax.text(vmax, lo_obs, "observed min ", color=MUTED, fontsize=SMALL_SIZE,
                  ha="right", va="bottom")  # fmt: skip
    range_ax.text(0.01 * vmax, a["true_tails"][1], " true 99.9%", color=PALETTE[0],
                  fontsize=SMALL_SIZE, va="bottom")  # fmt: skip
    range_ax.text(0.01 * vmax, a["true_tails"][0], " true 0.1%", color=PALETTE[0],
                  fontsize=SMALL_SIZE, va="top")  # fmt: skip
    # A dot marks the current bandwidth, so the first frame (a single point) shows too.
    mark = dict(marker="o", ms=5, markevery=slice(-1, None))
    tails = [range_ax.plot([], [], color=PALETTE[3], lw=2.2, **mark)[0] for _ in range(2)]
    body = [range_ax.plot([], [], color=PALETTE[2], lw=1.6 + (k == 1), **mark)[0] for k in range(3)]
    tails[0].set_label("synthetic 0.1% and 99.9% quantiles")
    body[0].set_label("synthetic quartiles and median")
    range_ax.axhline(0, color=INK, lw=0.6)
    range_ax.legend(loc="upper left", fontsize=SMALL_SIZE, frameon=False,
                    bbox_to_anchor=(0.0, 0.93))  # fmt: skip
    range_ax.set_title(
        f"range vs bandwidth (variance correction {frame.text['correction']})",
        fontsize=11,
        color=INK,
        loc="left",
    )
    return {
        "title": title,
        "subtitle": subtitle,
        "synth_cdf": synth_cdf,
        "bars": bars,
        "tails": tails,
        "body": body,
    }


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    art["synth_cdf"].set_data(a["grid"], a["synthetic_cdf"])
    for bar, height in zip(art["bars"], a["density"], strict=True):
        bar.set_height(height)
    v, q = a["bandwidths"], a["quantiles"]  # (t+1,), (t+1, 5)
    art["tails"][0].set_data(v, q[:, 0])
    art["tails"][1].set_data(v, q[:, -1])
    for k, line in enumerate(art["body"]):
        line.set_data(v, q[:, 1 + k])
    art["title"].set_text(
        f"Bandwidth v = {s['bandwidth']:.2f}: {s['share_outside']:.1%} of synthetic draws fall "
        "outside the observed range"
    )
    art["subtitle"].set_text(
        f"0.1%, 99.9% quantiles: synthetic {s['synthetic_q001']:.2f}, {s['synthetic_q999']:.2f}"
        f"  |  true {s['true_q001']:.2f}, {s['true_q999']:.2f}"
        f"  |  observed min, max {s['observed_min']:.2f}, {s['observed_max']:.2f}"
        f"  |  median {s['median']:.2f}"
    )
