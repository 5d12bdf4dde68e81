"""A frame of an experiment: plain data (numpy arrays, scalars, short texts), never pixels.

Because frames are data, one run can be rendered at another size or format, plotted in a
notebook, or tested without drawing anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    """One step of an experiment.

    Parameters
    ----------
    step : int
        The training step, iteration, parameter index or data set index this frame shows.
    arrays : dict of str to ndarray
        The data a draw function needs (positions, weights, images, curves).
    scalars : dict of str to float
        The figures measured at this step; each frame's scalars become one line of
        ``metrics.jsonl`` and the last frame's are the run's final figures.
    text : dict of str to str
        Short texts to show (a sampled line of a poem, a rule).
    caption : str
        The message of the stretch of frames this one belongs to, in one line ("random search
        stalls while evolution keeps halving its error"). The runner paints it as the frame's
        title, in the band at the top that draw functions leave empty, and writes one caption
        cue per stretch of frames that share it; a stretch stays on screen at least 1.5 s.
        Figures that change every frame belong in the drawing, not in the caption.
    poster : bool
        Mark the most telling frame; the runner saves the last marked one as ``poster.png``
        (the last frame when none is marked).

    Examples
    --------
    >>> f = Frame(step=3, arrays={"w": np.zeros(2)}, scalars={"loss": np.float32(0.5)})
    >>> f.json_scalars()
    {'step': 3, 'loss': 0.5}
    """

    step: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    caption: str = ""
    poster: bool = False

    def json_scalars(self) -> dict[str, float | int | None]:
        """The step and scalars as JSON-ready Python numbers (NaN and infinities become None)."""
        out: dict[str, float | int | None] = {"step": int(self.step)}
        for key, value in self.scalars.items():
            number = value.item() if isinstance(value, np.generic) else value
            if isinstance(number, bool):
                number = int(number)
            if not isinstance(number, int | float):
                raise TypeError(f"scalar '{key}' must be a number, got {type(value).__name__}")
            out[key] = None if isinstance(number, float) and not math.isfinite(number) else number
        return out
