"""The activation atlas's pieces against references: PCA and trustworthiness against
scikit-learn, the grid against a plain loop, purity on a hand-made layout."""

from __future__ import annotations

import numpy as np
import pytest

from genailab.errors import DataError
from genailab.vision import atlas as A

sklearn = pytest.importorskip("sklearn")
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import trustworthiness as sk_trustworthiness  # noqa: E402


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three anisotropic clusters in 8-D with labels, (300, 8) and (300,)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (3, 8))
    scales = np.linspace(3, 0.2, 8)
    labels = np.repeat(np.arange(3), 100)
    X = centres[labels] + rng.normal(size=(300, 8)) * scales
    return X, labels


@pytest.fixture(scope="module")
def tiny_cnn():
    import torch

    from genailab.vision.alexnet import AlexNet
    from genailab.vision.trained import TrainedCNN

    torch.manual_seed(0)
    return TrainedCNN(AlexNet(1, 16, 3), "abc", [0.5], [0.25], device="cpu")


# ------------------------------------------------------------------------------ PCA


@pytest.mark.parametrize("k", [1, 2, 3])
def test_pca_equals_sklearn_up_to_sign(blobs, k):
    X, _ = blobs
    ours = A.pca_layout(X, k).astype(np.float64)
    ref = PCA(n_components=k, svd_solver="full").fit_transform(X)
    signs = np.sign((ours * ref).sum(axis=0))  # (k,) each axis may flip
    np.testing.assert_allclose(ours, ref * signs, rtol=1e-4, atol=1e-4)


def test_pca_sign_is_fixed_by_the_largest_loading(blobs):
    X, _ = blobs
    Y = A.pca_layout(X, 2).astype(np.float64)
    # the loading on each axis is the regression of the centred data on the coordinate
    loadings = (X - X.mean(0)).T @ Y  # (d, 2), proportional to V
    assert (loadings[np.abs(loadings).argmax(0), [0, 1]] > 0).all()
    np.testing.assert_array_equal(A.pca_layout(X[::-1], 2)[::-1], Y.astype(np.float32))


# ------------------------------------------------------------------------------ trustworthiness


@pytest.mark.parametrize("k", [1, 5, 12])
def test_trustworthiness_equals_sklearn(blobs, k):
    X, _ = blobs
    rng = np.random.default_rng(1)
    for Y in (A.pca_layout(X), rng.normal(size=(300, 2)), X[:, :2] + rng.normal(size=(300, 2))):
        assert A.trustworthiness(X, Y, k) == pytest.approx(
            sk_trustworthiness(X, Y, n_neighbors=k), abs=1e-12
        )


def test_trustworthiness_is_one_for_an_isometry_and_low_for_noise(blobs):
    X, _ = blobs
    rotated = X @ np.linalg.qr(np.random.default_rng(2).normal(size=(8, 8)))[0]
    assert A.trustworthiness(X, rotated, 5) == pytest.approx(1.0)
    noise = np.random.default_rng(3).normal(size=(300, 2))
    assert A.trustworthiness(X, noise, 5) < 0.6


# ------------------------------------------------------------------------------ the grid


def brute_force_grid(coords, vectors, labels, size, min_count):
    """The grid with a plain loop over the points."""
    lo, hi = coords.min(0), coords.max(0)
    cells: dict[int, list[int]] = {}
    for i, (cx, cy) in enumerate(coords):
        col = min(int((cx - lo[0]) / (hi[0] - lo[0]) * size), size - 1)
        row = min(int((cy - lo[1]) / (hi[1] - lo[1]) * size), size - 1)
        cells.setdefault(row * size + col, []).append(i)
    kept = sorted(c for c, members in cells.items() if len(members) >= min_count)
    means = np.array([vectors[cells[c]].mean(0) for c in kept])
    purity = [np.bincount(labels[cells[c]]).max() / len(cells[c]) for c in kept]
    weighted = sum(np.bincount(labels[cells[c]]).max() for c in kept) / sum(
        len(cells[c]) for c in kept
    )
    return kept, means, np.array(purity), weighted, cells


