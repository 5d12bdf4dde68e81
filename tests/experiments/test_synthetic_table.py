"""The synthetic-table video's figures: direct compare_tables calls on the same seeded split,
the structure of the built-in table, the claims the video makes about each synthesizer, and
the CSV path."""

import numpy as np
import pandas as pd
import pytest

from genailab.errors import ConfigError
from genailab.evaluate import compare_tables
from genailab.experiments.synthetic_table import (
    CLAIMS,
    METHODS,
    builtin_table,
    caption,
    row_schedule,
)
from genailab.generate import BinSynthesizer, GaussianCopula, QuantileExtrapolator
from genailab.lab import get, iterate_frames


@pytest.fixture(scope="module")
def cfg():
    return get("synthetic-table").config(quick=True)


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("synthetic-table", quick=True))


def _split(df, rng):
    order = rng.permutation(len(df))
    half = len(df) // 2
    return (
        df.iloc[order[:half]].reset_index(drop=True),
        df.iloc[order[half:]].reset_index(drop=True),
    )


def _models(cfg, seed):
    return {
        "extrapolate": QuantileExtrapolator(bandwidth=cfg.bandwidth, random_state=seed),
        "bins": BinSynthesizer(bins=cfg.bins, random_state=seed),
        "copula": GaussianCopula(random_state=seed),
    }


def test_frame_scalars_equal_direct_calls(cfg, frames):
    rng = np.random.default_rng(cfg.seed)
    table = builtin_table(cfg.rows, rng)
    train, holdout = _split(table, rng)
    seed = int(rng.integers(2**31))
    sizes = [f.scalars["rows"] for f in frames]
    assert sizes[0] == 50 and sizes[-1] == len(train) == cfg.rows // 2
    assert np.all(np.diff(sizes) > 0)
    synth = {m: model.fit(train).sample(sizes[-1]) for m, model in _models(cfg, seed).items()}
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        s, size = frame.scalars, frame.scalars["rows"]
        for m in METHODS:
            report = compare_tables(train, synth[m].iloc[:size], holdout, random_state=cfg.seed)
            scores = report.scores
            assert s[f"mv_ks_{m}"] == scores.loc["synthetic", "mv_ks"], m
            assert s[f"ks_mean_{m}"] == scores.loc["synthetic", "ks_mean"], m
            assert s[f"corr_{m}"] == scores.loc["synthetic", "corr"], m
        assert s["mv_ks_real_copy"] == scores.loc["real copy", "mv_ks"]
        assert s["mv_ks_shuffled"] == scores.loc["shuffled", "mv_ks"]
        assert s["corr_shuffled"] == scores.loc["shuffled", "corr"]
        shown = synth[cfg.method][["x", "y", "income"]].to_numpy()[:size]
        np.testing.assert_array_equal(frame.arrays["synthetic"], shown)
    np.testing.assert_array_equal(frames[-1].arrays["real"], holdout[["x", "y", "income"]])


