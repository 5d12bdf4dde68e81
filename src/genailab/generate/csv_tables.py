"""CSV tables as the ``synth`` commands read them: refused with one clear line, or made fit.

A synthesizer needs a table of complete rows of numbers and categories. Real files are not
always that, so :func:`read_table` and :func:`prepare_table` decide, and say, what is done:

- refused (a :class:`~genailab.evaluate.TableError`, one line): a missing or unreadable file,
  no rows, a column with no value at all, a column of numbers with some text in it (more than
  half of its cells numbers, some not: ``18,thirty``), a column with one value only;
- blank cells (empty, or only spaces, such as the 11 of ``TotalCharges`` in ``telecom.csv``,
  which make pandas read the whole column as text) are **missing**: the column is read as
  numbers, the rows that have a missing cell are left out of the fit, and
  :func:`restore_missing` gives each synthetic row the missing-cell pattern of a real row drawn
  at random, so blanks come back at the rate they were seen, jointly across columns;
- identifier columns (text with a different value in every one of at least 20 rows, such as
  ``customerID``) are left out: a synthesizer that resamples categories by row would copy real
  identifiers into the synthetic table.

Every decision is a line of :attr:`PreparedTable.notes`, which the CLI prints.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", "b"]})
>>> table = prepare_table(df, "t.csv")
>>> len(table.complete), table.notes
(3, ["t.csv: column 'x' has 1 missing cell (first on line 4); the 1 row with a missing cell is left out of the fit"])
"""  # noqa: E501

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genailab.evaluate import TableError

IDENTIFIER_MIN_ROWS = 20  # below this a column of distinct labels may just be a small category


@dataclass
class PreparedTable:
    """A table split into what a synthesizer fits and what it cannot.

    Attributes
    ----------
    complete : DataFrame
        The rows without a missing cell, identifier columns removed, index reset.
    missing : ndarray of bool, shape (n_rows, n_columns)
        Which cells of every row (complete or not) were missing, in ``complete``'s columns.
    notes : list of str
        One line per decision taken: identifiers removed, rows left out.
    """

    complete: pd.DataFrame
    missing: np.ndarray
    notes: list[str]


def _blank(col: pd.Series) -> pd.Series:
    """Cells that are NaN, empty or only whitespace."""
    blank = col.isna()
    if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
        blank |= col.astype("string").str.strip().fillna("") == ""
    return blank


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV table; blank cells become missing and columns of numbers become numbers.

    Parameters
    ----------
    path : str or PathLike
        A CSV file with a header (a UTF-8 byte-order mark is allowed).

    Returns
    -------
    DataFrame
        Blank cells are ``NaN``; a text column whose non-blank cells are all numbers is numeric.

    Raises
    ------
    TableError
        A missing or unreadable file, no rows, a column with no value, text in a column of
        numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise TableError(f"{path}: the file is empty; expected a CSV table with a header") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TableError(f"{path}: not a readable CSV table ({first})") from None
    if len(df) == 0:
        raise TableError(f"{path}: the table has a header but no rows")
    for name in df.columns:
        col = df[name]
        blank = _blank(col)
        if blank.all():
            raise TableError(f"{path}: column {name!r} has no value in any of its {len(df)} rows")
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        text = col.astype("string").str.strip().mask(blank)
        parsed = pd.to_numeric(text, errors="coerce")
        filled = int((~blank).sum())
        numbers = int(parsed.notna().sum())
        if numbers == filled:
            df[name] = parsed.astype("float64")  # blanks made pandas read numbers as text
        elif numbers > 0.5 * filled:
            row = int((parsed.isna() & ~blank).to_numpy().nonzero()[0][0])
            raise TableError(
                f"{path}: column {name!r} holds numbers but line {row + 2} has "
                f"{col.iloc[row]!r}; fix or remove that row"
            )
        else:
            df[name] = col.mask(blank)
    return df


