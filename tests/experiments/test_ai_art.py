"""The ai-art video's figures against closed forms and direct calls of the simulate API; its
captions by part and its claims."""

import numpy as np
import pytest

from frame_memory import peak_growth
from genailab.errors import ConfigError
from genailab.experiments.ai_art import (
    CLAIMS,
    caption,
    exponents,
    frame_count,
    memory_bytes,
    revealed_terms,
)
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory
from genailab.simulate import basins, eta_partial_sums, family

NAME = "ai-art"


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("ai-art", quick=True))


def _parts(frames):
    orbits = [f for f in frames if f.text["part"] == "orbits"]
    sweep = [f for f in frames if f.text["part"] == "basins"]
    return orbits, sweep


def test_orbits_are_the_eta_partial_sums_and_reach_their_limits(frames):
    orbits, _ = _parts(frames)
    last = orbits[-1]
    s = exponents()
    n = last.arrays["orbits"].shape[1]
    expected = eta_partial_sums(s, n)
    np.testing.assert_allclose(last.arrays["orbits"][..., 0], expected.real, atol=1e-13)
    np.testing.assert_allclose(last.arrays["orbits"][..., 1], expected.imag, atol=1e-13)
    limits = last.arrays["limits"]
    # s on the critical line at zeros of zeta: eta(s) = (1 - 2^(1-s)) zeta(s) = 0
    assert np.abs(limits[[0, 2]]).max() < 1e-12
    assert np.hypot(*limits[1]) > 0.3 and np.hypot(*limits[3]) > 0.3  # off the line: not zero
    # the distance left after n terms is half the next term, |(n+1)^-s| / 2 = (n+1)^-sigma / 2
    for i, sigma in enumerate(s.real):
        assert last.scalars[f"orbit_{i + 1}_error"] == pytest.approx(
            0.5 * (n + 1) ** -sigma, rel=0.05
        )


def test_terms_are_revealed_one_frame_at_a_time_to_the_end(frames):
    orbits, _ = _parts(frames)
    shown = [int(f.text["n"]) for f in orbits]
    assert shown == revealed_terms(800, 10).tolist()
    assert np.all(np.diff(shown) >= 1) and shown[-1] == 800
    assert revealed_terms(3000, 80)[-1] == 3000
    # the camera ends centred on the limit
    last = orbits[-1]
    view = last.arrays["view"]  # (4, 4) x0, y0, x1, y1
    centre = np.stack([(view[:, 0] + view[:, 2]) / 2, (view[:, 1] + view[:, 3]) / 2], axis=1)
    np.testing.assert_allclose(centre, last.arrays["limits"], atol=1e-12)


def test_sweep_frames_are_the_basins_of_the_family(frames):
    _, sweep = _parts(frames)
    sweep_frames = 8  # the QUICK preset
    assert len(sweep) == sweep_frames + 1  # one held frame
    for k in (0, sweep_frames - 1):
        f = sweep[k]
        params = family(k / (sweep_frames - 1))
        assert (f.scalars["rho"], f.scalars["lam"]) == pytest.approx(params)
        direct = basins(params, resolution=96, bounds=((-8, 8), (-8, 8)), n_iter=500)
        np.testing.assert_array_equal(f.arrays["labels"], direct.labels)
        assert f.scalars["attractors"] == direct.n_attractors
        shares = f.arrays["shares"]
        assert shares.sum() + f.scalars["unsettled_share"] == pytest.approx(1.0)
        assert f.scalars["largest_basin_share"] == pytest.approx(shares[0])
        # every period-1 attractor solves rho x = lam sin y, rho y = lam sin x
        rho, lam = params
        for (x, y), period in zip(f.arrays["attractors"], f.arrays["periods"], strict=True):
            if period == 1:
                assert rho * x == pytest.approx(lam * np.sin(y), abs=1e-6)
                assert rho * y == pytest.approx(lam * np.sin(x), abs=1e-6)


def test_final_frame_holds_the_whole_contact_sheet(frames):
    _, sweep = _parts(frames)
    final = sweep[-1]
    assert sweep[-2].poster and not final.poster
    params = final.arrays["sheet_params"]
    assert len(params) == 8  # QUICK: every sweep frame gets a thumbnail
    for j, f in enumerate(sweep[:-1]):
        np.testing.assert_allclose(params[j], [f.scalars["rho"], f.scalars["lam"]])
        np.testing.assert_array_equal(final.arrays["sheet_labels"][j], f.arrays["labels"])
    # the final family member, rho = 1, lam = 2.5: nine attractors, five of them 2-cycles
    assert final.scalars["attractors"] == 9
    assert int(np.sum(final.arrays["periods"] == 2)) == 5
    assert final.scalars["abs_eta_at_zero_1"] < 1e-12


def test_captions_follow_the_parts_and_the_claims_hold(frames):
    assert len(frames) == frame_count(get(NAME).config(quick=True))
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    halves = [caption(part, share) for part in ("orbits", "basins") for share in (0.0, 0.5)]
    assert stretches == halves  # two messages a part; the held gallery stays in the last
    assert all(len(c) <= 90 for c in stretches)
    final = frames[-1].scalars
    n = frames[0].arrays["orbits"].shape[1]
    s = exponents()
    errors = frames[0].arrays["errors"][:, -1]
    law = errors / (0.5 * (n + 1) ** -s.real)
    assert final["law_ratio_min"] == pytest.approx(law.min())
    smooth, limits = frames[0].arrays["smooth"][:, -1], frames[0].arrays["limits"]
    assert final["smooth_gain"] == pytest.approx(min(errors / np.hypot(*(smooth - limits).T)))
    _, sweep = _parts(frames)
    assert final["attractors_first"] == sweep[0].scalars["attractors"] == 7
    assert [claim.evaluate(final)["met"] for claim in CLAIMS] == [True] * len(CLAIMS)
    # a sweep that ends where it started finds no new attractors: the last claim fails
    assert not CLAIMS[-1].evaluate({**final, "attractors": final["attractors_first"]})["met"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"resolution": 8}, "resolution must be in [24, 2880], got 8"),
        ({"terms": 400_000}, "terms must be in [20, 300000], got 400000"),
        ({"hold": -1}, "hold must be in [0, 300], got -1"),
        ({"terms": 100, "orbit_frames": 200}, "orbit_frames must be at most terms (100), got 200"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_the_largest_run_needs_over_a_gigabyte_and_a_small_machine_refuses_it():
    largest = get(NAME).config(overrides={"terms": 300_000, "resolution": 2880})
    assert 2**30 < memory_bytes(largest) < 24 * 2**30  # 8.3 million pixels, 1.8 GiB
    check_memory(memory_bytes(largest), NAME, available=24 * 2**30)
    with pytest.raises(MemoryNeedError, match=f"^{NAME} would need about 1.8 GiB of memory"):
        check_memory(memory_bytes(largest), NAME, available=2**30)


def test_the_memory_estimate_is_the_measured_peak():
    # The basins are iterated in torch, which tracemalloc does not see: the peak resident
    # memory of a fresh process is measured instead. 300,000 terms take 102 MB, 1200 x 1200
    # pixels 323 MB (10 steps a pixel keep it short).
    overrides = dict(
        terms=300_000, orbit_frames=2, sweep_frames=2, resolution=1200, n_iter=10, hold=0
    )
    estimate = memory_bytes(get(NAME).config(overrides=overrides))
    assert 0.6 < estimate / peak_growth(NAME, overrides) < 1.6  # measured: 0.98
