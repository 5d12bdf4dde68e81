"""The estimator contract that scikit-learn's tools rely on, written for genailab.

scikit-learn's developer guide ("Developing scikit-learn estimators") asks four things of an
estimator, and ``clone``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` need nothing
more:

1. ``__init__`` takes keyword parameters and stores each, unchanged, under its own name;
   nothing else (no checks, no learned state).
2. ``get_params()`` returns them and ``set_params(**p)`` sets them, so a tool can copy an
   estimator (``clone``: a new one built from ``get_params()``) or try other values.
3. ``fit`` checks its input, learns attributes whose names end in ``_`` (``n_features_in_``
   among them) and returns ``self``; ``predict`` and ``score`` check new input against
   ``n_features_in_``.
4. ``__sklearn_tags__()`` says what kind of estimator it is (classifier, regressor, clusterer),
   so that ``cross_val_score`` splits a classifier's data by class, for instance.

:class:`Estimator` reads the parameters from the signature of ``__init__`` (1 and 2) and
builds the tags (4); :class:`Classifier`, :class:`Regressor` and :class:`Clusterer` add each
kind's usual method (accuracy, R^2, ``fit_predict``). :func:`as_features`, :func:`as_labels`
and :func:`as_targets` are the input checks of 3, each error one line that names the value.

genailab does not depend on scikit-learn: only scikit-learn calls ``__sklearn_tags__``, so that
method is the one place that imports it.

Examples
--------
>>> class Shift(Regressor):
...     def __init__(self, offset=0.0):
...         self.offset = offset
>>> Shift(offset=2.5)
Shift(offset=2.5)
>>> Shift().set_params(offset=1.0).get_params()
{'offset': 1.0}
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar, Self

import numpy as np

from genailab.errors import ConfigError, DataError

Kind = str | None  # "classifier", "regressor", "clusterer" or None


class DataTypeError(DataError, TypeError):
    """Input that holds something other than numbers (a dict, an object), where numbers go."""


# ------------------------------------------------------------------------------ parameters
class Estimator:
    """``get_params``, ``set_params``, a ``repr`` of the changed parameters, and the tags.

    A subclass writes an ``__init__`` whose keyword parameters it stores under their own
    names; everything here is read from that signature.
    """

    #: what scikit-learn's tags call the estimator type; subclasses of a kind set it
    _kind: ClassVar[Kind] = None

    @classmethod
    def _param_names(cls) -> list[str]:
        """The parameters of ``__init__``, sorted (as scikit-learn lists them)."""
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise TypeError(f"{cls.__name__}.__init__ takes *{p.name}; an estimator may not")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their current values.

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of parameters that are estimators, as ``name__key``.
        """
        params: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params: Any) -> Self:
        """Set parameters by name (``name__key`` reaches into a parameter that is an estimator).

        Raises
        ------
        ConfigError
            A name that is not a parameter of this estimator.
        """
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"its parameters: {', '.join(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        """The class and the parameters that differ from their defaults, in signature order."""
        signature = inspect.signature(type(self).__init__).parameters
        shown = []
        for name, p in signature.items():
            if name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            value = getattr(self, name)
            # repr decides "changed": it works for arrays and NaN, where == does not
            if p.default is p.empty or repr(value) != repr(p.default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _estimator_kind(self) -> Kind:
        return self._kind

    def __sklearn_tags__(self):  # returns sklearn.utils.Tags, imported here only
        """scikit-learn's description of this estimator (only scikit-learn calls this)."""
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        kind = self._estimator_kind()
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=kind in ("classifier", "regressor")),
            classifier_tags=ClassifierTags() if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
        )


# ------------------------------------------------------------------------------ the kinds
class Classifier(Estimator):
    """An estimator whose ``predict`` returns class labels (``classes_``).

    Examples
    --------
    >>> class Majority(Classifier):
    ...     def fit(self, X, y):
    ...         self.classes_, counts = np.unique(y, return_counts=True)
    ...         self.label_ = self.classes_[counts.argmax()]
    ...         return self
    ...     def predict(self, X):
    ...         return np.full(len(X), self.label_)
    >>> Majority().fit([[0], [1], [2]], ["a", "b", "b"]).score([[5], [6]], ["b", "a"])
    0.5
    """

    _kind = "classifier"

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the share of ``predict(X)`` equal to ``y`` (of every output, if several)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


