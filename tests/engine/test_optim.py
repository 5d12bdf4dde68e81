"""The engine's optimizers against torch.optim, step for step, in float64."""

import itertools
import math

import numpy as np
import pytest
import torch

from genailab.engine import functional as F
from genailab.engine import nn
from genailab.engine.optim import (
    SGD,
    Adam,
    AdamW,
    Evolution,
    clip_grad_norm,
    cosine_with_warmup,
)
from genailab.engine.tensor import Tensor

SHAPES = [(3, 4), (4,), (2, 3, 2)]


def _grad(p: np.ndarray, i: int) -> np.ndarray:
    """A gradient that depends on the parameters (so a wrong step changes every later one)."""
    return (i + 1) * (p - 0.3) + 0.5 * np.sin(3.0 * p) + 0.01 * (i - 1)


def _pair(seed: int = 0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in SHAPES]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def _set_grads(ours, theirs):
    for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
        p.grad = _grad(p.data, i)
        q.grad = torch.from_numpy(_grad(q.detach().numpy(), i))


def _run(opt, ours, theirs, topt, steps, lrs=None):
    for s in range(steps):
        if lrs is not None:
            opt.lr = lrs[s]
            for g in topt.param_groups:
                g["lr"] = lrs[s]
        _set_grads(ours, theirs)
        opt.step()
        topt.step()


def _assert_same(ours, theirs, rtol=1e-12):
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=rtol, atol=1e-14)


CASES = [
    (SGD, torch.optim.SGD, dict(lr=0.05)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    (Adam, torch.optim.Adam, dict(lr=0.01)),
    (Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    (AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (AdamW, torch.optim.AdamW, dict(lr=0.03, betas=(0.85, 0.99), weight_decay=0.3)),
]


@pytest.mark.parametrize(("ours_cls", "torch_cls", "kwargs"), CASES)
def test_matches_torch_after_many_steps(ours_cls, torch_cls, kwargs):
    ours, theirs = _pair()
    opt, topt = ours_cls(ours, **kwargs), torch_cls(theirs, **kwargs)
    _run(opt, ours, theirs, topt, steps=12)
    _assert_same(ours, theirs)
    start, _ = _pair()
    assert not np.allclose(ours[0].data, start[0].data)  # it did move


@pytest.mark.parametrize(("ours_cls", "torch_cls", "kwargs"), CASES[1::2])
def test_matches_torch_under_a_schedule_and_param_groups(ours_cls, torch_cls, kwargs):
    ours, theirs = _pair(1)
    kw = {k: v for k, v in kwargs.items() if k != "lr"}
    opt = ours_cls([{"params": ours[:2]}, {"params": ours[2:], "weight_decay": 0.0}], **kwargs)
    topt = torch_cls([{"params": theirs[:2]}, {"params": theirs[2:], "weight_decay": 0.0}], **kw)
    lrs = [cosine_with_warmup(s, 3, 10, 0.05, 0.005) for s in range(10)]
    _run(opt, ours, theirs, topt, steps=10, lrs=lrs)
    _assert_same(ours, theirs)
    assert opt.lr == lrs[-1]


def test_adamw_decay_is_decoupled_and_adam_is_not():
    # with a zero gradient Adam's L2 term still moves the weights through the moments, AdamW
    # only shrinks them by lr * wd; a mix-up of the two shows here
    w1, w2 = (
        Tensor(np.array([2.0]), requires_grad=True),
        Tensor(np.array([2.0]), requires_grad=True),
    )
    a, b = Adam([w1], lr=0.1, weight_decay=0.5), AdamW([w2], lr=0.1, weight_decay=0.5)
    w1.grad, w2.grad = np.zeros(1), np.zeros(1)
    a.step()
    b.step()
    assert w1.data[0] == pytest.approx(2.0 - 0.1)  # first Adam step: lr * sign(g + wd w)
    assert w2.data[0] == pytest.approx(2.0 * (1 - 0.1 * 0.5))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(SGD, dict(lr=0.05, momentum=0.9)), (Adam, dict(lr=0.01)), (AdamW, dict(lr=0.02))],
)
def test_state_dict_resume_equals_straight_run(cls, kwargs):
    straight, _ = _pair(2)
    opt = cls(straight, **kwargs)
    for _ in range(10):
        for i, p in enumerate(straight):
            p.grad = _grad(p.data, i)
        opt.step()

    first, _ = _pair(2)
    opt1 = cls(first, **kwargs)
    for _ in range(5):
        for i, p in enumerate(first):
            p.grad = _grad(p.data, i)
        opt1.step()
    saved = opt1.state_dict()
    params = {i: p.data.copy() for i, p in enumerate(first)}
    for p in first:  # the saved state is a copy: later updates must not leak into it
        p.data += 1.0
    opt1.step()

    resumed = [Tensor(params[i], requires_grad=True) for i in range(len(first))]
    opt2 = cls(resumed, **{**kwargs, "lr": 123.0})  # lr comes back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.lr == kwargs["lr"]
    for _ in range(5):
        for i, p in enumerate(resumed):
            p.grad = _grad(p.data, i)
        opt2.step()
    for p, q in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_a_different_model():
    ours, _ = _pair()
    opt = Adam(ours, lr=0.1)
    for i, p in enumerate(ours):
        p.grad = _grad(p.data, i)
    opt.step()
    other = [Tensor(np.zeros((4, 3)), requires_grad=True), *ours[1:]]
    with pytest.raises(ValueError, match=r"shape \(3, 4\).*\(4, 3\)"):
        Adam(other).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="groups of sizes"):
        Adam(ours[:2]).load_state_dict(opt.state_dict())


