"""The activation atlas: what a conv stage sees in every part of many images, laid out on a map.

Carter, Armstrong, Schubert, Johnson and Olah (2019, "Activation Atlas", Distill) collect the
activations of a stage at many spatial positions of many images: each position's channel vector
is a **patch** (the receptive-field window of the image that produced it). The patches are laid
out in 2-D so that similar vectors land close together (UMAP: McInnes, Healy and Melville,
2018), a grid is put over the layout, the vectors falling in each cell are averaged (cells with
too few points are dropped), and each kept cell is drawn as the **feature visualisation** of its
mean activation: an image optimised so that the stage's activation points along that mean
(:func:`genailab.vision.feature_vis.visualize` with a ``direction`` objective). Neighbouring
tiles then show neighbouring concepts.

This module has the pieces, each checkable on its own:

- :func:`collect_patches`: the (image, y, x) positions of a stage, subsampled, with their
  vectors and labels;
- :func:`pca_layout` (our own, by SVD) and :func:`umap_layout` (``umap-learn``, seeded);
- :func:`trustworthiness` (Venna and Kaski, 2001): how far the 2-D neighbours of each point
  were from it in the original space, 1 when every 2-D neighbour is a true neighbour;
- :func:`grid_cells`: the grid, the per-cell means, ``min_count``, the per-cell label
  purity (the share of a cell's points carrying its majority label, weighted by count);
- :func:`cell_tiles` (feature visualisation) and :func:`cell_crops` (the mean of the cells'
  receptive-field crops, a cheap picture of what fell there);
- :func:`build_atlas`: all of it for one network.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 6)).astype(np.float32)
>>> Y = pca_layout(X)
>>> Y.shape, round(trustworthiness(X, Y, k=5), 2) > 0.5
((200, 2), True)
>>> grid = grid_cells(Y, X, labels=rng.integers(0, 2, 200), size=4, min_count=5)
>>> grid.means.shape[1], bool(0.5 <= grid.purity <= 1)
(6, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from genailab.errors import DataError
from genailab.vision.alexnet import check_stage
from genailab.vision.receptive_field import SPATIAL_STAGES, receptive_field

# ------------------------------------------------------------------------------ patches


@dataclass
class Patches:
    """Activation vectors of one stage at many (image, y, x) positions.

    Attributes
    ----------
    vectors : ndarray, (P, C) float32
        The stage's channel vector at each position.
    image : ndarray, (P,) int64
        The index of the image (in the images given) each patch comes from.
    y, x : ndarray, (P,) int64
        The position in the stage's (H, W) map.
    labels : ndarray, (P,) int64
        The label of the patch's image.
    stage : str
    """

    vectors: np.ndarray
    image: np.ndarray
    y: np.ndarray
    x: np.ndarray
    labels: np.ndarray
    stage: str

    def __len__(self) -> int:
        return len(self.vectors)


def _positive_int(value: Any, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise DataError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def collect_patches(
    cnn: Any,
    images: Any,
    labels: Any,
    stage: str = "conv4",
    *,
    max_patches: int | None = 2000,
    seed: int = 0,
    batch_size: int = 256,
) -> Patches:
    """Every spatial position of ``stage`` over ``images`` as a patch, subsampled at random.

    Parameters
    ----------
    cnn : TrainedCNN
    images : array (N, H, W, C)
        uint8 or floats in [0, 1], as :meth:`TrainedCNN.prepare` takes them.
    labels : array (N,)
        Integer labels; each patch carries its image's.
    stage : str
        A conv or pool stage (``conv1`` .. ``pool5``).
    max_patches : int or None
        Keep this many of the ``N * H * W`` positions, drawn without replacement (all when
        None or when there are fewer).
    seed : int
        Seeds the draw.

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> from genailab.vision.trained import TrainedCNN
    >>> cnn = TrainedCNN(AlexNet(1, 16, 3), "abc", [0.5], [0.25], device="cpu")
    >>> p = collect_patches(cnn, np.zeros((4, 16, 16, 1), np.uint8), [0, 1, 2, 0], "conv5",
    ...                     max_patches=10)
    >>> len(p), p.vectors.shape[1], sorted(set(p.labels.tolist())) <= [0, 1, 2]
    (10, 64, True)
    """
    check_stage(stage, SPATIAL_STAGES)
    labels = np.asarray(labels)
    array = cnn.check_images(images)
    if labels.shape != (len(array),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"labels must be (N,) integers, one per image, got shape {labels.shape} "
            f"{labels.dtype} for {len(array)} images"
        )
    if len(array) == 0:
        raise DataError("collect_patches: no images given")
    if max_patches is not None:
        max_patches = _positive_int(max_patches, "max_patches")
    acts = cnn.activations(array, [stage], batch_size=batch_size)[stage]  # (N, C, H, W)
    N, _, H, W = acts.shape
    total = N * H * W
    rng = np.random.default_rng(seed)
    if max_patches is None or max_patches >= total:
        flat = np.arange(total)
    else:
        flat = np.sort(rng.choice(total, size=max_patches, replace=False))  # (P,)
    image, rest = np.divmod(flat, H * W)
    y, x = np.divmod(rest, W)
    vectors = acts.transpose(0, 2, 3, 1)[image, y, x]  # (P, C)
    return Patches(
        np.ascontiguousarray(vectors, dtype=np.float32),
        image.astype(np.int64),
        y.astype(np.int64),
        x.astype(np.int64),
        labels[image].astype(np.int64),
        stage,
    )


# ------------------------------------------------------------------------------ layouts


def _points(X: Any, what: str = "X", min_rows: int = 2) -> np.ndarray:
    array = np.asarray(X, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < min_rows or array.shape[1] < 1:
        raise DataError(
            f"{what} must be (n, d) with n >= {min_rows} points, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise DataError(f"{what} holds NaN or infinite values")
    return array


def pca_layout(X: Any, n_components: int = 2) -> np.ndarray:
    """The points projected on their first ``n_components`` principal axes, (n, n_components).

    Centre the points and take the SVD ``Xc = U S V^T``; the principal axes are the rows of
    ``V^T`` (in order of decreasing variance ``S^2 / (n - 1)``) and the projection is
    ``Xc V = U S``. An axis's sign is arbitrary: each is flipped so that its largest loading
    is positive (scikit-learn's convention), which makes the result reproducible.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [2.0, 0.1], [4.0, 0.0]])
    >>> np.round(pca_layout(X, 1), 3).ravel().tolist()
    [-2.0, 0.0, 2.0]
    """
    Xc = _points(X)
    n_components = _positive_int(n_components, "n_components")
    if n_components > min(Xc.shape):
        raise DataError(f"n_components must be <= min(n, d) = {min(Xc.shape)}, got {n_components}")
    Xc = Xc - Xc.mean(axis=0)  # (n, d)
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)  # (n, r), (r,), (r, d)
    Vt = Vt[:n_components]
    signs = np.sign(Vt[np.arange(n_components), np.abs(Vt).argmax(axis=1)])  # (k,)
    signs[signs == 0] = 1.0
    return (U[:, :n_components] * S[:n_components] * signs).astype(np.float32)  # (n, k)


def exact_knn(X: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each point's ``k`` nearest points (itself first, at distance 0), exact Euclidean:
    indices (n, k) int64 and distances (n, k) float32, as UMAP's ``precomputed_knn`` takes.

    Examples
    --------
    >>> idx, dist = exact_knn(np.array([[0.0], [1.0], [3.0]]), 2)
    >>> idx.tolist(), dist.tolist()
    ([[0, 1], [1, 0], [2, 1]], [[0.0, 1.0], [0.0, 1.0], [0.0, 2.0]])
    """
    points = torch.from_numpy(_points(X))  # (n, d) float64
    k = _positive_int(k, "k")
    if k > len(points):
        raise DataError(f"k must be <= the number of points {len(points)}, got {k}")
    d = torch.cdist(points, points)  # (n, n)
    d.fill_diagonal_(-1.0)  # NOTE: puts each point first even among exact duplicates
    dist, idx = d.topk(k, dim=1, largest=False)  # (n, k), (n, k) ascending
    dist[:, 0] = 0.0
    return idx.numpy().astype(np.int64), dist.numpy().astype(np.float32)


_UMAP_CACHED = False


def _cache_umap_kernels() -> None:
    """Let numba keep UMAP's compiled kernels on disk.

    NOTE: umap-learn compiles three ``parallel=True`` numba kernels (the fuzzy set's
    ``smooth_knn_dist`` and ``compute_membership_strengths``, and the layout's epoch) without
    ``cache=True``, so every new process pays about 25 s of compilation on two cores before the
    first layout. Turning the disk cache on (numba's ``Dispatcher.enable_caching``, the same
    compiled code, the same numbers) pays it once per machine; the cache lives beside umap's
    sources (or under ``$NUMBA_CACHE_DIR``).
    """
    global _UMAP_CACHED
    if _UMAP_CACHED:
        return
    import numba

    # NOTE: numba's OpenMP threading layer leaves its threads spinning after a parallel
    # kernel, which made torch (with its own OpenMP) about 7x slower in the same process on two
    # cores (measured: feature visualisation after a layout). The work-queue layer does not spin.
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"
    import umap.layouts
    import umap.umap_

    kernels = (
        umap.umap_.smooth_knn_dist,
        umap.umap_.compute_membership_strengths,
        umap.layouts._nb_optimize_layout_euclidean_single_epoch,
    )
    for kernel in kernels:
        if hasattr(kernel, "enable_caching"):
            kernel.enable_caching()
    _UMAP_CACHED = True


def umap_layout(
    X: Any,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """The points laid out in 2-D by UMAP (``umap-learn``), seeded, (n, 2) float32.

    The ``n_neighbors`` nearest neighbours are computed here exactly (:func:`exact_knn`) and
    handed to UMAP as ``precomputed_knn``: for fewer than 4096 points UMAP would otherwise
    fill an all-pairs distance matrix through a Python-level callable (about 15 s for 1500
    points). A ``random_state`` makes UMAP run its layout on one thread, so the same seed
    gives the same layout.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (30, 5)), rng.normal(8, 1, (30, 5))])
    >>> Y = umap_layout(X, n_neighbors=10, n_epochs=50)  # doctest: +SKIP
    >>> Y.shape  # doctest: +SKIP
    (60, 2)
    """
    points = _points(X, min_rows=4)
    n_neighbors = _positive_int(n_neighbors, "n_neighbors", 2)
    if n_neighbors >= len(points):
        raise DataError(
            f"n_neighbors must be < the number of points {len(points)}, got {n_neighbors}"
        )
    if not 0 <= float(min_dist) <= 1:
        raise DataError(f"min_dist must be in [0, 1], got {min_dist!r}")
    if n_epochs is not None:
        n_epochs = _positive_int(n_epochs, "n_epochs")
    import warnings

    import umap

    _cache_umap_kernels()
    knn = exact_knn(points, n_neighbors)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=float(min_dist),
        n_epochs=n_epochs,
        random_state=int(seed),
        n_jobs=1,
        precomputed_knn=knn,
    )
    with warnings.catch_warnings():  # "n_jobs overridden to 1 by setting random_state": wanted
        warnings.simplefilter("ignore")
        return reducer.fit_transform(points.astype(np.float32)).astype(np.float32)


def trustworthiness(X: Any, Y: Any, k: int = 5) -> float:
    """How much the ``k`` nearest neighbours of each point in a layout ``Y`` are true
    neighbours in ``X`` (Venna and Kaski, 2001), in [0, 1], as scikit-learn's
    ``sklearn.manifold.trustworthiness``.

    With ``r(i, j)`` the rank of ``j`` among ``i``'s neighbours in ``X`` (1 the nearest) and
    ``U_k(i)`` the points among ``i``'s ``k`` nearest in ``Y`` but not in ``X``::

        T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k)

    NOTE: with tied distances the ranks, and so the value, depend on how ties are broken (here
    by index); scikit-learn's unstable sort may break them otherwise.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> trustworthiness(X, X, k=5), round(trustworthiness(X, X[:, :2], k=5), 3)
    (1.0, 0.735)
    """
    X, Y = _points(X), _points(Y, "Y")
    n = len(X)
    k = _positive_int(k, "k")
    if len(Y) != n:
        raise DataError(f"X and Y must have the same number of points, got {n} and {len(Y)}")
    if k >= n / 2:
        raise DataError(f"k must be < n / 2 = {n / 2}, got {k}")
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    dX = torch.cdist(Xt, Xt)  # (n, n)
    dX.fill_diagonal_(float("inf"))  # a point is not its own neighbour
    dY = torch.cdist(Yt, Yt)  # (n, n)
    dY.fill_diagonal_(float("inf"))
    nearY = dY.topk(k, dim=1, largest=False).indices  # (n, k)
    # r(i, j) without sorting: 1 + the points nearer to i than j, ties broken by index (as a
    # stable sort would); k passes over (n, n) instead of an (n, n) argsort
    index = torch.arange(n)  # (n,)
    excess = torch.empty(n, k, dtype=torch.int64)
    for m in range(k):  # k is small (5)
        j = nearY[:, m : m + 1]  # (n, 1)
        d_ij = dX.gather(1, j)  # (n, 1)
        rank = (dX < d_ij).sum(1) + ((dX == d_ij) & (index < j)).sum(1) + 1  # (n,)
        excess[:, m] = rank - k  # > 0 exactly for points outside X's k nearest
    t = excess.clamp(min=0).sum().item()
    return float(1.0 - t * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))


