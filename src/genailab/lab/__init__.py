"""The laboratory: the experiment protocol, the registry, the runner, the gallery and the CLI.

An experiment module declares a config dataclass with :func:`experiment`, a ``frames(cfg)``
generator of :class:`Frame` objects and a ``draw(frame, canvas)`` function; :func:`run` does
the rest (seeding, progress, video, poster, metrics, summary) and :func:`build_gallery`
collects the runs of a folder into one static page.
"""

from genailab.lab.frame import Frame
from genailab.lab.gallery import build_gallery
from genailab.lab.registry import CHAPTERS, Experiment, discover, experiment, get
from genailab.lab.runner import iterate_frames, run

__all__ = [
    "CHAPTERS",
    "Experiment",
    "Frame",
    "build_gallery",
    "discover",
    "experiment",
    "get",
    "iterate_frames",
    "run",
]
