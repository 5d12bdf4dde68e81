"""Unsupervised regression with two centres: minimise ``sum_i ||x_i - a||^p ||x_i - b||^p``.

Vincent Granville's cloud regression (*Synthetic Data and Generative AI*, 2024, and "Cloud
regression: the swiss army knife of optimization") also covers the case with no shape at all:
the "curve" is a pair of points ``a, b`` and the data should sit near one *or* the other. The
product ``||x - a||^p ||x - b||^p`` is zero when ``x`` is on either centre, so it plays the role
of ``g(x; theta)^2`` (for ``p = 2`` it is exactly the squared implicit function of the
degenerate conic "the two points"), and minimising its sum clusters the cloud into two groups
without a hard assignment step. It is smooth where k-means' ``min(||x - a||^2, ||x - b||^2)``
is not, so a second-order optimiser (damped Newton, Levenberg-Marquardt, with the exact gradient
and Hessian in closed form, checked against torch autograd in the tests) solves it directly
instead of alternating assignments and means.

Near a well-separated pair of clusters the objective weights each point of ``a``'s cluster by
``||x - b||^p``, about constant, so the optimum sits near the cluster means (the k-means
answer) but is pulled towards points far from the other centre: the two answers differ by a
fraction of the within-cluster spread over the separation, and more for unequal clusters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genailab.errors import ConfigError, NotFittedError
from genailab.estimator import Clusterer, as_features


def product_objective(X: np.ndarray, centres: np.ndarray, p: float = 2.0) -> float:
    """``sum_i ||x_i - a||^p ||x_i - b||^p`` for ``centres = [a, b]`` ``(2, d)``.

    Examples
    --------
    >>> product_objective(np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 0.0]]))
    4.0
    """
    X, centres = np.asarray(X, dtype=float), np.asarray(centres, dtype=float)
    d = np.linalg.norm(X[:, None, :] - centres[None], axis=-1)  # (n, 2)
    return float(np.sum((d[:, 0] * d[:, 1]) ** p))


def two_means(
    X: np.ndarray, init: np.ndarray, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with ``k = 2`` from the centres ``init`` ``(2, d)``: the comparison.

    Alternates "assign each point to its nearest centre" and "move each centre to the mean of
    its points" until the assignment stops changing.

    Returns
    -------
    centres : ndarray of shape (2, d)
    labels : ndarray of shape (n,)

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 1.0]])
    >>> centres, labels = two_means(X, X[[0, 2]])
    >>> centres
    array([[0. , 0.5],
           [5. , 0.5]])
    """
    X = _check_X(X)
    centres = np.array(init, dtype=float)
    labels = np.full(len(X), -1)
    for _ in range(max_iter):
        new = _nearest(X, centres)  # (n,)
        if np.array_equal(new, labels):
            break
        labels = new
        for k in range(2):  # the loop is over the two centres, not over points
            if np.any(labels == k):
                centres[k] = X[labels == k].mean(axis=0)
    return centres, labels


