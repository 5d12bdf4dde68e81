"""Frames to pixels to files: the canvas a draw function paints on, the video encoders, the
poster image and the house style. Nothing here computes a model; it only renders."""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "canvas": ["Canvas"],
        "encode": ["VideoWriter", "count_frames"],
        "formats": ["FORMATS", "check_format"],
        "frozen_background": ["freeze_background"],
        "image": ["save_png"],
    },
)
