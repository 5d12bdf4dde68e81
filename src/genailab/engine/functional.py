"""Functional ops for neural networks, each with a fused, hand-derived backward.

Composing a loss or a normalization from elementary Tensor ops works, but records a dozen
graph nodes and keeps a dozen temporaries alive; the ops here record one node each and
differentiate in closed form (cross-entropy: softmax minus one-hot; layer norm: the
projection formula; attention: the softmax Jacobian-vector product). Convolution is
im2col: a strided *view* of every receptive field, copied once into a matrix and
multiplied by the flattened kernels in one matmul; its backward scatters the columns
back with one slice-add per kernel offset. Names, argument orders and weight layouts
follow ``torch.nn.functional`` so weights and results compare one to one.

Examples
--------
>>> import numpy as np
>>> from genailab.engine import Tensor, functional as F
>>> x = Tensor(np.ones((2, 3)), requires_grad=True)
>>> W = Tensor(np.full((4, 3), 0.5))
>>> F.linear(x, W).shape
(2, 4)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from genailab.engine.tensor import Tensor, _add_rows, _axes, _leaf, _make, _unbroadcast

__all__ = [
    "concatenate",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "layer_norm",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse",
    "relu",
    "rotary_angles",
    "rotary_embedding",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "stack",
    "tanh",
    "where",
]


def _tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant with the dtype of ``like``."""
    if isinstance(x, Tensor):
        return x
    return _leaf(np.asarray(x, dtype=None if like is None else like.data.dtype))


def _int_array(x: Any, name: str) -> np.ndarray:
    """An integer index array (from a list, an int array or a Tensor of whole numbers)."""
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise TypeError(f"{name} must hold integers, got an array of dtype {arr.dtype}")
    return arr


