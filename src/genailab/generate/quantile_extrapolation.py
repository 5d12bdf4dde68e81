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
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Self

import numpy as np
import torch

from genailab.errors import ConfigError

# NOTE: rejection sampling gives up after this many rounds; each round draws enough to fill the
# remainder at the acceptance rate measured so far, so a feasible truncation needs 2 or 3.
_MAX_ROUNDS = 8
_MAX_BATCH = 1_000_000  # draws per round, to bound memory when the acceptance rate is tiny
_CDF_CHUNK = 2**22  # entries of the (p, observations) table evaluated at once
_BISECTION_STEPS = 200  # more than enough to reach adjacent floats from the starting bracket


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
    truncate : (low, high) or sequence of (low, high), optional
        Bounds per column (one pair for a single column); ``None`` for a side means unbounded.
        Draws outside are rejected and redrawn, never clipped.
    variance_correction : bool, default False
        Shrink draws towards the mean by ``1 / sqrt(1 + v^2)`` so that the synthetic variance
        equals the observed one instead of ``(1 + v^2)`` times it.
    random_state : int, numpy.random.Generator or None
        Seed of the generator created by :meth:`fit` (or the generator itself, used as is).

    Attributes
    ----------
    data_ : ndarray of shape (n, d)
        The observations, as float64.
    mean_ : ndarray of shape (d,)
    cholesky_ : ndarray of shape (d, d)
        Lower-triangular ``L`` with ``L L^T`` the sample covariance (``ddof=1``); ``[[s]]``
        for one column.
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

    def fit(self, X: np.ndarray) -> Self:
        """Store the observations ``X`` (1-D of length n, or 2-D of shape (n, d)); return self."""
        v = self.bandwidth
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 <= v < math.inf):
            raise ConfigError(f"bandwidth must be a finite float >= 0; got {v!r}")
        X = np.asarray(X)
        if X.ndim not in (1, 2):
            raise ValueError(f"X must be 1-D (n,) or 2-D (n, d); got {X.ndim}-D, shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise ValueError(f"X must hold numbers; got dtype {X.dtype}")
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
        cov = np.cov(data, rowvar=False, ddof=1).reshape(d, d)
        try:
            cholesky = np.linalg.cholesky(cov)  # (d, d), lower
        except np.linalg.LinAlgError:
            raise ValueError(
                "X must have a positive-definite covariance; some columns are linearly "
                "dependent (drop or combine them)"
            ) from None
        self.bounds_ = self._check_bounds(d)
        self.data_ = data
        self.mean_ = data.mean(axis=0)
        self.cholesky_ = cholesky
        self.n_features_in_ = d
        self._is_1d = X.ndim == 1
        self._rng = np.random.default_rng(self.random_state)
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

    def sample(self, n: int) -> np.ndarray:
        """Draw ``n`` synthetic rows: shape (n,) if fitted on 1-D data, else (n, d)."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be an int >= 0; got {n!r}")
        low, high = self.bounds_[:, 0], self.bounds_[:, 1]
        kept: list[np.ndarray] = []
        have, drawn, accepted = 0, 0, 0
        for _ in range(_MAX_ROUNDS):
            if have >= n:
                break
            rate = accepted / drawn if drawn else 1.0
            # Draw enough to fill the remainder at the measured rate, with 20% to spare.
            batch = min(_MAX_BATCH, math.ceil(1.2 * (n - have) / max(rate, 1.0 / (drawn + 1))))
            z = self._draw(batch)  # (batch, d)
            z = z[np.all((z >= low) & (z <= high), axis=1)]
            kept.append(z)
            have += len(z)
            drawn += batch
            accepted += len(z)
        if have < n:
            raise ValueError(
                f"truncate={self.truncate!r} keeps only {accepted} of {drawn} draws "
                f"(acceptance rate {accepted / drawn:.2g}); cannot fill n={n} in "
                f"{_MAX_ROUNDS} rounds: widen the bounds or the bandwidth"
            )
        z = np.concatenate(kept)[:n] if kept else np.empty((0, self.n_features_in_))
        return z[:, 0] if self._is_1d else z

    def _draw(self, m: int) -> np.ndarray:
        """``m`` untruncated draws, shape (m, d)."""
        v = self.bandwidth
        rows = self._rng.integers(0, len(self.data_), size=m)  # I, uniform over observations
        eps = self._rng.standard_normal((m, self.n_features_in_))  # (m, d)
        z = self.data_[rows] + v * eps @ self.cholesky_.T  # x_I + v L eps, row-wise
        if self.variance_correction:
            z = self.mean_ + (z - self.mean_) / math.sqrt(1.0 + v * v)
        return z

    # ---------------------------------------------------------------------------------------
    # quantile
    # ---------------------------------------------------------------------------------------

    def cdf(self, q: float | np.ndarray) -> float | np.ndarray:
        """CDF of the smoothed (untruncated) distribution of a single fitted column.

        ``F(q) = (1/n) sum_i Phi((q - x_i) / (v s))``, with ``q`` first mapped back through the
        variance correction when it is on.
        """
        self._check_single_column("cdf")
        q_arr = np.asarray(q, dtype=np.float64)
        F = self._mixture_cdf(self._undo_correction(q_arr.ravel())).reshape(q_arr.shape)
        return float(F) if F.ndim == 0 else F

    def quantile(self, p: float | np.ndarray) -> float | np.ndarray:
        """The ``p``-quantile of the smoothed distribution of a single fitted column.

        Defined for every ``p`` in the open interval (0, 1), also outside the observed range;
        with ``truncate``, the quantile of the distribution conditioned on the bounds.
        Solved for all ``p`` at once by bisection on the mixture CDF.

        Examples
        --------
        >>> model = QuantileExtrapolator(bandwidth=0.5).fit(np.array([0.0, 1.0]))
        >>> round(float(model.quantile(0.5)), 12)
        0.5
        """
        self._check_single_column("quantile")
        p_arr = np.asarray(p, dtype=np.float64)
        if p_arr.size == 0 or not np.all((p_arr > 0) & (p_arr < 1)):
            raise ValueError(f"p must lie in the open interval (0, 1); got {p!r}")
        target = p_arr.ravel()  # (m,)
        low, high = self.bounds_[0]
        if np.isfinite(low) or np.isfinite(high):
            # Quantile of the conditional law: F^{-1}(F(a) + p (F(b) - F(a))).
            Fa, Fb = self._mixture_cdf(self._undo_correction(np.array([low, high])))
            if not Fb > Fa:
                raise ValueError(
                    f"truncate={self.truncate!r} holds no probability mass of the fitted model"
                )
            target = Fa + target * (Fb - Fa)
        q = self._redo_correction(self._mixture_quantile(target)).reshape(p_arr.shape)
        if np.isfinite(low) or np.isfinite(high):
            q = np.clip(q, low, high)  # only rounding can carry a bisection past a bound
        return float(q) if q.ndim == 0 else q

    def _mixture_cdf(self, q: np.ndarray) -> np.ndarray:
        """``F(q)`` of the uncorrected mixture for a flat array ``q`` (m,)."""
        x, h = self.data_[:, 0], self.bandwidth * self.cholesky_[0, 0]
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

    def _mixture_quantile(self, p: np.ndarray) -> np.ndarray:
        """Solve ``F(q) = p`` for a flat array ``p`` (m,) of the uncorrected mixture."""
        x, h = self.data_[:, 0], self.bandwidth * self.cholesky_[0, 0]
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
            below = self._mixture_cdf(mid) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def _undo_correction(self, z: np.ndarray) -> np.ndarray:
        """Map a synthetic value back onto the uncorrected mixture's scale."""
        if not self.variance_correction:
            return z
        m = self.mean_[0]
        return m + (z - m) * math.sqrt(1.0 + self.bandwidth**2)

    def _redo_correction(self, y: np.ndarray) -> np.ndarray:
        if not self.variance_correction:
            return y
        m = self.mean_[0]
        return m + (y - m) / math.sqrt(1.0 + self.bandwidth**2)

    # ---------------------------------------------------------------------------------------
    # checks
    # ---------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise ValueError("this QuantileExtrapolator is not fitted yet; call fit(X) first")

    def _check_single_column(self, what: str) -> None:
        self._check_fitted()
        if self.n_features_in_ != 1:
            raise ValueError(
                f"{what} is defined for a single column; this model was fitted on "
                f"{self.n_features_in_} (fit one column at a time)"
            )