def test_the_builtin_table_has_the_documented_structure():
    df = builtin_table(20000, np.random.default_rng(1))
    radius = np.hypot(df["x"], df["y"])
    assert radius.mean() == pytest.approx(1.0, abs=0.01)
    assert radius.std() == pytest.approx(0.12, abs=0.01)
    assert abs(np.corrcoef(df["x"], df["y"])[0, 1]) < 0.03  # a ring: no linear correlation
    assert df["income"].skew() > 1.0
    # log(income / 30) = 0.8 y + 0.3 e: least squares recovers the slope and the noise.
    slope, intercept = np.polyfit(df["y"], np.log(df["income"] / 30), 1)
    assert slope == pytest.approx(0.8, abs=0.02) and intercept == pytest.approx(0.0, abs=0.01)
    assert df["visits"].dtype == np.int64
    assert np.corrcoef(df["x"], np.log1p(df["visits"]))[0, 1] > 0.5
    third = np.minimum((np.arctan2(df["y"], df["x"]) % (2 * np.pi)) // (2 * np.pi / 3), 2)
    agree = np.mean(df["segment"].map({"a": 0, "b": 1, "c": 2}) == third)
    assert agree == pytest.approx(0.9 + 0.1 / 3, abs=0.01)  # 10% relabelled, a third kept


def test_each_synthesizer_where_the_video_says(frames):
    first, last = frames[0].scalars, frames[-1].scalars
    # Sampling noise alone: 50 rows score far worse than as many rows as the real copy.
    assert first["mv_ks_extrapolate"] > last["mv_ks_extrapolate"] + 0.05
    # The smoothed bootstrap ends near the real-copy floor, well below the shuffled copy.
    assert abs(last["mv_ks_extrapolate"] - last["mv_ks_real_copy"]) < 0.03
    assert last["mv_ks_extrapolate"] < 0.5 * last["mv_ks_shuffled"]
    assert last["corr_extrapolate"] < 0.25 * last["corr_shuffled"]
    # The copula keeps the dependence (correlation) but not the ring: above extrapolate.
    assert last["mv_ks_copula"] < 0.6 * last["mv_ks_shuffled"]
    assert last["mv_ks_copula"] > last["mv_ks_extrapolate"]
    # NoGAN with 4 uniform bins: wrong margins, above even the shuffled copy ...
    assert last["mv_ks_bins"] > last["mv_ks_shuffled"]
    assert last["ks_mean_bins"] > 1.5 * last["ks_mean_real_copy"]
    # ... and 8 bins bring it below.
    finer = list(iterate_frames("synthetic-table", quick=True, overrides={"bins": 8, "steps": 2}))
    assert finer[-1].scalars["mv_ks_bins"] < finer[-1].scalars["mv_ks_shuffled"]


def test_row_schedule():
    np.testing.assert_array_equal(row_schedule(1000, 4), [50, 136, 368, 1000])
    np.testing.assert_array_equal(row_schedule(30, 3), [30])  # fewer rows than 50


def test_a_csv_path_is_read(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.normal(size=90)
    df = pd.DataFrame(
        {
            "name": [f"r{i}" for i in range(90)],
            "a": a,
            "b": a + 0.1 * rng.normal(size=90),
            "flag": rng.random(90) < 0.5,
            "c": rng.integers(0, 5, 90),
            "d": rng.normal(size=90),
        }
    )
    df.loc[3, "b"] = np.nan  # an incomplete row: dropped
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    overrides = {"data": str(path), "steps": 3}
    frames = list(iterate_frames("synthetic-table", overrides=overrides))
    exp = get("synthetic-table")
    assert exp.frame_count(exp.config(overrides=overrides)) == len(frames) == 1  # 44 rows < 50
    clean = df.dropna().reset_index(drop=True)
    _, holdout = _split(clean, np.random.default_rng(0))
    assert [f.scalars["rows"] for f in frames] == [44]
    assert frames[0].text["columns"] == "a\tb\tc"  # the first 3 varying numeric columns
    assert frames[0].text["data"] == "small.csv"
    np.testing.assert_array_equal(frames[0].arrays["real"], holdout[["a", "b", "c"]])


def test_an_unusable_csv_is_refused_when_read(tmp_path):
    path = tmp_path / "one.csv"
    pd.DataFrame({"a": np.arange(30.0), "k": ["x", "y"] * 15}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="at least 20 complete rows and 2 numeric columns"):
        list(iterate_frames("synthetic-table", overrides={"data": str(path)}))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rows": 10}, "rows must be in [200, 200000], got 10"),
        ({"bins": 1001}, "bins must be in [1, 1000], got 1001"),
        ({"bandwidth": -0.1}, "bandwidth must be in [0, 5], got -0.1"),
        (
            {"data": "/no/such.csv"},
            "data must be '' (the built-in table) or the path of an existing CSV file, "
            "got '/no/such.csv'",
        ),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get("synthetic-table").config(overrides=overrides)
    assert str(refused.value) == f"synthetic-table: {message}"


@pytest.mark.parametrize("overrides", [{}, {"rows": 200, "steps": 80}, {"steps": 2}])
def test_frame_count_counts_the_sizes_rounding_leaves(overrides):
    exp = get("synthetic-table")
    cfg = exp.config(quick=True, overrides=overrides)
    count = exp.frame_count(cfg)
    assert count == len(row_schedule(cfg.rows // 2, cfg.steps))
    if overrides.get("rows") == 200:  # 80 log-spaced sizes from 50 to 100: only 51 integers
        assert count == 51 < cfg.steps


def test_the_captions_and_the_claims(frames):
    captions = [f.caption for f in frames]
    assert captions == [caption(s, len(frames)) for s in range(len(frames))]
    assert len(set(captions)) == 3 and captions.count(captions[0]) == 1
    assert all(len(c) <= 90 for c in captions)
    last = frames[-1].json_scalars()
    assert last["mv_ks_first_extrapolate"] == frames[0].scalars["mv_ks_extrapolate"]
    assert all(c.evaluate(last)["met"] for c in CLAIMS)
    # Finer bins bring NoGAN below the shuffled copy: its claim is then reported as not met.
    finer = list(iterate_frames("synthetic-table", quick=True, overrides={"bins": 8, "steps": 2}))
    assert not CLAIMS[-1].evaluate(finer[-1].json_scalars())["met"]
