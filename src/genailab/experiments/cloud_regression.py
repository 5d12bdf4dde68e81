"""Cloud regression fits a shape to a cloud of points with no response variable: an ellipse here,
found as the ellipse that makes its implicit equation `g(x, y) = 0` closest to true on every point
(Vincent Granville's "swiss army knife" of regression, with the Halir-Flusser ellipse fit). Each
frame is a brand-new data set: the points cover an arc that opens from half the ellipse to all of
it, while the noise rises and the true ellipse slowly turns. The dashed curve is the truth, the
solid one the fit, and the shaded band with thin curves shows where the fit could have landed: a
parametric bootstrap that simulates fresh data sets from the fitted ellipse and refits each. Watch
the errors on the right: on a half arc the fit comes out too small, and the bootstrap curves
gather around the fit rather than the truth (a bootstrap shows the spread of an estimate, not its
bias); as the arc closes the error falls, even though the noise keeps growing. The last frames
drop the shape altogether: two clouds, and the two centres that minimise
`sum |x - a|^2 |x - b|^2` (found by damped Newton steps), beside the k-means centres; as one cloud
spreads out, the two answers part ways. In the run shown, the centre error falls from
{err_centre_short_arcs:.1%} of the semi-major axis on the shortest arcs (the first third of the
data sets) to {err_centre_long_arcs:.1%} on the longest, while the noise grows from
{noise_first:.0%} to {noise:.0%} of it; on the short arcs the fit is too small in
{too_small_short_arcs:.0%} of the data sets and the bootstrap's 95% box misses the true centre in
{centre_missed_short_arcs:.0%} of them. The product and k-means centres of the wide cloud end
{gap_wide_centre:.2f} apart, against {gap_wide_first:.2f} while it was as tight as the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.learn import CloudRegression, EllipseGeometry, ProductCentres, two_means
from genailab.settings import seed_setting, setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

CENTRE, SEMI_MAJOR, SEMI_MINOR = np.array([0.3, -0.2]), 2.4, 1.3
ANGLE_START, ANGLE_DRIFT = 0.25, 1.0  # radians: the true ellipse turns by ANGLE_DRIFT
XLIM, YLIM = (-3.9, 3.9), (-4.3, 3.0)  # room below the shapes for the legend
CURVE_T = np.linspace(0, 2 * np.pi, 121)  # parameter angles to draw a closed ellipse
SHOWN_BOOT = 24  # bootstrap ellipses drawn thinly
PARAMS = ("centre_x", "centre_y", "semi_major", "semi_minor", "angle")


@experiment(
    name="cloud-regression",
    chapter="Granville's data videos",
    title="Cloud regression: an ellipse from a noisy arc, with bootstrap bands, then two centres",
    seconds=(40, 15),
)
@dataclass
class Config:
    frames: int = setting(
        120,
        help="data sets, a frame each; the last cloud_share of them show two clouds",
        ge=4,
        le=10_000,
    )
    points: int = setting(120, help="points per data set", ge=12, le=100_000)
    boot: int = setting(
        300,
        help="bootstrap data sets simulated and refitted per fit (band, intervals)",
        ge=20,
        le=10_000,
    )
    arc_start: float = setting(
        0.5, help="share of the ellipse covered by the first data set's arc", ge=0.1, le=1
    )
    arc_end: float = setting(
        1.0, help="share of the ellipse covered by the last ellipse data set's arc", ge=0.1, le=1
    )
    noise_start: float = setting(
        0.02,
        help="noise sd of the first data set, as a share of the semi-major axis",
        ge=0,
        le=0.2,
    )
    noise_end: float = setting(
        0.04,
        help="noise sd of the last ellipse data set, as a share of the semi-major axis",
        ge=0,
        le=0.2,
    )
    cloud_share: float = setting(
        0.25, help="share of the frames given to the two clouds at the end", ge=0, lt=1
    )
    seed: int = seed_setting()
    QUICK = dict(frames=24, points=80, boot=100)


QUESTION = (
    "How well does an ellipse fitted to a noisy arc find the true one as the arc closes, and "
    "does its bootstrap band know when it is wrong?"
)
ANSWER = (
    "Centre error {err_centre_short_arcs:.1%} of a on the short arcs, {err_centre_long_arcs:.1%} "
    "on the long ones; product and k-means centres end {gap_wide_centre:.2f} apart"
)
CLAIMS = (
    Claim(
        "err_centre_long_arcs < 0.5 * err_centre_short_arcs and noise > noise_first",
        "the centre error more than halves as the arc closes, though the noise grows",
    ),
    Claim(
        "too_small_short_arcs > 0.6",
        "on the short arcs the fitted ellipse comes out too small in most data sets",
    ),
    Claim(
        "centre_missed_short_arcs > 0.3",
        "there the bootstrap's 95% box misses the true centre in over 30% of the data sets",
    ),
    Claim(
        "gap_wide_centre > 1.5 * gap_wide_first",
        "as one cloud spreads, the product and k-means centres part: 1.5 times further or more",
    ),
)


def caption(cfg: Config, step: int) -> str:
    """The message of the stretch frame ``step`` falls in: a third of the ellipse data sets
    each (short, opening, long arcs), then two halves of the two-cloud part."""
    n_ellipse, n_cloud = split(cfg)
    if step < n_ellipse:
        part = min(3 * step // max(n_ellipse, 1), 2)
        return (
            "On a short arc the fit comes out too small; the bootstrap gathers round the fit",
            "As the arc opens, the fit closes in on the truth although the noise keeps growing",
            "A nearly closed ellipse: the errors are a fraction of the short-arc ones",
        )[part]
    if step - n_ellipse < n_cloud / 2:
        return "No shape at all: two clouds, their product centres (X) and k-means centres (o)"
    return "As one cloud spreads out, the product centres and the k-means centres part ways"


def thirds(n_ellipse: int) -> tuple[int, int]:
    """The short arcs are the data sets before the first index, the long ones from the second."""
    third = max(n_ellipse // 3, 1)
    return third, n_ellipse - third


def memory_bytes(cfg: Config) -> int:
    """The peak of one fit's bootstrap: ``boot`` simulated data sets of ``points`` points,
    each point as about 16 float64 numbers at once (the simulated point, its centred and scaled
    copies, and its 6 conic features, as columns and then stacked), plus each refit's radius
    along the 121 rays of the prediction band (a few copies)."""
    return 8 * cfg.boot * (16 * cfg.points + 4 * len(CURVE_T))


def frame_count(cfg: Config) -> int:
    """The ellipse frames and the two-cloud frames: ``frames`` in all."""
    return cfg.frames


def split(cfg: Config) -> tuple[int, int]:
    """Numbers of ellipse frames and two-cloud frames."""
    clouds = round(cfg.frames * cfg.cloud_share)
    return cfg.frames - clouds, clouds


def schedule(cfg: Config, i: int) -> tuple[float, float, float]:
    """Arc share, noise (share of the semi-major axis) and true angle of ellipse data set ``i``."""
    n_ellipse = split(cfg)[0]
    tau = i / max(n_ellipse - 1, 1)
    arc = cfg.arc_start + tau * (cfg.arc_end - cfg.arc_start)
    noise = cfg.noise_start + tau * (cfg.noise_end - cfg.noise_start)
    return arc, noise, ANGLE_START + tau * ANGLE_DRIFT


def ellipse_data(cfg: Config, i: int, rng: np.random.Generator):
    """A data set: points on an arc of share ``arc`` (centred on the top of the ellipse's own
    frame, t = pi / 2, so a half arc runs from one end of the major axis to the other), plus
    isotropic Gaussian noise."""
    arc, noise, angle = schedule(cfg, i)
    truth = EllipseGeometry(CENTRE, SEMI_MAJOR, SEMI_MINOR, angle)
    t = rng.uniform(np.pi / 2 - np.pi * arc, np.pi / 2 + np.pi * arc, cfg.points)  # (N,)
    noise_sd = noise * SEMI_MAJOR
    points = truth.point(t) + noise_sd * rng.standard_normal((cfg.points, 2))  # (N, 2)
    return truth, points


def frames(cfg: Config) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    n_ellipse, n_cloud = split(cfg)
    # error histories (relative to the semi-major axis; the angle in radians), preallocated
    errors = np.full((n_ellipse, 3), np.nan)  # (E, 3): centre, axes, angle
    widths = np.full((n_ellipse, 2), np.nan)  # (E, 2): 95% widths of centre_x and semi_major
    gaps = np.full((max(n_cloud, 1), 2), np.nan)  # (C, 2): gap of the wide / tight cloud centre
    too_small = np.zeros(n_ellipse, dtype=bool)  # (E,) fitted semi-major below the true one
    centre_missed = np.zeros(n_ellipse, dtype=bool)  # (E,) the 95% box misses the true centre
    short, long = thirds(n_ellipse)
    last: dict[str, float] = {}
    for i in range(n_ellipse):
        arc, noise, _ = schedule(cfg, i)
        truth, points = ellipse_data(cfg, i, rng)
        fit = CloudRegression("ellipse", n_boot=cfg.boot, random_state=rng).fit(points)
        est, true = fit.params_, truth.as_array()
        angle_error = abs((est[4] - true[4] + np.pi / 2) % np.pi - np.pi / 2)
        errors[i] = [
            np.linalg.norm(est[:2] - true[:2]) / SEMI_MAJOR,
            max(abs(est[2] - true[2]), abs(est[3] - true[3])) / SEMI_MAJOR,
            angle_error,
        ]
        ci = fit.confidence_intervals()
        too_small[i] = est[2] < true[2]
        centre_missed[i] = not all(
            ci[n][0] <= true[k] <= ci[n][1] for k, n in enumerate(PARAMS[:2])
        )
        widths[i] = [
            (ci["centre_x"][1] - ci["centre_x"][0]) / SEMI_MAJOR,
            (ci["semi_major"][1] - ci["semi_major"][0]) / SEMI_MAJOR,
        ]
        inner, outer = fit.prediction_band(CURVE_T)  # (T, 2) each
        shown = fit.boot_params_[:SHOWN_BOOT]  # (S, 5)
        boot_curves = np.stack(
            [EllipseGeometry(p[:2], p[2], p[3], p[4]).point(CURVE_T) for p in shown]
        )  # (S, T, 2); a loop over 24 drawn curves, not over samples
        last = {"arc": arc, "noise": noise}
        for k, name in enumerate(PARAMS):
            last[f"true_{name}"] = true[k]
            last[f"fit_{name}"] = est[k]
            last[f"ci_width_{name}"] = ci[name][1] - ci[name][0]
        last |= {
            "err_centre": errors[i, 0],
            "err_axes": errors[i, 1],
            "err_angle": errors[i, 2],
            "sigma_hat": fit.sigma_,
            # The story's figures, over the short arcs seen so far and the long ones (NaN
            # until the first of them): the last frame holds them over every data set.
            "noise_first": cfg.noise_start,
            "err_centre_short_arcs": errors[: min(i + 1, short), 0].mean(),
            "err_centre_long_arcs": errors[long : i + 1, 0].mean() if i >= long else np.nan,
            "too_small_short_arcs": too_small[: min(i + 1, short)].mean(),
            "centre_missed_short_arcs": centre_missed[: min(i + 1, short)].mean(),
        }
        yield Frame(
            step=i,
            arrays={
                "points": points,
                "truth": truth.point(CURVE_T),
                "fit": fit.geometry_.point(CURVE_T),
                "inner": inner,
                "outer": outer,
                "boot": boot_curves,
                "params": est,
                # full-length copies, NaN where later data sets will go: each frame stays
                # self-contained and the panels know their final length
                "errors": errors.copy(),
                "widths": widths.copy(),
                "counts": np.array([n_ellipse, n_cloud]),
            },
            # the two-cloud figures are not measured yet (the claims name them)
            scalars=last | {"gap_wide_centre": np.nan, "gap_wide_first": np.nan},
            text={"phase": "ellipse"},
            caption=caption(cfg, i),
            poster=i == n_ellipse - 1,
        )
    for j in range(n_cloud):
        spread = 0.35 + 0.65 * j / max(n_cloud - 1, 1)  # the wide cloud's sd grows to 1.0
        n_tight = cfg.points - cfg.points // 3
        tight = rng.normal([-1.4, -0.3], 0.35, (n_tight, 2))  # (n1, 2)
        wide = rng.normal([1.5, 0.6], spread, (cfg.points // 3, 2))  # (n2, 2)
        X = np.concatenate([tight, wide])  # (N, 2)
        model = ProductCentres(p=2.0, random_state=rng).fit(X)
        kmeans, _ = two_means(X, model.init_)
        # name the centres: 0 = the one nearer the tight cloud
        product = model.centres_[np.argsort(model.centres_[:, 0])]  # (2, 2)
        kmeans = kmeans[np.argsort(kmeans[:, 0])]  # (2, 2)
        gaps[j] = np.linalg.norm(product - kmeans, axis=1)[::-1]
        yield Frame(
            step=n_ellipse + j,
            arrays={
                "cloud": X,
                "labels": model.predict(X),
                "product": product,
                "kmeans": kmeans,
                "true_centres": np.array([[-1.4, -0.3], [1.5, 0.6]]),
                "errors": errors,
                "widths": widths,
                "gaps": gaps.copy(),
                "counts": np.array([n_ellipse, n_cloud]),
            },
            scalars=last
            | {
                "wide_spread": spread,
                "gap_wide_centre": gaps[j, 0],
                "gap_tight_centre": gaps[j, 1],
                "gap_wide_first": gaps[0, 0],
                "product_objective": model.objective_,
                "product_gradient": float(np.abs(model.gradient_).max()),
            },
            text={"phase": "clouds"},
            caption=caption(cfg, n_ellipse + j),
            poster=False,
        )


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon

    fig = canvas.figure
    # Nothing above y = 0.85: the top band holds the caption, the live title sits below it.
    main = fig.add_axes((0.03, 0.03, 0.50, 0.80))
    err = fig.add_axes((0.62, 0.62, 0.35, 0.20))
    wid = fig.add_axes((0.62, 0.35, 0.35, 0.18))
    gap = fig.add_axes((0.62, 0.08, 0.35, 0.18))
    main.set(xlim=XLIM, ylim=YLIM, xticks=[], yticks=[], aspect="equal")
    for side in main.spines.values():
        side.set_color(MUTED)
    band = Polygon(np.zeros((3, 2)), closed=True, color=PALETTE[5], alpha=0.25, lw=0, zorder=1)
    main.add_patch(band)
    boot = LineCollection([], colors=PALETTE[5], linewidths=0.6, alpha=0.5, zorder=2)
    main.add_collection(boot)
    dots = main.scatter([], [], s=10, color=INK, alpha=0.7, lw=0, zorder=3)
    (truth,) = main.plot([], [], ls="--", color=MUTED, lw=1.6, zorder=4, label="true ellipse")
    (fit,) = main.plot([], [], color=PALETTE[0], lw=2.4, zorder=5, label="fitted ellipse")
    (kmeans,) = main.plot(
        [], [], "o", ms=12, mfc="none", mec=PALETTE[3], mew=2.2, zorder=6, label="k-means centres"
    )
    (product,) = main.plot(
        [], [], "X", ms=11, color=PALETTE[2], mec="white", zorder=7, label="product centres"
    )
    (true_c,) = main.plot([], [], "+", ms=12, color=INK, mew=1.5, zorder=6, label="true centres")
    main.plot([], [], color=PALETTE[5], lw=6, alpha=0.4, label="bootstrap 95% band")
    main.legend(loc="lower left", fontsize=SMALL_SIZE, frameon=False, ncol=2)
    title = fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)
    n_ellipse, n_cloud = frame.arrays["counts"]
    lines = {}
    for ax, keys, labels, head in (
        (
            err,
            ("centre", "axes", "angle"),
            ("centre / a", "axes / a", "angle (rad)"),
            "fit error per data set (log)",
        ),
        (
            wid,
            ("w_centre", "w_major"),
            ("centre x / a", "semi-major / a"),
            "bootstrap 95% interval width (log)",
        ),
        (
            gap,
            ("g_wide", "g_tight"),
            ("wide cloud", "tight cloud"),
            "product vs k-means centre gap",
        ),
    ):
        style_axes(ax)
        ax.set_title(head, fontsize=SMALL_SIZE + 1, color=INK, loc="left")
        for k, (key, label) in enumerate(zip(keys, labels, strict=True)):
            (lines[key],) = ax.plot([], [], color=PALETTE[k], lw=1.6, label=label)
        ax.legend(fontsize=SMALL_SIZE - 1, frameon=False, loc="upper right", ncol=3)
    # fixed limits, so the panels can be frozen into the background (see freeze_background)
    err.set_yscale("log")
    err.set_ylim(1e-4, 2)
    wid.set_yscale("log")
    wid.set_ylim(3e-3, 0.3)
    gap.set_ylim(0, 0.6)
    for ax in (err, wid):
        ax.set_xlim(1, max(n_ellipse, 2))
    gap.set_xlim(n_ellipse + 1, n_ellipse + max(n_cloud, 2))
    gap.set_xlabel("data set", fontsize=SMALL_SIZE)
    live = [band, boot, dots, truth, fit, kmeans, product, true_c, title, *lines.values()]
    freeze_background(fig, live)
    return {
        "band": band,
        "boot": boot,
        "dots": dots,
        "truth": truth,
        "fit": fit,
        "kmeans": kmeans,
        "product": product,
        "true_c": true_c,
        "title": title,
        "lines": lines,
        "axes": (err, wid, gap),
    }


def draw(frame: Frame, canvas: Canvas) -> None:
    from matplotlib.colors import to_rgba

    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    errors, widths = a["errors"], a["widths"]  # (E, 3), (E, 2), NaN for later data sets
    n_ellipse = len(errors)
    steps = np.arange(1, n_ellipse + 1)
    for k, key in enumerate(("centre", "axes", "angle")):
        art["lines"][key].set_data(steps, errors[:, k])
    for k, key in enumerate(("w_centre", "w_major")):
        art["lines"][key].set_data(steps, widths[:, k])
    if frame.text["phase"] == "ellipse":
        art["band"].set_xy(np.concatenate([a["outer"], a["inner"][::-1]]))
        art["boot"].set_segments(list(a["boot"]))
        art["dots"].set_offsets(a["points"])
        art["dots"].set_facecolor(INK)
        art["truth"].set_data(*a["truth"].T)
        art["fit"].set_data(*a["fit"].T)
        sa, sb = a["params"][2:4]
        art["title"].set_text(
            f"Set {frame.step + 1}: arc {s['arc']:.0%}, noise {s['noise']:.1%} of a; fit"
            f" a = {sa:.2f} (true {s['true_semi_major']:.2f}), b = {sb:.2f}"
            f" ({s['true_semi_minor']:.2f})"
        )
        return
    # two-cloud part: hide the ellipse artists, show the clouds and both answers
    for key in ("truth", "fit"):
        art[key].set_data([], [])
    art["band"].set_xy(np.zeros((3, 2)))
    art["boot"].set_segments([])
    art["dots"].set_offsets(a["cloud"])
    colours = np.array([to_rgba(PALETTE[0]), to_rgba(PALETTE[1])])  # (2, 4)
    art["dots"].set_facecolor(colours[a["labels"]])
    art["product"].set_data(*a["product"].T)
    art["kmeans"].set_data(*a["kmeans"].T)
    art["true_c"].set_data(*a["true_centres"].T)
    gaps = a["gaps"]  # (C, 2), NaN for later data sets
    x = n_ellipse + 1 + np.arange(len(gaps))
    art["lines"]["g_wide"].set_data(x, gaps[:, 0])
    art["lines"]["g_tight"].set_data(x, gaps[:, 1])
    art["title"].set_text(
        f"Set {frame.step + 1}: two clouds, wide sd {s['wide_spread']:.2f}; product"
        f" centres vs k-means: gap {s['gap_wide_centre']:.2f}"
    )
