"""Two kinds of mathematical art in the spirit of Vincent Granville's AI-art pieces, both drawn
from exact computations. First, the Dirichlet eta function eta(s) = 1 - 2^-s + 3^-s - 4^-s + ...
unfolds term by term: each partial sum is a point in the complex plane, and the orbit of partial
sums zigzags into a glowing star around its limit while the camera zooms in. On the left the
exponent s sits on the critical line (real part 1/2) at a zero of the Riemann zeta function,
so the orbit closes in on the origin; on the right the real part is 3/4 and the orbit settles
somewhere else. The white curve is the average of consecutive partial sums, which converges
far faster; the panel on the right shows the distance to the limit shrinking like n^-sigma / 2.
Second, a sweep through a family of Granville's two-dimensional sine map
`x' = (1 - rho) x + lam sin y`, `y' = (1 - rho) y + lam sin x`: every pixel is a starting point,
coloured by the attractor its orbit reaches (a colour-blind-safe palette, largest basin first)
and darkened by how long it hesitated, so basin boundaries show as dark veins. As rho grows
the broad marbled basins break into a quilt of "pillows" and then a fine plaid; the gallery of
the family fills in on the right. The figures to watch are the number of attractors, here
{attractors_first:.0f} at the start of the sweep and {attractors:.0f} at its end, and the share
of the plane each one captures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.simulate import averaged_partial_sums, basins, eta, eta_partial_sums, family
from genailab.simulate.palettes import basin_colour_table, basin_image
from genailab.video import Canvas
from genailab.video.style import LABEL_SIZE, PALETTE, SMALL_SIZE

# The first and tenth zeros of the Riemann zeta function on the critical line (imaginary parts).
ZETA_ZEROS = {1: 14.134725141734693, 10: 49.773832477672302}
SIGMAS = (0.5, 0.75)
BOUNDS = ((-8.0, 8.0), (-8.0, 8.0))
SHEET = (3, 4)  # rows, columns of the family's contact sheet

DARK = "#0e1015"  # the canvas of the art
LIGHT = "#eeeeee"  # text on it
DIM = "#9a9aa6"
_EDGE = "#2a2d36"
_SIGMA_COLOURS = (PALETTE[5], PALETTE[1])  # sky blue for sigma = 1/2, orange for 3/4
_HIGHLIGHT = (240, 228, 66)  # the current thumbnail's frame (Okabe-Ito yellow)
_BOX = dict(facecolor=DARK, alpha=0.75, edgecolor="none", pad=1.5)  # text over bright art


@experiment(
    name="ai-art",
    chapter="Granville's data videos",
    title="AI art: eta-function orbits and sine-map basins",
    fps=15,
    seconds=(40, 15),
)
@dataclass
class Config:
    terms: int = setting(
        3000, help="terms of the eta series drawn in each orbit", ge=20, le=300_000
    )
    orbit_frames: int = setting(
        80, help="frames of the orbits, revealing the terms geometrically", ge=2, le=5000
    )
    sweep_frames: int = setting(
        40, help="basin images of the sine-map family, one a frame", ge=2, le=2000
    )
    resolution: int = setting(288, help="pixels per side of each basin image", ge=24, le=2880)
    n_iter: int = setting(
        500, help="sine-map steps per pixel before its attractor is read", ge=10, le=50_000
    )
    hold: int = setting(6, help="extra frames holding the final gallery", ge=0, le=300)
    seed: int = seed_setting()  # nothing here is random; kept for the protocol
    QUICK = dict(terms=800, orbit_frames=10, sweep_frames=8, resolution=96, n_iter=500, hold=1)

    def __post_init__(self) -> None:
        if self.orbit_frames > self.terms:
            raise ValueError(
                f"orbit_frames must be at most terms ({self.terms}), got {self.orbit_frames}"
            )


QUESTION = (
    "What pictures do exact computations draw: the eta series closing in on its limit, and "
    "the basins of a sine map?"
)
ANSWER = (
    "At zeros of ζ the orbits end {abs_eta_at_zero_1:.0e} from 0, off the line "
    "{abs_eta_off_line_1:.2f} away; the sine map goes from {attractors_first:.0f} attractors "
    "to {attractors:.0f}"
)
CLAIMS = (
    Claim(
        "max(abs_eta_at_zero_1, abs_eta_at_zero_10) < 1e-9 "
        "and min(abs_eta_off_line_1, abs_eta_off_line_10) > 0.1",
        "at zeros of ζ on the critical line the orbits close in on 0; off it they do not",
    ),
    Claim(
        "0.9 < law_ratio_min and law_ratio_max < 1.1",
        "after n terms each orbit lies n^-σ / 2 from its limit, within 10%",
    ),
    Claim("smooth_gain > 10", "averaging consecutive sums lands over 10 times closer"),
    Claim(
        "attractors > attractors_first",
        "the sine map ends its sweep with more attractors than it started with",
    ),
)


def caption(part: str, share: float) -> str:
    """The message of the stretch a frame falls in: its ``part`` (orbits or basins) and the
    ``share`` of that part shown so far."""
    if part == "orbits":
        if share < 0.5:
            return "The eta series, term by term: each partial sum is a point of the plane"
        return "On the critical line, at zeros of ζ, the orbits close in on 0; off it, they do not"
    if share < 0.5:
        return "Granville's sine map: each pixel is a start, coloured by the attractor it reaches"
    return "As ρ grows, the broad basins break into a quilt of pillows, then a fine plaid"


def memory_bytes(cfg: Config) -> int:
    """The peak bytes of the frames: the eta orbits, kept through the video (4 exponents times
    ``terms`` complex partial sums, their averages, distances and x-y copies: about 340 bytes a
    term), and one basin image being made beside the last (about 224 bytes a pixel: every
    pixel's orbit in torch float64, copied when the settled pixels are dropped, then the cycle
    search in numpy). Measured as the peak resident memory of real runs."""
    return 340 * cfg.terms + 224 * cfg.resolution**2


def frame_count(cfg: Config) -> int:
    """One frame per revealed prefix, one per basin image, plus the held final frame."""
    return cfg.orbit_frames + cfg.sweep_frames + cfg.hold


def exponents() -> np.ndarray:
    """The four exponents drawn: rows are zeta zeros 1 and 10, columns sigma = 1/2 and 3/4."""
    return np.array([sigma + 1j * t for t in ZETA_ZEROS.values() for sigma in SIGMAS])  # (4,)


def revealed_terms(terms: int, frames: int) -> np.ndarray:
    """How many terms frame ``f`` shows: geometric (the orbit's scale shrinks like n^-sigma),
    but at least one new term per frame, ending on ``terms``."""
    geometric = np.geomspace(2, terms, frames)  # (F,)
    linear = np.arange(2, frames + 2)  # (F,)
    shown = np.minimum(np.maximum(np.round(geometric), linear), terms).astype(int)
    shown[-1] = terms
    return shown


def _views(orbits: np.ndarray, limits: np.ndarray, shown: np.ndarray, s: np.ndarray):
    """Camera per frame and orbit: from the whole orbit's box, zooming in on eta(s) as the
    partial sums close in (half-width 5 n^-sigma, about ten times the distance left)."""
    centre_full = np.stack(
        [
            (orbits.real.max(1) + orbits.real.min(1)) / 2,
            (orbits.imag.max(1) + orbits.imag.min(1)) / 2,
        ],
        axis=1,
    )  # (4, 2)
    half_full = 0.55 * np.maximum(np.ptp(orbits.real, 1), np.ptp(orbits.imag, 1))  # (4,)
    half = np.minimum(half_full, 5.0 * shown[:, None] ** -s.real[None, :])  # (F, 4)
    half_end = half[-1]  # (4,)
    weight = (half - half_end) / np.maximum(half_full - half_end, 1e-12)  # (F, 4) 1 -> 0
    target = np.stack([limits.real, limits.imag], axis=1)  # (4, 2)
    centre = target + weight[..., None] * (centre_full - target)  # (F, 4, 2)
    return np.concatenate([centre - half[..., None], centre + half[..., None]], axis=-1)  # (F,4,4)


def frames(cfg: Config) -> Iterator[Frame]:
    s = exponents()  # (4,)
    orbits = eta_partial_sums(s, cfg.terms)  # (4, N) complex
    smooth = averaged_partial_sums(orbits, order=1)  # (4, N-1)
    limits = eta(s)  # (4,) accurate to ~1e-14 (repeated averaging of 1000 terms)
    errors = np.abs(orbits - limits[:, None])  # (4, N)
    shown = revealed_terms(cfg.terms, cfg.orbit_frames)  # (F,)
    views = _views(orbits, limits, shown, s)  # (F, 4, 4) x0, y0, x1, y1
    as_xy = np.stack([orbits.real, orbits.imag], axis=-1)  # (4, N, 2)
    smooth_xy = np.stack([smooth.real, smooth.imag], axis=-1)  # (4, N-1, 2)
    constant = {
        "s": np.stack([s.real, s.imag], axis=1),  # (4, 2)
        "limits": np.stack([limits.real, limits.imag], axis=1),  # (4, 2)
        "orbits": as_xy,
        "smooth": smooth_xy,
        "errors": errors,
    }
    final_eta = {f"orbit_{i + 1}_error": errors[i, -1] for i in range(len(s))}
    final_eta["abs_eta_at_zero_1"] = abs(limits[0])
    final_eta["abs_eta_at_zero_10"] = abs(limits[2])
    final_eta["abs_eta_off_line_1"] = abs(limits[1])
    final_eta["abs_eta_off_line_10"] = abs(limits[3])
    # the distance left after N terms against half the next term, (N + 1)^-sigma / 2
    law = errors[:, -1] / (0.5 * (cfg.terms + 1.0) ** -s.real)  # (4,)
    final_eta["law_ratio_min"], final_eta["law_ratio_max"] = float(law.min()), float(law.max())
    # how many times closer the mean of the last two partial sums lies than the last one
    final_eta["smooth_gain"] = float(np.min(errors[:, -1] / np.abs(smooth[:, -1] - limits)))
    for f, n in enumerate(shown):
        scalars = {"terms": float(n)}
        for i in range(len(s)):
            scalars[f"orbit_{i + 1}_error"] = errors[i, n - 1]
        yield Frame(
            step=f,
            arrays={**constant, "view": views[f]},
            scalars=scalars,
            text={"part": "orbits", "n": str(n)},
            caption=caption("orbits", f / cfg.orbit_frames),
        )

    # ---------------------------------------------------------------- second half: basins
    ts = np.linspace(0.0, 1.0, cfg.sweep_frames)  # (T,)
    # the sweep frames shown in the contact sheet: evenly spread, each at most once
    cols = SHEET[1]
    slots = min(SHEET[0] * cols, cfg.sweep_frames)
    thumb_at = np.round(np.linspace(0, cfg.sweep_frames - 1, slots)).astype(int)  # (slots,)
    rows = -(-slots // cols)
    stride = max(1, cfg.resolution // 96)
    thumb_size = len(range(0, cfg.resolution, stride))
    sheet_labels = np.full((rows * cols, thumb_size, thumb_size), -1, dtype=np.int64)
    sheet_settle = np.zeros((rows * cols, thumb_size, thumb_size), dtype=np.int32)
    sheet_params = np.full((rows * cols, 2), np.nan)
    filled = 0
    last = cfg.sweep_frames - 1
    for k, t in enumerate(ts):
        result = basins(family(t), resolution=cfg.resolution, bounds=BOUNDS, n_iter=cfg.n_iter)
        while filled < len(thumb_at) and thumb_at[filled] == k:
            sheet_labels[filled] = result.labels[::stride, ::stride]
            sheet_settle[filled] = result.settle[::stride, ::stride]
            sheet_params[filled] = result.params
            filled += 1
        shares = np.zeros(max(result.n_attractors, 1))
        shares[: result.n_attractors] = result.shares
        if k == 0:
            attractors_first = float(result.n_attractors)
        scalars = {
            "rho": result.params.rho,
            "lam": result.params.lam,
            "attractors": float(result.n_attractors),
            "largest_basin_share": float(shares[0]),
            "unsettled_share": float(np.mean(result.labels < 0)),
            "attractors_first": attractors_first,
            **final_eta,
        }
        frame = Frame(
            step=cfg.orbit_frames + k,
            arrays={
                "labels": result.labels,
                "settle": result.settle,
                "attractors": result.attractors,
                "periods": result.periods,
                "shares": result.shares,
                "sheet_labels": sheet_labels[:filled],
                "sheet_settle": sheet_settle[:filled],
                "sheet_params": sheet_params[:filled],
                "sheet_shape": np.array([rows, cols]),
                "bounds": np.array(BOUNDS, dtype=float).reshape(-1),
            },
            scalars=scalars,
            text={"part": "basins", "t": f"{t:.3f}"},
            caption=caption("basins", k / cfg.sweep_frames),
            poster=k == last,
        )
        yield frame
    for h in range(cfg.hold):
        yield Frame(
            step=cfg.orbit_frames + cfg.sweep_frames + h,
            arrays=frame.arrays,
            scalars=frame.scalars,
            text=frame.text,
            caption=frame.caption,  # the held gallery stays in the last stretch
        )


# ------------------------------------------------------------------------------- drawing
def _text(fig, x, y, s="", **kw):
    return fig.text(x, y, s, color=kw.pop("color", LIGHT), **kw)


def _setup_orbits(canvas: Canvas, frame: Frame, art: dict) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    fig = canvas.figure
    orbit_axes, lines, smooth_lines, heads, values, zooms = [], [], [], [], [], []
    s = frame.arrays["s"]
    limits = frame.arrays["limits"]
    n_terms = frame.arrays["orbits"].shape[1]
    # start the colour map a third of the way in: plasma's darkest blues vanish on DARK
    norm = Normalize(-0.3 * np.log(n_terms), np.log(n_terms))
    size = 0.375  # height of one square orbit panel, in figure fractions
    width = size * canvas.height / canvas.width
    headers = ("on the critical line, σ = 1/2", "off the line, σ = 3/4")
    for c, header in enumerate(headers):
        fig.text(
            0.035 + c * (width + 0.012),
            0.795,
            header,
            color=_SIGMA_COLOURS[c],
            fontsize=SMALL_SIZE + 1,
        )
    for i in range(4):
        r, c = divmod(i, 2)
        ax = fig.add_axes((0.035 + c * (width + 0.012), 0.41 - r * (size + 0.015), width, size))
        ax.set_facecolor(DARK)
        ax.set(xticks=[], yticks=[])
        for side in ax.spines.values():
            side.set_color(_EDGE)
        ax.axhline(0, color=_EDGE, lw=0.6, zorder=0)
        ax.axvline(0, color=_EDGE, lw=0.6, zorder=0)
        zigzag = LineCollection([], cmap="plasma", norm=norm, linewidths=0.7, alpha=0.9)
        ax.add_collection(zigzag)
        (smooth,) = ax.plot([], [], color="white", lw=0.5, alpha=0.4)
        ax.plot(*limits[i], marker="o", ms=9, mfc="none", mec=PALETTE[6], mew=1.4, zorder=4)
        (head,) = ax.plot([], [], "o", ms=4.5, color="white", zorder=5)
        nth = next(k for k, v in ZETA_ZEROS.items() if v == s[i, 1])
        ax.text(
            0.03,
            0.97,
            f"s = {s[i, 0]:g} + {s[i, 1]:.4f}i"
            + (f"  (zero {nth} of ζ)" if s[i, 0] == 0.5 else f"  (height of zero {nth})"),
            transform=ax.transAxes,
            color=LIGHT,
            fontsize=SMALL_SIZE - 1,
            va="top",
            bbox=_BOX,
        )
        values.append(
            ax.text(
                0.03,
                0.03,
                "",
                transform=ax.transAxes,
                color=LIGHT,
                fontsize=SMALL_SIZE - 1,
                bbox=_BOX,
            )
        )
        zooms.append(
            ax.text(
                0.97,
                0.03,
                "",
                transform=ax.transAxes,
                color=DIM,
                ha="right",
                fontsize=SMALL_SIZE - 1,
                bbox=_BOX,
            )
        )
        orbit_axes.append(ax)
        lines.append(zigzag)
        smooth_lines.append(smooth)
        heads.append(head)
    err_ax = fig.add_axes((0.60, 0.12, 0.375, 0.64))
    err_ax.set_facecolor(DARK)
    for side in ("top", "right"):
        err_ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        err_ax.spines[side].set_color(DIM)
    err_ax.tick_params(colors=DIM, labelsize=SMALL_SIZE)
    err_ax.set_xscale("log")
    err_ax.set_yscale("log")
    errors = frame.arrays["errors"]
    n = np.arange(1, n_terms + 1)
    err_ax.set_xlim(1, n_terms)
    err_ax.set_ylim(max(errors.min(), 1e-5) * 0.5, errors.max() * 2)
    err_lines = []
    for i in range(4):
        colour = _SIGMA_COLOURS[i % 2]
        (line,) = err_ax.plot([], [], color=colour, lw=1.1, alpha=0.95 if i < 2 else 0.5)
        err_lines.append(line)
    for sigma, colour, tex in zip(SIGMAS, _SIGMA_COLOURS, ("1/2", "3/4"), strict=True):
        err_ax.plot(n, 0.5 * n**-sigma, color=colour, ls="--", lw=1.0)
        err_ax.text(
            n_terms * 0.8,
            0.5 * (n_terms * 0.8) ** -sigma * 2.3,
            f"$n^{{-{tex}}}/2$",
            color=colour,
            fontsize=SMALL_SIZE + 1,
            ha="right",
        )
    err_ax.set_xlabel("terms n", color=LIGHT, fontsize=SMALL_SIZE + 1)
    err_ax.set_title(
        "distance to the limit |S_n - η(s)|  (faint: zero no. 10)",
        color=LIGHT,
        fontsize=SMALL_SIZE + 1,
        loc="left",
    )
    art.update(
        orbit_axes=orbit_axes,
        lines=lines,
        smooth=smooth_lines,
        heads=heads,
        values=values,
        zooms=zooms,
        err_ax=err_ax,
        err_lines=err_lines,
        first_half=[*orbit_axes, err_ax, *fig.texts[2:]],
    )
    # NOTE: a LineCollection builds one Path per segment, and 4 x 3000 one-segment paths cost
    # more than everything else in the frame. The orbit is cut instead into ~64 polylines of
    # consecutive points, geometric in n (the colour is log n), each one colour.
    art["chunks"] = np.unique(np.round(np.geomspace(1, n_terms, 65)).astype(int)) - 1  # starts


_GAP, _LABEL = 10, 16  # contact sheet: pixels between thumbnails, and under each for its label


def _sheet_geometry(thumb: int, rows: int, cols: int) -> tuple[int, int]:
    """Height and width in pixels of a contact sheet of ``rows x cols`` ``thumb``-px images."""
    return rows * (thumb + _LABEL) + (rows - 1) * _GAP, cols * thumb + (cols - 1) * _GAP


def _setup_basins(canvas: Canvas, frame: Frame, art: dict) -> None:
    fig = canvas.figure
    x0, x1, y0, y1 = frame.arrays["bounds"]
    side = 0.76  # under the readout, itself under the band
    main = fig.add_axes((0.03, 0.04, side * canvas.height / canvas.width, side))
    main.set(xticks=[], yticks=[])
    for spine in main.spines.values():
        spine.set_visible(False)
    image = main.imshow(
        np.zeros((2, 2, 3), np.uint8),
        origin="lower",
        extent=(x0, x1, y0, y1),
        interpolation="nearest",
    )
    (marks,) = main.plot([], [], "x", color="white", ms=6, mew=1.6)
    # The contact sheet is ONE image (a numpy mosaic) in one axes: far cheaper to render
    # than twelve small axes, and drawn pixel for pixel.
    thumb = frame.arrays["sheet_labels"].shape[-1]
    rows, cols = frame.arrays["sheet_shape"]
    height, width = _sheet_geometry(thumb, rows, cols)
    box_w = 0.42
    box_h = box_w * height / width * canvas.width / canvas.height
    sheet_ax = fig.add_axes((0.525, 0.80 - box_h, box_w, box_h))
    sheet_ax.set_axis_off()
    sheet = sheet_ax.imshow(
        np.zeros((height, width, 3), np.uint8),
        extent=(0, width, height, 0),
        interpolation="antialiased",
    )
    sheet_ax.set(xlim=(0, width), ylim=(height, 0))
    thumb_text = [
        sheet_ax.text(
            c * (thumb + _GAP) + thumb / 2,
            r * (thumb + _LABEL + _GAP) + thumb + _LABEL - 3,
            "",
            ha="center",
            va="bottom",
            color=DIM,
            fontsize=SMALL_SIZE - 1,
        )
        for r in range(rows)
        for c in range(cols)
    ]
    bar = fig.add_axes((0.525, 0.07, box_w, 0.045))
    bar.set_axis_off()
    bar_image = bar.imshow(np.zeros((1, 2, 3), np.uint8), aspect="auto", extent=(0, 1, 0, 1))
    bar.set(xlim=(0, 1), ylim=(0, 1))
    bar_caption = fig.text(0.525, 0.13, "", color=LIGHT, fontsize=SMALL_SIZE)
    art.update(
        main=main,
        image=image,
        marks=marks,
        sheet=sheet,
        thumb_text=thumb_text,
        bar_image=bar_image,
        bar_caption=bar_caption,
    )


def _mosaic(frame: Frame) -> tuple[np.ndarray, int | None]:
    """The contact sheet so far as one RGB image, and the index of the current thumbnail."""
    labels, settle = frame.arrays["sheet_labels"], frame.arrays["sheet_settle"]
    params = frame.arrays["sheet_params"]
    thumb = labels.shape[-1]
    rows, cols = frame.arrays["sheet_shape"]
    height, width = _sheet_geometry(thumb, rows, cols)
    out = np.empty((height, width, 3), np.uint8)  # (H, W, 3)
    out[:] = (14, 16, 21)
    current = np.array([frame.scalars["rho"], frame.scalars["lam"]])
    here = None
    for j in range(rows * cols):  # at most twelve thumbnails, each a vectorised image
        r, c = divmod(j, cols)
        top, left = r * (thumb + _LABEL + _GAP), c * (thumb + _GAP)
        cell = out[top : top + thumb, left : left + thumb]  # (h, w, 3) view
        if j < len(labels):
            cell[:] = basin_image(labels[j], settle[j])[::-1]  # rows of y grow downwards here
            if np.allclose(params[j], current):
                here = j
                edge = np.array(_HIGHLIGHT)
                cell[:3], cell[-3:], cell[:, :3], cell[:, -3:] = edge, edge, edge, edge
        else:
            cell[:] = (24, 27, 34)
    return out, here


def _draw_orbits(frame: Frame, art: dict) -> None:
    n = int(frame.text["n"])
    orbits, smooth, view = frame.arrays["orbits"], frame.arrays["smooth"], frame.arrays["view"]
    errors = frame.arrays["errors"]
    for i in range(4):
        starts = art["chunks"][art["chunks"] < n - 1]  # chunks with at least one segment
        ends = np.append(starts[1:], n - 1)  # chunk j joins points starts[j] .. ends[j]
        art["lines"][i].set_segments(
            [orbits[i, a : b + 1] for a, b in zip(starts, ends, strict=True)]
        )
        art["lines"][i].set_array(np.log((starts + ends) / 2 + 1))
        art["smooth"][i].set_data(smooth[i, : n - 1, 0], smooth[i, : n - 1, 1])
        art["heads"][i].set_data([orbits[i, n - 1, 0]], [orbits[i, n - 1, 1]])
        x0, y0, x1, y1 = view[i]
        art["orbit_axes"][i].set(xlim=(x0, x1), ylim=(y0, y1))
        zoom = 1.1 * np.ptp(orbits[i, :, 0]) / (x1 - x0)
        art["values"][i].set_text(f"|S_n - η(s)| = {errors[i, n - 1]:.2e}")
        art["zooms"][i].set_text(f"zoom ×{zoom:.0f}" if zoom >= 1.5 else "")
    k = np.arange(1, n + 1)
    for i in range(4):
        art["err_lines"][i].set_data(k, errors[i, :n])
    art["title"].set_text(
        f"The Dirichlet eta series unfolding, term by term: n = {n} of {errors.shape[1]} terms"
    )
    art["subtitle"].set_text(
        "S_n = 1 - 2^-s + 3^-s - ... ± n^-s zigzags (coloured by n) around its limit η(s)"
        " (yellow ring); white: mean of consecutive S_n"
    )


def _draw_basins(frame: Frame, art: dict) -> None:
    labels, settle = frame.arrays["labels"], frame.arrays["settle"]
    art["image"].set_data(basin_image(labels, settle))
    points = frame.arrays["attractors"]
    art["marks"].set_data(points[:, 0], points[:, 1])
    mosaic, _ = _mosaic(frame)
    art["sheet"].set_data(mosaic)
    params = frame.arrays["sheet_params"]
    for j, text in enumerate(art["thumb_text"]):
        text.set_text(f"ρ = {params[j, 0]:.2f}" if j < len(params) else "")
    # stacked bar of basin shares, in the basins' own colours, as a 1-row image
    shares = frame.arrays["shares"]
    edges = np.cumsum(shares)  # (K,)
    cells = (np.arange(400) + 0.5) / 400  # (400,)
    which = np.searchsorted(edges, cells)  # (400,) K = no attractor
    table = np.vstack([basin_colour_table(len(shares)), [[24, 27, 34]]]).astype(np.uint8)
    art["bar_image"].set_data(table[which][None])
    rho, lam = float(frame.scalars["rho"]), float(frame.scalars["lam"])
    k = int(frame.scalars["attractors"])
    cycles = int(np.sum(frame.arrays["periods"] > 1))
    caption = f"share of the plane in each of the {k} basins"
    if cycles:
        caption += f" ({cycles} {'is a 2-cycle' if cycles == 1 else 'are 2-cycles'})"
    art["bar_caption"].set_text(caption)
    art["title"].set_text(
        f"Basins of attraction of the sine map, ρ = {rho:.3f}, λ = {lam:.3f}: {k} attractors"
    )
    art["subtitle"].set_text(
        "x' = (1-ρ) x + λ sin y,  y' = (1-ρ) y + λ sin x.  Each pixel is a start, coloured by"
        " its attractor (×), darker where it hesitated"
    )


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.setdefault("art", {})
    if not art:
        fig = canvas.figure
        fig.set_facecolor(DARK)
        # the readout below the band that the runner paints (light ink on this dark frame)
        art["title"] = _text(fig, 0.02, 0.875, "", fontsize=LABEL_SIZE + 1)
        art["subtitle"] = _text(fig, 0.02, 0.835, "", fontsize=SMALL_SIZE + 1, color=DIM)
    if frame.text["part"] == "orbits":
        if "orbit_axes" not in art:
            _setup_orbits(canvas, frame, art)
        _draw_orbits(frame, art)
    else:
        if "main" not in art:  # the second half replaces the first half's axes
            for artist in art.get("first_half", []):
                artist.set_visible(False)
            _setup_basins(canvas, frame, art)
        _draw_basins(frame, art)
