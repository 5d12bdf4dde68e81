"""WebVTT captions: one cue for each stretch of video that shows one message.

The runner writes ``captions.vtt`` beside an MP4 or WebM video (GIF has no caption tracks);
the gallery's ``<video>`` carries it as a ``<track>``. Cue times come from the video frames
themselves, so they match the encoded file to the frame.
"""

from __future__ import annotations

from collections.abc import Iterable

from genailab.lab.pacing import Cue


def timestamp(frames: int, fps: int) -> str:
    """``HH:MM:SS.mmm`` of video frame ``frames`` at ``fps``.

    Examples
    --------
    >>> timestamp(0, 30), timestamp(45, 30), timestamp(30 * 3725, 30)
    ('00:00:00.000', '00:00:01.500', '01:02:05.000')
    """
    millis = round(frames * 1000 / fps)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def webvtt(cues: Iterable[Cue], fps: int) -> str:
    """The text of a WebVTT file with one numbered cue per ``Cue`` that has text.

    A cue's text is one line: line breaks inside it become spaces, and the ``-->`` that
    would end a cue's timing early is written with an arrow instead.

    Examples
    --------
    >>> print(webvtt([Cue(0, 45, "Random search stalls"), Cue(45, 90, "Evolution wins")], 30))
    WEBVTT
    <BLANKLINE>
    1
    00:00:00.000 --> 00:00:01.500
    Random search stalls
    <BLANKLINE>
    2
    00:00:01.500 --> 00:00:03.000
    Evolution wins
    <BLANKLINE>
    """
    blocks = ["WEBVTT", ""]
    number = 0
    for cue in cues:
        text = " ".join(cue.text.replace("-->", "→").split())
        if not text:
            continue
        number += 1
        start, end = timestamp(cue.start, fps), timestamp(cue.end, fps)
        blocks += [str(number), f"{start} --> {end}", _escape(text), ""]
    return "\n".join(blocks)


def _escape(text: str) -> str:
    """WebVTT cue text treats ``&`` and ``<`` as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
