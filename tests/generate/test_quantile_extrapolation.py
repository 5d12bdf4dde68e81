"""QuantileExtrapolator against SciPy, closed-form moments, and Granville's bmi figures.

The contract of every synthesizer (shapes, seeds, pickling, errors): tests/conformance.
"""

import csv
import math

import numpy as np
import pytest
from scipy import optimize, stats

from data_files import data_file
from genailab.errors import ConfigError
from genailab.generate import QuantileExtrapolator


def _skewed(n: int = 200, seed: int = 0) -> np.ndarray:
    """A small skewed sample (gamma), so the tests do not lean on a symmetric shape."""
    return np.random.default_rng(seed).gamma(2.0, 3.0, size=n)


def _correlated(n: int = 300, seed: int = 1) -> np.ndarray:
    """Three columns with strong positive and negative correlations: (n, 3)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = 0.8 * a + 0.6 * rng.standard_normal(n)
    c = -0.5 * a + rng.exponential(1.0, n)
    return np.column_stack([a, 10 + 5 * b, c])


def _mixture_quantile_scipy(x: np.ndarray, h: float, p: float) -> float:
    cdf = lambda q: stats.norm.cdf((q - x) / h).mean() - p  # noqa: E731
    lo, hi = x.min() - 50 * h, x.max() + 50 * h
    return optimize.brentq(cdf, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


def _variance_tolerance(z: np.ndarray, sigmas: float = 5.0) -> float:
    """``sigmas`` standard errors of the sample variance of ``z`` (from its 4th moment)."""
    d = z - z.mean()
    return sigmas * math.sqrt((np.mean(d**4) - np.mean(d**2) ** 2) / len(z))


# ------------------------------------------------------------------------------------------------
# quantile
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variance_correction", [False, True])
def test_quantile_matches_brentq_on_the_scipy_mixture(variance_correction):
    x = _skewed(60)
    v = 0.3
    model = QuantileExtrapolator(bandwidth=v, variance_correction=variance_correction).fit(x)
    ps = np.array([1e-9, 1e-4, 0.003, 0.1, 0.37, 0.5, 0.9, 0.999, 1 - 1e-7])
    got = model.quantile(ps)
    h = v * x.std(ddof=1)
    want = np.array([_mixture_quantile_scipy(x, h, p) for p in ps])
    if variance_correction:
        m = x.mean()
        want = m + (want - m) / math.sqrt(1 + v * v)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # And the CDF inverts it.
    np.testing.assert_allclose(model.cdf(got), ps, rtol=1e-9, atol=0)


def test_quantile_is_monotone_and_extrapolates():
    x = _skewed(100)
    model = QuantileExtrapolator(bandwidth=0.2).fit(x)
    ps = np.concatenate([np.geomspace(1e-12, 0.5, 200), 1 - np.geomspace(0.5, 1e-12, 200)[1:]])
    q = model.quantile(ps)
    assert np.all(np.diff(q) > 0)
    n = len(x)
    assert model.quantile(0.1 / n) < x.min()
    assert model.quantile(1 - 0.1 / n) > x.max()


def test_zero_bandwidth_is_the_bootstrap_even_with_variance_correction():
    x = np.random.default_rng(0).lognormal(0.0, 0.5, size=100)  # m + (x - m) != x for 2 of them
    model = QuantileExtrapolator(bandwidth=0, variance_correction=True, random_state=0).fit(x)
    z = model.sample(5000)
    assert np.isin(z, x).all()  # exact copies: the correction must not move them by an ulp
    ps = (np.arange(100) + 0.5) / 100  # strictly between the jumps of the empirical CDF
    np.testing.assert_array_equal(model.quantile(ps), np.quantile(x, ps, method="inverted_cdf"))


def test_quantile_shape_and_scalar():
    model = QuantileExtrapolator().fit(_skewed())
    assert isinstance(model.quantile(0.5), float)
    assert model.quantile(np.full((2, 3), 0.25)).shape == (2, 3)


def test_tiny_bandwidth_gives_the_empirical_quantile_function():
    x = _skewed(50)
    n = len(x)
    ps = (np.arange(n) + 0.5) / n  # strictly between the jumps of the empirical CDF
    model = QuantileExtrapolator(bandwidth=1e-6).fit(x)
    want = np.quantile(x, ps, method="inverted_cdf")
    gaps = np.diff(np.sort(x)).min()
    assert gaps > 1e-3  # the kernels (width ~1e-5) do not overlap
    np.testing.assert_allclose(model.quantile(ps), want, rtol=0, atol=1e-4)


def test_quantile_of_a_symmetric_sample_is_symmetric():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    model = QuantileExtrapolator(bandwidth=0.7).fit(x)
    p = np.array([1e-6, 0.01, 0.2, 0.45])
    np.testing.assert_allclose(model.quantile(p), -model.quantile(1 - p), atol=1e-9)
    assert abs(model.quantile(0.5)) < 1e-12


# ------------------------------------------------------------------------------------------------
# sample: moments
# ------------------------------------------------------------------------------------------------

N = 200_000


def test_sample_mean_and_variance_without_correction():
    x = _skewed(200)
    v = 0.5
    z = QuantileExtrapolator(bandwidth=v, random_state=0).fit(x).sample(N)
    assert z.shape == (N,)
    # Var z = Var_n x (the resampled row, ddof=0) + v^2 s^2 (the kernel, s with ddof=1).
    want_var = x.var(ddof=0) + v**2 * x.var(ddof=1)
    assert abs(z.mean() - x.mean()) < 5 * math.sqrt(want_var / N)
    assert abs(z.var() - want_var) < _variance_tolerance(z)
    # It is (1 + v^2) = 1.25 times the observed variance: far outside the tolerance of 1.
    assert abs(z.var() - x.var(ddof=1)) > 5 * _variance_tolerance(z)


def test_variance_correction_keeps_the_observed_variance():
    x = _skewed(200)
    v = 0.5
    z = QuantileExtrapolator(bandwidth=v, variance_correction=True, random_state=0).fit(x).sample(N)
    want_var = (x.var(ddof=0) + v**2 * x.var(ddof=1)) / (1 + v**2)  # = s^2 (1 - 1/(n(1+v^2)))
    assert abs(z.mean() - x.mean()) < 5 * math.sqrt(want_var / N)
    assert abs(z.var() - want_var) < _variance_tolerance(z)
    assert abs(z.var() - x.var(ddof=1)) < _variance_tolerance(z) + x.var() / len(x)


def test_sample_keeps_the_covariance_and_correlations():
    X = _correlated()
    v = 0.4
    Z = QuantileExtrapolator(bandwidth=v, random_state=3).fit(X).sample(N)
    assert Z.shape == (N, 3)
    S = np.cov(X, rowvar=False)
    want_cov = np.cov(X, rowvar=False, ddof=0) + v**2 * S  # L L^T = S, not L^T L
    got_cov = np.cov(Z, rowvar=False)
    scale = np.sqrt(np.outer(np.diag(want_cov), np.diag(want_cov)))
    # Standard error of a covariance is at most sqrt(var_i var_j (1 + rho^2) / N)-ish; allow
    # 6 of them, with room for the non-normal third column.
    np.testing.assert_array_less(np.abs(got_cov - want_cov), 6 * scale * math.sqrt(2.5 / N))
    # A correlation's standard error is (1 - rho^2) / sqrt(N) <= 1 / sqrt(N).
    corr_error = np.abs(np.corrcoef(Z, rowvar=False) - np.corrcoef(X, rowvar=False))
    assert corr_error.max() < 6 / math.sqrt(N)


def test_variance_correction_keeps_the_covariance():
    X = _correlated()
    v = 0.8
    model = QuantileExtrapolator(bandwidth=v, variance_correction=True, random_state=4)
    Z = model.fit(X).sample(N)
    S = np.cov(X, rowvar=False)
    want_cov = (np.cov(X, rowvar=False, ddof=0) + v**2 * S) / (1 + v**2)
    scale = np.sqrt(np.outer(np.diag(want_cov), np.diag(want_cov)))
    got_cov = np.cov(Z, rowvar=False)
    np.testing.assert_array_less(np.abs(got_cov - want_cov), 6 * scale * math.sqrt(2.5 / N))
    se_mean = np.sqrt(np.diag(want_cov) / N)
    np.testing.assert_array_less(np.abs(Z.mean(axis=0) - X.mean(axis=0)), 5 * se_mean)


def test_samples_follow_the_quantile_function():
    x = _skewed(80)
    model = QuantileExtrapolator(bandwidth=0.3, random_state=5).fit(x)
    z = model.sample(20_000)
    assert stats.kstest(z, model.cdf).pvalue > 1e-3


def test_two_dimensional_single_column_keeps_its_shape():
    x = _skewed(50)
    model = QuantileExtrapolator(random_state=0).fit(x[:, None])
    z = model.sample(7)
    assert z.shape == (7, 1)
    one_d = QuantileExtrapolator(random_state=0).fit(x)
    np.testing.assert_array_equal(z[:, 0], one_d.sample(7))
    assert model.quantile(0.3) == one_d.quantile(0.3)


# ------------------------------------------------------------------------------------------------
# truncation
# ------------------------------------------------------------------------------------------------


def test_truncation_rejects_and_keeps_the_conditional_distribution():
    x = _skewed(100)
    low, high = np.quantile(x, [0.1, 0.8])
    v = 0.5
    model = QuantileExtrapolator(bandwidth=v, truncate=(low, high), random_state=0).fit(x)
    z = model.sample(5000)
    assert z.shape == (5000,)
    assert np.all((z >= low) & (z <= high))
    # Rejected, not clipped: no pile of mass on the bounds.
    assert np.count_nonzero((z == low) | (z == high)) == 0
    free = QuantileExtrapolator(bandwidth=v, random_state=1).fit(x).sample(300_000)
    inside = free[(free >= low) & (free <= high)]
    assert stats.ks_2samp(z, inside).pvalue > 1e-3
    # The quantiles are those of the conditional law too.
    q = model.quantile([1e-9, 0.25, 0.5, 0.75, 1 - 1e-9])
    np.testing.assert_allclose(q[[0, -1]], [low, high], atol=1e-6)
    np.testing.assert_allclose(q[1:-1], np.quantile(inside, [0.25, 0.5, 0.75]), atol=0.05)


def test_truncation_per_column_with_open_sides():
    X = _correlated()
    bounds = [(None, 0.5), (8.0, None), (None, None)]
    Z = QuantileExtrapolator(bandwidth=0.3, truncate=bounds, random_state=2).fit(X).sample(4000)
    assert Z.shape == (4000, 3)
    assert Z[:, 0].max() <= 0.5
    assert Z[:, 1].min() >= 8.0


def test_truncation_with_no_room_is_a_clear_error():
    model = QuantileExtrapolator(bandwidth=0.1, truncate=(1e6, 1e6 + 1), random_state=0)
    model.fit(_skewed())
    with pytest.raises(ValueError, match=r"acceptance rate .* cannot fill n=10"):
        model.sample(10)
    with pytest.raises(ValueError, match="no probability mass"):
        model.quantile(0.5)


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------


def test_fit_rejects_a_constant_array_column():
    # a DataFrame's constant column is kept constant; an array's has no kernel width
    with pytest.raises(ValueError, match="column 1 is constant"):
        QuantileExtrapolator().fit(np.column_stack([[1.0, 2, 3], [5.0, 5, 5]]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bandwidth": -0.1}, "bandwidth must be a finite float >= 0; got -0.1"),
        ({"bandwidth": math.inf}, "bandwidth must be"),
        ({"bandwidth": "wide"}, "bandwidth must be"),
        ({"truncate": (3.0, 1.0)}, r"low < high; got \[3.0, 1.0\] for column 0"),
        ({"truncate": (0.0, 1.0, 2.0)}, "one .low, high. pair per column"),
    ],
)
def test_fit_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        QuantileExtrapolator(**kwargs).fit(_skewed())


def test_quantile_errors():
    model = QuantileExtrapolator().fit(_skewed())
    for p in (0.0, 1.0, -0.2, 1.5, np.nan, [0.5, 1.0], []):
        with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
            model.quantile(p)
    wide = QuantileExtrapolator().fit(_correlated())
    with pytest.raises(ValueError, match=r"single column; .* fitted on 3"):
        wide.quantile(0.5)


# ------------------------------------------------------------------------------------------------
# Granville's anchor: bmi of the insurance data set
# ------------------------------------------------------------------------------------------------


def _bmi() -> np.ndarray:
    with data_file("insurance.csv").open(newline="") as f:
        return np.array([float(row["bmi"]) for row in csv.DictReader(f)])


def test_bmi_synthetic_range_reaches_beyond_the_observed_one():
    bmi = _bmi()
    assert len(bmi) == 1338
    assert (bmi.min(), bmi.max()) == (15.96, 53.13)
    seeds = range(20)
    ranges = np.array(
        [
            (z.min(), z.max())
            for z in (
                QuantileExtrapolator(bandwidth=0.4, random_state=s).fit(bmi).sample(len(bmi))
                for s in seeds
            )
        ]
    )  # (seeds, 2)
    lows, highs = ranges[:, 0], ranges[:, 1]
    # The median run sets new records on both sides. A single run need not: the chance that
    # n draws go past an observed extreme is exact, 1 - (1 - F(min))^n and 1 - F(max)^n
    # (about 0.9997 and 0.69 here: 53.13 is a lone outlier), and the seeds agree with it.
    assert np.median(lows) < bmi.min() and np.median(highs) > bmi.max()
    model = QuantileExtrapolator(bandwidth=0.4).fit(bmi)
    n = len(bmi)
    F_min, F_max = model.cdf(np.array([bmi.min(), bmi.max()]))
    for hits, chance in [
        (lows < bmi.min(), 1 - (1 - F_min) ** n),
        (highs > bmi.max(), 1 - F_max**n),
    ]:
        assert abs(hits.mean() - chance) <= 3 * math.sqrt(chance * (1 - chance) / len(seeds)) + 0.05
    # Granville's table reports about 12.8 - 54.3 for v = 0.4; the spread over seeds brackets it.
    lo5, lo95 = np.percentile(lows, [5, 95])
    hi5, hi95 = np.percentile(highs, [5, 95])
    assert lo5 - 0.5 <= 12.8 <= lo95 + 0.5
    assert hi5 - 0.5 <= 54.3 <= hi95 + 0.5
    # The quantile function agrees: the extremes of n draws sit near p = 1/(n+1), n/(n+1).
    q_lo, q_hi = model.quantile([1 / (n + 1), n / (n + 1)])
    assert lo5 - 0.5 <= q_lo <= lo95 + 0.5
    assert hi5 - 0.5 <= q_hi <= hi95 + 0.5


def test_linearly_dependent_columns_keep_their_exact_relation():
    """A duplicated column and a sum of columns stay exact in every synthetic row."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 500))
    X = np.column_stack([a, b, a, a + 2 * b])  # (n, 4): rank 2
    model = QuantileExtrapolator(bandwidth=0.3, random_state=0).fit(X)
    L = model.cholesky_
    np.testing.assert_allclose(L @ L.T, np.cov(X, rowvar=False), atol=1e-12)
    Z = model.sample(20_000)  # (m, 4)
    np.testing.assert_allclose(Z[:, 2], Z[:, 0], atol=1e-9)
    np.testing.assert_allclose(Z[:, 3], Z[:, 0] + 2 * Z[:, 1], atol=1e-9)
    # and the noise is really there: the smoothed variance is (1 + v^2) times the observed
    var_expected = X.var(axis=0) + 0.3**2 * X.var(axis=0, ddof=1)
    np.testing.assert_allclose(Z.var(axis=0), var_expected, rtol=0.05)
    # one column of the joint fit: its kernel is v times its own standard deviation
    assert model.quantile(0.5, column=2) == pytest.approx(model.quantile(0.5, column=0))