# ------------------------------------------------------------------------------ the grid


@dataclass
class AtlasGrid:
    """A ``size`` x ``size`` grid over a 2-D layout, with the kept cells' mean vectors.

    Attributes
    ----------
    size : int
        Cells per side.
    lo, hi : ndarray, (2,)
        The corners of the layout's bounding box; cell ``(row, col)`` covers
        ``lo + (col, row) * (hi - lo) / size`` onward (row 0 at the bottom of the layout).
    cell : ndarray, (P,) int64
        The flat cell index ``row * size + col`` of each point.
    counts : ndarray, (size * size,) int64
        Points in each cell.
    kept : ndarray, (K,) int64
        The flat indices of the cells with at least ``min_count`` points, ascending.
    means : ndarray, (K, C) float32
        The mean vector of each kept cell.
    majority : ndarray, (K,) int64
        The most frequent label in each kept cell (-1 without labels).
    cell_purity : ndarray, (K,) float
        The share of each kept cell's points with its majority label.
    purity : float
        ``cell_purity`` weighted by the cells' counts: the share of the kept points that
        carry their cell's majority label (NaN without labels).
    min_count : int
    """

    size: int
    lo: np.ndarray
    hi: np.ndarray
    cell: np.ndarray
    counts: np.ndarray
    kept: np.ndarray
    means: np.ndarray
    majority: np.ndarray
    cell_purity: np.ndarray
    purity: float
    min_count: int

    @property
    def rows(self) -> np.ndarray:
        """The row of each kept cell, (K,)."""
        return self.kept // self.size

    @property
    def cols(self) -> np.ndarray:
        """The column of each kept cell, (K,)."""
        return self.kept % self.size

    @property
    def kept_points(self) -> int:
        """Points in the kept cells."""
        return int(self.counts[self.kept].sum())


