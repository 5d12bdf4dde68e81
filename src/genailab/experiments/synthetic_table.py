"""How good is a synthetic table? The real table is split in two halves: three synthesizers
are fitted on the training half and scored against the holdout half, which they never saw.
They are Vincent Granville's quantile extrapolation (a kernel-smoothed bootstrap of whole rows)
and his NoGAN bin synthesizer (a multinomial over occupied quantile hyper-rectangles, uniform
inside each), both from his book *Synthetic Data and Generative AI*, and a Gaussian copula.
Frame by frame the synthetic table grows from 50 rows to as many as the training half. The
scatter matrix shows the held-out real rows (blue) under the chosen synthesizer's rows
(orange); the right panel tracks the multivariate Kolmogorov-Smirnov distance between each
synthetic table and the holdout, the largest gap between their joint empirical CDFs, against
two baselines computed the same way: the real copy (the training half itself, the floor that
sampling noise alone gives) and the shuffled copy (every column permuted on its own: right
margins, no dependence). A small synthetic table scores badly through sampling noise alone, so
a good synthesizer's curve should fall towards the real-copy line as rows grow and stay well
below the shuffled one. The built-in table is a ring (`x`, `y`), a skewed `income` that curves
with `y`, an integer count `visits` driven by `x` and a category `segment` tied to the angle:
the copula fills the hole of the ring, and NoGAN with 4 bins draws `visits` and `income` flat
across its wide top bins, which leaves it even above the shuffled line (8 bins bring it below).
In the run shown, {mv_ks_first_extrapolate:.3f} at 50 rows falls to {mv_ks_extrapolate:.3f} at
{rows} rows for the smoothed bootstrap, against {mv_ks_real_copy:.3f} for the real copy,
{mv_ks_copula:.3f} for the copula, {mv_ks_bins:.3f} for NoGAN and {mv_ks_shuffled:.3f} for the
shuffled copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from genailab.evaluate import compare_tables
from genailab.generate import BinSynthesizer, GaussianCopula, QuantileExtrapolator
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

METHODS = ("extrapolate", "bins", "copula")
METHOD_COLOURS = {"extrapolate": PALETTE[3], "bins": PALETTE[2], "copula": PALETTE[4]}
MIN_ROWS = 50  # the first frame's synthetic rows
SCATTER_COLUMNS = 3  # numeric columns shown in the scatter matrix


@experiment(
    name="synthetic-table",
    chapter="Granville's data videos",
    title="Synthetic tables scored against held-out rows as they grow",
    fps=5,
    seconds=(40, 15),
)
@dataclass
class Config:
    data: str = setting("", help="path of a CSV file to score; '' for the built-in table")
    rows: int = setting(
        2000, help="rows of the built-in table, half to train, half held out", ge=200, le=200_000
    )
    steps: int = setting(
        20, help="frames: synthetic sizes from 50 rows to the training rows", ge=2, le=1000
    )
    method: Literal["extrapolate", "bins", "copula"] = setting(
        "extrapolate", help="synthesizer whose rows the scatter shows (all three are scored)"
    )
    bandwidth: float = setting(
        0.1,
        help="kernel width of the quantile extrapolator, as a share of each column's sd",
        ge=0,
        le=5,
    )
    bins: int = setting(4, help="quantile bins per numeric column of NoGAN", ge=1, le=1000)
    seed: int = seed_setting()
    QUICK = dict(rows=1200, steps=8)

    def __post_init__(self) -> None:
        if self.data and not Path(self.data).expanduser().is_file():
            raise ValueError(
                f"data must be '' (the built-in table) or the path of an existing CSV file, "
                f"got {self.data!r}"
            )


QUESTION = (
    "Scored against real rows they never saw, which synthesizer's table comes close to a real "
    "copy, and how many rows does it take?"
)
ANSWER = (
    "At {rows} rows, KS to the holdout: extrapolate {mv_ks_extrapolate:.3f}, copula "
    "{mv_ks_copula:.3f}, NoGAN {mv_ks_bins:.3f}; real copy {mv_ks_real_copy:.3f}, shuffled "
    "{mv_ks_shuffled:.3f}"
)
CLAIMS = (
    Claim(
        "mv_ks_first_extrapolate > 1.5 * mv_ks_extrapolate",
        "50 rows score over 1.5 times worse than the full table: sampling noise alone",
    ),
    Claim(
        "mv_ks_extrapolate < mv_ks_real_copy + 0.03 and mv_ks_extrapolate < 0.5 * mv_ks_shuffled",
        "the smoothed bootstrap ends near the real-copy floor, under half the shuffled copy",
    ),
    Claim(
        "mv_ks_extrapolate < mv_ks_copula < 0.6 * mv_ks_shuffled",
        "the copula keeps the dependence but fills the ring's hole: worse than the bootstrap",
    ),
    Claim(
        "mv_ks_bins > mv_ks_shuffled",
        "NoGAN with coarse bins scores worse than even the shuffled copy",
    ),
)


def caption(s: int, count: int) -> str:
    """The message of the stretch frame ``s`` of ``count`` falls in."""
    if s == 0:
        return "With 50 rows even a perfect synthesizer scores badly: sampling noise alone"
    if s < 0.6 * (count - 1):
        return "As the synthetic table grows, sampling noise fades and the methods separate"
    return "Full size: the bootstrap nears the real copy, NoGAN stays above the shuffled copy"


# ------------------------------------------------------------------------------ the data
def builtin_table(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """A mixed table with real structure, drawn from ``rng``.

    Each row has an angle ``t ~ U(0, 2 pi)`` and a radius ``r ~ N(1, 0.12^2)``:

    - ``x = r cos t``, ``y = r sin t``: a ring, which no correlation describes (corr ~ 0);
    - ``income = 30 exp(0.8 y + 0.3 e)``, ``e ~ N(0, 1)``: skewed, curving upwards with ``y``;
    - ``visits ~ Poisson(exp(0.5 + 0.8 x))``: an int count driven by ``x``;
    - ``segment``: ``"a"``, ``"b"`` or ``"c"`` for the third of the circle ``t`` falls in,
      relabelled uniformly at random in 10% of the rows.

    Examples
    --------
    >>> df = builtin_table(4, np.random.default_rng(0))
    >>> list(df.columns)
    ['x', 'y', 'income', 'visits', 'segment']
    >>> df["visits"].dtype.name, sorted(set(df["segment"]) | {"a", "b", "c"})
    ('int64', ['a', 'b', 'c'])
    """
    t = rng.uniform(0.0, 2 * np.pi, rows)  # (N,)
    r = 1.0 + 0.12 * rng.standard_normal(rows)  # (N,)
    x, y = r * np.cos(t), r * np.sin(t)  # (N,), (N,)
    income = 30.0 * np.exp(0.8 * y + 0.3 * rng.standard_normal(rows))  # (N,)
    visits = rng.poisson(np.exp(0.5 + 0.8 * x)).astype(np.int64)  # (N,)
    labels = np.array(["a", "b", "c"], dtype=object)
    segment = labels[np.minimum((t / (2 * np.pi / 3)).astype(np.int64), 2)]  # (N,)
    relabel = rng.random(rows) < 0.1
    segment[relabel] = labels[rng.integers(0, 3, int(relabel.sum()))]
    return pd.DataFrame({"x": x, "y": y, "income": income, "visits": visits, "segment": segment})


def load_table(cfg: Config, rng: np.random.Generator) -> pd.DataFrame:
    """The built-in table, or the CSV at ``cfg.data`` with its incomplete rows dropped."""
    if not cfg.data:
        return builtin_table(cfg.rows, rng)
    path = Path(cfg.data).expanduser()
    if not path.is_file():
        raise ValueError(f"data must be the path of an existing CSV file, got {cfg.data!r}")
    df = pd.read_csv(path).dropna().reset_index(drop=True)
    numeric = _scatter_columns(df)
    if len(numeric) < 2 or len(df) < 20:
        raise ValueError(
            f"data must hold at least 20 complete rows and 2 numeric columns; {cfg.data!r} has "
            f"{len(df)} complete rows and numeric columns {numeric!r}"
        )
    return df


def _scatter_columns(df: pd.DataFrame) -> list:
    """The first numeric (not bool) columns that vary: those shown in the scatter matrix."""
    numeric = [
        c
        for c, col in df.items()
        if pd.api.types.is_numeric_dtype(col)
        and not pd.api.types.is_bool_dtype(col)
        and col.nunique() > 1
    ]
    return numeric[:SCATTER_COLUMNS]


def split(df: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random 50/50 split into the training half and the holdout half."""
    order = rng.permutation(len(df))
    half = len(df) // 2
    train = df.iloc[order[:half]].reset_index(drop=True)
    holdout = df.iloc[order[half:]].reset_index(drop=True)
    return train, holdout


