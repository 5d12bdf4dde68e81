"""Gaussian copula: each column's own margin, joined by the correlation of normal scores.

Fit. A numeric column ``x_1, ..., x_n`` becomes uniform scores through its empirical CDF,
``u_i = r_i / (n + 1)`` with ``r_i`` the rank of ``x_i`` (ties get their average rank), and
normal scores ``z_i = Phi^{-1}(u_i)``. A categorical column (object, string, category, bool)
has no order, so one is chosen: its categories sorted by decreasing frequency (ties: first
appearance) split ``(0, 1)`` into consecutive intervals ``[c_{k-1}, c_k)`` of widths ``n_k / n``,
and a row of category ``k`` gets the midpoint ``u = (c_{k-1} + c_k) / 2`` and ``z = Phi^{-1}(u)``.
The copula's correlation ``R`` is the Pearson correlation of the (n, d) normal scores.

Sample. ``z ~ N(0, R)`` (through ``R = V diag(lambda) V^T``, negative rounding-error
eigenvalues set to 0, so a singular ``R`` from duplicated columns is fine) and ``u = Phi(z)``,
whose every component is uniform on (0, 1). A numeric column maps ``u`` back through its
empirical quantile function, interpolated linearly between the points ``(i / (n + 1), x_(i))``
of the sorted data and flat at ``x_(1)`` and ``x_(n)`` outside ``[1/(n+1), n/(n+1)]``: the
inverse of the fitting map, so values stay inside the observed ``[min, max]``; an int column is
rounded, half to even. A categorical column takes the category whose interval holds ``u``, so
category ``k`` appears with probability ``n_k / n`` exactly. A column with a single value stays
constant and is left out of ``R``.

The output keeps the input's type, columns and dtypes (categories are copied from an observed
row of that category).
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from genailab.errors import NotFittedError
from genailab.generate._tables import as_column, as_table, from_table, split_columns
from genailab.generate.quantile_extrapolation import _normal_cdf, _normal_quantile


class GaussianCopula:
    """Gaussian copula over empirical margins, for arrays and mixed DataFrames.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        Seed of the generator created by :meth:`fit` (or the generator itself, used as is).

    Attributes
    ----------
    correlation_ : ndarray of shape (k, k)
        ``R``, the correlation of the normal scores of the ``k`` varying columns.
    columns_ : list
        Those varying columns, in the order of ``correlation_``.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, 3.9], [3.0, 6.1], [4.0, 8.0], [5.0, 9.7]])
    >>> model = GaussianCopula(random_state=0).fit(x)
    >>> out = model.sample(1000)
    >>> bool(out[:, 0].min() >= 1.0 and out[:, 1].max() <= 9.7)
    True
    >>> bool(model.correlation_[0, 1] > 0.99)
    True
    """

    def __init__(self, random_state: int | np.random.Generator | None = None) -> None:
        self.random_state = random_state

    def fit(self, X: np.ndarray | pd.DataFrame) -> Self:
        """Fit the margins and the normal-score correlation of ``X`` and return self."""
        df, self._ndim = as_table(X)
        numeric, _ = split_columns(df)
        n = len(df)
        self.columns_ = [c for c in df.columns if df[c].nunique(dropna=False) > 1]
        scores = np.empty((n, len(self.columns_)))  # (n, k) normal scores
        self._sorted, self._cuts, self._labels = {}, {}, {}
        for j, name in enumerate(self.columns_):
            col = df[name]
            if name in numeric:
                self._sorted[name] = np.sort(col.to_numpy(dtype=np.float64))
                u = col.rank(method="average").to_numpy() / (n + 1)
            else:
                codes, _ = pd.factorize(col, use_na_sentinel=False)
                counts = np.bincount(codes)
                order = np.argsort(-counts, kind="stable")  # by frequency, then appearance
                cuts = np.cumsum(counts[order]) / n  # c_1, ..., c_K = 1
                mid = cuts - counts[order] / (2 * n)  # (c_{k-1} + c_k) / 2
                position = np.empty_like(order)
                position[order] = np.arange(len(order))  # code -> its interval
                u = mid[position[codes]]
                self._cuts[name] = cuts
                # One observed row per interval: copying it keeps the dtype and the label.
                first_row = np.unique(codes, return_index=True)[1]
                self._labels[name] = first_row[order]
            scores[:, j] = _normal_quantile(u)
        k = len(self.columns_)
        self.correlation_ = np.corrcoef(scores, rowvar=False).reshape(k, k) if k else np.eye(0)
        lam, V = np.linalg.eigh(self.correlation_)
        self._factor = V * np.sqrt(np.clip(lam, 0.0, None))  # (k, k), factor @ factor.T = R
        self._table = df
        self._numeric = numeric
        self._rng = np.random.default_rng(self.random_state)
        self.n_features_in_ = df.shape[1]
        return self

    def sample(self, n: int) -> np.ndarray | pd.DataFrame:
        """Draw ``n`` synthetic rows, with the fitted type, columns and dtypes."""
        if not hasattr(self, "correlation_"):
            raise NotFittedError("this GaussianCopula is not fitted yet; call fit(X) first")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be an int >= 0; got {n!r}")
        k = len(self.columns_)
        z = self._rng.standard_normal((n, k)) @ self._factor.T  # (n, k) ~ N(0, R)
        u = _normal_cdf(z)
        out = self._table.iloc[np.zeros(n, dtype=np.int64)].reset_index(drop=True)  # constants
        m = len(self._table)
        for j, name in enumerate(self.columns_):
            if name in self._numeric:
                grid = np.arange(1, m + 1) / (m + 1)
                values = np.interp(u[:, j], grid, self._sorted[name])
                out[name] = as_column(values, self._table[name])
            else:
                cuts = self._cuts[name]
                interval = np.minimum(np.searchsorted(cuts, u[:, j], side="right"), len(cuts) - 1)
                rows = self._labels[name][interval]
                out[name] = self._table[name].iloc[rows].reset_index(drop=True)
        return from_table(out, self._ndim)
