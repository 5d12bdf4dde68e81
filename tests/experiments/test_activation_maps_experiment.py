"""activation-maps: its two measured figures, the sliding dot product's gap to conv2d over
every conv stage and the cosine rank of the patch where a kernel's map peaks, checked on a
tiny network against independent computations."""

import numpy as np
import pytest
import torch

from genailab.experiments.activation_maps import (
    Config,
    dot_product_gap,
    frame_count,
    peak_cosine_ranks,
    walk,
)
from genailab.vision.activation_maps import patch_dot
from genailab.vision.alexnet import AlexNet
from genailab.vision.trained import TrainedCNN


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    net = AlexNet(3, 16, n_classes=4, widths=(4, 5, 6, 5, 4), fc=(8, 8), batchnorm=True)
    return TrainedCNN(net, "abcd", [0.5] * 3, [0.25] * 3, device="cpu")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)


def test_the_sliding_dot_product_matches_conv2d_at_every_stage(cnn, image):
    assert dot_product_gap(cnn, image) < 1e-5


def test_a_convolution_instead_of_a_correlation_shows_as_a_gap(cnn, image, monkeypatch):
    """The gap is measured, not assumed: a sliding product with flipped kernels (a true
    convolution, which conv2d is not) is far from conv2d."""
    import genailab.vision.activation_maps as maps

    right = maps.sliding_dot_product

    def flipped(image, kernel, *args, **kwargs):
        return right(image, torch.flip(kernel, dims=(-2, -1)), *args, **kwargs)

    monkeypatch.setattr(maps, "sliding_dot_product", flipped)
    assert dot_product_gap(cnn, image) > 1e-2


def test_peak_cosine_ranks_match_a_loop_over_patches(cnn, image):
    ranks = peak_cosine_ranks(cnn, image)  # (O,)
    x = cnn.prepare(image[None])[0].double().numpy()  # (3, 16, 16)
    conv = cnn.model.conv("conv1")
    weight = conv.weight.detach().double().numpy()
    pad = conv.padding[0]
    for o in range(weight.shape[0]):
        dots, cosines = [], []
        for y in range(16):
            for x_ in range(16):
                d = patch_dot(x, weight[o], y, x_, padding=pad)
                dots.append(d.value)
                norm = np.linalg.norm(d.patch) * np.linalg.norm(weight[o])
                cosines.append(d.value / max(norm, 1e-12))
        cosines = np.array(cosines)
        peak = cosines[int(np.argmax(dots))]
        assert ranks[o] == pytest.approx((cosines < peak).mean())


def test_the_walk_has_a_panel_per_stage_and_probabilities_that_sum_below_one(cnn, image):
    arrays, titles, top = walk(cnn, image)
    assert set(arrays) == {"input", *(t for t in titles if t != "fc8_names")}
    assert arrays["conv1"].shape == (2 * 16 + 1, 2 * 16 + 1)  # 4 maps of 16 x 16, a 2 x 2 grid
    probs = arrays["fc8"]
    assert np.all(np.diff(probs) <= 0) and 0 < probs.sum() <= 1 + 1e-9 and probs[0] == top
    assert len(titles["fc8_names"].split("|")) == len(probs)


def test_frame_count_adds_up_the_scenes():
    cfg = Config(slide=5, compare=2, reveal=2, hold=3)
    assert frame_count(cfg) == 5 + 2 + 3 * 6 * 3
