"""Nearest neighbours in a network's embedding and in pixels, against scikit-learn's
``NearestNeighbors`` on the same vectors, the label agreement against a plain count, the pixel
ranks against a float64 argsort, and bad input refused in one line."""

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from genailab.errors import ConfigError, DataError
from genailab.vision.alexnet import AlexNet
from genailab.vision.neighbours import (
    agreement_per_query,
    embedding_neighbours,
    label_agreement,
    nearest,
    pixel_neighbours,
    pixel_ranks,
    pixel_vectors,
)


class Embedder:
    """A network and its embedding, as ``TrainedCNN.embed`` gives it (images in [0, 1])."""

    def __init__(self, model):
        self.model = model.eval()

    def embed(self, images, stage="fc7"):
        x = torch.from_numpy(pixel_vectors(images).reshape(images.shape)).permute(0, 3, 1, 2)
        with torch.no_grad():
            return self.model(x, upto=stage).flatten(1).numpy()


@pytest.fixture(scope="module")
def data():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(300, 16, 16, 3), dtype=np.uint8)
    query = rng.integers(0, 256, size=(40, 16, 16, 3), dtype=np.uint8)
    net = Embedder(AlexNet(3, 16, 4, widths=(8, 8, 8, 8, 8), fc=(32, 32), kernel1=3))
    return net, train, query


def reference(X, Q, k, metric):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric)
    distances, indices = nn.fit(X.astype(np.float64)).kneighbors(Q.astype(np.float64))
    return distances, indices


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("stage", ["fc7", "conv5"])
def test_embedding_neighbours_are_scikit_learns_on_the_models_own_vectors(data, metric, stage):
    net, train, query = data
    found = embedding_neighbours(net, train, query, k=6, stage=stage, metric=metric)
    X, Q = net.embed(train, stage), net.embed(query, stage)  # the forward pass, on its own
    assert X.shape == (300, 32 if stage == "fc7" else 8 * 4 * 4)
    distances, indices = reference(X, Q, 6, "euclidean" if metric == "l2" else "cosine")
    np.testing.assert_array_equal(found.indices, indices)
    np.testing.assert_allclose(found.distances, distances, rtol=2e-5, atol=1e-6)
    assert found.space == stage and found.metric == metric and found.k == 6


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_pixel_neighbours_are_scikit_learns_on_the_pixels_in_0_1(data, metric):
    _, train, query = data
    found = pixel_neighbours(train, query, k=5, metric=metric)
    X = train.reshape(300, -1) / 255.0
    Q = query.reshape(40, -1) / 255.0
    distances, indices = reference(X, Q, 5, "euclidean" if metric == "l2" else "cosine")
    np.testing.assert_array_equal(found.indices, indices)
    np.testing.assert_allclose(found.distances, distances, rtol=2e-5, atol=1e-6)
    assert found.space == "pixels"


def test_float_images_are_taken_as_they_are_and_grey_ones_as_well():
    rng = np.random.default_rng(1)
    train, query = rng.random((80, 6, 6)), rng.random((7, 6, 6))
    found = pixel_neighbours(train, query, k=3)
    distances, indices = reference(train.reshape(80, -1), query.reshape(7, -1), 3, "euclidean")
    np.testing.assert_array_equal(found.indices, indices)
    np.testing.assert_allclose(found.distances, distances, rtol=1e-5)


def test_label_agreement_is_the_share_of_neighbours_with_the_querys_label():
    rng = np.random.default_rng(2)
    y_train, y_query = rng.integers(0, 4, 500), rng.integers(0, 4, 60)
    indices = rng.integers(0, 500, size=(60, 7))
    same = 0
    for i in range(60):  # the brute-force count
        for j in indices[i]:
            same += int(y_train[j] == y_query[i])
    assert label_agreement(indices, y_train, y_query) == pytest.approx(same / (60 * 7), abs=1e-15)
    per_query = agreement_per_query(indices, y_train, y_query)
    expected = [np.count_nonzero(y_train[indices[i]] == y_query[i]) / 7 for i in range(60)]
    np.testing.assert_allclose(per_query, expected, atol=1e-15)
    # a query whose neighbours all carry its label, and one whose none do
    assert agreement_per_query([[0, 1], [0, 1]], [3, 3], [3, 2]).tolist() == [1.0, 0.0]


