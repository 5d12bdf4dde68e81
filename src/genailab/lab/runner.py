"""The runner: everything around an experiment's ``frames`` and ``draw``.

It checks the whole request first (config, size, frame rate, and the memory the run would
need), then seeds, shows a progress bar, draws and encodes each frame as it is computed (so
memory stays flat however long the video), and writes ``OUT/<name>/``:

``video.mp4`` (or ``.webm`` / ``.gif``), ``poster.png``, ``metrics.jsonl`` (one JSON line of
scalars per frame) and ``summary.json`` (config, seed, versions, timings, final figures and
the command that reproduces the run). The files are written into a hidden folder beside
``OUT/<name>/`` that replaces it only once complete (:mod:`genailab.lab.outputs`), so a run
that fails or is killed leaves the previous run as it was.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import random
import shlex
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from genailab.atomic_write import write_text_atomically
from genailab.errors import ConfigError
from genailab.lab.captions import webvtt
from genailab.lab.claims import fill_template
from genailab.lab.frame import Frame
from genailab.lab.outputs import DEFAULT_OUT, staged_run_folder
from genailab.lab.pacing import (
    OPENING_S,
    SECONDS_RANGE,
    Timeline,
    closing_seconds,
    fade_frames,
    frame_holds,
)
from genailab.lab.registry import Experiment, get
from genailab.memory import check_memory, format_bytes
from genailab.settings import field_types
from genailab.video import Canvas, VideoWriter, save_png
from genailab.video.cards import TitleBand, closing_card, cross_fade, opening_card
from genailab.video.formats import check_format, check_fps, check_size

HOLD_LAST_S = 1.0  # the last data frame stays on screen this long before the closing card


def seed_everything(seed: int) -> None:
    """Seed the global generators that libraries may fall back on (experiments themselves
    draw from an explicit ``np.random.default_rng(cfg.seed)``)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:  # seed torch only if it is in use: importing it costs seconds
        sys.modules["torch"].manual_seed(seed)