def _is_identifier(col: pd.Series) -> bool:
    text = pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)
    values = col.dropna()
    return text and len(values) >= IDENTIFIER_MIN_ROWS and values.nunique() == len(values)


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def prepare_table(
    df: pd.DataFrame, name: str | os.PathLike, used_for: str = "the fit"
) -> PreparedTable:
    """Remove identifier columns and set aside the rows with missing cells, saying so.

    Parameters
    ----------
    df : DataFrame
        A table from :func:`read_table` (missing cells are ``NaN``).
    name : str or PathLike
        What to call the table in the notes and errors (its file name).
    used_for : str
        What the complete rows are for, as the note says the others are "left out of" it.

    Returns
    -------
    PreparedTable

    Raises
    ------
    TableError
        No complete row is left, or a column has a single value in the complete rows.
    """
    notes = []
    identifiers = [c for c in df.columns if _is_identifier(df[c])]
    for c in identifiers:
        notes.append(
            f"{name}: column {c!r} is an identifier (a different value in each of "
            f"{df[c].notna().sum()} rows); left out, as a synthesizer would copy real identifiers"
        )
    df = df.drop(columns=identifiers)
    if df.shape[1] == 0:
        raise TableError(f"{name}: no column is left once identifiers are removed")
    missing = df.isna().to_numpy()  # (n_rows, n_columns)
    incomplete = missing.any(axis=1)  # (n_rows,)
    if incomplete.all():
        raise TableError(f"{name}: every row has a missing cell; no complete row to fit")
    if incomplete.any():
        counts = missing.sum(axis=0)
        where = ", ".join(
            f"column {c!r} has {k} missing cell{'s' if k > 1 else ''} "
            f"(first on line {int(missing[:, j].nonzero()[0][0]) + 2})"
            for j, (c, k) in enumerate(zip(df.columns, counts, strict=True))
            if k
        )
        k = int(incomplete.sum())
        notes.append(
            f"{name}: {where}; the {_rows(k)} with a missing cell "
            f"{'is' if k == 1 else 'are'} left out of {used_for}"
        )
    complete = df.loc[~incomplete].reset_index(drop=True)
    for c in complete.columns:
        if complete[c].nunique() < 2:
            raise TableError(
                f"{name}: column {c!r} has one value only ({complete[c].iloc[0]}); "
                "a synthesizer needs at least two, so drop the column first"
            )
    # Columns read as float only because of their blanks get their integer type back.
    for c in complete.columns:
        v = complete[c]
        had_blanks = missing[:, df.columns.get_loc(c)].any()
        whole = pd.api.types.is_float_dtype(v) and np.isfinite(v).all() and (v == np.round(v)).all()
        if had_blanks and whole:  # (an infinity equals its rounding, but is no integer)
            complete[c] = v.astype("int64")
    return PreparedTable(complete=complete, missing=missing, notes=notes)


def restore_missing(
    synthetic: pd.DataFrame, missing: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Blank out cells of ``synthetic``: each row takes the missing pattern of a random real row.

    Parameters
    ----------
    synthetic : DataFrame
        Synthetic rows, with the columns of :attr:`PreparedTable.complete`.
    missing : ndarray of bool, shape (n_real_rows, n_columns)
        :attr:`PreparedTable.missing`.
    rng : numpy Generator

    Returns
    -------
    DataFrame
        A copy; integer columns that receive missing cells become pandas' nullable ``Int64``, so
        they are still written as integers.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> synth = pd.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, 0.1, 0.2, 0.3]})
    >>> pattern = np.array([[False, True]])  # the one real row missed 'b'
    >>> restore_missing(synth, pattern, np.random.default_rng(0))["b"].isna().all()
    np.True_
    """
    if not missing.any():
        return synthetic
    rows = rng.integers(len(missing), size=len(synthetic))  # (n_synthetic,)
    mask = missing[rows]  # (n_synthetic, n_columns)
    out = synthetic.copy()
    for j, c in enumerate(out.columns):
        if not mask[:, j].any():
            continue
        if pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype("Int64")
        out[c] = out[c].mask(mask[:, j])
    return out
