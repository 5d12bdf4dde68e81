"""engine.functional against torch.nn.functional: values and gradients, in float64.

Each op is run in the engine and in torch on the same random inputs (shapes drawn by
hypothesis, values by a seeded numpy generator), the same random upstream gradient is
backpropagated through both, and values and gradients are compared to rtol 1e-10.
Dropout, which has no deterministic reference, is checked by its statistics.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genailab.engine import Tensor
from genailab.engine import functional as F
from torch_reference import compare, values

FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None)
seeds = st.integers(0, 2**32 - 1)


# ============================================================================================
# Losses
# ============================================================================================


@FAST
@given(
    lead=st.sampled_from([(5,), (1,), (2, 3), (3, 1)]),
    C=st.integers(1, 6),
    ignore=st.booleans(),
    scale=st.sampled_from([1.0, 10.0, 1e4]),
    seed=seeds,
)
def test_cross_entropy_like_torch(lead, C, ignore, scale, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, C, size=lead)
    ignore_index = -100 if ignore else None
    if ignore:
        t.flat[0] = -100  # at least one ignored, at least one kept when size > 1
    if ignore and t.size == 1:
        t.flat[0] = 0
    x = values((*lead, C), seed, scale=scale)
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}

    def torch_ce(z):  # torch wants classes on axis 1: flatten (B, T, C) to (B*T, C)
        return TF.cross_entropy(z.reshape(-1, C), torch.from_numpy(t).reshape(-1), **kwargs)

    compare(lambda z: F.cross_entropy(z, t, ignore_index=ignore_index), torch_ce, x, seed=seed)


def test_cross_entropy_of_huge_logits_is_finite_and_exact():
    logits = Tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 1e4]], requires_grad=True, dtype=np.float64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.cross_entropy(logits, np.array([0, 1]))
        loss.backward()
    assert loss.item() == pytest.approx(5000.0, rel=1e-12)  # (0 + 1e4) / 2
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [0, -0.5, 0.5]], atol=1e-12)


def test_cross_entropy_errors_name_the_bad_value():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"target 4 is out of range.*\[0, 3\]"):
        F.cross_entropy(logits, [0, 4, 1])
    with pytest.raises(ValueError, match="target -1 is out of range"):
        F.cross_entropy(logits, [0, -1, 1])
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        F.cross_entropy(logits, [0, 1])
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(logits, [0.5, 1.0, 2.0])
    assert np.isfinite(F.cross_entropy(logits, [0, -1, 1], ignore_index=-1).item())


@FAST
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=seeds,
)
def test_mse_like_torch(shapes, seed):
    a, b = shapes.input_shapes
    if a != shapes.result_shape:  # torch broadcasts the target only
        a, b = b, a
    compare(
        F.mse, lambda p, q: TF.mse_loss(p, q.expand(p.shape)), values(a, seed), values(b, seed + 1)
    )


# ============================================================================================
# Activations
# ============================================================================================


@FAST
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    approximate=st.sampled_from(["none", "tanh"]),
    scale=st.sampled_from([1.0, 3.0, 12.0]),
    seed=seeds,
)
def test_gelu_like_torch(shape, approximate, scale, seed):
    compare(
        lambda x: F.gelu(x, approximate=approximate),
        lambda x: TF.gelu(x, approximate=approximate),
        values(shape, seed, scale=scale),
        seed=seed,
        atol=1e-14,  # torch's 1 + erf(x) loses the far-left tail that ours keeps
    )


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_in_float32_like_torch(approximate):
    x = np.linspace(-8, 8, 4001, dtype=np.float32)  # the float32 path has its own erf
    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, t = F.gelu(ours, approximate), TF.gelu(theirs, approximate=approximate)
    y.sum().backward()
    t.sum().backward()
    assert y.dtype == np.float32 and ours.grad.dtype == np.float32
    np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-5, atol=2e-6)


def test_gelu_exact_on_a_grid_and_rejects_unknown_forms():
    x = np.linspace(-40, 40, 2001)
    compare(F.gelu, TF.gelu, x, atol=1e-14)
    with pytest.raises(ValueError, match=r"'sigmoid'.*'none' or 'tanh'"):
        F.gelu(Tensor(x), approximate="sigmoid")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (F.relu, torch.relu),
        (F.tanh, torch.tanh),
        (F.sigmoid, torch.sigmoid),
        (lambda x: F.softmax(x, axis=0), lambda t: torch.softmax(t, 0)),
        (lambda x: F.log_softmax(x), lambda t: torch.log_softmax(t, -1)),
    ],
)
def test_activation_functions_like_torch(ours, theirs):
    compare(ours, theirs, values((3, 4), 5, 3.0))


# ============================================================================================
# Normalization and dropout
# ============================================================================================


@FAST
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
    affine=st.sampled_from(["none", "weight", "both"]),
    seed=seeds,
)
def test_layer_norm_like_torch(shape, affine, seed):
    C = shape[-1]
    arrays = [values(shape, seed, 3.0) + 1.0]
    if affine in ("weight", "both"):
        arrays.append(values(C, seed + 2))
    if affine == "both":
        arrays.append(values(C, seed + 3))

    def ours(x, w=None, b=None):
        return F.layer_norm(x, w, b)

    def theirs(x, w=None, b=None):
        return TF.layer_norm(x, (C,), w, b)

    compare(ours, theirs, *arrays, seed=seed, rtol=1e-9)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_gradient(p):
    x = Tensor(np.full((400, 500), 2.0), requires_grad=True, dtype=np.float64)
    y = F.dropout(x, p, rng=np.random.default_rng(1))
    zeroed = y.data == 0
    assert abs(zeroed.mean() - p) < 0.005  # 200,000 draws: the std of the share is ~0.001
    np.testing.assert_allclose(y.data[~zeroed], 2.0 / (1.0 - p), rtol=1e-12)
    upstream = values(y.shape, 2)
    y.backward(upstream)
    np.testing.assert_allclose(x.grad, upstream * ~zeroed / (1.0 - p), rtol=1e-12)
    again = F.dropout(x, p, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(again.data, y.data)  # the rng alone decides the mask


def test_dropout_identity_in_eval_and_edge_probabilities():
    x = Tensor(np.ones((4, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).data == 0).all()
    assert F.dropout(Tensor(np.ones(3, np.float32)), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match=r"p=1\.5"):
        F.dropout(x, 1.5)


# ============================================================================================
# Joining and selecting
# ============================================================================================


@FAST
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    data=st.data(),
)
def test_concatenate_and_stack_like_torch(shape, sizes, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    seed = data.draw(seeds, label="seed")
    ax = axis % len(shape)
    parts = [values((*shape[:ax], n, *shape[ax + 1 :]), seed + i) for i, n in enumerate(sizes)]
    compare(lambda *ts: F.concatenate(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), *parts)
    same = [values(shape, seed + i) for i in range(len(sizes))]
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="new axis")
    compare(lambda *ts: F.stack(ts, axis=new_axis), lambda *ts: torch.stack(ts, new_axis), *same)


@FAST
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
    seed=seeds,
)
def test_where_like_torch(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = np.asarray(np.random.default_rng(seed).random(c_shape) > 0.5)
    compare(
        lambda a, b: F.where(cond, a, b),
        lambda a, b: torch.where(torch.from_numpy(cond), a, b),
        values(a_shape, seed),
        values(b_shape, seed + 1),
    )


def test_where_with_a_constant_branch():
    x = Tensor([-1.0, 2.0, -3.0], requires_grad=True)
    F.where(x > 0, x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@FAST
@given(
    lead=st.sampled_from([(), (3,), (2, 3), (1, 2, 2)]),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    bias=st.booleans(),
    seed=seeds,
)
def test_linear_like_torch(lead, n_in, n_out, bias, seed):
    arrays = [values((*lead, n_in), seed), values((n_out, n_in), seed + 1)]
    if bias:
        arrays.append(values(n_out, seed + 2))
    compare(F.linear, TF.linear, *arrays, seed=seed)


def test_linear_rejects_a_mismatched_weight():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        F.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5))))


@FAST
@given(
    vocab=st.integers(1, 8),
    dim=st.integers(1, 4),
    idx_shape=st.sampled_from([(5,), (2, 6), (3, 1)]),
    seed=seeds,
)
def test_embedding_like_torch(vocab, dim, idx_shape, seed):
    idx = np.random.default_rng(seed).integers(0, vocab, size=idx_shape)  # with repeats
    compare(
        lambda W: F.embedding(W, idx),
        lambda W: TF.embedding(torch.from_numpy(idx), W),
        values((vocab, dim), seed),
    )


def test_embedding_rejects_an_index_out_of_range():
    with pytest.raises(ValueError, match=r"index 7 is out of range.*\[0, 4\]"):
        F.embedding(Tensor(np.ones((5, 2))), np.array([[0, 7]]))


# ============================================================================================
# Convolution and pooling
# ============================================================================================


def conv_geometry(data, dims):
    """Draw kernel, stride, padding, dilation and an input size with a non-empty output."""
    kernel = tuple(data.draw(st.integers(1, 3), label="k") for _ in range(dims))
    stride = tuple(data.draw(st.integers(1, 3), label="s") for _ in range(dims))
    padding = tuple(data.draw(st.integers(0, 2), label="p") for _ in range(dims))
    dilation = tuple(data.draw(st.integers(1, 2), label="d") for _ in range(dims))
    size = tuple(
        data.draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 6), label="n")
        for k, p, d in zip(kernel, padding, dilation, strict=True)
    )
    return kernel, stride, padding, dilation, size


@FAST
@given(data=st.data(), bias=st.booleans(), seed=seeds)
def test_conv2d_like_torch(data, bias, seed):
    kernel, stride, padding, dilation, (H, W) = conv_geometry(data, 2)
    N, C_in, C_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), 2
    arrays = [values((N, C_in, H, W), seed), values((C_out, C_in, *kernel), seed + 1)]
    if bias:
        arrays.append(values(C_out, seed + 2))
    compare(
        lambda x, w, b=None: F.conv2d(x, w, b, stride, padding, dilation),
        lambda x, w, b=None: TF.conv2d(x, w, b, stride, padding, dilation),
        *arrays,
        seed=seed,
    )


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2), (2, 0, 3)]
)
def test_conv2d_int_arguments_like_torch(stride, padding, dilation):
    x, w, b = values((2, 3, 9, 8), 0), values((4, 3, 3, 2), 1), values(4, 2)
    compare(
        lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation),
        lambda *t: TF.conv2d(*t, stride=stride, padding=padding, dilation=dilation),
        x,
        w,
        b,
    )


@FAST
@given(data=st.data(), bias=st.booleans(), seed=seeds)
def test_conv1d_like_torch(data, bias, seed):
    (k,), (s,), (p,), (d,), (L,) = conv_geometry(data, 1)
    N, C_in, C_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), 3
    arrays = [values((N, C_in, L), seed), values((C_out, C_in, k), seed + 1)]
    if bias:
        arrays.append(values(C_out, seed + 2))
    compare(
        lambda x, w, b=None: F.conv1d(x, w, b, s, p, d),
        lambda x, w, b=None: TF.conv1d(x, w, b, s, p, d),
        *arrays,
        seed=seed,
    )


def test_conv_rejects_an_input_of_the_wrong_rank():
    w2, w1 = Tensor(np.ones((2, 3, 3, 3))), Tensor(np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d.*4-D.*\(3, 5, 5\)"):
        F.conv2d(Tensor(np.ones((3, 5, 5))), w2)
    with pytest.raises(ValueError, match=r"conv1d.*3-D.*\(3, 5\)"):
        F.conv1d(Tensor(np.ones((3, 5))), w1)
    with pytest.raises(ValueError, match="4 channels but the weight expects 3"):
        F.conv2d(Tensor(np.ones((1, 4, 5, 5))), w2)
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(Tensor(np.ones((1, 3, 5, 5))), w2, stride=(1, 2, 3))


@FAST
@given(data=st.data(), seed=seeds)
def test_max_pool2d_like_torch(data, seed):
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    stride = data.draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    H, W = (data.draw(st.integers(k, k + 5)) for k in kernel)
    compare(
        lambda x: F.max_pool2d(x, kernel, stride, padding),
        lambda x: TF.max_pool2d(x, kernel, stride, padding),
        values((2, 2, H, W), seed),
        seed=seed,
    )


# ============================================================================================
# Attention
# ============================================================================================


@FAST
@given(
    lead=st.sampled_from([(1, 1), (2, 3), (2,)]),
    T=st.integers(1, 6),
    S=st.integers(1, 6),
    hs=st.integers(1, 5),
    causal=st.booleans(),
    seed=seeds,
)
def test_scaled_dot_product_attention_like_torch(lead, T, S, hs, causal, seed):
    if causal:
        S = T  # self-attention; cross-attention shapes are covered without the mask
    q, k = values((*lead, T, hs), seed), values((*lead, S, hs), seed + 1)
    v = values((*lead, S, hs + 1), seed + 2)  # values may have another width
    compare(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, causal=causal),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, is_causal=causal),
        q,
        k,
        v,
        seed=seed,
    )


def test_causal_attention_never_looks_ahead():
    rng = np.random.default_rng(0)
    q, k = Tensor(rng.normal(size=(1, 1, 4, 3))), Tensor(rng.normal(size=(1, 1, 4, 3)))
    v = Tensor(rng.normal(size=(1, 1, 4, 3)), requires_grad=True)
    F.scaled_dot_product_attention(q, k, v)[0, 0, 1].sum().backward()
    np.testing.assert_array_equal(v.grad[0, 0, 2:], 0.0)  # query 1 sees keys 0 and 1 only
    assert (v.grad[0, 0, :2] != 0).all()
