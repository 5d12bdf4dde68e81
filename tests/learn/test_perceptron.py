"""Rosenblatt's perceptron against a hand-worked example and the convergence theorem.

The theorem (Block 1962, Novikoff 1962): if a unit vector u separates the data with margin
gamma = min_i t_i u . x~_i > 0 (t_i = +-1, x~ = (x, 1)) and R = max_i ||x~_i||, the online rule
from zero weights makes at most (R / gamma)^2 mistakes, in any order of the examples.
"""

import numpy as np
import pytest

from genailab.learn import Perceptron

AND_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
AND_Y = np.array([0, 0, 0, 1])


def test_and_gate_weights_worked_by_hand_epoch_by_epoch():
    # Examples in order, w = (0, 0), b = 0, y_hat = [w . x + b > 0], update on a mistake only.
    # epoch 1: only (1,1) is wrong (s = 0)               -> w = (1, 1), b =  1
    # epoch 2: (0,0) s=1 -> b=0; (0,1) s=1 -> w=(1,0), b=-1; (1,0) s=0 ok; (1,1) s=0 -> (2,1), 0
    # epoch 3: (0,1) s=1 -> (2,0),-1; (1,0) s=1 -> (1,0),-2; (1,1) s=-1 -> w = (2, 1), b = -1
    # epoch 4: (0,1) s=0 ok; (1,0) s=1 -> (1,1),-2; (1,1) s=0 -> w = (2, 2), b = -1
    # epoch 5: (0,1) s=1 -> w = (2, 1), b = -2; (1,0) s=0 ok; (1,1) s=1 ok
    # epoch 6: no mistake.
    expected = [
        ((1, 1), 1, 1),
        ((2, 1), 0, 4),
        ((2, 1), -1, 7),
        ((2, 2), -1, 9),
        ((2, 1), -2, 10),
        ((2, 1), -2, 10),
    ]
    p = Perceptron(shuffle=False)
    for w, b, mistakes in expected:
        p.partial_fit(AND_X, AND_Y)
        np.testing.assert_array_equal(p.coef_, [w])
        np.testing.assert_array_equal(p.intercept_, [b])
        assert p.mistakes_.tolist() == [mistakes]
    fitted = Perceptron(shuffle=False).fit(AND_X, AND_Y)
    np.testing.assert_array_equal(fitted.coef_, [[2, 1]])
    assert fitted.intercept_.tolist() == [-2] and fitted.n_iter_ == 6 and fitted.converged_
    assert fitted.predict(AND_X).tolist() == AND_Y.tolist() and fitted.score(AND_X, AND_Y) == 1


