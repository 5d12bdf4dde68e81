"""Every estimator of genailab works with scikit-learn as scikit-learn's own do.

Each classifier, regressor and clusterer (found by walking the public API of genailab.learn,
genailab.embed and genailab.generate) must pass scikit-learn's ``check_estimator``, except for
the checks listed in ``EXPECTED_FAILURES`` with their reason; each listed check must fail, and
for that reason (the test reads the error it raised), so the list cannot go stale. Then
``clone``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` are run on each and compared
with the same computation written out by hand, and the checks that scikit-learn runs on data of
its own width are run again at the width each estimator is defined for.

scikit-learn is a reference here only: genailab does not import it (see genailab.estimator).
"""

from __future__ import annotations

import pickle
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator

import genailab.embed
import genailab.generate
import genailab.learn
from genailab.embed import KMeans
from genailab.errors import DataError, NotFittedError
from genailab.estimator import Estimator
from genailab.learn import (
    BitmapClassifier,
    CloudRegression,
    Perceptron,
    ProductCentres,
    SineNetwork,
)

PACKAGES = (genailab.learn, genailab.embed, genailab.generate)


# ------------------------------------------------------------------------------ the estimators
def _blobs(n: int, d: int, centres: int, seed: int, spread: float = 0.6) -> tuple:
    rng = np.random.default_rng(seed)
    where = rng.normal(0, 3, (centres, d))
    label = rng.permutation(np.arange(n) % centres)
    return where[label] + spread * rng.normal(size=(n, d)), label


def _points_of_the_plane():
    X, label = _blobs(150, 2, 3, seed=2, spread=0.8)
    return X, np.array(["north", "south", "west"])[label]


def _two_classes():
    X, label = _blobs(120, 4, 2, seed=1, spread=2.0)  # they overlap: no clean separation
    return X, np.array(["no", "yes"])[label]


def _signal():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 80)
    return x[:, None], np.sin(2 * np.pi * 2 * x + 0.3) + 0.05 * rng.normal(size=80)


def _curve():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 60)
    return x[:, None], 0.5 * x**2 - x + 1 + 0.1 * rng.normal(size=60)


def _two_clouds():
    return _blobs(80, 3, 2, seed=4)[0], None


def _three_clouds():
    return _blobs(90, 5, 3, seed=5)[0], None


@dataclass
class Case:
    """An estimator on data of the width it is defined for, and a parameter to search over."""

    estimator: Estimator
    data: Any  # () -> (X, y or None)
    grid: dict[str, list]
    check_params: dict = field(default_factory=dict)  # for check_estimator's small data


CASES = {
    "BitmapClassifier": Case(
        BitmapClassifier(resolution=24), _points_of_the_plane, {"window": [1, 3]}
    ),
    "Perceptron": Case(
        Perceptron(max_iter=20, random_state=0), _two_classes, {"max_iter": [1, 20]}
    ),
    "SineNetwork": Case(
        SineNetwork(
            n_units=12, max_frequency=2.5, train_hidden=False, solver="lstsq", random_state=0
        ),
        _signal,
        {"n_units": [2, 12]},
    ),
    "CloudRegression": Case(
        CloudRegression(shape="polynomial", degree=2, n_boot=0), _curve, {"degree": [1, 2]}
    ),
    "ProductCentres": Case(ProductCentres(random_state=0), _two_clouds, {"p": [2.0, 3.0]}),
    "KMeans": Case(KMeans(n_clusters=3, random_state=0), _three_clouds, {"n_clusters": [2, 3]}),
}


def _public_estimators() -> dict[str, type]:
    found = {}
    for package in PACKAGES:
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, type) and issubclass(obj, Estimator):
                found[name] = obj
    return found


ESTIMATORS = _public_estimators()
NAMES = sorted(ESTIMATORS)


def _case(name: str) -> tuple[Estimator, np.ndarray, np.ndarray | None]:
    case = CASES[name]
    X, y = case.data()
    return clone(case.estimator), X, y


