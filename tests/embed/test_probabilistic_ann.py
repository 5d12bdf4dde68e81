"""ProbabilisticANN: measured recall against its formula 1 - (1 - 1/n)^p, the iterations, errors.

Save/load, cosine and the shared errors: tests/conformance/test_neighbor_indexes.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from genailab.embed import ExactIndex, ProbabilisticANN, expected_recall


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2000, 8)).astype(np.float32), rng.normal(size=(400, 8)).astype(
        np.float32
    )


def _recall(idx, ref):
    return float((idx[:, :, None] == ref[:, None, :]).any(axis=2).mean())


@pytest.mark.parametrize("probes", [500, 2000, 6000])
def test_recall_matches_the_formula(data, probes):
    X, Q = data
    n, k = len(X), 10
    _, ref = ExactIndex().fit(X).kneighbors(Q, k=k)
    index = ProbabilisticANN(probes=probes, batch=100, random_state=1).fit(X)
    d, i = index.kneighbors(Q, k=k)
    expected = float(expected_recall(probes, n))
    # q * k hits, each drawn with probability `expected`; neighbours of a query are
    # independent (draws with replacement), so the binomial standard error applies
    se = np.sqrt(expected * (1 - expected) / (len(Q) * k))
    assert abs(_recall(i, ref) - expected) < 4 * se + 1e-9, (_recall(i, ref), expected)
    # found neighbours come with exact distances
    true = np.linalg.norm(Q[:, None, :].astype(np.float64) - X[i], axis=2)
    np.testing.assert_allclose(d, true, rtol=1e-6)
    assert np.all(np.diff(d, axis=1) >= 0)


def test_formula():
    np.testing.assert_allclose(expected_recall([0, 1, 1000], 1000), [0, 1e-3, 1 - 0.999**1000])
    # three brute-force passes for recall 0.95: the cost of not pruning
    assert 0.949 < expected_recall(3 * 10**6, 10**6) < 0.951


def test_iterations_improve_and_count_probes(data):
    X, Q = data
    _, ref = ExactIndex().fit(X).kneighbors(Q, k=5)
    index = ProbabilisticANN(batch=200, random_state=0).fit(X)
    states = list(index.iter_search(Q, k=5, iterations=10))
    assert [s.iteration for s in states] == list(range(1, 11))
    assert all((s.probes == 200 * s.iteration).all() for s in states)
    kth = np.array([s.distances[:, -1] for s in states])  # (10, q): never worse
    assert np.all(np.diff(kth, axis=0) <= 0)
    recalls = [_recall(s.indices, ref) for s in states]
    assert recalls == sorted(recalls)
    assert abs(recalls[-1] - expected_recall(2000, len(X))) < 0.04
    # the last state is what kneighbors answers with the same budget
    _, i = ProbabilisticANN(probes=2000, batch=200, random_state=0).fit(X).kneighbors(Q, 5)
    np.testing.assert_array_equal(np.sort(i, 1), np.sort(states[-1].indices, 1))


def test_worst_half_reworks_the_worst(data):
    X, Q = data
    index = ProbabilisticANN(batch=100, rework="worst-half", random_state=0).fit(X)
    states = list(index.iter_search(Q, k=5, iterations=8))
    assert states[0].reworked.all()  # the first iteration fills every list
    for before, now in itertools.pairwise(states):
        kth = before.distances[:, -1]
        np.testing.assert_array_equal(now.reworked, kth >= np.median(kth))
        assert 0.4 < now.reworked.mean() <= 0.6
    # same budget on average as "all"
    index.probes = 2000
    total = list(index.iter_search(Q, k=5))[-1].probes
    assert abs(total.mean() - 2000) <= 100
    # it spends the draws on the worst queries: their spread of k-th distances shrinks
    all_ = list(ProbabilisticANN(probes=2000, batch=100, random_state=0).fit(X).iter_search(Q, 5))
    worst = list(index.iter_search(Q, k=5))[-1]
    assert worst.distances[:, -1].max() <= all_[-1].distances[:, -1].max()
    # ... and, 1 - exp(-p/n) being concave, uneven spending lowers the average recall
    _, ref = ExactIndex().fit(X).kneighbors(Q, k=5)
    assert _recall(worst.indices, ref) < _recall(all_[-1].indices, ref) - 0.03


def test_duplicates_count_once():
    X = np.arange(6, dtype=np.float32)[:, None]
    index = ProbabilisticANN(probes=200, batch=50, random_state=0).fit(X)
    d, i = index.kneighbors(np.array([[2.2]]), k=6)
    assert sorted(i[0].tolist()) == list(range(6))  # every row once, none twice
    np.testing.assert_allclose(d[0], np.abs(X[i[0], 0] - 2.2), rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"probes": 0}, "probes must be an int >= 1, got 0"),
        ({"batch": 2.5}, "batch must be an int >= 1, got 2.5"),
        ({"rework": "best"}, r"rework must be one of \('all', 'worst-half'\), got 'best'"),
    ],
)
def test_bad_params(data, params, match):
    with pytest.raises(ValueError, match=match):
        ProbabilisticANN(**params).fit(data[0])


def test_bad_queries(data):
    X, Q = data
    index = ProbabilisticANN().fit(X)
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 2000\], got 0"):
        next(index.iter_search(Q, k=0))
    with pytest.raises(ValueError, match="iterations must be None or an int >= 1"):
        next(index.iter_search(Q, iterations=0))
    with pytest.raises(ValueError, match="dimension 3, but the index holds 8-d"):
        next(index.iter_search(Q[:, :3]))
    with pytest.raises(ValueError, match="not fitted"):
        next(ProbabilisticANN().iter_search(Q))
