"""Nearest training images of a query, in a trained network's embedding and in raw pixels.

Krizhevsky, Sutskever and Hinton (2012, figure 4) showed five test images and, beside each,
the six training images whose last hidden layer (``fc7``, 4096 numbers) lies nearest to the
query's: an elephant's neighbours were elephants in other poses, although "they are not close
in L2 (pixel) distance". This module measures that claim on a network trained here:

- :func:`embedding_neighbours`: the ``k`` nearest training images of each query in the
  embedding of one stage (``fc7`` by default), searched exactly with
  :class:`genailab.embed.ExactIndex` (scikit-learn's ``NearestNeighbors`` shape);
- :func:`pixel_neighbours`: the same search on the raw pixels (scaled to [0, 1]);
- :func:`label_agreement`: the share of the ``k`` neighbours that carry the query's label,
  over all queries; the figure that says which space groups images by what they show;
- :func:`pixel_ranks`: for neighbours found in the embedding, how far they are in pixels: the
  number of training images nearer to the query in pixel distance (rank 0: the embedding
  neighbour is also the pixel neighbour) and that number as a share of the training set.
  A pair with a high share is far apart in pixels yet neighbours in the embedding.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> train, query = rng.random((50, 8, 8, 3)), rng.random((4, 8, 8, 3))
>>> found = pixel_neighbours(train, query, k=3)
>>> found.indices.shape, found.space
((4, 3), 'pixels')
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from genailab.embed import ExactIndex
from genailab.embed.neighbor_index import METRICS, as_vectors, unit_rows
from genailab.errors import ConfigError, DataError

#: rows of queries per block of :func:`pixel_ranks` (a block holds rows x n distances x k)
_RANK_BLOCK_FLOATS = 1 << 23


class Embedder(Protocol):
    """What the embedding search needs of a trained network (``TrainedCNN`` has it)."""

    def embed(self, images: Any, stage: str = "fc7") -> np.ndarray: ...


@dataclass(frozen=True)
class Neighbours:
    """The ``k`` nearest training images of each query, in one space.

    Attributes
    ----------
    indices : ndarray of int64, shape (q, k)
        Rows of the training images, nearest first.
    distances : ndarray of float32, shape (q, k)
        Euclidean distances for ``metric="l2"``, ``1 - cos`` for ``"cosine"``.
    space : str
        ``"pixels"`` or the stage the embedding came from (``"fc7"``).
    metric : str
        ``"l2"`` or ``"cosine"``.
    """

    indices: np.ndarray
    distances: np.ndarray
    space: str
    metric: str

    @property
    def k(self) -> int:
        """Neighbours per query."""
        return int(self.indices.shape[1])

    def agreement(self, train_labels: Any, query_labels: Any) -> float:
        """:func:`label_agreement` of these neighbours."""
        return label_agreement(self.indices, train_labels, query_labels)


def image_batch(images: Any, name: str) -> np.ndarray:
    """``images`` checked as a batch (N, H, W, C) or (N, H, W) of uint8 or real numbers.

    Examples
    --------
    >>> image_batch(np.zeros((2, 4, 4), dtype=np.uint8), "train_images").shape
    (2, 4, 4)
    >>> image_batch(np.zeros((4, 4)), "query_images")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.DataError: query_images must be a batch of images ...; got shape (4, 4)
    """
    A = np.asarray(images)
    if A.ndim not in (3, 4):
        raise DataError(
            f"{name} must be a batch of images (N, H, W) or (N, H, W, C); got shape {A.shape}"
        )
    if A.dtype != np.uint8 and not np.issubdtype(A.dtype, np.floating):
        raise DataError(f"{name} must be uint8 or float; got dtype {A.dtype}")
    if A.shape[0] == 0:
        raise DataError(f"{name} holds no images (shape {A.shape})")
    return A


def pixel_vectors(images: Any, name: str = "images") -> np.ndarray:
    """Each image as one row of its pixels in [0, 1] (uint8 divided by 255), float32.

    Examples
    --------
    >>> pixel_vectors(np.full((2, 2, 2, 3), 255, dtype=np.uint8)).tolist()[0][:3]
    [1.0, 1.0, 1.0]
    """
    A = image_batch(images, name)
    flat = A.reshape(A.shape[0], -1)  # (N, H*W*C)
    if A.dtype == np.uint8:
        return flat.astype(np.float32) / np.float32(255)
    return as_vectors(flat, name)


def _check_k(k: Any, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise DataError(f"k must be an int in [1, {n}] (the training images); got {k!r}")
    return int(k)


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    return metric


def nearest(
    train_vectors: Any, query_vectors: Any, k: int = 5, metric: str = "l2", space: str = "vectors"
) -> Neighbours:
    """The ``k`` nearest rows of ``train_vectors`` for each query row, exactly.

    Parameters
    ----------
    train_vectors : array_like of shape (n, d)
    query_vectors : array_like of shape (q, d)
    k : int
        ``1 <= k <= n``.
    metric : {"l2", "cosine"}
    space : str
        The name the result carries.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    >>> found = nearest(X, [[0.8, 0.0]], k=2)
    >>> found.indices.tolist(), found.distances.astype(float).round(3).tolist()
    ([[1, 0]], [[0.2, 0.8]])
    """
    _check_metric(metric)
    X = as_vectors(train_vectors, "train_vectors")
    Q = as_vectors(query_vectors, "query_vectors")
    if Q.shape[1] != X.shape[1]:
        raise DataError(
            f"query vectors have dimension {Q.shape[1]}, the training vectors {X.shape[1]}"
        )
    k = _check_k(k, X.shape[0])
    distances, indices = ExactIndex(metric=metric).fit(X).kneighbors(Q, k=k)
    return Neighbours(indices=indices, distances=distances, space=space, metric=metric)


def _same_image_shape(train: np.ndarray, query: np.ndarray) -> None:
    if train.shape[1:] != query.shape[1:]:
        raise DataError(
            f"query images are {query.shape[1:]}, the training images {train.shape[1:]}; "
            "both must have one size"
        )


def embedding_neighbours(
    trained: Embedder,
    train_images: Any,
    query_images: Any,
    k: int = 5,
    stage: str = "fc7",
    metric: str = "l2",
) -> Neighbours:
    """The ``k`` nearest training images of each query in the embedding of ``stage``.

    Both sets pass through ``trained.embed(images, stage=stage)`` (a ``TrainedCNN``: one
    batched, no-grad forward pass, normalised as in training; a conv stage's maps are
    flattened there), then :func:`nearest` searches exactly.

    Parameters
    ----------
    trained : TrainedCNN
        Anything with ``embed(images, stage=...) -> (N, D)``.
    train_images, query_images : array_like of shape (N, H, W, C) or (N, H, W)
        uint8, or floats as ``trained`` takes them.
    k : int
    stage : str
        ``"fc7"`` (the paper's) or any stage ``trained`` can embed.
    metric : {"l2", "cosine"}
        The paper used Euclidean distance.

    Returns
    -------
    Neighbours

    Examples
    --------
    >>> class Mean:  # a stand-in "network": the mean colour of each image
    ...     def embed(self, images, stage="fc7"):
    ...         return np.asarray(images, dtype=np.float32).mean(axis=(1, 2))
    >>> rng = np.random.default_rng(0)
    >>> train = rng.random((20, 4, 4, 3))
    >>> embedding_neighbours(Mean(), train, train[:2], k=1).indices.ravel().tolist()
    [0, 1]
    """
    _check_metric(metric)
    train = image_batch(train_images, "train_images")
    query = image_batch(query_images, "query_images")
    _same_image_shape(train, query)
    _check_k(k, train.shape[0])
    X = trained.embed(train, stage=stage)  # (n, D)
    Q = trained.embed(query, stage=stage)  # (q, D)
    return nearest(X, Q, k=k, metric=metric, space=stage)


def pixel_neighbours(
    train_images: Any, query_images: Any, k: int = 5, metric: str = "l2"
) -> Neighbours:
    """The ``k`` nearest training images of each query by pixel distance (pixels in [0, 1]).

    Parameters
    ----------
    train_images, query_images : array_like of shape (N, H, W, C) or (N, H, W)
    k : int
    metric : {"l2", "cosine"}

    Examples
    --------
    >>> train = np.stack([np.full((2, 2, 3), v, dtype=np.uint8) for v in (0, 100, 200)])
    >>> pixel_neighbours(train, train[[2]] - 10, k=2).indices.tolist()
    [[2, 1]]
    """
    _check_metric(metric)
    train = image_batch(train_images, "train_images")
    query = image_batch(query_images, "query_images")
    _same_image_shape(train, query)
    X = pixel_vectors(train, "train_images")  # (n, H*W*C)
    Q = pixel_vectors(query, "query_images")  # (q, H*W*C)
    return nearest(X, Q, k=k, metric=metric, space="pixels")


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{name} must be 1-D, one label per query ({n}); got shape {y.shape}")
    return y


def _neighbour_indices(indices: Any, n_train: int | None = None) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim != 2 or idx.shape[1] == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise DataError(
            f"neighbour indices must be a 2-D int array (queries, k); got {idx.dtype} {idx.shape}"
        )
    if n_train is not None and idx.size and (idx.min() < 0 or idx.max() >= n_train):
        raise DataError(
            f"neighbour indices must lie in [0, {n_train}) (the training images); "
            f"got {int(idx.min())}..{int(idx.max())}"
        )
    return np.ascontiguousarray(idx, dtype=np.int64)


def agreement_per_query(indices: Any, train_labels: Any, query_labels: Any) -> np.ndarray:
    """For each query, the share of its ``k`` neighbours whose label is the query's, (q,).

    Examples
    --------
    >>> agreement_per_query([[0, 1], [1, 2]], [0, 0, 1], [0, 1]).tolist()
    [1.0, 0.5]
    """
    idx = _neighbour_indices(indices)
    y_train = np.asarray(train_labels)
    if y_train.ndim != 1:
        raise DataError(f"train_labels must be 1-D; got shape {y_train.shape}")
    idx = _neighbour_indices(idx, y_train.shape[0])
    y_query = _labels(query_labels, idx.shape[0], "query_labels")
    return (y_train[idx] == y_query[:, None]).mean(axis=1)  # (q,)


def label_agreement(indices: Any, train_labels: Any, query_labels: Any) -> float:
    """The share of all ``q * k`` neighbours that carry their query's label.

    Parameters
    ----------
    indices : array_like of int, shape (q, k)
        Rows of the training images (:attr:`Neighbours.indices`).
    train_labels : array_like, shape (n,)
    query_labels : array_like, shape (q,)

    Examples
    --------
    >>> label_agreement([[0, 1], [1, 2]], [0, 0, 1], [0, 1])
    0.75
    """
    return float(agreement_per_query(indices, train_labels, query_labels).mean())


def pixel_ranks(
    train_images: Any, query_images: Any, indices: Any, metric: str = "l2"
) -> tuple[np.ndarray, np.ndarray]:
    """How far, in pixels, each given neighbour is from its query.

    For the pair (query ``i``, training image ``j = indices[i, m]``) the rank is the number of
    training images strictly nearer to query ``i`` than image ``j`` is, by pixel distance:
    0 when ``j`` is the pixel-nearest, ``n - 1`` when it is the farthest. The share divides it
    by ``n``: 0.6 says 60% of the training set is nearer in pixels than this neighbour.

    Each block of queries meets all ``n`` training images in one matrix product (centred
    float32, ``||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2``); a row's comparisons use that row's
    numbers only, so the rank is exact up to pixel distances that float32 cannot tell apart.

    Parameters
    ----------
    train_images, query_images : array_like of shape (N, H, W, C) or (N, H, W)
    indices : array_like of int, shape (q, k)
        Neighbours of each query, typically :attr:`Neighbours.indices` of
        :func:`embedding_neighbours`.
    metric : {"l2", "cosine"}

    Returns
    -------
    ranks : ndarray of int64, shape (q, k)
    shares : ndarray of float64, shape (q, k)
        ``ranks / n``, in [0, 1).

    Examples
    --------
    >>> train = np.stack([np.full((2, 2), v, dtype=np.uint8) for v in (0, 100, 200)])
    >>> ranks, shares = pixel_ranks(train, train[[0]], [[0, 2]])
    >>> ranks.tolist(), np.round(shares, 3).tolist()
    ([[0, 2]], [[0.0, 0.667]])
    """
    _check_metric(metric)
    train = image_batch(train_images, "train_images")
    query = image_batch(query_images, "query_images")
    _same_image_shape(train, query)
    X = pixel_vectors(train, "train_images")  # (n, d)
    Q = pixel_vectors(query, "query_images")  # (q, d)
    idx = _neighbour_indices(indices, X.shape[0])
    if idx.shape[0] != Q.shape[0]:
        raise DataError(f"indices has {idx.shape[0]} rows, for {Q.shape[0]} query images")
    if metric == "cosine":  # on unit rows, the L2 order is the cosine order
        X, Q = unit_rows(X, "train_images"), unit_rows(Q, "query_images")
    centre = X.mean(axis=0, dtype=np.float64).astype(np.float32)  # (d,) keeps ||x||^2 small
    Xc = torch.from_numpy(X - centre)  # (n, d)
    x_sq = (Xc * Xc).sum(dim=1)  # (n,)
    n, k = X.shape[0], idx.shape[1]
    ranks = np.empty(idx.shape, dtype=np.int64)
    block = max(1, _RANK_BLOCK_FLOATS // (n * k))
    for start in range(0, Q.shape[0], block):
        q = torch.from_numpy(Q[start : start + block] - centre)  # (b, d)
        # ||x||^2 - 2 q.x: ||q||^2 is the same along a row and cannot change its order
        d2 = torch.addmm(x_sq[None, :], q, Xc.T, alpha=-2.0)  # (b, n)
        mine = torch.gather(d2, 1, torch.from_numpy(idx[start : start + block]))  # (b, k)
        ranks[start : start + block] = (d2[:, None, :] < mine[:, :, None]).sum(dim=2).numpy()
    return ranks, ranks / n
