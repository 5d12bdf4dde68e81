"""The cnn-training video: its kernel measures on known kernels, and its frames on a tiny run."""

import numpy as np
import pytest

from genailab.experiments.cnn_training import (
    Config,
    colour_concentration,
    frame_count,
    frames,
    kernel_tiles,
    neighbour_correlation,
    steps_of,
)

TINY = dict(
    n=300, size=16, epochs=2, kernels=4, kernel1=3, widths="4,4,4,4", fc="8,8", every=3,
    eval_images=50, device="cpu",
)  # fmt: skip


def test_neighbour_correlation_is_zero_for_noise_and_one_for_a_constant_slope():
    noise = np.random.default_rng(0).normal(size=(400, 3, 7, 7))
    assert abs(neighbour_correlation(noise)) < 0.05  # centring: about -1 / 48
    x = np.linspace(-1, 1, 7)
    plane = (x[None, :] + 0.5 * x[:, None])[None, None] * np.ones((2, 3, 1, 1))  # (2, 3, 7, 7)
    assert neighbour_correlation(plane) > 0.85
    checker = (-1.0) ** np.add.outer(np.arange(7), np.arange(7))  # the least smooth kernel
    assert neighbour_correlation(checker[None, None]) == pytest.approx(-1.0, abs=0.01)


def test_colour_concentration_is_one_for_a_pattern_times_a_colour():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(400, 3, 5, 5))
    # three independent channels: the largest of three singular values squared, about 0.45
    assert 0.38 < colour_concentration(noise) < 0.52
    pattern = rng.normal(size=(10, 1, 5, 5)) * rng.normal(size=(10, 3, 1, 1))
    assert colour_concentration(pattern) == pytest.approx(1.0)


def test_kernel_tiles_put_zero_at_grey_and_the_largest_weight_at_an_end():
    w = np.zeros((2, 3, 3, 3))
    w[0, 0, 1, 1], w[1, 2, 0, 0] = 2.0, -0.5
    tiles = kernel_tiles(w)
    assert tiles.shape == (2, 3, 3, 3) and tiles.min() >= 0 and tiles.max() <= 1
    assert tiles[0, 1, 1, 0] == 1.0 and tiles[1, 0, 0, 2] == 0.0
    assert tiles[0, 0, 0, 0] == 0.5


@pytest.fixture(scope="module")
def tiny_frames():
    return list(frames(Config(**TINY)))


def test_frame_count_is_exact_and_frames_follow_the_training_steps(tiny_frames):
    cfg = Config(**TINY)
    assert len(tiny_frames) == frame_count(cfg) == 1 + steps_of(cfg) // cfg.every
    assert [f.step for f in tiny_frames] == list(range(0, steps_of(cfg) + 1, cfg.every))
    assert tiny_frames[-1].poster and not tiny_frames[0].poster


def test_the_first_frame_is_the_untrained_network_and_the_kernels_then_change(tiny_frames):
    first, last = tiny_frames[0], tiny_frames[-1]
    assert first.scalars["smooth"] == first.scalars["smooth_init"]
    assert first.arrays["tiles"].shape == (4, 3, 3, 3)
    assert not np.allclose(first.arrays["tiles"], last.arrays["tiles"])
    assert last.scalars["smooth_init"] == first.scalars["smooth"]
    for frame in tiny_frames:
        assert 0 <= frame.scalars["test_accuracy"] <= 1 and len(frame.caption) <= 90
    assert len(np.unique([f.caption for f in tiny_frames])) >= 3
