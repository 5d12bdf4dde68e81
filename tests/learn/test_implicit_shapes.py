"""Implicit shapes: lifting maps, the affine change of coordinates on lifted rows, and the
conic <-> ellipse geometry conversions, against closed forms and direct evaluation."""

import numpy as np
import pytest

from genailab.learn.implicit_shapes import (
    EllipseGeometry,
    circle_geometry,
    conic_geometry,
    conic_to_ellipse,
    ellipse_points,
    ellipse_to_conic,
    lift,
    n_features,
    normalizing_map,
)

RNG = np.random.default_rng(7)


def random_ellipses(n: int, rng: np.random.Generator) -> list[EllipseGeometry]:
    # NOTE: far-off centres with tiny axes lose digits to cancellation in F = q(c) - 1, so the
    # 1e-12 round trip is stated for centres in [-3, 3]^2 and axes in [0.5, 5].
    out = []
    for _ in range(n):
        b, a = np.sort(rng.uniform(0.5, 5.0, 2))
        centre = rng.uniform(-3, 3, 2)
        out.append(EllipseGeometry(centre, float(a), float(b), rng.uniform(0, np.pi)))
    return out


@pytest.mark.parametrize(
    ("shape", "degree"), [("line", 2), ("polynomial", 3), ("circle", 2), ("conic", 2)]
)
def test_normalizing_map_acts_on_lifted_rows_exactly(shape, degree):
    points = RNG.normal(size=(20, 2)) * 3  # (20, 2)
    shift, scale = np.array([1.5, -2.0]), np.array([2.5, 2.5 if shape == "circle" else 0.7])
    M = normalizing_map(shape, shift, scale, degree)
    np.testing.assert_allclose(
        lift(points, shape, degree) @ M, lift((points - shift) / scale, shape, degree), atol=1e-12
    )
    assert M.shape == (n_features(shape, degree),) * 2


def test_lift_rows_are_the_monomials():
    p = np.array([[2.0, -3.0]])
    np.testing.assert_array_equal(lift(p, "line"), [[2, -3, 1]])
    np.testing.assert_array_equal(lift(p, "circle"), [[13, 2, -3, 1]])
    np.testing.assert_array_equal(lift(p, "polynomial", degree=3), [[1, 2, 4, 8, -3]])
    np.testing.assert_array_equal(lift(p, "conic"), [[4, -6, 9, 2, -3, 1]])


def test_geometry_round_trip_to_1e_12_including_angles_near_0_and_pi():
    ellipses = random_ellipses(200, RNG)
    ellipses += [
        EllipseGeometry(np.array([0.3, -0.2]), 2.0, 1.0, angle)
        for angle in (0.0, 1e-9, np.pi - 1e-9)
    ]
    for e in ellipses:
        back = conic_to_ellipse(ellipse_to_conic(e))
        np.testing.assert_allclose(back.centre, e.centre, atol=1e-12)
        assert back.a == pytest.approx(e.a, abs=1e-12)
        assert back.b == pytest.approx(e.b, abs=1e-12)
        # the angle is defined modulo pi: compare on the circle of length pi
        gap = (back.angle - e.angle + np.pi / 2) % np.pi - np.pi / 2
        assert abs(gap) < 1e-12 and 0 <= back.angle < np.pi


def test_conic_of_an_ellipse_vanishes_on_its_points_and_is_positive_outside():
    for e in random_ellipses(20, RNG):
        theta = ellipse_to_conic(e)
        t = np.linspace(0, 2 * np.pi, 33)
        on = lift(ellipse_points(e, t), "conic") @ theta  # (33,)
        np.testing.assert_allclose(on, 0, atol=1e-12)
        assert np.linalg.norm(theta) == pytest.approx(1.0)
        assert theta[0] + theta[2] > 0  # sign rule
        inside = lift(e.centre[None], "conic") @ theta
        assert inside[0] < 0


def test_explicit_conic_geometry_matches_hand_computation():
    # (x - 1)^2 / 9 + (y + 2)^2 / 4 = 1 rotated by 90 degrees: major axis along y.
    # 4 (x - 1)^2 + ... in rotated frame: x'^2/9 + y'^2/4 with x' = y + 2, y' = -(x - 1)
    # -> (y + 2)^2 / 9 + (x - 1)^2 / 4 = 1 -> 9 x^2 + 4 y^2 - 18 x + 16 y + 9 + 16 - 36 = 0
    theta = np.array([9.0, 0.0, 4.0, -18.0, 16.0, -11.0])
    np.testing.assert_allclose(conic_geometry(theta), [1, -2, 3, 2, np.pi / 2], atol=1e-14)
    # the same with every sign flipped describes the same ellipse
    np.testing.assert_allclose(conic_geometry(-theta), [1, -2, 3, 2, np.pi / 2], atol=1e-14)


def test_non_ellipses_give_nan_or_raise():
    hyperbola = np.array([1.0, 0.0, -1.0, 0.0, 0.0, -1.0])
    empty = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])  # x^2 + y^2 = -1
    assert np.isnan(conic_geometry(np.stack([hyperbola, empty]))).all()
    with pytest.raises(ValueError, match="real ellipse"):
        conic_to_ellipse(hyperbola)
    assert np.isnan(circle_geometry(np.array([1.0, 0.0, 0.0, 1.0]))[2])


def test_ellipse_points_closed_form():
    e = EllipseGeometry(np.array([1.0, 2.0]), 3.0, 1.0, np.pi / 6)
    p = ellipse_points(e, np.array([0.0, np.pi / 2]))
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    np.testing.assert_allclose(p, [[1 + 3 * c, 2 + 3 * s], [1 - s, 2 + c]], atol=1e-15)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lift(np.zeros((3, 2)), "spline"), "shape must be one of"),
        (lambda: lift(np.zeros((3, 3)), "line"), r"points must have shape"),
        (lambda: lift(np.zeros((3, 2)), "polynomial", degree=0), "degree must be an int >= 1"),
        (lambda: ellipse_to_conic(EllipseGeometry(np.zeros(2), 1.0, 2.0, 0.0)), "a >= b > 0"),
        (lambda: conic_geometry(np.zeros(5)), "6 conic coefficients"),
        (
            lambda: normalizing_map("circle", np.zeros(2), np.array([1.0, 2.0])),
            "isotropic",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
