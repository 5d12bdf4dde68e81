"""Distances between a real and a synthetic table: how far apart are their distributions?

After Vincent Granville, *Synthetic Data and Generative AI* (MLTechniques), the sections on
evaluating synthetic data. Written from the definitions, in numpy only.

One column at a time:

- :func:`ks_distance`: the two-sample Kolmogorov-Smirnov statistic
  ``sup_x |F_a(x) - F_b(x)|`` between the empirical CDFs. Both are step functions that only
  jump at observed values, so the supremum is attained at one of the pooled observations,
  where each CDF is ``(number of values <= x) / n`` -- one ``searchsorted`` per sample.
- :func:`total_variation_distance`: ``0.5 * sum_k |p_a(k) - p_b(k)|`` over the cells ``k`` of
  a shared partition -- histogram bins for a numeric column, categories for a categorical
  one. It is the largest difference in probability that the two samples give to any union of
  cells, so it lies in ``[0, 1]``: 0 for identical proportions, 1 for disjoint supports.

Between columns:

- :func:`correlation_distance`: the mean absolute difference between the off-diagonal entries
  of the two Pearson correlation matrices, Granville's measure of whether a synthesizer kept
  the dependence between features.
- :func:`multivariate_ks_distance`: the Kolmogorov-Smirnov distance between the multivariate
  empirical CDFs ``F(z) = P(X_1 <= z_1, ..., X_d <= z_d)``, which sees a change in the
  dependence that every marginal distance misses.

:func:`column_report` gathers the two one-column distances for every column of a table.
"""

from __future__ import annotations

import numbers

import numpy as np

_ECDF_CHUNK = 2**22  # entries of the (nodes, observations) comparison table built at once

# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------


def _is_missing(v: object) -> bool:
    """True for None and for NaN-like values (the only values that differ from themselves)."""
    return v is None or v != v


def _as_numeric_sample(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a 1-D float64 array, refusing empty, non-numeric, NaN or infinite input."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got {x.ndim}-D, shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"{name} must hold numbers; got dtype {x.dtype}")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must be finite; got {int(bad.sum())} NaN or inf values "
            f"(first: {name}[{i}] = {x[i]})"
        )
    return x


def _as_categorical_sample(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a 1-D array of category labels, refusing empty input and missing labels."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got {x.ndim}-D, shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must not be empty")
    if x.dtype == object or np.issubdtype(x.dtype, np.floating):
        missing = [i for i, v in enumerate(x.tolist()) if _is_missing(v)]
        if missing:
            raise ValueError(
                f"{name} must not hold missing labels; got {len(missing)} None or NaN "
                f"(first: {name}[{missing[0]}])"
            )
    return x


def _as_table(X: np.ndarray, name: str) -> np.ndarray:
    """``X`` as a 2-D float64 array (n, d), a 1-D sample read as one column."""
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (n, d); got {X.ndim}-D, shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have at least 1 row and 1 column; got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{name} must hold numbers; got dtype {X.dtype}")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite; got {int(bad.sum())} NaN or inf values "
            f"(first: row {i}, column {j})"
        )
    return X


def _check_same_columns(A: np.ndarray, B: np.ndarray) -> None:
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A and B must have the same number of columns; got {A.shape[1]} and {B.shape[1]}"
        )


