"""Pacing: how long each data frame stays on screen, so that a video can be read.

An experiment yields as many frames as its story needs (20 to 800); the video should last
what a reader needs (a minute or so). The runner spreads the experiment's target length over
its frames: frame ``i`` of ``n`` ends at video frame ``round((i + 1) * seconds * fps / n)``,
so the holds differ by at most one video frame and add up exactly; a frame is never dropped,
so a run with more frames than ``seconds * fps`` simply plays longer, one video frame each.
Repeated frames cost only encoding, never drawing.

Each frame carries a caption, the message of its stretch of frames; the caption is also the
video's title. A stretch shorter than :data:`MIN_CAPTION_S` is held on its last frame until
it has been on screen that long, so no title flashes by unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECONDS_RANGE = (1.0, 3600.0)  # what a run may ask for its data frames (--seconds)
MIN_CAPTION_S = 1.5  # no title may be on screen for less than this
OPENING_S = 2.5  # the opening card: the concept and the question
CLOSING_BASE_S = 3.0  # the closing card: the measured answer ...
CLOSING_PER_CLAIM_S = 0.75  # ... and a line per claim
CLOSING_MAX_S = 6.0
FADE_S = 0.2  # a held frame blends in from the previous one over this long, within a stretch


def closing_seconds(claims: int) -> float:
    """How long the closing card stays: long enough to read the answer and every claim.

    Examples
    --------
    >>> closing_seconds(1), closing_seconds(2), closing_seconds(9)
    (3.75, 4.5, 6.0)
    """
    return min(CLOSING_BASE_S + CLOSING_PER_CLAIM_S * claims, CLOSING_MAX_S)


def frame_holds(count: int, seconds: float, fps: int) -> list[int]:
    """Video frames for each of ``count`` data frames spread over ``seconds`` at ``fps``:
    at least one each, differing by at most one, summing to ``round(seconds * fps)`` whenever
    that is at least ``count``.

    Examples
    --------
    >>> frame_holds(4, 1.0, 10)
    [2, 3, 3, 2]
    >>> frame_holds(5, 0.1, 10)    # more frames than the time allows: one video frame each
    [1, 1, 1, 1, 1]
    """
    if count < 1:
        return []
    per_frame = seconds * fps / count
    ends = [round((i + 1) * per_frame) for i in range(count)]
    holds, previous = [], 0
    for end in ends:
        hold = max(1, end - previous)
        holds.append(hold)
        previous += hold
    return holds


@dataclass
class Cue:
    """One stretch of video that shows one message: video frames ``[start, end)``."""

    start: int
    end: int
    text: str


@dataclass
class Timeline:
    """The video's cues as they are written, frame by frame, by the runner.

    ``add(text, frames)`` appends ``frames`` video frames that show ``text``, extending the
    current cue when the text is the same. ``shortfall()`` tells how many more video frames
    the current cue needs to have been on screen :data:`MIN_CAPTION_S`.

    Examples
    --------
    >>> t = Timeline(fps=10)
    >>> t.add("a", 3); t.add("a", 4); t.shortfall()
    8
    >>> t.add("a", 8); t.add("b", 15)
    >>> [(c.start, c.end, c.text) for c in t.cues], t.frames
    ([(0, 15, 'a'), (15, 30, 'b')], 30)
    """

    fps: int
    cues: list[Cue] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return self.cues[-1].end if self.cues else 0

    @property
    def current(self) -> str | None:
        return self.cues[-1].text if self.cues else None

    def add(self, text: str, frames: int) -> None:
        if frames <= 0:
            return
        if self.cues and self.cues[-1].text == text:
            self.cues[-1].end += frames
        else:
            self.cues.append(Cue(self.frames, self.frames + frames, text))

    def shortfall(self) -> int:
        if not self.cues:
            return 0
        shown = self.cues[-1].end - self.cues[-1].start
        return max(0, round(MIN_CAPTION_S * self.fps) - shown)

    def seconds(self) -> float:
        return self.frames / self.fps


def fade_frames(hold: int, fps: int) -> int:
    """How many of a held frame's ``hold`` video frames blend in from the frame before:
    none for holds of 1-2 (the motion is already smooth), up to :data:`FADE_S` otherwise,
    always leaving the frame itself on screen for most of its hold.

    Examples
    --------
    >>> fade_frames(2, 30), fade_frames(6, 30), fade_frames(60, 30)
    (0, 2, 6)
    """
    if hold < 3:
        return 0
    return min(hold // 3, max(1, round(FADE_S * fps)))
