"""The cloud-regression video: its frames are CloudRegression / ProductCentres / two_means run
directly on the same data (replayed from the same seed), and the ellipse error falls as the arc
opens at fixed noise."""

import numpy as np
import pytest

from frame_memory import traced_peak
from genailab.errors import ConfigError
from genailab.experiments.cloud_regression import (
    CLAIMS,
    Config,
    ellipse_data,
    frames,
    memory_bytes,
    schedule,
    split,
)
from genailab.lab import get, iterate_frames
from genailab.learn import CloudRegression, ProductCentres, two_means
from genailab.memory import MemoryNeedError, check_memory

NAME = "cloud-regression"


def run(seed=0, **overrides):
    return list(iterate_frames(NAME, quick=True, seed=seed, overrides=overrides))


def test_frames_replay_exactly_from_the_seed():
    frames = run(0)
    cfg = Config(**{**Config.QUICK, "seed": 0})
    n_ellipse, n_cloud = split(cfg)
    assert len(frames) == cfg.frames == n_ellipse + n_cloud
    rng = np.random.default_rng(0)
    for i in range(n_ellipse):
        f = frames[i]
        truth, points = ellipse_data(cfg, i, rng)
        np.testing.assert_array_equal(f.arrays["points"], points)
        fit = CloudRegression("ellipse", n_boot=cfg.boot, random_state=rng).fit(points)
        np.testing.assert_allclose(f.arrays["params"], fit.params_, rtol=1e-12)
        np.testing.assert_allclose(f.arrays["truth"], truth.point(np.linspace(0, 2 * np.pi, 121)))
        ci = fit.confidence_intervals()
        for name in ("centre_x", "semi_major", "angle"):
            assert f.scalars[f"ci_width_{name}"] == pytest.approx(ci[name][1] - ci[name][0])
        arc, noise, angle = schedule(cfg, i)
        assert (f.scalars["arc"], f.scalars["noise"]) == pytest.approx((arc, noise))
        assert f.scalars["true_angle"] == pytest.approx(angle)
        err = np.hypot(*(fit.params_[:2] - truth.centre)) / truth.a
        assert f.scalars["err_centre"] == pytest.approx(err, rel=1e-12)
    assert frames[0].scalars["arc"] == 0.5 and frames[n_ellipse - 1].scalars["arc"] == 1.0
    for j in range(n_cloud):
        f = frames[n_ellipse + j]
        X = f.arrays["cloud"]
        rng.normal(size=(len(X), 2))  # the experiment drew the two clouds here: stay in step
        model = ProductCentres(p=2.0, random_state=rng).fit(X)
        kmeans, _ = two_means(X, model.init_)
        np.testing.assert_allclose(
            np.sort(f.arrays["product"], axis=0), np.sort(model.centres_, axis=0), atol=1e-9
        )
        np.testing.assert_allclose(
            np.sort(f.arrays["kmeans"], axis=0), np.sort(kmeans, axis=0), atol=1e-12
        )
        assert f.scalars["product_gradient"] < 1e-6 * f.scalars["product_objective"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ellipse_error_falls_as_the_arc_opens_at_fixed_noise(seed):
    # Measured (seeds 0-3, noise 3% of a): mean centre error 2.5-4.6% of a over the first
    # third of the data sets (arcs 50-65%), 0.5-0.8% over the last third (arcs 85-100%).
    frames = [
        f for f in run(seed, noise_start=0.03, noise_end=0.03) if f.text["phase"] == "ellipse"
    ]
    err = np.array([[f.scalars["err_centre"], f.scalars["err_axes"]] for f in frames])
    third = len(err) // 3
    assert np.all(err[:third].mean(0) > 2.5 * err[-third:].mean(0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_answers_part_as_the_wide_cloud_spreads(seed):
    frames = [f for f in run(seed) if f.text["phase"] == "clouds"]
    gaps = np.array([f.scalars["gap_wide_centre"] for f in frames])
    half = len(gaps) // 2
    assert gaps[half:].mean() > gaps[:half].mean()  # measured: 1.2x to 4.5x (seeds 0-3)
    last = frames[-1].scalars
    assert last["wide_spread"] == pytest.approx(1.0)
    for key in ("err_centre", "err_axes", "err_angle", "ci_width_semi_major"):
        assert np.isfinite(last[key])  # the last frame carries the ellipse figures too


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"frames": 2}, "frames must be in [4, 10000], got 2"),
        ({"boot": 20_000}, "boot must be in [20, 10000], got 20000"),
        ({"arc_start": 0.0}, "arc_start must be in [0.1, 1], got 0.0"),
        ({"cloud_share": 1.0}, "cloud_share must be in [0, 1), got 1.0"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_a_run_too_large_for_the_machine_is_refused_before_it_starts():
    huge = get(NAME).config(overrides={"points": 100_000, "boot": 10_000})
    assert memory_bytes(huge) > 24 * 2**30  # 128 GB of bootstrap data sets
    with pytest.raises(MemoryNeedError, match=r"^cloud-regression would need about 11\d\.\d GiB"):
        check_memory(memory_bytes(huge), NAME, available=24 * 2**30)
    check_memory(memory_bytes(get(NAME).config()), NAME, available=2**30)  # the default: 45 MB


def test_the_memory_estimate_is_the_measured_peak():
    # Bootstrap-dominated: 300 data sets of 2000 points, 73 MiB estimated.
    cfg = get(NAME).config(overrides={"frames": 4, "points": 2000, "boot": 300})
    peak = traced_peak(frames(cfg))
    assert 0.5 < memory_bytes(cfg) / peak < 2  # measured: 1.0


def test_the_story_figures_summarise_the_short_and_the_long_arcs():
    frames = run(0)
    cfg = Config(**{**Config.QUICK, "seed": 0})
    n_ellipse, _ = split(cfg)
    ellipse = frames[:n_ellipse]
    third = n_ellipse // 3
    err = np.array([f.scalars["err_centre"] for f in ellipse])
    small = np.array([f.scalars["fit_semi_major"] < f.scalars["true_semi_major"] for f in ellipse])
    last = frames[-1].scalars
    assert last["err_centre_short_arcs"] == pytest.approx(err[:third].mean())
    assert last["err_centre_long_arcs"] == pytest.approx(err[-third:].mean())
    assert last["too_small_short_arcs"] == pytest.approx(small[:third].mean())
    assert 0 <= last["centre_missed_short_arcs"] <= 1
    assert np.isnan(ellipse[0].scalars["err_centre_long_arcs"])  # no long arc seen yet
    assert last["gap_wide_first"] == frames[n_ellipse].scalars["gap_wide_centre"]
    assert all(c.evaluate(frames[-1].json_scalars())["met"] for c in CLAIMS)


def test_without_the_arc_opening_the_error_claim_is_not_met():
    last = run(0, arc_start=1.0, cloud_share=0.0)[-1].json_scalars()
    met = [c.evaluate(last)["met"] for c in CLAIMS]
    assert met[0] is False  # a closed arc all along and a growing noise: no halving
    assert last["gap_wide_centre"] is None and met[3] is False  # no clouds: nothing measured


def test_captions_mark_thirds_of_the_arcs_then_halves_of_the_clouds():
    captions = [f.caption for f in run(0)]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == len(set(stretches)) == 5
    assert [captions.count(c) for c in stretches] == [6, 6, 6, 3, 3]
    assert all(len(c) <= 90 for c in stretches)
