"""The beyond-the-range video's figures: direct QuantileExtrapolator calls on the same seeded
lognormal sample, the truth from scipy, and the claims the video makes (v = 0 is the plain
bootstrap; the tails reach further as v grows while the body stays put)."""

import numpy as np
import pytest
from scipy import stats

from frame_memory import traced_peak
from genailab.errors import ConfigError
from genailab.experiments.beyond_the_range import (
    CLAIMS,
    memory_bytes,
    true_cdf,
    true_pdf,
    true_quantile,
)
from genailab.generate import QuantileExtrapolator
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory

NAME = "beyond-the-range"


@pytest.fixture(scope="module")
def cfg():
    return get("beyond-the-range").config(quick=True)


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("beyond-the-range", quick=True))


def _data(cfg):
    rng = np.random.default_rng(cfg.seed)
    x = rng.lognormal(0.0, cfg.sigma, size=cfg.observations)
    return x, int(rng.integers(2**31))


def test_the_truth_matches_scipy():
    sigma = 0.7
    law = stats.lognorm(s=sigma)
    q = np.array([-0.5, 0.0, 0.05, 0.3, 1.0, 2.5, 9.0])
    np.testing.assert_allclose(true_cdf(q, sigma), law.cdf(q), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(true_pdf(q, sigma), law.pdf(q), rtol=1e-12, atol=1e-15)
    p = np.array([1e-4, 0.001, 0.25, 0.5, 0.999])
    np.testing.assert_allclose(true_quantile(p, sigma), law.ppf(p), rtol=1e-12)


def test_frame_scalars_equal_direct_calls(cfg, frames):
    x, model_seed = _data(cfg)
    np.testing.assert_array_equal(frames[0].arrays["observed"], np.sort(x))
    bandwidths = np.linspace(0.0, cfg.max_bandwidth, cfg.steps)
    assert len(frames) == cfg.steps
    for frame, v in zip(frames, bandwidths, strict=True):
        s = frame.scalars
        model = QuantileExtrapolator(
            bandwidth=v, variance_correction=cfg.variance_correction, random_state=model_seed
        ).fit(x)
        q = model.quantile(np.array([0.001, 0.25, 0.5, 0.75, 0.999]))
        assert s["bandwidth"] == v
        assert s["synthetic_q001"] == q[0] and s["synthetic_q999"] == q[4]
        assert s["median"] == q[2]
        z = model.sample(cfg.draws)
        # A draw counts as outside beyond a 1e-9 relative tolerance: at v = 0 the variance
        # correction's m + (x_I - m) / 1 can land one ulp past an extreme (1% of draws here).
        tol = 1e-9 * (x.max() - x.min())
        assert s["share_outside"] == np.mean((z < x.min() - tol) | (z > x.max() + tol))
        assert s["share_below_zero"] == np.mean(z < 0)
        grid = frame.arrays["grid"]
        np.testing.assert_array_equal(frame.arrays["synthetic_cdf"], model.cdf(grid))
        counts, _ = np.histogram(z, bins=frame.arrays["edges"])
        np.testing.assert_allclose(
            frame.arrays["density"] * np.diff(frame.arrays["edges"]), counts / cfg.draws
        )
    truth = stats.lognorm(s=cfg.sigma).ppf([0.001, 0.999])
    np.testing.assert_allclose([s["true_q001"], s["true_q999"]], truth, rtol=1e-12)
    gap = np.max(np.abs(frames[-1].arrays["synthetic_cdf"] - stats.lognorm(s=cfg.sigma).cdf(grid)))
    assert s["max_cdf_gap_to_truth"] == pytest.approx(gap, abs=1e-12)


def test_bandwidth_zero_is_the_plain_bootstrap(cfg, frames):
    x, _ = _data(cfg)
    first = frames[0]
    s = first.scalars
    # NOTE: with the variance correction on, quantile() maps m + (q - m) / sqrt(1 + 0), which
    # can land one ulp off the observed extreme: equal up to rounding, not bit for bit.
    assert s["synthetic_q001"] == pytest.approx(x.min(), rel=1e-14)
    assert s["synthetic_q999"] == pytest.approx(x.max(), rel=1e-14)
    assert s["share_outside"] == 0.0
    grid = first.arrays["grid"]
    ecdf = np.searchsorted(np.sort(x), grid, side="right") / len(x)
    np.testing.assert_allclose(first.arrays["synthetic_cdf"], ecdf, atol=1e-15)


def test_the_tails_reach_further_as_the_bandwidth_grows(frames):
    low = np.array([f.scalars["synthetic_q001"] for f in frames])
    high = np.array([f.scalars["synthetic_q999"] for f in frames])
    outside = np.array([f.scalars["share_outside"] for f in frames])
    assert np.all(np.diff(low) < 0) and np.all(np.diff(high) > 0)
    assert np.all(np.diff(outside) > 0) and 0.04 < outside[-1] < 0.08
    last = frames[-1].scalars
    assert last["synthetic_q999"] > last["observed_max"] + 0.25
    # ... but the symmetric kernel cannot see the skew: the right tail stays well short of the
    # true 99.9% quantile and the left one overshoots below zero, where a lognormal never goes.
    assert last["synthetic_q999"] < last["true_q999"] - 1.0
    assert last["synthetic_q001"] < 0 < last["true_q001"]
    assert last["share_below_zero"] > 0.005


def test_the_body_stays_put_with_the_variance_correction(frames):
    first, last = frames[0].scalars, frames[-1].scalars
    growth = (last["synthetic_q999"] - last["synthetic_q001"]) - (
        first["synthetic_q999"] - first["synthetic_q001"]
    )
    assert growth > 0.9
    assert abs(last["median_shift"]) < 0.12 * growth
    assert 1.0 < last["iqr_ratio"] < 1.15
    # Without the correction the kernel noise inflates the body too.
    loose = list(iterate_frames("beyond-the-range", quick=True, overrides={"steps": 2}))
    uncorrected = list(
        iterate_frames(
            "beyond-the-range", quick=True, overrides={"steps": 2, "variance_correction": False}
        )
    )
    assert loose[-1].scalars["iqr_ratio"] == pytest.approx(last["iqr_ratio"])
    assert uncorrected[-1].scalars["iqr_ratio"] > 1.4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"steps": 1}, "steps must be in [2, 1000], got 1"),
        ({"sigma": 0.0}, "sigma must be in (0, 3], got 0.0"),
        ({"max_bandwidth": 5.5}, "max_bandwidth must be in (0, 5], got 5.5"),
        ({"draws": 10_000_001}, "draws must be in [100, 10000000], got 10000001"),
    ],
)
def test_out_of_bounds_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_every_size_at_its_maximum_is_refused_where_memory_is_short():
    largest = {"observations": 100_000, "steps": 1000, "draws": 10_000_000}
    need = memory_bytes(get(NAME).config(overrides=largest))  # 1000 copies of 100000 values
    assert 2**30 < need < 24 * 2**30
    with pytest.raises(MemoryNeedError, match=r"would need about 1\.1 GiB of memory"):
        check_memory(need, NAME, available=2**29)


