"""Is a synthetic table any good? Score it against held-out real data, next to two baselines.

After Vincent Granville, *Synthetic Data and Generative AI* (MLTechniques), the sections on
evaluating synthetic data. A distance between a synthetic and a real table means little on its
own: two samples of the *same* distribution are never at distance 0, and a synthesizer that
copies its training rows scores perfectly against them. The honest protocol is

1. score the synthetic table against real rows the synthesizer never saw (the **holdout**);
2. score, against the same holdout, the **real copy**: the training rows themselves. This is
   the floor: the distance that sampling noise alone gives, what a perfect synthesizer
   would score;
3. and the **shuffled** copy: the training rows with every column permuted independently
   (fixed seed). It keeps every marginal distribution exactly and destroys every dependence
   between columns: a synthesizer whose correlation or multivariate distance is no better
   than this one has learned nothing about how the columns go together.

A good synthetic table sits near the real copy, and clearly below the shuffled copy on the
dependence scores. Without a holdout, :func:`compare_tables` splits the training table 50/50
(fixed seed) into a training half and a holdout half and says so in the result; that is honest
only if the synthesizer was fitted on that training half, so pass a real holdout when you can.

Scores per row (all in ``[0, 1]`` except the correlation distance, in ``[0, 2]``):

- ``ks_mean`` / ``ks_max``: the Kolmogorov-Smirnov distance of each numeric column;
- ``tv_mean`` / ``tv_max``: the total variation distance of every column (categories for a
  categorical column, ``bins`` equal-mass bins for a numeric one);
- ``corr``: the mean absolute difference between the Pearson correlation matrices of the
  numeric columns (those that vary in every table; NaN with fewer than two);
- ``mv_ks``: the KS distance between the multivariate empirical CDFs of the numeric columns,
  at ``n_nodes`` random nodes drawn from the holdout's quantiles at Granville's adjusted
  levels ``u**(1/d)`` (:func:`~genailab.evaluate.quantile_nodes`) with seed ``random_state``;
  the three rows share the same nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from genailab.errors import GenailabError
from genailab.evaluate.distribution_distances import (
    correlation_distance,
    ks_distance,
    multivariate_ks_distance,
    total_variation_distance,
)

SCORES = ("ks_mean", "ks_max", "tv_mean", "tv_max", "corr", "mv_ks")
ROWS = ("synthetic", "real copy", "shuffled")


class TableError(GenailabError, ValueError):
    """A table that cannot be compared or fitted: missing, empty, mismatched, or with blanks."""


@dataclass
class SyntheticReport:
    """The result of :func:`compare_tables`.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per table scored against the holdout (``"synthetic"``, ``"real copy"``,
        ``"shuffled"``), one column per score (:data:`SCORES`).
    holdout : str
        Where the holdout came from: ``"given"`` or a description of the 50/50 split.
    n_train, n_holdout, n_synth : int
        Rows of the training part, the holdout and the synthetic table.
    numeric, categorical : list of str
        The columns of each kind.
    """

    scores: pd.DataFrame
    holdout: str
    n_train: int
    n_holdout: int
    n_synth: int
    numeric: list[str]
    categorical: list[str]


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _check_table(df: pd.DataFrame, name: str, columns: list | None) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TableError(f"{name} must be a pandas DataFrame; got {type(df).__name__}")
    if len(df) == 0 or df.shape[1] == 0:
        raise TableError(f"{name} must have at least 1 row and 1 column; got shape {df.shape}")
    if not df.columns.is_unique:
        raise TableError(f"{name} must have unique column names; got {list(df.columns)!r}")
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        extra = [c for c in df.columns if c not in columns]
        if missing or extra:
            raise TableError(
                f"{name} must have the columns of train; missing {missing!r}, extra {extra!r}"
            )
        df = df[columns]
    for c, col in df.items():
        n_missing = int(col.isna().sum())
        if n_missing:
            first = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise TableError(
                f"{name} column {c!r} has {n_missing} missing values (first at row {first}); "
                "drop or impute them first"
            )
    return df.reset_index(drop=True)


def _check_kinds(tables: dict[str, pd.DataFrame]) -> tuple[list, list]:
    train = tables["train"]
    numeric = [c for c in train.columns if _is_numeric(train[c])]
    for name, df in tables.items():
        for c in train.columns:
            if _is_numeric(df[c]) != (c in numeric):
                kind = "numeric" if c in numeric else "categorical"
                raise TableError(
                    f"column {c!r} is {kind} in train but has dtype {df[c].dtype} in {name}"
                )
    return numeric, [c for c in train.columns if c not in numeric]


# ---------------------------------------------------------------------------------------------
# scores
# ---------------------------------------------------------------------------------------------


def _scores(
    table: pd.DataFrame,
    holdout: pd.DataFrame,
    numeric: list,
    bins: int,
    n_nodes: int,
    random_state: int,
) -> dict[str, float]:
    ks = [ks_distance(table[c].to_numpy(), holdout[c].to_numpy()) for c in numeric]
    tv = [
        total_variation_distance(
            table[c].to_numpy(), holdout[c].to_numpy(), bins=bins, categorical=c not in numeric
        )
        for c in table.columns
    ]
    # Correlations are undefined for a constant column: keep those that vary in both tables.
    varying = [c for c in numeric if table[c].nunique() > 1 and holdout[c].nunique() > 1]
    corr = (
        correlation_distance(table[varying].to_numpy(float), holdout[varying].to_numpy(float))
        if len(varying) >= 2
        else float("nan")
    )
    mv_ks = (
        # The holdout is the reference A, so its quantiles place the nodes: same seed, same
        # nodes for the three rows of the report.
        multivariate_ks_distance(
            holdout[numeric].to_numpy(float),
            table[numeric].to_numpy(float),
            n_nodes=n_nodes,
            random_state=random_state,
        )
        if numeric
        else float("nan")
    )
    nan = float("nan")
    return {
        "ks_mean": float(np.mean(ks)) if ks else nan,
        "ks_max": float(np.max(ks)) if ks else nan,
        "tv_mean": float(np.mean(tv)),
        "tv_max": float(np.max(tv)),
        "corr": corr,
        "mv_ks": mv_ks,
    }


def _shuffled(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every column permuted independently: same marginals, no dependence left."""
    columns = {c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns}
    return pd.DataFrame(columns).astype(df.dtypes.to_dict())


