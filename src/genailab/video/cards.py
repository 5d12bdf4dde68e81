"""What the runner draws around an experiment's own pixels: the title band and the two cards.

* The **title band** is the top :data:`BAND_SHARE` of every data frame: the frame's caption,
  the message of its stretch, in the house title style. Draw functions leave that band empty;
  the runner paints it, so every video titles its frames alike and a title only changes when
  the message does.
* The **opening card** names the chapter, the concept and the question the video answers.
* The **closing card** gives the measured answer and each claim, met or not, with its numbers.

Text is laid out with matplotlib at the video's own size and cached per caption, so a title
costs one render however many frames show it. Text too wide for the frame is shrunk to fit.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from genailab.video.canvas import DPI
from genailab.video.style import INK, MUTED, PALETTE, TITLE_SIZE

BAND_SHARE = 0.085  # the title band: the top 8.5% of the frame (46 px of 540)
BAND_LEFT = 0.03  # the title starts here, as the experiments' own text does
LIGHT_INK = "#eeeeee"  # text on a dark frame
MET, NOT_MET = PALETTE[2], PALETTE[3]  # green check, vermilion cross (Okabe & Ito)


def band_height(height: int) -> int:
    """Rows of the title band in a frame ``height`` pixels tall (even, at least 16).

    Examples
    --------
    >>> band_height(540), band_height(360), band_height(64)
    (46, 30, 16)
    """
    return max(16, 2 * round(BAND_SHARE * height / 2))


def _is_dark(rgb: Sequence[int]) -> bool:
    r, g, b = (int(c) for c in rgb[:3])
    return 0.299 * r + 0.587 * g + 0.114 * b < 128


def _figure(width: int, height: int, background: Sequence[int]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    face = tuple(int(c) / 255 for c in background[:3])
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=face)
    FigureCanvasAgg(fig)
    return fig


def _pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # (H, W, 3)


def _fit(text_artist, fig, max_width_px: float, smallest: float = 7.0) -> None:
    """Shrink ``text_artist`` until it is at most ``max_width_px`` wide."""
    renderer = fig.canvas.get_renderer()
    size = text_artist.get_fontsize()
    while size > smallest and text_artist.get_window_extent(renderer).width > max_width_px:
        size = max(smallest, size * 0.92)
        text_artist.set_fontsize(size)


class TitleBand:
    """Paints captions into the top band of frames ``width x height``, one render per text.

    Examples
    --------
    >>> band = TitleBand(320, 180)
    >>> frame = np.full((180, 320, 3), 255, np.uint8)
    >>> band.paint(frame, "A caption")
    >>> bool((frame[: band.rows] < 128).any()), bool((frame[band.rows :] < 255).any())
    (True, False)
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.rows = band_height(height)
        self._cache: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}

    def strip(self, text: str, background: Sequence[int]) -> np.ndarray:
        """The band, ``(rows, width, 3)``, showing ``text`` on ``background``."""
        key = (text, tuple(int(c) for c in background[:3]))
        if key not in self._cache:
            if len(self._cache) > 256:  # captions are few; a run that makes many stays flat
                self._cache.clear()
            fig = _figure(self.width, self.rows, key[1])
            ink = LIGHT_INK if _is_dark(key[1]) else INK
            size = TITLE_SIZE * min(1.0, self.rows / band_height(540))
            artist = fig.text(BAND_LEFT, 0.5, text, fontsize=size, color=ink, va="center")
            _fit(artist, fig, (1 - 2 * BAND_LEFT) * self.width)
            self._cache[key] = _pixels(fig)
        return self._cache[key]

    def paint(self, rgb: np.ndarray, text: str) -> None:
        """Overwrite the band of ``rgb`` (``(H, W, 3)`` uint8) with ``text``, on the colour of
        the frame's top-left corner (dark frames get light ink)."""
        rgb[: self.rows] = self.strip(text, rgb[1, 1])


def cross_fade(before: np.ndarray, after: np.ndarray, t: float) -> np.ndarray:
    """``(1 - t) * before + t * after`` for two ``(H, W, 3)`` uint8 frames, in integers
    (weights in 256ths, so the temporaries are uint16, not float64).

    Examples
    --------
    >>> black, white = np.zeros((1, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8)
    >>> cross_fade(black, white, 0.5)[0, 0].tolist(), cross_fade(black, white, 1.0)[0, 0].tolist()
    ([128, 128, 128], [255, 255, 255])
    """
    weight = round(min(max(t, 0.0), 1.0) * 256)
    mixed = before.astype(np.uint16)
    mixed *= 256 - weight
    mixed += after.astype(np.uint16) * np.uint16(weight)
    mixed += 128  # round to nearest
    mixed >>= 8
    return mixed.astype(np.uint8)