# ============================================================================================
# Activations
# ============================================================================================


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise.

    Examples
    --------
    >>> relu(Tensor([-1.0, 2.0]))
    Tensor([0., 2.])
    """
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent elementwise.

    Examples
    --------
    >>> tanh(Tensor([0.0]))
    Tensor([0.])
    """
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic function 1 / (1 + e^-x) elementwise, stable for large |x|.

    Examples
    --------
    >>> sigmoid(Tensor([0.0]))
    Tensor([0.5])
    """
    return x.sigmoid()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (max-subtracted, so large logits never overflow).

    Examples
    --------
    >>> softmax(Tensor([0.0, 0.0]))
    Tensor([0.5, 0.5])
    """
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis``: x - logsumexp(x), stable for large logits.

    Examples
    --------
    >>> log_softmax(Tensor([0.0, 0.0])).data.round(4)
    array([-0.6931, -0.6931], dtype=float32)
    """
    return x.log_softmax(axis)


# Cephes (S. L. Moshier, public domain) rational approximations of erf and erfc, accurate to
# about one unit in the last place of a float64; the same ones scipy.special.ndtr uses.
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


# The float32 rational approximation of erf on [-4, 4] used by Eigen, XLA and TVM: a few
# units in the last place of a float32 with a dozen fewer passes over the array than Cephes.
_ERF32_ALPHA = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                -1.60960333262415e-02)  # fmt: skip
_ERF32_BETA = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
               -7.37332916720468e-03, -1.42647390514189e-02)  # fmt: skip


def _horner(z: np.ndarray, coefs: Sequence[float]) -> np.ndarray:
    """Evaluate the polynomial with ``coefs`` (highest degree first) at ``z``, in place."""
    p = z * coefs[0]
    p += coefs[1]
    for c in coefs[2:]:
        p *= z
        p += c
    return p


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 elementwise, numpy only (no scipy in the engine)."""
    if x.dtype != np.float64:  # float32 precision needs far less work
        u = np.clip(x * (1.0 / math.sqrt(2.0)), -4.0, 4.0)
        z = u * u
        erf = _horner(z, _ERF32_ALPHA)
        erf *= u
        erf /= _horner(z, _ERF32_BETA)
        erf += 1.0
        erf *= 0.5
        return erf
    u = x * (1.0 / math.sqrt(2.0))
    a = np.abs(u)
    out = np.empty_like(u)
    inner = a <= 1.0
    ui = u[inner]
    z = ui * ui
    out[inner] = 0.5 + 0.5 * ui * _horner(z, _ERF_T) / _horner(z, _ERF_U)
    outer = ~inner
    if outer.any():
        # NOTE: for |u| > 1 go through erfc: 1 + erf(u) for u << 0 is a difference of two
        # numbers close to 1, which would lose every digit of the tiny left tail.
        ao = np.minimum(a[outer], 30.0)  # erfc(30) underflows anyway; avoids inf / inf
        ratio = np.where(
            ao < 8.0,
            _horner(ao, _ERFC_P) / _horner(ao, _ERFC_Q),
            _horner(ao, _ERFC_R) / _horner(ao, _ERFC_S),
        )
        half_erfc = 0.5 * np.exp(-ao * ao) * ratio
        out[outer] = np.where(u[outer] > 0, 1.0 - half_erfc, half_erfc)
    return out


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, x * Phi(x), as ``torch.nn.functional.gelu``.

    Parameters
    ----------
    x : Tensor
    approximate : {"none", "tanh"}, default "none"
        "none": the exact form with the normal CDF Phi; "tanh": GPT-2's approximation
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Examples
    --------
    >>> gelu(Tensor([-1.0, 0.0, 1.0])).data.round(4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)
    >>> gelu(Tensor([1.0]), approximate="tanh").data.round(4)
    array([0.8412], dtype=float32)
    """
    xd = x.data
    if approximate == "none":
        cdf = _normal_cdf(xd)
        out = xd * cdf

        def _backward(g):  # d (x Phi(x)) = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
            gx = np.multiply(xd, xd, out=np.empty_like(xd))  # one buffer (even 0-d), in place
            gx *= -0.5
            np.exp(gx, out=gx)
            gx *= xd
            gx *= 1.0 / math.sqrt(2.0 * math.pi)
            gx += cdf
            gx *= g
            return (gx,)

    elif approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        x2 = xd * xd  # NOTE: not x**3, which calls the C library's pow(): 100x slower
        t = np.multiply(x2, 0.044715, out=np.empty_like(xd))  # a buffer, even when 0-d
        t += 1.0
        t *= xd
        t *= c
        np.tanh(t, out=t)  # tanh(c (x + 0.044715 x^3))
        out = t + 1.0
        out *= xd
        out *= 0.5

        def _backward(g):  # 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
            gx = x2 * (3 * 0.044715 * c)
            gx += c
            gx *= 1.0 - t * t
            gx *= xd
            gx += 1.0 + t
            gx *= 0.5 * g
            return (gx,)

    else:
        raise ValueError(f"gelu: approximate={approximate!r}; accepted: 'none' or 'tanh'")
    return _make(out, (x,), _backward)


# ============================================================================================
# Losses
# ============================================================================================


def cross_entropy(logits: Tensor, targets: Any, ignore_index: int | None = None) -> Tensor:
    """Mean negative log-likelihood of integer ``targets`` under softmax(``logits``).

    Parameters
    ----------
    logits : Tensor
        Unnormalized scores, shape (N, C) or (B, T, C) (classes on the last axis).
    targets : array_like of int
        Class indices, shape (N,) or (B, T), each in [0, C) or equal to ``ignore_index``.
    ignore_index : int, optional
        Targets with this value contribute nothing; the mean is over the others.

    Returns
    -------
    Tensor
        A scalar. Its fused backward is (softmax(logits) - onehot(targets)) / n.

    Examples
    --------
    >>> logits = Tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    >>> loss = cross_entropy(logits, [0, 0])  # large logits: no overflow, no nan
    >>> loss.item()
    5000.0
    >>> loss.backward()
    >>> logits.grad
    array([[ 0. ,  0. ],
           [-0.5,  0.5]], dtype=float32)
    """
    x = logits.data
    if x.ndim < 2:
        raise ValueError(
            f"cross_entropy expects logits of shape (N, C) or (B, T, C), got shape {x.shape}"
        )
    t = _int_array(targets, "cross_entropy targets")
    if t.shape != x.shape[:-1]:
        raise ValueError(
            f"cross_entropy targets have shape {t.shape}; logits of shape {x.shape} need "
            f"targets of shape {x.shape[:-1]}"
        )
    C = x.shape[-1]
    x2 = x.reshape(-1, C)  # (N, C)
    t = t.reshape(-1)  # (N,)
    keep = t != ignore_index if ignore_index is not None else np.ones(t.shape, dtype=bool)
    bad = keep & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError(
            f"cross_entropy target {int(t[bad][0])} is out of range; accepted: class indices "
            f"in [0, {C - 1}]"
            + (f" or ignore_index={ignore_index}" if ignore_index is not None else "")
        )
    t = np.where(keep, t, 0)
    n = int(keep.sum())
    rows = np.arange(len(t))
    # NOTE: log softmax = z - log sum exp z with z = x - max x: exponents are <= 0 and the
    # sum is >= 1, so logits of 1e4 neither overflow nor take log(0).
    z = x2 - x2.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1)  # (N,)
    nll = np.log(s) - z[rows, t]  # (N,)
    out = np.asarray(nll @ keep.astype(x.dtype) / n if n else np.nan, dtype=x.dtype)

    def _backward(g):  # dL/dx = (softmax(x) - onehot(t)) / n on the kept rows
        gx = e / s[:, None]
        gx[rows, t] -= 1.0
        gx *= (keep * (g / max(n, 1))).astype(x.dtype)[:, None]
        return (gx.reshape(x.shape),)

    return _make(out, (logits,), _backward)


def mse(pred: Tensor, target: Any) -> Tensor:
    """Mean squared error mean((pred - target)^2), as ``torch.nn.functional.mse_loss``.

    Examples
    --------
    >>> mse(Tensor([1.0, 2.0]), [0.0, 0.0])
    Tensor(2.5)
    """
    tt = _tensor(target, pred)
    d = pred.data - tt.data
    n = max(d.size, 1)
    out = np.asarray(np.vdot(d, d) / n, dtype=d.dtype)

    def _backward(g):  # d mean(d^2) = 2 d / n
        gd = d * (2.0 * g / n)
        return (
            _unbroadcast(gd, pred.data.shape) if pred.requires_grad else None,
            -_unbroadcast(gd, tt.data.shape) if tt.requires_grad else None,
        )

    return _make(out, (pred, tt), _backward)


# ============================================================================================
# Normalization, dropout
# ============================================================================================


def layer_norm(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Normalize over the last axis to zero mean and unit variance, then scale and shift.

    y = (x - mean) / sqrt(var + eps) * weight + bias, var the population variance.

    Examples
    --------
    >>> layer_norm(Tensor([[1.0, 2.0, 3.0]])).data.round(4)
    array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
    """
    xd = x.data
    C = xd.shape[-1]
    for p, name in ((weight, "weight"), (bias, "bias")):
        if p is not None and p.data.shape != (C,):
            raise ValueError(f"layer_norm {name} has shape {p.data.shape}; expected ({C},)")
    xhat = xd - xd.mean(axis=-1, keepdims=True)  # centred, normalized in place below
    var = np.einsum("...c,...c->...", xhat, xhat)[..., None] / C  # (..., 1), no temporary
    rstd = 1.0 / np.sqrt(var + eps)  # (..., 1)
    xhat *= rstd
    out = xhat * weight.data if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data

    def _backward(g):
        # NOTE: xhat depends on x through mu and rstd too; projecting out the mean and the
        # xhat-direction of the incoming gradient is that dependence, in closed form:
        # dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * weight.
        gh = g * weight.data if weight is not None else g
        gx = xhat * (np.einsum("...c,...c->...", gh, xhat)[..., None] / C)
        np.subtract(gh, gx, out=gx)
        gx -= gh.mean(axis=-1, keepdims=True)
        gx *= rstd
        g2 = g.reshape(-1, C)
        gw = (np.einsum("nc,nc->c", g2, xhat.reshape(-1, C)),) if weight is not None else ()
        gb = (g2.sum(axis=0),) if bias is not None else ()
        return (gx, *gw, *gb)

    affine = tuple(p for p in (weight, bias) if p is not None)
    return _make(out, (x, *affine), _backward)