@pytest.mark.parametrize("size,min_count", [(4, 1), (7, 5), (12, 3)])
def test_grid_equals_a_loop(blobs, size, min_count):
    X, labels = blobs
    Y = A.pca_layout(X)
    g = A.grid_cells(Y, X, labels, size, min_count)
    kept, means, purity, weighted, cells = brute_force_grid(
        Y.astype(np.float64), X, labels, size, min_count
    )
    assert g.kept.tolist() == kept
    np.testing.assert_allclose(g.means, means, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g.cell_purity, purity)
    assert g.purity == pytest.approx(weighted)
    assert g.counts.sum() == len(X) and g.counts[g.kept].tolist() == [len(cells[c]) for c in kept]
    np.testing.assert_array_equal(g.rows * size + g.cols, g.kept)


def test_min_count_drops_sparse_cells():
    # 2 x 2 grid: 7 points in the bottom-left cell (with the corner (0, 0)), 3 in the top-right
    # (with the corner (1, 1), which belongs to the last cell), 1 in the bottom-right
    coords = np.array([[0.1, 0.1]] * 6 + [[0.9, 0.9]] * 2 + [[0.9, 0.1], [0.0, 0.0], [1, 1]])
    vectors = np.arange(len(coords), dtype=float)[:, None]
    g = A.grid_cells(coords, vectors, size=2, min_count=4)
    assert g.kept.tolist() == [0]
    assert g.counts.tolist() == [7, 1, 0, 3]
    g = A.grid_cells(coords, vectors, size=2, min_count=2)
    assert g.kept.tolist() == [0, 3]
    np.testing.assert_allclose(g.means.ravel(), [np.mean([0, 1, 2, 3, 4, 5, 9]), 23 / 3])
    assert A.grid_cells(coords, vectors, size=2, min_count=1).kept.tolist() == [0, 1, 3]
    assert np.isnan(g.purity) and (g.majority == -1).all()
    assert A.grid_cells(coords, vectors, size=2, min_count=100).means.shape == (0, 1)


def test_purity_on_a_hand_made_layout():
    # left cell: labels 0, 0, 0, 1 (purity 3/4); right cell: 2, 2 (purity 1)
    coords = np.array([[0, 0], [0.1, 0], [0.2, 0], [0.3, 0], [1, 0], [0.9, 0]])
    labels = np.array([0, 0, 0, 1, 2, 2])
    g = A.grid_cells(coords, np.zeros((6, 3)), labels, size=2, min_count=1)
    assert g.kept.tolist() == [0, 1]
    assert g.majority.tolist() == [0, 2]
    assert g.cell_purity.tolist() == [0.75, 1.0]
    assert g.purity == pytest.approx(5 / 6)
    assert A.chance_purity(labels, g) == pytest.approx(3 / 6)
    # separated labels are pure; one big cell is only as pure as chance
    assert A.grid_cells(coords, np.zeros((6, 3)), labels, size=1, min_count=1).purity == 0.5


def test_umap_separates_clusters_better_than_noise(blobs):
    X, labels = blobs
    Y = A.umap_layout(X, n_neighbors=10, n_epochs=60, seed=0)
    assert Y.shape == (300, 2) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y, A.umap_layout(X, n_neighbors=10, n_epochs=60, seed=0))
    assert A.trustworthiness(X, Y, 5) > 0.9
    assert A.grid_cells(Y, X, labels, 6, 3).purity > 0.95


def test_exact_knn_matches_sklearn(blobs):
    from sklearn.neighbors import NearestNeighbors

    X, _ = blobs
    idx, dist = A.exact_knn(X, 6)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    np.testing.assert_array_equal(idx[:, 0], np.arange(len(X)))
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(idx[:, 1:], ref_idx[:, 1:])


# ------------------------------------------------------------------------------ the network side


def test_collect_patches_keeps_image_position_and_label(tiny_cnn):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 16, 16, 1), dtype=np.uint8)
    labels = np.array([0, 1, 2, 1, 0])
    p = A.collect_patches(tiny_cnn, images, labels, "conv3", max_patches=40, seed=1)
    acts = tiny_cnn.activations(images, ["conv3"])["conv3"]  # (5, C, H, W)
    assert len(p) == 40 and p.vectors.shape == (40, acts.shape[1])
    np.testing.assert_array_equal(p.vectors, acts[p.image, :, p.y, p.x])
    np.testing.assert_array_equal(p.labels, labels[p.image])
    everything = A.collect_patches(tiny_cnn, images, labels, "conv3", max_patches=None)
    assert len(everything) == 5 * acts.shape[2] * acts.shape[3]


