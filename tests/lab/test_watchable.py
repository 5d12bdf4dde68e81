"""Videos a person can watch (issue #12), checked on every experiment's quick preset and on the
protocol itself: lengths measured from the encoded files, titles that stay long enough to
read, cards, captions, and claims that hold on the run shown."""

from __future__ import annotations

import html
import itertools
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genailab
from genailab.lab.claims import Claim, MissingFigure, fill_template, names, template_names
from genailab.lab.pacing import MIN_CAPTION_S, OPENING_S, Timeline, fade_frames, frame_holds
from genailab.lab.registry import discover
from video_checks import decode_band, title_stretches

QUICK_RANGE = (10.0, 30.0)  # seconds, the goals
FULL_RANGE = (30.0, 90.0)


def parse_vtt(text: str, fps: int) -> list[tuple[int, int, str]]:
    """The cues of a WebVTT file as (start frame, end frame, text), checking its syntax; the
    text as a viewer reads it (WebVTT escapes ``&``, ``<`` and ``>``)."""
    assert text.startswith("WEBVTT\n\n"), text[:40]
    cues = []
    for block in text.strip().split("\n\n")[1:]:
        number, timing, *lines = block.split("\n")
        assert number.isdigit() and len(lines) == 1 and lines[0].strip(), block
        match = re.fullmatch(
            r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})", timing
        )
        assert match, timing
        h0, m0, s0, ms0, h1, m1, s1, ms1 = (int(g) for g in match.groups())
        start = (h0 * 3600 + m0 * 60 + s0) * 1000 + ms0
        end = (h1 * 3600 + m1 * 60 + s1) * 1000 + ms1
        cues.append((round(start * fps / 1000), round(end * fps / 1000), html.unescape(lines[0])))
    return cues


# ------------------------------------------------------------------ the pacing, by itself
@given(
    count=st.integers(1, 2000),
    seconds=st.floats(1, 600),
    fps=st.integers(1, 60),
)
def test_holds_spread_the_length_evenly_and_never_drop_a_frame(count, seconds, fps):
    holds = frame_holds(count, seconds, fps)
    assert len(holds) == count and min(holds) >= 1
    target = round(seconds * fps)
    if target >= count:
        assert sum(holds) == target
        assert max(holds) - min(holds) <= 1
    else:
        assert holds == [1] * count


def test_a_short_stretch_is_held_until_it_can_be_read():
    timeline = Timeline(fps=20)
    timeline.add("first", 5)
    assert timeline.shortfall() == round(MIN_CAPTION_S * 20) - 5
    timeline.add("first", timeline.shortfall())
    assert timeline.shortfall() == 0
    timeline.add("second", 40)
    assert [(c.start, c.end) for c in timeline.cues] == [(0, 30), (30, 70)]


def test_fades_leave_each_frame_on_screen_for_most_of_its_hold():
    for hold in range(1, 200):
        fade = fade_frames(hold, 30)
        assert 0 <= fade <= hold // 3
    assert fade_frames(2, 30) == 0 and fade_frames(30, 30) == 6


# ------------------------------------------------------------------ claims and templates
def test_claims_compare_the_final_figures_and_show_their_numbers():
    claim = Claim("val_gpt < min(val_bigram, val_mlp) - 0.1", "the GPT wins by a margin")
    met = claim.evaluate({"val_gpt": 1.6, "val_bigram": 2.48, "val_mlp": 1.9, "other": 0})
    assert met["met"] is True and met["values"] == {
        "val_gpt": 1.6,
        "val_bigram": 2.48,
        "val_mlp": 1.9,
    }
    assert met["shown"] == "1.6 < min(2.48, 1.9) - 0.1"
    assert claim.evaluate({"val_gpt": 1.85, "val_bigram": 2.48, "val_mlp": 1.9})["met"] is False
    # A figure that is missing (None in JSON) or NaN never makes a claim true.
    for bad in (None, float("nan")):
        assert Claim("x < 1", "small").evaluate({"x": bad})["met"] is False
    assert Claim("not x > 1 and 0 <= x <= 1 or x == 7", "t").evaluate({"x": 7})["met"] is True
    assert Claim("a / b > 1", "t").evaluate({"a": 1, "b": 0})["met"] is False  # no crash


def test_a_claim_that_names_a_figure_the_run_lacks_is_an_error():
    with pytest.raises(MissingFigure, match=r"val_gtp.*its figures: val_gpt"):
        Claim("val_gtp < 2", "typo").evaluate({"val_gpt": 1.0})


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('true')",
        "x.real < 1",
        "x[0] < 1",
        "(lambda: 1)() < 2",
        "x < 1 if x else 2",
        "'a' < 'b'",
        "max(x, key=abs) < 1",
        "x <",
    ],
)
def test_claims_can_only_be_arithmetic_and_comparisons(expr):
    with pytest.raises(ValueError, match="claim"):
        Claim(expr, "refused")


def test_templates_fill_figures_and_leave_other_braces():
    figures = {"steps": 600, "loss": 1.23456, "share": 0.375, "none": None}
    text = fill_template("{steps} steps, {loss:.2f} nats, {share:.0%}, {none}, {0, 1}", figures)
    assert text == "600 steps, 1.23 nats, 38%, n/a, {0, 1}"
    assert fill_template("{steps:.1f}", figures) == "600.0"
    assert template_names("{a} {b:.2f} {0, 1}") == ["a", "b"]
    with pytest.raises(MissingFigure, match=re.escape("'{lost}'")):
        fill_template("{lost:.2f}", figures)
    assert names("a + b * a") == ["a", "b"]