class ProductCentres(Clusterer):
    """Two centres minimising ``sum_i ||x_i - a||^p ||x_i - b||^p`` by damped Newton steps.

    Parameters
    ----------
    p : float, default 2.0
        Exponent, >= 1. For ``p < 1`` every data point is a cusp where the objective has a
        local minimum (``||x - a||^p`` is concave along rays), so a gradient method stalls
        there; ``p = 1`` still has kinks at the data points; ``p > 1`` is differentiable.
    max_iter : int, default 200
        Most Newton iterations.
    tol : float, default 1e-12
        Stop when every gradient entry is below ``tol`` times the objective (both in
        standardised coordinates), or when no damped step lowers the objective.
    random_state : int or numpy.random.Generator, optional
        Seeds the k-means++-style start: the first centre a uniformly drawn point, the second
        a point drawn with probability proportional to its squared distance to the first;
        then one Lloyd step moves each to the mean of its nearest points (so no centre starts
        on a data point, where ``||x - a||^p`` is not differentiable for ``p < 2``).

    Attributes
    ----------
    centres_ : ndarray of shape (2, d)
    labels_ : ndarray of shape (n,)
        Index of the nearest centre of each training point.
    objective_ : float
        ``sum_i ||x_i - a||^p ||x_i - b||^p`` at ``centres_``.
    gradient_ : ndarray of shape (2, d)
        Its gradient there (closed form), ~0 at a minimum.
    init_ : ndarray of shape (2, d)
        The starting centres.
    n_iter_ : int
        Newton iterations taken.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 0.1, (50, 2)), rng.normal(3, 0.1, (50, 2))]
    >>> model = ProductCentres(random_state=0).fit(X)
    >>> np.round(np.sort(model.centres_[:, 0]), 1)
    array([-0.,  3.])
    """

    def __init__(
        self,
        p: float = 2.0,
        max_iter: int = 200,
        tol: float = 1e-12,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.p = p
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> ProductCentres:
        """Find the two centres for the cloud ``X`` ``(n, d)``; return self (``y`` is ignored)."""
        if not (isinstance(self.p, int | float) and self.p >= 1):
            raise ConfigError(f"p must be a number >= 1, got {self.p!r}")
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ConfigError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        X = as_features(self, X, reset=True, min_samples=2)
        # NOTE: optimise in standardised coordinates z = (x - m) / s; the objective only
        # scales by s^(2p) (same minimiser), and the numbers stay near 1 for the solver.
        m = X.mean(axis=0)
        s = np.sqrt(np.mean(np.sum((X - m) ** 2, axis=1))) or 1.0
        Z = (X - m) / s  # (n, d)
        self.init_ = self._init(X)
        theta = ((self.init_ - m) / s).ravel()  # (2d,) = [a, b]
        f = product_objective(Z, theta.reshape(2, -1), self.p)
        damping = 1e-3
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            grad, hess = _derivatives(Z, theta.reshape(2, -1), self.p)  # (2d,), (2d, 2d)
            if np.max(np.abs(grad)) <= self.tol * max(f, 1e-300):
                break
            self.n_iter_ += 1
            # Levenberg-Marquardt: a Newton step on (H + lambda I); lambda shrinks after a
            # step that lowers the objective and grows (retry) after one that does not, so far
            # from the minimum (H indefinite) it is gradient descent, near it pure Newton.
            while damping < 1e12:
                step = np.linalg.solve(hess + damping * np.eye(len(theta)), -grad)
                trial = product_objective(Z, (theta + step).reshape(2, -1), self.p)
                if trial < f:
                    theta, f, damping = theta + step, trial, max(damping / 3, 1e-12)
                    break
                damping *= 4
            else:
                break  # no step lowers the objective any more: at machine precision
        centres = theta.reshape(2, -1)
        self.centres_ = centres * s + m  # (2, d)
        self.labels_ = _nearest(X, self.centres_)
        self.objective_ = product_objective(X, self.centres_, self.p)
        self.gradient_ = _gradient(X, self.centres_, self.p)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index (0 or 1) of the nearest centre for each row of ``X``."""
        self._check_fitted()
        return _nearest(as_features(self, X, reset=False), self.centres_)

    def score(self, X: np.ndarray, y: Any = None) -> float:
        """Minus the objective ``sum_i ||x_i - a||^p ||x_i - b||^p`` on ``X``: higher is better.

        As scikit-learn's ``KMeans.score`` is minus the inertia, so that model selection,
        which maximises a score, minimises the objective.

        Examples
        --------
        >>> X = np.array([[0.0, 0.0], [0.0, 0.2], [4.0, 0.0], [4.0, 0.2]])
        >>> model = ProductCentres(random_state=0).fit(X)
        >>> bool(model.score(X) == -model.objective_)
        True
        """
        self._check_fitted()
        return -product_objective(as_features(self, X, reset=False), self.centres_, self.p)

    def _check_fitted(self) -> None:
        if not hasattr(self, "centres_"):
            raise NotFittedError("this ProductCentres is not fitted yet: call fit first")

    def _init(self, X: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.random_state)
        first = X[rng.integers(len(X))]
        d2 = np.sum((X - first) ** 2, axis=1)  # (n,)
        second = X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0 else first
        return two_means(X, np.stack([first, second]), max_iter=1)[0]


def _gradient(X: np.ndarray, centres: np.ndarray, p: float) -> np.ndarray:
    """Closed-form gradient of the objective: d/da ||x - a||^p = p ||x - a||^(p-2) (a - x)."""
    diff = centres[None] - X[:, None, :]  # (n, 2, d)
    d = np.linalg.norm(diff, axis=-1)  # (n, 2)
    other = d[:, ::-1] ** p  # (n, 2): ||x - b||^p for a, ||x - a||^p for b
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = p * d ** (p - 2) * other  # (n, 2)
    weight = np.where(d > 0, weight, 0.0)
    return np.einsum("nk,nkd->kd", weight, diff)  # (2, d)


def _derivatives(X: np.ndarray, centres: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ``(2d,)`` and Hessian ``(2d, 2d)`` of the product objective in ``[a, b]``.

    With ``u = ||x - a||^p``, ``v = ||x - b||^p``: ``grad_a u = p r^(p-2) (a - x)`` and
    ``hess_a u = p r^(p-2) I + p (p - 2) r^(p-4) (a - x)(a - x)^T``; then
    ``H_aa = sum v hess_a u``, ``H_ab = sum grad_a u grad_b v^T``, ``H_bb`` likewise.
    """
    diff = centres[None] - X[:, None, :]  # (n, 2, d)
    r = np.linalg.norm(diff, axis=-1)  # (n, 2)
    power = r**p  # (n, 2)
    w1 = p * r ** (p - 2)  # (n, 2)
    w2 = p * (p - 2) * r ** (p - 4)  # (n, 2)
    first = w1[..., None] * diff  # (n, 2, d): grad of ||x - c||^p in c
    other = power[:, ::-1]  # (n, 2): the other factor
    grad = np.einsum("nk,nkd->kd", other, first).ravel()  # (2d,)
    d = X.shape[1]
    H = np.zeros((2, d, 2, d))
    eye = np.eye(d)
    for k in range(2):  # the two diagonal blocks (a loop over centres, not points)
        H[k, :, k, :] = np.einsum("n,n->", other[:, k], w1[:, k]) * eye + np.einsum(
            "n,ni,nj->ij", other[:, k] * w2[:, k], diff[:, k], diff[:, k]
        )
    H[0, :, 1, :] = np.einsum("ni,nj->ij", first[:, 0], first[:, 1])
    H[1, :, 0, :] = H[0, :, 1, :].T
    return grad, H.reshape(2 * d, 2 * d)


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = np.sum((X[:, None, :] - centres[None]) ** 2, axis=-1)  # (n, 2)
    return np.argmin(d2, axis=1)


def _check_X(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"X must have shape (n, d) with n >= 2, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite, got NaN or infinity")
    return X
