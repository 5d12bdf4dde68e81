"""LSHIndex: recall grows with tables and probes, the collision law, its parameters.

Save/load and the shared errors: tests/conformance/test_neighbor_indexes.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from genailab.embed import ExactIndex, LSHIndex, gaussian_mixture


@pytest.fixture(scope="module")
def data():
    X, _ = gaussian_mixture(5200, dim=32, n_components=20, intrinsic_dim=6, random_state=1)
    return X[200:], X[:200]


def _recall(idx, ref):
    return float((idx[:, :, None] == ref[:, None, :]).any(axis=2).mean())


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_recall_grows_with_tables_and_probes(data, metric):
    X, Q = data
    ref_d, ref = ExactIndex(metric=metric).fit(X).kneighbors(Q, k=10)
    recalls = []
    for n_tables, probes in ((1, 0), (4, 0), (16, 0), (16, 3)):
        index = LSHIndex(n_bits=10, n_tables=n_tables, probes=probes, metric=metric, random_state=0)
        d, i = index.fit(X).kneighbors(Q, k=10)
        recalls.append(_recall(i, ref))
    assert recalls == sorted(recalls) and recalls[0] < 0.5 and recalls[-1] > 0.9, recalls
    # candidates are re-ranked exactly: where the neighbour was found, the distance is exact
    hit = i == ref
    np.testing.assert_allclose(d[hit], ref_d[hit], rtol=1e-6, atol=1e-7)


def test_collision_probability_is_one_minus_angle_over_pi():
    # Charikar: one hyperplane separates two vectors at angle theta with probability theta/pi;
    # with 1-bit keys a pair shares a bucket in each table independently
    theta = 1.0
    a = np.array([[1.0, 0.0]], dtype=np.float32)
    b = np.array([[np.cos(theta), np.sin(theta)]], dtype=np.float32)
    index = LSHIndex(n_bits=1, n_tables=20_000, probes=0, metric="cosine", random_state=0)
    index.fit(np.r_[a, b])
    P = index._projections(np.r_[a, b])  # (2, tables, 1)
    same = (index._keys(P[:1]) == index._keys(P[1:])).mean()
    assert abs(same - (1 - theta / np.pi)) < 3 * np.sqrt(0.25 / 20_000)


def test_l2_hyperplanes_go_through_the_mean(data):
    X, _ = data
    shifted = X + 100.0  # far from the origin: uncentred hyperplanes would give one bucket
    _, ref = ExactIndex().fit(shifted).kneighbors(shifted[:100], k=5)
    index = LSHIndex(n_bits=10, n_tables=8, probes=2, random_state=0).fit(shifted)
    np.testing.assert_allclose(index.center_, shifted.mean(0), rtol=1e-5)
    assert _recall(index.kneighbors(shifted[:100], k=5)[1], ref) > 0.8


def test_tiny_buckets_still_give_k_answers(data):
    X, Q = data
    index = LSHIndex(n_bits=40, n_tables=1, probes=0, random_state=0).fit(X[:300])
    d, i = index.kneighbors(Q[:5], k=7)  # buckets of ~1 row: widened to the nearest keys
    assert (np.sort(i, axis=1)[:, 1:] != np.sort(i, axis=1)[:, :-1]).all()  # 7 distinct rows
    true = np.linalg.norm(Q[:5, None, :].astype(np.float64) - X[i], axis=2)
    np.testing.assert_allclose(d, true, rtol=1e-6)
    assert np.all(np.diff(d, axis=1) >= 0)
    _, i1 = index.kneighbors(Q[0], k=7)
    np.testing.assert_array_equal(i1, i[0])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_bits": 0}, r"n_bits must be an int in \[1, 62\], got 0"),
        ({"n_bits": 63}, r"n_bits must be an int in \[1, 62\], got 63"),
        ({"n_tables": 0}, "n_tables must be an int >= 1, got 0"),
        ({"n_bits": 4, "probes": 5}, r"probes must be an int in \[0, n_bits=4\], got 5"),
    ],
)
def test_bad_params(data, params, match):
    with pytest.raises(ValueError, match=match):
        LSHIndex(**params).fit(data[1])