def _traced_peak(cfg):
    for _ in get(NAME).frames(get(NAME).config(quick=True, overrides={"steps": 2})):
        pass  # lazy imports happen here, outside the measurement
    peak = traced_peak(get(NAME).frames(cfg))
    return peak


def test_the_memory_estimate_is_the_measured_peak_when_the_draws_dominate():
    cfg = get(NAME).config(overrides={"draws": 2_000_000, "steps": 3})
    peak = _traced_peak(cfg)
    assert 0.8 * peak < memory_bytes(cfg) < 1.5 * peak


def test_the_memory_estimate_adds_torchs_copy_of_the_cdf_table_to_the_measured_peak():
    cfg = get(NAME).config(overrides={"observations": 20_000, "steps": 2, "draws": 100})
    peak = _traced_peak(cfg)  # one chunk of 2^22 normal-CDF arguments, in numpy
    torch_chunk = 8 * 2**22  # torch.special.ndtr's output, which tracemalloc does not see
    assert memory_bytes(cfg) - torch_chunk == pytest.approx(peak, rel=0.2)


def test_some_smoothing_brings_the_cdf_closer_to_the_truth(frames):
    v = np.array([f.scalars["bandwidth"] for f in frames])
    gap = np.array([f.scalars["max_cdf_gap_to_truth"] for f in frames])
    best = int(np.argmin(gap))
    assert 0.2 <= v[best] <= 0.4
    assert gap[best] < 0.65 * gap[0] and gap[best] < 0.5 * gap[-1]


def test_the_best_so_far_figures_and_the_captions_follow_the_cdf_gap(frames):
    gaps = np.array([f.scalars["max_cdf_gap_to_truth"] for f in frames])
    v = np.array([f.scalars["bandwidth"] for f in frames])
    for t, f in enumerate(frames):
        s = f.scalars
        assert s["best_cdf_gap"] == gaps[: t + 1].min() and s["bootstrap_cdf_gap"] == gaps[0]
        assert s["best_bandwidth"] == v[int(np.argmin(gaps[: t + 1]))]
        assert s["bootstrap_share_outside"] == 0.0
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == len(set(stretches)) == 4, stretches  # no message comes back
    assert (
        stretches[0].startswith("v = 0 is the plain bootstrap")
        and captions.count(stretches[0]) == 1
    )
    assert "below zero" in stretches[2] and "blurs" in stretches[3]
    # The blur caption starts only past the best bandwidth, once the gap has grown by BLUR.
    first_blur = captions.index(stretches[3])
    assert first_blur > int(np.argmin(gaps)) and gaps[first_blur] > 1.25 * gaps.min()


def test_the_claims_hold_on_the_quick_run_and_fail_without_the_variance_correction(frames):
    last = frames[-1].json_scalars()
    assert all(c.evaluate(last)["met"] for c in CLAIMS)
    loose = list(iterate_frames(NAME, quick=True, overrides={"variance_correction": False}))
    met = [c.evaluate(loose[-1].json_scalars())["met"] for c in CLAIMS]
    assert met[2] is False  # the body spreads: the quartiles move apart by far more than 20%
