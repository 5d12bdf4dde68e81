"""The canvas renders exactly W x H pixels, from numpy or from its reused matplotlib figure."""

from __future__ import annotations

import numpy as np
import pytest

from genailab.video import Canvas


def test_pixels_are_rendered_as_drawn():
    canvas = Canvas(64, 32, background=(10, 20, 30))
    assert canvas.render()[5, 5].tolist() == [10, 20, 30]
    canvas.pixels[:, 32:] = (255, 0, 0)
    out = canvas.render()
    assert out.shape == (32, 64, 3) and out.dtype == np.uint8
    assert out[0, 40].tolist() == [255, 0, 0] and out[0, 10].tolist() == [10, 20, 30]
    canvas.clear()
    assert (canvas.render() == (10, 20, 30)).all()


def test_figure_is_reused_and_renders_at_canvas_size():
    canvas = Canvas(320, 180)
    fig = canvas.figure
    assert canvas.figure is fig
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.imshow(np.zeros((2, 2)), cmap="gray", extent=(0, 1, 0, 1), aspect="auto")
    ax.set(xlim=(0, 1), ylim=(0, 1))
    rgb = canvas.render()
    assert rgb.shape == (180, 320, 3)
    # The axes fill the figure with a black image: the centre pixel must be black.
    assert rgb[90, 160].tolist() == [0, 0, 0]


@pytest.mark.parametrize("size", [(63, 32), (64, 31), (0, 0)])
def test_odd_or_empty_sizes_are_refused(size):
    with pytest.raises(ValueError, match="even and at least 2x2"):
        Canvas(*size)
