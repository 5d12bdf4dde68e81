"""A run never destroys the last good run: killed, failed or refused, it leaves the previous
run's files byte for byte as they were, and the gallery still finds it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import genailab
from cli_process import genailab as genailab_process
from genailab.errors import ConfigError, OutputError
from genailab.lab import cli, outputs
from genailab.lab.gallery import build_gallery, find_runs
from genailab.lab.outputs import leftovers, staged_run_folder

pytestmark = pytest.mark.video
SMALL = dict(quick=True, size=(320, 180), progress=False)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def previous(tmp_path):
    """A finished gradient-descent run in tmp_path, and the hashes of its files."""
    summary = genailab.run("gradient-descent", out=tmp_path, overrides={"steps": 3}, **SMALL)
    folder = tmp_path / "gradient-descent"
    files = snapshot(folder)
    assert set(files) == {
        "video.mp4",
        "captions.vtt",
        "poster.png",
        "metrics.jsonl",
        "summary.json",
    }
    return tmp_path, folder, files, summary


def assert_intact(out: Path, folder: Path, files: dict, summary: dict) -> None:
    """The gallery finds the run, and every file of it is byte for byte as it was."""
    (run,) = find_runs(out)
    assert {k: v for k, v in run.items() if k != "folder"} == summary
    assert snapshot(folder) == files


def test_a_killed_run_leaves_the_previous_one_and_nothing_that_looks_finished(previous):
    out, folder, files, summary = previous
    args = ["run", "gradient-descent", "--quick", "--size", "320x180", "--out", str(out)]
    child = subprocess.Popen(
        [sys.executable, "-m", "genailab", *args, "--set", "steps=60", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        metrics = None
        while time.monotonic() < deadline:  # wait until its partial folder holds frames
            found = [path for path, *_ in leftovers(out, "gradient-descent")]
            metrics = found[0] / "metrics.jsonl" if found else None
            if metrics and metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
                break
            assert child.poll() is None, child.stderr.read().decode()
            time.sleep(0.02)
        else:
            pytest.fail("the run wrote no frame in 120 s")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert_intact(out, folder, files, summary)
    # What the killed run left is hidden, has no summary, and the gallery does not show it.
    partial = metrics.parent
    assert partial.name.startswith(f".gradient-descent.partial-{child.pid}-")
    assert not (partial / "summary.json").exists()
    assert partial.name not in build_gallery(out).read_text()
    # The next run of that name removes it, and replaces the previous run.
    again = genailab.run("gradient-descent", out=out, overrides={"steps": 2}, **SMALL)
    assert hidden(out) == [] and again["frames"] == 3
    assert json.loads((folder / "summary.json").read_text()) == again


def test_failed_input_leaves_the_previous_run_as_it_was(previous, monkeypatch, capsys):
    out, folder, files, summary = previous
    base = ["run", "gradient-descent", "--out", str(out), "--quick"]
    for bad in (["--fps", "-5"], ["--fps", "0"], ["--set", "points=0"], ["--size", "10x10"]):
        assert cli.main(base + bad) == 2
        assert_intact(out, folder, files, summary)
    for kwargs in ({"fps": 0}, {"size": (100_000, 100_000)}, {"overrides": {"steps": -1}}):
        with pytest.raises(ConfigError):
            genailab.run("gradient-descent", out=out, **{**SMALL, **kwargs})
    # Inside every bound, but more memory than the machine has: refused before any frame.
    monkeypatch.setattr("genailab.memory.available_bytes", lambda: 2**30)
    assert cli.main([*base, "--set", "points=100000", "--set", "steps=10000"]) == 2
    # The trail alone, (steps + 1) x points x 2 float64, is 10001 x 100000 x 16 B = 14.9 GiB.
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.endswith("would need about 15.0 GiB of memory; 1.0 GiB is available"), err
    assert err.startswith("genailab: error: `genailab run gradient-descent --quick --set points")
    assert_intact(out, folder, files, summary)
    assert hidden(out) == []


def test_an_exception_in_the_middle_of_frames_leaves_the_previous_run(
    tmp_path, with_tiny_experiments
):
    summary = genailab.run("tiny", out=tmp_path, progress=False, size=(64, 64))
    folder = tmp_path / "tiny"
    files = snapshot(folder)
    with pytest.raises(RuntimeError, match="failed on purpose at step 2"):
        genailab.run("tiny", out=tmp_path, overrides={"fail_at": 2}, progress=False)
    assert_intact(tmp_path, folder, files, summary)
    assert hidden(tmp_path) == []  # the failed run removed its own partial folder


@pytest.mark.parametrize("atomic", [True, False], ids=["exchange", "rename-aside"])
def test_two_runs_of_one_name_at_once_the_last_to_finish_wins(tmp_path, monkeypatch, atomic):
    if not atomic:
        monkeypatch.setattr(outputs, "exchange", lambda a, b: False)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "summary.json").write_text("old")
    with staged_run_folder(tmp_path, "demo") as first:
        (first / "summary.json").write_text("first")
        with staged_run_folder(tmp_path, "demo") as second:
            (second / "summary.json").write_text("second")
            # Neither has replaced the old run yet, and each sees the other as alive.
            assert (tmp_path / "demo" / "summary.json").read_text() == "old"
            assert len(leftovers(tmp_path, "demo")) == 2
        assert (tmp_path / "demo" / "summary.json").read_text() == "second"
    assert (tmp_path / "demo" / "summary.json").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_two_real_runs_at_once_both_finish_complete(tmp_path):
    args = ["run", "gradient-descent", "--quick", "--size", "320x180", "--out", str(tmp_path)]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "genailab", *args, "--seed", str(seed), "--set", "steps=8"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    results = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], results
    summary = json.loads((tmp_path / "gradient-descent" / "summary.json").read_text())
    assert summary["seed"] in (1, 2)
    lines = (tmp_path / "gradient-descent" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1]) == summary["final"] and len(lines) == summary["frames"]
    assert hidden(tmp_path) == []


def test_a_kill_between_the_two_renames_is_undone_by_the_gallery_or_the_next_run(tmp_path):
    # Without an atomic exchange, a kill after "NAME -> .NAME.old-PID-TOKEN" and before the new
    # folder's rename leaves no NAME: the gallery, or the next run, renames the old one back.
    for repair in ("gallery", "run"):
        out = tmp_path / repair
        summary = genailab.run("gradient-descent", out=out, overrides={"steps": 2}, **SMALL)
        folder = out / "gradient-descent"
        files = snapshot(folder)
        folder.rename(out / f".gradient-descent.old-{dead_pid()}-0badcafe")
        assert not folder.exists()
        if repair == "gallery":
            assert_intact(out, folder, files, summary)
        else:
            with (
                pytest.raises(RuntimeError, match="stop"),
                staged_run_folder(out, "gradient-descent"),
            ):
                raise RuntimeError("stop")
            assert_intact(out, folder, files, summary)
        assert hidden(out) == []


def test_leftovers_of_dead_processes_go_those_of_live_ones_stay(tmp_path):
    (tmp_path / "demo").mkdir()
    dead = tmp_path / f".demo.partial-{dead_pid()}-12345678"
    live = tmp_path / f".demo.partial-{os.getppid()}-9abcdef0"  # pytest's parent is running
    other = tmp_path / f".other.partial-{dead_pid()}-12345678"  # another run's: not ours
    for path in (dead, live, other):
        path.mkdir()
        (path / "metrics.jsonl").write_text("{}\n")
    with staged_run_folder(tmp_path, "demo") as folder:
        (folder / "summary.json").write_text("{}")
    assert hidden(tmp_path) == sorted([live.name, other.name])


def test_a_file_in_the_place_of_the_run_folder_is_refused(tmp_path):
    (tmp_path / "gradient-descent").write_text("not a run")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        genailab.run("gradient-descent", out=tmp_path, overrides={"steps": 2}, **SMALL)
    assert (tmp_path / "gradient-descent").read_text() == "not a run"
    result = genailab_process("gallery", str(tmp_path))
    assert result.returncode == 2 and "no runs found" in result.stderr


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("A")
    (b / "x").write_text("B")
    assert outputs.exchange(a, b)  # Linux (renameat2); elsewhere publish renames aside
    assert (a / "x").read_text() == "B" and (b / "x").read_text() == "A"
    with pytest.raises(FileNotFoundError):
        outputs.exchange(a, tmp_path / "missing")
