"""Every engine module against its PyTorch twin loaded with the same weights (float64).

A twin test builds the module in both libraries, copies torch's weights over through
``load_state_dict`` (which also checks that the parameter names and shapes agree), runs the
same input forward, back-propagates the same random weighting of the output, and compares
the output, the input's gradient and every parameter's gradient.
"""

import itertools

import numpy as np
import pytest
import torch

from genailab.engine import nn
from genailab.engine.tensor import Tensor

RTOL = 1e-9


def _load_from_torch(ours: nn.Module, theirs: torch.nn.Module) -> None:
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)  # same names, same order
    ours.load_state_dict(state)


def _check_twin(ours, theirs, x, rng, call=lambda m, x: m(x), out_index=None):
    """Compare forward values, input gradient and parameter gradients of two twins."""
    theirs = theirs.double()
    _load_from_torch(ours, theirs)
    x_ours = Tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = call(ours, x_ours), call(theirs, x_theirs)
    if out_index is not None:
        y_ours, y_theirs = y_ours[out_index], y_theirs[out_index]
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=RTOL, atol=1e-12)
    w = rng.normal(size=y_ours.shape)  # a generic scalar loss: sum(w * y)
    (y_ours * Tensor(w)).sum().backward()
    (y_theirs * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=RTOL, atol=1e-12)
    named = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(named)
    for name, p in ours.named_parameters():
        expected = named[name].grad.numpy()
        assert np.abs(expected).max() > 0, f"{name}: a zero gradient proves nothing"
        np.testing.assert_allclose(p.grad, expected, rtol=RTOL, atol=1e-12, err_msg=name)
    return y_ours


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, bias):
    x = rng.normal(size=(4, 3, 5))
    _check_twin(
        nn.Linear(5, 7, bias=bias, dtype=np.float64), torch.nn.Linear(5, 7, bias=bias), x, rng
    )


def test_linear_default_init_matches_torch_bounds():
    fc = nn.Linear(400, 300, rng=0)
    bound = 1 / np.sqrt(400)
    assert fc.weight.dtype == np.float32 and fc.weight.requires_grad
    assert np.abs(fc.weight.data).max() <= bound
    assert np.abs(fc.weight.data).max() > 0.99 * bound  # uniform over the whole interval
    np.testing.assert_array_equal(nn.Linear(400, 300, rng=0).weight.data, fc.weight.data)


def test_embedding_with_repeated_indices(rng):
    ours, theirs = nn.Embedding(10, 4, dtype=np.float64), torch.nn.Embedding(10, 4).double()
    _load_from_torch(ours, theirs)
    idx = np.array([[1, 2, 2, 9], [0, 2, 1, 1]])
    y, z = ours(idx), theirs(torch.from_numpy(idx))
    np.testing.assert_array_equal(y.data, z.detach().numpy())
    w = rng.normal(size=y.shape)
    (y * Tensor(w)).sum().backward()
    (z * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=RTOL)
    assert np.all(ours.weight.grad[[3, 4, 5, 6, 7, 8]] == 0)


@pytest.mark.parametrize("bias", [True, False])
def test_layer_norm(rng, bias):
    theirs = torch.nn.LayerNorm(6, eps=1e-5, bias=bias)
    with torch.no_grad():  # not ones and zeros, so that a swapped weight and bias would show
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.normal(size=p.shape)))
    x = rng.normal(2.0, 3.0, size=(3, 4, 6))
    _check_twin(nn.LayerNorm(6, bias=bias, dtype=np.float64), theirs, x, rng)


@pytest.mark.parametrize(
    ("kwargs"),
    [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2, bias=False)],
)
def test_conv1d(rng, kwargs):
    x = rng.normal(size=(2, 3, 11))
    ours = nn.Conv1d(3, 4, 3, dtype=np.float64, **kwargs)
    _check_twin(ours, torch.nn.Conv1d(3, 4, 3, **kwargs), x, rng)


@pytest.mark.parametrize(
    ("kernel", "kwargs"),
    [(3, dict()), ((3, 2), dict(stride=(2, 1), padding=1)), (3, dict(dilation=2, bias=False))],
)
def test_conv2d(rng, kernel, kwargs):
    x = rng.normal(size=(2, 3, 9, 8))
    ours = nn.Conv2d(3, 5, kernel, dtype=np.float64, **kwargs)
    _check_twin(ours, torch.nn.Conv2d(3, 5, kernel, **kwargs), x, rng)


def test_lstm_outputs_and_gradients(rng):
    ours, theirs = nn.LSTM(3, 5, dtype=np.float64), torch.nn.LSTM(3, 5, batch_first=True)
    x = rng.normal(size=(2, 7, 3))
    _check_twin(ours, theirs, x, rng, out_index=0)  # out (B, T, H) and every gradient
    x_t = torch.from_numpy(x)
    _, (h, c) = ours(Tensor(x))
    _, (th, tc) = theirs(x_t)
    np.testing.assert_allclose(h.data, th.detach().numpy(), rtol=RTOL)
    np.testing.assert_allclose(c.data, tc.detach().numpy(), rtol=RTOL)


def test_lstm_from_a_given_state_backpropagates_into_it(rng):
    ours, theirs = nn.LSTM(4, 3, dtype=np.float64), torch.nn.LSTM(4, 3, batch_first=True).double()
    _load_from_torch(ours, theirs)
    x = rng.normal(size=(2, 5, 4))
    h0, c0 = rng.normal(size=(1, 2, 3)), rng.normal(size=(1, 2, 3))
    oh, oc = Tensor(h0, requires_grad=True), Tensor(c0, requires_grad=True)
    th, tc = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    out, (h, c) = ours(x, (oh, oc))
    tout, (thn, tcn) = theirs(torch.from_numpy(x), (th, tc))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=RTOL)
    (out.sum() + (c * c).sum() + (h * h * h).sum()).backward()  # all three outputs in the loss
    (tout.sum() + (tcn * tcn).sum() + (thn * thn * thn).sum()).backward()
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=RTOL)
    np.testing.assert_allclose(oh.grad, th.grad.numpy(), rtol=RTOL)
    np.testing.assert_allclose(oc.grad, tc.grad.numpy(), rtol=RTOL)


