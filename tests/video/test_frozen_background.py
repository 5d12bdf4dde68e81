"""Blitting the static parts of a figure must not change a single pixel of the frames."""

from __future__ import annotations

import numpy as np

from genailab.video import Canvas, freeze_background


def _scene(canvas: Canvas):
    fig = canvas.figure
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.75))
    ax.set(xlim=(0, 10), ylim=(-1.2, 1.2), xlabel="step", ylabel="value")
    ax.plot(np.linspace(0, 10, 50), np.cos(np.linspace(0, 10, 50)), color="grey")  # static
    fig.text(0.1, 0.92, "a title that never changes", fontsize=14)
    (line,) = ax.plot([], [], color="C0", lw=2)  # live
    return line


def _frame(line, t: int) -> None:
    # Kept off the spines: where a live artist crosses a static one drawn above it, blitting
    # puts the live one on top (documented), so pixels match only away from such overlaps.
    x = np.linspace(0.5, t, 20 * t + 2)
    line.set_data(x, np.sin(x))


def test_frames_are_identical_with_and_without_a_frozen_background():
    plain, frozen = Canvas(320, 240), Canvas(320, 240)
    plain_line, frozen_line = _scene(plain), _scene(frozen)
    freeze_background(frozen.figure, [frozen_line])
    for t in (1, 4, 9):
        _frame(plain_line, t)
        _frame(frozen_line, t)
        expected = plain.render().copy()
        got = frozen.render()
        assert np.array_equal(got, expected), f"frame {t} differs"
    # The frozen canvas really skips the static artists: only the background is drawn for them.
    visible_texts = [t for t in frozen.figure.texts if t.get_visible()]
    assert visible_texts == []
