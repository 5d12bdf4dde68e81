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

from typing import Any

import numpy as np

from genailab.errors import ConfigError, DataError, NotFittedError
from genailab.estimator import Classifier, as_features, as_labels


class Perceptron(Classifier):
    """Binary linear threshold units trained by Rosenblatt's online rule, one per output column.

    Targets are either one column of two classes (any two labels: the unit fires for the
    second of ``classes_``), or 0/1 columns, one unit each (several outputs; ``classes_`` is
    then ``[0, 1]``, as it is for 0/1 labels in one column).

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
    classes_ : ndarray of shape (2,)
        The two labels, sorted; ``[0, 1]`` for 0/1 (or bool) targets and for several outputs.
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
            Two class labels, or targets in {0, 1} (or bool) with one perceptron per column.

        Returns
        -------
        Perceptron
            ``self``, fitted.
        """
        it = self.max_iter
        if isinstance(it, bool) or not isinstance(it, int | np.integer) or it < 1:
            raise ConfigError(f"max_iter must be an int >= 1, got {it!r}")
        X, Y = self._check(X, y, reset=True)
        self.converged_ = False
        for _ in range(int(self.max_iter)):
            before = self.mistakes_.sum()
            self._epoch(X, Y)
            if self.mistakes_.sum() == before:
                self.converged_ = True
                break
        return self

    def partial_fit(self, X: np.ndarray, y: np.ndarray, classes: Any = None) -> Perceptron:
        """One pass of the online rule over ``(X, y)``, from the current weights.

        The first call creates zero weights; later calls continue from where the last left off,
        so feeding the data in chunks is the same as one epoch over the concatenated chunks.

        Parameters
        ----------
        X, y
            As for :meth:`fit`.
        classes : array_like of shape (2,), optional
            The two labels, for a first chunk that holds only one of them (not needed for
            0/1 targets); later calls ignore it, as scikit-learn's ``partial_fit`` does.

        Returns
        -------
        Perceptron
            ``self``.
        """
        X, Y = self._check(X, y, reset=not hasattr(self, "coef_"), classes=classes)
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

    def _check(
        self, X: np.ndarray, y: np.ndarray, reset: bool, classes: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if reset and not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ConfigError(f"lr must be positive, got {self.lr!r}")
        X = as_features(self, X, reset=reset)
        y = as_labels(self, y, len(X), multi_output=True)
        if reset:
            self.classes_ = self._classes(y, classes)
            self._one_output = y.ndim == 1
        Y = self._targets(y)  # (n, L) in {0, 1}
        if reset:
            self.coef_ = np.zeros((Y.shape[1], X.shape[1]))
            self.intercept_ = np.zeros(Y.shape[1])
            self.mistakes_ = np.zeros(Y.shape[1], dtype=np.int64)
            self.n_iter_ = 0
            self._rng = np.random.default_rng(self.random_state)
        elif Y.shape[1] != self.coef_.shape[0] or (y.ndim == 1) != self._one_output:
            raise DataError(
                f"y has {Y.shape[1]} outputs, but this Perceptron learns {self.coef_.shape[0]}"
            )
        return X, Y

    @staticmethod
    def _classes(y: np.ndarray, classes: Any) -> np.ndarray:
        """The two labels: ``[0, 1]`` for 0/1 targets (and several outputs), else y's own."""
        labels = np.unique(y if classes is None else np.asarray(classes))
        if y.ndim == 2 or np.isin(labels, (0, 1)).all():
            return np.array([0, 1])
        if len(labels) > 2:
            shown = ", ".join(repr(v) for v in labels[:5].tolist())
            raise DataError(
                f"Only binary classification is supported: y holds {len(labels)} classes "
                f"({shown}{', ...' if len(labels) > 5 else ''}); for one unit per class, "
                "pass y as 0/1 columns (one-vs-rest)"
            )
        if len(labels) < 2:
            raise DataError(
                f"y holds 1 class ({labels[0].item()!r}); a Perceptron separates 2 (0/1 targets "
                "may hold one), or give both to partial_fit as classes=[...]"
            )
        return labels

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` as 0/1 targets (n, L): whether each unit should fire."""
        if y.ndim == 2 or self.classes_.tolist() == [0, 1]:
            if not np.isin(y, (0, 1)).all():
                shown = np.unique(y)[:5].tolist()
                raise DataError(f"y must hold 0/1 targets (classes_ is [0, 1]); got values {shown}")
            return y.reshape(len(y), -1).astype(np.int64)
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise DataError(
                f"y holds the label {y[unseen][0].item()!r}, not one of classes_ "
                f"{self.classes_.tolist()}"
            )
        return (y == self.classes_[1]).astype(np.int64)[:, None]

    # ---------------------------------------------------------------------------- prediction
    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The weighted sums ``w . x + b``: shape (n_samples,) or (n_samples, n_outputs)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("this Perceptron is not fitted yet: call fit or partial_fit first")
        X = as_features(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_  # (n, L)
        return scores[:, 0] if self._one_output else scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The second of ``classes_`` (1 for 0/1 targets) where the weighted sum is > 0."""
        fires = (self.decision_function(X) > 0).astype(np.int64)
        return self.classes_[fires] if self._one_output else fires

    def __sklearn_tags__(self):  # scikit-learn's tags, with a binary, multi-output unit
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # one unit: two classes
        tags.classifier_tags.multi_label = True  # 0/1 columns, a unit each
        tags.target_tags.multi_output = True
        return tags
