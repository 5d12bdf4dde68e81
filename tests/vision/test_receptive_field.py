"""Receptive fields computed from the kernel/stride/padding chain against empirical ones: the
input pixels on which one unit's gradient is non-zero, in a network where nothing cancels."""

import numpy as np
import pytest
import torch
from torch import nn

from genailab.errors import ConfigError, DataError, UnknownNameError
from genailab.vision.alexnet import AlexNet
from genailab.vision.receptive_field import (
    SPATIAL_STAGES,
    ReceptiveField,
    layer_geometry,
    receptive_field,
    receptive_fields,
)


def positive_network(image_size, in_channels=1, kernel1=5, widths=(3, 3, 3, 3, 3)):
    """An AlexNet whose weights and biases are all positive and whose max pools average (same
    window, stride, padding): every unit then depends, with a positive gradient, on every
    input pixel of its window, so the gradient's support is the receptive field (clipped)."""
    torch.manual_seed(0)
    net = AlexNet(in_channels, image_size, n_classes=2, widths=widths, fc=(4, 4), kernel1=kernel1)
    for name in SPATIAL_STAGES:
        stage = net.stages[name]
        for i, module in enumerate(stage):
            if isinstance(module, nn.MaxPool2d):
                stage[i] = nn.AvgPool2d(module.kernel_size, module.stride, module.padding)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(0.1, 1.0)
    return net.double().eval()


def gradient_support(net, stage, y, x, image_size, in_channels=1):
    """(top, bottom, left, right) of the non-zero gradient of unit (0, y, x), and whether the
    support fills that box."""
    image = torch.rand(1, in_channels, image_size, image_size, dtype=torch.float64)
    image.requires_grad_(True)
    net(image, upto=stage)[0, 0, y, x].backward()
    nonzero = (image.grad[0] != 0).any(dim=0).numpy()  # (H, W)
    rows, cols = np.flatnonzero(nonzero.any(axis=1)), np.flatnonzero(nonzero.any(axis=0))
    box = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
    filled = nonzero[box[0] : box[1], box[2] : box[3]].all()
    return tuple(int(b) for b in box), bool(filled)


@pytest.mark.parametrize(("image_size", "kernel1"), [(28, 5), (32, 3)])
def test_every_stage_matches_the_gradient_support_at_corners_edges_and_centre(image_size, kernel1):
    net = positive_network(image_size, kernel1=kernel1)
    fields = receptive_fields(net)
    with torch.no_grad():
        sides = {
            s: net(torch.zeros(1, 1, image_size, image_size).double(), upto=s).shape[-1]
            for s in SPATIAL_STAGES
        }
    for stage in SPATIAL_STAGES:
        n = sides[stage]
        for y, x in {(0, 0), (n - 1, n - 1), (0, n - 1), (n // 2, n // 2), (1, n // 2)}:
            support, filled = gradient_support(net, stage, y, x, image_size)
            assert filled, (stage, y, x)
            assert support == fields[stage].box(y, x, image_size, image_size), (stage, y, x)


def test_on_a_large_image_the_central_unit_sees_exactly_size_by_size_pixels():
    net = positive_network(160, in_channels=3, kernel1=7)
    for stage, field in receptive_fields(net).items():
        # a unit whose window lies inside the image: no clipping at all
        y = (-field.start) // field.jump + 1
        top, bottom = field.window(y)
        assert top >= 0 and bottom <= 160, stage
        support, filled = gradient_support(net, stage, y, y, 160, in_channels=3)
        assert filled and support == (top, bottom, top, bottom), stage
        assert bottom - top == field.size
    # the chain by hand for kernel1=7: (size, jump, start) after each layer
    expected = {
        "conv1": (7, 1, -3),
        "pool1": (9, 2, -4),
        "conv2": (17, 2, -8),
        "pool2": (21, 4, -10),
        "conv3": (29, 4, -14),
        "conv4": (37, 4, -18),
        "conv5": (45, 4, -22),
        "pool5": (53, 8, -26),
    }
    got = {s: (f.size, f.jump, f.start) for s, f in receptive_fields(net).items()}
    assert got == expected


def test_the_real_max_pooled_network_depends_on_no_pixel_outside_the_field():
    torch.manual_seed(2)
    net = AlexNet(1, 28, n_classes=2, widths=(4, 4, 4, 4, 4), fc=(4, 4)).double().eval()
    fields = receptive_fields(net)
    for stage in ("pool1", "conv3", "pool5"):
        image = torch.rand(8, 1, 28, 28, dtype=torch.float64, requires_grad=True)
        out = net(image, upto=stage)
        y, x = out.shape[-2] // 2, 1
        out[:, :, y, x].sum().backward()
        top, bottom, left, right = fields[stage].box(y, x, 28, 28)
        outside = image.grad.abs().sum(dim=(0, 1)).clone()
        outside[top:bottom, left:right] = 0
        assert outside.max() == 0 and image.grad.abs().sum() > 0, stage


def test_the_field_ignores_normalisation_and_a_trained_wrapper():
    plain, with_lrn = AlexNet(image_size=32), AlexNet(image_size=32, lrn=True)

    class Trained:
        model = plain

    assert receptive_fields(plain) == receptive_fields(with_lrn) == receptive_fields(Trained())
    assert receptive_field(Trained(), "conv2") == receptive_fields(plain)["conv2"]


def test_boxes_are_clipped_at_the_borders_and_half_open():
    field = ReceptiveField(size=9, jump=2, start=-4)
    assert field.box(0, 0, 20, 20) == (0, 5, 0, 5)
    assert field.box(9, 3, 20, 20) == (14, 20, 2, 11)  # rows 14..22 clipped at 20
    assert field.box(5, 5, 20, 20) == (6, 15, 6, 15)  # inside: the whole 9 x 9
    assert field.then(3, stride=2, padding=1) == ReceptiveField(13, 4, -6)
    assert field.then(3, dilation=2) == ReceptiveField(17, 2, -4)


def test_bad_stage_and_layers_get_one_line_errors():
    net = AlexNet(image_size=32)
    with pytest.raises(UnknownNameError, match=r"unknown stage 'fc7'.*accepted: conv1, pool1"):
        receptive_field(net, "fc7")
    with pytest.raises(UnknownNameError, match="unknown stage 'conv9'"):
        receptive_field(net, "conv9")
    with pytest.raises(ConfigError, match="Conv2d has kernel_size=\\(3, 5\\)"):
        layer_geometry(nn.Conv2d(1, 1, (3, 5)))
    with pytest.raises(ConfigError, match="padding='same'"):
        layer_geometry(nn.Conv2d(1, 1, 3, padding="same"))
    with pytest.raises(DataError, match="expected an AlexNet, got Linear"):
        receptive_fields(nn.Linear(2, 2))
