"""Rosenblatt's perceptron: a weighted sum, a threshold, and a rule that learns from mistakes.

F. Rosenblatt, "The perceptron: a probabilistic model for information storage and organization
in the brain", Psychological Review 65 (1958). A unit fires when the weighted sum of its inputs
passes a threshold, ``y_hat = 1 if w . x + b > 0 else 0``; after each example it moves its
weights by ``w <- w + lr (y - y_hat) x`` and ``b <- b + lr (y - y_hat)``. The weights change only
on a mistake (``y - y_hat`` is -1, 0 or +1), towards the example it got wrong.

This is the *online* rule, as Rosenblatt stated it: within an epoch the examples are taken one
at a time, because each update changes the prediction for the next example. That sequential
loop over samples is the only loop; several outputs (one perceptron per output column of ``y``)
learn side by side in one vectorized update, so ``n_outputs`` perceptrons cost one.

The convergence theorem (Block 1962, Novikoff 1962): if some unit vector ``u`` separates the
data with margin ``gamma`` (``t_i u . x~_i >= gamma``, ``t_i = +-1``, ``x~ = (x, 1)`` the input
with the bias input appended) and ``||x~_i|| <= R``, then from zero weights the rule makes at most
``(R / gamma)^2`` mistakes per output, whatever the order of the examples and the learning rate.
"""

from __future__ import annotations

import numpy as np


class Perceptron:
    """Binary linear threshold units trained by Rosenblatt's online rule, one per output column.

    Parameters
    ----------
    lr : float, default 1.0
        Learning rate. From zero weights it only rescales ``coef_`` and ``intercept_``: the
        predictions, hence the mistakes, are the same for every ``lr > 0``.
    max_iter : int, default 100
        Most epochs (full passes over the data) that :meth:`fit` takes.
    shuffle : bool, default True
        Visit the examples in a fresh random order each epoch (else in the given order).
    random_state : int or numpy.random.Generator, optional
        Source of the shuffling.
    fit_intercept : bool, default True
        Learn the bias ``b``; without it the threshold stays at 0.

    Attributes
    ----------
    coef_ : ndarray of shape (n_outputs, n_features)
        The weights ``w`` of each output's unit.
    intercept_ : ndarray of shape (n_outputs,)
        The biases ``b`` (minus the thresholds).
    n_iter_ : int
        Epochs taken: by :meth:`fit` (including the final mistake-free one, if reached), or
        calls to :meth:`partial_fit` since the weights were created.
    mistakes_ : ndarray of shape (n_outputs,)
        Updates made so far by each output, i.e. its mistakes during training.
    converged_ : bool
        Whether :meth:`fit` ended with an epoch without any mistake.

    Examples
    --------
    The AND of two switches, examples in order, from zero weights (worked by hand in the tests):

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> p = Perceptron(shuffle=False).fit(X, np.array([0, 0, 0, 1]))
    >>> p.coef_, p.intercept_, p.n_iter_, p.mistakes_
    (array([[2., 1.]]), array([-2.]), 6, array([10]))
    >>> p.predict(X)
    array([0, 0, 0, 1])
    """

    def __init__(
        self,
        lr: float = 1.0,
        max_iter: int = 100,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        fit_intercept: bool = True,
    ) -> None:
        self.lr = lr
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept

    # ------------------------------------------------------------------------------ training
    def fit(self, X: np.ndarray, y: np.ndarray) -> Perceptron:
        """Start from zero weights and take epochs until one makes no mistake, or ``max_iter``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Inputs.
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Targets in {0, 1} (or bool); one perceptron learns each column.

        Returns
        -------
        Perceptron
            ``self``, fitted.
        """
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")
        X, Y = self._check(X, y, reset=True)
        self.converged_ = False
        for _ in range(int(self.max_iter)):
            before = self.mistakes_.sum()
            self._epoch(X, Y)
            if self.mistakes_.sum() == before:
                self.converged_ = True
                break
        return self

    def partial_fit(self, X: np.ndarray, y: np.ndarray) -> Perceptron:
        """One pass of the online rule over ``(X, y)``, from the current weights.

        The first call creates zero weights; later calls continue from where the last left off,
        so feeding the data in chunks is the same as one epoch over the concatenated chunks.

        Returns
        -------
        Perceptron
            ``self``.
        """
        X, Y = self._check(X, y, reset=not hasattr(self, "coef_"))
        self._epoch(X, Y)
        return self

    def _epoch(self, X: np.ndarray, Y: np.ndarray) -> None:
        order = self._rng.permutation(len(X)) if self.shuffle else range(len(X))
        W, b, lr = self.coef_, self.intercept_, float(self.lr)  # (L, d), (L,)
        for i in order:  # NOTE: sequential on purpose: each update changes the next prediction
            x = X[i]  # (d,)
            err = Y[i] - (W @ x + b > 0)  # (L,) in {-1, 0, +1}
            if err.any():
                W += lr * err[:, None] * x  # (L, d): w <- w + lr (y - y_hat) x
                if self.fit_intercept:
                    b += lr * err
                self.mistakes_ += err != 0
        self.n_iter_ += 1

    def _check(self, X: np.ndarray, y: np.ndarray, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if y.ndim not in (1, 2) or len(y) != len(X):
            raise ValueError(
                f"y must have shape ({len(X)},) or ({len(X)}, n_outputs) to match X, got {y.shape}"
            )
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must hold 0/1 labels, got values {np.unique(y)[:5].tolist()}")
        Y = y.reshape(len(y), -1).astype(np.int64)  # (n, L)
        if reset:
            if self.lr <= 0:
                raise ValueError(f"lr must be positive, got {self.lr}")
            self.coef_ = np.zeros((Y.shape[1], X.shape[1]))
            self.intercept_ = np.zeros(Y.shape[1])
            self.mistakes_ = np.zeros(Y.shape[1], dtype=np.int64)
            self.n_iter_ = 0
            self._rng = np.random.default_rng(self.random_state)
            self._one_output = y.ndim == 1
        elif X.shape[1] != self.coef_.shape[1] or Y.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"expected {self.coef_.shape[1]} features and {self.coef_.shape[0]} outputs, "
                f"got {X.shape[1]} and {Y.shape[1]}"
            )
        return X, Y

    # ---------------------------------------------------------------------------- prediction
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The weighted sums ``w . x + b``: shape (n_samples,) or (n_samples, n_outputs)."""
        if not hasattr(self, "coef_"):
            raise ValueError("this Perceptron is not fitted yet: call fit or partial_fit first")
        scores = np.asarray(X, dtype=np.float64) @ self.coef_.T + self.intercept_  # (n, L)
        return scores[:, 0] if self._one_output else scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 predictions, 1 where the weighted sum is strictly positive."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Share of the targets (every output of every sample) predicted right."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