def synthesizer(method: str, cfg: Config, random_state: int):
    """The unfitted synthesizer of ``method`` with the config's settings."""
    if method == "extrapolate":
        return QuantileExtrapolator(bandwidth=cfg.bandwidth, random_state=random_state)
    if method == "bins":
        return BinSynthesizer(bins=cfg.bins, random_state=random_state)
    if method == "copula":
        return GaussianCopula(random_state=random_state)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def row_schedule(n_train: int, steps: int) -> np.ndarray:
    """Synthetic sizes from ``min(50, n_train)`` to ``n_train``, log-spaced, distinct.

    Examples
    --------
    >>> row_schedule(1000, 4).tolist()
    [50, 136, 368, 1000]
    """
    sizes = np.geomspace(min(MIN_ROWS, n_train), n_train, steps)  # (S,)
    return np.unique(np.round(sizes).astype(np.int64))


def frame_count(cfg: Config) -> int:
    """One frame per synthetic size: fewer than ``steps`` when rounding merges sizes, or when
    the training half has fewer rows than the first size (a CSV is read to count its rows)."""
    rows = cfg.rows if not cfg.data else len(load_table(cfg, np.random.default_rng(cfg.seed)))
    return len(row_schedule(rows // 2, cfg.steps))


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    table = load_table(cfg, rng)
    train, holdout = split(table, rng)
    model_seed = int(rng.integers(2**31))
    sizes = row_schedule(len(train), cfg.steps)  # (S,)
    # One table of the largest size per method; the frame at m rows scores its first m rows,
    # themselves an i.i.d. sample of m rows, so the scatter grows instead of flickering.
    synth = {m: synthesizer(m, cfg, model_seed).fit(train).sample(int(sizes[-1])) for m in METHODS}
    scores = {m: np.empty((len(sizes), 3)) for m in METHODS}  # (S, 3): mv_ks, ks_mean, corr
    for s, size in enumerate(sizes):
        for m in METHODS:
            report = compare_tables(train, synth[m].iloc[:size], holdout, random_state=cfg.seed)
            scores[m][s] = report.scores.loc["synthetic", ["mv_ks", "ks_mean", "corr"]]
    # The baselines do not depend on the synthetic table: the last report holds them.
    base = report.scores
    columns = _scatter_columns(train)
    real = holdout[columns].to_numpy(np.float64)  # (H, k)
    shown = synth[cfg.method][columns].to_numpy(np.float64)  # (S_max, k)
    pooled = np.concatenate([real, shown])  # (H + S_max, k)
    # Quantile limits keep a skewed column's far tail from squashing the scatter.
    low, high = np.quantile(pooled, [0.003, 0.997], axis=0)  # (k,), (k,)
    pad = 0.06 * (high - low)
    limits = np.column_stack([low - pad, high + pad])  # (k, 2)
    mv_ks = np.column_stack([scores[m][:, 0] for m in METHODS])  # (S, 3)
    baselines = np.array([base.loc["real copy", "mv_ks"], base.loc["shuffled", "mv_ks"]])
    for s, size in enumerate(sizes):
        scalars = {"rows": int(size)}
        for m in METHODS:
            scalars[f"mv_ks_{m}"] = scores[m][s, 0]
            scalars[f"mv_ks_first_{m}"] = scores[m][0, 0]  # at the smallest size
            scalars[f"ks_mean_{m}"] = scores[m][s, 1]
            scalars[f"corr_{m}"] = scores[m][s, 2]
        for name, key in (("real copy", "real_copy"), ("shuffled", "shuffled")):
            for score in ("mv_ks", "ks_mean", "corr"):
                scalars[f"{score}_{key}"] = float(base.loc[name, score])
        yield Frame(
            step=s,
            arrays={
                "real": real,
                "synthetic": shown[:size],
                "limits": limits,
                "sizes": sizes[: s + 1],
                "all_sizes": sizes,
                "mv_ks": mv_ks[: s + 1],
                "mv_ks_max": np.array([max(mv_ks.max(), baselines.max())]),
                "baselines": baselines,
            },
            scalars=scalars,
            text={
                "method": cfg.method,
                "columns": "\t".join(map(str, columns)),
                "data": Path(cfg.data).name if cfg.data else "built-in table",
            },
            caption=caption(s, len(sizes)),
            poster=s == len(sizes) - 1,
        )


# ------------------------------------------------------------------------------- drawing
def _scatter_axes(fig, k: int) -> list:
    """Lower triangle of a scatter matrix, without the diagonal, in the left part of the frame."""
    left, bottom, width, height, gap = 0.07, 0.08, 0.44, 0.70, 0.07  # below the live title
    if k == 2:
        return [(fig.add_axes((left, bottom, width, height)), 0, 1)]
    w, h = (width - gap) / 2, (height - gap) / 2
    out = []
    for i in range(k):
        for j in range(i + 1, k):  # panel (i, j) at column i, row j - 1 from the top
            x0, y0 = left + i * (w + gap), bottom + (2 - j) * (h + gap)
            out.append((fig.add_axes((x0, y0, w, h)), i, j))
    return out


def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.ticker import NullLocator

    fig = canvas.figure
    a = frame.arrays
    columns = frame.text["columns"].split("\t")
    method = frame.text["method"]
    limits = a["limits"]
    panels = []
    for ax, i, j in _scatter_axes(fig, len(columns)):
        style_axes(ax)
        ax.scatter(a["real"][:, i], a["real"][:, j], s=3, color=PALETTE[0], alpha=0.45, lw=0)
        dots = ax.scatter([], [], s=3, color=PALETTE[1], alpha=0.7, lw=0)
        ax.set(xlim=limits[i], ylim=limits[j])
        ax.set_xlabel(columns[i], labelpad=1)
        ax.set_ylabel(columns[j], labelpad=1)
        panels.append((dots, i, j))
    key = fig.text(0.07 + 0.185 + 0.07, 0.76, "", fontsize=SMALL_SIZE + 1, color=INK, va="top")
    key.set_text(
        f"{frame.text['data']}\n\nblue: held-out real rows\norange: synthetic rows\n({method})"
    )
    if len(columns) == 2:  # one panel fills the left part: no room for the key
        key.set_text("")
    curve_ax = fig.add_axes((0.62, 0.10, 0.35, 0.66))
    style_axes(curve_ax)
    sizes = a["all_sizes"]
    curve_ax.set_xscale("log")
    curve_ax.set_xlim(sizes[0] * 0.9, sizes[-1] * 1.1)
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
             if sizes[0] <= t <= 0.7 * sizes[-1]] + [int(sizes[-1])]  # fmt: skip
    curve_ax.set_xticks(sorted(set(ticks)), [str(t) for t in sorted(set(ticks))])
    curve_ax.xaxis.set_minor_locator(NullLocator())
    # Headroom above the highest curve for the legend.
    curve_ax.set_ylim(0, 1.4 * float(a["mv_ks_max"][0]))
    curve_ax.set_xlabel("synthetic rows")
    curve_ax.set_title("multivariate KS to the holdout", fontsize=11, color=INK, loc="left")
    real_copy, shuffled = a["baselines"]
    curve_ax.axhline(real_copy, color=INK, lw=1.2, ls="--", label="real copy (training half)")
    curve_ax.axhline(shuffled, color=MUTED, lw=1.2, ls=":", label="shuffled columns")
    curves = {
        m: curve_ax.plot(
            [], [], color=METHOD_COLOURS[m], lw=3.0 if m == method else 1.5, marker="o", ms=3,
            label=m,
        )[0]
        for m in METHODS
    }  # fmt: skip
    curve_ax.legend(loc="upper center", fontsize=SMALL_SIZE, frameon=False, ncol=2)
    # The top band holds the caption: the live readout sits just below it.
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)
    subtitle = fig.text(0.03, 0.835, "", fontsize=SMALL_SIZE + 1, color=MUTED)
    return {"panels": panels, "curves": curves, "title": title, "subtitle": subtitle}


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    synthetic = a["synthetic"]  # (m, k)
    for dots, i, j in art["panels"]:
        dots.set_offsets(synthetic[:, [i, j]])
    for k, m in enumerate(METHODS):
        art["curves"][m].set_data(a["sizes"], a["mv_ks"][:, k])
    method = frame.text["method"]
    art["title"].set_text(
        f"{s['rows']} synthetic rows ({method}) against {len(a['real'])} held-out real rows"
    )
    art["subtitle"].set_text(
        "multivariate KS: "
        + ",  ".join(f"{m} {s[f'mv_ks_{m}']:.3f}" for m in METHODS)
        + f"  |  real copy {s['mv_ks_real_copy']:.3f},  shuffled {s['mv_ks_shuffled']:.3f}"
    )