def grid_cells(
    coords: Any,
    vectors: Any,
    labels: Any = None,
    size: int = 12,
    min_count: int = 5,
) -> AtlasGrid:
    """Put a ``size`` x ``size`` grid over ``coords``, average ``vectors`` per cell, keep the
    cells holding at least ``min_count`` points, and measure their label purity.

    Parameters
    ----------
    coords : array (P, 2)
        The layout.
    vectors : array (P, C)
        What is averaged (the activations).
    labels : array (P,), optional
        Integer labels for the purity.
    size : int
        Cells per side; the grid spans the layout's bounding box.
    min_count : int
        Cells with fewer points are dropped.

    Examples
    --------
    >>> coords = np.array([[0.0, 0.0], [0.1, 0.1], [1.0, 1.0], [0.9, 1.0], [1.0, 0.9]])
    >>> g = grid_cells(coords, np.arange(10.0).reshape(5, 2), [0, 1, 1, 1, 0], size=2,
    ...                min_count=2)
    >>> g.kept.tolist(), g.means.tolist(), g.cell_purity.tolist(), g.purity
    ([0, 3], [[1.0, 2.0], [6.0, 7.0]], [0.5, 0.6666666666666666], 0.6)
    """
    coords = _points(coords, "coords", min_rows=1)
    vectors = _points(vectors, "vectors", min_rows=1)
    if coords.shape[1] != 2:
        raise DataError(f"coords must be (P, 2), got shape {coords.shape}")
    P = len(coords)
    if len(vectors) != P:
        raise DataError(f"vectors must have one row per point ({P}), got {len(vectors)}")
    size = _positive_int(size, "size")
    min_count = _positive_int(min_count, "min_count")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (P,) or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(
                f"labels must be (P,) integers, one per point, got shape {labels.shape} "
                f"{labels.dtype}"
            )
        if P and labels.min() < 0:
            raise DataError(f"labels must be >= 0, got {int(labels.min())}")
    lo, hi = coords.min(axis=0), coords.max(axis=0)  # (2,), (2,)
    span = np.where(hi > lo, hi - lo, 1.0)
    colrow = np.clip(np.floor((coords - lo) / span * size), 0, size - 1).astype(np.int64)
    cell = colrow[:, 1] * size + colrow[:, 0]  # (P,) row-major, row from the y axis
    counts = np.bincount(cell, minlength=size * size)  # (size^2,)
    sums = np.zeros((size * size, vectors.shape[1]))
    np.add.at(sums, cell, vectors)  # (size^2, C)
    kept = np.flatnonzero(counts >= min_count)  # (K,)
    means = (sums[kept] / counts[kept, None]).astype(np.float32)  # (K, C)
    if labels is None:
        majority = np.full(len(kept), -1, np.int64)
        cell_purity = np.full(len(kept), np.nan)
        purity = float("nan")
    else:
        L = int(labels.max()) + 1
        table = np.bincount(cell * L + labels, minlength=size * size * L)
        table = table.reshape(size * size, L)[kept]  # (K, L) label counts per kept cell
        majority = table.argmax(axis=1).astype(np.int64)
        top = table.max(axis=1)  # (K,)
        cell_purity = top / counts[kept]
        purity = float(top.sum() / counts[kept].sum()) if len(kept) else float("nan")
    return AtlasGrid(
        size, lo, hi, cell, counts, kept, means, majority, cell_purity, purity, min_count
    )


