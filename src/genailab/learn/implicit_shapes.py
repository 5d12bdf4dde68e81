"""Shapes given implicitly and linearly in their parameters: ``g(x; theta) = features(x) @ theta``.

Vincent Granville's *cloud regression* ("Cloud regression: the swiss army knife of
optimization"; also his book *Synthetic Data and Generative AI*, 2024) fits every one of these
shapes with the same recipe, because each is the zero set of a function that is *linear in its
parameters*: lift each point ``(x, y)`` to a row of features, and the shape is
``{(x, y): features(x, y) @ theta = 0}``. This module holds the lifting maps, the affine
change of coordinates on the lifted rows, and the conversions between a conic's coefficients and
an ellipse's geometry.

=============  =================================  =====================================
shape          features(x, y)                     zero set
=============  =================================  =====================================
line           ``[x, y, 1]``                      ``a x + b y + c = 0``
polynomial     ``[1, x, ..., x^k, y]``            ``t_0 + t_1 x + ... + t_k x^k + t_y y = 0``
circle         ``[x^2 + y^2, x, y, 1]``           ``A (x^2 + y^2) + D x + E y + F = 0``
conic          ``[x^2, x y, y^2, x, y, 1]``       ``A x^2 + B x y + C y^2 + D x + E y + F = 0``
=============  =================================  =====================================

Ellipse geometry: centre ``(cx, cy)``, semi-axes ``a >= b > 0`` and the angle in ``[0, pi)``
of the major axis, counter-clockwise from the x axis. The point at parameter angle ``t`` is
``centre + a cos(t) u + b sin(t) v`` with ``u = (cos angle, sin angle)`` and
``v = (-sin angle, cos angle)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

SHAPES = ("line", "polynomial", "circle", "conic")


def n_features(shape: str, degree: int = 2) -> int:
    """Number of coefficients in ``theta`` for ``shape``.

    Examples
    --------
    >>> n_features("conic"), n_features("polynomial", degree=3)
    (6, 5)
    """
    _check_shape(shape, degree)
    return {"line": 3, "polynomial": degree + 2, "circle": 4, "conic": 6}[shape]


def lift(points: np.ndarray, shape: str, degree: int = 2) -> np.ndarray:
    """Lift points ``(..., n, 2)`` to the feature rows ``(..., n, k)`` of ``shape``.

    Parameters
    ----------
    points : ndarray of shape (..., n, 2)
        The points ``(x, y)``; leading batch dimensions are kept.
    shape : {"line", "polynomial", "circle", "conic"}
    degree : int, default 2
        Degree ``k`` of the polynomial (ignored by the other shapes).

    Returns
    -------
    ndarray of shape (..., n, k)
        One row per point, so that ``g(x; theta) = lift(x) @ theta``.

    Examples
    --------
    >>> lift(np.array([[2.0, 3.0]]), "conic")
    array([[4., 6., 9., 2., 3., 1.]])
    >>> lift(np.array([[2.0, 3.0]]), "polynomial", degree=2)
    array([[1., 2., 4., 3.]])
    """
    _check_shape(shape, degree)
    points = np.asarray(points, dtype=float)
    if points.ndim < 2 or points.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., n, 2), got {points.shape}")
    x, y = points[..., 0], points[..., 1]  # (..., n)
    one = np.ones_like(x)
    if shape == "line":
        columns = [x, y, one]
    elif shape == "polynomial":
        columns = [x**j for j in range(degree + 1)] + [y]
    elif shape == "circle":
        columns = [x * x + y * y, x, y, one]
    else:
        columns = [x * x, x * y, y * y, x, y, one]
    return np.stack(columns, axis=-1)  # (..., n, k)


def normalizing_map(
    shape: str, shift: np.ndarray, scale: np.ndarray, degree: int = 2
) -> np.ndarray:
    """The matrix ``M`` with ``lift((p - shift) / scale) = lift(p) @ M`` for every point ``p``.

    Every feature is a polynomial in ``(x, y)`` of degree at most 2 (``k`` for the polynomial),
    so an affine change of coordinates acts on the lifted rows as a linear map. A fit
    ``theta_u`` in the new coordinates is therefore the fit ``M @ theta_u`` in the old ones.

    Parameters
    ----------
    shape : {"line", "polynomial", "circle", "conic"}
    shift : ndarray of shape (..., 2)
        The origin of the new coordinates.
    scale : ndarray of shape (..., 2) or (...,)
        Per-axis (or one isotropic) scale; the circle needs an isotropic one.
    degree : int, default 2

    Returns
    -------
    ndarray of shape (..., k, k)

    Examples
    --------
    >>> p = np.array([[1.0, 2.0], [3.0, -1.0]])
    >>> M = normalizing_map("conic", np.array([0.5, 1.0]), np.array(2.0))
    >>> np.allclose(lift(p, "conic") @ M, lift((p - [0.5, 1.0]) / 2.0, "conic"))
    True
    """
    _check_shape(shape, degree)
    shift = np.asarray(shift, dtype=float)
    scale = np.asarray(scale, dtype=float)
    if scale.shape == shift.shape[:-1]:
        scale = np.stack([scale, scale], axis=-1)  # (..., 2)
    mx, my = shift[..., 0], shift[..., 1]  # (...)
    sx, sy = scale[..., 0], scale[..., 1]  # (...)
    k = n_features(shape, degree)
    M = np.zeros((*mx.shape, k, k))  # (..., k, k); column j holds new feature j
    if shape == "line":
        M[..., 0, 0], M[..., 2, 0] = 1 / sx, -mx / sx
        M[..., 1, 1], M[..., 2, 1] = 1 / sy, -my / sy
        M[..., 2, 2] = 1.0
    elif shape == "polynomial":
        # u^j = ((x - mx) / sx)^j = sum_i C(j, i) x^i (-mx)^(j - i) / sx^j (binomial theorem)
        for j in range(degree + 1):
            for i in range(j + 1):
                M[..., i, j] = comb(j, i) * (-mx) ** (j - i) / sx**j
        M[..., degree + 1, degree + 1], M[..., 0, degree + 1] = 1 / sy, -my / sy
    elif shape == "circle":
        if not np.allclose(sx, sy):
            raise ValueError("scale must be isotropic for a circle, got different x and y scales")
        s2 = sx * sx
        # u^2 + v^2 = (x^2 + y^2 - 2 mx x - 2 my y + mx^2 + my^2) / s^2
        M[..., 0, 0], M[..., 1, 0], M[..., 2, 0] = 1 / s2, -2 * mx / s2, -2 * my / s2
        M[..., 3, 0] = (mx * mx + my * my) / s2
        M[..., 1, 1], M[..., 3, 1] = 1 / sx, -mx / sx
        M[..., 2, 2], M[..., 3, 2] = 1 / sy, -my / sy
        M[..., 3, 3] = 1.0
    else:
        # columns: u^2, u v, v^2, u, v, 1 written on x^2, x y, y^2, x, y, 1
        M[..., 0, 0], M[..., 3, 0], M[..., 5, 0] = 1 / sx**2, -2 * mx / sx**2, mx**2 / sx**2
        sxy = sx * sy
        M[..., 1, 1], M[..., 3, 1], M[..., 4, 1] = 1 / sxy, -my / sxy, -mx / sxy
        M[..., 5, 1] = mx * my / sxy
        M[..., 2, 2], M[..., 4, 2], M[..., 5, 2] = 1 / sy**2, -2 * my / sy**2, my**2 / sy**2
        M[..., 3, 3], M[..., 5, 3] = 1 / sx, -mx / sx
        M[..., 4, 4], M[..., 5, 4] = 1 / sy, -my / sy
        M[..., 5, 5] = 1.0
    return M


@dataclass(frozen=True)
class EllipseGeometry:
    """An ellipse by its geometry: centre, semi-axes ``a >= b`` and major-axis angle.

    Attributes
    ----------
    centre : ndarray of shape (2,)
    a, b : float
        Semi-major and semi-minor axes (``a >= b > 0``; a circle has ``a == b``).
    angle : float
        Angle of the major axis in ``[0, pi)``, counter-clockwise from the x axis (0 for a
        circle, where it is undefined).

    Examples
    --------
    >>> e = EllipseGeometry(np.array([1.0, 2.0]), 3.0, 1.0, 0.0)
    >>> e.point(np.array([0.0, np.pi / 2]))
    array([[4., 2.],
           [1., 3.]])
    """

    centre: np.ndarray
    a: float
    b: float
    angle: float

    def point(self, t: np.ndarray) -> np.ndarray:
        """Points ``(len(t), 2)`` at parameter angles ``t`` (see :func:`ellipse_points`)."""
        return ellipse_points(self, t)

    def as_array(self) -> np.ndarray:
        """``[cx, cy, a, b, angle]``."""
        return np.array([self.centre[0], self.centre[1], self.a, self.b, self.angle])


def ellipse_points(geometry: EllipseGeometry, t: np.ndarray) -> np.ndarray:
    """Points on an ellipse at parameter angles ``t``: ``centre + a cos t u + b sin t v``.

    Examples
    --------
    >>> e = EllipseGeometry(np.zeros(2), 2.0, 1.0, np.pi / 2)
    >>> np.round(ellipse_points(e, np.array([0.0])), 12)
    array([[0., 2.]])
    """
    t = np.asarray(t, dtype=float)
    c, s = np.cos(geometry.angle), np.sin(geometry.angle)
    u = geometry.a * np.cos(t)  # (T,) along the major axis
    v = geometry.b * np.sin(t)  # (T,) along the minor axis
    return np.stack([geometry.centre[0] + c * u - s * v, geometry.centre[1] + s * u + c * v], -1)


def ellipse_to_conic(geometry: EllipseGeometry) -> np.ndarray:
    """Unit-norm conic coefficients ``[A, B, C, D, E, F]`` of an ellipse, with ``A + C > 0``.

    In the ellipse's own frame ``(p, q)`` the equation is ``p^2 / a^2 + q^2 / b^2 = 1``;
    rotating by ``angle`` and shifting by the centre expands it into the general conic.

    Examples
    --------
    >>> theta = ellipse_to_conic(EllipseGeometry(np.zeros(2), 2.0, 1.0, 0.0))
    >>> np.round(theta / theta[0], 12) + 0.0  # x^2 / 4 + y^2 - 1 = 0, scaled by 4
    array([ 1.,  0.,  4.,  0.,  0., -4.])
    """
    _check_geometry(geometry)
    c, s = np.cos(geometry.angle), np.sin(geometry.angle)
    ia, ib = 1 / geometry.a**2, 1 / geometry.b**2
    A = c * c * ia + s * s * ib
    B = 2 * c * s * (ia - ib)
    C = s * s * ia + c * c * ib
    cx, cy = geometry.centre
    D = -2 * A * cx - B * cy
    E = -B * cx - 2 * C * cy
    F = A * cx * cx + B * cx * cy + C * cy * cy - 1
    theta = np.array([A, B, C, D, E, F])
    return theta / np.linalg.norm(theta)


def conic_geometry(theta: np.ndarray) -> np.ndarray:
    """Vectorised ellipse geometry ``(..., 5)`` = ``[cx, cy, a, b, angle]`` of conics ``(..., 6)``.

    Rows that are not real ellipses (hyperbolas, parabolas, empty or degenerate conics) give
    NaN. The centre solves ``grad g = 0``: ``[[2A, B], [B, 2C]] c = -[D, E]``; at the centre the
    equation becomes ``q(p) = -g(c)`` with the quadratic form ``q`` of eigenvalues ``l1 <= l2``,
    so the semi-axes are ``sqrt(-g(c) / l)``; the major axis is the eigenvector of the smaller
    eigenvalue, at angle ``atan2(-B, C - A) / 2``.

    Examples
    --------
    >>> theta = ellipse_to_conic(EllipseGeometry(np.array([1.0, -2.0]), 3.0, 1.0, 2.5))
    >>> np.round(conic_geometry(theta), 12)
    array([ 1. , -2. ,  3. ,  1. ,  2.5])
    """
    theta = np.asarray(theta, dtype=float)
    if theta.shape[-1] != 6:
        raise ValueError(
            f"theta must have 6 conic coefficients in its last axis, got {theta.shape}"
        )
    A, B, C, D, E, F = np.moveaxis(theta, -1, 0)  # each (...)
    det = 4 * A * C - B * B  # > 0 exactly for ellipses (of either sign convention)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = (B * E - 2 * C * D) / det
        cy = (B * D - 2 * A * E) / det
        g_centre = F + (D * cx + E * cy) / 2  # g at the centre, since grad g = 0 there
        half_sum = (A + C) / 2
        half_gap = np.hypot((A - C) / 2, B / 2)
        # flip the sign so the quadratic form is positive definite: then g(c) < 0 inside
        sign = np.sign(half_sum)
        l_small, l_large = sign * half_sum - half_gap, sign * half_sum + half_gap
        a = np.sqrt(-sign * g_centre / l_small)
        b = np.sqrt(-sign * g_centre / l_large)
        angle = np.mod(np.arctan2(-sign * B, sign * (C - A)) / 2, np.pi)
    ok = (det > 0) & (l_small > 0) & (-sign * g_centre > 0) & np.isfinite(a) & np.isfinite(b)
    out = np.stack([cx, cy, a, b, angle], axis=-1)  # (..., 5)
    return np.where(ok[..., None], out, np.nan)


def conic_to_ellipse(theta: np.ndarray) -> EllipseGeometry:
    """The :class:`EllipseGeometry` of one conic ``[A, B, C, D, E, F]``.

    Raises
    ------
    ValueError
        If the conic is not a real ellipse.

    Examples
    --------
    >>> e = conic_to_ellipse(np.array([1.0, 0.0, 4.0, 0.0, 0.0, -4.0]))
    >>> float(e.a), float(e.b), float(e.angle)
    (2.0, 1.0, 0.0)
    """
    values = conic_geometry(np.asarray(theta, dtype=float).reshape(6))
    if np.isnan(values).any():
        raise ValueError(f"theta must describe a real ellipse (4AC - B^2 > 0), got {theta}")
    return EllipseGeometry(values[:2].copy(), float(values[2]), float(values[3]), float(values[4]))


def circle_geometry(theta: np.ndarray) -> np.ndarray:
    """Vectorised ``[cx, cy, r]`` ``(..., 3)`` of circles ``A (x^2+y^2) + D x + E y + F = 0``.

    Completing the square: centre ``-(D, E) / 2A``, radius ``sqrt(|c|^2 - F / A)``; NaN where
    that is not a real circle.

    Examples
    --------
    >>> circle_geometry(np.array([1.0, -2.0, 0.0, -3.0])) + 0.0  # (x - 1)^2 + y^2 = 4
    array([1., 0., 2.])
    """
    theta = np.asarray(theta, dtype=float)
    if theta.shape[-1] != 4:
        raise ValueError(
            f"theta must have 4 circle coefficients in its last axis, got {theta.shape}"
        )
    A, D, E, F = np.moveaxis(theta, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx, cy = -D / (2 * A), -E / (2 * A)
        r2 = cx * cx + cy * cy - F / A
        r = np.sqrt(np.where(r2 > 0, r2, np.nan))
    return np.stack([cx, cy, r], axis=-1)


def _check_shape(shape: str, degree: int) -> None:
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if shape == "polynomial" and (not isinstance(degree, int | np.integer) or degree < 1):
        raise ValueError(f"degree must be an int >= 1, got {degree!r}")


def _check_geometry(g: EllipseGeometry) -> None:
    if not (np.isfinite(g.a) and np.isfinite(g.b) and g.a >= g.b > 0):
        raise ValueError(f"semi-axes must satisfy a >= b > 0, got a={g.a}, b={g.b}")
    if np.shape(g.centre) != (2,) or not np.all(np.isfinite(g.centre)):
        raise ValueError(f"centre must be 2 finite numbers, got {g.centre}")