def separable(seed: int, n: int = 300, d: int = 5, outputs: int = 3, min_margin: float = 0.05):
    """Gaussian inputs labelled by random unit separators u (in x~ space), a margin cut out."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Xt = np.hstack([X, np.ones((n, 1))])  # (n, d+1)
    U = rng.normal(size=(outputs, d + 1))
    U /= np.linalg.norm(U, axis=1, keepdims=True)  # (L, d+1), unit rows
    S = Xt @ U.T  # (n, L)
    keep = (np.abs(S) >= min_margin).all(axis=1)
    return X[keep], (S[keep] > 0).astype(int), Xt[keep], U


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shuffle", [False, True])
def test_mistakes_obey_the_convergence_theorem(seed, shuffle):
    X, Y, Xt, U = separable(seed)
    R = np.linalg.norm(Xt, axis=1).max()
    gamma = np.abs(Xt @ U.T).min(axis=0)  # (L,): margin of each true separator
    bound = (R / gamma) ** 2
    p = Perceptron(lr=0.37, max_iter=100_000, shuffle=shuffle, random_state=seed).fit(X, Y)
    assert p.converged_ and p.score(X, Y) == 1.0
    assert np.all(p.mistakes_ <= bound), (p.mistakes_, bound)
    assert np.all(p.mistakes_ > 0)
    # Each epoch before the clean one makes at least one mistake: epochs are bounded too.
    assert p.n_iter_ <= bound.max() + 1


def test_learning_rate_only_rescales_the_weights():
    X, Y, _, _ = separable(7)
    a = Perceptron(lr=1.0, random_state=1).fit(X, Y)
    b = Perceptron(lr=0.01, random_state=1).fit(X, Y)
    np.testing.assert_allclose(b.coef_, 0.01 * a.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.intercept_, 0.01 * a.intercept_, rtol=1e-9, atol=1e-12)
    assert a.n_iter_ == b.n_iter_ and a.mistakes_.tolist() == b.mistakes_.tolist()


def test_several_outputs_are_independent_perceptrons_side_by_side():
    X, Y, _, _ = separable(3, outputs=4)
    together = Perceptron(random_state=5, max_iter=10_000).fit(X, Y)
    for k in range(Y.shape[1]):
        alone = Perceptron(random_state=5, max_iter=10_000).fit(X, Y[:, k])
        np.testing.assert_array_equal(together.coef_[k], alone.coef_[0])
        assert together.intercept_[k] == alone.intercept_[0]
        assert together.mistakes_[k] == alone.mistakes_[0]
        assert alone.predict(X).shape == (len(X),)
    assert together.predict(X).shape == Y.shape


def test_partial_fit_in_chunks_is_one_epoch():
    X, Y, _, _ = separable(2)
    whole = Perceptron(shuffle=False).partial_fit(X, Y)
    chunked = Perceptron(shuffle=False)
    for part in np.array_split(np.arange(len(X)), 7):
        chunked.partial_fit(X[part], Y[part])
    np.testing.assert_array_equal(whole.coef_, chunked.coef_)
    np.testing.assert_array_equal(whole.intercept_, chunked.intercept_)


def test_without_intercept_the_threshold_stays_at_zero():
    p = Perceptron(shuffle=False, fit_intercept=False).fit(AND_X, AND_Y)
    assert p.intercept_.tolist() == [0.0]
    # AND needs a threshold: through the origin, (0, 0) always scores 0 and the rule cycles.
    assert not p.converged_ and p.n_iter_ == p.max_iter


def test_xor_never_converges():
    p = Perceptron(shuffle=False, max_iter=50).fit(AND_X, np.array([0, 1, 1, 0]))
    assert not p.converged_ and p.n_iter_ == 50 and p.score(AND_X, [0, 1, 1, 0]) < 1


def test_any_two_labels_are_the_0_1_targets():
    # the unit fires for the second of the sorted labels: the same weights as 0/1 targets
    labels = np.array(["off", "on"])
    named = Perceptron(shuffle=False).fit(AND_X, labels[AND_Y])
    plain = Perceptron(shuffle=False).fit(AND_X, AND_Y)
    np.testing.assert_array_equal(named.coef_, plain.coef_)
    assert named.classes_.tolist() == ["off", "on"] and plain.classes_.tolist() == [0, 1]
    assert named.predict(AND_X).tolist() == ["off", "off", "off", "on"]
    assert plain.predict(AND_X).dtype == np.int64
    # a first chunk with one label needs the other named
    chunked = Perceptron(shuffle=False).partial_fit(AND_X[:3], labels[AND_Y[:3]], classes=labels)
    chunked.partial_fit(AND_X[3:], labels[AND_Y[3:]])
    whole = Perceptron(shuffle=False).partial_fit(AND_X, labels[AND_Y])
    np.testing.assert_array_equal(chunked.coef_, whole.coef_)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"Only binary classification is supported: y holds 3"):
        Perceptron().fit(AND_X, [0, 2, 0, 1])
    with pytest.raises(ValueError, match=r"y holds 1 class \('on'\); a Perceptron separates 2"):
        Perceptron().fit(AND_X, ["on"] * 4)
    with pytest.raises(ValueError, match=r"y must hold 0/1 targets .* got values \[0, 1, 2\]"):
        Perceptron().fit(AND_X, np.c_[AND_Y, [0, 2, 0, 2]])
    with pytest.raises(ValueError, match="lr must be positive"):
        Perceptron(lr=0).fit(AND_X, AND_Y)
    with pytest.raises(ValueError, match="max_iter"):
        Perceptron(max_iter=0).fit(AND_X, AND_Y)
    p = Perceptron().partial_fit(AND_X, ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match=r"y holds the label 'c', not one of classes_"):
        p.partial_fit(AND_X, ["a", "c", "a", "b"])
    with pytest.raises(ValueError, match="y has 2 outputs, but this Perceptron learns 1"):
        Perceptron().partial_fit(AND_X, AND_Y).partial_fit(AND_X, np.c_[AND_Y, AND_Y])