def chance_purity(labels: Any, grid: AtlasGrid) -> float:
    """The purity the same kept cells would have if the labels were spread over them at
    random: the share of the most common label among the kept points (the purity of one
    cell holding them all), a floor any layout should beat.

    Examples
    --------
    >>> g = grid_cells(np.zeros((4, 2)), np.zeros((4, 1)), [0, 0, 1, 2], size=1, min_count=1)
    >>> chance_purity([0, 0, 1, 2], g)
    0.5
    """
    labels = np.asarray(labels)
    inside = labels[np.isin(grid.cell, grid.kept)]
    return float(np.bincount(inside).max() / len(inside)) if len(inside) else float("nan")


# ------------------------------------------------------------------------------ pictures


def cell_tiles(
    cnn: Any,
    stage: str,
    means: Any,
    *,
    steps: int = 128,
    cossim_pow: float = 1.0,
    seed: int = 0,
    device: str = "auto",
    colours: Any = None,
    **kwargs: Any,
) -> np.ndarray:
    """The feature visualisation of each cell's mean activation, (K, H, W, C) in [0, 1].

    One batch of ``K`` images is optimised together, image ``b`` towards the direction
    ``means[b]`` of ``stage`` (its activation averaged over positions), with the dot product
    weighted by the cosine to the power ``cossim_pow`` as Carter et al. do, so that a tile
    shows what points *along* the mean rather than what merely makes the stage large.
    Further keyword arguments go to :func:`~genailab.vision.feature_vis.visualize`.
    """
    from genailab.vision import objectives
    from genailab.vision.feature_vis import visualize

    means = _points(means, "means", min_rows=1).astype(np.float32)
    objective = objectives.direction(stage, means, cossim_pow=cossim_pow)
    result = visualize(
        cnn,
        objective,
        steps=steps,
        batch=len(means),
        seed=seed,
        device=device,
        colours=colours,
        **kwargs,
    )
    return result.images


