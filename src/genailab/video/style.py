"""The house look of genailab's videos: one palette and one type scale for every experiment."""

from __future__ import annotations

# Colour-blind-safe qualitative palette (Okabe & Ito, 2008), as hex for matplotlib and as
# RGB tuples for numpy drawing.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
PALETTE_RGB = tuple(tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in PALETTE)
BACKGROUND = (255, 255, 255)
INK = "#222222"
MUTED = "#777777"
SEQUENTIAL_CMAP = "viridis"

TITLE_SIZE = 15
LABEL_SIZE = 11
SMALL_SIZE = 9


def style_axes(ax) -> None:
    """Quiet axes: no top/right spines, muted ticks, the house label size."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=MUTED, labelsize=SMALL_SIZE)
    ax.xaxis.label.set_color(INK)
    ax.yaxis.label.set_color(INK)
    ax.xaxis.label.set_size(LABEL_SIZE)
    ax.yaxis.label.set_size(LABEL_SIZE)