def test_agreement_of_found_neighbours_is_counted_on_their_indices(data):
    net, train, query = data
    y_train, y_query = np.arange(300) % 3, np.arange(40) % 3
    found = embedding_neighbours(net, train, query, k=4)
    same = np.mean([[y_train[j] == y_query[i] for j in row] for i, row in enumerate(found.indices)])
    assert found.agreement(y_train, y_query) == pytest.approx(same, abs=1e-15)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_pixel_ranks_count_the_training_images_nearer_in_pixels(data, metric):
    net, train, query = data
    indices = embedding_neighbours(net, train, query, k=5).indices
    ranks, shares = pixel_ranks(train, query, indices, metric=metric)
    X = train.reshape(300, -1).astype(np.float64) / 255
    Q = query.reshape(40, -1).astype(np.float64) / 255
    if metric == "cosine":
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    d = ((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1)  # (q, n) float64
    rank_of = np.argsort(np.argsort(d, axis=1), axis=1)  # (q, n): 0 for the nearest
    np.testing.assert_array_equal(ranks, np.take_along_axis(rank_of, indices, axis=1))
    np.testing.assert_allclose(shares, ranks / 300)
    # any int dtype and memory order of the indices gives the same ranks
    again = pixel_ranks(train, query, np.asfortranarray(indices.astype(np.int32)), metric=metric)
    np.testing.assert_array_equal(again[0], ranks)
    # the pixel neighbours themselves rank 0, 1, 2, ... in pixels
    own = pixel_neighbours(train, query, k=5, metric=metric).indices
    assert pixel_ranks(train, query, own, metric=metric)[0].tolist() == [[0, 1, 2, 3, 4]] * 40


def test_a_query_that_is_a_training_image_finds_itself_first(data):
    net, train, _ = data
    found = embedding_neighbours(net, train, train[:10], k=2)
    assert found.indices[:, 0].tolist() == list(range(10))
    assert np.all(found.distances[:, 0] < 1e-3)


def one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda n, t, q: embedding_neighbours(n, t, q, k=0), DataError, "k must be an int in"),
        (lambda n, t, q: embedding_neighbours(n, t, q, k=301), DataError, "got 301"),
        (lambda n, t, q: pixel_neighbours(t, q, k=2.5), DataError, "got 2.5"),
        (lambda n, t, q: pixel_neighbours(t, q, metric="manhattan"), ConfigError, "'manhattan'"),
        (lambda n, t, q: embedding_neighbours(n, t, q, metric="ip"), ConfigError, "l2, cosine"),
        (lambda n, t, q: pixel_neighbours(t, q[:, :8]), DataError, "both must have one size"),
        (lambda n, t, q: pixel_neighbours(t[0, :, :, 0], q), DataError, "got shape (16, 16)"),
        (lambda n, t, q: pixel_neighbours(t.astype(np.int32), q), DataError, "dtype int32"),
        (lambda n, t, q: pixel_neighbours(t[:0], q), DataError, "holds no images"),
        (lambda n, t, q: pixel_ranks(t, q, [[0, 300]] * 40), DataError, "[0, 300)"),
        (lambda n, t, q: pixel_ranks(t, q, [[0, 1]] * 3), DataError, "3 rows, for 40"),
        (lambda n, t, q: pixel_ranks(t, q, np.zeros((40, 2))), DataError, "2-D int array"),
        (lambda n, t, q: label_agreement([[0]], [0] * 5, [0] * 2), DataError, "per query (1)"),
        (lambda n, t, q: nearest(np.ones((3, 2)), np.ones((1, 3))), DataError, "dimension 3"),
    ],
)
def test_bad_input_is_refused_in_one_line_naming_the_value(data, call, error, words):
    net, train, query = data
    with pytest.raises(error) as err:
        call(net, train, query)
    assert words in one_line(err)


def test_nan_pixels_and_a_zero_image_under_cosine_are_refused():
    bad = np.zeros((4, 3, 3))
    bad[2, 1, 1] = np.nan
    with pytest.raises(DataError) as err:
        pixel_neighbours(bad, np.zeros((1, 3, 3)), k=1)
    assert "row 2" in one_line(err)
    with pytest.raises(DataError) as err:
        pixel_neighbours(np.ones((4, 3, 3)), np.zeros((1, 3, 3)), k=1, metric="cosine")
    assert "zero" in one_line(err)
