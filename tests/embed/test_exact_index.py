"""ExactIndex and the shared index API against scikit-learn's brute-force NearestNeighbors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from genailab.embed import ExactIndex, IndexFileError, exact_search, load_index


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


def test_single_query_and_k_equal_n():
    X, Q = _data(n=30, q=3)
    index = ExactIndex().fit(X)
    d1, i1 = index.kneighbors(Q[0], k=30)
    d, i = index.kneighbors(Q, k=30)
    assert d1.shape == (30,) and np.array_equal(i1, i[0]) and np.array_equal(d1, d[0])
    assert sorted(i1.tolist()) == list(range(30))


def test_blocks_give_the_same_answer(monkeypatch):
    from genailab.embed import exact_index

    X, Q = _data(n=300, q=50)
    whole = exact_search(Q, X, 7)
    monkeypatch.setattr(exact_index, "_BLOCK_FLOATS", 1000)  # 3 queries a block
    blocked = exact_search(Q, X, 7)
    np.testing.assert_array_equal(whole[1], blocked[1])
    np.testing.assert_array_equal(whole[0], blocked[0])


def test_save_and_load(tmp_path):
    X, Q = _data()
    index = ExactIndex(metric="cosine").fit(X)
    path = index.save(tmp_path / "exact.npz")
    again = load_index(path)
    assert isinstance(again, ExactIndex) and again.metric == "cosine"
    for a, b in zip(index.kneighbors(Q, 5), again.kneighbors(Q, 5), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == ["exact.npz"]


def test_bad_saved_files(tmp_path):
    with pytest.raises(IndexFileError, match="no such file"):
        load_index(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(IndexFileError, match="not a saved genailab index"):
        load_index(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.ones(3))
    with pytest.raises(IndexFileError, match="not a saved genailab index"):
        load_index(other)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.kneighbors(np.ones((2, 5)), 3), "Q has dimension 5, but the index holds 24-d"),
        (lambda i: i.kneighbors(np.ones((2, 24)), 2001), "k=2001 is larger than the 2000 indexed"),
        (lambda i: i.kneighbors(np.ones((2, 24)), 0), "k must be an int >= 1; got 0"),
        (lambda i: i.kneighbors(np.full((2, 24), np.nan), 3), "Q must be finite; 2 rows hold NaN"),
    ],
)
def test_bad_queries(call, message):
    X, _ = _data()
    with pytest.raises(ValueError, match=message):
        call(ExactIndex().fit(X))


def test_bad_fits():
    with pytest.raises(ValueError, match="at least one row"):
        ExactIndex().fit(np.empty((0, 3)))
    with pytest.raises(ValueError, match="metric must be one of"):
        ExactIndex(metric="manhattan").fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="1 zero rows"):
        ExactIndex(metric="cosine").fit(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="not fitted"):
        ExactIndex().kneighbors(np.ones((1, 2)))