def compare_tables(
    train: pd.DataFrame,
    synth: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    bins: int = 10,
    n_nodes: int = 1000,
    random_state: int = 0,
) -> SyntheticReport:
    """Score ``synth`` against held-out real rows, beside the real-copy and shuffled baselines.

    Parameters
    ----------
    train : pandas.DataFrame
        The real rows the synthesizer was fitted on.
    synth : pandas.DataFrame
        The synthetic rows; the same columns as ``train`` (any order) and kinds.
    holdout : pandas.DataFrame, optional
        Real rows the synthesizer never saw. Without one, ``train`` is split 50/50 at random
        (seed ``random_state``): the first half plays the training rows, the second the holdout.
    bins : int, default 10
        Equal-mass bins of the total variation distance of a numeric column.
    n_nodes : int, default 1000
        Random nodes of the multivariate KS distance.
    random_state : int, default 0
        Seed of the split, of the shuffled baseline and of the nodes.

    Returns
    -------
    SyntheticReport

    Raises
    ------
    TableError
        A table that is empty, has missing values, or whose columns differ from ``train``'s.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> train = pd.DataFrame({"x": x, "y": x + 0.3 * rng.normal(size=400)})
    >>> report = compare_tables(train, train.sample(frac=1.0, random_state=1))
    >>> report.holdout
    'none given: train split 50/50 at random (seed 0)'
    >>> bool(report.scores.loc["shuffled", "corr"] > 0.9)  # corr(x, y) ~ 0.96 destroyed
    True
    """
    train = _check_table(train, "train", None)
    columns = list(train.columns)
    synth = _check_table(synth, "synth", columns)
    rng = np.random.default_rng(random_state)
    if holdout is None:
        if len(train) < 4:
            raise TableError(f"train must have at least 4 rows to split 50/50; got {len(train)}")
        order = rng.permutation(len(train))
        half = len(train) // 2
        train, holdout = (train.iloc[order[:half]], train.iloc[order[half:]])
        train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
        origin = f"none given: train split 50/50 at random (seed {random_state})"
    else:
        holdout = _check_table(holdout, "holdout", columns)
        origin = "given"
    numeric, categorical = _check_kinds({"train": train, "synth": synth, "holdout": holdout})
    tables = {"synthetic": synth, "real copy": train, "shuffled": _shuffled(train, rng)}
    scores = pd.DataFrame(
        [_scores(t, holdout, numeric, bins, n_nodes, random_state) for t in tables.values()],
        index=list(tables),
    )[list(SCORES)]
    return SyntheticReport(
        scores=scores,
        holdout=origin,
        n_train=len(train),
        n_holdout=len(holdout),
        n_synth=len(synth),
        numeric=numeric,
        categorical=categorical,
    )


def format_report(report: SyntheticReport) -> str:
    """The scores as a text table, with the holdout's origin and the sizes above it.

    Lower is better everywhere; ``-`` marks a score with no column to compute it on.
    """
    lines = [
        f"holdout: {report.holdout}",
        f"rows: train {report.n_train}, holdout {report.n_holdout}, synthetic {report.n_synth}; "
        f"columns: {len(report.numeric)} numeric, {len(report.categorical)} categorical",
        "distance to the holdout (lower is closer):",
        f"{'':<10}" + "".join(f"{s:>9}" for s in SCORES),
    ]
    for name, row in report.scores.iterrows():
        cells = "".join("        -" if np.isnan(v) else f"{v:>9.4f}" for v in row.to_numpy())
        lines.append(f"{name:<10}{cells}")
    return "\n".join(lines)
