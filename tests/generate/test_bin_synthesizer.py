"""BinSynthesizer: occupied hyper-rectangles only, their frequencies, draws inside the bins.

The contract of every synthesizer (dtypes, seeds, pickling, errors): tests/conformance.
"""

import numpy as np
import pandas as pd
import pytest

from data_files import data_file
from genailab.errors import ConfigError
from genailab.generate import BinSynthesizer


def _insurance() -> pd.DataFrame:
    return pd.read_csv(data_file("insurance.csv"))


def _mixed(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + 0.5 * rng.normal(size=n),
            "k": rng.integers(0, 20, size=n).astype(np.int32),
            "colour": pd.Categorical(
                rng.choice(["red", "green", "blue"], size=n, p=[0.6, 0.3, 0.1])
            ),
            "flag": rng.random(n) < 0.3,
        }
    )


def _cells(model: BinSynthesizer, df: pd.DataFrame) -> np.ndarray:
    """Cell index (into model.cells_) of every row of df, -1 for an unoccupied cell."""
    index = np.empty((len(df), df.shape[1]), dtype=np.int64)
    for j, (name, col) in enumerate(df.items()):
        if name in model.edges_:
            edges = model.edges_[name]
            index[:, j] = np.searchsorted(edges[1:-1], col.to_numpy(float), side="right")
        else:
            index[:, j] = pd.Index(model.categories_[name]).get_indexer(col)
    lookup = {tuple(c): i for i, c in enumerate(model.cells_)}
    return np.array([lookup.get(tuple(r), -1) for r in index])


@pytest.mark.parametrize("within", ["uniform", "extrapolate"])
def test_only_occupied_cells_with_observed_frequencies(within):
    df = _mixed()
    model = BinSynthesizer(bins=4, within=within, random_state=1).fit(df)
    assert model.counts_.sum() == len(df)
    assert np.all(_cells(model, df) >= 0)  # the fit's own rows land in their cells
    m = 40_000
    cell = _cells(model, model.sample(m))
    assert np.all(cell >= 0)  # never an unoccupied hyper-rectangle
    observed = np.bincount(cell, minlength=len(model.counts_))
    expected = m * model.counts_ / model.counts_.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    dof = len(model.counts_) - 1
    assert chi2 < dof + 5 * np.sqrt(2 * dof)  # mean dof, sd sqrt(2 dof)


def test_uniform_draws_respect_edges_and_are_uniform():
    x = np.random.default_rng(0).exponential(size=500)
    model = BinSynthesizer(bins=5, random_state=0).fit(x)
    edges = model.edges_[0]
    np.testing.assert_allclose(edges, np.quantile(x, np.linspace(0, 1, 6)))
    out = model.sample(50_000)
    assert out.shape == (50_000,)
    assert out.min() >= x.min() and out.max() <= x.max()
    # Each bin holds a fifth of the data; inside it the draw is uniform (mean = midpoint).
    b = np.searchsorted(edges[1:-1], out, side="right")
    for k in range(5):
        inside = out[b == k]
        assert abs(len(inside) / len(out) - 0.2) < 0.01
        lo, hi = edges[k], edges[k + 1]
        se = (hi - lo) / np.sqrt(12 * len(inside))
        assert abs(inside.mean() - (lo + hi) / 2) < 5 * se


def test_extrapolate_goes_beyond_outer_bins_only():
    x = np.random.default_rng(0).normal(size=400)
    model = BinSynthesizer(bins=4, within="extrapolate", random_state=0).fit(x)
    out = model.sample(20_000)
    assert out.min() < x.min() and out.max() > x.max()
    edges = model.edges_[0]
    b = np.searchsorted(edges[1:-1], out, side="right")
    assert abs(np.mean(b == 0) - 0.25) < 0.015  # the interior edges still hold the counts


def test_truncate_bounds_the_open_sides_by_rejection():
    x = np.random.default_rng(0).normal(size=400)
    low = x.min() - 0.05  # the kernel (h = 0.1 s) reaches about 0.3 below the minimum
    model = BinSynthesizer(
        bins=4, within="extrapolate", truncate={0: (low, None)}, random_state=0
    ).fit(x)
    out = model.sample(20_000)
    assert out.min() >= low and out.max() > x.max()
    assert np.sum(out < low + 1e-3) < 20  # no pile-up at the bound, as clipping would make
    b = np.searchsorted(model.edges_[0][1:-1], out, side="right")
    assert abs(np.mean(b == 0) - 0.25) < 0.015
    with pytest.raises(ConfigError, match=r"excludes observed values of 0 .*contain them"):
        BinSynthesizer(truncate={0: (x.min() + 0.1, None)}).fit(x)
    with pytest.raises(ConfigError, match="truncate names 'z', which is not a numeric column"):
        BinSynthesizer(truncate={"z": (0, 1)}).fit(pd.DataFrame({"a": x}))


def test_truncate_keeps_insurance_charges_positive():
    df = _insurance()
    free = BinSynthesizer(within="extrapolate", random_state=1).fit(df).sample(20_000)
    bounded = BinSynthesizer(
        within="extrapolate", truncate={"charges": (0, None)}, random_state=1
    ).fit(df)
    out = bounded.sample(20_000)
    assert free["charges"].min() < 0 < out["charges"].min()
    assert out["charges"].max() > df["charges"].max()  # the top side is still open


def test_uniform_int_draws_stay_in_the_observed_range():
    uniform = BinSynthesizer(bins=3, random_state=0).fit(_mixed()).sample(2000)
    assert uniform["k"].min() >= 0 and uniform["k"].max() <= 19


def test_bad_within():
    with pytest.raises(ConfigError, match="within must be 'uniform' or 'extrapolate'; got 'gauss'"):
        BinSynthesizer(within="gauss").fit(np.arange(5.0))


@pytest.mark.parametrize("within", ["uniform", "extrapolate"])
def test_insurance(within):
    df = _insurance()
    model = BinSynthesizer(bins=4, within=within, random_state=0).fit(df)
    out = model.sample(20_000)
    assert out.dtypes.equals(df.dtypes)
    assert np.all(_cells(model, out) >= 0)
    for name in ("sex", "smoker", "region"):
        assert set(out[name]) == set(df[name])
        freq = out[name].value_counts(normalize=True)
        ref = df[name].value_counts(normalize=True)
        assert np.all(np.abs(freq[ref.index] - ref) < 0.015)
    if within == "uniform":
        assert out["age"].between(df["age"].min(), df["age"].max()).all()
