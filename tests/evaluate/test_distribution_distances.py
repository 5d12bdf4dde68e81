"""Tests of genailab.evaluate.distribution_distances against scipy and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from genailab.evaluate import (
    column_report,
    correlation_distance,
    distribution_distances,
    ks_distance,
    multivariate_ks_distance,
    quantile_nodes,
    total_variation_distance,
)

# ---------------------------------------------------------------------------------------------
# ks_distance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_ks_matches_scipy_on_continuous_data(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=200)
    b = rng.normal(0.3, 1.2, size=200)
    assert ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_ks_matches_scipy_with_many_ties(seed):
    rng = np.random.default_rng(100 + seed)
    a = rng.integers(0, 5, size=300)
    b = rng.integers(1, 7, size=250)
    assert ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


@pytest.mark.parametrize(("n", "m"), [(1, 50), (7, 1000), (1000, 3), (13, 17)])
def test_ks_matches_scipy_with_unequal_sizes(n, m):
    rng = np.random.default_rng(n * 1000 + m)
    a = rng.exponential(size=n)
    b = np.round(rng.exponential(1.5, size=m), 1)  # rounded: ties within b and with a
    assert ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert ks_distance(b, a) == ks_distance(a, b)


def test_ks_hand_values():
    assert ks_distance([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_distance([1, 2, 3], [10, 20]) == 1.0
    # at x = 1: F_a = 1/2, F_b = 0; at x = 2: F_a = 1, F_b = 1/3
    assert ks_distance([1, 2], [2, 3, 4]) == pytest.approx(2 / 3, abs=1e-15)
    assert ks_distance([5.0], [5.0]) == 0.0


# ---------------------------------------------------------------------------------------------
# total_variation_distance
# ---------------------------------------------------------------------------------------------


def test_tv_categorical_hand_values():
    assert total_variation_distance(["a", "b"], ["c", "d", "d"]) == 1.0  # disjoint
    assert total_variation_distance(["a", "b", "b"], ["b", "a", "b"]) == 0.0  # same proportions
    assert total_variation_distance(["a", "b", "b", "a"], ["a", "b"]) == 0.0  # sizes differ
    # p_a = (1/2, 1/2, 0), p_b = (1/4, 1/4, 1/2): 0.5 * (1/4 + 1/4 + 1/2) = 1/2
    assert total_variation_distance(["a", "b"], ["a", "b", "c", "c"]) == pytest.approx(0.5)
    # p_a = (2/3, 1/3), p_b = (1/5, 4/5): 0.5 * (7/15 + 7/15) = 7/15
    assert total_variation_distance(list("xxy"), list("xyyyy")) == pytest.approx(7 / 15)


def test_tv_categorical_object_and_integer_codes():
    a_obj = np.array(["x", "y", "y", "z"], dtype=object)
    b_obj = np.array(["y", "z", "z", "z"], dtype=object)
    assert total_variation_distance(a_obj, b_obj) == pytest.approx(0.5)
    codes_a, codes_b = np.array([0, 1, 1, 2]), np.array([1, 2, 2, 2])
    assert total_variation_distance(codes_a, codes_b, categorical=True) == pytest.approx(0.5)
    # codes far apart are distinct categories, never binned together
    assert total_variation_distance([0, 1000], [1, 1001], categorical=True) == 1.0


def test_tv_numeric_hand_values():
    edges = [0.0, 1.0, 2.0, 3.0]
    assert total_variation_distance([0.5, 1.5], [2.5, 2.9], bins=edges) == 1.0
    assert total_variation_distance([0.5, 1.5], [1.2, 0.1], bins=edges) == 0.0
    # p_a = (1, 0, 0), p_b = (1/2, 1/2, 0); the right end 3.0 falls in the last bin
    assert total_variation_distance([0.1, 0.2], [0.3, 1.0], bins=edges) == pytest.approx(0.5)
    assert total_variation_distance([3.0], [2.5], bins=edges) == 0.0
    # every value equal: one bin, distance 0
    assert total_variation_distance([2.0, 2.0], [2.0], bins=5) == 0.0


def test_tv_numeric_matches_numpy_histogram_on_quantile_bins():
    rng = np.random.default_rng(7)
    a = rng.normal(size=400)
    b = rng.standard_t(3, size=300)
    bins = 8
    edges = np.quantile(np.concatenate([a, b]), np.linspace(0, 1, bins + 1))
    p_a = np.histogram(a, bins=edges)[0] / a.size
    p_b = np.histogram(b, bins=edges)[0] / b.size
    expected = 0.5 * np.abs(p_a - p_b).sum()
    assert total_variation_distance(a, b, bins=bins) == pytest.approx(expected, abs=1e-12)
    fixed = np.linspace(-20, 20, 11)  # explicit edges; clip b so they cover the data
    b_clipped = np.clip(b, -20, 20)
    p_a = np.histogram(a, bins=fixed)[0] / a.size
    p_b = np.histogram(b_clipped, bins=fixed)[0] / b.size
    expected = 0.5 * np.abs(p_a - p_b).sum()
    assert total_variation_distance(a, b_clipped, bins=fixed) == pytest.approx(expected, abs=1e-12)


def test_tv_numeric_ties_merge_quantile_edges():
    a = np.array([0, 0, 0, 0, 0, 0, 1, 2])
    b = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    # pooled quantile edges collapse to {0, 1, 2} or so; result must equal np.histogram's
    edges = np.unique(np.quantile(np.concatenate([a, b]), np.linspace(0, 1, 11)))
    p_a = np.histogram(a, bins=edges)[0] / a.size
    p_b = np.histogram(b, bins=edges)[0] / b.size
    expected = 0.5 * np.abs(p_a - p_b).sum()
    assert total_variation_distance(a, b, bins=10) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_tv_symmetric_and_in_unit_interval(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=int(rng.integers(1, 60)))
    b = rng.normal(rng.normal(), 2.0, size=int(rng.integers(1, 60)))
    for kwargs in ({"bins": 1}, {"bins": 5}, {"bins": 50}):
        d_ab = total_variation_distance(a, b, **kwargs)
        assert d_ab == total_variation_distance(b, a, **kwargs)
        assert 0.0 <= d_ab <= 1.0
    ca = rng.choice(list("pqrs"), size=30)
    cb = rng.choice(list("qrst"), size=20)
    d_ab = total_variation_distance(ca, cb)
    assert d_ab == pytest.approx(total_variation_distance(cb, ca), abs=1e-15)
    assert 0.0 <= d_ab <= 1.0


def test_tv_one_bin_is_zero():
    assert total_variation_distance([0.0, 1.0], [5.0, 9.0], bins=1) == 0.0


# ---------------------------------------------------------------------------------------------
# correlation_distance
# ---------------------------------------------------------------------------------------------


def test_correlation_distance_matches_corrcoef_by_hand():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    B = rng.normal(size=(150, 4)) @ rng.normal(size=(4, 4))
    Ra, Rb = np.corrcoef(A.T), np.corrcoef(B.T)
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]  # all 12 off-diagonal
    expected = np.mean([abs(Ra[i, j] - Rb[i, j]) for i, j in pairs])
    assert correlation_distance(A, B) == pytest.approx(expected, abs=1e-12)
    assert correlation_distance(B, A) == pytest.approx(expected, abs=1e-12)


def test_correlation_distance_known_answers():
    x = np.arange(8.0)
    z = np.array([1.0, -1.0, -1.0, 1.0] * 2)  # mean 0 and sum((x - 3.5) * z) = 0: uncorrelated
    assert np.corrcoef(x, z)[0, 1] == pytest.approx(0.0, abs=1e-15)
    A = np.column_stack([x, 2 * x + 1, z])  # corr: (x,2x+1)=1, (x,z)=0, (2x+1,z)=0
    B = np.column_stack([x, -x, z])  # corr: (x,-x)=-1, (x,z)=0, (-x,z)=0
    assert correlation_distance(A, B) == pytest.approx(2 / 3, abs=1e-12)
    assert correlation_distance(A, A) == 0.0
    # a reordering of the rows leaves the correlations, and so the distance, unchanged
    perm = np.random.default_rng(0).permutation(8)
    assert correlation_distance(A, A[perm]) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# column_report
# ---------------------------------------------------------------------------------------------


def test_column_report_matches_per_column_calls():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(120, 3))
    B = rng.normal(0.5, 1.0, size=(90, 3))
    report = column_report(A, B, bins=6)
    assert set(report) == {"ks", "tv"}
    assert report["ks"].shape == report["tv"].shape == (3,)
    for j in range(3):
        assert report["ks"][j] == pytest.approx(stats.ks_2samp(A[:, j], B[:, j]).statistic)
        assert report["tv"][j] == total_variation_distance(A[:, j], B[:, j], bins=6)


def test_column_report_one_dimensional_is_one_column():
    report = column_report([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert report["ks"].tolist() == [0.0]
    assert report["tv"].tolist() == [0.0]


# ---------------------------------------------------------------------------------------------
# multivariate_ks_distance
# ---------------------------------------------------------------------------------------------


def _ecdf_loop(X, z):
    return sum(all(x[k] <= z[k] for k in range(len(z))) for x in X) / len(X)


def _exact_multivariate_sup(A, B):
    """sup over all z: F_A, F_B are constant on the cells of the lattice of observed values."""
    pooled = np.concatenate([A, B])
    axes = [np.unique(pooled[:, k]) for k in range(pooled.shape[1])]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, pooled.shape[1])
    return max(abs(_ecdf_loop(A, z) - _ecdf_loop(B, z)) for z in grid)


@pytest.mark.parametrize("seed", range(3))
def test_multivariate_ks_one_column_is_scipy_ks(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 6, size=40).astype(float)
    b = rng.normal(2.5, 2.0, size=33).round()
    expected = stats.ks_2samp(a, b).statistic
    assert multivariate_ks_distance(a, b) == pytest.approx(expected, abs=1e-12)
    assert multivariate_ks_distance(a[:, None], b[:, None]) == pytest.approx(expected, abs=1e-12)


def test_multivariate_ks_matches_loop_on_pooled_rows_and_bounded_by_exact_sup():
    rng = np.random.default_rng(5)
    A = rng.integers(0, 4, size=(15, 3)).astype(float)
    B = rng.integers(0, 4, size=(11, 3)).astype(float)
    pooled = np.concatenate([A, B])
    by_loop = max(abs(_ecdf_loop(A, z) - _ecdf_loop(B, z)) for z in pooled)
    value = multivariate_ks_distance(A, B)
    assert value == pytest.approx(by_loop, abs=1e-12)
    assert value == multivariate_ks_distance(B, A)
    exact = _exact_multivariate_sup(A, B)
    assert value <= exact + 1e-12
    random_nodes = multivariate_ks_distance(A, B, n_nodes=500, random_state=0)
    assert 0.0 <= random_nodes <= exact + 1e-12
    assert random_nodes == multivariate_ks_distance(A, B, n_nodes=500, random_state=0)


def test_multivariate_ks_sees_dependence_that_marginals_miss():
    rng = np.random.default_rng(9)
    x = rng.normal(size=400)
    A = np.column_stack([x, x])  # comonotone
    B = np.column_stack([x, -x])  # countermonotone, same marginals up to symmetry of x
    # at z = (0, 0): F_A ~ P(x <= 0) ~ 1/2, F_B = P(x = 0) = 0
    expected = float(np.mean(x <= 0))
    assert multivariate_ks_distance(A, B) >= expected - 1e-12
    assert multivariate_ks_distance(A, B, n_nodes=2000, random_state=1) > 0.4
    assert multivariate_ks_distance(A, A, n_nodes=100, random_state=1) == 0.0


def test_adjusted_levels_put_the_nodes_where_the_ecdf_is_not_zero():
    # Independent uniform columns: F_A at a node is about the product of its levels, whose
    # mean is 2**-d for plain levels and (d/(d+1))**d for Granville's u**(1/d).
    rng = np.random.default_rng(4)
    d = 8
    A = rng.uniform(size=(4000, d))
    plain = quantile_nodes(A, 2000, adjusted=False, random_state=0)
    adjusted = quantile_nodes(A, 2000, adjusted=True, random_state=0)
    assert np.mean(distribution_distances._multivariate_ecdf(A, plain)) < 0.01  # 2**-8 = 0.004
    F = distribution_distances._multivariate_ecdf(A, adjusted)
    assert np.mean(F) == pytest.approx((d / (d + 1)) ** d, abs=0.02)  # 0.390
    # the levels are the same uniforms, so every adjusted node dominates its plain node
    assert np.all(adjusted >= plain)
    one = A[:, :1]
    np.testing.assert_array_equal(
        quantile_nodes(one, 50, adjusted=True, random_state=3),
        quantile_nodes(one, 50, adjusted=False, random_state=3),
    )  # u**(1/1) = u


def test_adjusted_nodes_find_a_shift_in_eight_columns():
    # B is A's law shifted by 0.1 in each of 8 normal columns. At a node z the population
    # distance is |prod Phi(z_k) - prod Phi(z_k - 0.1)|; its max over plain nodes is about
    # 0.02, over adjusted nodes 0.066 (the sup along the diagonal is 0.067).
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5000, 8))
    B = rng.normal(size=(5000, 8)) + 0.1
    for adjusted, low, high in ((False, 0.0, 0.035), (True, 0.06, 0.07)):
        Z = quantile_nodes(A, 500, adjusted=adjusted, random_state=1)
        population = np.max(
            np.abs(stats.norm.cdf(Z).prod(axis=1) - stats.norm.cdf(Z - 0.1).prod(axis=1))
        )
        assert low < population < high
        sample = multivariate_ks_distance(A, B, n_nodes=500, random_state=1, adjusted=adjusted)
        assert sample == pytest.approx(population, abs=0.025)  # two ECDFs of 5,000 rows


def test_multivariate_ks_chunking_gives_same_answer(monkeypatch):
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(30, 2)), rng.normal(0.5, 1.0, size=(25, 2))
    full = multivariate_ks_distance(A, B)
    monkeypatch.setattr(distribution_distances, "_ECDF_CHUNK", 7)
    assert multivariate_ks_distance(A, B) == full


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ks_distance([], [1.0]), "a must not be empty"),
        (lambda: ks_distance([1.0], np.array([])), "b must not be empty"),
        (lambda: ks_distance([1.0, np.nan], [1.0]), r"a must be finite.*a\[1\] = nan"),
        (lambda: ks_distance([1.0], [np.inf]), "b must be finite"),
        (lambda: ks_distance(["x"], ["y"]), "a must hold numbers; got dtype <U1"),
        (lambda: ks_distance(np.ones((2, 2)), [1.0]), r"a must be 1-D; got 2-D, shape \(2, 2\)"),
        (lambda: total_variation_distance([], [1.0]), "a must not be empty"),
        (lambda: total_variation_distance([1.0], [np.nan]), "b must be finite"),
        (
            lambda: total_variation_distance(np.array(["x", None], dtype=object), ["x"]),
            r"a must not hold missing labels; got 1 None or NaN \(first: a\[1\]\)",
        ),
        (
            lambda: total_variation_distance([1.0, np.nan], [1.0], categorical=True),
            "a must not hold missing labels",
        ),
        (
            lambda: total_variation_distance(np.array(["x", 1], dtype=object), ["x"]),
            "categorical labels must be comparable with each other",
        ),
        (lambda: total_variation_distance([1.0], [2.0], bins=0), "bins must be an int >= 1"),
        (
            lambda: total_variation_distance([1.0], [2.0], bins=[0.0, 0.0, 1.0]),
            "strictly increasing",
        ),
        (
            lambda: total_variation_distance([1.0], [5.0], bins=[0.0, 2.0]),
            r"bins must cover the data; edges span \[0.0, 2.0\]",
        ),
        (
            lambda: correlation_distance(np.ones((5, 2)), np.ones((5, 3))),
            "same number of columns; got 2 and 3",
        ),
        (
            lambda: correlation_distance(np.zeros((0, 2)), np.ones((5, 2))),
            r"A must have at least 1 row and 1 column; got shape \(0, 2\)",
        ),
        (
            lambda: correlation_distance([[1.0, np.nan], [2.0, 3.0]], [[1.0, 2.0], [2.0, 1.0]]),
            r"A must be finite; got 1 NaN or inf values \(first: row 0, column 1\)",
        ),
        (
            lambda: correlation_distance(np.arange(6.0)[:, None], np.arange(6.0)[:, None]),
            "at least 2 columns",
        ),
        (
            lambda: correlation_distance([[1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]),
            "A must have at least 2 rows; got 1",
        ),
        (
            lambda: correlation_distance([[1.0, 2.0], [2.0, 1.0]], [[1.0, 5.0], [2.0, 5.0]]),
            "B must vary in every column; column 1 is constant",
        ),
        (
            lambda: column_report(np.ones((4, 2)), np.ones((4, 1))),
            "same number of columns; got 2 and 1",
        ),
        (lambda: column_report(np.ones((4, 2)), [[1.0, np.nan]]), "B must be finite"),
        (
            lambda: multivariate_ks_distance(np.ones((4, 2)), np.ones((4, 3))),
            "same number of columns; got 2 and 3",
        ),
        (
            lambda: multivariate_ks_distance(np.ones((4, 2)), np.ones((4, 2)), n_nodes=0),
            "n_nodes must be an int >= 1 or None; got 0",
        ),
        (
            lambda: multivariate_ks_distance([[np.nan, 1.0]], np.ones((4, 2))),
            "A must be finite",
        ),
    ],
)
def test_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()