def test_every_estimator_is_covered():
    assert set(ESTIMATORS) == set(CASES), "give a new estimator its case here"
    # and every public class with scikit-learn's shape (fit, then predict or transform) is one
    for package in PACKAGES:
        for name in package.__all__:
            obj = getattr(package, name)
            shaped = isinstance(obj, type) and hasattr(obj, "fit")
            if shaped and (hasattr(obj, "predict") or hasattr(obj, "transform")):
                assert issubclass(obj, Estimator), f"{name} takes scikit-learn's shape"


def test_the_kinds():
    kinds = {name: get_tags(clone(CASES[name].estimator)).estimator_type for name in NAMES}
    assert kinds == {
        "BitmapClassifier": "classifier",
        "CloudRegression": "regressor",
        "KMeans": "clusterer",
        "Perceptron": "classifier",
        "ProductCentres": "clusterer",
        "SineNetwork": "regressor",
    }
    # CloudRegression is a regressor only for the shapes that are graphs y(x)
    assert get_tags(CloudRegression(shape="circle")).estimator_type is None


# ------------------------------------------------------------------------------ check_estimator
NOT_SKLEARNS_ERROR = (
    "genailab raises its own NotFittedError (a ValueError and an AttributeError, as "
    "scikit-learn's is), which cannot subclass scikit-learn's without importing it at run time",
    r"NotFittedError: this \w+ is not fitted yet",
)
ONE_D_SIGNAL = ("a 1-D X is the signal x itself, by design", r"Did not raise")
PLANE = "the check's X has 3 to 10 features; a bitmap is a grid of the plane, points (x, y)"
LINE = "the check's X has 2 to 10 features; {name} fits a function of one x"
#: checks whose X has more features than an estimator defined for 1 or 2 of them can take
WIDE_X = (
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_supervised_y_2d",
)
#: checks whose X has 2 features, which the bitmap takes and the 1-feature regressors do not
TWO_FEATURE_X = (
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_n_features_in",
    "check_readonly_memmap_input",
    "check_regressor_data_not_an_array",
    "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train",
)


def _width(checks, reason, width):
    return {check: (reason, rf"is defined for {width} only") for check in checks}


#: every check of check_estimator that an estimator fails, why, and what its error says
EXPECTED_FAILURES = {
    "BitmapClassifier": {
        "check_estimators_unfitted": NOT_SKLEARNS_ERROR,
        **_width(
            (*WIDE_X, "check_classifiers_one_label", "check_classifiers_regression_target"),
            PLANE,
            2,
        ),
    },
    "SineNetwork": {
        "check_estimators_unfitted": NOT_SKLEARNS_ERROR,
        "check_fit1d": ONE_D_SIGNAL,
        **_width((*WIDE_X, *TWO_FEATURE_X, "check_requires_y_none"), LINE.format(name="it"), 1),
    },
    "CloudRegression": {  # y is optional (a cloud), so check_requires_y_none does not run
        "check_estimators_unfitted": NOT_SKLEARNS_ERROR,
        "check_fit1d": ONE_D_SIGNAL,
        **_width((*WIDE_X, *TWO_FEATURE_X), LINE.format(name="it"), 1),
    },
    "KMeans": {"check_estimators_unfitted": NOT_SKLEARNS_ERROR},
    "Perceptron": {"check_estimators_unfitted": NOT_SKLEARNS_ERROR},
    "ProductCentres": {"check_estimators_unfitted": NOT_SKLEARNS_ERROR},
}


def _causes(err: BaseException) -> str:
    """The error and the ones it was raised from, one per line."""
    lines = []
    while err is not None and len(lines) < 5:
        lines.append(f"{type(err).__name__}: {err}")
        err = err.__cause__ or err.__context__
    return "\n".join(lines)