# ------------------------------------------------------------------ one tiny run, end to end
@pytest.mark.video
def test_tiny_run_is_paced_carded_captioned_and_claimed(with_tiny_experiments, tmp_path):
    summary = genailab.run("tiny", quick=True, out=tmp_path, size=(160, 90), progress=False)
    folder = tmp_path / "tiny"
    fps = summary["fps"]
    bands, decoded_fps = decode_band(folder / "video.mp4")
    assert decoded_fps == fps and len(bands) == summary["video_frames"]
    assert summary["duration_s"] == pytest.approx(len(bands) / fps)

    # Opening card, two captions (the first only two frames long: padded to 1.5 s), the
    # closing card: four stretches, the same in the file as in the captions.
    cues = parse_vtt((folder / "captions.vtt").read_text(), fps)
    assert [c[2] for c in cues] == [
        "A tiny test experiment: Where does the square go?",
        "the square sets off",
        "the square keeps going",
        f"It moved 2 steps and ended at x = {summary['final']['x']:.2f}",
    ]
    assert cues[0][:2] == (0, round(OPENING_S * fps))
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cues))
    assert cues[-1][1] == len(bands)
    assert min(end - start for start, end, _ in cues) >= MIN_CAPTION_S * fps
    assert title_stretches(bands) == [(start, end) for start, end, _ in cues]

    assert summary["claims"] == [
        {
            "expr": "steps >= 1",
            "text": "the square moves at least once",
            "met": True,
            "values": {"steps": 2},
            "shown": "2 >= 1",
        }
    ]
    assert summary["claims_met"] is True and summary["preset"] == "quick"
    assert summary["answer"] == cues[-1][2]
    assert json.loads((folder / "summary.json").read_text())["files"]["captions"] == "captions.vtt"


@pytest.mark.video
def test_a_gif_has_no_caption_track_but_the_same_length(with_tiny_experiments, tmp_path):
    mp4 = genailab.run("tiny", quick=True, out=tmp_path / "a", size=(64, 64), progress=False)
    gif = genailab.run(
        "tiny", quick=True, out=tmp_path / "b", size=(64, 64), format="gif", progress=False
    )
    assert "captions" not in gif["files"] and not (tmp_path / "b/tiny/captions.vtt").exists()
    assert gif["video_frames"] == mp4["video_frames"]
    from PIL import Image

    with Image.open(tmp_path / "b/tiny/video.gif") as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    # Held frames are stored once, with a longer duration (GIF counts in 10 ms steps).
    assert image.n_frames < gif["video_frames"]
    assert sum(durations) / 1000 == pytest.approx(gif["duration_s"], abs=0.01 * image.n_frames)


@pytest.mark.video
def test_seconds_sets_the_length_of_the_data_frames(with_tiny_experiments, tmp_path):
    # Long enough that no caption needs padding: the difference is exactly 11 s of frames.
    short = genailab.run("tiny", out=tmp_path / "a", size=(64, 64), seconds=9, progress=False)
    longer = genailab.run("tiny", out=tmp_path / "b", size=(64, 64), seconds=20, progress=False)
    assert longer["video_frames"] - short["video_frames"] == 11 * 10
    assert longer["command"].endswith("--seconds 20")


# ------------------------------------------------------------------ every experiment, quick
def test_every_experiment_declares_its_question_answer_and_claims():
    for name, exp in discover().items():
        assert exp.question.endswith("?"), name
        assert exp.claims and all(len(c.text) < 90 for c in exp.claims), name
        full, quick = exp.seconds
        assert full > quick > 0, name


@pytest.mark.video
@pytest.mark.slow
def test_every_quick_video_can_be_read(quick_tour):
    out, summaries = quick_tour
    for name, summary in summaries.items():
        folder = out / name
        fps = summary["fps"]
        bands, decoded_fps = decode_band(folder / summary["files"]["video"])
        length = len(bands) / fps
        assert decoded_fps == fps and len(bands) == summary["video_frames"], name
        assert QUICK_RANGE[0] <= length <= QUICK_RANGE[1], f"{name}: {length:.1f} s"
        stretches = title_stretches(bands)
        shortest = min(end - start for start, end in stretches) / fps
        assert shortest >= MIN_CAPTION_S - 0.05, f"{name}: a title lasts {shortest:.2f} s"

        cues = parse_vtt((folder / summary["files"]["captions"]).read_text(), fps)
        assert len(cues) >= 3 and cues[-1][1] == len(bands), name
        # Each caption cue starts where the band changes: captions and titles agree.
        starts = {start for start, _ in stretches}
        assert all(start in starts for start, _, _ in cues), name
        assert cues[0][2].endswith(summary["question"]) and cues[-1][2] == summary["answer"]
        long = [text for _, _, text in cues[1:-1] if len(text) > 90]
        assert not long, f"{name}: captions too long for a title: {long}"

        assert summary["claims_met"], f"{name}: {[c['shown'] for c in summary['claims']]}"
        for text in (summary["explanation"], summary["answer"]):
            assert not re.search(r"\{[A-Za-z_]", text), f"{name}: unfilled template in {text}"


@pytest.mark.slow
def test_frame_count_is_exact_for_every_quick_preset(quick_tour):
    _, summaries = quick_tour
    for name, summary in summaries.items():
        exp = discover()[name]
        assert exp.frame_count(exp.config(quick=True)) == summary["frames"], name