def test_parameter_validation():
    w = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        Adam([])
    with pytest.raises(ValueError, match="twice"):
        SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        AdamW([{"params": [w], "momentum": 0.9}])
    with pytest.raises(ValueError, match="betas"):
        Adam([w], betas=(0.9, 1.0))


def test_params_without_grad_are_skipped_and_zero_grad_clears():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = AdamW([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, np.ones(2))  # no grad: untouched, even the decay
    assert not opt.state[1]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_float32_parameters_stay_float32():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for opt in (SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1), Adam([w]), AdamW([w])):
        w.grad = np.ones(3, dtype=np.float32)
        opt.step()
        assert w.data.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[0].values() if hasattr(v, "dtype"))


# ---- schedule --------------------------------------------------------------------------------


def test_cosine_with_warmup_shape():
    lr = [cosine_with_warmup(s, 10, 110, 1.0, 0.1) for s in range(130)]
    assert lr[0] == pytest.approx(0.1) and lr[9] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(lr[:10]))  # warmup rises
    assert lr[10] == pytest.approx(1.0)
    assert lr[60] == pytest.approx(0.55)  # halfway down the cosine: the mean
    assert all(a >= b for a, b in itertools.pairwise(lr[10:111]))  # then falls
    assert lr[110:] == [0.1] * 20
    assert cosine_with_warmup(35, 10, 110, 1.0, 0.1) == pytest.approx(
        0.1 + 0.45 * (1 + math.cos(math.pi * 0.25))
    )
    assert cosine_with_warmup(0, 0, 10, 2.0) == 2.0  # no warmup
    with pytest.raises(ValueError, match="warmup"):
        cosine_with_warmup(0, 10, 5, 1.0)


# ---- gradient clipping -----------------------------------------------------------------------


@pytest.mark.parametrize(("max_norm", "norm_type"), [(0.5, 2.0), (100.0, 2.0), (0.3, math.inf)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    ours, theirs = _pair(3)
    _set_grads(ours, theirs)
    ours.append(Tensor(np.ones(2), requires_grad=True))  # no gradient: skipped by both
    theirs.append(torch.ones(2, dtype=torch.float64, requires_grad=True))
    total = clip_grad_norm(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total == pytest.approx(expected.item(), rel=1e-13)
    for p, q in zip(ours[:-1], theirs[:-1], strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-13)
    if max_norm < total:
        joint = np.linalg.norm(np.concatenate([p.grad.ravel() for p in ours[:-1]]), norm_type)
        assert joint == pytest.approx(max_norm, rel=1e-5)


# ---- evolution -------------------------------------------------------------------------------


def _regression_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 3))
    y = np.tanh(X @ np.array([[1.5], [-2.0], [0.5]])) + 0.05 * rng.normal(size=(64, 1))
    model = nn.MLP([3, 8, 1], activation="tanh", rng=seed, dtype=np.float64)

    def loss_fn():
        return F.mse(model(Tensor(X)), Tensor(y)).item()

    return model, loss_fn


def test_evolution_never_rises_and_really_learns():
    model, loss_fn = _regression_problem()
    start = loss_fn()
    opt = Evolution(model.parameters(), sigma=0.05, rng=0)
    losses = [opt.step(loss_fn) for _ in range(300)]
    assert all(b <= a for a, b in itertools.pairwise(losses))
    assert losses[0] <= start
    assert losses[-1] < 0.3 * start
    assert 0 < opt.accepted < 300
    assert loss_fn() == losses[-1]  # the parameters in place are the ones that scored it


def test_evolution_rejected_children_leave_parameters_bit_identical():
    w = Tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    opt = Evolution([w], sigma=1.0, population=4, rng=1)
    for _ in range(20):
        assert opt.step(lambda: 1.0) == 1.0  # nothing is ever strictly better
    np.testing.assert_array_equal(w.data, [0.1, 0.2, 0.3])
    assert opt.accepted == 0


def test_evolution_population_with_sigma_schedule():
    model, loss_fn = _regression_problem(1)
    start = loss_fn()
    calls = []

    def schedule(step):
        calls.append(step)
        return 0.2 * 0.98**step

    opt = Evolution(model.parameters(), population=8, sigma_schedule=schedule, rng=2)
    losses = [opt.step(loss_fn) for _ in range(100)]
    assert calls == list(range(100))
    assert all(b <= a for a, b in itertools.pairwise(losses))
    assert losses[-1] < 0.3 * start
    # a bigger population finds a better child than one mutation does, on the same budget of steps
    model1, loss_fn1 = _regression_problem(1)
    single = Evolution(model1.parameters(), sigma_schedule=lambda s: 0.2 * 0.98**s, rng=2)
    for _ in range(100):
        single.step(loss_fn1)
    assert losses[-1] < single.loss


def test_evolution_state_dict_resumes():
    w = Tensor(np.array([3.0, -2.0]), requires_grad=True)

    def loss():
        return float((w.data**2).sum())

    opt = Evolution([w], sigma=0.3, rng=5)
    for _ in range(5):
        opt.step(loss)
    saved, data = opt.state_dict(), w.data.copy()
    straight = [opt.step(loss) for _ in range(5)]
    w.data[...] = data
    opt2 = Evolution([w], sigma=0.3, rng=99)
    opt2.load_state_dict(saved)
    assert [opt2.step(loss) for _ in range(5)] == straight


def test_evolution_validation():
    w = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="sigma"):
        Evolution([w], sigma=0.0)
    with pytest.raises(ValueError, match="population"):
        Evolution([w], population=0)
