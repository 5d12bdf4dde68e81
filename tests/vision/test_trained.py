"""TrainedCNN: its inputs checked, normalised as in training, outputs equal to the network's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genailab.errors import DataError, UnknownNameError
from genailab.vision.alexnet import AlexNet
from genailab.vision.trained import TrainedCNN

MEAN, STD = [0.2, 0.5, 0.7], [0.3, 0.2, 0.1]


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    net = AlexNet(3, 32, 5, widths=(8, 8, 8, 8, 8), fc=(16, 12))
    return TrainedCNN(net, "abcde", MEAN, STD, "test", device="cpu")


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (70, 32, 32, 3), dtype=np.uint8)


def _reference_input(images: np.ndarray) -> torch.Tensor:
    x = torch.tensor(images, dtype=torch.float64).permute(0, 3, 1, 2) / 255  # (N, C, H, W)
    return (x - torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)) / torch.tensor(
        STD, dtype=torch.float64
    ).view(1, 3, 1, 1)


def test_prepare_normalises_per_channel_for_uint8_and_floats(cnn, images):
    ref = _reference_input(images)
    x = cnn.prepare(images)
    assert x.dtype == torch.float32 and tuple(x.shape) == (70, 3, 32, 32)
    assert torch.allclose(x.double(), ref, atol=1e-5)
    assert torch.allclose(cnn.prepare(images / 255.0).double(), ref, atol=1e-5)
    assert tuple(cnn.prepare(images[0]).shape) == (1, 3, 32, 32)  # one (H, W, C) image


def test_outputs_equal_the_networks_in_eval_mode(cnn, images):
    x = _reference_input(images).float()
    with torch.no_grad():
        logits = cnn.model(x)
        acts = cnn.model.activations(x, ["conv2", "fc7"])
    proba = cnn.predict_proba(images, batch_size=32)  # three batches, the last short
    assert np.allclose(proba, torch.softmax(logits, 1).numpy(), atol=1e-5)
    assert np.array_equal(cnn.predict(images), logits.argmax(1).numpy())
    got = cnn.activations(images, ["conv2", "fc7"], batch_size=16)
    assert got["conv2"].shape == (70, 8, 16, 16)
    assert np.allclose(got["conv2"], acts["conv2"].numpy(), atol=1e-5)
    assert np.allclose(cnn.embed(images), acts["fc7"].numpy(), atol=1e-5)
    assert cnn.embed(images, "pool2").shape == (70, 8 * 8 * 8)
    assert not cnn.model.training


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (np.zeros((2, 32, 32, 1), np.uint8), "1 channel(s); this network takes 3"),
        (np.zeros((2, 28, 28, 3), np.uint8), "28 x 28; this network takes 32 x 32"),
        (np.zeros((32, 32), np.uint8), "(N, H, W, C)"),
        (np.zeros((2, 32, 32, 3), np.int32), "uint8 (0-255) or floats"),
        (np.full((1, 32, 32, 3), np.nan), "NaN"),
    ],
)
def test_bad_images_get_one_line_errors(cnn, bad, fragment):
    with pytest.raises(DataError) as info:
        cnn.predict_proba(bad)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_unknown_stage_and_mismatched_classes(cnn, images):
    with pytest.raises(UnknownNameError, match="unknown stage 'fc9'"):
        cnn.activations(images[:2], ["fc9"])
    with pytest.raises(DataError, match="2 classes for a network with 5 logits"):
        TrainedCNN(cnn.model, "ab", MEAN, STD, device="cpu")
