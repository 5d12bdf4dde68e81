"""IVFIndex (+PQ): recall against ExactIndex as nprobe grows, the PQ code, its parameters.

Exactness at nprobe = nlist, save/load and the shared errors: tests/conformance.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from genailab.embed import ExactIndex, IVFIndex, gaussian_mixture, load_index


@pytest.fixture(scope="module")
def data():
    X, _ = gaussian_mixture(6000, dim=32, n_components=30, intrinsic_dim=8, random_state=0)
    return X[200:], X[:200]


def _recall(idx, ref):
    return float((idx[:, :, None] == ref[:, None, :]).any(axis=2).mean())


def test_recall_grows_with_nprobe(data):
    X, Q = data
    _, ref = ExactIndex().fit(X).kneighbors(Q, k=10)
    index = IVFIndex(nlist=64, random_state=0).fit(X)
    assert index.list_sizes_.shape == (64,) and index.list_sizes_.sum() == len(X)
    recalls = []
    for nprobe in (1, 2, 4, 8, 16, 64):
        index.nprobe = nprobe  # a sweep needs no refit
        recalls.append(_recall(index.kneighbors(Q, k=10)[1], ref))
    assert all(b >= a for a, b in itertools.pairwise(recalls)), recalls
    assert recalls[0] < 0.8 and recalls[-1] == 1.0  # one list misses neighbours, all find them
    # every returned distance is the true distance of the returned row
    d, i = index.kneighbors(Q, k=10)
    true = np.linalg.norm(Q[:, None, :].astype(np.float64) - X[i], axis=2)
    np.testing.assert_allclose(d, true, rtol=1e-5, atol=1e-6)


def test_pq_with_rerank(data):
    X, Q = data
    _, ref = ExactIndex().fit(X).kneighbors(Q, k=10)
    flat = IVFIndex(nlist=32, nprobe=8, random_state=0).fit(X)
    pq = IVFIndex(nlist=32, nprobe=8, pq=8, pq_bits=6, rerank=0, random_state=0).fit(X)
    assert pq.codebooks_.shape == (8, 64, 4) and pq._codes.dtype == np.uint8
    r_flat = _recall(flat.kneighbors(Q, 10)[1], ref)
    r_pq = _recall(pq.kneighbors(Q, 10)[1], ref)  # PQ estimates only
    pq.rerank = 50
    d, i = pq.kneighbors(Q, 10)
    r_rerank = _recall(i, ref)
    assert r_pq < r_rerank <= r_flat
    assert r_rerank >= r_flat - 0.03  # a 50-row shortlist recovers what the PQ code loses
    true = np.linalg.norm(Q[:, None, :].astype(np.float64) - X[i], axis=2)
    np.testing.assert_allclose(d, true, rtol=1e-5, atol=1e-6)  # re-ranked: exact distances


def test_pq_shortlist_longer_than_the_data(data):
    X, Q = data
    index = IVFIndex(nlist=4, nprobe=1, pq=4, pq_bits=4, rerank=10_000, random_state=0)
    _, i = index.fit(X[:300]).kneighbors(Q[:3], k=5)  # every row re-ranked: exact
    np.testing.assert_array_equal(i, ExactIndex().fit(X[:300]).kneighbors(Q[:3], k=5)[1])


def test_pq_distance_estimate(data):
    # without re-ranking the distances are the ADC estimates: close to the true ones
    X, Q = data
    pq = IVFIndex(nlist=16, nprobe=16, pq=16, rerank=0, random_state=0).fit(X)
    d, i = pq.kneighbors(Q, 10)
    true = np.linalg.norm(Q[:, None, :].astype(np.float64) - X[i], axis=2)
    rel = np.abs(d - true) / true
    assert np.median(rel) < 0.05


def test_single_query_and_small_lists(data):
    X, Q = data
    index = IVFIndex(nlist=512, nprobe=1, random_state=0).fit(X[:600])
    # lists of ~1 row: one probe cannot hold k=20 rows, so more lists are scanned
    d, i = index.kneighbors(Q[0], k=20)
    assert d.shape == (20,) and len(set(i.tolist())) == 20 and np.all(np.diff(d) >= 0)
    np.testing.assert_array_equal(i, index.kneighbors(Q[:1], k=20)[1][0])


def test_save_and_load_with_pq(data, tmp_path):
    # the flat index's round trip is in the conformance tests; PQ saves its codes too
    X, Q = data
    index = IVFIndex(nlist=16, nprobe=3, pq=8, metric="cosine", random_state=0).fit(X)
    again = load_index(index.save(tmp_path / "ivf.npz"))
    assert isinstance(again, IVFIndex) and again.nprobe == 3 and again.pq == 8
    np.testing.assert_array_equal(again.codebooks_, index.codebooks_)
    for a, b in zip(index.kneighbors(Q, 5), again.kneighbors(Q, 5), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"nlist": 300}, "nlist=300 is larger than the 200 vectors"),
        ({"nlist": 0}, "nlist must be an int >= 1, got 0"),
        ({"nprobe": 0}, "nprobe must be an int >= 1, got 0"),
        ({"pq": 5}, "pq=5 must divide the dimension 32"),
        ({"pq_bits": 9}, r"pq_bits must be an int in \[1, 8\], got 9"),
        ({"pq": 4, "pq_bits": 8}, "pq_bits=8 needs at least 256 vectors, got 200"),
        ({"rerank": -1}, "rerank must be an int >= 0"),
    ],
)
def test_bad_params(data, params, match):
    with pytest.raises(ValueError, match=match):
        IVFIndex(**{"nlist": 4, **params}).fit(data[1])


def test_nprobe_set_after_fit_is_checked(data):
    X, Q = data
    index = IVFIndex(nlist=8).fit(X)
    index.nprobe = 0
    with pytest.raises(ValueError, match="nprobe must be an int >= 1, got 0"):
        index.kneighbors(Q)
