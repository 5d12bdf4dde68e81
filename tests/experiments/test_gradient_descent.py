"""Gradient descent on a stored table: the frames stop when every point has settled (and
frame_count knows when), the captions follow the share settled, and the figures the claims use
are what the three step rules really do from the same starts."""

import numpy as np
import pytest

from genailab.experiments.gradient_descent import CLAIMS, _descents, caption
from genailab.lab import get, iterate_frames
from genailab.learn import basin_of, descend

NAME = "gradient-descent"


@pytest.mark.parametrize("mode", ["grid", "normalized", "neighbor"])
@pytest.mark.parametrize("overrides", [{}, {"steps": 3}, {"points": 1, "resolution": 3}])
def test_frame_count_is_exact_whether_the_points_settle_or_the_steps_run_out(mode, overrides):
    exp = get(NAME)
    cfg = exp.config(quick=True, overrides={**overrides, "mode": mode})
    frames = list(iterate_frames(NAME, quick=True, overrides={**overrides, "mode": mode}))
    assert exp.frame_count(cfg) == len(frames) == frames[-1].step + 1
    assert [f.poster for f in frames].count(True) == 1 and frames[-1].poster
    if overrides.get("steps") == 3:
        assert len(frames) == 4  # capped: nobody has settled in three steps
    else:  # the run ends as soon as every point has settled, well before the step budget
        assert frames[-1].scalars["settled"] == 1 and len(frames) < cfg.steps + 1


def test_captions_follow_the_share_settled_in_few_stretches():
    frames = list(iterate_frames(NAME, quick=True))
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert stretches == [
        caption("grid", 0.0, False),
        caption("grid", 0.5, False),
        caption("grid", 0.9, False),
        caption("grid", 1.0, True),
    ]
    assert len(set(stretches)) == 4 and all(len(c) <= 90 for c in stretches)
    for f in frames:
        assert f.caption == caption("grid", f.scalars["settled"], f.scalars["settled"] == 1)


@pytest.mark.parametrize("mode", ["grid", "neighbor"])
def test_same_valley_counts_the_points_all_three_rules_send_to_one_minimum(mode):
    cfg = get(NAME).config(quick=True, overrides={"mode": mode})
    run = _descents(cfg)
    fn, states = run["function"], run["states"]
    starts = states[0].points
    ends = {m: list(descend(fn, starts, mode=m, max_steps=cfg.steps))[-1].points
            for m in ("grid", "normalized", "neighbor")}  # fmt: skip
    valleys = np.array([basin_of(fn, p) for p in ends.values()])  # (3, N)
    expected = np.mean((valleys[0] >= 0) & (valleys == valleys[0]).all(axis=0))
    frame = list(iterate_frames(NAME, quick=True, overrides={"mode": mode}))[-1]
    last = frame.scalars
    assert last["same_valley"] == pytest.approx(expected)
    shares = [last[f"in_minimum_{k + 1}"] for k in range(len(frame.arrays["minima"]))]
    assert last["deepest_share"] == shares[0] and sum(shares) == pytest.approx(last["at_minimum"])
    assert sum(s > 0 for s in shares) >= 3  # the points split between several valleys


def test_a_single_well_breaks_the_claim_that_the_start_decides():
    # One well in a bowl: every point rolls into it, so "a quarter never reach the deepest
    # valley" must be reported as not met (the claim can fail).
    frame = list(iterate_frames(NAME, quick=True, overrides={"wells": 1}))[-1]
    last = frame.scalars
    outcomes = {c.expr: c.evaluate(last)["met"] for c in CLAIMS}
    assert len(frame.arrays["minima"]) == 1 and last["deepest_share"] == last["at_minimum"] > 0.9
    assert outcomes == {"at_minimum >= 0.9": True, "same_valley >= 0.85": True,
                        "deepest_share < 0.75": False}  # fmt: skip


def test_a_run_too_short_to_settle_still_has_every_figure():
    last = list(iterate_frames(NAME, quick=True, overrides={"steps": 1, "wells": 1}))[-1]
    outcomes = [c.evaluate(last.json_scalars()) for c in CLAIMS]  # no figure is missing
    assert not outcomes[0]["met"] and last.scalars["settled"] < 1
