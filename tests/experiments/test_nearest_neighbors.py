"""nearest-neighbors: the frames' recalls are those of direct ProbabilisticANN runs, they only
grow, they follow 1 - (1 - 1/n)^p, and the graph index beats the probes by pruning; the video's
captions follow the passes and its claims hold."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from frame_memory import traced_peak
from genailab.embed import GraphIndex, expected_recall
from genailab.errors import ConfigError
from genailab.experiments.nearest_neighbors import (
    CLAIMS,
    Config,
    caption,
    frame_count,
    frames,
    make_data,
    memory_bytes,
    probe_index,
    recall_at_k,
)
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory

NAME = "nearest-neighbors"


@pytest.fixture(scope="module")
def run():
    overrides = dict(queries=300)
    cfg = Config(**{**Config.QUICK, **overrides})
    X, Q = make_data(cfg)
    truth = NearestNeighbors(n_neighbors=cfg.k).fit(X).kneighbors(Q, return_distance=False)
    frames = list(iterate_frames(NAME, quick=True, overrides=overrides))
    return cfg, X, Q, truth, frames


def test_frame_recalls_are_those_of_a_direct_run_with_the_same_seed(run):
    cfg, X, Q, truth, frames = run
    states = probe_index(cfg, "all").fit(X).iter_search(Q, k=cfg.k)
    direct = [recall_at_k(s.indices, truth) for s in states]
    shown = [f.scalars["recall_random"] for f in frames[1:]]
    assert len(shown) == len(direct) == cfg.passes * cfg.points / cfg.batch
    np.testing.assert_allclose(shown, direct, atol=1e-12)
    # the worst-half variant at the same budget: its last state with <= passes * n mean draws
    budget = cfg.passes * cfg.points
    states = probe_index(cfg, "worst-half").fit(X).iter_search(Q, k=cfg.k)
    half = [recall_at_k(s.indices, truth) for s in states if s.probes.mean() <= budget]
    assert frames[-1].scalars["recall_worst_half"] == pytest.approx(half[-1], abs=1e-12)


def test_recall_only_grows_and_follows_the_expected_curve(run):
    cfg, _, _, _, frames = run
    last = frames[-1].arrays
    recall, probes = last["recall"][1:], last["probes"][1:]
    assert np.all(np.diff(recall) >= 0)
    np.testing.assert_array_equal(probes, cfg.batch * np.arange(1, len(probes) + 1))
    # 300 queries x 5 neighbours: the standard error is at most sqrt(0.25 / 1500) = 0.013
    expected = expected_recall(probes, cfg.points)
    assert np.abs(recall - expected).max() < 0.05
    assert abs(np.mean(recall - expected)) < 0.02
    assert frames[-1].scalars["recall_expected"] == pytest.approx(1 - (1 - 1 / 1000) ** 3000)


def test_found_lists_are_draws_and_never_beat_the_true_neighbours(run):
    cfg, X, Q, truth, frames = run
    assert all(f.scalars["probes_consistent"] == 1.0 for f in frames)
    true_d = np.linalg.norm(X[truth[:6]] - Q[:6, None], axis=2)  # (6, k) sorted
    for f in frames[1:]:
        best = f.arrays["best"]  # (6, k, 2)
        found_d = np.linalg.norm(best - Q[:6, None], axis=2)
        assert np.all(found_d >= true_d - 1e-6)  # the i-th found is never closer than the i-th true
        assert f.arrays["drawn"].shape == (6 * cfg.batch, 2)
    # once a true neighbour is found its point is in the list (rings and lines coincide)
    final = np.isclose(frames[-1].arrays["best"][:, :, None], X[truth[:6]][:, None]).all(-1)
    assert final.any(axis=1).mean() >= 0.8


def test_the_graph_index_reaches_full_recall_with_a_few_percent_of_the_work(run):
    cfg, X, Q, truth, frames = run
    s, a = frames[-1].scalars, frames[-1].arrays
    assert s["graph_ef"] == 50
    graph = GraphIndex(M=cfg.M, ef_construction=64, ef=50, random_state=cfg.seed).fit(X)
    assert s["recall_graph"] == recall_at_k(graph.kneighbors(Q, k=cfg.k)[1], truth) >= 0.99
    assert 10 <= s["graph_distances"] < 0.2 * cfg.points  # the beam search measured < 20% of n
    assert np.all(np.diff(a["graph_cost"]) > 0)  # a wider beam measures more nodes
    assert s["probes_per_query"] == cfg.passes * cfg.points
    assert s["recall_random"] < s["recall_graph"]


def test_captions_tell_the_passes_apart_and_the_claims_hold(run):
    cfg, _, _, _, frames = run
    assert len(frames) == frame_count(cfg)
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert stretches == [caption(p) for p in (0, 1, 2, 3)]  # four messages, in order, no return
    assert all(len(c) <= 90 for c in stretches)
    final = frames[-1].scalars
    assert [claim.evaluate(final)["met"] for claim in CLAIMS] == [True] * len(CLAIMS)
    # a claim can fail: probes that fell short of their curve would not be said to follow it
    assert not CLAIMS[0].evaluate({**final, "recall_random": final["recall_expected"] - 0.1})["met"]


@pytest.mark.parametrize("quick", [True, False])
def test_frame_count_is_exact_on_both_presets(quick):
    cfg = get(NAME).config(quick=quick, overrides=dict(queries=20))
    assert sum(1 for _ in frames(cfg)) == frame_count(cfg)


def test_frames_repeat():
    a = list(iterate_frames(NAME, quick=True, overrides=dict(points=200, queries=20)))
    b = list(iterate_frames(NAME, quick=True, overrides=dict(points=200, queries=20)))
    assert [f.scalars for f in a] == [f.scalars for f in b]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch": 0}, "batch must be in [1, 10000], got 0"),
        ({"passes": 0.0}, "passes must be in (0, 20], got 0.0"),
        ({"queries": 5}, "queries must be in [6, 100000], got 5"),
        ({"M": 65}, "M must be in [2, 64], got 65"),
        ({"points": 50, "k": 60}, "k must be <= points=50, got 60"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_a_run_too_large_for_the_machine_is_refused_before_it_starts():
    huge = get(NAME).config(overrides={"queries": 100_000, "batch": 10_000})
    assert memory_bytes(huge) > 24 * 2**30  # a billion probes held at once
    with pytest.raises(MemoryNeedError, match=f"^{NAME} would need about 52\\.\\d GiB"):
        check_memory(memory_bytes(huge), NAME, available=24 * 2**30)


def test_the_memory_estimate_is_the_measured_peak():
    # Probe-dominated: 300 queries x 10,000 draws an iteration, 196 MiB estimated.
    cfg = get(NAME).config(overrides={"queries": 300, "batch": 10_000})
    peak = traced_peak(frames(cfg))
    # measured: 1.4 (the estimate also counts the exact search's torch block, 12 MB here)
    assert 0.5 < memory_bytes(cfg) / peak < 2
