"""Quantile extrapolation: synthetic data that reaches beyond the observed range.

After Vincent Granville, *Synthetic Data and Generative AI* (MLTechniques), the section on
sampling outside the observation range ("quantile extrapolation"). This module is written from
the maths of that idea, not from his code.

An empirical quantile function never returns a value below the smallest observation or above
the largest, so a synthetic table drawn from it (a plain bootstrap) never shows a new record.
Granville's remedy is a kernel-smoothed bootstrap: pick an observation at random and shake it
with Gaussian noise proportional to the spread of the data. For one column ``x_1, ..., x_n``
with sample standard deviation ``s`` (``ddof=1``) and bandwidth ``v``,

    z = x_I + v * s * eps,      I ~ Uniform{1, ..., n},  eps ~ N(0, 1),

which is an exact draw from the mixture ``(1/n) sum_i N(x_i, (v s)^2)``. Its CDF
``F(q) = (1/n) sum_i Phi((q - x_i) / (v s))`` is smooth and strictly increasing, so its
quantile function ``F^{-1}(p)`` exists for every ``p`` in ``(0, 1)``; below ``p = 1/n`` and
above ``1 - 1/n`` it runs past the observed minimum and maximum, and as ``v -> 0`` it tends to
the empirical quantile function. With ``d`` columns the noise is correlated like the data,
``z = x_I + v * L eps`` with ``L L^T`` the sample covariance (Cholesky), so the correlations
between columns survive.

The smoothing adds variance: ``Var z = Var_n x + v^2 s^2``, about ``(1 + v^2)`` times the
observed. ``variance_correction=True`` shrinks every draw towards the sample mean ``m``,

    z = m + (x_I - m + v * s * eps) / sqrt(1 + v^2),

so that the synthetic variance (covariance, with ``L``) equals the observed one up to the
factor ``1 - 1 / (n (1 + v^2))`` that separates ``ddof=0`` from ``ddof=1``.

``truncate`` keeps each column inside ``[low, high]`` by rejection: draws outside are thrown
away and redrawn, never clipped, so the synthetic distribution inside the bounds is the
smoothed one conditioned on the bounds, and :meth:`QuantileExtrapolator.quantile` returns the
quantiles of that conditional distribution.

Tables (a pandas DataFrame with mixed columns) are fitted the same way, one row at a time:

- numeric columns (float and int, not bool) get the correlated noise above, jointly, with
  ``L`` the Cholesky factor of their covariance. A numeric column with a single value has zero
  variance: it is left out of the covariance and stays constant in the output.
- categorical columns (object, string, category, and bool) are never shaken and never mixed
  across rows: the draw ``I`` that picks ``x_I`` also picks the categories of row ``I``
  ("grouped" resampling). The joint frequencies of the categories, and their association with
  the numeric columns, are those of the observed table; no new category appears.
- int columns are rounded to the nearest integer (half to even). With ``truncate``, the
  rejection test is applied to the rounded value, so an int column always ends inside its
  bounds; the range of its dtype (``uint8``: 0 to 255) is always such a bound.
- missing values (NaN, None, NA) in a numeric column are rejected with a ``ValueError`` that
  names the column and the count: drop or impute them first. A text column whose non-blank
  entries are all numbers (``telecom.csv``'s ``TotalCharges``, whose blanks are ``" "``) is
  rejected too, naming the column and its blanks: convert it with
  ``pd.to_numeric(df[col], errors="coerce")`` and drop or impute, or cast it to ``category``
  to resample it as labels. Missing values in a categorical column are just another category.

``sample`` then returns a DataFrame with the same columns, order and dtypes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd
import torch

from genailab.errors import ConfigError, NotFittedError
from genailab.generate._tables import check_real, split_columns, table_bounds

# NOTE: rejection sampling gives up after this many rounds; each round draws enough to fill the
# remainder at the acceptance rate measured so far, so a feasible truncation needs 2 or 3.
_MAX_ROUNDS = 8
_MAX_BATCH = 1_000_000  # draws per round, to bound memory when the acceptance rate is tiny
_CDF_CHUNK = 2**22  # entries of the (p, observations) table evaluated at once
_BISECTION_STEPS = 200  # more than enough to reach adjacent floats from the starting bracket


def covariance_factor(cov: np.ndarray) -> np.ndarray:
    """``L`` with ``L L^T = cov``: Cholesky where ``cov`` is positive-definite, else ``V sqrt(W)``.

    A covariance of linearly dependent columns (the same column twice, a column that is the
    sum of others) has no Cholesky factor. Its eigendecomposition ``V W V^T`` still gives one,
    with the eigenvalues below ``1e-12`` of the largest set to zero: noise ``L eps`` then has
    no component along a dependence, so every exact linear relation between the columns
    (``X1 = X3``) holds in every synthetic row ``x_I + v L eps`` as it does in the data.

    Examples
    --------
    >>> L = covariance_factor(np.array([[1.0, 1.0], [1.0, 1.0]]))  # two identical columns
    >>> bool(np.allclose(L @ L.T, 1.0)), bool(np.allclose(L[0], L[1]))
    (True, True)
    """
    try:
        return np.linalg.cholesky(cov)  # (d, d), lower
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(cov)  # (d,), (d, d): cov = V diag(w) V^T
        w = np.where(w > 1e-12 * w.max(), w, 0.0)
        return V * np.sqrt(w)  # (d, d): column k of V scaled by sqrt(w_k)


def _normal_cdf(t: np.ndarray) -> np.ndarray:
    """Standard normal CDF, vectorized and accurate in both tails (``torch.special.ndtr``)."""
    return torch.special.ndtr(torch.from_numpy(np.asarray(t, dtype=np.float64))).numpy()


def _normal_quantile(p: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_normal_cdf` (``torch.special.ndtri``)."""
    return torch.special.ndtri(torch.from_numpy(np.asarray(p, dtype=np.float64))).numpy()


