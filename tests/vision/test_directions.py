"""Directions in an embedding against numpy references: the class means, the per-group
differences and their cosines, the walk's endpoints, fc8 on walked embeddings against the
network's own fc8 forward (float64), marginal probabilities against a plain sum, and bad
attributes or values refused in one line."""

import numpy as np
import pytest
import torch

from genailab.errors import DataError, UnknownNameError
from genailab.vision.alexnet import AlexNet
from genailab.vision.directions import (
    Direction,
    attribute_direction,
    class_attribute,
    cosine_matrix,
    direction_consistency,
    fc8_logits,
    find_direction,
    group_directions,
    marginal,
    softmax,
    walk,
)

COLOURS = ("red", "green", "blue")


class Embedder:
    """A network and its embedding, as ``TrainedCNN.embed`` gives it (images in [0, 1])."""

    def __init__(self, model):
        self.model = model.eval()

    def embed(self, images, stage="fc7"):
        x = torch.from_numpy(np.asarray(images, np.float32) / 255).permute(0, 3, 1, 2)
        with torch.no_grad():
            return self.model(x, upto=stage).flatten(1).numpy()


@pytest.fixture(scope="module")
def data():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 240
    colour, shape = rng.integers(0, 3, n), rng.integers(0, 4, n)
    images = rng.integers(0, 256, size=(n, 12, 12, 3), dtype=np.uint8)
    net = Embedder(AlexNet(3, 12, 12, widths=(6, 6, 6, 6, 6), fc=(24, 24), kernel1=3))
    return net, images, {"colour": colour, "shape": shape}


def test_the_direction_is_the_difference_of_the_two_class_means(data):
    net, images, attributes = data
    E = net.embed(images).astype(np.float64)
    colour = attributes["colour"]
    d = attribute_direction(E, colour, "red", "blue", COLOURS, "colour")
    red = np.mean([E[i] for i in range(len(E)) if colour[i] == 0], axis=0)
    blue = np.mean([E[i] for i in range(len(E)) if colour[i] == 2], axis=0)
    np.testing.assert_allclose(d.vector, red - blue, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.towards_mean, red, rtol=1e-12)
    np.testing.assert_allclose(d.away_mean, blue, rtol=1e-12)
    assert (d.towards, d.away, d.towards_name, d.away_name) == (0, 2, "red", "blue")
    assert d.counts == (int((colour == 0).sum()), int((colour == 2).sum()))
    assert d.norm == pytest.approx(np.linalg.norm(red - blue), rel=1e-12)
    assert np.linalg.norm(d.unit) == pytest.approx(1.0, abs=1e-12)
    # codes and names give the same direction, and so do images through the network
    np.testing.assert_array_equal(attribute_direction(E, colour, 0, 2).vector, d.vector)
    found = find_direction(net, images, attributes, "colour", "red", "blue", COLOURS)
    np.testing.assert_allclose(found.vector, d.vector, rtol=1e-6, atol=1e-7)
    conv = find_direction(net, images, attributes, "shape", 1, 3, stage="conv3")
    flat = net.embed(images, "conv3").astype(np.float64)
    s = attributes["shape"]
    np.testing.assert_allclose(conv.vector, flat[s == 1].mean(0) - flat[s == 3].mean(0), atol=1e-7)
    assert conv.towards_name == "1" and conv.vector.shape == (6 * 3 * 3,)


def test_group_directions_and_their_consistency_against_a_loop(data):
    net, images, attributes = data
    E = net.embed(images).astype(np.float64)
    colour, shape = attributes["colour"], attributes["shape"]
    dirs, codes = group_directions(E, colour, 0, 2, shape)
    assert codes.tolist() == [0, 1, 2, 3]
    for g in range(4):
        red = E[(colour == 0) & (shape == g)].mean(axis=0)
        blue = E[(colour == 2) & (shape == g)].mean(axis=0)
        np.testing.assert_allclose(dirs[g], red - blue, rtol=1e-10, atol=1e-12)
    cosines = [
        dirs[a] @ dirs[b] / (np.linalg.norm(dirs[a]) * np.linalg.norm(dirs[b]))
        for a in range(4)
        for b in range(4)
        if a != b
    ]
    consistency = direction_consistency(E, colour, 0, 2, shape)
    assert consistency == pytest.approx(np.mean(cosines), abs=1e-12)
    np.testing.assert_allclose(np.diag(cosine_matrix(dirs)), 1.0, atol=1e-12)
    # a group that lacks one of the values is left out, not averaged as zero
    no_red_in_3 = ~((colour == 0) & (shape == 3))
    dirs3, codes3 = group_directions(E[no_red_in_3], colour[no_red_in_3], 0, 2, shape[no_red_in_3])
    assert codes3.tolist() == [0, 1, 2]
    np.testing.assert_allclose(dirs3, dirs[:3], rtol=1e-10, atol=1e-12)


def test_a_shift_shared_by_every_group_is_perfectly_consistent():
    rng = np.random.default_rng(3)
    base, shift = rng.normal(size=(5, 16)), rng.normal(size=16)
    shape = np.repeat(np.arange(5), 20)
    colour = np.tile([0, 1], 50)
    E = base[shape] + colour[:, None] * shift + 0.0  # red (1) = blue (0) + shift, per shape
    assert direction_consistency(E, colour, 1, 0, shape) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(attribute_direction(E, colour, 1, 0).vector, shift, atol=1e-12)


