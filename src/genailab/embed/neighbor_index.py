"""What every nearest-neighbour index shares: checks, metrics, the query shapes, save and load.

An index follows scikit-learn's ``NearestNeighbors``: ``fit(X)`` indexes the rows of ``X``,
``kneighbors(Q, k)`` returns ``(distances, indices)`` sorted by distance, nearest first. A
subclass writes two methods, ``_build(X)`` and ``_search(Q, k)``, and receives arrays that
are already checked and prepared for the metric:

- ``metric="l2"``: the rows as given; distances are Euclidean (not squared).
- ``metric="cosine"``: the rows scaled to unit length, so that ``||a - b||^2 = 2 - 2 cos``
  and any L2 search is a cosine search; distances are ``1 - cos`` (in [0, 2]). A zero row
  has no direction and is refused.

Data are float32 (the precision of embeddings and of every library we compare with); a
subclass computes in float64 where precision matters.

``save(path)`` writes one ``.npz`` (atomically) holding the class name, the parameters and the
learned arrays; :func:`load_index` rebuilds the index with no refit.

:class:`NeighborIndex` itself is abstract (``abc.ABC``): it cannot be built, and its four hooks
(``_build``, ``_search``, ``_state``, ``_restore``) must be written by each index. Calling one
that a subclass left to the base class (through ``super()``) says which indexes to use instead.
"""

from __future__ import annotations

import abc
import inspect
import json
import numbers
import os
import zipfile
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from genailab.atomic_write import atomic_path
from genailab.errors import ConfigError, DataError, GenailabError, NotFittedError

METRICS = ("l2", "cosine")
FORMAT = "genailab-neighbor-index"
#: the indexes of :mod:`genailab.embed` that a user builds (the conformance tests check the list)
CONCRETE_INDEXES = ("ExactIndex", "GraphIndex", "IVFIndex", "LSHIndex", "ProbabilisticANN")
_USE_INSTEAD = f"use one of the concrete indexes of genailab.embed: {', '.join(CONCRETE_INDEXES)}"


class IndexFileError(GenailabError, ValueError):
    """A saved index that is missing, corrupt, or from another program."""


