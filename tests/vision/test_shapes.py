"""The coloured-shapes generator: reproducible, balanced, the colours and shapes it says."""

from __future__ import annotations

import numpy as np
import pytest

from genailab.errors import ConfigError, UnknownNameError
from genailab.vision.shapes import BACKGROUNDS, COLOURS, SHAPES, make_shapes


@pytest.fixture(scope="module")
def data():
    return make_shapes(600, size=32, seed=3)


def test_same_seed_same_images_other_seed_other_images(data):
    again = make_shapes(600, size=32, seed=3)
    assert np.array_equal(again.images, data.images)
    assert np.array_equal(again.shape, data.shape) and np.array_equal(again.angle, data.angle)
    other = make_shapes(600, size=32, seed=4)
    assert not np.array_equal(other.images, data.images)


def test_every_shape_colour_and_background_appears_balanced(data):
    assert data.images.shape == (600, 32, 32, 3) and data.images.dtype == np.uint8
    pairs = np.bincount(data.shape * len(COLOURS) + data.colour, minlength=30)
    assert pairs.min() == pairs.max() == 20  # 600 images over 30 pairs: exactly balanced
    assert set(data.background.tolist()) == set(range(len(BACKGROUNDS)))
    assert data.shape_names == SHAPES and data.colour_names == tuple(COLOURS)


def test_other_sizes_and_odd_counts():
    small = make_shapes(7, size=48, seed=0)
    assert small.images.shape == (7, 48, 48, 3)
    counts = np.bincount(small.shape * 6 + small.colour, minlength=30)
    assert counts.max() == 1


def test_the_centre_of_a_big_shape_has_its_colour():
    data = make_shapes(300, size=48, seed=1, scale=(0.4, 0.45), jitter=0)
    cx = np.floor(data.center[:, 0]).astype(int)
    cy = np.floor(data.center[:, 1]).astype(int)
    centre = data.images[np.arange(300), cy, cx].astype(int)  # (n, 3)
    expected = np.array(list(COLOURS.values()))[data.colour]
    # every shape covers its centre (the star's notches lie at 0.45 of the radius)
    assert np.abs(centre - expected).max() <= 1
    assert np.array_equal(data.rgb.astype(int), expected)


def test_the_jittered_colour_is_within_the_jitter():
    data = make_shapes(200, size=32, seed=2, jitter=12)
    nominal = np.array(list(COLOURS.values()))[data.colour]
    assert 0 < np.abs(data.rgb.astype(int) - nominal).max() <= 12


def test_shapes_differ_in_area_and_edges_are_antialiased():
    data = make_shapes(500, size=48, seed=5, backgrounds=("plain",), scale=(0.3, 0.3), jitter=0)
    rgb = data.images.astype(int)
    colour = np.array(list(COLOURS.values()))[data.colour][:, None, None, :]
    inside = (np.abs(rgb - colour).max(-1) <= 1).sum((1, 2))  # (n,) pixels of full coverage
    area = {name: inside[data.shape == k].mean() / (0.3 * 48) ** 2 for k, name in enumerate(SHAPES)}
    # areas in units of r^2 (fully covered pixels, so a little under the true area)
    assert area["circle"] == pytest.approx(np.pi * 0.81, rel=0.12)
    assert area["square"] == pytest.approx(1.44**2, rel=0.12)
    assert area["triangle"] == pytest.approx(3 * np.sqrt(3) / 4, rel=0.15)
    # ten triangles of sides 1 and 0.45 at 36 degrees
    assert area["star"] == pytest.approx(5 * 0.45 * np.sin(np.pi / 5), rel=0.2)
    assert area["triangle"] < area["square"] < area["circle"]
    grey = data.images[data.background == 0]
    levels = [len(np.unique(img.reshape(-1, 3), axis=0)) for img in grey[:20]]
    assert min(levels) > 3  # not just shape and background: blended edge pixels


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"n": 0}, ConfigError, "n must be an integer in [1, 1000000], got 0"),
        ({"n": 5, "size": 200}, ConfigError, "size must be an integer in [16, 128]"),
        ({"n": 5, "shapes": ("circle", "hexagon")}, UnknownNameError, "unknown shape 'hexagon'"),
        ({"n": 5, "colours": ("red", "rde")}, UnknownNameError, "did you mean 'red'"),
        ({"n": 5, "scale": (0.4, 0.2)}, ConfigError, "scale must be"),
        ({"n": 5, "backgrounds": ()}, ConfigError, "at least one background"),
    ],
)
def test_bad_arguments_get_one_line_errors(kwargs, error, fragment):
    with pytest.raises(error) as info:
        make_shapes(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)
