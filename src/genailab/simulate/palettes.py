"""Colour schemes for the AI-art images: categorical basins shaded by how fast orbits settle.

A basin image must tell attractors apart at a glance, for every viewer. Its hues are the
colour-blind-safe qualitative palette of Okabe & Ito (2008) (the house palette of
``genailab.video.style``, without its black, which is kept for "no attractor"), given to the
attractors in order of basin size, so that the largest basin always gets the same blue. More
than seven attractors reuse the hues as lighter tints. Each pixel's colour is then darkened by
the time its orbit took to settle (on a log scale): orbits that start near a basin boundary
hesitate longest, so the boundaries show up as dark veins and the image gains depth while the
hue alone still names the basin. Continuous quantities (the term index along an eta orbit, a
phase) use matplotlib's perceptually uniform colour maps (``plasma``, ``twilight``), chosen by
the drawing code; this module stays free of matplotlib.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BASIN_COLOURS", "NO_ATTRACTOR", "basin_colour_table", "basin_image"]

# Okabe & Ito (2008), without black: blue, orange, bluish green, vermillion, reddish purple,
# sky blue, yellow.
BASIN_COLOURS = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (213, 94, 0),
    (204, 121, 167),
    (86, 180, 233),
    (240, 228, 66),
)
NO_ATTRACTOR = (20, 20, 24)  # escaped or unsettled orbits: near black


def basin_colour_table(n: int) -> np.ndarray:
    """RGB colours (0-255) for ``n`` attractors: the palette, then lighter tints of it.

    Examples
    --------
    >>> basin_colour_table(9)[[0, 7]].tolist()   # the 8th reuses the 1st, half-way to white
    [[0, 114, 178], [128, 184, 216]]
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    base = np.asarray(BASIN_COLOURS, dtype=np.float64)  # (7, 3)
    k = np.arange(n)
    tint = (k // len(base)) / (k // len(base) + 1.0)  # (n,) 0, then 1/2, 2/3, ...
    colours = base[k % len(base)] * (1 - tint[:, None]) + 255.0 * tint[:, None]  # (n, 3)
    return np.round(colours).astype(np.int64)


def basin_image(
    labels: np.ndarray, settle: np.ndarray | None = None, shade: float = 0.7
) -> np.ndarray:
    """Colour a basin label map: hue from the label, darkness from the settle time.

    Parameters
    ----------
    labels : ndarray of int, shape (H, W)
        Attractor index per pixel, largest basin first; negative for no attractor.
    settle : ndarray of int, shape (H, W), optional
        Iterations each orbit took to settle; ``None`` gives flat colours.
    shade : float
        How dark the slowest pixels get, in ``[0, 1)``: brightness runs from 1 (fastest) to
        ``1 - shade`` (slowest), linear in ``log(1 + settle)``.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> img = basin_image(np.array([[0, 1], [-1, 0]]), np.array([[1, 1], [1, 9]]))
    >>> img[0, 0].tolist(), img[1, 0].tolist(), img[1, 1].tolist()
    ([0, 114, 178], [20, 20, 24], [0, 34, 53])
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a 2-D array, got shape {labels.shape}")
    if not 0.0 <= shade < 1.0:
        raise ValueError(f"shade must be in [0, 1), got {shade}")
    table = np.vstack([basin_colour_table(max(int(labels.max(initial=-1)) + 1, 0)), [NO_ATTRACTOR]])
    rgb = table[np.where(labels >= 0, labels, len(table) - 1)].astype(np.float64)  # (H, W, 3)
    if settle is not None:
        settle = np.asarray(settle, dtype=np.float64)
        if settle.shape != labels.shape:
            raise ValueError(
                f"settle must have the shape of labels {labels.shape}, got {settle.shape}"
            )
        level = np.log1p(np.maximum(settle, 0))  # (H, W)
        low, high = level.min(), level.max()
        depth = (level - low) / (high - low) if high > low else np.zeros_like(level)
        rgb *= (1.0 - shade * depth)[..., None]
    return np.round(rgb).astype(np.uint8)