class QuantileExtrapolator:
    """Kernel-smoothed bootstrap that samples, and gives quantiles, beyond the observed range.

    Parameters
    ----------
    bandwidth : float, default 0.1
        ``v``: the noise added to a resampled row is ``v`` times the sample standard deviation
        (``v L eps`` with ``L`` the Cholesky factor of the sample covariance for several
        columns). ``v -> 0`` is the plain bootstrap; larger ``v`` reaches further out.
    truncate : (low, high), sequence of (low, high), or dict, optional
        Bounds per column (one pair for a single column); ``None`` for a side means unbounded.
        For a DataFrame, a dict ``{column: (low, high)}`` over numeric columns. Draws outside
        are rejected and redrawn, never clipped.
    variance_correction : bool, default False
        Shrink draws towards the mean by ``1 / sqrt(1 + v^2)`` so that the synthetic variance
        equals the observed one instead of ``(1 + v^2)`` times it.
    random_state : int, numpy.random.Generator or None
        Seed of the generator created by :meth:`fit` (or the generator itself, used as is).

    Attributes
    ----------
    data_ : ndarray of shape (n, d)
        The observations, as float64 (for a DataFrame: its varying numeric columns).
    mean_ : ndarray of shape (d,)
    cholesky_ : ndarray of shape (d, d)
        ``L`` with ``L L^T`` the sample covariance (``ddof=1``): its lower-triangular
        Cholesky factor, ``[[s]]`` for one column, or, where columns are linearly dependent
        (a duplicated column, a sum of others), the factor from :func:`covariance_factor`.
    bounds_ : ndarray of shape (d, 2)
        ``truncate`` as floats, ``-inf`` / ``inf`` where unbounded.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    >>> model = QuantileExtrapolator(bandwidth=0.3, random_state=0).fit(x)
    >>> model.sample(4).shape
    (4,)
    >>> q = model.quantile([0.01, 0.5, 0.99])
    >>> bool(q[0] < x.min() and q[-1] > x.max())  # beyond the observed range
    True
    >>> round(float(model.quantile(0.5)), 4)
    4.1151
    """

    def __init__(
        self,
        bandwidth: float = 0.1,
        truncate: Sequence[float | None] | Sequence[Sequence[float | None]] | None = None,
        variance_correction: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.bandwidth = bandwidth
        self.truncate = truncate
        self.variance_correction = variance_correction
        self.random_state = random_state

    # ---------------------------------------------------------------------------------------
    # fit
    # ---------------------------------------------------------------------------------------

    def fit(self, X: np.ndarray | pd.DataFrame) -> Self:
        """Store the observations ``X`` and return self.

        ``X`` is 1-D of length n, 2-D of shape (n, d), or a DataFrame with mixed columns
        (see the module docstring for how each kind of column is treated).

        Examples
        --------
        >>> df = pd.DataFrame({"age": [23, 35, 41, 58], "smoker": ["no", "yes", "no", "no"]})
        >>> out = QuantileExtrapolator(bandwidth=0.3, random_state=0).fit(df).sample(3)
        >>> out.dtypes.equals(df.dtypes), set(out["smoker"]) <= {"no", "yes"}
        (True, True)
        """
        v = self.bandwidth
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 <= v < math.inf):
            raise ConfigError(f"bandwidth must be a finite float >= 0; got {v!r}")
        if isinstance(X, pd.DataFrame):
            return self._fit_table(X)
        self._table = None
        self.__dict__.pop("feature_names_in_", None)  # from an earlier DataFrame fit
        X = np.asarray(X)
        if X.ndim not in (1, 2):
            raise ValueError(f"X must be 1-D (n,) or 2-D (n, d); got {X.ndim}-D, shape {X.shape}")
        check_real(X)
        data = (X if X.ndim == 2 else X[:, None]).astype(np.float64)  # (n, d)
        n, d = data.shape
        if n < 2 or d == 0:
            raise ValueError(f"X must have at least 2 rows and 1 column; got shape {X.shape}")
        if not np.all(np.isfinite(data)):
            rows = np.flatnonzero(~np.all(np.isfinite(data), axis=1))
            raise ValueError(
                f"X must be finite; got NaN or inf in {rows.size} rows (first: row {rows[0]})"
            )
        std = data.std(axis=0, ddof=1)  # (d,)
        if np.any(std == 0):
            raise ValueError(
                f"X must vary in every column; column {int(np.flatnonzero(std == 0)[0])} "
                "is constant"
            )
        cholesky = covariance_factor(np.cov(data, rowvar=False, ddof=1).reshape(d, d))
        self.bounds_ = self._check_bounds(d)
        self._store(data, cholesky)
        self.n_features_in_ = d
        self._is_1d = X.ndim == 1
        return self

    def _store(self, data: np.ndarray, cholesky: np.ndarray) -> None:
        self.data_ = data
        self.mean_ = data.mean(axis=0)
        self.cholesky_ = cholesky
        self._rng = np.random.default_rng(self.random_state)

    def _fit_table(self, df: pd.DataFrame) -> Self:
        """Fit a DataFrame: varying numeric columns get the noise, the rest are resampled."""
        numeric, _ = split_columns(df)
        numeric = [c for c in numeric if df[c].nunique() > 1]  # the columns of data_
        data = df[numeric].to_numpy(dtype=np.float64)  # (n, d)
        d = len(numeric)
        cholesky = np.zeros((0, 0))
        if d:
            cholesky = covariance_factor(np.cov(data, rowvar=False, ddof=1).reshape(d, d))
        self._table = df.reset_index(drop=True)
        self._numeric = numeric
        self._is_int = np.array([pd.api.types.is_integer_dtype(df[c]) for c in numeric], bool)
        self.bounds_ = table_bounds(self.truncate, df, numeric)
        self._store(data, cholesky)
        self.n_features_in_ = df.shape[1]
        self.feature_names_in_ = np.asarray(df.columns, dtype=object)
        self._is_1d = False
        return self

    def _check_bounds(self, d: int) -> np.ndarray:
        if self.truncate is None:
            return np.tile([-math.inf, math.inf], (d, 1))
        pairs = list(self.truncate)
        if len(pairs) == 2 and not any(isinstance(b, Sequence | np.ndarray) for b in pairs):
            pairs = [pairs] * d if d == 1 else pairs  # one (low, high) pair for one column
        if len(pairs) != d or any(
            not isinstance(b, Sequence | np.ndarray) or len(b) != 2 for b in pairs
        ):
            raise ConfigError(
                f"truncate must be one (low, high) pair per column ({d}); got {self.truncate!r}"
            )
        bounds = np.array(
            [[-math.inf if lo is None else lo, math.inf if hi is None else hi] for lo, hi in pairs],
            dtype=np.float64,
        )
        bad = ~(bounds[:, 0] < bounds[:, 1])  # also catches NaN
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise ConfigError(f"truncate must have low < high; got {pairs[j]!r} for column {j}")
        return bounds

    # ---------------------------------------------------------------------------------------
    # sample
    # ---------------------------------------------------------------------------------------

    def sample(self, n: int) -> np.ndarray | pd.DataFrame:
        """Draw ``n`` synthetic rows: shape (n,) if fitted on 1-D data, else (n, d).

        A DataFrame with the fitted columns, order and dtypes if fitted on a DataFrame.
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be an int >= 0; got {n!r}")
        low, high = self.bounds_[:, 0], self.bounds_[:, 1]
        kept: list[np.ndarray] = []
        kept_rows: list[np.ndarray] = []
        have, drawn, accepted = 0, 0, 0
        for _ in range(_MAX_ROUNDS):
            if have >= n:
                break
            rate = accepted / drawn if drawn else 1.0
            # Draw enough to fill the remainder at the measured rate, with 20% to spare.
            batch = min(_MAX_BATCH, math.ceil(1.2 * (n - have) / max(rate, 1.0 / (drawn + 1))))
            rows, z = self._draw(batch)  # (batch,), (batch, d)
            if self._table is not None:
                z[:, self._is_int] = np.round(z[:, self._is_int])  # bounds apply to the rounding
            ok = np.all((z >= low) & (z <= high), axis=1)
            z, rows = z[ok], rows[ok]
            kept.append(z)
            kept_rows.append(rows)
            have += len(z)
            drawn += batch
            accepted += len(z)
        if have < n:
            raise ValueError(
                f"truncate={self.truncate!r} keeps only {accepted} of {drawn} draws "
                f"(acceptance rate {accepted / drawn:.2g}); cannot fill n={n} in "
                f"{_MAX_ROUNDS} rounds: widen the bounds or the bandwidth"
            )
        z = np.concatenate(kept)[:n] if kept else np.empty((0, self.data_.shape[1]))
        if self._table is not None:
            rows = np.concatenate(kept_rows)[:n] if kept else np.empty(0, dtype=np.int64)
            return self._to_table(rows, z)
        return z[:, 0] if self._is_1d else z

    def _to_table(self, rows: np.ndarray, z: np.ndarray) -> pd.DataFrame:
        """Rows ``I`` of the fitted table, with the varying numeric columns replaced by ``z``."""
        out = self._table.iloc[rows].reset_index(drop=True)  # categories of row I, grouped
        for j, name in enumerate(self._numeric):
            out[name] = pd.Series(z[:, j]).astype(self._table[name].dtype)
        return out

    def _draw(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """``m`` untruncated draws: the rows ``I`` (m,) and the values (m, d)."""
        v = self.bandwidth
        rows = self._rng.integers(0, len(self.data_), size=m)  # I, uniform over observations
        eps = self._rng.standard_normal((m, self.data_.shape[1]))  # (m, d)
        z = self.data_[rows] + v * eps @ self.cholesky_.T  # x_I + v L eps, row-wise
        if (
            self.variance_correction and v > 0
        ):  # NOTE: at v = 0, m + (x - m) / 1 may move x by 1 ulp
            z = self.mean_ + (z - self.mean_) / math.sqrt(1.0 + v * v)
        return rows, z

    # ---------------------------------------------------------------------------------------
    # quantile
    # ---------------------------------------------------------------------------------------

    def cdf(self, q: float | np.ndarray, column: int | str | None = None) -> float | np.ndarray:
        """CDF of the smoothed (untruncated) marginal distribution of one fitted column.

        ``F(q) = (1/n) sum_i Phi((q - x_ij) / (v s_j))`` with ``s_j^2 = Sigma_jj``, and ``q``
        first mapped back through the variance correction when it is on. ``column`` (index for
        arrays, name for a DataFrame) may be left out when a single column was fitted.
        """
        j = self._column_index("cdf", column)
        q_arr = np.asarray(q, dtype=np.float64)
        if isinstance(j, tuple):  # a constant column: a step at its value
            F = (q_arr >= j[0]).astype(np.float64)
        else:
            F = self._mixture_cdf(self._undo_correction(q_arr.ravel(), j), j).reshape(q_arr.shape)
        return float(F) if F.ndim == 0 else F

    def quantile(
        self, p: float | np.ndarray, column: int | str | None = None
    ) -> float | np.ndarray:
        """The ``p``-quantile of the smoothed marginal distribution of one fitted column.

        The marginal of column ``j`` is ``(1/n) sum_i N(x_ij, v^2 Sigma_jj)`` (then the variance
        correction, if on). Defined for every ``p`` in the open interval (0, 1), also outside
        the observed range; with ``truncate``, the quantile of the marginal conditioned on that
        column's bounds. Solved for all ``p`` at once by bisection on the mixture CDF.
        ``column`` (index for arrays, name for a DataFrame) may be left out when a single
        column was fitted; a constant DataFrame column gives its value.

        Examples
        --------
        >>> model = QuantileExtrapolator(bandwidth=0.5).fit(np.array([0.0, 1.0]))
        >>> round(float(model.quantile(0.5)), 12)
        0.5
        """
        j = self._column_index("quantile", column)
        p_arr = np.asarray(p, dtype=np.float64)
        if p_arr.size == 0 or not np.all((p_arr > 0) & (p_arr < 1)):
            raise ValueError(f"p must lie in the open interval (0, 1); got {p!r}")
        if isinstance(j, tuple):  # a constant column
            q = np.full(p_arr.shape, float(j[0]))
            return float(q) if q.ndim == 0 else q
        target = p_arr.ravel()  # (m,)
        low, high = self.bounds_[j]
        if np.isfinite(low) or np.isfinite(high):
            # Quantile of the conditional law: F^{-1}(F(a) + p (F(b) - F(a))).
            Fa, Fb = self._mixture_cdf(self._undo_correction(np.array([low, high]), j), j)
            if not Fb > Fa:
                raise ValueError(
                    f"truncate={self.truncate!r} holds no probability mass of the fitted model"
                )
            target = Fa + target * (Fb - Fa)
        q = self._redo_correction(self._mixture_quantile(target, j), j).reshape(p_arr.shape)
        if np.isfinite(low) or np.isfinite(high):
            q = np.clip(q, low, high)  # only rounding can carry a bisection past a bound
        return float(q) if q.ndim == 0 else q

    def _kernel(self, j: int) -> tuple[np.ndarray, float]:
        """Column ``j``'s observations and kernel width ``h = v s_j``, ``s_j^2 = (L L^T)_jj``."""
        L_j = self.cholesky_[j]  # a whole row: the factor is triangular only when Cholesky
        return self.data_[:, j], self.bandwidth * math.sqrt(float(L_j @ L_j))

    def _mixture_cdf(self, q: np.ndarray, j: int) -> np.ndarray:
        """``F(q)`` of column ``j``'s uncorrected mixture for a flat array ``q`` (m,)."""
        x, h = self._kernel(j)
        if h == 0:  # bandwidth 0: the empirical CDF
            return np.searchsorted(np.sort(x), q, side="right") / len(x)
        rows = max(1, _CDF_CHUNK // len(x))  # bound the (rows, n) temporary
        return np.concatenate(
            [
                _normal_cdf((q[i : i + rows, None] - x[None, :]) / h).mean(axis=1)  # (rows,)
                for i in range(0, len(q), rows)
            ]
            or [np.empty(0)]
        )

    def _mixture_quantile(self, p: np.ndarray, j: int) -> np.ndarray:
        """Solve ``F(q) = p`` for a flat array ``p`` (m,) of column ``j``'s uncorrected mixture."""
        x, h = self._kernel(j)
        if h == 0:
            return np.quantile(x, np.clip(p, 0, 1), method="inverted_cdf")
        # Every component's CDF lies between those of the extreme ones, so
        # Phi((q - max x)/h) <= F(q) <= Phi((q - min x)/h) brackets the root:
        z = _normal_quantile(p)
        lo, hi = x.min() + h * z, x.max() + h * z  # (m,), F(lo) <= p <= F(hi)
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            if np.all((mid == lo) | (mid == hi)):  # adjacent floats: converged
                break
            below = self._mixture_cdf(mid, j) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def _undo_correction(self, z: np.ndarray, j: int) -> np.ndarray:
        """Map a synthetic value of column ``j`` back onto the uncorrected mixture's scale."""
        if not self.variance_correction or self.bandwidth == 0:
            return z
        m = self.mean_[j]
        return m + (z - m) * math.sqrt(1.0 + self.bandwidth**2)

    def _redo_correction(self, y: np.ndarray, j: int) -> np.ndarray:
        if not self.variance_correction or self.bandwidth == 0:
            return y
        m = self.mean_[j]
        return m + (y - m) / math.sqrt(1.0 + self.bandwidth**2)

    # ---------------------------------------------------------------------------------------
    # checks
    # ---------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise NotFittedError("this QuantileExtrapolator is not fitted yet; call fit(X) first")

    def _column_index(self, what: str, column: int | str | None) -> int | tuple:
        """Index of ``column`` in ``data_``, or ``(value,)`` for a constant DataFrame column."""
        self._check_fitted()
        if self._table is not None:
            names = list(self._table.columns)
            if column is None and len(names) == 1:
                column = names[0]
            if column is None:
                raise ValueError(
                    f"{what} is defined for a single column; this model was fitted on "
                    f"{len(names)}: pass column= one of {self._numeric!r}"
                )
            if column in self._numeric:
                return self._numeric.index(column)
            if column in names and column in split_columns(self._table)[0]:
                return (self._table[column].iloc[0],)  # a constant numeric column
            raise ValueError(
                f"column must name a numeric column, one of {self._numeric!r}; got {column!r}"
            )
        d = self.n_features_in_
        if column is None:
            if d != 1:
                raise ValueError(
                    f"{what} is defined for a single column; this model was fitted on "
                    f"{d} (pass column=0..{d - 1})"
                )
            return 0
        if isinstance(column, bool) or not isinstance(column, int | np.integer):
            raise ValueError(f"column must be an int index for an array fit; got {column!r}")
        if not -d <= column < d:
            raise ValueError(f"column must lie in [0, {d}); got {column}")
        return int(column) % d