class Regressor(Estimator):
    """An estimator whose ``predict`` returns real numbers.

    Examples
    --------
    >>> class Mean(Regressor):
    ...     def fit(self, X, y):
    ...         self.mean_ = float(np.mean(y))
    ...         return self
    ...     def predict(self, X):
    ...         return np.full(len(X), self.mean_)
    >>> Mean().fit([[0], [1]], [1.0, 3.0]).score([[0], [1]], [1.0, 3.0])  # no better than the mean
    0.0
    """

    _kind = "regressor"

    def score(self, X: Any, y: Any) -> float:
        """The coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` of ``predict(X)``."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        residual = np.sum((y - np.asarray(self.predict(X)).reshape(-1)) ** 2)
        return float(1.0 - residual / np.sum((y - y.mean()) ** 2))


class Clusterer(Estimator):
    """An estimator that groups the rows it is fitted on (``labels_``).

    Examples
    --------
    >>> class Sign(Clusterer):
    ...     def fit(self, X, y=None):
    ...         self.labels_ = (np.asarray(X)[:, 0] > 0).astype(int)
    ...         return self
    >>> Sign().fit_predict([[-1.0], [2.0], [3.0]])
    array([0, 1, 1])
    """

    _kind = "clusterer"

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on ``X`` and return the cluster of each of its rows (``labels_``)."""
        return self.fit(X).labels_


# ------------------------------------------------------------------------------ input checks
def as_features(
    estimator: Estimator,
    X: Any,
    *,
    reset: bool,
    n_features: int | None = None,
    why: str = "",
    min_samples: int = 1,
    allow_1d: bool = False,
    dtype: type = np.float64,
) -> np.ndarray:
    """``X`` as a finite (n_samples, n_features) array, checked; on ``reset`` it sets
    ``n_features_in_`` (and ``feature_names_in_`` for a table with text column names).

    Parameters
    ----------
    estimator : Estimator
        Named in the errors; its ``n_features_in_`` is set (``reset``) or checked.
    X : array_like of shape (n_samples, n_features)
    reset : bool
        True in ``fit``; False in ``predict``, ``score``, which check ``X`` against the fit.
    n_features : int, optional
        The one number of features the estimator is defined for, and ``why``.
    min_samples : int, default 1
    allow_1d : bool, default False
        Read a 1-D ``X`` as one feature, (n,) -> (n, 1).
    dtype : numpy dtype, default float64

    Examples
    --------
    >>> class Mean(Regressor):
    ...     pass
    >>> model = Mean()
    >>> as_features(model, [[1, 2], [3, 4]], reset=True).shape, model.n_features_in_
    ((2, 2), 2)
    >>> as_features(model, [[1, 2, 3]], reset=False)
    Traceback (most recent call last):
    ...
    genailab.errors.DataError: X has 3 features, but Mean is expecting 2 features as input
    """
    name = type(estimator).__name__
    if _is_sparse(X):
        raise DataTypeError(
            f"X is a sparse matrix ({type(X).__name__}); {name} takes dense data: X.toarray()"
        )
    columns = getattr(X, "columns", None)
    A = np.asarray(X)
    if A.dtype.kind == "c":
        raise DataError(f"Complex data not supported: X has dtype {A.dtype}; {name} takes reals")
    try:
        A = np.asarray(A, dtype=dtype)
    except TypeError as err:  # an object that is no number: a dict, None
        raise DataTypeError(f"X must hold numbers; {err}") from None
    except ValueError as err:  # text that is no number
        raise DataError(f"X must hold numbers; {err}") from None
    if allow_1d and A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise DataError(
            f"{name} takes a 2-D X (n_samples, n_features); got shape {A.shape}. Reshape your "
            "data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one sample"
        )
    n, d = A.shape
    if n < min_samples:
        raise DataError(
            f"X has {n} sample(s) (shape={A.shape}) while a minimum of {min_samples} "
            f"is required by {name}"
        )
    if d == 0:
        raise DataError(
            f"X has 0 feature(s) (shape={A.shape}) while a minimum of 1 is required by {name}"
        )
    if reset and n_features is not None and d != n_features:
        raise DataError(
            f"X has {d} feature(s), but {name} is defined for {n_features} only ({why})"
        )
    if not reset and hasattr(estimator, "n_features_in_") and d != estimator.n_features_in_:
        raise DataError(
            f"X has {d} features, but {name} is expecting {estimator.n_features_in_} features "
            "as input"
        )
    if not np.isfinite(A).all():
        bad = np.argwhere(~np.isfinite(A))  # (m, 2)
        raise DataError(
            f"X must be finite; {len(bad)} values are NaN or inf (first: row {bad[0, 0]}, "
            f"column {bad[0, 1]})"
        )
    _feature_names(estimator, columns, reset)
    if reset:
        estimator.n_features_in_ = d
    return A


