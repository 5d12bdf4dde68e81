"""Frames to pixels to files: the canvas a draw function paints on, the video encoders, the
poster image and the house style. Nothing here computes a model; it only renders."""

from genailab.video.canvas import Canvas
from genailab.video.encode import FORMATS, VideoWriter, check_format, count_frames
from genailab.video.frozen_background import freeze_background
from genailab.video.image import save_png

__all__ = [
    "FORMATS",
    "Canvas",
    "VideoWriter",
    "check_format",
    "count_frames",
    "freeze_background",
    "save_png",
]
