"""The surface a ``draw(frame, canvas)`` function paints on, reused frame after frame.

A canvas offers two ways to paint, and a draw function uses one of them:

* ``canvas.pixels`` — a ``(H, W, 3)`` uint8 array for drawing with numpy directly
  (the fastest path: bitmaps, particles, heat maps);
* ``canvas.figure`` — one matplotlib ``Figure`` on an Agg canvas of exactly ``W x H`` pixels,
  created on first use and kept for the whole video, for frames that need axes.

Re-creating a figure per frame costs far more than drawing it, so a draw function keeps its
artists in ``canvas.store`` (a dict that lives as long as the canvas) and only updates their
data on later frames: build the axes when the store is empty, then call ``set_data``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DPI = 100  # figure size in inches = pixels / DPI, so that text sizes in points stay sensible


class Canvas:
    """A ``width x height`` RGB drawing surface (both even, as H.264 requires).

    Examples
    --------
    >>> canvas = Canvas(64, 48)
    >>> canvas.pixels[:, :32] = (255, 0, 0)
    >>> canvas.render().shape, canvas.render()[0, 0].tolist()
    ((48, 64, 3), [255, 0, 0])
    >>> ax = canvas.figure.add_subplot()
    >>> canvas.render().shape   # now the figure is what is rendered
    (48, 64, 3)
    """

    def __init__(
        self,
        width: int = 960,
        height: int = 540,
        background: tuple[int, int, int] = (255, 255, 255),
    ) -> None:
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise ValueError(f"canvas size must be even and at least 2x2, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self.background = background
        self.pixels = np.empty((self.height, self.width, 3), dtype=np.uint8)  # (H, W, 3)
        self.pixels[:] = background
        self.store: dict[str, Any] = {}
        self._figure = None

    @property
    def figure(self):
        """The reused matplotlib figure (Agg), created on first access."""
        if self._figure is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            face = tuple(c / 255 for c in self.background)
            self._figure = Figure(
                figsize=(self.width / DPI, self.height / DPI), dpi=DPI, facecolor=face
            )
            FigureCanvasAgg(self._figure)
        return self._figure

    @property
    def uses_figure(self) -> bool:
        """True once the draw function has asked for the figure."""
        return self._figure is not None

    def clear(self) -> None:
        """Fill the pixels with the background colour (the figure is left to its artists)."""
        self.pixels[:] = self.background

    def render(self) -> np.ndarray:
        """Return the current image as a ``(H, W, 3)`` uint8 array (a view: copy to keep it)."""
        if self._figure is None:
            return self.pixels
        agg = self._figure.canvas
        agg.draw()
        rgba = np.asarray(agg.buffer_rgba())  # (H, W, 4)
        if rgba.shape[:2] != (self.height, self.width):  # a tight layout never resizes Agg, but
            raise RuntimeError(
                f"figure rendered at {rgba.shape[1]}x{rgba.shape[0]}, "
                f"expected {self.width}x{self.height}"
            )
        self.pixels[:] = rgba[..., :3]
        return self.pixels

    def close(self) -> None:
        """Release the figure."""
        self._figure = None
        self.store.clear()