@pytest.mark.parametrize("name", NAMES)
def test_check_estimator(name):
    estimator = clone(CASES[name].estimator)
    expected = EXPECTED_FAILURES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not inherit from BaseEstimator": by design
        results = check_estimator(estimator, on_fail=None, on_skip=None)
    ran = {r["check_name"] for r in results}
    failed = {}
    for r in results:
        if r["status"] == "failed":
            failed.setdefault(r["check_name"], []).append(r["exception"])
    unexpected = {c: _causes(e[0]).splitlines()[0] for c, e in failed.items() if c not in expected}
    assert not unexpected, unexpected
    for check, (_, says) in expected.items():
        assert check in ran, f"{check} is not run for {name}: take it off its list"
        assert check in failed, f"{check} passes now: take it off the list of {name}"
        for err in failed[check]:
            assert re.search(says, _causes(err)), (check, _causes(err))
    passed = [r for r in results if r["status"] == "passed"]
    assert len(passed) >= 40 - len(expected), len(passed)  # the API checks, and more


# ------------------------------------------------------------------------------ clone, tools
@pytest.mark.parametrize("name", NAMES)
def test_clone_and_params(name):
    estimator, X, y = _case(name)
    params = estimator.get_params()
    twin = clone(estimator)
    assert twin is not estimator and twin.get_params() == params
    assert vars(twin) == params  # __init__ stores the parameters and nothing else
    assert repr(twin) == repr(estimator) and repr(type(estimator)()) == f"{name}()"
    fitted = estimator.fit(X, y)
    assert fitted is estimator and estimator.n_features_in_ == X.shape[1]
    learned = set(vars(estimator)) - set(params)
    assert learned and all(a.endswith("_") or a.startswith("_") for a in learned), learned
    unfitted = clone(estimator)  # a clone of a fitted estimator is not fitted
    assert set(vars(unfitted)) == set(params)
    np.testing.assert_array_equal(clone(estimator).fit(X, y).predict(X), estimator.predict(X))
    key, values = next(iter(CASES[name].grid.items()))
    assert estimator.set_params(**{key: values[0]}) is estimator
    assert getattr(estimator, key) == values[0]
    with pytest.raises(ValueError, match=rf"{name} has no parameter 'nope'; its parameters: "):
        estimator.set_params(nope=1)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    """Labels equal; numbers equal to the last bits (the same sums, in another order)."""
    if np.issubdtype(np.asarray(a).dtype, np.number):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(a, b)


def _close(a, b) -> None:
    if np.issubdtype(np.asarray(a).dtype, np.number):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7)
    else:
        np.testing.assert_array_equal(a, b)


def _splitter(estimator, n_splits):
    # what cross_val_score uses for cv=n_splits: stratified for a classifier
    return StratifiedKFold(n_splits) if is_classifier(estimator) else KFold(n_splits)


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_with_a_scaler_is_the_same_by_hand(name):
    estimator, X, y = _case(name)
    X_new = X[::3] + 0.1
    pipe = make_pipeline(StandardScaler(), clone(estimator)).fit(X, y)
    scaler = StandardScaler()
    alone = clone(estimator).fit(scaler.fit_transform(X), y)
    _same(pipe.predict(X_new), alone.predict(scaler.transform(X_new)))
    y_new = None if y is None else y[::3]
    assert pipe.score(X_new, y_new) == pytest.approx(alone.score(scaler.transform(X_new), y_new))
    assert pipe[-1].n_features_in_ == X.shape[1]


@pytest.mark.parametrize("name", NAMES)
def test_cross_val_score_is_the_loop_by_hand(name):
    estimator, X, y = _case(name)
    scores = cross_val_score(estimator, X, y, cv=4)
    by_hand = []
    for train, test in _splitter(estimator, 4).split(X, y):
        y_train, y_test = (None, None) if y is None else (y[train], y[test])
        by_hand.append(clone(estimator).fit(X[train], y_train).score(X[test], y_test))
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12, atol=1e-12)
    if is_classifier(estimator) or is_regressor(estimator):
        assert scores.mean() > 0.8, scores  # and the estimator does its job on held-out rows


