"""Run one expression in the engine and in PyTorch, and assert they agree (float64).

Shared by the engine's op tests: the same inputs, the same random upstream gradient
backpropagated through both, values and every input gradient compared.
"""

from __future__ import annotations

import numpy as np
import torch

from genailab.engine import Tensor

RTOL, ATOL = 1e-10, 1e-12


def values(shape, seed, kind="normal", scale=1.0):
    """Seeded float64 values: normal, positive, nonzero, ties (few distinct values) or wide."""
    rng = np.random.default_rng(seed)
    if kind == "positive":
        out = rng.uniform(0.5, 2.0, size=shape)
    elif kind == "nonzero":
        out = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    elif kind == "ties":  # few distinct values, so maxima tie
        out = rng.integers(0, 3, size=shape).astype(np.float64)
    elif kind == "wide":
        out = rng.normal(scale=30.0, size=shape)
    else:
        out = rng.normal(size=shape)
    return np.asarray(out * scale, dtype=np.float64)


def compare(f_engine, f_torch, *arrays, seed=0, rtol=RTOL, atol=ATOL):
    """Assert f_engine(*arrays) == f_torch(*arrays) in value and in gradient (float64)."""
    xs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ye, yt = f_engine(*xs), f_torch(*ts)
    assert ye.shape == tuple(yt.shape)
    assert ye.dtype == np.float64
    np.testing.assert_allclose(ye.data, yt.detach().numpy(), rtol=rtol, atol=atol)
    upstream = values(ye.shape, seed + 1)
    ye.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    for x, t in zip(xs, ts, strict=True):
        expected = np.zeros_like(x.data) if t.grad is None else t.grad.numpy()
        got = np.zeros_like(x.data) if x.grad is None else x.grad
        assert got.shape == x.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