def cell_crops(
    cnn: Any, images: Any, patches: Patches, grid: AtlasGrid, crop: int | None = None
) -> np.ndarray:
    """The mean of the receptive-field crops of each kept cell's patches, (K, crop, crop, C)
    float in [0, 1]: a cheap picture of the image parts that landed in each cell.

    Windows that run past the image are padded with zeros; ``crop`` defaults to the stage's
    receptive field size, clipped to the image.
    """
    raw = cnn.check_images(images)
    array = raw.astype(np.float32) / (255.0 if raw.dtype == np.uint8 else 1.0)  # (N, H, W, C)
    rf = receptive_field(cnn, patches.stage)
    C = array.shape[-1]
    size = rf.size if crop is None else _positive_int(crop, "crop")
    pad = max(size, -rf.start)
    padded = np.pad(array, ((0, 0), (pad, pad), (pad, pad), (0, 0)))  # (N, H+2p, W+2p, C)
    top = rf.start + patches.y * rf.jump + pad  # (P,)
    left = rf.start + patches.x * rf.jump + pad
    r = np.arange(size)
    rows = (top[:, None] + r)[:, :, None]  # (P, s, 1)
    cols = (left[:, None] + r)[:, None, :]  # (P, 1, s)
    crops = padded[patches.image[:, None, None], rows, cols]  # (P, s, s, C)
    index = np.searchsorted(grid.kept, grid.cell)  # (P,) position among the kept cells
    inside = np.isin(grid.cell, grid.kept)
    sums = np.zeros((len(grid.kept), size, size, C), np.float64)
    np.add.at(sums, index[inside], crops[inside])
    return (sums / grid.counts[grid.kept][:, None, None, None]).astype(np.float32)


