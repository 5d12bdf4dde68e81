"""QuantileExtrapolator on pandas tables: mixed columns, grouped categories, integer rounding.

The contract of every synthesizer on tables (columns, dtypes, seeds, errors): tests/conformance.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from data_files import blank_cells, data_file
from genailab.errors import ConfigError
from genailab.generate import QuantileExtrapolator


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(data_file(name))


def _insurance() -> pd.DataFrame:
    df = _read("insurance.csv")
    assert df.shape == (1338, 7)
    return df


def _mixture_quantile_scipy(x: np.ndarray, h: float, p: float) -> float:
    cdf = lambda q: stats.norm.cdf((q - x) / h).mean() - p  # noqa: E731
    lo, hi = x.min() - 50 * h, x.max() + 50 * h
    return optimize.brentq(cdf, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


# ------------------------------------------------------------------------------------------------
# insurance.csv: columns, dtypes, categories, associations
# ------------------------------------------------------------------------------------------------


def test_numeric_columns_are_shaken():
    df = _insurance()
    out = QuantileExtrapolator(bandwidth=0.3, random_state=0).fit(df).sample(2000)
    # bmi and charges are shaken: new values, not copies of observed ones.
    assert np.isin(out["bmi"], df["bmi"]).mean() < 0.01


def test_categories_come_from_observed_rows_with_their_joint_frequencies():
    df = _insurance()
    n = 20_000
    out = QuantileExtrapolator(bandwidth=0.3, random_state=1).fit(df).sample(n)
    for name in ("sex", "smoker", "region"):
        assert set(out[name]) <= set(df[name])
    # Rows are drawn uniformly, so each (smoker, region) cell has its observed frequency p
    # in expectation; allow 5 binomial standard errors.
    want = df.groupby(["smoker", "region"]).size() / len(df)
    got = out.groupby(["smoker", "region"]).size().reindex(want.index, fill_value=0) / n
    tol = 5 * np.sqrt(want * (1 - want) / n)
    assert np.all(np.abs(got - want) <= tol), pd.DataFrame({"want": want, "got": got, "tol": tol})
    # The association of a category with a numeric column survives: smokers pay ~4x more.
    ratio = lambda t: t.groupby("smoker")["charges"].mean().pipe(lambda m: m["yes"] / m["no"])  # noqa: E731
    assert ratio(df) == pytest.approx(3.80, abs=0.01)
    assert ratio(out) == pytest.approx(ratio(df), rel=0.05)


def test_correlation_of_age_and_charges_survives():
    df = _insurance()
    n = 20_000
    out = QuantileExtrapolator(bandwidth=0.3, random_state=2).fit(df).sample(n)
    r_obs = df["age"].corr(df["charges"])
    r_syn = out["age"].corr(out["charges"])
    assert r_obs == pytest.approx(0.299, abs=0.001)
    # The noise has the data's covariance, so r is kept in expectation (up to the rounding
    # of age); 5 standard errors (1 - r^2) / sqrt(n) of a correlation coefficient.
    assert abs(r_syn - r_obs) <= 5 * (1 - r_obs**2) / math.sqrt(n)


def test_bmi_reaches_beyond_the_observed_range_in_the_median_over_seeds():
    df = _insurance()
    n, seeds = len(df), range(21)
    ranges = np.array(
        [
            (out["bmi"].min(), out["bmi"].max())
            for out in (
                QuantileExtrapolator(bandwidth=0.4, random_state=s).fit(df).sample(n) for s in seeds
            )
        ]
    )  # (seeds, 2)
    lows, highs = ranges[:, 0], ranges[:, 1]
    assert np.median(lows) < df["bmi"].min() == 15.96
    assert np.median(highs) > df["bmi"].max() == 53.13
    # bmi's marginal in the joint fit is the one-column mixture, so the chance that n draws
    # pass an observed extreme is 1 - (1 - F(min))^n and 1 - F(max)^n; the seeds agree.
    model = QuantileExtrapolator(bandwidth=0.4).fit(df)
    F_min, F_max = model.cdf(np.array([15.96, 53.13]), column="bmi")
    for hits, chance in [(lows < 15.96, 1 - (1 - F_min) ** n), (highs > 53.13, 1 - F_max**n)]:
        assert abs(hits.mean() - chance) <= 3 * math.sqrt(chance * (1 - chance) / len(seeds)) + 0.05


def test_integer_columns_stay_in_non_integer_bounds_after_rounding():
    df = _insurance()
    truncate = {"children": (0.6, 3.4), "age": (20, 60), "bmi": (18.5, None)}
    out = QuantileExtrapolator(bandwidth=0.5, truncate=truncate, random_state=3).fit(df)
    out = out.sample(5000)
    assert set(out["children"]) == {1, 2, 3}  # rounding checked against the bounds
    assert out["age"].between(20, 60).all() and {20, 60} <= set(out["age"])
    assert out["bmi"].min() >= 18.5
    assert out["age"].dtype == df["age"].dtype


def test_unsigned_int_columns_never_wrap_around():
    df = pd.DataFrame({"k": np.array([0, 0, 1, 0, 2, 0, 1], dtype=np.uint8), "y": range(7)})
    out = QuantileExtrapolator(bandwidth=1.0, random_state=0).fit(df).sample(3000)
    assert out["k"].dtype == np.uint8
    assert out["k"].max() <= 6  # no 255 from a negative draw; 0 is the lower bound
    assert (out["k"] == 0).mean() > 0.3


@pytest.mark.parametrize("variance_correction", [False, True])
@pytest.mark.parametrize("column", ["bmi", "charges", "age"])
def test_quantile_of_a_named_column_matches_brentq(column, variance_correction):
    df = _insurance()
    v = 0.3
    model = QuantileExtrapolator(bandwidth=v, variance_correction=variance_correction).fit(df)
    x = df[column].to_numpy(dtype=float)
    h = v * x.std(ddof=1)  # v * sqrt(Sigma_jj)
    ps = np.array([1e-6, 0.01, 0.5, 0.9, 0.999])
    want = np.array([_mixture_quantile_scipy(x, h, p) for p in ps])
    if variance_correction:
        want = x.mean() + (want - x.mean()) / math.sqrt(1 + v * v)
    got = model.quantile(ps, column=column)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9 * h)
    np.testing.assert_allclose(model.cdf(got, column=column), ps, rtol=1e-9)


def test_quantile_of_an_array_column_by_index_matches_brentq():
    rng = np.random.default_rng(4)
    a = rng.standard_normal(200)
    X = np.column_stack([a, 10 + 5 * (0.8 * a + 0.6 * rng.standard_normal(200))])
    v = 0.2
    model = QuantileExtrapolator(bandwidth=v).fit(X)
    for j in (0, 1, -1):
        x = X[:, j]
        h = v * x.std(ddof=1)
        for p in (1e-4, 0.3, 0.97):
            want = _mixture_quantile_scipy(x, h, p)
            assert model.quantile(p, column=j) == pytest.approx(want, rel=1e-12, abs=1e-9)
    with pytest.raises(ValueError, match=r"pass column=0..1"):
        model.quantile(0.5)
    with pytest.raises(ValueError, match=r"column must lie in \[0, 2\); got 2"):
        model.quantile(0.5, column=2)


def test_quantile_with_truncation_stays_inside_the_column_bounds():
    df = _insurance()
    model = QuantileExtrapolator(bandwidth=0.3, truncate={"bmi": (16.0, 50.0)}).fit(df)
    q = model.quantile([1e-9, 0.5, 1 - 1e-9], column="bmi")
    assert 16.0 <= q[0] < 16.01 and 49.99 < q[2] <= 50.0
    F = model.cdf(np.array([16.0, 50.0]), column="bmi")
    assert model.cdf(q[1], column="bmi") == pytest.approx(F[0] + 0.5 * (F[1] - F[0]), rel=1e-9)


# ------------------------------------------------------------------------------------------------
# constant columns, reproducibility, all-categorical tables
# ------------------------------------------------------------------------------------------------


def test_constant_columns_stay_constant():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=50),
            "one": np.full(50, 7, dtype=np.int32),
            "pi": np.full(50, 3.14),
            "tag": ["same"] * 50,
            "flag": rng.integers(0, 2, 50).astype(bool),
        }
    )
    model = QuantileExtrapolator(bandwidth=0.5, random_state=0).fit(df)
    out = model.sample(300)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    assert (out["one"] == 7).all() and (out["pi"] == 3.14).all() and (out["tag"] == "same").all()
    assert set(out["flag"]) == {True, False}
    assert model.data_.shape == (50, 1)  # only x is shaken
    assert model.quantile(0.9, column="pi") == 3.14


def test_a_table_of_categories_only_is_a_grouped_bootstrap():
    df = pd.DataFrame({"a": list("xxyz"), "b": pd.Categorical(["p", "q", "q", "p"])})
    out = QuantileExtrapolator(random_state=0).fit(df).sample(400)
    pd.testing.assert_series_equal(out.dtypes, df.dtypes)
    assert set(zip(out["a"], out["b"], strict=True)) == set(zip(df["a"], df["b"], strict=True))


# ------------------------------------------------------------------------------------------------
# telecom.csv TotalCharges blanks, missing values, bad parameters
# ------------------------------------------------------------------------------------------------


def test_telecom_total_charges_as_text_with_blanks_is_a_clear_error():
    df = _read("telecom.csv")
    rows, blank_lines = blank_cells("telecom.csv", "TotalCharges")
    k = len(blank_lines)
    assert len(df) == rows and k == 11  # every blank TotalCharges of IBM's table is kept
    assert (df["TotalCharges"].str.strip() == "").sum() == k
    with pytest.raises(
        ValueError, match=rf"'TotalCharges' holds numbers stored as text.* {k} blank"
    ):
        QuantileExtrapolator().fit(df)
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
    with pytest.raises(ValueError, match=rf"'TotalCharges' has {k} missing values .* {rows} rows"):
        QuantileExtrapolator().fit(df)
    clean = df.dropna()
    out = QuantileExtrapolator(random_state=0).fit(clean).sample(500)
    pd.testing.assert_series_equal(out.dtypes, clean.dtypes)
    assert out["TotalCharges"].dtype == np.float64
    assert set(out["Contract"]) <= set(clean["Contract"])
    # Casting to category is the way to keep such a column as labels.
    as_labels = _read("telecom.csv").astype({"TotalCharges": "category"})
    assert (
        QuantileExtrapolator().fit(as_labels).data_.shape[1] == 3
    )  # SeniorCitizen, tenure, MonthlyCharges


@pytest.mark.parametrize(
    ("truncate", "message"),
    [
        ({"sex": (0, 1)}, "'sex', which is not a numeric column"),
        ({"nope": (0, 1)}, "'nope', which is not a numeric column"),
        ({"bmi": (40, 20)}, r"low < high; got \(40, 20\) for 'bmi'"),
        ({"bmi": (1, 2, 3)}, "must be a .low, high. pair"),
        ([(0, 1)] * 4, "must be a dict"),
    ],
)
def test_fit_rejects_bad_table_truncation(truncate, message):
    with pytest.raises(ConfigError, match=message):
        QuantileExtrapolator(truncate=truncate).fit(_insurance())


def test_quantile_rejects_a_categorical_or_missing_column():
    model = QuantileExtrapolator().fit(_insurance())
    with pytest.raises(ValueError, match="pass column= one of"):
        model.quantile(0.5)
    for column in ("region", "nope", 0):
        with pytest.raises(ValueError, match=r"column must name a numeric column"):
            model.quantile(0.5, column=column)