@pytest.mark.parametrize("name", NAMES)
def test_grid_search_picks_the_best_mean_by_hand(name):
    estimator, X, y = _case(name)
    ((key, values),) = CASES[name].grid.items()
    search = GridSearchCV(estimator, {key: values}, cv=3).fit(X, y)
    means = []
    for value in values:
        candidate = clone(estimator).set_params(**{key: value})
        means.append(cross_val_score(candidate, X, y, cv=3).mean())
    best = int(np.argmax(means))
    assert search.best_params_ == {key: values[best]}
    assert search.best_score_ == pytest.approx(means[best], rel=1e-12, abs=1e-12)
    refit = clone(estimator).set_params(**{key: values[best]}).fit(X, y)
    _same(search.predict(X), refit.predict(X))
    assert len(set(np.round(means, 12))) == len(values), "the search must have a choice to make"


# ------------------------------------------------------------------------------ at each width
@pytest.mark.parametrize("name", NAMES)
def test_same_answers_whatever_the_input_container(name):
    # lists, DataFrames, float32, Fortran order, read-only memory: as scikit-learn checks
    estimator, X, y = _case(name)
    X = np.round(X * 8) / 8  # exact in float32 too
    reference = clone(estimator).fit(X, y).predict(X)
    frozen = X.copy()
    frozen.flags.writeable = False
    columns = [f"c{j}" for j in range(X.shape[1])]
    for form in (X.tolist(), pd.DataFrame(X, columns=columns), X.astype(np.float32),
                 np.asfortranarray(X), frozen):  # fmt: skip
        fitted = clone(estimator).fit(form, None if y is None else list(y))
        np.testing.assert_array_equal(fitted.predict(form), reference)
    np.testing.assert_array_equal(X, frozen)  # fit and predict leave their input alone


@pytest.mark.parametrize("name", NAMES)
def test_pickle_refit_subsets_and_order(name):
    estimator, X, y = _case(name)
    fitted = estimator.fit(X, y)
    reference = fitted.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), reference)
    np.testing.assert_array_equal(fitted.fit(X, y).predict(X), reference)  # fit is idempotent
    # a row's answer is its own: alone, or in another order (to rounding, as scikit-learn's
    # check_methods_subset_invariance allows: a matrix product sums in another order)
    rows = [fitted.predict(X[i : i + 1])[0] for i in range(0, len(X), 7)]
    _close(rows, reference[::7])
    order = np.random.default_rng(0).permutation(len(X))
    _close(fitted.predict(X[order]), reference[order])
    before = {k: v for k, v in vars(fitted).items() if isinstance(v, int | float | str)}
    fitted.predict(X)
    assert {k: v for k, v in vars(fitted).items() if isinstance(v, int | float | str)} == before


def _one_line(err: pytest.ExceptionInfo, pattern: str) -> None:
    message = str(err.value)
    assert "\n" not in message and re.search(pattern, message), message


