"""GaussianCopula: empirical margins, normal-score correlation, categories as intervals.

The contract of every synthesizer (dtypes, constants, seeds, pickling, errors): tests/conformance.
"""

import numpy as np
import pandas as pd

from data_files import data_file
from genailab.evaluate import ks_distance
from genailab.generate import GaussianCopula

NUMERIC = ["age", "bmi", "children", "charges"]


def _insurance() -> pd.DataFrame:
    return pd.read_csv(data_file("insurance.csv"))


def _mixed(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, 0.7, -0.4], [0.7, 1, 0], [-0.4, 0, 1]], size=n)
    return pd.DataFrame(
        {
            "lognormal": np.exp(z[:, 0]),
            "count": np.floor(10 * (z[:, 1] + 3)).astype(np.int64),
            "uniform": (z[:, 2] > 0).astype(float) + rng.random(n),
            "grade": rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.35, 0.15]),
        }
    )


def test_margins_match():
    df = _mixed()
    out = GaussianCopula(random_state=0).fit(df).sample(20_000)
    for name in ("lognormal", "count", "uniform"):
        # Sampling error of KS at (n, m) = (2000, 20000): 1.36 sqrt(1/n + 1/m) ~ 0.032 at 5%.
        assert ks_distance(df[name], out[name]) < 0.03, name
        assert out[name].min() >= df[name].min() and out[name].max() <= df[name].max()


def test_spearman_preserved():
    df = _mixed()
    out = GaussianCopula(random_state=1).fit(df).sample(20_000)
    num = ["lognormal", "count", "uniform"]
    ref = df[num].corr("spearman").to_numpy()
    got = out[num].corr("spearman").to_numpy()
    # SE of a Spearman coefficient at n = 2000 is about 1/sqrt(n) ~ 0.022.
    np.testing.assert_allclose(got, ref, atol=0.05)
    assert got[0, 1] > 0.6 and got[0, 2] < -0.2


def test_category_frequencies_and_dtypes():
    df = _mixed()
    model = GaussianCopula(random_state=2).fit(df)
    out = model.sample(40_000)
    freq = out["grade"].value_counts(normalize=True)
    ref = df["grade"].value_counts(normalize=True)
    assert set(freq.index) == set(ref.index)
    se = np.sqrt(ref * (1 - ref) / len(out))
    assert np.all(np.abs(freq[ref.index] - ref) < 4 * se + 1e-12)
    # Frequency order: the most frequent category owns the first interval of (0, 1).
    np.testing.assert_allclose(model._cuts["grade"][0], ref.iloc[0])


def test_singular_correlation_is_fine():
    x = np.random.default_rng(0).normal(size=200)
    out = GaussianCopula(random_state=0).fit(np.column_stack([x, 2 * x])).sample(1000)
    assert np.all(np.diff(out[np.argsort(out[:, 0]), 1]) >= -1e-12)  # comonotone


def test_insurance():
    df = _insurance()
    out = GaussianCopula(random_state=0).fit(df).sample(20_000)
    assert out.dtypes.equals(df.dtypes)
    for name in NUMERIC:
        assert ks_distance(df[name], out[name]) < 0.02, name
    for name in ("sex", "smoker", "region"):
        ref = df[name].value_counts(normalize=True)
        freq = out[name].value_counts(normalize=True)
        assert np.all(np.abs(freq[ref.index] - ref) < 0.015), name
    ref = df[NUMERIC].corr("spearman").to_numpy()
    got = out[NUMERIC].corr("spearman").to_numpy()
    np.testing.assert_allclose(got, ref, atol=0.05)
