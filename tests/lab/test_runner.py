"""The runner end to end: every experiment's QUICK preset, and what each output file holds."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genailab
from genailab.lab.runner import iterate_frames
from genailab.video import count_frames

pytestmark = pytest.mark.video


def test_every_quick_preset_writes_complete_outputs(quick_tour):
    out, summaries = quick_tour
    assert set(summaries) == set(genailab.list_experiments())
    for name, summary in summaries.items():
        folder = out / name
        on_disk = json.loads((folder / "summary.json").read_text())
        assert on_disk == summary
        # The video decodes, frame for frame, to what the summary reports.
        assert count_frames(folder / summary["files"]["video"]) == summary["video_frames"]
        assert summary["video_frames"] >= summary["frames"] > 0
        # One metrics line per frame; the last one holds the final figures.
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        assert len(lines) == summary["frames"]
        assert json.loads(lines[-1]) == summary["final"]
        # The poster is the size of the video and not blank.
        from PIL import Image

        poster = np.asarray(Image.open(folder / "poster.png").convert("RGB"))
        assert poster.shape == (summary["size"][1], summary["size"][0], 3)
        assert poster.std() > 10 and len(np.unique(poster.reshape(-1, 3), axis=0)) > 16
        assert summary["explanation"].count(".") >= 2, "the gallery needs a real paragraph"
        assert summary["command"].startswith(f"genailab run {name} --quick")
        assert summary["versions"]["genailab"] == genailab.__version__
        assert summary["versions"]["torch"].startswith("2.")


def test_same_seed_same_figures_other_seed_other_figures(tmp_path):
    def metrics(seed):
        frames = iterate_frames("gradient-descent", quick=True, seed=seed, overrides={"steps": 15})
        return [f.json_scalars() for f in frames]

    assert metrics(1) == metrics(1)
    assert metrics(1) != metrics(2)


@pytest.mark.parametrize("fmt", ["webm", "gif"])
def test_other_formats(tmp_path, fmt):
    summary = genailab.run(
        "gradient-descent",
        quick=True,
        out=tmp_path,
        format=fmt,
        overrides={"steps": 4},
        size=(320, 180),
        fps=10,
        progress=False,
    )
    video = tmp_path / "gradient-descent" / f"video.{fmt}"
    assert summary["files"]["video"] == video.name and video.stat().st_size > 1000
    assert "--format " + fmt in summary["command"]
    if fmt == "webm":
        assert count_frames(video) == summary["video_frames"] == summary["frames"] + 10


def test_a_failing_run_leaves_no_finished_looking_outputs(tmp_path, monkeypatch):
    import dataclasses
    import types

    from genailab.lab import registry, runner

    genailab.run(
        "gradient-descent",
        quick=True,
        out=tmp_path,
        overrides={"steps": 3},
        size=(320, 180),
        progress=False,
    )
    folder = tmp_path / "gradient-descent"
    assert (folder / "summary.json").exists()
    (folder / "video.mp4").unlink()

    exp = registry.get("gradient-descent")

    def draw_that_fails(frame, canvas):
        if frame.step == 2:
            raise RuntimeError("draw failed on purpose")
        exp.draw(frame, canvas)

    module = types.SimpleNamespace(frames=exp.frames, draw=draw_that_fails)
    monkeypatch.setattr(runner, "get", lambda name: dataclasses.replace(exp, module=module))
    with pytest.raises(RuntimeError, match="on purpose"):
        genailab.run(
            "gradient-descent",
            quick=True,
            out=tmp_path,
            overrides={"steps": 3},
            size=(320, 180),
            progress=False,
        )
    # The old summary is gone and no partial video is left under any name.
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.jsonl", "poster.png"]