# ------------------------------------------------------------------------------ the atlas


@dataclass
class Atlas:
    """Everything :func:`build_atlas` computes.

    Attributes
    ----------
    patches : Patches
    umap, pca : ndarray, (P, 2)
        The two layouts.
    grid, pca_grid : AtlasGrid
        The grids over the UMAP and the PCA layout (same size and ``min_count``).
    trust_umap, trust_pca : float
        :func:`trustworthiness` of each layout at ``k``.
    tiles : ndarray (K, H, W, C) or None
        The kept UMAP cells' feature visualisations.
    seconds : dict of str to float
        Wall time of each part (``patches``, ``umap``, ``pca``, ``grid``, ``tiles``).
    """

    patches: Patches
    umap: np.ndarray
    pca: np.ndarray
    grid: AtlasGrid
    pca_grid: AtlasGrid
    trust_umap: float
    trust_pca: float
    tiles: np.ndarray | None
    seconds: dict[str, float] = field(default_factory=dict)


def build_atlas(
    cnn: Any,
    images: Any,
    labels: Any,
    stage: str = "conv4",
    *,
    max_patches: int = 2000,
    grid_size: int = 12,
    min_count: int = 5,
    n_neighbors: int = 15,
    n_epochs: int | None = None,
    k: int = 5,
    tiles: bool = True,
    steps: int = 128,
    colours: Any = None,
    seed: int = 0,
    device: str = "auto",
) -> Atlas:
    """An activation atlas of ``stage``: patches, UMAP and PCA layouts, their grids,
    trustworthiness and purity, and (``tiles=True``) a feature visualisation per kept cell.

    ``colours`` (training images) decorrelate the tiles' colours as in
    :func:`~genailab.vision.feature_vis.visualize`.
    """
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    patches = collect_patches(cnn, images, labels, stage, max_patches=max_patches, seed=seed)
    seconds["patches"] = time.perf_counter() - t
    t = time.perf_counter()
    Y_umap = umap_layout(patches.vectors, n_neighbors=n_neighbors, n_epochs=n_epochs, seed=seed)
    seconds["umap"] = time.perf_counter() - t
    t = time.perf_counter()
    Y_pca = pca_layout(patches.vectors)
    seconds["pca"] = time.perf_counter() - t
    t = time.perf_counter()
    grid = grid_cells(Y_umap, patches.vectors, patches.labels, grid_size, min_count)
    pca_grid = grid_cells(Y_pca, patches.vectors, patches.labels, grid_size, min_count)
    trust_umap = trustworthiness(patches.vectors, Y_umap, k)
    trust_pca = trustworthiness(patches.vectors, Y_pca, k)
    seconds["grid"] = time.perf_counter() - t
    pictures = None
    if tiles and len(grid.kept):
        t = time.perf_counter()
        pictures = cell_tiles(
            cnn, stage, grid.means, steps=steps, seed=seed, device=device, colours=colours
        )
        seconds["tiles"] = time.perf_counter() - t
    return Atlas(patches, Y_umap, Y_pca, grid, pca_grid, trust_umap, trust_pca, pictures, seconds)
