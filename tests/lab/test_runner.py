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
        assert count_frames(video) == summary["video_frames"] > summary["frames"]


def test_a_failing_draw_leaves_the_previous_run_byte_for_byte(tmp_path, monkeypatch):
    import dataclasses
    import types

    from genailab.lab import registry, runner

    small = dict(quick=True, out=tmp_path, size=(320, 180), progress=False)
    genailab.run("gradient-descent", overrides={"steps": 3}, **small)
    folder = tmp_path / "gradient-descent"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    exp = registry.get("gradient-descent")

    def draw_that_fails(frame, canvas):
        if frame.step == 2:
            raise RuntimeError("draw failed on purpose")
        exp.draw(frame, canvas)

    failing = dataclasses.replace(exp)
    failing.__dict__["module"] = types.SimpleNamespace(
        **{**vars(exp.module), "draw": draw_that_fails}
    )
    failing.__dict__["config_class"] = exp.config_class
    monkeypatch.setattr(runner, "get", lambda name: failing)
    with pytest.raises(RuntimeError, match="on purpose"):
        genailab.run("gradient-descent", overrides={"steps": 5}, **small)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["gradient-descent"]  # no partial folder


@pytest.mark.parametrize(
    "argv",
    [
        [
            "gradient-descent", "--quick", "--format", "webm", "--size", "128x96", "--fps", "12",
            "--seed", "7", "--set", "steps=4", "--set", "mode=neighbor", "--set", "points=12",
        ],
        ["tiny-torch", "--device", "cpu", "--set", "steps=3", "--fps", "5", "--size", "64x64"],
        ["tiny", "--set", "label=two words", "--set", "invert=yes", "--set", "level=0.25"],
    ],
    ids=["every-flag", "device", "quoted"],
)  # fmt: skip
def test_the_recorded_command_reproduces_the_run_exactly(tmp_path, argv, with_tiny_experiments):
    import itertools
    import shlex

    from genailab.lab import cli

    first, second = tmp_path / "first", tmp_path / "second"
    name = argv[0]
    assert cli.main(["run", *argv, "--out", str(first), "--quiet"]) == 0
    summary = json.loads((first / name / "summary.json").read_text())
    command = shlex.split(summary["command"])
    assert command[:3] == ["genailab", "run", name]
    assert "--out" not in command and "--quiet" not in command
    # Run what it says, elsewhere: the same figures, config, video settings and command.
    assert cli.main([*command[1:], "--out", str(second)]) == 0
    again = json.loads((second / name / "summary.json").read_text())
    for file in ("metrics.jsonl", "poster.png"):
        assert (second / name / file).read_bytes() == (first / name / file).read_bytes()
    assert json.dumps(again["config"]) == json.dumps(summary["config"])
    for key in ("command", "size", "fps", "format", "seed", "frames", "video_frames", "quick"):
        assert again[key] == summary[key], key

    # Every flag given that changes the output is in the command, the --set ones in order.
    def flags(args):
        return sorted(a for a in args if a.startswith("--"))

    def sets(args):
        return [value for flag, value in itertools.pairwise(args) if flag == "--set"]

    assert flags(command[3:]) == flags(argv[1:]) and sets(command) == sets(argv)


def test_device_is_set_where_the_config_has_one_and_refused_where_not(
    tmp_path, with_tiny_experiments, capsys
):
    from genailab.errors import ConfigError
    from genailab.lab import cli

    summary = genailab.run("tiny-torch", out=tmp_path, device="auto", progress=False)
    assert summary["config"]["device"] == "auto"
    assert summary["command"] == "genailab run tiny-torch --device auto"
    with pytest.raises(ConfigError, match=r"^tiny runs on numpy and has no device setting"):
        genailab.run("tiny", out=tmp_path, device="cpu", progress=False)
    base = ["run", "--out", str(tmp_path)]
    assert cli.main([*base, "gradient-descent", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == (
        "genailab: error: gradient-descent runs on numpy and has no device setting; drop --device\n"
    )
    assert cli.main([*base, "tiny-torch", "--device", "cpu", "--set", "device=cuda"]) == 2
    assert "--device cpu and --set device=cuda disagree" in capsys.readouterr().err


def test_quiet_silences_the_progress_bar(tmp_path, with_tiny_experiments, capsys, monkeypatch):
    import sys

    from genailab.lab import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    argv = ["run", "tiny", "--out", str(tmp_path), "--set", "steps=3"]
    assert cli.main(argv) == 0
    assert "frame" in capsys.readouterr().err  # a terminal gets the bar: "tiny: 4/4 [...frame/s]"
    assert cli.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_the_canvas_and_encoder_count_in_the_memory_check(
    tmp_path, with_tiny_experiments, monkeypatch
):
    from genailab.lab.runner import render_memory_bytes
    from genailab.memory import MemoryNeedError

    # 3840x2160 in WebM: 8.3 million pixels at 31 + 185 bytes each, about 1.7 GiB.
    assert render_memory_bytes(3840, 2160, "webm") == 3840 * 2160 * 216
    monkeypatch.setattr("genailab.memory.available_bytes", lambda: 2**30)
    with pytest.raises(MemoryNeedError, match=r"1\.7 GiB to draw and encode 3840x2160 webm"):
        genailab.run("tiny", out=tmp_path, size=(3840, 2160), format="webm", progress=False)
    # The experiment's own memory_bytes(cfg) adds to it (960x540 at 31 + 95 B is 62.3 MiB).
    with pytest.raises(MemoryNeedError, match=r"2\.0 GiB for its data, 62\.3 MiB to draw"):
        genailab.run("tiny", out=tmp_path, overrides={"megabytes": 2048}, progress=False)
    # A GIF holds every frame until it is written: the frames count.
    assert render_memory_bytes(100, 100, "gif", frames=10) == 100 * 100 * (31 + 10 + 2 * 10)
    assert not tmp_path.joinpath("tiny").exists() and list(tmp_path.iterdir()) == []
