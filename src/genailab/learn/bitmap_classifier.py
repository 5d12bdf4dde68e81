"""Bitmap ("GPU") classification: paint the training points on a grid, then let the labels spread.

Vincent Granville, "GPU classification" and "AI-based image classification with no neural
network", in *Synthetic Data and Generative AI* (Elsevier, 2024). The labelled points of a 2-D
problem are rasterised onto a bitmap; each pixel that holds training points takes their majority
label and is a *seed* that never changes. A filter then runs over the whole image, pass after
pass, as an image filter would on a GPU, until every pixel has a class:

- ``"majority"``: every non-seed pixel takes the class with the most votes among the classified
  pixels of its ``(2w+1) x (2w+1)`` window (itself included). The class counts of all windows
  are one box filter over the one-hot bitmap ``(C, H, W)``. Passes repeat until no pixel
  changes: the class borders have stopped moving. It is a cellular automaton: each label grows
  by one window ring per pass, a square in pixel units, so with few seeds the fixed point is
  the nearest-seed (Voronoi) partition in the Chebyshev distance of the pixel grid (the
  Euclidean one for pairs of seeds on a row, a column or a diagonal); with many overlapping
  seeds the vote smooths their labels, like a k-nearest-neighbour rule.
- ``"random-neighbor"``: every non-seed pixel copies the label of one uniformly random pixel
  of its window, if that pixel is classified (Granville's version). This is the voter model
  with the seeds as fixed "zealots": it has no fixed point, only a limiting distribution, in
  which the chance that a pixel shows class ``c`` is the chance that a random walk started
  there reaches a seed of class ``c`` first (the voter model's duality with random walks).

Predictions are read back from the bitmap at the pixel that contains the point, so predicting
costs one lookup per point whatever the size of the training set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch

from genailab.device import resolve_device
from genailab.errors import ConfigError, DataError, NotFittedError
from genailab.estimator import Classifier, as_features, as_labels

Mode = Literal["majority", "random-neighbor"]
MODES = ("majority", "random-neighbor")
UNCLASSIFIED = -1


# ------------------------------------------------------------------------------ the filters
def _box_sum(planes: torch.Tensor, w: int) -> torch.Tensor:
    """Sum of each ``(2w+1) x (2w+1)`` window of the last two axes, zero outside: separable."""
    rows = planes.clone()  # (..., H, W): the sum along x, by shifted in-place additions
    for d in range(1, w + 1):
        rows[..., d:] += planes[..., :-d]
        rows[..., :-d] += planes[..., d:]
    out = rows.clone()  # (..., H, W): then along y
    for d in range(1, w + 1):
        out[..., d:, :] += rows[..., :-d, :]
        out[..., :-d, :] += rows[..., d:, :]
    return out


def window_counts(labels: torch.Tensor, n_classes: int, window: int) -> torch.Tensor:
    """How many pixels of each class lie in the ``(2w+1) x (2w+1)`` window around every pixel.

    This is ``conv2d(one_hot(labels), ones(C, 1, 2w+1, 2w+1), padding=w, groups=C)``: pixels
    outside the grid and unclassified pixels (label -1) count for nothing. The all-ones kernel
    is separable, so it is computed as a sum along the rows and then along the columns,
    ``4w`` shifted additions instead of ``(2w+1)^2`` multiply-adds: on a CPU this is many
    times faster than ``conv2d`` (the same counts, exact small integers).

    Parameters
    ----------
    labels : torch.Tensor of shape (H, W), integer
        Class index of every pixel, -1 for unclassified.
    n_classes : int
        Number of classes ``C``.
    window : int
        The half-width ``w >= 1``.

    Returns
    -------
    torch.Tensor of shape (C, H, W), int32
        The counts, on the device of ``labels``.

    Examples
    --------
    >>> labels = torch.tensor([[0, 0, 1], [-1, 1, 1]])
    >>> window_counts(labels, 2, 1)[1]
    tensor([[1, 3, 3],
            [1, 3, 3]], dtype=torch.int32)
    """
    classes = torch.arange(n_classes, device=labels.device).view(-1, 1, 1)  # (C, 1, 1)
    return _box_sum((labels[None] == classes).to(torch.int32), int(window))  # (C, H, W)


def majority_pass(
    labels: torch.Tensor, seeds: torch.Tensor, n_classes: int, window: int
) -> torch.Tensor:
    """One synchronous majority-vote pass over the bitmap.

    Every non-seed pixel takes the class with the most votes in its window (the counts of
    :func:`window_counts`, the pixel's own vote included). Ties: a classified pixel keeps its
    label when that label is among the most voted (it changes only when another class has
    strictly more votes), otherwise it takes the smallest tied class index; a pixel with no
    classified pixel in its window stays unclassified. Seeds never change.

    Parameters
    ----------
    labels : torch.Tensor of shape (H, W), int64
        Class index of every pixel, -1 for unclassified.
    seeds : torch.Tensor of shape (H, W), bool
        The pixels that hold training points.
    n_classes, window : int
        ``C`` and the half-width ``w``.

    Returns
    -------
    torch.Tensor of shape (H, W), int64
        The new labels (a new tensor).

    Examples
    --------
    >>> labels = torch.tensor([[0, -1, -1, 1]])
    >>> majority_pass(labels, labels >= 0, 2, 1)
    tensor([[0, 0, 1, 1]])
    """
    C, w = n_classes, int(window)
    # One sortable key per class folds the vote and both tie rules into a single maximum:
    #   key_c = K n_c + (C - 1 - c) + (c + 1) [label == c],   K = C + 1,
    # so the most votes win, then the current label (bonus C), then the smallest index
    # (bonus C - 1 - c < C). NOTE: on a CPU this is about twice as fast as an arg-max plus a
    # gather of the current label's votes; int16 holds the keys whenever they fit.
    K = C + 1
    dtype = torch.int16 if (2 * w + 1) ** 2 * K + C < 2**15 else torch.int64
    classes = torch.arange(C, device=labels.device).view(-1, 1, 1)  # (C, 1, 1)
    one_hot = (labels[None] == classes).to(dtype)  # (C, H, W)
    keys = _box_sum(one_hot, w)  # (C, H, W) the votes n_c
    keys *= K
    keys += (C - 1 - classes).to(dtype)
    keys += one_hot * (classes + 1).to(dtype)
    top = keys[0].clone()  # (H, W); a loop over the C planes beats a max over the short axis
    for c in range(1, C):
        torch.maximum(top, keys[c], out=top)
    bonus = top % K  # (H, W): C for the current label, else C - 1 - winner
    keep = seeds | (top < K) | (bonus == C)  # seeds, no votes at all, or the label holds
    return torch.where(keep, labels, (C - 1 - bonus).to(labels.dtype))


def random_neighbor_pass(
    labels: torch.Tensor, seeds: torch.Tensor, window: int, generator: torch.Generator
) -> torch.Tensor:
    """One pass of Granville's random-neighbour copying.

    Every non-seed pixel picks one pixel of its ``(2w+1) x (2w+1)`` window uniformly at random
    (itself included, offsets drawn independently per pixel from ``generator``) and copies its
    label if that pixel is classified; a pick outside the grid counts as unclassified, so the
    pixel then keeps its label. Seeds never change.

    Parameters
    ----------
    labels : torch.Tensor of shape (H, W), int64
        Class index of every pixel, -1 for unclassified.
    seeds : torch.Tensor of shape (H, W), bool
        The pixels that hold training points.
    window : int
        The half-width ``w``.
    generator : torch.Generator
        Source of the offsets, on the device of ``labels``.

    Returns
    -------
    torch.Tensor of shape (H, W), int64

    Examples
    --------
    >>> labels = torch.tensor([[0, -1, -1, -1, -1], [-1, -1, -1, -1, -1]])
    >>> seeds, g = labels >= 0, torch.Generator().manual_seed(0)
    >>> for _ in range(30):
    ...     labels = random_neighbor_pass(labels, seeds, 1, g)
    >>> labels
    tensor([[0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0]])
    """
    H, W = labels.shape
    w = int(window)
    device = labels.device
    # Work on the bitmap framed by w unclassified pixels, flattened: the neighbour at offset
    # (dr, dc) of a pixel is then `flat index + dr * (W + 2w) + dc`, never out of bounds, and
    # a pick in the frame reads -1 (outside the grid = unclassified). One random draw per pixel
    # picks one of the (2w+1)^2 offsets.
    Wp = W + 2 * w
    framed = torch.nn.functional.pad(labels, (w, w, w, w), value=UNCLASSIFIED).view(-1)
    dr, dc = torch.meshgrid(
        torch.arange(-w, w + 1, device=device),
        torch.arange(-w, w + 1, device=device),
        indexing="ij",
    )
    offsets = (dr * Wp + dc).reshape(-1)  # ((2w+1)^2,) flat offsets
    centre = (torch.arange(w, H + w, device=device) * Wp).view(H, 1) + torch.arange(
        w, W + w, device=device
    ).view(1, W)  # (H, W) flat index of each pixel in the framed bitmap
    pick = torch.randint(0, (2 * w + 1) ** 2, (H, W), generator=generator, device=device)  # (H, W)
    picked = torch.take(framed, centre + torch.take(offsets, pick))  # (H, W) neighbour's label
    copy = ~seeds & (picked >= 0)  # (H, W)
    return torch.where(copy, picked, labels)


# ------------------------------------------------------------------------------ the estimator
class BitmapClassifier(Classifier):
    """Classify 2-D points with a bitmap that fills in from the training points, pass by pass.

    **Grid.** The bounding box of the training ``X``, widened on each side by ``margin`` times
    its extent along that axis (an axis where all points agree gets an extent of 1), cut into
    ``rx x ry`` equal pixels. The bitmap is indexed ``[row, column]`` = ``[y, x]``, row 0 at the
    smallest ``y`` (draw it with ``imshow(..., origin="lower", extent=extent_)``). A point maps
    to the pixel that contains it, ``column = floor((x - x_min) / pixel_width)``; a point
    outside the box reads the nearest edge pixel.

    **Seeds.** A pixel that holds training points takes their majority label (ties: the
    smallest class index, in the order of ``classes_``) and never changes.

    **Passes.** See :func:`majority_pass` (ties keep the current label) and
    :func:`random_neighbor_pass`. ``"majority"`` runs until a pass changes no pixel (the
    borders have stopped moving), or until ``passes`` (at most ``max_passes``) passes; it also
    stops if the bitmap falls into a two-pass cycle, which synchronous majority filters can do
    (Goles & Olivos, 1980), with ``converged_`` False. ``"random-neighbor"`` has no fixed point:
    with ``passes=None`` it stops as soon as every pixel is classified; give ``passes`` to let
    the borders mix longer (it then runs exactly that many passes, capped by ``max_passes``).

    **Reading back.** :meth:`predict` returns the label of the point's pixel. With the counts
    ``n_c`` of each class among the ``n`` classified pixels of the window around that pixel,
    :meth:`predict_proba` is ``(e_label + n_c / n) / 2``: half the pixel's own label (one-hot),
    half the class shares of its window, so the rows sum to 1, the share of the neighbourhood
    shows how sure the bitmap is, and ``argmax`` is always the bitmap label, seeds included. A
    pixel left unclassified (only when ``passes`` stopped the fill early) gets the window
    shares, or ``1 / C`` each when its window is empty too; :meth:`predict` then takes their
    argmax (the smallest class index on ties).

    Parameters
    ----------
    resolution : int or (int, int), default 200
        Pixels per axis, or ``(rx, ry)``; at least 2 each.
    window : int, default 1
        Half-width ``w`` of the ``(2w+1) x (2w+1)`` window of the filter and of
        :meth:`predict_proba`.
    mode : {"majority", "random-neighbor"}, default "majority"
        The filter.
    passes : int, optional
        Most passes to run; ``None`` runs until stable (majority) or until every pixel is
        classified (random-neighbor).
    max_passes : int, default 2000
        Hard cap on the number of passes whatever ``passes`` says.
    margin : float, default 0.05
        Widening of the bounding box on each side, as a fraction of its extent.
    device : str or torch.device, default "auto"
        Where the bitmap lives and the passes run: ``"auto"`` takes cuda when available, else
        the CPU.
    random_state : int, optional
        Seed of the ``torch.Generator`` of the random-neighbour picks (unused by majority).

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
        The labels, sorted (``np.unique(y)``).
    bitmap_ : ndarray of shape (ry, rx), int64
        The class index of every pixel (into ``classes_``), -1 where unclassified.
    seeds_ : ndarray of shape (ry, rx), bool
        The pixels that hold training points.
    extent_ : tuple of 4 floats
        ``(x_min, x_max, y_min, y_max)`` of the grid.
    resolution_ : tuple of 2 ints
        ``(rx, ry)``.
    n_passes_ : int
        Passes run.
    changed_ : ndarray of shape (n_passes_,), int64
        Pixels that changed label at each pass (the borders stop moving when it reaches 0).
    converged_ : bool
        Majority: whether the last pass changed nothing. Random-neighbor: whether every pixel
        is classified.
    device_ : torch.device
        The device of the bitmap.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> clf = BitmapClassifier(resolution=20).fit(X, ["a", "b", "a", "b"])
    >>> clf.predict([[0.2, 0.5], [0.9, 0.4]])
    array(['a', 'b'], dtype='<U1')
    >>> clf.n_passes_, bool(clf.converged_), int((clf.bitmap_ == -1).sum())
    (10, True, 0)
    """

    def __init__(
        self,
        resolution: int | tuple[int, int] = 200,
        window: int = 1,
        mode: Mode = "majority",
        passes: int | None = None,
        max_passes: int = 2000,
        margin: float = 0.05,
        device: str | torch.device = "auto",
        random_state: int | None = None,
    ) -> None:
        self.resolution = resolution
        self.window = window
        self.mode = mode
        self.passes = passes
        self.max_passes = max_passes
        self.margin = margin
        self.device = device
        self.random_state = random_state

    # -------------------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray) -> BitmapClassifier:
        """Rasterise the training points, then run the passes.

        Parameters
        ----------
        X : array of shape (n_samples, 2)
            Training points.
        y : array of shape (n_samples,)
            Their labels (any hashable values ``np.unique`` can sort), at least 2 classes.

        Returns
        -------
        BitmapClassifier
            ``self``, fitted.
        """
        for _ in self._run(X, y):
            pass
        self.bitmap_ = self._labels.cpu().numpy()
        return self

    def iter_passes(self, X: np.ndarray, y: np.ndarray) -> Iterator[np.ndarray]:
        """Fit pass by pass, yielding the bitmap after rasterising and after every pass.

        The first bitmap is the seeds alone (pass 0). After each yield the estimator is a
        fitted one at that pass (``bitmap_``, ``n_passes_``, ``changed_``, :meth:`predict`),
        and once the generator is exhausted it is in the same state as after :meth:`fit`.

        Parameters
        ----------
        X, y
            As for :meth:`fit`.

        Yields
        ------
        ndarray of shape (ry, rx), int64
            A copy of ``bitmap_``: class indices, -1 where unclassified.

        Examples
        --------
        >>> clf = BitmapClassifier(resolution=8, margin=0.0)
        >>> maps = list(clf.iter_passes([[0.0, 0.0], [1.0, 1.0]], [0, 1]))
        >>> len(maps) == clf.n_passes_ + 1, int((maps[0] >= 0).sum()), clf.changed_.tolist()
        (True, 2, [6, 10, 14, 14, 10, 6, 2, 0])
        """
        for labels in self._run(X, y):
            self.bitmap_ = labels.cpu().numpy()
            yield self.bitmap_.copy()

    def _run(self, X, y) -> Iterator[torch.Tensor]:
        params = self._check_params()
        X, y_index = self._check_data(X, y)
        rx, ry = params["resolution"]
        self.resolution_ = (rx, ry)
        self.device_ = params["device"]
        self._window = params["window"]
        low, high = X.min(0), X.max(0)  # (2,), (2,)
        extent = np.where(high > low, high - low, 1.0)  # (2,); 1 on a degenerate axis
        centre = np.where(high > low, low, low - 0.5)
        lo = centre - self.margin * extent  # (2,)
        hi = centre + extent + self.margin * extent  # (2,)
        self.extent_ = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        C = len(self.classes_)

        # Rasterise: count each class in each pixel, the seeds take the majority (argmax picks
        # the smallest class index on ties).
        col, row = self._pixel_of(X)  # (n,), (n,)
        flat = row * rx + col  # (n,)
        tally = np.bincount(flat * C + y_index, minlength=ry * rx * C).reshape(ry * rx, C)
        held = tally.sum(1) > 0  # (ry*rx,)
        seeds = np.where(held, tally.argmax(1), UNCLASSIFIED).reshape(ry, rx)  # (ry, rx)
        device = self.device_
        labels = torch.as_tensor(seeds, dtype=torch.int64, device=device)  # (ry, rx)
        self._seeds = labels >= 0
        self.seeds_ = held.reshape(ry, rx)
        self.n_passes_ = 0
        self.changed_ = np.zeros(0, dtype=np.int64)
        self.converged_ = False
        self._labels = labels
        yield labels

        generator = None
        if self.mode == "random-neighbor":
            generator = torch.Generator(device=device)
            if self.random_state is None:
                generator.seed()
            else:
                generator.manual_seed(int(self.random_state))
        limit = (
            params["max_passes"] if self.passes is None else min(self.passes, params["max_passes"])
        )
        changed: list[int] = []
        before = None  # the bitmap two passes ago, to spot a two-pass cycle
        while len(changed) < limit:
            if self.mode == "majority":
                new = majority_pass(labels, self._seeds, C, params["window"])
            else:
                new = random_neighbor_pass(labels, self._seeds, params["window"], generator)
            n_changed = int((new != labels).sum())
            changed.append(n_changed)
            cycling = (
                self.mode == "majority"
                and len(changed) >= 2
                and n_changed == changed[-2] > 0
                and torch.equal(new, before)
            )
            before, labels = labels, new
            self._labels = labels
            self.n_passes_ = len(changed)
            self.changed_ = np.asarray(changed, dtype=np.int64)
            if self.mode == "majority":
                self.converged_ = n_changed == 0
            else:
                self.converged_ = bool((labels >= 0).all())
            yield labels
            if cycling or (self.mode == "majority" and n_changed == 0):
                break
            if self.mode == "random-neighbor" and self.passes is None and self.converged_:
                break

    # -------------------------------------------------------------------------- reading back
    def pixel_of(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``(row, column)`` of the pixel that each point reads, nearest edge pixel outside.

        Parameters
        ----------
        X : array of shape (n_samples, 2)

        Returns
        -------
        row, column : ndarrays of shape (n_samples,), int64
            Index ``bitmap_[row, column]``.

        Examples
        --------
        >>> clf = BitmapClassifier(resolution=10, margin=0.0).fit([[0, 0], [1, 1]], [0, 1])
        >>> clf.pixel_of([[0.05, 0.95], [0.5, 7.0]])
        (array([9, 9]), array([0, 5]))
        """
        self._check_fitted()
        col, row = self._pixel_of(as_features(self, X, reset=False))
        return row, col

    def _pixel_of(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, x1, y0, y1 = self.extent_
        rx, ry = self.resolution_
        col = np.floor((X[:, 0] - x0) / (x1 - x0) * rx).astype(np.int64).clip(0, rx - 1)  # (n,)
        row = np.floor((X[:, 1] - y0) / (y1 - y0) * ry).astype(np.int64).clip(0, ry - 1)  # (n,)
        return col, row

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Half the point's pixel label (one-hot), half the class shares of its window.

        Parameters
        ----------
        X : array of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples, C)
            Columns in the order of ``classes_``; rows sum to 1.

        Examples
        --------
        >>> clf = BitmapClassifier(resolution=4, margin=0.0).fit([[0, 0], [1, 1]], [0, 1])
        >>> clf.bitmap_
        array([[0, 0, 0, 0],
               [0, 0, 0, 1],
               [0, 0, 1, 1],
               [0, 1, 1, 1]])
        >>> clf.predict_proba([[0.1, 0.1], [0.6, 0.4]])
        array([[1.        , 0.        ],
               [0.83333333, 0.16666667]])
        """
        self._check_fitted()
        col, row = self._pixel_of(as_features(self, X, reset=False))
        labels = self._labels
        C = len(self.classes_)
        counts = window_counts(labels, C, self._window)  # (C, ry, rx)
        index = torch.as_tensor(row * counts.shape[2] + col, device=counts.device)  # (n,)
        n_c = counts.flatten(1)[:, index].T.cpu().numpy()  # (n, C)
        n_c = n_c.astype(np.float64)
        n = n_c.sum(1, keepdims=True)  # (n, 1)
        shares = np.divide(n_c, n, out=np.full_like(n_c, 1.0 / C), where=n > 0)  # (n, C)
        own = self.bitmap_[row, col]  # (n,)
        classified = own >= 0
        proba = shares
        proba[classified] = 0.5 * shares[classified]
        proba[classified, own[classified]] += 0.5
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The label of the pixel that contains each point (nearest edge pixel outside the grid).

        Parameters
        ----------
        X : array of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples,)
            Values of ``classes_``; equal to ``classes_[predict_proba(X).argmax(1)]``.

        Examples
        --------
        >>> clf = BitmapClassifier(resolution=10).fit([[0, 0], [2, 0]], ["left", "right"])
        >>> clf.predict([[0.9, 5.0], [1.1, -5.0], [99.0, 0.0]])
        array(['left', 'right', 'right'], dtype='<U5')
        """
        self._check_fitted()
        X = as_features(self, X, reset=False)
        col, row = self._pixel_of(X)
        own = self.bitmap_[row, col]  # (n,)
        if (own < 0).any():  # only when `passes` stopped the fill early
            own = np.where(own >= 0, own, self.predict_proba(X).argmax(1))
        return self.classes_[own]

    # -------------------------------------------------------------------------- checks
    def _check_params(self) -> dict:
        res = self.resolution
        pair = (res, res) if isinstance(res, int | np.integer) else res
        if (
            isinstance(res, bool)
            or not isinstance(pair, tuple | list)
            or len(pair) != 2
            or not all(isinstance(r, int | np.integer) and not isinstance(r, bool) for r in pair)
            or min(pair) < 2
        ):
            raise ConfigError(
                f"resolution must be an int >= 2 or a pair (rx, ry) of ints >= 2, got {res!r}"
            )
        w = self.window
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 1:
            raise ConfigError(f"window must be an int >= 1, got {w!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        for key in ("passes", "max_passes"):
            value = getattr(self, key)
            if value is None and key == "passes":
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                accepted = "an int >= 1 or None" if key == "passes" else "an int >= 1"
                raise ConfigError(f"{key} must be {accepted}, got {value!r}")
        if not isinstance(self.margin, int | float) or not 0 <= self.margin < np.inf:
            raise ConfigError(f"margin must be a finite number >= 0, got {self.margin!r}")
        if self.random_state is not None and not isinstance(self.random_state, int | np.integer):
            raise ConfigError(f"random_state must be an int or None, got {self.random_state!r}")
        return {
            "resolution": (int(pair[0]), int(pair[1])),
            "window": int(w),
            "max_passes": int(self.max_passes),
            "device": resolve_device(self.device),
        }

    def _check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X = as_features(self, X, reset=True, n_features=2, why="points of the plane, (x, y)")
        y = as_labels(self, y, len(X))
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            only = self.classes_[0].item()
            raise DataError(f"y must hold at least 2 classes, got 1 class ({only!r})")
        return X, y_index.reshape(-1)

    def _check_fitted(self) -> None:
        if not hasattr(self, "_labels"):
            raise NotFittedError("this BitmapClassifier is not fitted yet: call fit(X, y) first")