def dropout(
    x: Tensor, p: float, training: bool = True, rng: np.random.Generator | None = None
) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    The expected value is unchanged, so nothing needs rescaling at evaluation time, where
    (``training=False``) ``x`` is returned as is.

    Examples
    --------
    >>> x = Tensor(np.ones(8))
    >>> dropout(x, 0.5, rng=np.random.default_rng(0)).data
    array([2., 0., 0., 0., 2., 2., 2., 2.])
    >>> dropout(x, 0.5, training=False) is x
    True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p={p!r} is not a probability; accepted: [0, 1]")
    if not training or p == 0.0:
        return x
    xd = x.data
    if p == 1.0:
        scale = np.zeros_like(xd)
    else:
        rng = np.random.default_rng() if rng is None else rng
        keep = rng.random(xd.shape, dtype=xd.dtype if xd.dtype == np.float32 else np.float64)
        scale = (keep >= p).astype(xd.dtype)
        scale *= 1.0 / (1.0 - p)

    def _backward(g):  # the same mask and scale
        return (g * scale,)

    return _make(xd * scale, (x,), _backward)


# ============================================================================================
# Joining and selecting
# ============================================================================================


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Examples
    --------
    >>> concatenate([Tensor([[1.0]]), Tensor([[2.0]])], axis=1)
    Tensor([[1., 2.]])
    """
    ts = [_tensor(t, tensors[0] if isinstance(tensors[0], Tensor) else None) for t in tensors]
    (ax,) = _axes(axis, ts[0].data.ndim)
    out = np.concatenate([t.data for t in ts], axis=ax)
    cuts = np.cumsum([t.data.shape[ax] for t in ts])[:-1]

    def _backward(g):
        return tuple(np.split(g, cuts, axis=ax))

    return _make(out, tuple(ts), _backward)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis.

    Examples
    --------
    >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], axis=1)
    Tensor([[1., 3.],
            [2., 4.]])
    """
    ts = [_tensor(t, tensors[0] if isinstance(tensors[0], Tensor) else None) for t in tensors]
    out = np.stack([t.data for t in ts], axis=axis)
    ax = axis % out.ndim

    def _backward(g):
        return tuple(np.moveaxis(g, ax, 0))

    return _make(out, tuple(ts), _backward)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``cond`` is true, else ``b`` (all three broadcast).

    Examples
    --------
    >>> x = Tensor([-1.0, 2.0])
    >>> where(x > 0, x, 0.0)
    Tensor([0., 2.])
    """
    c = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    ta, tb = _tensor(a, like), _tensor(b, like)
    out = np.where(c, ta.data, tb.data)

    def _backward(g):  # the gradient goes to whichever input was chosen
        return (
            _unbroadcast(np.where(c, g, 0), ta.data.shape) if ta.requires_grad else None,
            _unbroadcast(np.where(c, 0, g), tb.data.shape) if tb.requires_grad else None,
        )

    return _make(out, (ta, tb), _backward)


def embedding(weight: Tensor, idx: Any) -> Tensor:
    """Rows of ``weight`` (num, dim) picked by integer ``idx`` of any shape: (..., dim).

    Examples
    --------
    >>> W = Tensor(np.eye(3), requires_grad=True)
    >>> e = embedding(W, [[0, 2, 2]])
    >>> e.shape
    (1, 3, 3)
    >>> e.sum().backward()
    >>> W.grad.sum(axis=1)  # how many times each row was used
    array([3., 0., 6.])
    """
    i = _int_array(idx, "embedding indices")
    V = weight.data.shape[0]
    if i.size and (i.min() < -V or i.max() >= V):
        bad = i[(i < -V) | (i >= V)][0]
        raise ValueError(f"embedding index {int(bad)} is out of range; accepted: [0, {V - 1}]")
    w = weight.data
    out = w[i]
    flat = i.reshape(-1) % V

    def _backward(g):  # repeated indices add up (see _add_rows)
        return (_add_rows(w.shape, w.dtype, flat, g.reshape(len(flat), *w.shape[1:])),)

    return _make(out, (weight,), _backward)


# ============================================================================================
# Linear and convolution
# ============================================================================================


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias with torch's layout: weight (out, in), bias (out,).

    Leading axes of ``x`` are flattened into one matrix, so the forward and each gradient
    are a single matmul whatever the batch shape.

    Examples
    --------
    >>> linear(Tensor([[1.0, 2.0]]), Tensor([[1.0, 1.0], [0.0, 1.0]]), Tensor([0.5, 0.5]))
    Tensor([[3.5, 2.5]])
    """
    xd, wd = x.data, weight.data
    if wd.ndim != 2 or xd.shape[-1:] != wd.shape[1:]:
        raise ValueError(
            f"linear: input of shape {xd.shape} does not match weight of shape {wd.shape}; "
            f"the weight must be (out_features, {xd.shape[-1] if xd.ndim else '?'})"
        )
    x2 = xd.reshape(-1, wd.shape[1])  # (N, in)
    out = x2 @ wd.T  # (N, out)
    if bias is not None:
        out += bias.data
    out = out.reshape((*xd.shape[:-1], wd.shape[0]))

    def _backward(g):
        g2 = g.reshape(-1, wd.shape[0])  # (N, out)
        gx = (g2 @ wd).reshape(xd.shape) if x.requires_grad else None
        gw = g2.T @ x2 if weight.requires_grad else None
        gb = g2.sum(axis=0) if bias is not None and bias.requires_grad else None
        return gx, gw, gb

    return _make(out, (x, weight) if bias is None else (x, weight, bias), _backward)


