"""ExactIndex against scikit-learn's brute-force NearestNeighbors, and its numerics.

The contract every index shares (shapes, save/load, errors) is tested once for all of them in
tests/conformance/test_neighbor_indexes.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from genailab.embed import ExactIndex, exact_search


def _data(n=2000, d=24, q=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.normal(size=(q, d)).astype(np.float32)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_matches_sklearn(metric):
    X, Q = _data()
    dist, idx = ExactIndex(metric=metric).fit(X).kneighbors(Q, k=10)
    ref = NearestNeighbors(
        n_neighbors=10, algorithm="brute", metric={"l2": "euclidean"}.get(metric, metric)
    )
    ref_dist, ref_idx = ref.fit(X.astype(np.float64)).kneighbors(Q.astype(np.float64))
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-5, atol=1e-6)
    assert dist.dtype == np.float32 and idx.dtype == np.int64
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_far_from_the_origin():
    # Points 3,000 away from the origin, about 0.3 apart: ||x||^2 - 2 q.x in float32 has an
    # error of about 3e7 * 6e-8 = 2, larger than the distances; centring keeps their digits.
    rng = np.random.default_rng(1)
    X = (3000.0 + 0.1 * rng.normal(size=(2000, 3))).astype(np.float32)
    Q = (3000.0 + 0.1 * rng.normal(size=(50, 3))).astype(np.float32)
    _, idx = ExactIndex().fit(X).kneighbors(Q, k=5)
    d2 = ((Q[:, None, :].astype(np.float64) - X[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(idx, np.argsort(d2, axis=1, kind="stable")[:, :5])


def test_ties_come_out_by_index():
    X = np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [5, 5]], dtype=np.float32)
    d2, idx = exact_search(np.zeros((1, 2), np.float32), X, k=4)
    assert idx.tolist() == [[0, 1, 2, 3]] and d2.tolist() == [[1.0] * 4]


def test_blocks_give_the_same_answer(monkeypatch):
    from genailab.embed import exact_index

    X, Q = _data(n=300, q=50)
    whole = exact_search(Q, X, 7)
    monkeypatch.setattr(exact_index, "_BLOCK_FLOATS", 1000)  # 3 queries a block
    blocked = exact_search(Q, X, 7)
    np.testing.assert_array_equal(whole[1], blocked[1])
    np.testing.assert_array_equal(whole[0], blocked[0])
