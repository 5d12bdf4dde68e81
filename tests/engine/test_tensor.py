"""The Tensor core against PyTorch autograd: every op's values and gradients, in float64.

Shapes are drawn by hypothesis (broadcasting in both directions, size-1 axes, 0-d tensors,
mixed ranks); values come from a seeded numpy generator. Each test builds the same
expression in the engine and in torch, backpropagates the same random upstream gradient
through both, and compares the results to rtol 1e-10.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genailab.engine import Tensor, is_grad_enabled, no_grad
from torch_reference import compare, values

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None)
seeds = st.integers(0, 2**32 - 1)


# ============================================================================================
# Arithmetic with broadcasting
# ============================================================================================

BINARY = {
    "add": (lambda a, b: a + b, "normal", "normal"),
    "sub": (lambda a, b: a - b, "normal", "normal"),
    "mul": (lambda a, b: a * b, "normal", "normal"),
    "div": (lambda a, b: a / b, "normal", "nonzero"),
    "pow": (lambda a, b: a**b, "positive", "normal"),
}


@FAST
@given(
    op=st.sampled_from(sorted(BINARY)),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    seed=seeds,
)
def test_binary_ops_broadcast_like_torch(op, shapes, seed):
    f, kind_a, kind_b = BINARY[op]
    a = values(shapes.input_shapes[0], seed, kind_a)
    b = values(shapes.input_shapes[1], seed + 7, kind_b)
    compare(f, f, a, b, seed=seed)


@FAST
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=seeds,
)
def test_constant_operands_on_either_side(shapes, seed):
    c = values(shapes.input_shapes[1], seed + 3, "nonzero")  # a numpy constant, no grad

    def f(x, is_torch):
        k = torch.from_numpy(c) if is_torch else c
        return (2.0 - x) * k + 3.0 / (x + 10.0) - k / 4.0 + 1.5**x - (k - x) + x / k

    compare(
        lambda x: f(x, False),
        lambda x: f(x, True),
        values(shapes.input_shapes[0], seed, "normal"),
        seed=seed,
    )


@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -1.5, 1, 0])
def test_pow_with_scalar_exponent(p):
    x = values((3, 4), 10, "positive")
    compare(lambda t: t**p, lambda t: t**p, x)


def test_same_tensor_on_both_sides_and_fan_out():
    x = values((4, 3), 1)
    compare(
        lambda t: (t * t + t - t / (t * t + 1.0)).sum(axis=0) * t[0],
        lambda t: (t * t + t - t / (t * t + 1.0)).sum(dim=0) * t[0],
        x,
    )


def test_numpy_array_on_the_left_gives_a_tensor():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = np.full((2, 3), 2.0) * x + np.ones(3)
    assert isinstance(y, Tensor)
    z = np.ones((4, 2)) @ x
    assert isinstance(z, Tensor) and z.shape == (4, 3)
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 6.0))


# ============================================================================================
# Matmul
# ============================================================================================


@FAST
@given(
    case=st.sampled_from(["1@1", "1@2", "2@1", "2@2", "b@b", "1@b", "b@1", "b@2", "2@b"]),
    nkm=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3),
    seed=seeds,
)
def test_matmul_like_torch(case, nkm, batch, seed):
    n, k, m = nkm
    left, right = case.split("@")
    shape_a = {"1": (k,), "2": (n, k), "b": (*batch.input_shapes[0], n, k)}[left]
    shape_b = {"1": (k,), "2": (k, m), "b": (*batch.input_shapes[1], k, m)}[right]
    a, b = values(shape_a, seed), values(shape_b, seed + 1)
    compare(lambda x, y: x @ y, lambda x, y: x @ y, a, b, seed=seed)


def test_matmul_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="batch axes"):
        Tensor(np.ones((2, 1, 3))) @ Tensor(np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


# ============================================================================================
# Reductions
# ============================================================================================

REDUCTIONS = {
    "sum": (lambda x, a, k: x.sum(axis=a, keepdims=k), lambda t, d, k: t.sum(dim=d, keepdim=k)),
    "mean": (
        lambda x, a, k: x.mean(axis=a, keepdims=k),
        lambda t, d, k: t.mean(dim=d, keepdim=k),
    ),
    "var": (
        lambda x, a, k: x.var(axis=a, keepdims=k),
        lambda t, d, k: t.var(dim=d, correction=0, keepdim=k),
    ),
    "max": (
        lambda x, a, k: x.max(axis=a, keepdims=k),
        lambda t, d, k: t.amax(dim=d, keepdim=k),  # amax splits ties evenly, like ours
    ),
}


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    op=st.sampled_from(sorted(REDUCTIONS)),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
    keepdims=st.booleans(),
    ties=st.booleans(),
    data=st.data(),
)
def test_reductions_like_torch(op, shape, keepdims, ties, data):
    nd = len(shape)
    axis = data.draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1),
            st.lists(
                st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda a: a % nd
            ).map(tuple),
        ),
        label="axis",
    )
    dim = tuple(range(nd)) if axis is None else axis
    f, g = REDUCTIONS[op]
    x = values(shape, data.draw(seeds, label="seed"), "ties" if ties else "normal")
    compare(lambda t: f(t, axis, keepdims), lambda t: g(t, dim, keepdims), x)


def test_max_splits_the_gradient_among_ties():
    x = Tensor([[1.0, 5.0, 5.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    y = Tensor([3.0, 3.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad, [0.5, 0.5])


def test_reductions_of_a_zero_dim_tensor():
    for name in ("sum", "mean", "max", "var"):
        x = Tensor(2.5, requires_grad=True, dtype=np.float64)
        y = getattr(x, name)()
        y.backward()
        expected = {"sum": 2.5, "mean": 2.5, "max": 2.5, "var": 0.0}[name]
        assert y.shape == () and y.item() == expected
        assert x.grad == (0.0 if name == "var" else 1.0)


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda x: x.sum(axis=2), "2"),
        (lambda x: x.mean(axis=-3), "-3"),
        (lambda x: x.max(axis=(0, 5)), r"\(0, 5\)"),
        (lambda x: x.var(axis=(1, -1)), "repeats"),
        (lambda x: x.softmax(axis=2), "2"),
        (lambda x: x.swapaxes(0, 4), "axis 4"),
    ],
)
def test_bad_axis_is_a_clear_error(call, bad):
    with pytest.raises(ValueError, match=bad):
        call(Tensor(np.ones((2, 3))))


# ============================================================================================
# Elementwise functions
# ============================================================================================

UNARY = {
    "neg": (lambda x: -x, lambda t: -t, "normal"),
    "exp": (lambda x: x.exp(), torch.exp, "normal"),
    "log": (lambda x: x.log(), torch.log, "positive"),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, "positive"),
    "tanh": (lambda x: x.tanh(), torch.tanh, "normal"),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, "normal"),
    "sigmoid_wide": (lambda x: x.sigmoid(), torch.sigmoid, "wide"),
    "relu": (lambda x: x.relu(), torch.relu, "normal"),
    "sin": (lambda x: x.sin(), torch.sin, "normal"),
    "cos": (lambda x: x.cos(), torch.cos, "normal"),
    "abs": (lambda x: x.abs(), torch.abs, "normal"),
}


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(
    name=st.sampled_from(sorted(UNARY)),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    seed=seeds,
)
def test_elementwise_like_torch(name, shape, seed):
    f, g, kind = UNARY[name]
    compare(f, g, values(shape, seed, kind), seed=seed)


def test_relu_and_abs_at_zero_like_torch():
    x = np.array([-1.0, 0.0, -0.0, 2.0, 0.0])
    compare(lambda t: t.relu() * 3.0 + t.abs(), lambda t: t.relu() * 3.0 + t.abs(), x)


def test_sigmoid_is_stable_for_huge_inputs():
    x = Tensor([-1e4, -800.0, 0.0, 800.0, 1e4], requires_grad=True, dtype=np.float64)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.isfinite(x.grad).all()


# ============================================================================================
# Shapes
# ============================================================================================


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_reshape_transpose_swapaxes_like_torch(shape, data):
    nd = len(shape)
    x = values(shape, data.draw(seeds, label="seed"))
    new = data.draw(st.sampled_from([(-1,), (shape[-1], -1), tuple(reversed(shape))]))
    perm = tuple(data.draw(st.permutations(range(nd)), label="perm"))
    a1, a2 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    compare(
        lambda t: t.reshape(*new).reshape(shape).transpose(*perm).swapaxes(a1, a2).T * 1.5,
        lambda t: (
            reverse_axes(t.reshape(*new).reshape(shape).permute(*perm).transpose(a1, a2)) * 1.5
        ),
        x,
    )


def reverse_axes(t):
    """torch's spelling of numpy's ``.T`` for any rank."""
    return t.permute(*reversed(range(t.ndim)))


def test_reshape_accepts_a_tuple_and_rejects_a_wrong_size():
    x = Tensor(np.arange(6.0))
    assert x.reshape((2, 3)).shape == (2, 3) and x.reshape(3, -1).shape == (3, 2)
    assert x.transpose().shape == (6,) and Tensor(np.zeros((2, 3))).T.shape == (3, 2)
    with pytest.raises(ValueError, match=r"shape \(6,\).*\(4, 2\)"):
        x.reshape(4, 2)


# ============================================================================================
# Indexing
# ============================================================================================


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_basic_slicing_like_torch(shape, data):
    idx = tuple(
        data.draw(
            st.one_of(st.slices(n).filter(lambda s: (s.step or 1) > 0), st.integers(-n, n - 1)),
            label=f"axis {i}",
        )
        for i, n in enumerate(shape)
    )
    x = values(shape, data.draw(seeds, label="seed"))
    compare(lambda t: t[idx], lambda t: t[idx], x)


@FAST
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    seed=seeds,
    case=st.sampled_from(["axis0", "axis1", "pair", "with_slice", "bool_full", "bool_rows"]),
)
def test_advanced_indexing_like_torch(rows, cols, seed, case):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, rows, size=7)  # 7 draws from <= 6 rows: repeats guaranteed
    j = rng.integers(-cols, cols, size=7)
    idx = {
        "axis0": i,
        "axis1": (slice(None), j),
        "pair": (i, j),
        "with_slice": (i, slice(1, None)),
        "bool_full": rng.random((rows, cols)) > 0.5,
        "bool_rows": rng.random(rows) > 0.3,
    }[case]
    torch_idx = (
        tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k for k in idx)
        if isinstance(idx, tuple)
        else torch.from_numpy(idx)
    )
    compare(lambda t: t[idx], lambda t: t[torch_idx], values((rows, cols), seed), seed=seed)


@FAST
@given(
    vocab=st.integers(1, 8),
    B=st.integers(1, 3),
    T=st.integers(1, 5),
    C=st.integers(1, 4),
    seed=seeds,
)
def test_embedding_lookup_accumulates_repeated_rows(vocab, B, T, C, seed):
    idx = np.random.default_rng(seed).integers(0, vocab, size=(B, T))
    compare(lambda W: W[idx], lambda W: W[torch.from_numpy(idx)], values((vocab, C), seed))


def test_negative_steps_ellipsis_and_new_axes():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[::-1, None, ..., 1::2]
    assert y.shape == (3, 1, 2)
    np.testing.assert_array_equal(y.data[:, 0], [[9.0, 11.0], [5.0, 7.0], [1.0, 3.0]])
    (y * Tensor(np.arange(6.0).reshape(3, 1, 2))).sum().backward()
    expected = np.zeros((3, 4))
    expected[::-1, 1::2] = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(x.grad, expected)


# ============================================================================================
# Softmax
# ============================================================================================


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), data=st.data())
def test_softmax_and_log_softmax_like_torch(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    scale = data.draw(st.sampled_from([1.0, 1e4]), label="scale")
    x = values(shape, data.draw(seeds, label="seed")) * scale
    compare(lambda t: t.softmax(axis), lambda t: t.softmax(axis), x)
    compare(lambda t: t.log_softmax(axis), lambda t: t.log_softmax(axis), x)


def test_softmax_of_huge_logits_has_no_overflow():
    x = Tensor([[1e4, 0.0, -1e4], [5e3, 5e3, 5e3]], requires_grad=True, dtype=np.float64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # any of them fails
        s, ls = x.softmax(), x.log_softmax()
        (s.sum() + ls.sum()).backward()
    np.testing.assert_allclose(s.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-12)
    np.testing.assert_allclose(ls.data[0], [0.0, -1e4, -2e4], rtol=1e-12)
    assert np.isfinite(x.grad).all()


# ============================================================================================
# Backward: graph traversal, accumulation, seeding
# ============================================================================================


def test_a_chain_of_20000_ops_backpropagates_without_recursion():
    assert sys.getrecursionlimit() < 20_000  # a recursive topological sort would fail here
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**20_000, rtol=1e-10)


def test_gradients_accumulate_until_zeroed():
    x = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float64)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()  # the same graph twice
    (x * 3.0).sum().backward()  # and another graph
    np.testing.assert_array_equal(x.grad, 2 * 2 * x.data + 3.0)
    buffer = x.grad
    (x * 1.0).sum().backward()
    assert x.grad is buffer  # accumulated in place once the buffer exists
    x.zero_grad()
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_diamond_graph_counts_every_path_once():
    x = Tensor(2.0, requires_grad=True, dtype=np.float64)
    a = x * 3.0
    b = a.exp()
    c = a * a
    (b + c + a).backward()  # d/dx = 3 e^{3x} + 18 x + 3
    np.testing.assert_allclose(x.grad, 3 * np.exp(6.0) + 36.0 + 3.0, rtol=1e-12)


def test_backward_needs_a_scalar_or_a_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"scalar.*\(2, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3,\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 2.0))
    Tensor(np.ones((1, 1)), requires_grad=True).sum(keepdims=True).backward()  # size 1: fine
    with pytest.raises(ValueError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_a_leaf_can_be_the_root():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# ============================================================================================
# dtypes
# ============================================================================================


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.0, np.float32),
        (3, np.float32),
        ([1.0, 2.0], np.float32),
        (np.arange(3), np.float32),
        (np.zeros(2, np.float16), np.float32),
        (np.array([True, False]), np.float32),
        (np.zeros(2, np.float32), np.float32),
        (np.zeros(2, np.float64), np.float64),
        (np.float64(1.5), np.float64),
    ],
)
def test_float32_by_default_float64_kept(data, dtype):
    assert Tensor(data).dtype == dtype
    assert Tensor(data, dtype=np.float64).dtype == np.float64


def test_float32_stays_float32_through_ops_and_gradients():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = ((x * 2.0 + np.ones(3)) / np.float64(3.0)) ** 2 @ np.ones((3, 2))
    y = (y.softmax() - 1).exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    z = Tensor(np.ones(2), requires_grad=True)
    (z * 2.0).sum().backward()
    assert z.grad.dtype == np.float64


# ============================================================================================
# Grad mode, small API
# ============================================================================================


def test_no_grad_builds_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        with no_grad():
            pass
        assert not is_grad_enabled()  # nested exit restores the outer mode
        y = (x * 2.0).exp().sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y._backward is None
    with pytest.raises(ValueError):
        y.backward()
    constant = Tensor([1.0]) * 2.0  # no parent requires grad: no graph either
    assert not constant.requires_grad and constant._parents == ()


def test_no_grad_is_per_context_and_works_as_a_decorator():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]  # a ContextVar, not a module global

    @no_grad()
    def f(t):
        return t * 2.0

    assert not f(Tensor([1.0], requires_grad=True)).requires_grad
    assert is_grad_enabled()


def test_comparisons_return_numpy_bool_arrays():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x > Tensor([0.0, 5.0, 1.0])):
        assert isinstance(result, np.ndarray) and result.dtype == np.bool_
    np.testing.assert_array_equal(x >= 2, [False, True, True])


def test_equality_with_non_numbers_is_false_not_an_error():
    x = Tensor([1.0, 2.0])
    assert (x == None) is False and (x != "a") is True  # noqa: E711
    assert bool(Tensor([3.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)


def test_the_engine_never_imports_torch():
    import ast
    from pathlib import Path

    import genailab.engine

    root = Path(genailab.engine.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "torch" for n in names), path


def test_small_api():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert (x.shape, x.ndim, x.size, len(x)) == ((2, 2), 2, 4, 2)
    assert x.numpy() is x.data and np.asarray(x) is x.data
    assert Tensor([[7.0]]).item() == 7.0
    d = x.detach()
    assert d.data is x.data and not d.requires_grad
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "Tensor([1., 2.], requires_grad=True)"
    assert repr(Tensor(np.zeros(1))) == "Tensor([0.], dtype=float64)"
    assert x.min().item() == 1.0
    with pytest.raises(ValueError, match="one element"):
        x.item()
