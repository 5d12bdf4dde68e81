"""The gallery page: its content, and that a real browser plays every video from file://."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from genailab.errors import GenailabError
from genailab.lab.gallery import build_gallery, find_runs

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    "--enable-logging=stderr",
    "--v=0",
]


def test_page_has_a_card_per_run_with_everything_it_promises(quick_tour):
    out, summaries = quick_tour
    page = build_gallery(out).read_text()
    assert page.count("<article class=card") == len(summaries)
    for name, summary in summaries.items():
        assert f'src="{name}/video.mp4"' in page and f'poster="{name}/poster.png"' in page
        assert summary["title"] in page
        assert summary["command"] in page
        # The explanation's text, with backticks shown as <code> and quotes escaped.
        text = html.unescape(re.sub(r"</?code[^>]*>", "", page))
        assert summary["explanation"].split("\n\n")[0].replace("`", "")[:200] in text
    # Self-contained: nothing is fetched from a server or a CDN.
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)
    for attribute in ("muted", "loop", "autoplay", "playsinline"):
        assert attribute in page


def test_text_is_escaped(tmp_path):
    run = {
        "name": "x",
        "title": "<b>bold</b>",
        "chapter": "GenAI fundamentals",
        "explanation": "a < b & c",
        "command": "genailab run x",
        "final": {"loss": 0.5},
        "files": {"video": "video.mp4", "poster": "poster.png", "metrics": "metrics.jsonl"},
    }
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "summary.json").write_text(json.dumps(run))
    page = build_gallery(tmp_path).read_text()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "a &lt; b &amp; c" in page


def test_incomplete_summaries_are_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "summary.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(GenailabError, match="lacks title, chapter, explanation"):
        find_runs(tmp_path)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, installed with apt when missing (no test tool downloads a browser)."""
    path = shutil.which("chromium")
    if path is None:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], check=True, capture_output=True
        )
        path = shutil.which("chromium")
    assert path, "chromium could not be installed"
    return path


@pytest.mark.video
@pytest.mark.slow
def test_every_video_plays_in_headless_chromium(quick_tour, chromium, tmp_path):
    out, summaries = quick_tour
    index = build_gallery(out)
    common = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--autoplay-policy=no-user-gesture-required",
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    videos = re.findall(r"<video[^>]*>", dom.stdout)
    assert len(videos) == len(summaries)
    for tag, summary in zip(videos, summaries.values(), strict=True):
        assert "data-error" not in tag, tag
        duration = re.search(r'data-duration="([0-9.]+)"', tag)
        assert duration, f"no metadata loaded: {tag}"
        expected = summary["video_frames"] / summary["fps"]
        assert float(duration.group(1)) == pytest.approx(expected, abs=0.1)
    # The page logs nothing to the console when all is well: no script errors, no 404s.
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []

    screenshot = out / "gallery.png"
    shot = subprocess.run(
        [
            *common,
            "--hide-scrollbars",
            "--window-size=1280,1600",
            f"--screenshot={screenshot}",
            index.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    from PIL import Image

    image = np.asarray(Image.open(screenshot).convert("RGB"))
    assert image.shape == (1600, 1280, 3)
    assert image.std() > 20  # a blank page has std ~0; ours shows a title, videos, text


def test_hidden_folders_are_not_runs_and_wrong_fields_are_named(tmp_path):
    run = {
        "name": "x",
        "title": "t",
        "chapter": "GenAI fundamentals",
        "explanation": "e",
        "command": "genailab run x",
        "final": {"loss": 0.5},
        "files": {"video": "video.mp4", "poster": "poster.png", "metrics": "metrics.jsonl"},
    }
    # A run being written (or swapped out) lives in a hidden folder, summary or not.
    for name in ("x", ".x.partial-1-ab", ".x.old-1-cd", ".hidden"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(run))
    assert [r["folder"] for r in find_runs(tmp_path)] == ["x"]
    for broken, fragment in (
        ([1, 2], "is not a JSON object"),
        ({**run, "title": 3}, "has a wrong title"),
        ({**run, "final": [0.5]}, "has a wrong final (an object of figures)"),
        ({**run, "files": {"video": "v.mp4"}}, "has a wrong files"),
        ({**run, "order": "first"}, "has a wrong order (an integer)"),
    ):
        (tmp_path / "x" / "summary.json").write_text(json.dumps(broken))
        with pytest.raises(GenailabError, match=re.escape(fragment)):
            build_gallery(tmp_path)
