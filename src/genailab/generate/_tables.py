"""Shared table handling for the synthesizers in :mod:`genailab.generate` (private).

A fitted input (1-D array, 2-D array or DataFrame) is held as a DataFrame; its columns are
split into numeric (float and int, not bool) and categorical (everything else), with the same
rules and errors for every synthesizer: missing or infinite numbers and numbers stored as text
are refused, naming the column. ``truncate={column: (low, high)}`` is checked here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from genailab.errors import ConfigError


def as_table(X: np.ndarray | pd.DataFrame) -> tuple[pd.DataFrame, int | None]:
    """``X`` as a DataFrame with a fresh index, and the array rank to give back (None: table)."""
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True), None
    X = np.asarray(X)
    if X.ndim not in (1, 2):
        raise ValueError(f"X must be 1-D (n,) or 2-D (n, d); got {X.ndim}-D, shape {X.shape}")
    check_real(X)
    return pd.DataFrame(X if X.ndim == 2 else X[:, None]), X.ndim


def check_real(X: np.ndarray) -> None:
    """Refuse an array that is not of real numbers (bools count as numbers)."""
    if np.iscomplexobj(X):  # NOTE: numpy counts complex as numbers; a cast would drop .imag
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"X must hold numbers; got dtype {X.dtype}")


def from_table(df: pd.DataFrame, ndim: int | None) -> np.ndarray | pd.DataFrame:
    """Undo :func:`as_table`: the DataFrame itself, or its values with the fitted rank."""
    if ndim is None:
        return df
    values = df.to_numpy()
    return values[:, 0] if ndim == 1 else values


def split_columns(df: pd.DataFrame) -> tuple[list, list]:
    """Check ``df`` and return its (numeric, categorical) column names, in column order."""
    n = len(df)
    if n < 2 or df.shape[1] == 0:
        raise ValueError(f"X must have at least 2 rows and 1 column; got shape {df.shape}")
    if not df.columns.is_unique:
        raise ValueError(f"X must have unique column names; got {list(df.columns)!r}")
    numeric, categorical = [], []
    for name, col in df.items():
        if pd.api.types.is_complex_dtype(col):
            raise ValueError(
                f"column {name!r} holds complex numbers; a synthesizer takes real numbers"
            )
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            missing = int(col.isna().sum())
            if missing:
                raise ValueError(
                    f"column {name!r} has {missing} missing values (NaN) in {n} rows; "
                    "drop those rows (df.dropna()) or impute them before fitting"
                )
            if not np.all(np.isfinite(col.to_numpy(dtype=np.float64))):
                raise ValueError(f"column {name!r} must be finite; got inf")
            numeric.append(name)
        else:
            if (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)) and (
                not isinstance(col.dtype, pd.CategoricalDtype)
            ):
                reject_numbers_as_text(name, col)
            categorical.append(name)
    return numeric, categorical


def is_int_column(col: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(col)


def int_range(col: pd.Series) -> tuple[float, float]:
    """The range of an int column's dtype (casting outside it wraps around: -1 -> 255)."""
    info = np.iinfo(getattr(col.dtype, "numpy_dtype", col.dtype))
    return float(info.min), float(info.max)


def as_column(values: np.ndarray, like: pd.Series) -> pd.Series:
    """Float ``values`` cast to ``like``'s dtype, rounding half to even for an int column."""
    if is_int_column(like):
        values = np.round(values)
    return pd.Series(values).astype(like.dtype)


def reject_numbers_as_text(name, col: pd.Series) -> None:
    """Refuse a text column whose non-blank cells are all numbers (blanks made it text)."""
    text = col.astype("string").str.strip()
    blank = text.isna() | (text == "")
    parsed = pd.to_numeric(text[~blank], errors="coerce")
    if len(parsed) and parsed.notna().all():
        raise ValueError(
            f"column {name!r} holds numbers stored as text, with {int(blank.sum())} blank "
            f"or missing entries; convert it with pd.to_numeric(df[{name!r}], "
            "errors='coerce') and drop or impute the missing rows, or cast it to "
            "'category' to resample it as labels"
        )


def table_bounds(truncate: dict | None, df: pd.DataFrame, numeric: list) -> np.ndarray:
    """(len(numeric), 2) bounds ``[low, high]`` of the ``numeric`` columns of ``df``.

    An int column is bounded by its dtype's range, as casting outside it wraps around (-1 ->
    255 for uint8). ``truncate`` is None or a dict ``{column: (low, high)}`` with ``None`` for
    an open side; it may name any numeric column of ``df``, and one not in ``numeric`` (a
    constant column, say) must hold its value inside the pair.
    """
    bounds = np.tile([-math.inf, math.inf], (len(numeric), 1))
    for j, name in enumerate(numeric):
        if is_int_column(df[name]):
            bounds[j] = int_range(df[name])
    if truncate is None:
        return bounds
    if not isinstance(truncate, dict):
        raise ConfigError(
            f"truncate must be a dict {{column: (low, high)}} for a DataFrame; got {truncate!r}"
        )
    numeric_all = split_columns(df)[0]
    for name, pair in truncate.items():
        if name not in numeric_all:
            raise ConfigError(
                f"truncate names {name!r}, which is not a numeric column; numeric columns: "
                f"{numeric_all!r}"
            )
        if not isinstance(pair, Sequence | np.ndarray) or len(pair) != 2:
            raise ConfigError(f"truncate[{name!r}] must be a (low, high) pair; got {pair!r}")
        lo = -math.inf if pair[0] is None else pair[0]
        hi = math.inf if pair[1] is None else pair[1]
        if not lo < hi:
            raise ConfigError(f"truncate must have low < high; got {pair!r} for {name!r}")
        if name in numeric:
            j = numeric.index(name)
            bounds[j] = max(lo, bounds[j, 0]), min(hi, bounds[j, 1])
        elif not lo <= df[name].iloc[0] <= hi:  # a constant column: it must fit
            raise ConfigError(
                f"truncate[{name!r}]={pair!r} excludes the constant value {df[name].iloc[0]!r}"
            )
    return bounds
