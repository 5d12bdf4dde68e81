"""genailab.embed.KMeans against scikit-learn's KMeans."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans as SKMeans

from genailab.embed import KMeans
from genailab.embed.kmeans import assign, kmeans_plus_plus, lloyd_step


def _mixture(seed=0, k=20, per=200, d=16):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (k, d))
    labels = np.repeat(np.arange(k), per)
    return (centres[labels] + rng.normal(size=(k * per, d))).astype(np.float32), labels


def test_inertia_matches_sklearn():
    # both are local searches from random seeds: compare the best of 4 starts of each
    X, _ = _mixture()
    ours = min(KMeans(20, max_iter=100, random_state=s).fit(X).inertia_ for s in range(4))
    ref = SKMeans(20, n_init=4, random_state=0).fit(X.astype(np.float64)).inertia_
    assert abs(ours - ref) / ref < 0.01


def test_one_lloyd_step_equals_sklearn():
    X, labels = _mixture(seed=1)
    start = X[np.searchsorted(labels, np.arange(20)) + 7]  # one point of each component
    new, lab, d2 = lloyd_step(X, start)
    ref = SKMeans(20, init=start.astype(np.float64), n_init=1, max_iter=1)
    ref.fit(X.astype(np.float64))
    # sklearn assigns to the initial centres, then moves them once: our one step
    ref_labels = ((X[:, None, :].astype(np.float64) - start[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(lab, ref_labels)
    np.testing.assert_allclose(new, ref.cluster_centers_, rtol=0, atol=2e-6)
    np.testing.assert_allclose(d2, ((X - start[lab]).astype(np.float64) ** 2).sum(1), rtol=1e-6)


def test_empty_cluster_takes_the_farthest_point():
    X = np.array([[0, 0], [1, 0], [0, 1], [10, 10]], dtype=np.float32)
    centres = np.array([[0.5, 0.5], [100, 100], [200, 200]], dtype=np.float32)
    new, labels, _ = lloyd_step(X, centres)
    # (10, 10) is farthest from its centre (0.5, 0.5): it re-seeds the first empty cluster;
    # the next farthest, one of the three near the origin, re-seeds the second
    assert labels[3] == 1 and np.allclose(new[1], [10, 10])
    assert len(set(labels.tolist())) == 3


def test_seeding_spreads_out():
    # k-means++ on 5 tight far-apart clusters picks one seed in each (probability ~1)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 100, (5, 3))
    X = np.repeat(centres, 50, axis=0) + rng.normal(0, 0.01, (250, 3))
    seeds = kmeans_plus_plus(X.astype(np.float32), 5, np.random.default_rng(1))
    labels, _ = assign(seeds, centres.astype(np.float32))
    assert sorted(labels.tolist()) == [0, 1, 2, 3, 4]


def test_assign_matches_brute_force():
    rng = np.random.default_rng(2)
    for d in (4, 40):  # the numpy and the torch path
        X = rng.normal(size=(500, d)).astype(np.float32)
        C = rng.normal(size=(30, d)).astype(np.float32)
        labels, d2 = assign(X, C)
        full = ((X[:, None, :].astype(np.float64) - C[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(labels, full.argmin(1))
        np.testing.assert_allclose(d2, full.min(1), rtol=1e-9)


def test_predict_and_reproducible():
    X, _ = _mixture(seed=3, k=5, per=50, d=4)
    a = KMeans(5, random_state=7).fit(X)
    b = KMeans(5, random_state=7).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.predict(X), a.labels_)


@pytest.mark.parametrize(
    ("params", "X", "match"),
    [
        ({"n_clusters": 0}, np.zeros((5, 2)), "n_clusters must be an int >= 1, got 0"),
        ({"n_clusters": 6}, np.zeros((5, 2)), "n_clusters=6 is larger than the 5 rows"),
        ({"max_iter": 0}, np.zeros((5, 2)), "max_iter must be an int >= 1"),
        ({"n_local_trials": 0}, np.zeros((5, 2)), "n_local_trials must be None or an int"),
    ],
)
def test_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        KMeans(**params).fit(X)


def test_score_is_minus_the_inertia_and_fit_predict_the_labels():
    X, _ = _mixture(seed=4, k=4, per=30, d=3)
    km = KMeans(4, random_state=0)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)
    Q = X[::5] + 0.1
    d2 = ((Q[:, None, :].astype(np.float64) - km.cluster_centers_[None]) ** 2).sum(-1)
    assert km.score(Q) == pytest.approx(-d2.min(1).sum(), rel=1e-9)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-12)
