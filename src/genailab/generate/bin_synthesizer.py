"""Bin synthesizer: synthetic rows drawn from the occupied hyper-rectangles of the data.

After Vincent Granville's NoGAN idea (*Synthetic Data and Generative AI*, MLTechniques),
written from its description, not from his code.

Each numeric column is cut at its empirical quantiles ``q_0 = min, q_1, ..., q_bins = max``
(``np.quantile``, linear interpolation; repeated edges, from a heavily tied column, are merged,
so such a column has fewer bins). A value ``x`` falls in bin ``b`` when ``q_b <= x < q_{b+1}``,
the last bin being closed on both sides. A categorical column (object, string, category, bool)
is its own binning: each category is a bin. A row is mapped to its hyper-rectangle, the tuple
of its bin indices; ``np.unique`` on the (n, d) index rows counts the occupied hyper-rectangles
``c`` with counts ``n_c``.

Sampling draws hyper-rectangles from the multinomial with probabilities ``n_c / n``, so only
occupied ones are ever produced, and then fills each numeric value inside the chosen bin:

- ``within="uniform"``: uniform between the bin's edges, ``q_b + (q_{b+1} - q_b) U``; for an
  int column, uniform over the integers of the bin (an occupied bin holds at least one).
  Values never leave ``[min, max]``.
- ``within="extrapolate"``: a row ``I`` is drawn uniformly among the rows of the chosen
  hyper-rectangle and each numeric value is ``x_Ij + h_j eps`` with ``eps ~ N(0, 1)`` and
  ``h_j = 0.1 s_j`` (``s_j`` the column's standard deviation, ``ddof=1``): the kernel noise of
  :class:`~genailab.generate.QuantileExtrapolator` at its default bandwidth. A draw that leaves
  the bin through an *interior* edge is rejected and its noise redrawn (int columns are
  rounded, half to even, before the test), so the bin frequencies are kept exactly; the lowest
  bin has no lower edge and the highest no upper edge, so values there reach beyond the
  observed minimum and maximum. An int column is also kept inside its dtype's range.
  NOTE: nothing else bounds the open sides unless ``truncate`` does, so a positive column can
  turn negative there (insurance ``charges``, min 1122 and ``h`` about 1200, reaches about
  -3000 in 20000 draws; ``truncate={"charges": (0, None)}`` keeps it positive).

``truncate={column: (low, high)}`` (``None`` for an open side) bounds the extrapolated values by
the same rejection, which conditions the kernel on the interval instead of piling mass on its
ends as clipping would. The bounds must contain every observed value of their column: the bins
are the data's, and a bound inside the data would empty some of them.

Pinned: the bin edges (linear-interpolated quantiles), the kernel width ``0.1 s_j``, and
``_MAX_ROUNDS`` rejection rounds, after which a value still outside its bin (only possible
for a bin much narrower than ``h_j``) falls back to the observed ``x_Ij``, which lies inside.

Categories are copied from an observed row of the chosen hyper-rectangle, so no new category
(and no new combination of categories) appears and the output keeps the input's dtypes.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from genailab.errors import ConfigError, NotFittedError
from genailab.generate._tables import (
    as_column,
    as_table,
    from_table,
    is_int_column,
    split_columns,
    table_bounds,
)

_KERNEL_WIDTH = 0.1  # h_j / s_j in "extrapolate", QuantileExtrapolator's default bandwidth
_MAX_ROUNDS = 50  # rejection rounds before a value falls back to the observed x_Ij


class BinSynthesizer:
    """Multinomial over occupied quantile hyper-rectangles, then a draw inside the chosen one.

    Parameters
    ----------
    bins : int, default 4
        Number of quantile bins per numeric column (fewer where quantiles tie).
    within : {"uniform", "extrapolate"}, default "uniform"
        How numeric values are drawn inside a bin (see the module docstring).
    truncate : dict, optional
        ``{column: (low, high)}``, ``None`` for an open side: bounds for the values that
        ``"extrapolate"`` draws beyond the observed range (``"uniform"`` never leaves it). Each
        pair must contain its column's observed values. Array input names columns 0, 1, ...
    random_state : int, numpy.random.Generator or None
        Seed of the generator created by :meth:`fit` (or the generator itself, used as is).

    Attributes
    ----------
    edges_ : dict
        Per numeric column, its bin edges (``q_0, ..., q_k``) as a float array.
    cells_ : ndarray of shape (m, d)
        The occupied hyper-rectangles: one row of bin indices per cell, over all d columns
        (a categorical column's index is its category's position in ``categories_``).
    counts_ : ndarray of shape (m,)
        Observed rows per occupied hyper-rectangle; they sum to n.
    categories_ : dict
        Per categorical column, its categories in order of first appearance.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [23, 35, 41, 58, 62, 19], "smoker": list("nynnyn")})
    >>> model = BinSynthesizer(bins=2, random_state=0).fit(df)
    >>> out = model.sample(5)
    >>> out.dtypes.equals(df.dtypes), len(model.counts_), int(model.counts_.sum())
    (True, 4, 6)
    """

    def __init__(
        self,
        bins: int = 4,
        within: str = "uniform",
        truncate: dict | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.bins = bins
        self.within = within
        self.truncate = truncate
        self.random_state = random_state

    def fit(self, X: np.ndarray | pd.DataFrame) -> Self:
        """Bin ``X`` (1-D, 2-D or a DataFrame), count its hyper-rectangles and return self."""
        b = self.bins
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1:
            raise ConfigError(f"bins must be an int >= 1; got {b!r}")
        if self.within not in ("uniform", "extrapolate"):
            raise ConfigError(f"within must be 'uniform' or 'extrapolate'; got {self.within!r}")
        df, self._ndim = as_table(X)
        self._numeric, categorical = split_columns(df)
        n = len(df)
        index = np.empty((n, df.shape[1]), dtype=np.int64)  # (n, d) bin index of every value
        self.edges_, self.categories_ = {}, {}
        for j, (name, col) in enumerate(df.items()):
            if name in categorical:
                codes, uniques = pd.factorize(col, use_na_sentinel=False)
                index[:, j] = codes
                self.categories_[name] = uniques
                continue
            x = col.to_numpy(dtype=np.float64)
            edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, b + 1)))
            if len(edges) == 1:  # a constant column: one bin [c, c]
                edges = np.repeat(edges, 2)
            self.edges_[name] = edges
            # side="right" on the interior edges: q_b <= x < q_{b+1}, the top bin closed.
            index[:, j] = np.searchsorted(edges[1:-1], x, side="right")
        cells, inverse, counts = np.unique(index, axis=0, return_inverse=True, return_counts=True)
        self.cells_, self.counts_ = cells, counts
        # Rows grouped by cell, so that row I of cell c is _order[_start[c] + k], 0 <= k < n_c.
        self._order = np.argsort(inverse.ravel(), kind="stable")
        self._start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._table = df
        self._std = {c: float(df[c].std(ddof=1)) for c in self._numeric}
        bounds = table_bounds(self.truncate, df, self._numeric)  # (k, 2)
        for (lo, hi), name in zip(bounds, self._numeric, strict=True):
            x = df[name]
            if not lo <= x.min() <= x.max() <= hi:
                raise ConfigError(
                    f"truncate[{name!r}]={self.truncate[name]!r} excludes observed values of "
                    f"{name!r} (they span {x.min()!r} to {x.max()!r}); the bounds must contain them"
                )
        self._bounds = dict(zip(self._numeric, bounds, strict=True))
        self._rng = np.random.default_rng(self.random_state)
        self.n_features_in_ = df.shape[1]
        return self

    def sample(self, n: int) -> np.ndarray | pd.DataFrame:
        """Draw ``n`` synthetic rows, with the fitted type, columns and dtypes."""
        if not hasattr(self, "cells_"):
            raise NotFittedError("this BinSynthesizer is not fitted yet; call fit(X) first")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be an int >= 0; got {n!r}")
        rng = self._rng
        p = self.counts_ / self.counts_.sum()
        cell = rng.choice(len(self.counts_), size=n, p=p)  # (n,) multinomial over cells
        # One observed row of each chosen cell, uniformly: its categories (and, in
        # "extrapolate", its numeric values) are the ones the synthetic row starts from.
        k = np.floor(rng.random(n) * self.counts_[cell]).astype(np.int64)
        rows = self._order[self._start[cell] + k]  # (n,)
        out = self._table.iloc[rows].reset_index(drop=True)
        columns = list(self._table.columns)
        for name in self._numeric:
            j = columns.index(name)
            bin_ = self.cells_[cell, j]  # (n,)
            if self.within == "uniform":
                values = self._uniform(name, bin_)
            else:
                values = self._extrapolate(name, bin_, rows)
            out[name] = as_column(values, self._table[name])
        return from_table(out, self._ndim)

    def _uniform(self, name, bin_: np.ndarray) -> np.ndarray:
        edges = self.edges_[name]
        lo, hi = edges[bin_], edges[bin_ + 1]  # (n,)
        if not is_int_column(self._table[name]):
            return lo + (hi - lo) * self._rng.random(len(bin_))
        # Integers of [lo, hi), or of [lo, hi] for the top bin.
        top = bin_ == len(edges) - 2
        first = np.ceil(lo)
        last = np.where(top, np.floor(hi), np.ceil(hi) - 1)
        return first + np.floor(self._rng.random(len(bin_)) * (last - first + 1))

    def _extrapolate(self, name, bin_: np.ndarray, rows: np.ndarray) -> np.ndarray:
        edges = self.edges_[name]
        col = self._table[name]
        x = col.to_numpy(dtype=np.float64)[rows]  # (n,) the observed x_Ij, inside its bin
        lo, hi = edges[bin_].copy(), edges[bin_ + 1].copy()
        top = bin_ == len(edges) - 2
        # The outer sides are open, up to truncate's bounds and an int dtype's range.
        lo[bin_ == 0], hi[top] = self._bounds[name]
        h = _KERNEL_WIDTH * self._std[name]
        out = x.copy()
        todo = np.arange(len(x))
        for _ in range(_MAX_ROUNDS):
            if not todo.size:
                break
            z = x[todo] + h * self._rng.standard_normal(todo.size)
            if is_int_column(col):
                z = np.round(z)
            # Interior bins are half-open [lo, hi); the top bin is closed at hi.
            ok = (z >= lo[todo]) & ((z < hi[todo]) | (top[todo] & (z <= hi[todo])))
            out[todo[ok]] = z[ok]
            todo = todo[~ok]
        return out  # entries still in todo keep the observed x_Ij
