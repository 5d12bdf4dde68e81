"""The laboratory: the experiment protocol, the registry, the runner, the gallery and the CLI.

An experiment module declares a config dataclass with :func:`experiment`, a ``frames(cfg)``
generator of :class:`Frame` objects and a ``draw(frame, canvas)`` function; :func:`run` does
the rest (seeding, progress, video, poster, metrics, summary) and :func:`build_gallery`
collects the runs of a folder into one static page. :func:`describe` tells every key of an
experiment's config, with its type, default, bounds and help, as plain data.
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "frame": ["Frame"],
        "gallery": ["build_gallery"],
        "registry": [
            "CHAPTERS",
            "Experiment",
            "describe",
            "discover",
            "experiment",
            "get",
            "list_experiments",
        ],
        "runner": ["iterate_frames", "run"],
    },
)
