"""Coloured shapes: a generator of labelled RGB images, rendered from signed distances.

Each image holds one shape (circle, square, triangle, star, cross) of one colour (red,
green, blue, yellow, magenta, cyan), at a random size, position and rotation, on a grey
background that is plain, noisy or striped. Shape and colour are independent labels on the
same pixels: a network can be asked for either, or for the pair, and its first-layer kernels
visibly learn colour blobs (the colour) and oriented edges (the shape).

The rendering is vectorised over all images at once: on the (n, H, W) pixel grid each
image's pixel centres are moved into its shape's own frame (shifted to the centre, rotated
by ``-angle``, divided by the radius), where the shape is a fixed figure of radius about 1
given by its signed distance function (negative inside, positive outside, in units of the
radius). Multiplying by the radius gives the distance in pixels, and a smoothstep over one
pixel across the edge is the shape's coverage: anti-aliased edges with no supersampling.
Colours are fixed RGB values with a small per-image jitter, so a colour class is a tight
cluster in RGB, never a single value.

Examples
--------
>>> data = make_shapes(60, size=32, seed=0)
>>> data.images.shape, data.images.dtype, data.shape_names[data.shape[0]] in SHAPES
((60, 32, 32, 3), dtype('uint8'), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genailab.errors import ConfigError, UnknownNameError, suggest

SHAPES = ("circle", "square", "triangle", "star", "cross")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 230),
    "yellow": (235, 215, 40),
    "magenta": (215, 50, 205),
    "cyan": (40, 205, 215),
}
BACKGROUNDS = ("plain", "noise", "stripes")
MAX_IMAGES = 1_000_000
CHUNK = 2048  # images rendered together: bounds the (chunk, H, W) float32 temporaries


@dataclass
class ShapeImages:
    """Images of coloured shapes and everything that made each one.

    Attributes
    ----------
    images : ndarray, (n, H, W, 3) uint8
    shape, colour : ndarray, (n,) int64
        Indices into ``shape_names`` and ``colour_names``.
    scale : ndarray, (n,) float64
        The shape's radius as a fraction of the image side.
    center : ndarray, (n, 2) float64
        The shape's centre (x, y) in pixels, (0, 0) the top-left corner of the top-left pixel.
    angle : ndarray, (n,) float64
        Rotation in radians, counter-clockwise as seen on the screen.
    background : ndarray, (n,) int64
        Index into ``background_names``.
    rgb : ndarray, (n, 3) uint8
        The shape's colour after the jitter.
    shape_names, colour_names, background_names : tuple of str
    """

    images: np.ndarray
    shape: np.ndarray
    colour: np.ndarray
    scale: np.ndarray
    center: np.ndarray
    angle: np.ndarray
    background: np.ndarray
    rgb: np.ndarray
    shape_names: tuple[str, ...]
    colour_names: tuple[str, ...]
    background_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.images)


# ----------------------------------------------------------------------------- distances
# Each takes the local coordinates x, y (arrays of any one shape) in units of the radius and
# returns the signed distance to the figure's outline in the same units.


def _box(x: np.ndarray, y: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    """Exact signed distance to an axis-aligned rectangle of half-sides ``half_w, half_h``."""
    qx, qy = np.abs(x) - half_w, np.abs(y) - half_h
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _circle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.hypot(x, y) - 0.9


def _square(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _box(x, y, 0.72, 0.72)  # corners at 1.02 of the radius


def _triangle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """An equilateral triangle, apex up, vertices at radius 1: the largest of the distances
    to its three edge lines (exact inside, a slight under-estimate outside near a vertex)."""
    inradius = 0.5  # of an equilateral triangle with circumradius 1
    normals = np.deg2rad([90.0, 210.0, 330.0]) + np.pi  # outward normals: down, up-left, up-right
    d = [x * np.cos(a) + y * np.sin(a) for a in normals]
    return np.maximum(np.maximum(d[0], d[1]), d[2]) - inradius


def _star(x: np.ndarray, y: np.ndarray, points: int = 5, inner: float = 0.45) -> np.ndarray:
    """A five-pointed star, tips at radius 1 and notches at ``inner``.

    By symmetry every point folds into one half-sector ``0 <= phi <= pi / points`` with the tip
    on the x axis; there the outline is the segment from the tip A = (1, 0) to the notch B, and
    the distance to the star is the distance to that segment, negative on the centre's side.
    """
    sector = np.pi / points
    phi = np.abs(np.mod(np.arctan2(y, x) + sector, 2 * sector) - sector)  # in [0, sector]
    r = np.hypot(x, y)
    qx, qy = r * np.cos(phi), r * np.sin(phi)
    ax, ay = 1.0, 0.0
    bx, by = inner * np.cos(sector), inner * np.sin(sector)
    ex, ey = bx - ax, by - ay
    t = np.clip(((qx - ax) * ex + (qy - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    dist = np.hypot(qx - ax - t * ex, qy - ay - t * ey)
    # the centre lies on the side where the cross product (B - A) x (Q - A) is positive
    side = ex * (qy - ay) - ey * (qx - ax)
    return np.where(side > 0, -dist, dist)


def _cross(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A plus sign: the union (minimum of distances) of two bars."""
    return np.minimum(_box(x, y, 0.95, 0.3), _box(x, y, 0.3, 0.95))