def _is_sparse(X: Any) -> bool:
    """A scipy.sparse matrix or array, recognised without importing scipy."""
    return type(X).__module__.startswith("scipy.sparse")


def _feature_names(estimator: Estimator, columns: Any, reset: bool) -> None:
    names = None
    if columns is not None and len(columns) and all(isinstance(c, str) for c in columns):
        names = np.asarray(columns, dtype=object)
    if reset:
        if names is None:
            estimator.__dict__.pop("feature_names_in_", None)
        else:
            estimator.feature_names_in_ = names
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and names is not None and not np.array_equal(fitted, names):
        raise DataError(
            f"X has the columns {list(names)}, but {type(estimator).__name__} was fitted on "
            f"{list(fitted)}"
        )


def _target(estimator: Estimator, y: Any, n_samples: int, *, multi_output: bool) -> np.ndarray:
    """Checks that labels and numeric targets share: given, real, of the right shape."""
    name = type(estimator).__name__
    if y is None:
        raise DataError(f"{name} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.dtype.kind == "c":
        raise DataError(f"Complex data not supported: y has dtype {y.dtype}; {name} takes reals")
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        warnings.warn(
            f"A column-vector y was passed when a 1d array was expected; {name} reads it as "
            "y.ravel()",
            UserWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    shapes = f"({n_samples},) or ({n_samples}, n_outputs)" if multi_output else f"({n_samples},)"
    if y.ndim not in ((1, 2) if multi_output else (1,)):
        raise DataError(f"y must have shape {shapes} to match X; got {y.shape}")
    if len(y) != n_samples:
        raise DataError(f"X and y have different numbers of samples: {n_samples} and {len(y)}")
    return y


def as_labels(
    estimator: Estimator, y: Any, n_samples: int, *, multi_output: bool = False
) -> np.ndarray:
    """``y`` as class labels for ``n_samples`` rows: any sortable values, but not NaN, inf or
    non-integer numbers (a regression target given to a classifier).

    Examples
    --------
    >>> class Vote(Classifier):
    ...     pass
    >>> as_labels(Vote(), ["a", "b", "a"], 3)
    array(['a', 'b', 'a'], dtype='<U1')
    >>> as_labels(Vote(), [0.5, 1.0, 2.0], 3)
    Traceback (most recent call last):
    ...
    genailab.errors.DataError: Unknown label type: continuous. y holds non-integer numbers \
(e.g. 0.5); Vote is a classifier and takes class labels
    """
    y = _target(estimator, y, n_samples, multi_output=multi_output)
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise DataError(f"y must be finite; {int((~np.isfinite(y)).sum())} are NaN or inf")
        fractional = y[y != np.round(y)]
        if fractional.size:
            raise DataError(
                f"Unknown label type: continuous. y holds non-integer numbers (e.g. "
                f"{fractional[0].item()!r}); {type(estimator).__name__} is a classifier and "
                "takes class labels"
            )
    return y


def as_targets(estimator: Estimator, y: Any, n_samples: int) -> np.ndarray:
    """``y`` as a finite float64 vector (n_samples,) of regression targets.

    Examples
    --------
    >>> class Mean(Regressor):
    ...     pass
    >>> as_targets(Mean(), [1, 2, 3], 3)
    array([1., 2., 3.])
    """
    y = _target(estimator, y, n_samples, multi_output=False)
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"y must hold numbers; {err}") from None
    if not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y))
        raise DataError(f"y must be finite; {len(bad)} are NaN or inf (first: {bad[0]})")
    return y
