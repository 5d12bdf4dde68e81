"""The sliding dot product against torch's own conv2d (float64), one patch against the map, and
activation maps against the network's forward pass."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genailab.errors import ConfigError, DataError, UnknownNameError
from genailab.vision.activation_maps import (
    activation_maps,
    network_and_prepare,
    patch_dot,
    photo_input,
    sliding_dot_product,
)
from genailab.vision.alexnet import STAGES, AlexNet


def conv2d(image, kernel, bias, stride, padding):
    """torch's conv2d in float64, shaped like sliding_dot_product's answer."""
    x = torch.from_numpy(image if image.ndim == 4 else image[None])
    w = torch.from_numpy(kernel if kernel.ndim == 4 else kernel[None])
    b = torch.from_numpy(np.broadcast_to(np.asarray(bias, np.float64), (w.shape[0],)).copy())
    out = F.conv2d(x, w, b, stride=stride, padding=padding).numpy()  # (N, O, H', W')
    if kernel.ndim == 3:
        out = out[:, 0]
    return out if image.ndim == 4 else out[0]


@pytest.mark.parametrize(
    ("image_shape", "kernel_shape", "stride", "padding"),
    [
        ((1, 9, 9), (1, 3, 3), 1, 0),
        ((3, 12, 10), (3, 5, 5), 1, 2),
        ((3, 11, 11), (3, 4, 4), 2, 1),  # even kernel, stride 2
        ((4, 13, 9), (4, 3, 2), 3, 0),  # non-square kernel, stride that leaves a remainder
        ((2, 3, 8, 8), (2, 3, 3, 3), 1, 1),  # a batch and several kernels
        ((5, 2, 7, 7), (2, 7, 7), 1, 0),  # kernel as large as the image
        ((2, 6, 6), (6, 2, 5, 5), 2, 2),  # several kernels, one image
    ],
)
def test_sliding_dot_product_equals_conv2d_in_float64(image_shape, kernel_shape, stride, padding):
    rng = np.random.default_rng(sum(image_shape) + 7 * stride + padding)
    image = rng.normal(size=image_shape)
    kernel = rng.normal(size=kernel_shape)
    bias = rng.normal(size=kernel_shape[0]) if len(kernel_shape) == 4 else 0.37
    ours = sliding_dot_product(image, kernel, bias=bias, stride=stride, padding=padding)
    reference = conv2d(image, kernel, bias, stride, padding)
    assert ours.dtype == np.float64
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


def test_sliding_dot_product_on_the_models_own_conv1_equals_its_forward_pass():
    torch.manual_seed(0)
    net = AlexNet(in_channels=3, image_size=16, kernel1=5).double()
    conv = net.conv("conv1")
    x = torch.rand(4, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        reference = conv(x).numpy()  # (4, 32, 16, 16)
    ours = sliding_dot_product(
        x, conv.weight, bias=conv.bias, stride=conv.stride[0], padding=conv.padding[0]
    )
    np.testing.assert_allclose(ours, reference, rtol=1e-11, atol=1e-12)
    # and after the ReLU, the stage's activation maps
    maps = activation_maps(net, x[1], ["conv1"])["conv1"]
    np.testing.assert_allclose(maps, np.maximum(ours[1], 0), rtol=1e-11, atol=1e-12)


def test_float32_inputs_stay_float32_and_match_within_float32_rounding():
    rng = np.random.default_rng(3)
    image = rng.random((3, 20, 20), dtype=np.float32)
    kernel = rng.normal(size=(3, 5, 5)).astype(np.float32)
    ours = sliding_dot_product(image, kernel, padding=2)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(
        ours, conv2d(image.astype(float), kernel.astype(float), 0, 1, 2), atol=1e-5
    )


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 2), (2, 1), (3, 2)])
def test_patch_dot_is_the_map_at_every_position_with_the_padded_patch(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    image, kernel = rng.normal(size=(2, 9, 8)), rng.normal(size=(2, 5, 5))
    full = sliding_dot_product(image, kernel, bias=-0.5, stride=stride, padding=padding)
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    for y in range(full.shape[0]):
        for x in range(full.shape[1]):
            dot = patch_dot(image, kernel, y, x, bias=-0.5, stride=stride, padding=padding)
            top, left = y * stride, x * stride
            np.testing.assert_array_equal(dot.patch, padded[:, top : top + 5, left : left + 5])
            np.testing.assert_allclose(dot.products, kernel * dot.patch)
            assert dot.value == pytest.approx(full[y, x], abs=1e-12)
    with pytest.raises(DataError, match=r"position \(.*\) is outside the"):
        patch_dot(image, kernel, full.shape[0], 0, stride=stride, padding=padding)


def test_bad_shapes_and_settings_get_one_line_errors():
    image, kernel = np.zeros((3, 8, 8)), np.zeros((3, 3, 3))
    cases = [
        (
            DataError,
            "expected \\(C, H, W\\)",
            lambda: sliding_dot_product(np.zeros((8, 8)), kernel),
        ),
        (
            DataError,
            "kernel has 1 channels but the image has 3",
            lambda: sliding_dot_product(image, np.zeros((1, 3, 3))),
        ),
        (
            DataError,
            "larger than the padded image",
            lambda: sliding_dot_product(image, np.zeros((3, 9, 9))),
        ),
        (
            ConfigError,
            "stride must be a positive integer, got 0",
            lambda: sliding_dot_product(image, kernel, stride=0),
        ),
        (
            ConfigError,
            "padding must be a non-negative integer, got -1",
            lambda: sliding_dot_product(image, kernel, padding=-1),
        ),
        (
            DataError,
            "bias: expected a number or one per kernel",
            lambda: sliding_dot_product(image, kernel, bias=np.zeros(2)),
        ),
        (
            DataError,
            "expected numbers",
            lambda: sliding_dot_product(np.full((3, 8, 8), "a"), kernel),
        ),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_activation_maps_are_the_forward_pass_stage_by_stage():
    torch.manual_seed(1)
    net = AlexNet(in_channels=1, image_size=28, n_classes=10)
    net.train()  # dropout on: activation_maps must switch it off, and restore the mode
    image = np.random.default_rng(0).integers(0, 256, size=(28, 28), dtype=np.uint8)
    maps = activation_maps(net, image)
    assert net.training
    assert list(maps) == list(STAGES)
    x = torch.from_numpy(image / 255.0).float()[None, None]
    net.eval()
    with torch.no_grad():
        for stage in STAGES:
            np.testing.assert_allclose(maps[stage], net(x, upto=stage)[0].numpy(), atol=1e-6)
    assert maps["conv1"].shape == (32, 28, 28) and maps["conv5"].shape == (64, 7, 7)
    assert maps["fc7"].shape == (256,) and maps["fc8"].shape == (10,)
    # grey (H, W), (H, W, 1) and a prepared tensor (C, H, W) are the same image
    again = activation_maps(net, image[..., None], ["fc8"])["fc8"]
    tensor = activation_maps(net, x[0], ["fc8"])["fc8"]
    np.testing.assert_allclose(again, maps["fc8"], atol=1e-6)
    np.testing.assert_allclose(tensor, maps["fc8"], atol=1e-6)


def test_activation_maps_use_a_trained_networks_own_preparation():
    net = AlexNet(in_channels=3, image_size=16, n_classes=4)

    class Trained:  # what network_and_prepare reads of a TrainedCNN
        model = net

        @staticmethod
        def prepare(images):
            return torch.from_numpy(images.transpose(0, 3, 1, 2) / 255.0 - 0.5).float()

    image = np.random.default_rng(2).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    model, _ = network_and_prepare(Trained())
    assert model is net
    maps = activation_maps(Trained(), image, ["conv1", "fc8"])
    net.eval()
    with torch.no_grad():
        expected = net(Trained.prepare(image[None]), upto="fc8")[0].numpy()
    np.testing.assert_allclose(maps["fc8"], expected, atol=1e-6)


def test_activation_maps_refuse_a_bad_stage_or_image():
    net = AlexNet(in_channels=1, image_size=28)
    image = np.zeros((28, 28), np.uint8)
    with pytest.raises(UnknownNameError, match="unknown stage 'conv7'"):
        activation_maps(net, image, ["conv7"])
    with pytest.raises(DataError, match=r"takes \(N, 1, 28, 28\)"):
        activation_maps(net, np.zeros((32, 32), np.uint8))
    with pytest.raises(DataError, match="expected an AlexNet or a TrainedCNN, got str"):
        activation_maps("net", image)


def test_photo_input_is_the_central_square_resized():
    from skimage import data
    from skimage.transform import resize

    photo = data.chelsea()  # (300, 451, 3), from the wheel: no download
    small = photo_input(photo, 32)
    assert small.shape == (32, 32, 3) and small.dtype == np.uint8
    left = (451 - 300) // 2
    reference = resize(photo[:, left : left + 300] / 255.0, (32, 32, 3), anti_aliasing=True)
    np.testing.assert_allclose(small / 255.0, reference, atol=1 / 255)
    grey = photo_input(photo, 28, channels=1)
    assert grey.shape == (28, 28, 1)
    # the cat's grey brightness is its colour image's luminance
    luminance = small.astype(float) @ np.array([0.2125, 0.7154, 0.0721])
    assert abs(grey.mean() - luminance.mean()) < 3
    with pytest.raises(DataError, match="expected \\(H, W, 3\\)"):
        photo_input(np.zeros((5, 5, 2)), 8)