@pytest.mark.parametrize("name", NAMES)
def test_bad_features_are_one_line_errors(name):
    estimator, X, y = _case(name)
    d = X.shape[1]
    nan, inf = X.copy(), X.copy()
    nan[3, 0], inf[5, d - 1] = np.nan, np.inf
    bad_fits = {
        r"X must be finite; 1 values are NaN or inf \(first: row 3, column 0\)": nan,
        rf"X must be finite; 1 values are NaN or inf \(first: row 5, column {d - 1}\)": inf,
        r"X has 0 sample\(s\) \(shape=\(0, \d\)\) while a minimum of \d is required": X[:0],
        r"X has 0 feature\(s\) \(shape=\(\d+, 0\)\) while a minimum of 1 is required": X[:, :0],
        r"Complex data not supported: X has dtype complex128": X + 1j,
        r"X must hold numbers; could not convert string to float: .*'a'": np.full(X.shape, "a"),
        r"X must hold numbers; .*argument must be a string or a real number": np.full(
            X.shape, {}, dtype=object
        ),
        r"takes a 2-D X .*; got shape \(2, \d+, \d\)": np.stack([X, X]),
    }
    for pattern, bad in bad_fits.items():
        y_bad = None if y is None else y[: len(bad)]
        with pytest.raises((ValueError, TypeError)) as err:
            clone(estimator).fit(bad, y_bad)
        _one_line(err, pattern)
        assert isinstance(err.value, DataError)
    fitted = estimator.fit(X, y)
    wider = np.hstack([X, X[:, :1]])
    bad_queries = {
        rf"X has {d + 1} features, but {name} is expecting {d} features as input": wider,
        r"finite; 1 values are NaN or inf": nan,
    }
    if d > 1:  # the 1-feature estimators read a 1-D X as its one feature
        bad_queries[r"Reshape your data"] = X[0]
    for pattern, bad in bad_queries.items():
        with pytest.raises(ValueError) as err:
            fitted.predict(bad)
        _one_line(err, pattern)
    with pytest.raises(NotFittedError) as err:
        clone(estimator).predict(X)
    _one_line(err, rf"this {name} is not fitted yet")
    assert isinstance(err.value, AttributeError)  # as scikit-learn's NotFittedError is


@pytest.mark.parametrize("name", [n for n in NAMES if CASES[n].data()[1] is not None])
def test_bad_targets_are_one_line_errors(name):
    estimator, X, y = _case(name)
    cases = {
        r"X and y have different numbers of samples: \d+ and \d+": y[:-1],
        r"Complex data not supported: y has dtype complex128": np.zeros(len(y)) + 1j,
    }
    if get_tags(estimator).target_tags.required:  # CloudRegression also fits a cloud, y=None
        cases[rf"{name} requires y to be passed, but the target y is None"] = None
    if is_classifier(estimator):
        cases[r"Unknown label type: continuous. y holds non-integer numbers \(e.g. 0.5\)"] = (
            np.arange(len(y)) + 0.5
        )
    else:
        cases[r"y must be finite; 1 are NaN or inf \(first: 2\)"] = np.where(
            np.arange(len(y)) == 2, np.nan, y
        )
    for pattern, bad in cases.items():
        with pytest.raises(ValueError) as err:
            clone(estimator).fit(X, bad)
        _one_line(err, pattern)


@pytest.mark.parametrize("name", [n for n in NAMES if is_classifier(CASES[n].estimator)])
def test_classifiers_take_any_labels(name):
    # as check_classifiers_classes does: the labels come back, whatever their type
    estimator, X, y = _case(name)
    codes = np.unique(y, return_inverse=True)[1]
    for labels in (np.array(["a", "b", "c"]), np.array([-3, 7, 12]), np.array([-1.0, 2.0, 9.0])):
        labels = labels[: len(np.unique(codes))]
        fitted = clone(estimator).fit(X, labels[codes])
        np.testing.assert_array_equal(fitted.classes_, labels)
        predicted = fitted.predict(X)
        assert predicted.dtype == labels.dtype and set(predicted) <= set(labels)
        assert fitted.score(X, labels[codes]) > 0.9


def test_genailab_runs_without_scikit_learn():
    # scikit-learn is a reference for the tests only: fitting and predicting never import it
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from genailab.learn import BitmapClassifier, Perceptron\n"
        "from genailab.embed import KMeans\n"
        "X = np.random.default_rng(0).normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)\n"
        "BitmapClassifier(resolution=8).fit(X, y).predict(X)\n"
        "repr(Perceptron().fit(X, y).set_params(lr=0.5)); KMeans(2).fit(X).score(X)\n"
        "assert 'sklearn' not in sys.modules, 'genailab imported scikit-learn'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
