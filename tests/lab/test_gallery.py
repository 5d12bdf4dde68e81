"""The gallery page: its content, and that a real browser plays every video from file://."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from browser import Browser
from genailab.errors import GenailabError
from genailab.lab.chapters import CHAPTERS, INTRODUCTIONS
from genailab.lab.gallery import build_gallery, find_runs


def test_page_has_a_card_per_run_with_everything_it_promises(quick_tour):
    out, summaries = quick_tour
    page = build_gallery(out).read_text()
    assert page.count("<article class=card") == len(summaries)
    for name, summary in summaries.items():
        assert f'src="{name}/video.mp4"' in page and f'poster="{name}/poster.png"' in page
        assert html.escape(summary["title"]) in page  # "a CNN's" is written "a CNN&#x27;s"
        assert summary["command"] in page
        # The explanation's text, with backticks shown as <code> and quotes escaped.
        text = html.unescape(re.sub(r"</?code[^>]*>", "", page))
        assert summary["explanation"].split("\n\n")[0].replace("`", "")[:200] in text
        # The claims with their numbers, the preset, the captions as a track and transcript.
        for claim in summary["claims"]:
            assert html.escape(claim["text"]) in page and html.escape(claim["shown"]) in page
        assert f"{summary['preset']} preset" in page
        assert f'href="{name}/captions.vtt"' in page
    assert page.count("<track kind=captions") == len(summaries)
    assert page.count("class=missed") == sum(
        not c["met"] for s in summaries.values() for c in s["claims"]
    )
    for chapter in {s["chapter"] for s in summaries.values()}:
        assert html.escape(INTRODUCTIONS[chapter]) in page
    # Self-contained: nothing is fetched from a server or a CDN.
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)
    # No video starts by itself or loops: each waits on its poster until the reader plays it.
    # Read from the <video> tags and the script, since an explanation may speak of a training loop.
    videos = re.findall(r"<video\b[^>]*>", page)
    assert len(videos) == len(summaries)
    assert not [v for v in videos if re.search(r"\b(autoplay|loop)\b", v)], videos
    assert not re.search(r"\.(autoplay|loop)\s*=", page)  # play() only on a transcript click
    for attribute in ("muted", "playsinline", "controls", "poster="):
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


# Plays every video of the page at 16x (muted, as a user's click would), and resolves, per
# video, with whether it reached its `ended` event and how many cues its caption track has.
PLAY_ALL = """
Promise.all([...document.querySelectorAll("video")].map((video) => new Promise((resolve) => {
  const track = video.textTracks[0];
  const report = (ended) => resolve({
    src: video.getAttribute("src"), ended, duration: video.duration,
    cues: track && track.cues ? track.cues.length : 0,
    firstCue: track && track.cues && track.cues.length ? track.cues[0].text : "",
    error: video.error ? video.error.code : null,
  });
  video.addEventListener("ended", () => report(true));
  video.addEventListener("error", () => report(false));
  setTimeout(() => report(false), 50000);
  video.playbackRate = 16;
  video.play().catch(() => report(false));
})))
"""


@pytest.mark.video
@pytest.mark.slow
def test_every_video_plays_to_its_end_with_captions_in_headless_chromium(
    quick_tour, chromium, tmp_path
):
    out, summaries = quick_tour
    index = build_gallery(out)
    with Browser(chromium, str(tmp_path / "profile")) as browser:
        browser.open(index.as_uri())
        played = browser.evaluate(PLAY_ALL, timeout=90)
        headings = browser.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        shot = browser.screenshot(1280, 1600)
        console = list(browser.console)
    assert len(played) == len(summaries)
    for result, summary in zip(played, summaries.values(), strict=True):
        assert result["src"] == f"{summary['name']}/video.mp4"
        assert result["ended"] and result["error"] is None, result
        assert result["duration"] == pytest.approx(summary["duration_s"], abs=0.1)
        assert result["cues"] == summary["captions"] >= 3, result
        assert result["firstCue"].endswith(summary["question"])
    # Chapters in the order of the mission.
    chapters = [c for c in CHAPTERS if any(s["chapter"] == c for s in summaries.values())]
    assert headings == chapters
    # The page logs nothing when all is well: no script errors, no failed loads.
    assert console == []

    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))
    assert image.shape == (1600, 1280, 3)
    assert image.std() > 20  # a blank page has std ~0; ours shows a title, posters, text


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
