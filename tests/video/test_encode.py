"""The encoders: frames in, a file that decodes to the same number of frames and colours."""

from __future__ import annotations

import numpy as np
import pytest

from genailab.errors import UnknownNameError
from genailab.video import VideoWriter, check_format, count_frames

pytestmark = pytest.mark.video

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (230, 230, 230)]


def _solid(colour, shape=(72, 128)):
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (*shape, 3)).copy()


def _decoded(path):
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize("fmt", ["mp4", "webm"])
def test_frames_round_trip(tmp_path, fmt):
    path = tmp_path / f"clip.{fmt}"
    frames = [_solid(c) for c in COLOURS for _ in range(3)]
    with VideoWriter(path, fps=12) as video:
        for rgb in frames:
            video.write(rgb)
    assert video.frames_written == len(frames)
    assert count_frames(path) == len(frames)
    # Lossy codecs and yuv420p shift flat colours by a few levels at most; a swapped channel,
    # a wrong pixel format or a dropped frame would be off by ~160.
    for got, want in zip(_decoded(path), frames, strict=True):
        assert got.shape == want.shape
        assert np.abs(got.astype(int).mean((0, 1)) - want[0, 0]).max() < 6


def test_gif_keeps_colours_and_timing(tmp_path):
    from PIL import Image

    path = tmp_path / "clip.gif"
    with VideoWriter(path, fps=10) as video:
        for colour in COLOURS:
            for _ in range(3):
                video.write(_solid(colour))
    # GIF stores a repeated frame once with a longer delay: 4 images, 3 x 100 ms each.
    with Image.open(path) as gif:
        durations, colours = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            colours.append(tuple(np.asarray(gif.convert("RGB"))[0, 0]))
    assert durations == [300] * 4
    assert colours == COLOURS


def test_mp4_is_h264_yuv420p(tmp_path):
    import av

    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=25) as video:
        for c in COLOURS:
            video.write(_solid(c))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == 25


def test_odd_size_is_refused_for_yuv420p(tmp_path):
    with pytest.raises(ValueError, match="even frame dimensions, got 127x72"):
        VideoWriter(tmp_path / "odd.mp4").write(_solid(COLOURS[0], (72, 127)))


def test_changing_shape_and_bad_dtype_are_refused(tmp_path):
    video = VideoWriter(tmp_path / "clip.mp4")
    video.write(_solid(COLOURS[0]))
    with pytest.raises(ValueError, match="frame shape changed"):
        video.write(_solid(COLOURS[0], (64, 128)))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        video.write(np.zeros((72, 128, 3), dtype=np.float32))
    video.abort()


def test_aborted_or_empty_video_leaves_no_file(tmp_path):
    path = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError), VideoWriter(path) as video:
        video.write(_solid(COLOURS[0]))
        raise RuntimeError("the experiment crashed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="no frames were written"):
        VideoWriter(path).close()


def test_unknown_format_names_the_accepted_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown video format 'mp5'; did you mean 'mp4'"):
        check_format("mp5")
    with pytest.raises(UnknownNameError, match="accepted: mp4, webm, gif"):
        VideoWriter(tmp_path / "clip.avi")
