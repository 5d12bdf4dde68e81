"""Directions in a network's embedding that carry one attribute, and walks along them.

A trained network's ``fc7`` places images with the same content near each other; if it also
keeps an attribute (the colour of a shape, the identity of a digit) along a consistent
direction, then the difference of two class means,

    d = mean(fc7 of red images) - mean(fc7 of blue images),

points from "blue" to "red" for every shape alike. This module finds such a direction, says how
consistent it is, and walks images along it:

- :func:`attribute_direction`: ``d`` from embeddings and their attribute values (or
  :func:`find_direction` from images, through ``TrainedCNN.embed``);
- :func:`group_directions` and :func:`direction_consistency`: the same difference taken within
  each group of another attribute (red minus blue among circles, among squares, ...) and the
  cosines between them: 1 when every shape turns red along the same direction;
- :func:`walk`: ``e + t d`` for steps ``t`` (``t = 1`` adds the whole difference of means);
- :func:`fc8_logits`: the network's last stage on any point of the embedding. ``fc7`` is not
  invertible (no image has to exist for a walked point), but ``fc8`` is linear on it,
  ``logits = W (e + t d) + b``, so what the classifier makes of a walked point is exact, and
  so are its nearest training images (:func:`genailab.vision.neighbours.nearest`). These two
  readouts are what a walk is measured on; nothing here pretends to draw the walked image.

Examples
--------
>>> E = np.array([[1.0, 0.0], [1.2, 0.0], [0.0, 1.0], [0.0, 1.4]])
>>> d = attribute_direction(E, [0, 0, 1, 1], towards=1, away=0)
>>> d.vector.round(2).tolist(), walk(E[:1], d, [0.0, 1.0])[:, 0].round(2).tolist()
([-1.1, 1.2], [[1.0, 0.0], [-0.1, 1.2]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from genailab.embed.neighbor_index import as_vectors
from genailab.errors import DataError, UnknownNameError, suggest


@dataclass(frozen=True)
class Direction:
    """The difference of two class means in an embedding.

    Attributes
    ----------
    vector : ndarray of float64, shape (D,)
        ``mean(towards) - mean(away)``.
    towards_mean, away_mean : ndarray of float64, shape (D,)
        The two class means.
    attribute : str
        What the values were ("colour").
    towards, away : int
        The two values.
    towards_name, away_name : str
        Their names ("red", "blue"), or the values written out.
    counts : tuple of int
        Embeddings averaged in each mean, ``(towards, away)``.
    """

    vector: np.ndarray
    towards_mean: np.ndarray
    away_mean: np.ndarray
    attribute: str
    towards: int
    away: int
    towards_name: str
    away_name: str
    counts: tuple[int, int]

    @property
    def norm(self) -> float:
        """The length of the direction."""
        return float(np.linalg.norm(self.vector))

    @property
    def unit(self) -> np.ndarray:
        """The direction scaled to length 1."""
        return self.vector / self.norm


def _values(values: Any, n: int, name: str) -> np.ndarray:
    v = np.asarray(values)
    if v.ndim != 1 or v.shape[0] != n:
        raise DataError(f"{name} must be 1-D, one value per embedding ({n}); got shape {v.shape}")
    if not np.issubdtype(v.dtype, np.integer):
        raise DataError(f"{name} must be integer codes; got dtype {v.dtype}")
    return v


def attribute_value(value: int | str, names: Sequence[str] | None, attribute: str) -> int:
    """``value`` as an integer code: a name is looked up in ``names``.

    Examples
    --------
    >>> attribute_value("blue", ["red", "green", "blue"], "colour")
    2
    >>> attribute_value("bleu", ["red", "green", "blue"], "colour")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.errors.UnknownNameError: unknown colour 'bleu'; did you mean 'blue'? (accepted: ...)
    """
    if isinstance(value, str):
        accepted = list(names or ())
        if value not in accepted:
            listed = ", ".join(accepted) if accepted else "integer codes only, no names given"
            raise UnknownNameError(
                f"unknown {attribute} '{value}'{suggest(value, accepted)} (accepted: {listed})"
            )
        return accepted.index(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DataError(f"{attribute} value must be an int code or a name; got {value!r}")
    return int(value)


def _name(value: int, names: Sequence[str] | None) -> str:
    return str(names[value]) if names is not None and 0 <= value < len(names) else str(value)


def _pair(
    v: np.ndarray, towards: Any, away: Any, names: Sequence[str] | None, attribute: str
) -> tuple[int, int]:
    """The two codes, checked: different, and both held by some image."""
    to, fro = attribute_value(towards, names, attribute), attribute_value(away, names, attribute)
    if to == fro:
        raise DataError(f"towards and away are the same {attribute} ({_name(to, names)})")
    present = np.unique(v)
    for code in (to, fro):
        if code not in present:
            shown = ", ".join(_name(int(c), names) for c in present)
            raise DataError(f"no image has {attribute} {_name(code, names)} (present: {shown})")
    return to, fro


def attribute_direction(
    embeddings: Any,
    values: Any,
    towards: int | str,
    away: int | str,
    names: Sequence[str] | None = None,
    attribute: str = "attribute",
) -> Direction:
    """The mean embedding of the ``towards`` images minus that of the ``away`` images.

    Parameters
    ----------
    embeddings : array_like of shape (N, D)
    values : array_like of int, shape (N,)
        Each embedding's attribute value (``ShapeImages.colour``, digit labels).
    towards, away : int or str
        Two values, as codes or as names in ``names``.
    names : sequence of str, optional
        The name of each code (``ShapeImages.colour_names``).
    attribute : str
        What the values are, for messages and the result.

    Returns
    -------
    Direction

    Examples
    --------
    >>> E = np.array([[2.0, 0.0], [4.0, 0.0], [0.0, 1.0]])
    >>> d = attribute_direction(E, [0, 0, 1], "red", "blue", ["red", "blue"], "colour")
    >>> d.vector.tolist(), d.towards_name, d.counts
    ([3.0, -1.0], 'red', (2, 1))
    """
    E = as_vectors(embeddings, "embeddings").astype(np.float64)  # (N, D)
    v = _values(values, E.shape[0], f"{attribute} values")
    to, fro = _pair(v, towards, away, names, attribute)
    to_mean, fro_mean = E[v == to].mean(axis=0), E[v == fro].mean(axis=0)  # (D,) each
    if np.array_equal(to_mean, fro_mean):
        raise DataError(
            f"{attribute} {_name(to, names)} and {_name(fro, names)} have the same mean "
            "embedding: there is no direction between them"
        )
    return Direction(
        vector=to_mean - fro_mean,
        towards_mean=to_mean,
        away_mean=fro_mean,
        attribute=attribute,
        towards=to,
        away=fro,
        towards_name=_name(to, names),
        away_name=_name(fro, names),
        counts=(int((v == to).sum()), int((v == fro).sum())),
    )


def find_direction(
    trained: Any,
    images: Any,
    attributes: Mapping[str, Any],
    attribute: str,
    towards: int | str,
    away: int | str,
    names: Sequence[str] | None = None,
    stage: str = "fc7",
) -> Direction:
    """:func:`attribute_direction` of ``trained.embed(images, stage)``.

    Parameters
    ----------
    trained : TrainedCNN
        Anything with ``embed(images, stage=...) -> (N, D)``.
    images : array_like of shape (N, H, W, C)
    attributes : mapping of str to array_like of shape (N,)
        ``ImageSet.attributes`` (``{"shape": ..., "colour": ...}``).
    attribute : str
        A key of ``attributes``.
    towards, away, names
        As in :func:`attribute_direction`.
    stage : str
        The stage whose output is the embedding (a conv stage's maps are flattened).
    """
    if attribute not in attributes:
        keys = list(attributes)
        raise UnknownNameError(
            f"unknown attribute '{attribute}'{suggest(attribute, keys)} "
            f"(accepted: {', '.join(keys) or 'none: the images carry no attributes'})"
        )
    values = _values(attributes[attribute], len(images), f"{attribute} values")
    to, fro = _pair(values, towards, away, names, attribute)  # before the costly forward pass
    E = trained.embed(images, stage=stage)  # (N, D)
    return attribute_direction(E, values, to, fro, names, attribute)


def group_directions(
    embeddings: Any, values: Any, towards: int, away: int, groups: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The direction ``towards - away`` taken within each group of another attribute.

    Parameters
    ----------
    embeddings : array_like of shape (N, D)
    values : array_like of int, shape (N,)
    towards, away : int
    groups : array_like of int, shape (N,)
        The other attribute (each image's shape).

    Returns
    -------
    directions : ndarray of float64, shape (G, D)
        ``mean(towards, g) - mean(away, g)`` for each group ``g`` holding both values.
    group_codes : ndarray of int, shape (G,)
        Those groups.

    Examples
    --------
    >>> E = np.array([[1.0, 0], [3.0, 0], [0, 1.0], [0, 5.0]])
    >>> dirs, codes = group_directions(E, [1, 0, 1, 0], 1, 0, groups=[0, 0, 1, 1])
    >>> dirs.tolist(), codes.tolist()
    ([[-2.0, 0.0], [0.0, -4.0]], [0, 1])
    """
    E = as_vectors(embeddings, "embeddings").astype(np.float64)  # (N, D)
    v = _values(values, E.shape[0], "values")
    g = _values(groups, E.shape[0], "groups")
    codes = np.unique(g)
    # one mean per (group, value): sums and counts by bincount-like scatter, no loop over rows
    to, fro = (v == towards), (v == away)
    index = np.searchsorted(codes, g)  # (N,) group of each row
    sums = np.zeros((2, codes.size, E.shape[1]))
    np.add.at(sums[0], index[to], E[to])
    np.add.at(sums[1], index[fro], E[fro])
    counts = np.stack(
        [
            np.bincount(index[to], minlength=codes.size),
            np.bincount(index[fro], minlength=codes.size),
        ]
    )  # (2, G)
    both = (counts > 0).all(axis=0)  # (G,)
    if both.sum() == 0:
        raise DataError(f"no group holds both values {towards} and {away}")
    means = sums[:, both] / counts[:, both, None]  # (2, G', D)
    return means[0] - means[1], codes[both]


def cosine_matrix(vectors: Any) -> np.ndarray:
    """Cosines between all pairs of rows, (G, G).

    Examples
    --------
    >>> cosine_matrix([[1.0, 0.0], [1.0, 1.0]]).round(3).tolist()
    [[1.0, 0.707], [0.707, 1.0]]
    """
    V = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(V, axis=1)
    if (norms == 0).any():
        raise DataError("a zero direction has no cosine")
    U = V / norms[:, None]
    return np.clip(U @ U.T, -1.0, 1.0)


def direction_consistency(
    embeddings: Any, values: Any, towards: int, away: int, groups: Any
) -> float:
    """The mean cosine between the per-group directions of :func:`group_directions`, over all
    pairs of different groups: 1 when every group moves along the same direction.

    Examples
    --------
    >>> E = np.array([[1.0, 0], [3.0, 0], [1.0, 1.0], [3.0, 1.0]])
    >>> direction_consistency(E, [1, 0, 1, 0], 1, 0, groups=[0, 0, 1, 1])
    1.0
    """
    directions, _ = group_directions(embeddings, values, towards, away, groups)
    G = directions.shape[0]
    if G < 2:
        raise DataError("consistency needs at least two groups that hold both values")
    C = cosine_matrix(directions)
    return float(C[~np.eye(G, dtype=bool)].mean())


def walk(embeddings: Any, direction: Direction | Any, steps: Any) -> np.ndarray:
    """Each embedding moved along the direction: ``e + t d`` for every step ``t``.

    Parameters
    ----------
    embeddings : array_like of shape (N, D)
    direction : Direction or array_like of shape (D,)
    steps : array_like of float, shape (T,)
        ``t = 0`` is the embedding itself, ``t = 1`` adds the whole ``d``.

    Returns
    -------
    ndarray of float64, shape (T, N, D)

    Examples
    --------
    >>> walk([[0.0, 1.0]], [2.0, 0.0], [0, 0.5, 1]).tolist()
    [[[0.0, 1.0]], [[1.0, 1.0]], [[2.0, 1.0]]]
    """
    E = as_vectors(embeddings, "embeddings").astype(np.float64)  # (N, D)
    d = np.asarray(direction.vector if isinstance(direction, Direction) else direction, float)
    if d.shape != (E.shape[1],):
        raise DataError(f"the direction must have shape ({E.shape[1]},); got {d.shape}")
    t = np.asarray(steps, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or not np.isfinite(t).all():
        raise DataError(f"steps must be a non-empty 1-D array of finite numbers; got {t!r}")
    return E[None, :, :] + t[:, None, None] * d[None, None, :]  # (T, N, D)


def fc8_logits(model: torch.nn.Module, embeddings: Any) -> np.ndarray:
    """The logits that ``model``'s last stage gives any points of its ``fc7`` space, float64.

    ``fc8`` is one linear map, ``W e + b``: applied to a walked embedding it says exactly what
    the classifier would answer for an image with that embedding.

    Parameters
    ----------
    model : AlexNet
        Or any network with ``linear("fc8")``.
    embeddings : array_like of shape (..., D)
        ``D`` the width of ``fc7``; leading axes (steps, images) are kept.

    Returns
    -------
    ndarray of float64, shape (..., n_classes)

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> net = AlexNet(1, 8, 3, widths=(2, 2, 2, 2, 2), fc=(4, 4), kernel1=3).eval()
    >>> x = torch.rand(5, 1, 8, 8)
    >>> e = net(x, upto="fc7").detach().numpy()
    >>> bool(np.allclose(fc8_logits(net, e), net(x).detach().numpy(), atol=1e-6))
    True
    """
    layer = model.linear("fc8") if hasattr(model, "linear") else None
    if not isinstance(layer, torch.nn.Linear):
        raise DataError(f"fc8_logits needs a network with a linear fc8; got {type(model).__name__}")
    W = layer.weight.detach().cpu().double().numpy()  # (C, D)
    b = layer.bias.detach().cpu().double().numpy()  # (C,)
    E = np.asarray(embeddings, dtype=np.float64)
    if E.ndim < 1 or E.shape[-1] != W.shape[1]:
        raise DataError(
            f"embeddings must end in the {W.shape[1]} units of fc7; got shape {E.shape}"
        )
    return E @ W.T + b  # (..., C)


def softmax(logits: Any) -> np.ndarray:
    """Probabilities along the last axis, computed stably.

    Examples
    --------
    >>> softmax([0.0, np.log(3.0)]).tolist()
    [0.25, 0.75]
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def class_attribute(labels: Any, values: Any, n_classes: int) -> np.ndarray:
    """The attribute value of each class, read off labelled data, (n_classes,) int.

    A classifier of colour-shape pairs (``load_dataset("shapes", target="both")``) has one
    logit per pair; the colour of class ``c`` is the colour of every image labelled ``c``.
    A class whose images disagree, or that has no image, is refused.

    Examples
    --------
    >>> class_attribute([0, 1, 2, 3, 1], [0, 1, 0, 1, 1], 4).tolist()
    [0, 1, 0, 1]
    """
    y = np.asarray(labels)
    v = _values(values, y.shape[0], "values")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise DataError(
            f"labels must be 1-D int codes in [0, {n_classes}); got {y.dtype} {y.shape}"
        )
    low = np.full(n_classes, np.iinfo(np.int64).max)
    high = np.full(n_classes, np.iinfo(np.int64).min)
    np.minimum.at(low, y, v)
    np.maximum.at(high, y, v)
    missing = np.flatnonzero(high < low)
    if missing.size:
        raise DataError(f"class {int(missing[0])} has no labelled image to read its value from")
    mixed = np.flatnonzero(high != low)
    if mixed.size:
        raise DataError(
            f"class {int(mixed[0])} holds images of values {int(low[mixed[0]])} and "
            f"{int(high[mixed[0]])}: the attribute is not a function of the class"
        )
    return low


def marginal(proba: Any, class_values: Any, n_values: int | None = None) -> np.ndarray:
    """Probabilities of an attribute: each class's probability added to its value's.

    Parameters
    ----------
    proba : array_like of shape (..., C)
        Class probabilities (of :func:`softmax` or ``TrainedCNN.predict_proba``).
    class_values : array_like of int, shape (C,)
        The attribute value of each class (:func:`class_attribute`).
    n_values : int, optional
        Values of the attribute; one more than the largest in ``class_values`` by default.

    Returns
    -------
    ndarray of float64, shape (..., n_values)

    Examples
    --------
    >>> marginal([[0.1, 0.2, 0.3, 0.4]], [0, 1, 0, 1]).round(2).tolist()
    [[0.4, 0.6]]
    """
    P = np.asarray(proba, dtype=np.float64)
    cv = np.asarray(class_values)
    if cv.ndim != 1 or cv.shape[0] != P.shape[-1] or not np.issubdtype(cv.dtype, np.integer):
        raise DataError(
            f"class_values must be {P.shape[-1]} int codes (one per class); got {cv.dtype} "
            f"{cv.shape}"
        )
    n = int(cv.max()) + 1 if n_values is None else int(n_values)
    onehot = np.zeros((cv.shape[0], n))  # (C, V)
    onehot[np.arange(cv.shape[0]), cv] = 1.0
    return P @ onehot  # (..., V)