def iterate_frames(
    name: str,
    *,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Iterator[Frame]:
    """The frames of an experiment as plain data, with nothing rendered.

    Examples
    --------
    >>> frames = list(iterate_frames("gradient-descent", quick=True, overrides={"steps": 3}))
    >>> [f.step for f in frames]
    [0, 1, 2, 3]
    """
    exp = get(name)
    overrides = dict(overrides or {})
    cfg = exp.config(quick=quick, overrides=overrides, seed=seed)
    command = reproduce_command(name, quick=quick, seed=seed, overrides=overrides)
    check_run_memory(exp, cfg, f"the frames of `{command.removeprefix('genailab run ')}`")
    seed_everything(cfg.seed)
    yield from _checked_frames(exp, cfg)


def _checked_frames(exp: Experiment, cfg: Any) -> Iterator[Frame]:
    for frame in exp.frames(cfg):
        if not isinstance(frame, Frame):
            raise TypeError(
                f"{exp.name}: frames() must yield Frame objects, got {type(frame).__name__}"
            )
        yield frame


def reproduce_command(
    name: str,
    *,
    quick: bool = False,
    fmt: str = "mp4",
    size: tuple[int, int] | None = None,
    fps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str | None = None,
    seconds: float | None = None,
) -> str:
    """The ``genailab run`` command line that repeats a run: every flag that changes what it
    writes (``--out`` and ``--quiet`` do not), the overrides in the order given.

    Examples
    --------
    >>> reproduce_command("gradient-descent", quick=True, size=(320, 180), seed=3,
    ...                   overrides={"mode": "neighbor"})
    'genailab run gradient-descent --quick --size 320x180 --seed 3 --set mode=neighbor'
    """
    parts = ["genailab", "run", name]
    if quick:
        parts.append("--quick")
    if fmt != "mp4":
        parts += ["--format", fmt]
    if size is not None:
        parts += ["--size", f"{size[0]}x{size[1]}"]
    if fps is not None:
        parts += ["--fps", str(fps)]
    if seconds is not None:
        parts += ["--seconds", f"{seconds:g}"]
    if seed is not None:
        parts += ["--seed", str(seed)]
    for key, value in (overrides or {}).items():
        parts += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    if device is not None:
        parts += ["--device", device]
    return shlex.join(parts)


# The memory that drawing and encoding hold at once, in bytes per pixel of the video, measured
# as the peak resident memory of runs at 640x360 to 3840x2160 less that of a 64x64 run (x264 on
# random frames at 0 to 24 threads: 87-93; the whole run: 85-97; VP9: 135-185; GIF: 23, plus 2
# a frame, since Pillow keeps every paletted frame until the file is written). Drawing: Agg's
# RGBA buffer (4), the canvas's RGB copy (3), the titled frame, the previous one and the
# poster (3 + 3 + 3), and a cross-fade: two uint16 images and the blend (6 + 6 + 3).
DRAW_BYTES_PER_PIXEL = 31
ENCODER_BYTES_PER_PIXEL = {"mp4": 95, "webm": 185, "gif": 10}
GIF_BYTES_PER_PIXEL_PER_FRAME = 2


def render_memory_bytes(width: int, height: int, fmt: str, frames: int = 0) -> int:
    """Memory that drawing and encoding a ``width x height`` video of ``frames`` frames holds.

    Examples
    --------
    >>> from genailab.memory import format_bytes
    >>> format_bytes(render_memory_bytes(1920, 1080, "mp4"))
    '249.2 MiB'
    """
    pixels = width * height
    per_pixel = DRAW_BYTES_PER_PIXEL + ENCODER_BYTES_PER_PIXEL[fmt]
    if fmt == "gif":
        per_pixel += GIF_BYTES_PER_PIXEL_PER_FRAME * frames
    return pixels * per_pixel


def _with_device(exp: Experiment, overrides: dict[str, Any], device: str | None) -> dict:
    """The overrides with ``device`` set, refused where the experiment has no such key."""
    if device is None:
        return overrides
    if "device" not in field_types(exp.config_class):
        raise ConfigError(f"{exp.name} runs on numpy and has no device setting; drop --device")
    if "device" in overrides and str(overrides["device"]) != device:
        raise ConfigError(
            f"--device {device} and --set device={overrides['device']} disagree; give one"
        )
    return {**overrides, "device": device}


def check_run_memory(
    exp: Experiment, cfg: Any, what: str, video: tuple[int, int, str, int] | None = None
) -> None:
    """Refuse, in one line that names ``what``, a run whose estimated peak memory exceeds what
    is available: the experiment's own ``memory_bytes(cfg)`` where its module defines one, plus,
    for a ``video`` of ``(width, height, format, fps)``, the canvas and the encoder
    (:func:`render_memory_bytes`)."""
    estimate = getattr(exp.module, "memory_bytes", None)
    data = int(estimate(cfg)) if estimate else 0
    parts = [f"{format_bytes(data)} for its data"] if estimate else []
    render = 0
    if video is not None:
        width, height, fmt, _fps = video
        frames = 0
        if fmt == "gif":  # GIF keeps every stored frame: each data frame, a pad, two cards
            frames = 2 * exp.frame_count(cfg) + 3
        render = render_memory_bytes(width, height, fmt, frames)
        parts.append(f"{format_bytes(render)} to draw and encode {width}x{height} {fmt}")
    detail = f" ({', '.join(parts)})" if parts else ""
    check_memory(data + render, f"{what}{detail}")


def check_seconds(seconds: Any) -> float:
    """A video length in seconds within :data:`SECONDS_RANGE`, else :class:`ConfigError`.

    Examples
    --------
    >>> check_seconds(45)
    45.0
    """
    low, high = SECONDS_RANGE
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = math.nan
    if not low <= value <= high:
        raise ConfigError(f"seconds must be a number from {low:g} to {high:g}, got {seconds!r}")
    return value


def _versions() -> dict[str, str]:
    import genailab

    versions = {
        "genailab": genailab.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    for package in ("torch", "av", "matplotlib"):
        try:  # read the installed version without importing the package (torch takes seconds)
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def run(
    name: str,
    *,
    quick: bool = False,
    out: str | os.PathLike = DEFAULT_OUT,
    format: str = "mp4",
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    size: tuple[int, int] | None = None,
    fps: int | None = None,
    device: str | None = None,
    seconds: float | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run an experiment, render its video and write its outputs; return the summary.

    Everything is checked before the first frame: the config, the size, the frame rate, and
    the memory the run would need against what the machine has. The files are written into a
    hidden folder beside ``out/<name>/`` that takes its place only once complete (see
    :mod:`genailab.lab.outputs`), so a failed or interrupted run leaves the previous one intact.

    Parameters
    ----------
    name : str
        A registered experiment (see :func:`genailab.list_experiments`).
    quick : bool
        Use the experiment's ``QUICK`` preset (what ``genailab tour --quick`` runs).
    out : path
        Root output folder; files go to ``out/<name>/``.
    format : {"mp4", "webm", "gif"}
        Video format.
    seed : int, optional
        Overrides the config's seed.
    overrides : mapping, optional
        Config values by field name; strings are converted to the field's type.
    size : (width, height), optional
        Video size in pixels, even, within :data:`~genailab.video.formats.WIDTH_RANGE` x
        :data:`~genailab.video.formats.HEIGHT_RANGE`; the experiment's default otherwise.
    fps : int, optional
        Frames per second, in :data:`~genailab.video.formats.FPS_RANGE`; the experiment's
        default otherwise.
    device : str, optional
        The torch device (``auto``, ``cpu``, ``cuda``, ``mps``) for an experiment whose config
        has a ``device`` key; refused for one that has none.
    seconds : float, optional
        How long the data frames last on screen, spread over them (the cards come on top);
        by default the experiment's length for the preset. A frame is never dropped: more
        frames than ``seconds * fps`` play one video frame each.
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.

    Returns
    -------
    dict
        The contents of ``summary.json``.

    Examples
    --------
    >>> import tempfile
    >>> summary = run("gradient-descent", quick=True, out=tempfile.mkdtemp(),
    ...               overrides={"steps": 5}, size=(320, 180), progress=False)
    >>> summary["frames"], summary["files"]["video"]
    (6, 'video.mp4')
    """
    fmt = check_format(format)
    exp: Experiment = get(name)
    given = dict(overrides or {})
    cfg = exp.config(quick=quick, overrides=_with_device(exp, given, device), seed=seed)
    width, height = check_size(tuple(size) if size is not None else exp.size)
    given_fps = fps
    fps = check_fps(fps if fps is not None else exp.fps)
    length = check_seconds(seconds) if seconds is not None else exp.target_seconds(quick)
    command = reproduce_command(
        name,
        quick=quick,
        fmt=fmt,
        size=None if size is None else (width, height),
        fps=None if given_fps is None else fps,
        seed=seed,
        overrides=given,
        device=device,
        seconds=None if seconds is None else length,
    )
    check_run_memory(exp, cfg, f"`{command}`", (width, height, fmt, fps))

    with staged_run_folder(out, name) as folder:
        seed_everything(cfg.seed)
        preset = "quick" if quick else "full"
        footer = f"genailab · {preset} preset · {command}"
        video = (width, height, fps, fmt)
        summary = _render(exp, cfg, folder, video, length, footer, progress)
        summary = {
            "name": name,
            "title": exp.title,
            "chapter": exp.chapter,
            "order": exp.order,
            "explanation": fill_template(exp.explanation, summary["final"]),
            "quick": quick,
            "preset": preset,
            "seconds": length,
            "seed": cfg.seed,
            "config": dataclasses.asdict(cfg),
            "command": command,
            **summary,
            "versions": _versions(),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text_atomically(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _render(
    exp: Experiment,
    cfg: Any,
    folder: Path,
    video: tuple[int, int, int, str],
    seconds: float,
    footer: str,
    progress: bool | None,
) -> dict[str, Any]:
    """Compute, draw and encode every frame into ``folder``, between the opening and the
    closing card, each frame held as long as the pacing says; the figures of the summary."""
    from tqdm.auto import tqdm

    width, height, fps, fmt = video
    canvas, band = Canvas(width, height), TitleBand(width, height)
    video_name = f"video.{fmt}"
    writer = VideoWriter(folder / video_name, fps=fps, fmt=fmt)
    timeline = Timeline(fps)
    total = exp.frame_count(cfg)
    holds = frame_holds(total, seconds, fps)
    bar = tqdm(
        total=total,
        desc=exp.name,
        unit="frame",
        leave=False,
        disable=None if progress is None else not progress,
    )
    started = time.perf_counter()
    compute_s = render_s = 0.0
    count, last, marked, previous = 0, None, None, None

    def show(rgb: np.ndarray, text: str, frames: int) -> None:
        writer.write(rgb, repeat=frames)
        timeline.add(text, frames)

    try:
        question = f"{exp.title}: {exp.question}"
        opening = opening_card(
            width,
            height,
            chapter=exp.chapter,
            title=exp.title,
            question=exp.question,
            footer=footer,
        )
        show(opening, question, round(OPENING_S * fps))
        # Line-buffered: metrics.jsonl grows a line per frame, so a long run can be followed.
        with open(folder / "metrics.jsonl", "w", encoding="utf-8", buffering=1) as metrics:
            frames = _checked_frames(exp, cfg)
            while True:
                tick = time.perf_counter()
                frame = next(frames, None)
                compute_s += time.perf_counter() - tick
                if frame is None:
                    break
                tick = time.perf_counter()
                metrics.write(json.dumps(frame.json_scalars()) + "\n")
                exp.draw(frame, canvas)
                rgb = canvas.render().copy()  # the canvas keeps its pixels; the band is ours
                band.paint(rgb, frame.caption)
                hold = holds[count] if count < len(holds) else (holds[-1] if holds else 1)
                fade = 0
                if previous is not None and frame.caption != timeline.current:
                    show(previous, timeline.current, timeline.shortfall())  # a readable title
                elif previous is not None and fmt != "gif":
                    fade = fade_frames(hold, fps)
                for k in range(fade):  # blend in from the previous frame of the same message
                    show(cross_fade(previous, rgb, (k + 1) / (fade + 1)), frame.caption, 1)
                show(rgb, frame.caption, hold - fade)
                if frame.poster:
                    marked = rgb
                previous = rgb
                render_s += time.perf_counter() - tick
                count, last = count + 1, frame
                bar.update(1)
                if frame.scalars:
                    bar.set_postfix(
                        {k: f"{v:.4g}" for k, v in list(frame.scalars.items())[:3]}, refresh=False
                    )
        if count == 0:
            raise RuntimeError(f"{exp.name}: frames() yielded no frame")
        show(previous, timeline.current, max(timeline.shortfall(), round(HOLD_LAST_S * fps)))
        final = last.json_scalars()
        outcomes = [claim.evaluate(final) for claim in exp.claims]
        answer = fill_template(exp.answer, final)
        closing = closing_card(width, height, answer=answer, claims=outcomes, footer=footer)
        show(closing, answer, round(closing_seconds(len(outcomes)) * fps))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
        canvas.close()
    save_png(folder / "poster.png", marked if marked is not None else previous)
    files = {"video": video_name, "poster": "poster.png", "metrics": "metrics.jsonl"}
    if fmt != "gif":  # GIF has no caption track
        write_text_atomically(folder / "captions.vtt", webvtt(timeline.cues, fps))
        files["captions"] = "captions.vtt"
    return {
        "frames": count,
        "video_frames": writer.frames_written,
        "fps": fps,
        "duration_s": round(writer.frames_written / fps, 3),
        "captions": len(timeline.cues),
        "size": [width, height],
        "format": fmt,
        "files": files,
        "final": final,
        "question": exp.question,
        "answer": answer,
        "claims": outcomes,
        "claims_met": all(outcome["met"] for outcome in outcomes),
        "wall_s": round(time.perf_counter() - started, 3),
        "compute_s": round(compute_s, 3),
        "render_s": round(render_s, 3),
    }
