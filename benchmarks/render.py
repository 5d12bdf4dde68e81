"""How fast frames become video, against anchors measured in the same run on the same machine.

1. Encoding 1280x720 numpy RGB frames to H.264 MP4: genailab's ``VideoWriter`` (PyAV, frames
   handed to libx264 in-process) against imageio-ffmpeg (frames piped to an ffmpeg
   subprocess), both with the same codec, preset and quality. Goal: >= 60 frames/s on 2 cores.
2. A matplotlib-drawn frame (the gradient-descent experiment's ``draw`` at 1280x720): one
   reused Agg canvas whose artists are updated, against a fresh figure drawn per frame.

Run: ``python benchmarks/render.py [--frames N]`` (needs the ``bench`` extra for the anchor).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from genailab.lab.runner import iterate_frames
from genailab.video import Canvas, VideoWriter

WIDTH, HEIGHT, FPS = 1280, 720, 30


def moving_frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """Frames with motion, gradients and some noise, so the encoder has real work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]  # (H, W) each
    noise = rng.integers(0, 24, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames = []
    for t in range(count):
        r = (x + 4 * t) % 256
        g = (y + 2 * t) % 256
        b = (128 + 127 * np.sin((x + y + 6 * t) / 60.0)).astype(np.int64)
        frames.append(np.stack([r, g, b], -1).astype(np.uint8) // 2 + noise)  # (H, W, 3)
    return frames


def time_genailab_encode(frames: list[np.ndarray], folder: Path) -> float:
    start = time.perf_counter()
    with VideoWriter(folder / "genailab.mp4", fps=FPS) as video:
        for rgb in frames:
            video.write(rgb)
    return len(frames) / (time.perf_counter() - start)


def time_imageio_encode(frames: list[np.ndarray], folder: Path) -> float | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    start = time.perf_counter()
    writer = imageio_ffmpeg.write_frames(
        str(folder / "imageio.mp4"),
        (WIDTH, HEIGHT),
        fps=FPS,
        codec="libx264",
        pix_fmt_out="yuv420p",
        output_params=["-crf", "23", "-preset", "veryfast"],
        macro_block_size=2,
    )
    writer.send(None)  # start the ffmpeg subprocess
    for rgb in frames:
        writer.send(rgb)
    writer.close()
    return len(frames) / (time.perf_counter() - start)


def time_reused_canvas(count: int) -> float:
    from genailab.lab.registry import get

    draw = get("gradient-descent").draw
    frames = list(iterate_frames("gradient-descent", overrides={"steps": count}))[:count]
    canvas = Canvas(WIDTH, HEIGHT)
    draw(frames[0], canvas)
    canvas.render()  # the first frame builds the axes; time the steady state
    start = time.perf_counter()
    for frame in frames:
        draw(frame, canvas)
        canvas.render()
    return len(frames) / (time.perf_counter() - start)


def time_fresh_figure(count: int) -> float:
    """The naive way: a new figure per frame, background contours redrawn every time."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = list(iterate_frames("gradient-descent", overrides={"steps": count}))[:count]
    start = time.perf_counter()
    for frame in frames:
        fig = Figure(figsize=(WIDTH / 100, HEIGHT / 100), dpi=100)
        agg = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        a = frame.arrays
        ax.contourf(a["x"], a["y"], a["z"].T, levels=24, cmap="Blues_r")
        trail = a["trail"]
        for i in range(trail.shape[1]):
            ax.plot(trail[:, i, 0], trail[:, i, 1], color="orange", lw=0.9)
        ax.scatter(trail[-1, :, 0], trail[-1, :, 1], s=16)
        agg.draw()
        np.asarray(agg.buffer_rgba())[..., :3].copy()
    return len(frames) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=240, help="frames to encode")
    parser.add_argument("--drawn", type=int, default=60, help="matplotlib frames to draw")
    args = parser.parse_args()

    frames = moving_frames(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        ours = time_genailab_encode(frames, Path(tmp))
        anchor = time_imageio_encode(frames, Path(tmp))
    reused = time_reused_canvas(args.drawn)
    fresh = time_fresh_figure(args.drawn)

    print(
        f"render benchmark: {WIDTH}x{HEIGHT}, {os.cpu_count()} cores, "
        f"{args.frames} encoded frames, {args.drawn} drawn frames"
    )
    print(f"{'task':<44}{'genailab fps':>14}{'anchor fps':>12}{'ratio':>8}")
    if anchor is None:
        print(
            f"{'numpy frames -> MP4 (anchor: imageio-ffmpeg)':<44}{ours:>14.1f}"
            f"{'n/a':>12}{'n/a':>8}   (pip install -e '.[bench]' for the anchor)"
        )
    else:
        print(
            f"{'numpy frames -> MP4 (anchor: imageio-ffmpeg)':<44}{ours:>14.1f}"
            f"{anchor:>12.1f}{ours / anchor:>8.2f}"
        )
    print(
        f"{'matplotlib frame (anchor: figure per frame)':<44}{reused:>14.1f}"
        f"{fresh:>12.1f}{reused / fresh:>8.2f}"
    )
    print(f"goal: >= 60 fps for numpy frames -> {'met' if ours >= 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