class TorchMLP(torch.nn.Module):
    """The torch twin of nn.MLP: same layer names, same residual rule."""

    def __init__(self, sizes, activation, residual):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in itertools.pairwise(sizes)
        )
        self.act = {
            "relu": torch.relu,
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "gelu": torch.nn.functional.gelu,
        }[activation]
        self.residual = residual

    def forward(self, x):
        for layer in self.layers[:-1]:
            h = self.act(layer(x))
            same = layer.in_features == layer.out_features
            x = x + h if self.residual and same else h
        return self.layers[-1](x)


@pytest.mark.parametrize(
    ("activation", "residual"),
    [("relu", False), ("tanh", True), ("sigmoid", False), ("gelu", True)],
)
def test_mlp(rng, activation, residual):
    sizes = [6, 8, 8, 3]
    ours = nn.MLP(sizes, activation=activation, residual=residual, dtype=np.float64)
    x = rng.normal(size=(10, 6))
    _check_twin(ours, TorchMLP(sizes, activation, residual), x, rng)


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match=r"relu, tanh, sigmoid, gelu, got 'swish'"):
        nn.MLP([2, 2], activation="swish")


# ---- Dropout ---------------------------------------------------------------------------------


def test_dropout_statistics_and_gradient():
    p = 0.3
    drop = nn.Dropout(p, rng=0)
    x = Tensor(np.full((400, 500), 2.0), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    n = kept.size
    assert abs((1 - kept.mean()) - p) < 4 * np.sqrt(p * (1 - p) / n)  # binomial, 4 sigma
    np.testing.assert_allclose(y.data[kept], 2.0 / (1 - p))  # inverted dropout scale
    assert abs(y.data.mean() - 2.0) < 0.02  # the expectation is kept
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / (1 - p))  # the same mask on the way back
    assert not np.array_equal(drop(x).data != 0, kept)  # a fresh mask each call


def test_dropout_is_identity_in_eval_and_at_zero():
    x = Tensor(np.arange(6.0))
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match=r"p=1\.5"):
        nn.Dropout(1.5)


def test_train_and_eval_reach_every_submodule():
    model = nn.GPT(
        nn.GPTConfig(vocab_size=5, block_size=4, n_layer=2, n_head=1, n_embd=4, dropout=0.5)
    )
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == 1 + 2 * 3
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    idx = np.zeros((1, 4), dtype=int)
    model.eval()
    np.testing.assert_array_equal(model(idx)[0].data, model(idx)[0].data)  # deterministic


# ---- Module: names, state_dict, containers ---------------------------------------------------


def test_sequential_and_module_list_names_match_torch(rng):
    ours = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Linear(4, 2, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    _check_twin(ours, theirs, rng.normal(size=(5, 3)), rng)
    assert len(ours) == 2 and ours[-1] is ours[1]
    with pytest.raises(IndexError):
        ours[2]


def test_state_dict_round_trip(rng):
    a = nn.MLP([4, 8, 2], rng=1)
    b = nn.MLP([4, 8, 2], rng=2)
    x = Tensor(rng.normal(size=(3, 4)).astype(np.float32))
    assert not np.allclose(a(x).data, b(x).data)
    state = a.state_dict()
    state["layers.0.weight"] += 1.0  # a copy: editing it leaves the model alone
    assert not np.allclose(a.layers[0].weight.data, state["layers.0.weight"])
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert b.state_dict().keys() == a.state_dict().keys()


def test_load_state_dict_errors_name_the_key():
    model = nn.MLP([4, 8, 2], rng=0)
    state = model.state_dict()
    before = model.layers[0].weight.data.copy()
    wrong = {
        **state,
        "layers.1.weight": np.zeros((8, 2)),
        "layers.0.weight": state["layers.0.weight"] + 1,
    }
    with pytest.raises(ValueError, match=r"'layers\.1\.weight' has shape \(8, 2\).*\(2, 8\)"):
        model.load_state_dict(wrong)
    np.testing.assert_array_equal(model.layers[0].weight.data, before)  # nothing was loaded
    missing = {k: v for k, v in state.items() if k != "layers.1.bias"}
    with pytest.raises(ValueError, match=r"missing keys \['layers\.1\.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        model.load_state_dict({**state, "extra": np.zeros(1)})
    model.load_state_dict({"layers.1.bias": np.ones(2)}, strict=False)
    np.testing.assert_array_equal(model.layers[1].bias.data, [1.0, 1.0])


def test_zero_grad_and_custom_module():
    class Net(nn.Module):
        def __init__(self):
            self.body = nn.ModuleList([nn.Linear(2, 3, rng=0)])
            self.scale = Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
            self.frozen = Tensor(np.ones(1, dtype=np.float32))  # no grad: not a parameter

        def forward(self, x):
            return self.body[0](x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.0.weight", "body.0.bias"]
    net(np.ones((1, 2), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.num_parameters() == 1 + 6 + 3
    assert "Linear(2, 3, bias=True)" in repr(net)


def test_module_dict():
    d = nn.ModuleDict(a=nn.Linear(1, 2, rng=0))
    d["b"] = nn.Linear(2, 1, rng=0)
    assert list(d) == ["a", "b"] and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    with pytest.raises(KeyError):
        d["c"]
    with pytest.raises(TypeError, match="Modules"):
        d["c"] = 3