_DISTANCE = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "cross": _cross,
}


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


# ------------------------------------------------------------------------------ making
def make_shapes(
    n: int,
    size: int = 32,
    seed: int = 0,
    *,
    shapes: Sequence[str] = SHAPES,
    colours: Sequence[str] = tuple(COLOURS),
    backgrounds: Sequence[str] = BACKGROUNDS,
    scale: tuple[float, float] = (0.22, 0.4),
    jitter: int = 12,
    noise: float = 10.0,
) -> ShapeImages:
    """``n`` images of coloured shapes on grey backgrounds, the same for the same arguments.

    Every (shape, colour) pair occurs ``n // pairs`` or one more times (in a random order);
    size, position, rotation and the background are drawn independently of them.

    Parameters
    ----------
    n : int
        Number of images, 1 to 1,000,000.
    size : int
        Side of the square images in pixels, 16 to 128.
    seed : int
        Seed of every random draw.
    shapes, colours, backgrounds : sequence of str
        Which of :data:`SHAPES`, :data:`COLOURS` and :data:`BACKGROUNDS` to use; their order
        gives the label indices.
    scale : (float, float)
        Range of the shape's radius as a fraction of the side (within [0.1, 0.5]); the shape
        always lies wholly inside the image.
    jitter : int
        Largest change of each RGB channel of a colour, 0 to 40.
    noise : float
        Standard deviation of the ``noise`` background, in grey levels (0 to 40); the
        stripes' amplitude is twice it.

    Returns
    -------
    ShapeImages

    Raises
    ------
    ConfigError, UnknownNameError
        For an argument out of range or a name not in the lists; one line naming it.

    Examples
    --------
    >>> data = make_shapes(30, size=32, seed=1, backgrounds=("plain",))
    >>> int(data.shape.max()) + 1, int(data.colour.max()) + 1, data.images.shape
    (5, 6, (30, 32, 32, 3))
    >>> make_shapes(10, size=8)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: make_shapes: size must be an integer in [16, 128], got 8
    """
    _check_int("n", n, 1, MAX_IMAGES)
    _check_int("size", size, 16, 128)
    _check_int("seed", seed, 0, 2**32 - 1)
    _check_int("jitter", jitter, 0, 40)
    shapes = _check_names("shape", shapes, tuple(_DISTANCE))
    colours = _check_names("colour", colours, tuple(COLOURS))
    backgrounds = _check_names("background", backgrounds, BACKGROUNDS)
    low, high = (float(s) for s in scale)
    if not 0.1 <= low <= high <= 0.5:
        raise ConfigError(f"make_shapes: scale must be (low, high) within [0.1, 0.5], got {scale}")
    if not 0 <= float(noise) <= 40:
        raise ConfigError(f"make_shapes: noise must be in [0, 40], got {noise}")

    rng = np.random.default_rng(seed)
    pairs = len(shapes) * len(colours)
    pair = rng.permutation(np.arange(n) % pairs)  # balanced: each pair n // pairs or one more
    shape, colour = pair // len(colours), pair % len(colours)
    radius_frac = rng.uniform(low, high, n)
    radius = radius_frac * size  # (n,) pixels
    margin = 1.05 * radius + 1.0  # the figures reach at most 1.02 radii from the centre
    center = margin[:, None] + rng.uniform(0, 1, (n, 2)) * (size - 2 * margin)[:, None]
    angle = rng.uniform(0, 2 * np.pi, n)
    background = rng.integers(0, len(backgrounds), n)
    base = np.array([COLOURS[c] for c in colours], dtype=np.float64)  # (C, 3)
    rgb = np.clip(base[colour] + rng.integers(-jitter, jitter + 1, (n, 3)), 0, 255)
    grey = rng.uniform(40, 110, n)  # dark-to-mid grey: every colour stands out on it
    stripe_angle = rng.uniform(0, np.pi, n)
    stripe_period = rng.uniform(3.0, 8.0, n)  # pixels
    stripe_phase = rng.uniform(0, 2 * np.pi, n)
    noise_seed = int(rng.integers(0, 2**63))

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    noise_rng = np.random.default_rng(noise_seed)
    for lo in range(0, n, CHUNK):  # chunks of images, each rendered in one go
        sl = slice(lo, min(n, lo + CHUNK))
        m = sl.stop - sl.start
        # -- the background, (m, H, W) grey levels
        bg = np.broadcast_to(grey[sl, None, None], (m, size, size)).astype(np.float32)
        kind = np.asarray(backgrounds)[background[sl]]
        noisy = kind == "noise"
        bg = bg + noisy[:, None, None] * noise_rng.normal(0, noise, (m, size, size))
        u = np.cos(stripe_angle[sl])[:, None, None] * centres[None, None, :]
        u = u + np.sin(stripe_angle[sl])[:, None, None] * centres[None, :, None]  # (m, H, W)
        wave = np.sin(2 * np.pi * u / stripe_period[sl, None, None] + stripe_phase[sl, None, None])
        bg = bg + (kind == "stripes")[:, None, None] * (2 * noise) * wave
        # -- each image's pixel centres in its shape's frame: shift, rotate by -angle, scale
        dx = centres[None, None, :] - center[sl, 0, None, None]  # (m, 1, W)
        dy = center[sl, 1, None, None] - centres[None, :, None]  # (m, H, 1): y up on screen
        cos, sin = np.cos(angle[sl])[:, None, None], np.sin(angle[sl])[:, None, None]
        r = radius[sl, None, None]
        x = (cos * dx + sin * dy) / r  # (m, H, W)
        y = (-sin * dx + cos * dy) / r
        dist = np.empty((m, size, size), dtype=np.float32)  # signed, in pixels
        for k, name in enumerate(shapes):  # one vectorised pass per shape kind
            pick = shape[sl] == k
            if pick.any():
                dist[pick] = _DISTANCE[name](x[pick], y[pick]) * r[pick]
        coverage = _smoothstep(0.5, -0.5, dist)[..., None]  # (m, H, W, 1): 1 inside, 0 out
        pixels = coverage * rgb[sl, None, None, :] + (1 - coverage) * bg[..., None]
        images[sl] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)

    return ShapeImages(
        images=images,
        shape=shape.astype(np.int64),
        colour=colour.astype(np.int64),
        scale=radius_frac,
        center=center,
        angle=angle,
        background=background.astype(np.int64),
        rgb=rgb.astype(np.uint8),
        shape_names=shapes,
        colour_names=colours,
        background_names=backgrounds,
    )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise ConfigError(
            f"make_shapes: {name} must be an integer in [{low}, {high}], got {value!r}"
        )


def _check_names(kind: str, names: Sequence[str], accepted: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(names) if not isinstance(names, str) else (names,)
    if not names:
        raise ConfigError(
            f"make_shapes: give at least one {kind} (accepted: {', '.join(accepted)})"
        )
    for name in names:
        if name not in accepted:
            raise UnknownNameError(
                f"make_shapes: unknown {kind} {name!r}{suggest(str(name), accepted)} "
                f"(accepted: {', '.join(accepted)})"
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"make_shapes: {kind}s repeat: {', '.join(names)}")
    return names
