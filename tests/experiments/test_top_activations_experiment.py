"""top-activations: chance purity against its closed form, the faded tiles and enlarged crops
pixel by pixel."""

import numpy as np
import pytest

from genailab.experiments.top_activations import (
    BOX,
    EDGE,
    FADE,
    STAGES_SHOWN,
    Config,
    enlarged,
    faded,
    frame_count,
    grid,
    random_purity,
)


def test_chance_purity_matches_its_closed_form():
    """k = 2 images of 10 balanced classes: purity 1 if they match (p = 0.1), else 1/2."""
    labels = np.repeat(np.arange(10), 100)
    assert random_purity(labels, 2, 40_000, seed=0) == pytest.approx(0.55, abs=0.005)


def test_faded_keeps_the_window_outlines_it_and_fades_the_rest():
    images = np.full((2, 8, 8, 3), 40, np.uint8)
    boxes = np.array([[2, 6, 1, 5], [0, 8, 0, 8]])  # (top, bottom, left, right)
    out = faded(images, boxes)
    expected_faded = round(40 + FADE * (255 - 40))
    assert out[0, 0, 0].tolist() == [expected_faded] * 3
    assert out[0, 3, 2].tolist() == [40] * 3  # inside, off the outline
    assert out[0, 2, 3].tolist() == list(BOX) and out[0, 5, 4].tolist() == list(BOX)
    assert out[0, 6, 3].tolist() == [expected_faded] * 3  # just below the window
    assert out[1, 0, 0].tolist() == list(BOX) and out[1, 4, 4].tolist() == [40] * 3


def test_enlarged_repeats_pixels_and_outlines_the_tile():
    crops = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    out = enlarged(crops, side=6)
    assert out.shape == (2, 6, 6, 3)
    assert out[0, 1, 1].tolist() == crops[0, 0, 0].tolist()
    assert out[1, 4, 4].tolist() == crops[1, 1, 1].tolist()
    assert out[0, 0, 3].tolist() == list(EDGE) and out[1, 5, 5].tolist() == list(EDGE)


def test_grid_places_tiles_with_white_gaps():
    tiles = np.zeros((2, 3, 4, 4, 3), np.uint8)
    out = grid(tiles, gap=2)
    assert out.shape == (10, 16, 3)
    assert (out[4:6] == 255).all() and (out[:, 4:6] == 255).all() and (out[:4, :4] == 0).all()


def test_frame_count_is_hold_frames_per_stage():
    assert frame_count(Config(hold=5)) == 5 * len(STAGES_SHOWN)
