"""The runner: everything around an experiment's ``frames`` and ``draw``.

It seeds, shows a progress bar, draws and encodes each frame as it is computed (so memory
stays flat however long the video), and writes into ``OUT/<name>/``:

``video.mp4`` (or ``.webm`` / ``.gif``), ``poster.png``, ``metrics.jsonl`` (one JSON line of
scalars per frame) and ``summary.json`` (config, seed, versions, timings, final figures and
the command that reproduces the run). The video and poster are written under temporary names
and renamed at the end, so an interrupted run never leaves a file that looks finished.
"""

from __future__ import annotations

import dataclasses
import json
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
from genailab.lab.frame import Frame
from genailab.lab.outputs import DEFAULT_OUT, prepare_output
from genailab.lab.registry import Experiment, get
from genailab.video import Canvas, VideoWriter, check_format, save_png

HOLD_LAST_S = 1.0  # the last frame stays on screen this long, so the ending can be read


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
    cfg = exp.config(quick=quick, overrides=dict(overrides or {}), seed=seed)
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
    name: str, *, quick: bool, fmt: str, seed: int | None, overrides: Mapping[str, Any]
) -> str:
    """The ``genailab run`` command line that repeats a run.

    Examples
    --------
    >>> reproduce_command("gradient-descent", quick=True, fmt="mp4", seed=3,
    ...                   overrides={"mode": "neighbor"})
    'genailab run gradient-descent --quick --seed 3 --set mode=neighbor'
    """
    parts = ["genailab", "run", name]
    if quick:
        parts.append("--quick")
    if fmt != "mp4":
        parts += ["--format", fmt]
    if seed is not None:
        parts += ["--seed", str(seed)]
    for key, value in overrides.items():
        parts += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return shlex.join(parts)


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
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run an experiment, render its video and write its outputs; return the summary.

    Parameters
    ----------
    name : str
        A registered experiment (see :func:`genailab.experiments`).
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
        Video size in pixels (even); the experiment's default otherwise.
    fps : int, optional
        Frames per second; the experiment's default otherwise.
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
    from tqdm.auto import tqdm

    fmt = check_format(format)
    exp: Experiment = get(name)
    overrides = dict(overrides or {})
    cfg = exp.config(quick=quick, overrides=overrides, seed=seed)
    width, height = size or exp.size
    fps = int(fps or exp.fps)
    folder = prepare_output(Path(out) / name)
    (folder / "summary.json").unlink(missing_ok=True)  # a failed run must not look finished

    seed_everything(cfg.seed)
    canvas = Canvas(width, height)
    video_name = f"video.{fmt}"
    writer = VideoWriter(folder / video_name, fps=fps, fmt=fmt)
    total = exp.frame_count(cfg) if exp.frame_count else None
    bar = tqdm(
        total=total,
        desc=name,
        unit="frame",
        leave=False,
        disable=None if progress is None else not progress,
    )
    started = time.perf_counter()
    compute_s = render_s = 0.0
    count, last, marked = 0, None, None
    try:
        with open(folder / "metrics.jsonl", "w", encoding="utf-8") as metrics:
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
                rgb = canvas.render()
                writer.write(rgb)
                if frame.poster:
                    marked = rgb.copy()
                render_s += time.perf_counter() - tick
                count, last = count + 1, frame
                bar.update(1)
                if frame.scalars:
                    bar.set_postfix(
                        {k: f"{v:.4g}" for k, v in list(frame.scalars.items())[:3]}, refresh=False
                    )
        if count == 0:
            raise RuntimeError(f"{name}: frames() yielded no frame")
        poster = marked if marked is not None else rgb.copy()
        for _ in range(round(HOLD_LAST_S * fps)):
            writer.write(rgb)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
        canvas.close()
    save_png(folder / "poster.png", poster)

    summary = {
        "name": name,
        "title": exp.title,
        "chapter": exp.chapter,
        "order": exp.order,
        "explanation": exp.explanation,
        "quick": quick,
        "seed": cfg.seed,
        "config": dataclasses.asdict(cfg),
        "command": reproduce_command(name, quick=quick, fmt=fmt, seed=seed, overrides=overrides),
        "frames": count,
        "video_frames": writer.frames_written,
        "fps": fps,
        "size": [width, height],
        "format": fmt,
        "files": {"video": video_name, "poster": "poster.png", "metrics": "metrics.jsonl"},
        "final": last.json_scalars(),
        "wall_s": round(time.perf_counter() - started, 3),
        "compute_s": round(compute_s, 3),
        "render_s": round(render_s, 3),
        "versions": _versions(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_text_atomically(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
