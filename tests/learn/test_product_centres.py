"""Two centres minimising sum ||x - a||^p ||x - b||^p, against scikit-learn's KMeans, central
finite differences of the objective, and torch autograd for the closed-form gradient."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from genailab.learn import ProductCentres, product_objective, two_means
from genailab.learn.product_centres import _derivatives, _gradient


def two_clouds(seed, n=(150, 150), spread=(0.5, 0.5), centres=((0.0, 0.0), (4.0, 1.0))):
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.normal(c, s, (k, 2)) for c, s, k in zip(centres, spread, n, strict=True)]
    )


def matched(a, b):
    """Reorder the two rows of ``b`` to face those of ``a``."""
    return b if np.linalg.norm(a - b) <= np.linalg.norm(a - b[::-1]) else b[::-1]


def finite_difference_gradient(X, centres, p, h=1e-5):
    grad = np.zeros_like(centres)
    for k in range(2):
        for j in range(centres.shape[1]):
            step = np.zeros_like(centres)
            step[k, j] = h
            up, down = (
                product_objective(X, centres + step, p),
                product_objective(X, centres - step, p),
            )
            grad[k, j] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separated_clouds_give_the_kmeans_centres_within_a_standard_error(seed):
    X = two_clouds(seed)
    model = ProductCentres(random_state=seed).fit(X)
    km = KMeans(2, n_init=10, random_state=seed).fit(X)
    ours = matched(km.cluster_centers_, model.centres_)
    # For p = 2 a point of a's cluster weighs ||x - b||^2 (pushes a away from b) and a point
    # of b's cluster pulls a with weight ||x - b||^2 ~ 2 sigma^2: the first-order shifts,
    # 2 sigma^2 / L each, cancel, so the two answers agree to well within the standard error
    # of a cluster mean, sigma / sqrt(150) = 0.041 (measured gap: 0.01 to 0.02).
    assert np.max(np.abs(ours - km.cluster_centers_)) < 0.5 / np.sqrt(150)
    # the optimiser found a minimum: lower objective than at the k-means centres, zero gradient
    at_kmeans = product_objective(X, km.cluster_centers_)
    assert model.objective_ <= at_kmeans
    fd = finite_difference_gradient(X, model.centres_, 2.0)
    scale = model.objective_  # objective per unit of length, about objective / 1
    assert np.max(np.abs(fd)) < 1e-6 * scale
    assert np.max(np.abs(model.gradient_)) < 1e-8 * scale
    np.testing.assert_array_equal(model.labels_, model.predict(X))
    # labels agree with k-means up to the naming of the clusters
    agree = np.mean(model.labels_ == km.labels_)
    assert max(agree, 1 - agree) == 1.0


def test_unequal_clouds_separate_the_two_answers():
    # A tight big cloud and a wide small one: k-means puts the second centre at the wide
    # cloud's mean; the product objective weighs its far points by ||x - a||^2, which grows
    # with the distance from the tight cloud, so its centre is pulled outwards (measured: 0.28).
    X = two_clouds(0, n=(200, 50), spread=(0.3, 1.5), centres=((0.0, 0.0), (4.0, 0.0)))
    model = ProductCentres(random_state=0).fit(X)
    km = KMeans(2, n_init=10, random_state=0).fit(X)
    ours = matched(km.cluster_centers_, model.centres_)
    wide = np.argmax(km.cluster_centers_[:, 0])
    assert ours[wide, 0] - km.cluster_centers_[wide, 0] > 0.15  # pulled away from the tight one
    # each answer is best for its own criterion
    assert model.objective_ < product_objective(X, km.cluster_centers_)
    inertia = np.sum(np.min(((X[:, None] - ours[None]) ** 2).sum(-1), axis=1))
    assert km.inertia_ < inertia


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_other_exponents_reach_a_stationary_point(p):
    X = two_clouds(3)
    model = ProductCentres(p=p, random_state=0).fit(X)
    fd = finite_difference_gradient(X, model.centres_, p)
    assert np.max(np.abs(fd)) < 1e-5 * model.objective_
    assert model.objective_ <= product_objective(X, model.init_, p)


def test_closed_form_gradient_matches_torch_autograd():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3))
    centres = rng.normal(size=(2, 3))
    for p in (1.0, 2.0, 3.5):
        c = torch.tensor(centres, requires_grad=True)
        Xt = torch.from_numpy(X)
        d = torch.linalg.vector_norm(Xt[:, None] - c[None], dim=-1)  # (30, 2)
        ((d[:, 0] * d[:, 1]) ** p).sum().backward()
        np.testing.assert_allclose(_gradient(X, centres, p), c.grad.numpy(), rtol=1e-12)
        assert product_objective(X, centres, p) == pytest.approx(
            float(((d[:, 0] * d[:, 1]) ** p).sum().detach()), rel=1e-14
        )


def test_closed_form_hessian_matches_torch_autograd():
    rng = np.random.default_rng(5)
    X = torch.from_numpy(rng.normal(size=(25, 2)))
    centres = rng.normal(size=(2, 2))
    for p in (1.0, 2.0, 3.0):

        def objective(theta, p=p):
            d = torch.linalg.vector_norm(X[:, None] - theta.reshape(2, 2)[None], dim=-1)
            return ((d[:, 0] * d[:, 1]) ** p).sum()

        theta = torch.from_numpy(centres.ravel())
        reference = torch.autograd.functional.hessian(objective, theta).numpy()
        grad, hess = _derivatives(X.numpy(), centres, p)
        np.testing.assert_allclose(hess, reference, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(grad, _gradient(X.numpy(), centres, p).ravel(), rtol=1e-12)


def test_two_means_is_lloyds_algorithm_as_in_scikit_learn():
    X = two_clouds(5, spread=(1.2, 1.2), centres=((0.0, 0.0), (2.5, 0.0)))
    init = X[[0, 1]]
    centres, labels = two_means(X, init)
    km = KMeans(2, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    np.testing.assert_allclose(centres, km.cluster_centers_, atol=1e-12)
    np.testing.assert_array_equal(labels, km.labels_)


@pytest.mark.parametrize(
    ("make", "X", "match"),
    [
        (dict(), np.zeros((1, 2)), r"X has 1 sample\(s\) .* minimum of 2 is required"),
        (dict(p=0.5), np.zeros((5, 2)), "p must be a number >= 1"),
        (dict(max_iter=0), np.zeros((5, 2)), "max_iter must be an int >= 1"),
    ],
)
def test_bad_input_raises(make, X, match):
    with pytest.raises(ValueError, match=match):
        ProductCentres(**make).fit(X)


def test_score_is_minus_the_objective_and_fit_predict_the_labels():
    X = two_clouds(6)
    model = ProductCentres(random_state=0)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.labels_)
    a, b = model.centres_
    by_hand = np.sum(np.sum((X - a) ** 2, 1) * np.sum((X - b) ** 2, 1))  # p = 2
    assert model.score(X) == pytest.approx(-by_hand, rel=1e-12)
