"""One conformance test over every synthesizer, as scikit-learn runs one set of checks over all
its estimators.

A synthesizer is a class of :mod:`genailab.generate`'s public API with ``fit(X)`` and
``sample(n)``; walking that API finds them, so a new one is covered as soon as it is exported
(and fails ``test_every_synthesizer_is_covered`` until it is given its variants below). The
contract: ``fit`` returns self; ``sample`` keeps the fitted type, shape, columns and dtypes
(ints stay ints, categories stay observed ones); a seed fixes the samples; a pickled model goes
on drawing what the original would; bad input is refused in one line that names it. Each
synthesizer's own tests (``tests/generate``) keep its statistics against references.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import re

import numpy as np
import pandas as pd
import pytest

import genailab.generate as generate
from genailab.errors import ConfigError, GenailabError

#: the settings each synthesizer is checked with (its defaults first)
VARIANTS = {
    "QuantileExtrapolator": [{}, {"variance_correction": True, "bandwidth": 0.5}],
    "BinSynthesizer": [{}, {"within": "extrapolate"}],
    "GaussianCopula": [{}],
}


def _public_synthesizers() -> list[type]:
    found = []
    for name in generate.__all__:
        obj = getattr(generate, name)
        fits = inspect.isclass(obj) and callable(getattr(obj, "fit", None))
        if fits and callable(getattr(obj, "sample", None)):
            found.append(obj)
    return found


SYNTHESIZERS = _public_synthesizers()
CASES = [
    pytest.param(cls, params, id=f"{cls.__name__}-{i}")
    for cls in SYNTHESIZERS
    for i, params in enumerate(VARIANTS.get(cls.__name__, []))
]


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Every kind of column a synthesizer meets: floats, ints of three widths, bools,
    categories, text, and a constant."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(size=n),
            "count": rng.integers(0, 50, n),  # int64
            "small": rng.integers(-5, 5, n).astype(np.int32),
            "level": rng.integers(0, 3, n).astype(np.uint8),
            "flag": rng.random(n) < 0.3,
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "size": rng.choice(["S", "M", "L"], n),
            "site": "north",
        }
    )


def _arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "1-D": rng.gamma(2.0, 3.0, 50),
        "2-D": rng.normal(size=(50, 3)) @ [[1, 0.5, 0], [0, 1, 0], [0, 0.3, 1]],
    }


# ------------------------------------------------------------------------------ coverage
def test_every_synthesizer_is_covered():
    names = {cls.__name__ for cls in SYNTHESIZERS}
    assert names == {"QuantileExtrapolator", "BinSynthesizer", "GaussianCopula"} <= names
    assert names == set(VARIANTS), "give a new synthesizer its variants here"
    for cls in SYNTHESIZERS:
        assert "random_state" in inspect.signature(cls).parameters, cls.__name__


# ------------------------------------------------------------------------------ fit / sample
@pytest.mark.parametrize(("cls", "params"), CASES)
def test_a_table_keeps_its_columns_and_dtypes(cls, params):
    df = _table()
    model = cls(**params, random_state=0)
    assert model.fit(df) is model
    out = model.sample(500)
    assert isinstance(out, pd.DataFrame) and len(out) == 500
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)  # ints stay ints, of their width
    assert out.index.equals(pd.RangeIndex(500))
    assert not out.isna().any().any()
    for name in ("flag", "colour", "size", "site"):  # labels are observed ones, never new
        assert set(out[name]) <= set(df[name]), name
    assert out["colour"].cat.categories.equals(df["colour"].cat.categories)
    assert (out["site"] == "north").all()
    assert out["level"].between(0, 255).all()  # a uint8 never wraps around
    pd.testing.assert_frame_equal(df, _table())  # the fitted table is left as it was


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_an_array_keeps_its_shape_and_dtype(cls, params):
    for name, X in _arrays().items():
        model = cls(**params, random_state=0)
        assert model.fit(X) is model
        out = model.sample(40)
        assert isinstance(out, np.ndarray), name
        assert out.shape == (40, *X.shape[1:]) and out.dtype == np.float64, name
        assert np.isfinite(out).all()
    assert cls(**params, random_state=0).fit(X.tolist()).sample(3).shape == (3, 3)  # array_like


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_zero_rows(cls, params):
    df = _table()
    out = cls(**params, random_state=0).fit(df).sample(0)
    assert out.shape == (0, df.shape[1]) and out.dtypes.equals(df.dtypes)
    X = _arrays()["2-D"]
    assert cls(**params, random_state=0).fit(X).sample(0).shape == (0, 3)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_the_seed_fixes_the_samples(cls, params):
    df = _table()
    a, b = cls(**params, random_state=7).fit(df), cls(**params, random_state=7).fit(df)
    pd.testing.assert_frame_equal(a.sample(200), b.sample(200))
    pd.testing.assert_frame_equal(a.sample(30), b.sample(30))  # and the streams stay in step
    c = cls(**params, random_state=8).fit(df)
    assert not a.sample(200).equals(c.sample(200))
    # a refit starts the stream again
    first = cls(**params, random_state=7).fit(df).sample(50)
    pd.testing.assert_frame_equal(a.fit(df).sample(50), first)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_a_pickled_model_goes_on_drawing_the_same(cls, params):
    # No synthesizer has a save(); a pickle (or a deep copy) is how one is kept, so it must
    # carry the fitted model and its random stream.
    assert not hasattr(cls, "save")
    df = _table()
    model = cls(**params, random_state=3).fit(df)
    model.sample(10)  # part-way through the stream
    for again in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert type(again) is cls
        pd.testing.assert_frame_equal(again.sample(100), copy.deepcopy(model).sample(100))
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.sample(100), model.sample(100))
    unfitted = pickle.loads(pickle.dumps(cls(**params, random_state=3)))
    pd.testing.assert_frame_equal(
        unfitted.fit(df).sample(20), cls(**params, random_state=3).fit(df).sample(20)
    )


# ------------------------------------------------------------------------------ errors
def _one_line(err: pytest.ExceptionInfo, pattern: str) -> None:
    message = str(err.value)
    assert "\n" not in message and len(message) < 400, message
    assert re.search(pattern, message), message


def _with(df: pd.DataFrame, column: str, values) -> pd.DataFrame:
    df = df.copy()
    df[column] = values
    return df


_T = _table(8)
FIT_ERRORS = {
    "NaN in a table": (_with(_T, "x", [np.nan, *_T["x"][1:]]), r"column 'x' has 1 missing values"),
    "inf in a table": (_with(_T, "y", [np.inf, *_T["y"][1:]]), r"'y' must be finite|'y'.*inf"),
    "NaN in an array": (np.array([1.0, np.nan, 3.0]), r"NaN|missing values"),
    "inf in an array": (np.array([[1.0, 2.0], [3.0, -np.inf], [0.0, 1.0]]), r"inf"),
    "empty table": (_T.iloc[:0], r"at least 2 rows and 1 column; got shape \(0, 9\)"),
    "one row": (_T.iloc[:1], r"at least 2 rows and 1 column; got shape \(1, 9\)"),
    "no columns": (
        pd.DataFrame(index=range(5)),
        r"at least 2 rows and 1 column; got shape \(5, 0\)",
    ),
    "empty array": (np.array([]), r"at least 2 rows"),
    "3-D array": (np.ones((4, 2, 2)), r"1-D \(n,\) or 2-D \(n, d\); got 3-D"),
    "a scalar": (3.0, r"got 0-D"),
    "text array": (np.array(["a", "b", "c"]), r"must hold numbers; got dtype <U1"),
    "complex array": (np.array([1 + 2j, 3 + 0j, 1j]), r"real numbers; got dtype complex128"),
    "complex column": (_with(_T, "x", _T["x"] + 1j), r"column 'x' holds complex numbers"),
    "numbers as text": (
        _with(_T, "size", ["1.5", " ", *["2"] * 6]),
        r"'size' holds numbers stored as text",
    ),
    "duplicate names": (
        pd.DataFrame([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]], columns=["a", "a"]),
        r"unique column names",
    ),
}


@pytest.mark.parametrize("case", FIT_ERRORS, ids=list(FIT_ERRORS))
@pytest.mark.parametrize(("cls", "params"), CASES)
def test_bad_data(cls, params, case):
    X, pattern = FIT_ERRORS[case]
    with pytest.raises(ValueError) as err:
        cls(**params, random_state=0).fit(X)
    _one_line(err, pattern)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_bad_sample_sizes_and_order(cls, params):
    with pytest.raises(ValueError) as err:
        cls(**params).sample(3)
    _one_line(err, rf"this {cls.__name__} is not fitted yet; call fit\(X\) first")
    assert isinstance(err.value, GenailabError) and isinstance(err.value, AttributeError)
    model = cls(**params, random_state=0).fit(_table())
    for n in (-1, 2.5, True, "3", None):
        with pytest.raises(ValueError) as err:
            model.sample(n)
        _one_line(err, rf"n must be an int >= 0; got {re.escape(repr(n))}")


BAD_PARAMS = {
    "QuantileExtrapolator": ({"bandwidth": -1.0}, r"bandwidth must be .* got -1\.0"),
    "BinSynthesizer": ({"bins": 0}, r"bins must be an int >= 1; got 0"),
}


@pytest.mark.parametrize(
    "cls", [c for c in SYNTHESIZERS if c.__name__ in BAD_PARAMS], ids=lambda c: c.__name__
)
def test_bad_parameters(cls):
    params, pattern = BAD_PARAMS[cls.__name__]
    with pytest.raises(ConfigError) as err:
        cls(**params).fit(_table())
    _one_line(err, pattern)
