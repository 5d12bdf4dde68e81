"""SineNetwork against its references: numpy's least squares for the outer layer alone, and
PyTorch's autograd and Adam, step for step in float64, for gradient descent on both layers."""

import numpy as np
import pytest
import torch

from genailab.engine.optim import cosine_with_warmup
from genailab.learn import SineNetwork

X = np.linspace(0.0, 1.0, 120)
Y = np.sin(2 * np.pi * 2.0 * X + 0.3) + 0.5 * np.sin(2 * np.pi * 5.0 * X + 1.1)


def test_lstsq_solver_is_numpy_least_squares():
    net = SineNetwork(10, train_hidden=False, solver="lstsq", random_state=3).fit(X, Y)
    design = np.column_stack([np.sin(np.outer(X, net.frequencies_) + net.phases_), np.ones_like(X)])
    coef, *_ = np.linalg.lstsq(design, Y, rcond=None)
    np.testing.assert_allclose(net.amplitudes_, coef[:-1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(float(net.intercept_), coef[-1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(net.loss_curve_[-1], np.mean((design @ coef - Y) ** 2), rtol=1e-10)
    assert net.n_iter_ == 0 and len(net.loss_curve_) == 1
    np.testing.assert_allclose(net.predict(X), design @ coef, atol=1e-10)


def test_gradient_descent_on_the_outer_layer_approaches_the_lstsq_floor_from_above():
    kw = dict(n_units=5, train_hidden=False, max_frequency=4.0, random_state=1)
    floor = SineNetwork(solver="lstsq", **kw).fit(X, Y).loss_curve_[-1]
    adam = SineNetwork(solver="adam", steps=3000, learning_rate=0.05, **kw).fit(X, Y)
    curve = np.array(adam.loss_curve_)
    assert curve.min() >= floor * (1 - 1e-9)  # the least-squares optimum is a lower bound
    assert curve[-1] <= floor * (1 + 1e-3)
    start = SineNetwork(solver="lstsq", **kw).fit(X, Y)
    np.testing.assert_array_equal(adam.frequencies_, start.frequencies_)  # hidden layer frozen
    np.testing.assert_array_equal(adam.phases_, start.phases_)


def test_both_layers_match_torch_autograd_and_adam_step_for_step():
    steps, lr = 30, 0.05
    net = SineNetwork(6, steps=steps, learning_rate=lr, random_state=7)
    start = SineNetwork(6, steps=0, random_state=7).fit(X, Y)
    w, b, a, c = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for v in (start.frequencies_, start.phases_, start.amplitudes_, start.intercept_)
    )
    opt = torch.optim.Adam([a, c, w, b], lr=lr)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    losses = []
    for t in range(steps + 1):
        loss = ((torch.sin(x[:, None] * w + b) @ a + c - y) ** 2).mean()
        losses.append(loss.item())
        if t == steps:
            break
        for group in opt.param_groups:
            group["lr"] = cosine_with_warmup(t, 0, steps, lr, lr / 100)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.fit(X, Y)
    np.testing.assert_allclose(net.loss_curve_, losses, rtol=1e-10)
    for ours, theirs in zip(
        (net.frequencies_, net.phases_, net.amplitudes_, net.intercept_), (w, b, a, c), strict=True
    ):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_learning_the_hidden_layer_beats_random_features_of_the_same_size():
    var = Y.var()
    outer = SineNetwork(6, train_hidden=False, solver="lstsq", random_state=1).fit(X, Y)
    both = SineNetwork(6, steps=1500, random_state=1).fit(X, Y)
    assert outer.loss_curve_[-1] / var > 0.1
    assert both.loss_curve_[-1] / var < 1e-12
    assert both.score(X, Y) > 0.999999 > 0.9 > outer.score(X, Y)
    # two units slid onto the two components of the signal, with their amplitudes and phases
    # (the descent is not convex: other random starts can end in a local minimum)
    big = np.abs(both.amplitudes_) > 0.01
    np.testing.assert_allclose(np.sort(both.frequencies_[big]) / (2 * np.pi), [2.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(np.sort(np.abs(both.amplitudes_[big])), [0.5, 1.0], atol=1e-6)


def test_same_random_state_same_start_in_every_mode():
    nets = [
        SineNetwork(7, train_hidden=True, steps=0, random_state=5),
        SineNetwork(7, train_hidden=False, steps=0, random_state=5),
        SineNetwork(7, train_hidden=False, solver="lstsq", random_state=5),
    ]
    for net in nets:
        net.fit(X, Y)
    for net in nets[1:]:
        np.testing.assert_array_equal(net.frequencies_, nets[0].frequencies_)
        np.testing.assert_array_equal(net.phases_, nets[0].phases_)
    assert np.all(nets[0].amplitudes_ == 0) and float(nets[0].intercept_) == 0
    assert np.all(nets[0].frequencies_ >= 0) and np.all(nets[0].frequencies_ <= 2 * np.pi * 12)
    again = SineNetwork(7, steps=50, random_state=5).fit(X, Y)
    repeat = SineNetwork(7, steps=50, random_state=5).fit(X, Y)
    np.testing.assert_array_equal(repeat.phases_, again.phases_)


def test_fit_steps_yields_every_step_with_the_current_network():
    net = SineNetwork(4, steps=20, random_state=0)
    seen = []
    for t in net.fit_steps(X[:, None], Y):  # (n, 1) inputs are accepted too
        seen.append((t, net.predict(X[:3]).copy(), net.loss_curve_[-1]))
    assert [t for t, _, _ in seen] == list(range(21)) and net.n_iter_ == 20
    np.testing.assert_array_equal(seen[0][1], np.zeros(3))  # every mode starts from y = 0
    assert not np.array_equal(seen[-1][1], seen[0][1])
    loss = seen[-1][2]
    np.testing.assert_allclose(loss, np.mean((net.predict(X) - Y) ** 2), rtol=1e-12)
    assert net.features(X).shape == (len(X), 4)


def test_score_is_the_coefficient_of_determination():
    net = SineNetwork(5, train_hidden=False, solver="lstsq", random_state=2).fit(X, Y)
    r2 = 1 - np.sum((Y - net.predict(X)) ** 2) / np.sum((Y - Y.mean()) ** 2)
    assert net.score(X, Y) == pytest.approx(r2, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_units=0), "n_units must be an integer of at least 1, got 0"),
        (dict(solver="lstsq"), "needs train_hidden=False"),
        (dict(solver="sgd"), "solver must be 'adam' or 'lstsq', got 'sgd'"),
        (dict(steps=-1), "steps must be at least 0, got -1"),
        (dict(max_frequency=0.0), "max_frequency must be positive"),
        (dict(learning_rate=-1.0), "learning_rate must be positive"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        SineNetwork(**kwargs).fit(X, Y)


def test_one_feature_only():
    with pytest.raises(ValueError, match=r"X has 2 feature\(s\), but SineNetwork is defined for 1"):
        SineNetwork(steps=1).fit(X.reshape(60, 2), Y[:60])
    net = SineNetwork(4, train_hidden=False, solver="lstsq", random_state=0).fit(X[:, None], Y)
    np.testing.assert_array_equal(net.predict(X), net.predict(X[:, None]))  # (n,) or (n, 1)
