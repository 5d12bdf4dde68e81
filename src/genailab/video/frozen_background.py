"""Blitting for data videos: draw what never changes once, then only what moves.

Most of the cost of a matplotlib frame is text (tick labels, titles, legends) that is the same
in every frame. :func:`freeze_background` renders the static artists once, keeps the pixels and
pastes them back at the start of each later frame, so the renderer only redraws the ``live``
artists. The pixels are those of a full redraw, except where a live artist overlaps a static
one that would have been drawn above it (a spine, a legend): the live artists now come last.
"""

from __future__ import annotations

from matplotlib.artist import Artist


class _Background(Artist):
    """Pixels captured once and pasted back first thing in every frame (matplotlib's blitting)."""

    zorder = -10

    def __init__(self, region) -> None:
        super().__init__()
        self._region = region

    def draw(self, renderer) -> None:
        renderer.restore_region(self._region)


def freeze_background(fig, live: list, live_axes: list = ()) -> None:
    """Draw everything but the ``live`` artists and axes once, keep those pixels as a background
    and hide what went into it, so that later frames redraw only what moves: glyphs are most of
    the cost of a matplotlib frame, and ticks, labels and titles never change (this more than
    halves the time per frame here). Calling it again folds the artists that have stopped
    changing into the background."""
    live_ids = {id(a) for a in [*live, *live_axes]}
    static = [fig.patch, *fig.texts, *fig.artists]
    for ax in fig.axes:
        if id(ax) in live_ids:
            continue
        children = ax.get_children()
        static += children if any(id(c) in live_ids for c in children) else [ax]
    static = [a for a in static if id(a) not in live_ids and a.get_visible()]
    for artist in [*live, *live_axes]:
        artist.set_visible(False)
    fig.canvas.draw()
    region = fig.canvas.copy_from_bbox(fig.bbox)
    for artist in static:
        artist.set_visible(False)
        if isinstance(artist, _Background):
            artist.remove()
    for artist in [*live, *live_axes]:
        artist.set_visible(True)
    fig.add_artist(_Background(region))