def _pair(v: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair."""
    if isinstance(v, int | np.integer):
        return int(v), int(v)
    if isinstance(v, Sequence) and len(v) == 2 and all(isinstance(i, int) for i in v):
        return int(v[0]), int(v[1])
    raise ValueError(f"{name}={v!r}; accepted: an int or a pair of ints")


def _conv2d(x, weight, bias, stride, padding, dilation):  # (N, C, H, W) -> (N, Co, Ho, Wo)
    xd, wd = x.data, weight.data
    N, C, H, W = xd.shape
    Co, Cw, kh, kw = wd.shape
    if Cw != C:
        raise ValueError(f"conv: input has {C} channels but the weight expects {Cw}")
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    if min(sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(
            f"conv: stride {stride}, padding {padding}, dilation {dilation}; accepted: "
            "stride and dilation >= 1, padding >= 0"
        )
    xp = np.pad(xd, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else xd
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # receptive field with dilation
    Ho, Wo = (xp.shape[2] - span_h) // sh + 1, (xp.shape[3] - span_w) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"conv: kernel of extent {(span_h, span_w)} is larger than the padded input "
            f"{xp.shape[2:]}"
        )
    # im2col: a view of every receptive field (no copy) ...
    win = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))  # (N, C, H', W', span)
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, Ho, Wo, kh, kw)
    # ... copied once into a matrix with one column per field: (C*kh*kw, N*Ho*Wo).
    # NOTE: this axis order keeps each copied run a contiguous image row; the transposed
    # layout (one field per row) gathers kh*kw scattered values at a time, 10x slower.
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, N * Ho * Wo)
    w2 = wd.reshape(Co, C * kh * kw)
    out = (w2 @ cols).reshape(Co, N, Ho, Wo)  # the whole convolution is this one matmul
    if bias is not None:
        out += bias.data[:, None, None, None]
    out = np.ascontiguousarray(out.transpose(1, 0, 2, 3))  # (N, Co, Ho, Wo)

    def _backward(g):
        g2 = g.transpose(1, 0, 2, 3).reshape(Co, N * Ho * Wo)  # (Co, N*Ho*Wo)
        gw = (g2 @ cols.T).reshape(wd.shape) if weight.requires_grad else None
        gb = g.sum(axis=(0, 2, 3)) if bias is not None and bias.requires_grad else None
        gx = None
        if x.requires_grad:
            # col2im: each kernel offset (i, j) saw a strided grid of input pixels; add its
            # row of gradients back there. NOTE: fields overlap when stride < kernel, so
            # this must add (+=), and one slice-add per offset does it with no pixel loop.
            gcols = (w2.T @ g2).reshape(C, kh, kw, N, Ho, Wo)
            gxp = np.zeros((C, N, *xp.shape[2:]), dtype=gcols.dtype)  # channel-major, as gcols
            for i in range(kh):
                for j in range(kw):
                    r, c = i * dh, j * dw
                    gxp[:, :, r : r + sh * (Ho - 1) + 1 : sh, c : c + sw * (Wo - 1) + 1 : sw] += (
                        gcols[:, i, j]
                    )
            gx = gxp.transpose(1, 0, 2, 3)[:, :, ph : ph + H, pw : pw + W]
        return gx, gw, gb

    return _make(out, (x, weight) if bias is None else (x, weight, bias), _backward)


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : Tensor
        Input, shape (N, C_in, H, W).
    weight : Tensor
        Kernels, shape (C_out, C_in, kh, kw).
    bias : Tensor, optional
        Shape (C_out,).
    stride, padding, dilation : int or (int, int)
        Step between fields, zeros added on each side, spacing between kernel taps.

    Returns
    -------
    Tensor
        Shape (N, C_out, H_out, W_out), H_out = (H + 2 p - d (kh - 1) - 1) // s + 1.

    Examples
    --------
    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> k = Tensor(np.ones((1, 1, 2, 2)))
    >>> conv2d(x, k, stride=2).data[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    if x.data.ndim != 4 or weight.data.ndim != 4:
        raise ValueError(
            f"conv2d expects input (N, C_in, H, W) and weight (C_out, C_in, kh, kw), both "
            f"4-D; got input shape {x.data.shape} and weight shape {weight.data.shape}"
        )
    args = (_pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation"))
    return _conv2d(x, weight, bias, *args)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``: a conv2d of height 1.

    Parameters
    ----------
    x : Tensor
        Input, shape (N, C_in, L).
    weight : Tensor
        Kernels, shape (C_out, C_in, K).
    bias : Tensor, optional
        Shape (C_out,).
    stride, padding, dilation : int

    Examples
    --------
    >>> conv1d(Tensor([[[1.0, 2.0, 3.0]]]), Tensor([[[1.0, -1.0]]]))
    Tensor([[[-1., -1.]]])
    """
    if x.data.ndim != 3 or weight.data.ndim != 3:
        raise ValueError(
            f"conv1d expects input (N, C_in, L) and weight (C_out, C_in, K), both 3-D; got "
            f"input shape {x.data.shape} and weight shape {weight.data.shape}"
        )
    for v, name in ((stride, "stride"), (padding, "padding"), (dilation, "dilation")):
        if not isinstance(v, int | np.integer):
            raise ValueError(f"conv1d {name}={v!r}; accepted: an int")
    N, C, L = x.data.shape
    x4 = x.reshape(N, C, 1, L)
    w4 = weight.reshape(*weight.data.shape[:2], 1, weight.data.shape[2])
    out = _conv2d(x4, w4, bias, (1, stride), (0, padding), (1, dilation))
    return out.reshape(N, out.data.shape[1], out.data.shape[3])


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """Max over each (kh, kw) window, as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; padding adds -inf borders. The gradient goes to
    the first maximum of each window (row-major), as in PyTorch.

    Examples
    --------
    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> max_pool2d(x, 2).data[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    xd = x.data
    if xd.ndim != 4:
        raise ValueError(f"max_pool2d expects input (N, C, H, W), got shape {xd.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, "stride")
    ph, pw = _pair(padding, "padding")
    if not (0 <= ph <= kh // 2 and 0 <= pw <= kw // 2):
        raise ValueError(f"max_pool2d padding={padding!r}; accepted: at most half the kernel")
    H, W = xd.shape[2:]
    xp = np.pad(xd, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    Ho, Wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1

    def tap(a: np.ndarray, i: int, j: int) -> np.ndarray:  # offset (i, j) of every window
        return a[:, :, i : i + sh * (Ho - 1) + 1 : sh, j : j + sw * (Wo - 1) + 1 : sw]

    # A running max over the kh*kw offsets: kh*kw whole-array passes, no gather of windows.
    out = tap(xp, 0, 0).copy()  # (N, C, Ho, Wo)
    arg = np.zeros(out.shape, dtype=np.intp)  # which offset holds the max
    for k in range(1, kh * kw):
        v = tap(xp, *divmod(k, kw))
        np.putmask(arg, v > out, k)  # NOTE: strict >, so ties keep the first max (torch)
        np.maximum(out, v, out=out)

    def _backward(g):
        gxp = np.zeros_like(xp)
        for k in range(kh * kw):
            # NOTE: overlapping windows (stride < kernel) can pick the same pixel: add.
            tap(gxp, *divmod(k, kw))[...] += np.where(arg == k, g, 0.0)
        return (gxp[:, :, ph : ph + H, pw : pw + W],)

    return _make(out, (x,), _backward)


# ============================================================================================
# Attention
# ============================================================================================


def rotary_angles(
    head_size: int, positions: int, base: float = 10000.0, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """``cos`` and ``sin`` of the rotary angles ``m theta_i``, each ``(positions, head_size/2)``.

    ``theta_i = base^(-2i / head_size)`` (Su et al., RoFormer, 2021); the angles are computed
    in float64 and only then cast, so every dtype holds the same rounded values.

    Examples
    --------
    >>> cos, sin = rotary_angles(4, 3, base=100.0, dtype=np.float64)
    >>> cos.shape, float(sin[1, 1])  # position 1, pair 1: sin(100^(-1/2))
    ((3, 2), 0.09983341664682815)
    """
    if head_size % 2:
        raise ValueError(f"rotary_angles: head_size must be even, got {head_size}")
    theta = base ** (-np.arange(0, head_size, 2, dtype=np.float64) / head_size)  # (hs/2,)
    angle = np.outer(np.arange(positions, dtype=np.float64), theta)  # (T, hs/2)
    return np.cos(angle).astype(dtype), np.sin(angle).astype(dtype)


def rotary_embedding(x: Tensor, cos: np.ndarray, sin: np.ndarray) -> Tensor:
    """Rotate each channel pair ``(x_2i, x_2i+1)`` at position m by the angle ``m theta_i``.

    ``x`` is ``(..., T, hs)`` (queries or keys, heads on a leading axis), ``cos`` and ``sin``
    are ``(T, hs/2)`` from :func:`rotary_angles`. A rotation is orthogonal, so the backward
    is the rotation by the opposite angle.

    Examples
    --------
    >>> cos, sin = rotary_angles(2, 2, dtype=np.float64)
    >>> rotary_embedding(Tensor(np.array([[1.0, 0.0], [1.0, 0.0]])), cos, sin).data.round(4)
    array([[1.    , 0.    ],
           [0.5403, 0.8415]])
    """
    xd = x.data
    if xd.ndim < 2 or xd.shape[-1] % 2 or cos.shape != (xd.shape[-2], xd.shape[-1] // 2):
        raise ValueError(
            f"rotary_embedding: x of shape {xd.shape} needs cos and sin of shape (T, hs/2) "
            f"with an even hs; got {cos.shape}"
        )
    x0, x1 = xd[..., 0::2], xd[..., 1::2]  # (..., T, hs/2) the two halves of every pair
    out = np.empty_like(xd)
    out[..., 0::2] = x0 * cos - x1 * sin  # [cos -sin] [x0]
    out[..., 1::2] = x0 * sin + x1 * cos  # [sin  cos] [x1]

    def _backward(g):  # R(-angle) g: the transpose of the rotation
        g0, g1 = g[..., 0::2], g[..., 1::2]
        gx = np.empty_like(g)
        gx[..., 0::2] = g0 * cos + g1 * sin
        gx[..., 1::2] = g1 * cos - g0 * sin
        return (gx,)

    return _make(out, (x,), _backward)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = True) -> Tensor:
    """softmax(q k^T / sqrt(hs) + mask) v with a fused backward.

    Parameters
    ----------
    q : Tensor
        Queries, shape (B, nh, T, hs) (any leading axes).
    k, v : Tensor
        Keys and values, shape (B, nh, S, hs).
    causal : bool, default True
        Query i may not attend to keys j > i (the upper triangle gets -inf before softmax).

    Examples
    --------
    >>> q = k = Tensor(np.zeros((1, 1, 2, 4)))
    >>> v = Tensor(np.array([[[[1.0, 1, 1, 1], [3.0, 3, 3, 3]]]]))
    >>> scaled_dot_product_attention(q, k, v).data[0, 0, :, 0]  # row 0 sees only key 0
    array([1., 2.])
    """
    qd, kd, vd = q.data, k.data, v.data
    if qd.ndim < 2 or kd.shape[-1] != qd.shape[-1] or kd.shape[:-1] != vd.shape[:-1]:
        raise ValueError(
            f"scaled_dot_product_attention: shapes q {qd.shape}, k {kd.shape}, v {vd.shape} "
            "do not fit; expected q (..., T, hs), k (..., S, hs), v (..., S, hv)"
        )
    T, S = qd.shape[-2], kd.shape[-2]
    scale = 1.0 / math.sqrt(qd.shape[-1])
    att = (qd * scale) @ kd.swapaxes(-1, -2)  # (..., T, S); scaling q is the cheaper side
    if causal:  # -inf above the diagonal: one broadcast add, no boolean indexing
        att += np.triu(np.full((T, S), -np.inf, dtype=att.dtype), k=1)
    # NOTE: max-subtracted softmax, in place; each row keeps its diagonal, so never all -inf.
    att -= att.max(axis=-1, keepdims=True)
    np.exp(att, out=att)
    att *= 1.0 / att.sum(axis=-1, keepdims=True)  # P, (..., T, S)
    out = att @ vd  # (..., T, hv)

    def _backward(g):
        gv = _unbroadcast(att.swapaxes(-1, -2) @ g, vd.shape) if v.requires_grad else None
        gp = g @ vd.swapaxes(-1, -2)  # dL/dP, (..., T, S)
        # the softmax Jacobian-vector product P * (gp - <gp, P>), in place; the 1/sqrt(hs)
        # scale is applied to the smaller (..., T, hs) results
        gp -= np.einsum("...ij,...ij->...i", gp, att)[..., None]
        gp *= att
        gq = gk = None
        if q.requires_grad:
            gq = gp @ kd
            gq *= scale
            gq = _unbroadcast(gq, qd.shape)
        if k.requires_grad:
            gk = gp.swapaxes(-1, -2) @ qd
            gk *= scale
            gk = _unbroadcast(gk, kd.shape)
        return gq, gk, gv

    return _make(out, (q, k, v), _backward)