def as_vectors(X: Any, name: str, dim: int | None = None) -> np.ndarray:
    """``X`` as a C-contiguous float32 (n, d) array, refusing what no index can use.

    Parameters
    ----------
    X : array_like of shape (n, d)
    name : str
        What to call ``X`` in an error ("X", "Q").
    dim : int, optional
        The dimension ``d`` that ``X`` must have.

    Examples
    --------
    >>> as_vectors([[1, 2], [3, 4]], "X").dtype
    dtype('float32')
    """
    try:
        A = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be an array of numbers; got {type(X).__name__}") from None
    if A.ndim != 2:
        raise DataError(f"{name} must be 2-D (n, d); got shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise DataError(f"{name} must have at least one row and one column; got shape {A.shape}")
    if dim is not None and A.shape[1] != dim:
        raise DataError(f"{name} has dimension {A.shape[1]}, but the index holds {dim}-d vectors")
    if np.isfinite(A).all():  # the common case in one pass; rows are counted only on failure
        return A if A.flags.c_contiguous else np.ascontiguousarray(A)
    bad = ~np.isfinite(A).all(axis=1)  # (n,)
    raise DataError(
        f"{name} must be finite; {int(bad.sum())} rows hold NaN or inf "
        f"(first: row {int(np.flatnonzero(bad)[0])})"
    )


def unit_rows(A: np.ndarray, name: str) -> np.ndarray:
    """Rows scaled to unit L2 norm (float32); a zero row is an error."""
    norms = np.sqrt(np.einsum("ij,ij->i", A, A, dtype=np.float64))  # (n,) no float32 overflow
    zero = norms == 0
    if zero.any():
        raise DataError(
            f"{name} has {int(zero.sum())} zero rows (first: row {int(np.flatnonzero(zero)[0])}); "
            "a zero vector has no cosine distance"
        )
    return (A / norms[:, None]).astype(np.float32)


class AbstractIndexError(GenailabError, NotImplementedError):
    """A hook of :class:`NeighborIndex` called on the abstract base class itself."""


class NeighborIndex(abc.ABC):
    """Abstract base class of the indexes in :mod:`genailab.embed`; see the module docstring.

    A subclass writes ``_build``, ``_search``, ``_state`` and ``_restore`` (and, if it has
    parameters, ``__init__``, ``PARAMS`` and ``_check_params``); :class:`ExactIndex` is the
    shortest example.

    Parameters
    ----------
    metric : {"l2", "cosine"}, default "l2"

    Attributes
    ----------
    n_indexed_ : int
        Rows indexed by :meth:`fit`.
    dim_ : int
        Their dimension.
    """

    #: the constructor's parameter names, saved and restored with the index
    PARAMS: ClassVar[tuple[str, ...]] = ("metric",)

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # NOTE: ABC's own refusal ("Can't instantiate abstract class ...") does not say what to
        # use instead; this one does.
        if cls.__abstractmethods__:
            missing = ", ".join(sorted(cls.__abstractmethods__))
            if cls is NeighborIndex:
                raise TypeError(f"NeighborIndex is an abstract base class; {_USE_INSTEAD}")
            raise TypeError(
                f"{cls.__name__} does not write {missing} of NeighborIndex; write them "
                f"(ExactIndex is the shortest example), or {_USE_INSTEAD}"
            )
        return super().__new__(cls)

    def __init__(self, metric: str = "l2") -> None:
        self.metric = metric

    # ---------------------------------------------------------------- the public API
    def fit(self, X: Any) -> Self:
        """Index the rows of ``X`` (n, d) and return self."""
        if self.metric not in METRICS:
            raise ConfigError(f"metric must be one of {METRICS}; got {self.metric!r}")
        self._check_params()
        X = as_vectors(X, "X")
        if self.metric == "cosine":
            X = unit_rows(X, "X")
        self.n_indexed_, self.dim_ = X.shape
        self._build(X)
        return self

    def kneighbors(self, Q: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest indexed rows of each query, nearest first.

        Parameters
        ----------
        Q : array_like of shape (q, d) or (d,)
            Queries; one 1-D query gives 1-D results.
        k : int, default 10
            Neighbours per query, ``1 <= k <= n_indexed_``.

        Returns
        -------
        distances : ndarray of float32, shape (q, k) or (k,)
            Euclidean distance for ``"l2"``, ``1 - cos`` for ``"cosine"``.
        indices : ndarray of int64, shape (q, k) or (k,)
            Row numbers in the fitted ``X``.
        """
        if not hasattr(self, "n_indexed_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise DataError(f"k must be an int >= 1; got {k!r}")
        if k > self.n_indexed_:
            raise DataError(f"k={k} is larger than the {self.n_indexed_} indexed vectors")
        single = np.ndim(Q) == 1
        Q = as_vectors(np.atleast_2d(Q) if single else Q, "Q", self.dim_)
        if self.metric == "cosine":
            Q = unit_rows(Q, "Q")
        squared, indices = self._search(Q, int(k))  # squared L2 on prepared rows
        squared = np.maximum(squared, 0.0)  # rounding can make 0 a tiny negative
        distances = squared / 2.0 if self.metric == "cosine" else np.sqrt(squared)
        distances, indices = distances.astype(np.float32), indices.astype(np.int64)
        return (distances[0], indices[0]) if single else (distances, indices)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted index to ``path`` (``.npz``), atomically; return the path."""
        if not hasattr(self, "n_indexed_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; nothing to save")
        header = {
            "format": FORMAT,
            "class": type(self).__name__,
            "params": {p: getattr(self, p) for p in self.PARAMS},
            "n_indexed": self.n_indexed_,
            "dim": self.dim_,
        }
        arrays = {f"state.{key}": value for key, value in self._state().items()}
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, header=np.array(json.dumps(header)), **arrays)
        return path

    # ---------------------------------------------------------------- for subclasses
    def _check_params(self) -> None:  # noqa: B027 (optional: an index without parameters has none)
        """Raise ValueError for a bad constructor parameter (called by fit)."""

    @abc.abstractmethod
    def _build(self, X: np.ndarray) -> None:
        """Learn the index of the prepared rows ``X`` (n, d) float32."""
        _abstract("_build")

    @abc.abstractmethod
    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (squared L2 distances (q, k), indices (q, k)), nearest first."""
        _abstract("_search")

    @abc.abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """The learned arrays that :func:`load_index` hands back to :meth:`_restore`."""
        _abstract("_state")

    @abc.abstractmethod
    def _restore(self, state: dict[str, np.ndarray]) -> None:
        """Take back the arrays of :meth:`_state` (``n_indexed_`` and ``dim_`` are set)."""
        _abstract("_restore")


def _abstract(hook: str) -> None:
    raise AbstractIndexError(
        f"NeighborIndex.{hook} is abstract: an index writes its own {hook}; {_USE_INSTEAD}"
    )


def load_index(path: str | os.PathLike) -> NeighborIndex:
    """Rebuild an index written by :meth:`NeighborIndex.save`.

    Raises
    ------
    IndexFileError
        The file is missing, not an ``.npz`` written by genailab, or names an unknown index.
    """
    import genailab.embed as embed

    path = Path(path)
    if not path.is_file():
        raise IndexFileError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):  # np.load would take it for a pickle and say so
        raise IndexFileError(f"{path}: not a saved genailab index (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            state = {key.removeprefix("state."): data[key] for key in data.files if key != "header"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        # NOTE: a truncated or altered archive fails here, as BadZipFile (a bad CRC) or OSError
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise IndexFileError(f"{path}: not a saved genailab index ({reason})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise IndexFileError(f"{path}: not a saved genailab index (no '{FORMAT}' header)")
    cls = getattr(embed, str(header.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, NeighborIndex)) or inspect.isabstract(cls):
        raise IndexFileError(f"{path}: unknown index class {header.get('class')!r}")
    try:
        index = cls(**header["params"])
        index.n_indexed_, index.dim_ = int(header["n_indexed"]), int(header["dim"])
        index._restore(state)
    except (KeyError, TypeError, ValueError) as err:
        raise IndexFileError(
            f"{path}: a damaged {cls.__name__} (its header and arrays disagree: {err!r})"
        ) from None
    return index