# ---------------------------------------------------------------------------------------------
# one column
# ---------------------------------------------------------------------------------------------


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``sup_x |F_a(x) - F_b(x)|``.

    Parameters
    ----------
    a, b : array_like of shape (n,) and (m,)
        Two non-empty samples of finite numbers; the sizes may differ.

    Returns
    -------
    float
        The largest vertical gap between the two empirical CDFs, in ``[0, 1]``. Equal to
        ``scipy.stats.ks_2samp(a, b).statistic``, ties included.

    Examples
    --------
    >>> ks_distance([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    0.0
    >>> ks_distance([1, 2, 3], [4, 5])  # disjoint: one CDF reaches 1 before the other starts
    1.0
    >>> ks_distance([1, 2, 2, 3], [2, 3, 3, 3])  # at x = 2: F_a = 3/4, F_b = 1/4
    0.5
    """
    a = np.sort(_as_numeric_sample(a, "a"))
    b = np.sort(_as_numeric_sample(b, "b"))
    pooled = np.concatenate([a, b])
    # Both CDFs are right-continuous steps, constant between consecutive pooled values, so the
    # supremum is attained at a pooled value. side="right" counts the values <= x: with ties,
    # each CDF is read after its whole jump at x, as scipy.stats.ks_2samp does.
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size  # (n + m,)
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size  # (n + m,)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _is_categorical(x: np.ndarray) -> bool:
    return not (np.issubdtype(x.dtype, np.number) or x.dtype == bool)


def _histogram_edges(pooled: np.ndarray, bins: int | np.ndarray) -> np.ndarray:
    """Bin edges: ``bins + 1`` pooled quantiles (duplicates merged), or the edges given."""
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if bins < 1:
            raise ValueError(
                f"bins must be an int >= 1 or an increasing array of edges; got {bins}"
            )
        # Equal-mass bins on the pooled sample: every bin holds data, and a heavy tail does not
        # squeeze the bulk into one bin as equal-width bins would. Ties merge coinciding edges.
        return np.unique(np.quantile(pooled, np.linspace(0.0, 1.0, int(bins) + 1)))
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError(
            f"bins must be an int >= 1 or a strictly increasing 1-D array of at least 2 edges; "
            f"got {bins!r}"
        )
    if pooled.min() < edges[0] or pooled.max() > edges[-1]:
        raise ValueError(
            f"bins must cover the data; edges span [{edges[0]}, {edges[-1]}] but the values "
            f"span [{pooled.min()}, {pooled.max()}]"
        )
    return edges


def total_variation_distance(
    a: np.ndarray,
    b: np.ndarray,
    bins: int | np.ndarray = 10,
    categorical: bool | None = None,
) -> float:
    """Total variation distance ``0.5 * sum_k |p_a(k) - p_b(k)|`` between two samples.

    Parameters
    ----------
    a, b : array_like of shape (n,) and (m,)
        Two non-empty samples; the sizes may differ.
    bins : int or array_like of edges, default 10
        Numeric columns only. An int asks for that many equal-mass bins whose edges are the
        quantiles ``0, 1/bins, ..., 1`` of the *pooled* sample ``a`` and ``b`` (edges that
        coincide because of ties are merged, so there may be fewer bins). An array gives the
        edges themselves, strictly increasing and covering every value. As in
        :func:`numpy.histogram`, each bin is ``[e_k, e_{k+1})`` except the last, ``[e_k, e_K]``.
    categorical : bool, optional
        Treat the values as category labels: ``p_a(c)`` is the proportion of ``a`` equal to
        ``c``, over the union of the categories seen in ``a`` and ``b``. By default, strings,
        objects and other non-numeric arrays are categorical and numbers are binned; pass
        ``True`` for integer codes.

    Returns
    -------
    float
        In ``[0, 1]``: 0 when the two samples put the same proportion in every cell, 1 when no
        cell holds values of both.

    Examples
    --------
    >>> total_variation_distance(["x", "y", "y", "z"], ["y", "z", "z", "z"])  # |1/4-0|+0+|1/4-3/4|
    0.5
    >>> total_variation_distance([0, 0, 1, 1], [0, 1, 1, 1], categorical=True)
    0.25
    >>> total_variation_distance([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], bins=[0.0, 0.5, 1.0])
    1.0
    """
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    if categorical is None:
        categorical = _is_categorical(a_arr) or _is_categorical(b_arr)
    if categorical:
        a_arr = _as_categorical_sample(a_arr, "a")
        b_arr = _as_categorical_sample(b_arr, "b")
        try:
            categories, codes = np.unique(np.concatenate([a_arr, b_arr]), return_inverse=True)
        except TypeError as err:  # e.g. an object array mixing str and int cannot be sorted
            raise ValueError(
                f"categorical labels must be comparable with each other; got {err}"
            ) from None
        k = categories.size
        codes_a, codes_b = codes[: a_arr.size], codes[a_arr.size :]
    else:
        a_arr = _as_numeric_sample(a_arr, "a")
        b_arr = _as_numeric_sample(b_arr, "b")
        edges = _histogram_edges(np.concatenate([a_arr, b_arr]), bins)
        k = max(edges.size - 1, 1)  # one edge only: every value is equal, a single bin
        inner = edges[1:-1]  # a value equal to an inner edge opens the bin to its right
        codes_a = np.searchsorted(inner, a_arr, side="right")
        codes_b = np.searchsorted(inner, b_arr, side="right")
    p_a = np.bincount(codes_a, minlength=k) / codes_a.size  # (k,)
    p_b = np.bincount(codes_b, minlength=k) / codes_b.size  # (k,)
    return float(0.5 * np.abs(p_a - p_b).sum())


# ---------------------------------------------------------------------------------------------
# between columns
# ---------------------------------------------------------------------------------------------


def correlation_distance(A: np.ndarray, B: np.ndarray) -> float:
    """Mean absolute difference between the off-diagonal Pearson correlations of two tables.

    With ``R_A`` and ``R_B`` the ``d x d`` Pearson correlation matrices of the columns,

        distance = mean over i < j of |R_A[i, j] - R_B[i, j]|,

    the average over the ``d (d - 1) / 2`` pairs of columns (the matrices are symmetric, so
    this is also the mean over all off-diagonal entries). It lies in ``[0, 2]``.

    Parameters
    ----------
    A, B : array_like of shape (n, d) and (m, d)
        Two tables of finite numbers with the same ``d >= 2`` columns, at least 2 rows each,
        and no constant column (its correlations are undefined).

    Returns
    -------
    float

    Examples
    --------
    >>> A = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # corr(x, y) = 1
    >>> B = np.array([[1.0, 6.0], [2.0, 4.0], [3.0, 2.0]])  # corr(x, y) = -1
    >>> correlation_distance(A, B)
    2.0
    >>> correlation_distance(A, A)
    0.0
    """
    A = _as_table(A, "A")
    B = _as_table(B, "B")
    _check_same_columns(A, B)
    d = A.shape[1]
    if d < 2:
        raise ValueError(f"A and B must have at least 2 columns to correlate; got {d}")
    R = []
    for name, X in (("A", A), ("B", B)):
        if X.shape[0] < 2:
            raise ValueError(f"{name} must have at least 2 rows; got {X.shape[0]}")
        constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if constant.size:
            raise ValueError(
                f"{name} must vary in every column; column {int(constant[0])} is constant, "
                "so its correlations are undefined"
            )
        R.append(np.corrcoef(X, rowvar=False))  # (d, d)
    i, j = np.triu_indices(d, k=1)
    return float(np.mean(np.abs(R[0][i, j] - R[1][i, j])))


def _multivariate_ecdf(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``F_X(z) = (1/n) #{i : X_i <= z componentwise}`` for every row ``z`` of ``Z`` (q, d)."""
    n, d = X.shape
    step = max(1, _ECDF_CHUNK // (n * d))
    out = np.empty(Z.shape[0])
    for start in range(0, Z.shape[0], step):
        stop = start + step
        below = np.all(X[None, :, :] <= Z[start:stop, None, :], axis=2)  # (q_chunk, n)
        out[start:stop] = below.mean(axis=1)
    return out


def quantile_nodes(
    A: np.ndarray,
    n_nodes: int,
    adjusted: bool = True,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Random nodes for a multivariate ECDF, placed by the per-column quantiles of ``A``.

    Node ``j`` has, in column ``k``, the quantile of ``A[:, k]`` at level ``u_jk``, with all
    ``u_jk`` independent uniforms on (0, 1). ``adjusted=True`` raises them to the power
    ``1/d`` (Granville's adjusted scheme, from his ``genai-evaluation`` package). Why: where
    the columns are close to independent, ``F_A`` at a node is about the product of its
    levels, whose mean is ``2**-d`` for plain uniforms (0.004 in 8 columns), so nearly every
    node sits where both ECDFs are about 0 and the distance misses what happens elsewhere.
    The levels ``u**(1/d)`` have mean ``d/(d+1)``, and their product a mean of
    ``(d/(d+1))**d``, which tends to ``1/e`` instead of 0. For ``d = 1`` the two schemes
    coincide.

    Parameters
    ----------
    A : array_like of shape (n, d)
        The reference table (the real data).
    n_nodes : int
        Number of nodes.
    adjusted : bool, default True
        Levels ``u**(1/d)`` rather than ``u``.
    random_state : int, numpy.random.Generator or None
        Seed or generator of the levels.

    Returns
    -------
    ndarray of shape (n_nodes, d)
        Observed values of ``A``'s columns (``method="inverted_cdf"``), so every node sits on
        a jump of ``F_A``.

    Examples
    --------
    >>> A = np.arange(20.0).reshape(10, 2)
    >>> quantile_nodes(A, 3, random_state=0).shape
    (3, 2)
    """
    A = _as_table(A, "A")
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, numbers.Integral) or n_nodes < 1:
        raise ValueError(f"n_nodes must be an int >= 1; got {n_nodes!r}")
    rng = np.random.default_rng(random_state)
    d = A.shape[1]
    levels = rng.uniform(size=(int(n_nodes), d))  # (q, d)
    if adjusted:
        levels = levels ** (1.0 / d)
    return np.column_stack(
        [np.quantile(A[:, k], levels[:, k], method="inverted_cdf") for k in range(d)]
    )  # (q, d)


def multivariate_ks_distance(
    A: np.ndarray,
    B: np.ndarray,
    n_nodes: int | None = None,
    random_state: int | np.random.Generator | None = None,
    adjusted: bool = True,
) -> float:
    """Kolmogorov-Smirnov distance between the multivariate empirical CDFs of two tables.

    With ``F_X(z) = (1/n) #{i : X_i <= z}``, the inequality holding in every column, the
    distance is ``max |F_A(z) - F_B(z)|`` over a set of nodes ``z``:

    - ``n_nodes=None``: the pooled rows of ``A`` and ``B``. For one column this is exactly
      :func:`ks_distance`. With ``d >= 2`` columns the supremum over all ``z`` may lie at a
      node that mixes the coordinates of different rows, so this is a lower bound of it.
    - ``n_nodes=q``: ``q`` random nodes as in Granville's evaluation of synthetic data, whose
      column ``k`` is the quantile of column ``k`` of ``A`` at a random level: see
      :func:`quantile_nodes`, by default his adjusted levels ``u**(1/d)``. This explores the
      coordinate combinations that the pooled rows miss.

    Parameters
    ----------
    A, B : array_like of shape (n, d) and (m, d)
        Two non-empty tables of finite numbers with the same ``d`` columns (1-D input is one
        column). ``A`` is the reference (the real data) for the random nodes.
    n_nodes : int, optional
        Number of random nodes; ``None`` for the pooled rows.
    random_state : int, numpy.random.Generator or None
        Seed (or generator) of the random nodes; unused when ``n_nodes`` is ``None``.
    adjusted : bool, default True
        Granville's adjusted node levels ``u**(1/d)`` (see :func:`quantile_nodes`); ``False``
        for plain uniform levels. Unused when ``n_nodes`` is ``None``.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> A = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> B = np.array([[0.0, 1.0], [1.0, 0.0]])  # same marginals, opposite dependence
    >>> multivariate_ks_distance(A, B)  # at z = (0, 0): F_A = 1/2, F_B = 0
    0.5
    >>> ks_distance(A[:, 0], B[:, 0]), ks_distance(A[:, 1], B[:, 1])
    (0.0, 0.0)
    """
    A = _as_table(A, "A")
    B = _as_table(B, "B")
    _check_same_columns(A, B)
    if n_nodes is None:
        Z = np.concatenate([A, B])  # (n + m, d)
    else:
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, numbers.Integral) or n_nodes < 1:
            raise ValueError(f"n_nodes must be an int >= 1 or None; got {n_nodes!r}")
        Z = quantile_nodes(A, n_nodes, adjusted=adjusted, random_state=random_state)  # (q, d)
    return float(np.max(np.abs(_multivariate_ecdf(A, Z) - _multivariate_ecdf(B, Z))))


def column_report(
    A: np.ndarray, B: np.ndarray, bins: int | np.ndarray = 10
) -> dict[str, np.ndarray]:
    """Per-column :func:`ks_distance` and :func:`total_variation_distance` of two tables.

    Parameters
    ----------
    A, B : array_like of shape (n, d) and (m, d)
        Two non-empty numeric tables with the same ``d`` columns (1-D input is one column).
    bins : int or array_like of edges, default 10
        Passed to :func:`total_variation_distance` for every column.

    Returns
    -------
    dict
        ``{"ks": ndarray of shape (d,), "tv": ndarray of shape (d,)}``, entry ``j`` comparing
        column ``j`` of ``A`` with column ``j`` of ``B``.

    Examples
    --------
    >>> A = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    >>> B = np.array([[0.0, 3.0], [1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    >>> report = column_report(A, B, bins=2)
    >>> report["ks"].tolist(), report["tv"].tolist()
    ([0.0, 0.5], [0.0, 0.5])
    """
    A = _as_table(A, "A")
    B = _as_table(B, "B")
    _check_same_columns(A, B)
    d = A.shape[1]
    ks = np.array([ks_distance(A[:, j], B[:, j]) for j in range(d)])
    tv = np.array([total_variation_distance(A[:, j], B[:, j], bins=bins) for j in range(d)])
    return {"ks": ks, "tv": tv}