def opening_card(
    width: int,
    height: int,
    *,
    chapter: str,
    title: str,
    question: str,
    footer: str,
) -> np.ndarray:
    """The first seconds of a video: the chapter, the concept and the question it answers.

    Examples
    --------
    >>> card = opening_card(320, 180, chapter="From zero to GPT", title="Random search",
    ...                     question="How fast?", footer="quick preset")
    >>> card.shape, card.dtype
    ((180, 320, 3), dtype('uint8'))
    """
    fig = _figure(width, height, (255, 255, 255))
    scale = min(width / 960, height / 540)
    wrap = _wrap_width(width, 20 * scale)
    room = (1 - 2 * 0.08) * width
    chapter_text = fig.text(0.08, 0.74, chapter.upper(), fontsize=13 * scale, color=MUTED)
    heading = fig.text(0.08, 0.62, title, fontsize=30 * scale, color=INK, weight="bold")
    body = fig.text(
        0.08,
        0.52,
        textwrap.fill(question, wrap),
        fontsize=20 * scale,
        color=INK,
        va="top",
        linespacing=1.35,
    )
    foot = fig.text(0.08, 0.08, footer, fontsize=11 * scale, color=MUTED)
    for artist in (chapter_text, heading, body, foot):
        _fit(artist, fig, room, smallest=4.0)
    fig.add_artist(_rule(fig, 0.08, 0.71))
    return _pixels(fig)


def closing_card(
    width: int,
    height: int,
    *,
    answer: str,
    claims: Sequence[dict],
    footer: str,
) -> np.ndarray:
    """The last seconds of a video: the measured answer and each claim, met or not.

    ``claims`` are outcomes of :meth:`genailab.lab.claims.Claim.evaluate` (``text``, ``met``,
    ``shown``).

    Examples
    --------
    >>> card = closing_card(320, 180, answer="Evolution wins.", footer="",
    ...                     claims=[{"text": "lower", "met": True, "shown": "1 < 2"}])
    >>> card.shape
    (180, 320, 3)
    """
    fig = _figure(width, height, (255, 255, 255))
    scale = min(width / 960, height / 540)
    room = (1 - 2 * 0.08) * width
    fig.text(0.08, 0.86, "WHAT THIS RUN MEASURED", fontsize=13 * scale, color=MUTED)
    fig.add_artist(_rule(fig, 0.08, 0.83))
    wrapped = textwrap.fill(answer, _wrap_width(width, 22 * scale))
    body = fig.text(0.08, 0.78, wrapped, fontsize=22 * scale, color=INK, va="top", linespacing=1.35)
    _fit(body, fig, room, smallest=4.0)
    lines = wrapped.count("\n") + 1
    y = 0.78 - lines * 0.085 - 0.05
    step = min(0.085, max(0.04, (y - 0.12) / max(len(claims), 1)))
    for claim in claims:
        mark, colour = ("✓", MET) if claim["met"] else ("✗", NOT_MET)
        fig.text(0.08, y, mark, fontsize=17 * scale, color=colour, va="top", weight="bold")
        line = fig.text(
            0.115,
            y,
            f"{claim['text']}   ({claim['shown']})",
            fontsize=14 * scale,
            color=INK,
            va="top",
        )
        _fit(line, fig, (1 - 0.115 - 0.08) * width, smallest=4.0)
        y -= step
    fig.text(0.08, 0.05, footer, fontsize=11 * scale, color=MUTED)
    return _pixels(fig)


def _wrap_width(width: int, font_px: float) -> int:
    """Characters per line for text ``font_px`` points tall across 84% of ``width``."""
    glyph = max(font_px * DPI / 72 * 0.52, 1.0)  # a proportional glyph averages ~half its size
    return max(12, int(0.84 * width / glyph))


def _rule(fig, x: float, y: float):
    from matplotlib.lines import Line2D

    return Line2D([x, 1 - x], [y, y], transform=fig.transFigure, color=MUTED, lw=0.8)
