"""The full presets, rendered for real by ``genailab tour``: every video 30-90 s long, every
title on screen long enough to read, every claim true, as on the quick presets.

These runs take about a quarter of an hour on two cores, so the default ``pytest`` leaves them
out (``-m "not full_tour"`` in pyproject.toml) and ``scripts/test.sh`` runs them as a second
stage: ``python3 -m pytest -m full_tour``. CI runs both.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from genailab.lab.pacing import MIN_CAPTION_S
from genailab.lab.registry import discover
from video_checks import decode_band, title_stretches

FULL_RANGE = (30.0, 90.0)  # seconds, the goal for a full preset

pytestmark = [pytest.mark.full_tour, pytest.mark.video, pytest.mark.slow]


@pytest.fixture(scope="module")
def full_tour(tmp_path_factory):
    """``genailab tour`` on the full presets, through the CLI a user runs."""
    out = tmp_path_factory.mktemp("full")
    done = subprocess.run(
        [sys.executable, "-m", "genailab", "tour", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = {name: json.loads((out / name / "summary.json").read_text()) for name in discover()}
    return out, summaries, done.stdout


def test_the_tour_reports_every_video_and_its_total_time(full_tour):
    out, summaries, stdout = full_tour
    lines = stdout.strip().splitlines()
    assert lines[-1].endswith("index.html") and (out / "index.html").is_file()
    assert lines[-2].startswith(f"{len(summaries)} of {len(summaries)} videos in ")
    for name, summary in summaries.items():
        assert summary["preset"] == "full" and summary["command"] == f"genailab run {name}"


def test_every_full_video_lasts_30_to_90_seconds_and_can_be_read(full_tour):
    out, summaries, _ = full_tour
    for name, summary in summaries.items():
        bands, fps = decode_band(out / name / summary["files"]["video"])
        length = len(bands) / fps
        assert FULL_RANGE[0] <= length <= FULL_RANGE[1], f"{name}: {length:.1f} s"
        shortest = min(end - start for start, end in title_stretches(bands)) / fps
        assert shortest >= MIN_CAPTION_S - 0.05, f"{name}: a title lasts {shortest:.2f} s"


def test_every_claim_holds_on_the_full_preset(full_tour):
    _, summaries, _ = full_tour
    missed = {
        name: [c["shown"] for c in summary["claims"] if not c["met"]]
        for name, summary in summaries.items()
        if not summary["claims_met"]
    }
    assert missed == {}


def test_frame_count_is_exact_for_every_full_preset(full_tour):
    _, summaries, _ = full_tour
    for name, summary in summaries.items():
        exp = discover()[name]
        assert exp.frame_count(exp.config()) == summary["frames"], name