def test_the_walk_starts_at_the_embedding_and_ends_a_whole_difference_further(data):
    net, images, attributes = data
    E = net.embed(images).astype(np.float64)
    colour = attributes["colour"]
    d = attribute_direction(E, colour, "red", "blue", COLOURS, "colour")
    blue = E[colour == 2]
    path = walk(blue, d, np.linspace(0, 1, 5))
    assert path.shape == (5, len(blue), 24)
    np.testing.assert_array_equal(path[0], blue)
    np.testing.assert_allclose(path[-1], blue + d.vector, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(path[2], blue + 0.5 * d.vector, rtol=1e-12, atol=1e-12)
    # the blue images walked all the way have the red images' mean embedding, exactly
    np.testing.assert_allclose(path[-1].mean(axis=0), d.towards_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(walk(blue, d.vector, [1.0])[0], path[-1])


def test_fc8_on_walked_embeddings_is_the_networks_own_fc8_forward(data):
    net, images, attributes = data
    x = torch.from_numpy(images.astype(np.float32) / 255).permute(0, 3, 1, 2)
    with torch.no_grad():
        own = net.model(x).double().numpy()  # (N, 12) the whole forward pass
    E = net.embed(images)
    np.testing.assert_allclose(fc8_logits(net.model, E), own, rtol=1e-5, atol=1e-5)
    d = attribute_direction(E, attributes["colour"], 0, 2)
    path = walk(E, d, [0.0, 0.4, 1.5])  # (3, N, 24), off the images' own embeddings
    head = net.model.stages["fc8"].double()  # the network's own fc8 module, in float64
    try:
        with torch.no_grad():
            expected = head(torch.from_numpy(path)).numpy()
    finally:
        net.model.float()
    np.testing.assert_allclose(fc8_logits(net.model, path), expected, rtol=1e-12, atol=1e-12)
    # fc8 is linear: the logits move along a straight line as t grows
    logits = fc8_logits(net.model, walk(E[:4], d, [0.0, 1.0, 2.0]))
    np.testing.assert_allclose(logits[2] - logits[1], logits[1] - logits[0], atol=1e-10)


def test_marginal_probabilities_add_each_classs_probability_to_its_value():
    rng = np.random.default_rng(4)
    shapes, colours = rng.integers(0, 5, 600), rng.integers(0, 6, 600)
    labels = shapes * 6 + colours  # the "both" target of the shapes
    colour_of = class_attribute(labels, colours, 30)
    shape_of = class_attribute(labels, shapes, 30)
    assert colour_of.tolist() == [c % 6 for c in range(30)]
    assert shape_of.tolist() == [c // 6 for c in range(30)]
    P = softmax(rng.normal(size=(7, 30)))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    by_colour = marginal(P, colour_of)
    expected = [[sum(P[i, c] for c in range(30) if c % 6 == v) for v in range(6)] for i in range(7)]
    np.testing.assert_allclose(by_colour, expected, atol=1e-12)
    assert marginal(P, shape_of).shape == (7, 5)
    np.testing.assert_allclose(softmax([1000.0, 1000.0]), [0.5, 0.5])


def one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda n, i, a: find_direction(n, i, a, "hue", 0, 1), UnknownNameError, "'hue'"),
        (lambda n, i, a: find_direction(n, i, a, "color", 0, 1), UnknownNameError, "'colour'"),
        (
            lambda n, i, a: find_direction(n, i, a, "colour", "bleu", "red", COLOURS),
            UnknownNameError,
            "did you mean 'blue'",
        ),
        (
            lambda n, i, a: find_direction(n, i, a, "colour", "red", "blue"),
            UnknownNameError,
            "no names given",
        ),
        (lambda n, i, a: find_direction(n, i, a, "colour", 1, 1), DataError, "the same colour"),
        (lambda n, i, a: find_direction(n, i, a, "colour", 0, 7), DataError, "present: 0, 1, 2"),
        (lambda n, i, a: find_direction(n, i, a, "colour", 0, 2.0), DataError, "got 2.0"),
        (lambda n, i, a: find_direction(n, i, a, "colour", True, 2), DataError, "got True"),
        (
            lambda n, i, a: attribute_direction(np.ones((3, 2)), [0, 1], 0, 1),
            DataError,
            "one value per embedding (3)",
        ),
        (
            lambda n, i, a: attribute_direction(np.ones((2, 2)), [0.0, 1.0], 0, 1),
            DataError,
            "integer codes",
        ),
        (
            lambda n, i, a: attribute_direction(np.ones((2, 2)), [0, 1], 0, 1),
            DataError,
            "same mean embedding",
        ),
        (lambda n, i, a: walk(np.ones((2, 3)), np.ones(4), [0.0]), DataError, "shape (3,)"),
        (lambda n, i, a: walk(np.ones((2, 3)), np.ones(3), []), DataError, "steps"),
        (lambda n, i, a: fc8_logits(n.model, np.ones((2, 5))), DataError, "24 units"),
        (lambda n, i, a: fc8_logits(torch.nn.ReLU(), np.ones(3)), DataError, "ReLU"),
        (lambda n, i, a: class_attribute([0, 0], [0, 1], 1), DataError, "not a function"),
        (lambda n, i, a: class_attribute([0, 0], [0, 0], 2), DataError, "class 1 has no"),
        (lambda n, i, a: marginal(np.ones((1, 3)), [0, 1]), DataError, "3 int codes"),
        (
            lambda n, i, a: direction_consistency(np.eye(2), [0, 1], 0, 1, [0, 0]),
            DataError,
            "at least two groups",
        ),
    ],
)
def test_bad_attributes_and_values_are_refused_in_one_line(data, call, error, words):
    net, images, attributes = data
    with pytest.raises(error) as err:
        call(net, images, attributes)
    assert words in one_line(err)


def test_a_direction_is_a_plain_frozen_record():
    d = attribute_direction([[1.0], [3.0]], [0, 1], 1, 0)
    assert isinstance(d, Direction) and d.vector.tolist() == [2.0]
    with pytest.raises(AttributeError):
        d.towards = 5