def test_cell_crops_average_the_receptive_field_windows(tiny_cnn):
    from genailab.vision.receptive_field import receptive_field

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 16, 16, 1), dtype=np.uint8)
    p = A.collect_patches(tiny_cnn, images, [0, 1, 2], "conv2", max_patches=30)
    g = A.grid_cells(A.pca_layout(p.vectors), p.vectors, p.labels, 3, 2)
    crops = A.cell_crops(tiny_cnn, images, p, g)
    rf = receptive_field(tiny_cnn, "conv2")
    assert crops.shape == (len(g.kept), rf.size, rf.size, 1)
    c = g.kept[0]
    members = np.flatnonzero(g.cell == c)
    padded = np.pad(images / 255.0, ((0, 0), (rf.size, rf.size), (rf.size, rf.size), (0, 0)))
    windows = []
    for i in members:
        top, left = rf.start + p.y[i] * rf.jump + rf.size, rf.start + p.x[i] * rf.jump + rf.size
        windows.append(padded[p.image[i], top : top + rf.size, left : left + rf.size])
    np.testing.assert_allclose(crops[0], np.mean(windows, axis=0), atol=1e-6)


def test_cell_tiles_point_along_their_means(tiny_cnn):
    C = tiny_cnn.activations(np.zeros((1, 16, 16, 1), np.uint8), ["conv3"])["conv3"].shape[1]
    means = np.eye(C, dtype=np.float32)[[0, 5, 10]] + 0.05  # (3, C), three distinct directions
    tiles = A.cell_tiles(tiny_cnn, "conv3", means, steps=16, device="cpu")
    assert tiles.shape == (3, 16, 16, 1) and tiles.min() >= 0 and tiles.max() <= 1
    acts = tiny_cnn.activations(tiles, ["conv3"])["conv3"].mean((2, 3))  # (3, C)
    cos = (acts / np.linalg.norm(acts, axis=1, keepdims=True)) @ (
        means / np.linalg.norm(means, axis=1, keepdims=True)
    ).T  # (3 tiles, 3 means)
    assert cos.argmax(axis=0).tolist() == [0, 1, 2]  # each mean is best met by its own tile


# ------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: A.pca_layout(np.zeros(5)), r"X must be \(n, d\)"),
        (lambda: A.pca_layout(np.zeros((5, 3)), 4), "n_components must be <= min"),
        (lambda: A.pca_layout([[np.nan, 1.0], [1, 2]]), "NaN"),
        (lambda: A.trustworthiness(np.zeros((10, 2)), np.zeros((9, 2))), "same number"),
        (lambda: A.trustworthiness(np.zeros((10, 2)), np.zeros((10, 2)), 5), "k must be < n / 2"),
        (lambda: A.grid_cells(np.zeros((4, 3)), np.zeros((4, 1))), r"coords must be \(P, 2\)"),
        (lambda: A.grid_cells(np.zeros((4, 2)), np.zeros((3, 1))), "one row per point"),
        (lambda: A.grid_cells(np.zeros((4, 2)), np.zeros((4, 1)), size=0), "size must be"),
        (lambda: A.grid_cells(np.zeros((4, 2)), np.zeros((4, 1)), min_count=0), "min_count"),
        (lambda: A.grid_cells(np.zeros((2, 2)), np.zeros((2, 1)), [0.5, 1]), "labels must be"),
        (lambda: A.umap_layout(np.zeros((10, 3)), n_neighbors=10), "n_neighbors must be <"),
        (lambda: A.exact_knn(np.zeros((3, 2)), 4), "k must be <="),
    ],
)
def test_bad_inputs_give_one_line_errors(call, match):
    with pytest.raises(DataError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_collect_patches_rejects_a_fc_stage_and_bad_labels(tiny_cnn):
    from genailab.errors import UnknownNameError

    images = np.zeros((2, 16, 16, 1), np.uint8)
    with pytest.raises(UnknownNameError, match="unknown stage 'fc7'"):
        A.collect_patches(tiny_cnn, images, [0, 1], "fc7")
    with pytest.raises(DataError, match="labels must be"):
        A.collect_patches(tiny_cnn, images, [0, 1, 2], "conv3")
    with pytest.raises(DataError, match="max_patches"):
        A.collect_patches(tiny_cnn, images, [0, 1], "conv3", max_patches=0)
