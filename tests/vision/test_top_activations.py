"""Top-activating images against a brute-force reference: every activation of the whole set
computed at once, each channel's maximum over positions, a stable argsort per channel."""

import copy
from collections import Counter

import numpy as np
import pytest
import torch

from genailab.errors import DataError, UnknownNameError
from genailab.vision.alexnet import FC_STAGES, STAGES, AlexNet
from genailab.vision.receptive_field import receptive_field
from genailab.vision.top_activations import (
    TopActivations,
    channel_purity,
    top_activations,
    top_activations_by_stage,
)
from genailab.vision.trained import TrainedCNN

SIZE, N, K = 20, 37, 4


@pytest.fixture(scope="module")
def net():
    """A tiny float64 AlexNet (no float32 rounding between batch sizes) with one dead conv3
    channel: its activation is 0 on every image, so its top images are all ties."""
    torch.manual_seed(0)
    model = AlexNet(in_channels=3, image_size=SIZE, n_classes=3, widths=(4, 5, 6, 5, 4), fc=(6, 5))
    with torch.no_grad():
        model.conv("conv3").bias[2] = -1e6
    return model.double().eval()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(1, 256, (N, SIZE, SIZE, 3), dtype=np.uint8)


def brute_force(net, images, stage, k):
    """values, indices, positions (C, k) from all N activations at once."""
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).double() / 255
    with torch.no_grad():
        out = net.activations(x, [stage])[stage].numpy()  # (N, C, H, W) or (N, C)
    flat = out.reshape(N, out.shape[1], -1)  # (N, C, P)
    values, where = flat.max(axis=2), flat.argmax(axis=2)  # (N, C)
    order = np.argsort(-values.T, axis=1, kind="stable")[:, :k]  # (C, k)
    width = out.shape[-1] if out.ndim == 4 else 1
    pos = np.take_along_axis(where.T, order, axis=1)
    return (
        np.take_along_axis(values.T, order, axis=1),
        order,
        np.stack([pos // width, pos % width], axis=-1),
    )


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_matches_the_brute_force_reference(net, images, stage):
    top = top_activations(net, images, stage, k=K, batch_size=8)  # 5 chunks, the last of 5
    values, indices, positions = brute_force(net, images, stage, K)
    assert top.values.shape == top.indices.shape == (values.shape[0], K)
    np.testing.assert_allclose(top.values, values, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(top.indices, indices)
    np.testing.assert_array_equal(top.positions, positions)
    assert (np.diff(top.values, axis=1) <= 0).all()
    assert top.n_images == N and top.stage == stage


def test_a_pass_in_chunks_equals_the_pass_in_one_batch(net, images):
    one = top_activations_by_stage(net, images, STAGES, k=K, batch_size=N)
    for batch_size in (1, 6, 16):
        chunked = top_activations_by_stage(net, images, STAGES, k=K, batch_size=batch_size)
        for stage in STAGES:
            np.testing.assert_array_equal(chunked[stage].values, one[stage].values)
            np.testing.assert_array_equal(chunked[stage].indices, one[stage].indices)
            np.testing.assert_array_equal(chunked[stage].positions, one[stage].positions)


def test_ties_go_to_the_lower_image_index(net, images):
    top = top_activations(net, images, "conv3", k=K, batch_size=3)
    assert (top.values[2] == 0).all()  # the dead channel
    assert top.indices[2].tolist() == list(range(K))
    assert top.positions[2].tolist() == [[0, 0]] * K  # the first maximum of an all-zero map


@pytest.mark.parametrize("stage", ["conv1", "pool1", "conv2", "conv5", "pool5"])
def test_crops_are_the_receptive_field_boxes_padded_outside_the_image(net, images, stage):
    top = top_activations(net, images, stage, k=K)
    rf = receptive_field(net, stage)
    crops = top.crops(images, fill=0)  # (C, k, S, S, 3); the images hold no 0
    assert crops.shape == (top.n_channels, K, rf.size, rf.size, 3)
    assert crops.dtype == np.uint8
    for c in range(top.n_channels):
        for j in range(K):
            y, x = top.positions[c, j]
            t, b, left, right = rf.box(y, x, SIZE, SIZE)
            assert top.boxes(c)[j].tolist() == [t, b, left, right]
            first_row, first_col = rf.window(y)[0], rf.window(x)[0]
            inside = crops[
                c, j, t - first_row : b - first_row, left - first_col : right - first_col
            ]
            np.testing.assert_array_equal(inside, images[top.indices[c, j], t:b, left:right])
            assert (crops[c, j] == 0).sum() == 3 * (rf.size**2 - (b - t) * (right - left))
    np.testing.assert_array_equal(top.crops(images, channel=1), crops[1])


@pytest.mark.parametrize("stage", ["conv1", "pool1", "conv2"])  # fields 5, 7, 15 on 20 px
def test_the_crop_alone_decides_the_activation(net, images, stage):
    """Noise everywhere but inside the window leaves the unit's value as it was: the crop
    is where the activation came from."""
    top = top_activations(net, images, stage, k=2)
    rng = np.random.default_rng(5)
    for c in range(top.n_channels):
        t, b, left, right = top.boxes(c)[0]
        image = images[top.indices[c, 0]]
        noisy = rng.integers(0, 256, image.shape, dtype=np.uint8)
        noisy[t:b, left:right] = image[t:b, left:right]
        y, x = top.positions[c, 0]
        x_in = torch.from_numpy(noisy.transpose(2, 0, 1)[None].copy()).double() / 255
        with torch.no_grad():
            value = net.activations(x_in, [stage])[stage][0, c, y, x].item()
        assert value == pytest.approx(
            float(top.values[c, 0]), rel=1e-6, abs=1e-9
        )  # values are float32


@pytest.mark.parametrize("stage", FC_STAGES)
def test_fc_stages_have_no_field_and_crop_the_whole_image(net, images, stage):
    top = top_activations(net, images, stage, k=3)
    assert top.field is None and top.crop_size == SIZE
    assert (top.positions == 0).all()
    np.testing.assert_array_equal(top.crops(images, channel=0), images[top.indices[0]])


def test_a_trained_cnn_prepares_the_images_as_in_training(net, images):
    cnn = TrainedCNN(
        copy.deepcopy(net).float(), "abc", [0.4, 0.5, 0.6], [0.2, 0.3, 0.25], device="cpu"
    )
    top = top_activations(cnn, images, "conv2", k=K, batch_size=10)
    acts = cnn.activations(images, ["conv2"])["conv2"]  # (N, C, H, W)
    best = acts.reshape(N, acts.shape[1], -1).max(axis=2).T  # (C, N)
    order = np.argsort(-best, axis=1, kind="stable")[:, :K]
    np.testing.assert_array_equal(top.indices, order)
    plain = top_activations(cnn.model, images, "conv2", k=K)
    assert not np.array_equal(top.values, plain.values)  # normalised input, other numbers


def test_grey_images_may_come_without_a_channel_axis():
    torch.manual_seed(0)
    net = AlexNet(in_channels=1, image_size=16, widths=(3, 3, 3, 3, 3), fc=(4, 4)).eval()
    grey = np.random.default_rng(0).integers(0, 256, (12, 16, 16), dtype=np.uint8)
    a = top_activations(net, grey, "conv2", k=3)
    b = top_activations(net, grey[..., None], "conv2", k=3)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.crops(grey).shape == (3, 3, a.crop_size, a.crop_size)


def test_channel_purity_matches_a_counter(net, images):
    labels = np.random.default_rng(2).integers(0, 3, N)
    top = top_activations(net, images, "fc6", k=5)
    expected = [Counter(labels[row]).most_common(1)[0][1] / 5 for row in top.indices]
    np.testing.assert_allclose(channel_purity(top, labels), expected)


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_bad_stage_channel_k_and_images_are_one_line_errors(net, images):
    with pytest.raises(UnknownNameError) as error:
        top_activations(net, images, "conv6")
    assert "conv6" in one_line(error) and "conv5" in one_line(error)
    top = top_activations(net, images, "conv1", k=2)
    for channel in (4, -1, 1.5, True):
        with pytest.raises(DataError) as error:
            top.crops(images, channel=channel)
        assert repr(channel) in one_line(error) and "[0, 3]" in one_line(error)
    with pytest.raises(DataError) as error:
        top_activations(net, images, "conv1", k=N + 1)
    assert str(N + 1) in one_line(error)
    with pytest.raises(DataError) as error:
        top_activations(net, images[:, :10], "conv1")
    assert "(37, 10, 20, 3)" in one_line(error) or "10" in one_line(error)
    with pytest.raises(DataError):
        top.crops(images[:5])
    with pytest.raises(DataError):
        top_activations_by_stage(net, images, [])


def test_the_result_is_plain_data():
    top = TopActivations("fc7", np.ones((2, 1)), np.zeros((2, 1), np.int64),
                         np.zeros((2, 1, 2), np.int64), None, 8, 1)  # fmt: skip
    assert (top.k, top.n_channels, top.crop_size) == (1, 2, 8)
