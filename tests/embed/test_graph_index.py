"""GraphIndex: recall against ExactIndex (itself checked against scikit-learn), the graph's
invariants, determinism across thread counts, its parameters.

Single queries, save/load and the shared errors: tests/conformance/test_neighbor_indexes.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from genailab.embed import ExactIndex, GraphIndex, gaussian_mixture
from genailab.embed.graph_build import level_sizes


def _mixture(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    """Overlapping Gaussian components with an intrinsic dimension of 12 (not easy blobs)."""
    return gaussian_mixture(n, dim=d, random_state=seed)[0]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=2)  # (q, k)
    return float(hits.mean())


@pytest.fixture(scope="module")
def mixture_20k():
    data = _mixture(21_000)
    X, Q = data[:20_000], data[20_000:]
    _, truth = ExactIndex().fit(X).kneighbors(Q, k=10)
    index = GraphIndex(M=16, ef_construction=100, ef=40, random_state=0).fit(X)
    return X, Q, truth, index


def test_recall_on_a_mixture(mixture_20k):
    _, Q, truth, index = mixture_20k
    # Measured: recall@10 0.988 at ef=40, 0.962 at ef=24, 0.93 at ef=16 (M=16,
    # ef_construction=100, random_state=0).
    index.ef = 40
    assert _recall(index.kneighbors(Q, k=10)[1], truth) >= 0.975


def test_recall_grows_with_ef(mixture_20k):
    _, Q, truth, index = mixture_20k
    recalls = []
    for ef in (1, 4, 16, 64):
        index.ef = ef
        recalls.append(_recall(index.kneighbors(Q, k=10)[1], truth))
    index.ef = 40
    # ef < k still returns k neighbours (the beam is max(ef, k) wide), so ef=1 and ef=4 agree
    assert recalls[0] == recalls[1]
    assert recalls[1] < recalls[2] <= recalls[3]
    assert recalls[3] >= 0.99


def test_graph_invariants(mixture_20k):
    X, _, _, index = mixture_20k
    n, M0 = index.neighbors_.shape
    assert n == len(X) and M0 == 2 * index.M
    assert np.all((index.degree_ >= 1) & (index.degree_ <= M0))
    valid = np.arange(M0)[None, :] < index.degree_[:, None]  # (n, M0)
    links = np.where(valid, index.neighbors_, -1)
    assert np.all(links[valid] >= 0) and np.all(links[valid] < n)
    assert not np.any(links == np.arange(n)[:, None])  # no self loops
    s = np.sort(links, axis=1)
    assert not np.any((s[:, 1:] == s[:, :-1]) & (s[:, 1:] >= 0))  # no repeated link
    assert sorted(index.order_.tolist()) == list(range(n))


def test_level_sizes():
    assert level_sizes(100_000, 16) == [24, 390, 6250]
    assert level_sizes(10, 16) == []


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_metrics_match_exact(metric):
    data = _mixture(3_100, d=16, seed=1)
    X, Q = data[:3_000], data[3_000:]
    ref_d, ref_i = ExactIndex(metric=metric).fit(X).kneighbors(Q, k=10)
    dist, idx = GraphIndex(M=12, ef=64, metric=metric, random_state=1).fit(X).kneighbors(Q, k=10)
    assert _recall(idx, ref_i) >= 0.99
    same = idx == ref_i  # where the same row is found, the distance is the same
    np.testing.assert_allclose(dist[same], ref_d[same], rtol=1e-4, atol=1e-5)


def test_deterministic_for_any_thread_count():
    X = _mixture(4_000, d=16, seed=2)
    a = GraphIndex(M=8, ef_construction=40, random_state=3, n_threads=1).fit(X)
    b = GraphIndex(M=8, ef_construction=40, random_state=3, n_threads=2).fit(X)
    assert np.array_equal(a.degree_, b.degree_)
    assert np.array_equal(a.neighbors_, b.neighbors_)
    c = GraphIndex(M=8, ef_construction=40, random_state=4, n_threads=1).fit(X)
    assert not np.array_equal(a.order_, c.order_)


def test_tiny_and_duplicate_data():
    X = np.arange(10, dtype=np.float32)[:, None] * [1.0, 2.0]  # (10, 2)
    dist, idx = GraphIndex(M=2, random_state=0).fit(X).kneighbors(X[3], k=10)
    assert sorted(idx.tolist()) == list(range(10)) and idx[0] == 3 and dist[0] == 0
    one = GraphIndex().fit(X[:1])
    assert one.kneighbors(X[4], k=1)[1].tolist() == [0]
    same = np.ones((50, 4), np.float32)  # every distance is zero
    dist, idx = GraphIndex(M=4, random_state=0).fit(same).kneighbors(same[0], k=5)
    assert np.all(dist == 0) and len(set(idx.tolist())) == 5


def test_unreachable_nodes_fall_back_to_exact():
    X = _mixture(500, d=16, seed=4)
    index = GraphIndex(M=4, random_state=0).fit(X)
    index.degree_[:] = 0  # cut every edge: a walk meets only its entry node
    ref_d, ref_i = ExactIndex().fit(X).kneighbors(X[:30] + 0.01, k=5)
    for Q in (X[:30] + 0.01, X[:1] + 0.01):
        dist, idx = index.kneighbors(Q, k=5)
        np.testing.assert_array_equal(idx, ref_i[: len(Q)])
        np.testing.assert_allclose(dist, ref_d[: len(Q)], rtol=1e-5)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(M=1), "M must be an int >= 2"),
        (dict(M=4.0), "M must be an int >= 2"),
        (dict(ef_construction=0), "ef_construction must be an int >= 1"),
        (dict(ef=0), "ef must be an int >= 1"),
        (dict(n_threads=0), "n_threads must be an int >= 1"),
        (dict(random_state=-1), "random_state must be an int >= 0"),
    ],
)
def test_bad_params(params, message):
    with pytest.raises(ValueError, match=message):
        GraphIndex(**params).fit(np.ones((5, 2)))


def test_ef_set_after_fit_is_checked():
    index = GraphIndex(M=4).fit(_mixture(200, d=16))
    index.ef = -3
    with pytest.raises(ValueError, match="ef must be an int >= 1; got -3"):
        index.kneighbors(np.ones(16))
