"""The engine's rotary position embedding against torch's complex-number form, in float64.

The reference rotates each channel pair as one complex number, ``(x_2i + j x_2i+1) e^(j m
theta_i)``, the way RoFormer states it and genailab's torch GPT computes it; the engine's op is
the real-valued 2x2 rotation with a hand-written backward. Values and gradients must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genailab.engine import Tensor
from genailab.engine import functional as F
from torch_reference import compare, values

FAST = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def torch_rotary(x: torch.Tensor, base: float) -> torch.Tensor:
    """x (..., T, hs) rotated as complex numbers, the angles m * base^(-2i/hs)."""
    T, hs = x.shape[-2], x.shape[-1]
    theta = base ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)
    angle = torch.outer(torch.arange(T, dtype=torch.float64), theta)  # (T, hs/2)
    pairs = torch.view_as_complex(x.unflatten(-1, (hs // 2, 2)))  # (..., T, hs/2)
    return torch.view_as_real(pairs * torch.polar(torch.ones_like(angle), angle)).flatten(-2)


@FAST
@given(
    lead=st.sampled_from([(), (3,), (2, 2)]),
    T=st.integers(1, 9),
    half=st.integers(1, 6),
    base=st.sampled_from([10000.0, 100.0, 2.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_rotary_embedding_like_torch(lead, T, half, base, seed):
    hs = 2 * half
    cos, sin = F.rotary_angles(hs, T, base, dtype=np.float64)
    x = values((*lead, T, hs), seed)
    compare(
        lambda t: F.rotary_embedding(t, cos, sin), lambda t: torch_rotary(t, base), x, seed=seed
    )


def test_rotary_keeps_lengths_and_position_zero():
    x = values((2, 5, 8), 0)
    cos, sin = F.rotary_angles(8, 5, dtype=np.float64)
    y = F.rotary_embedding(Tensor(x), cos, sin).data
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-13)
    np.testing.assert_array_equal(y[:, 0], x[:, 0])  # angle 0 at position 0


def test_rotary_angles_are_computed_in_float64_then_cast():
    cos32, sin32 = F.rotary_angles(16, 64, dtype=np.float32)
    cos64, sin64 = F.rotary_angles(16, 64, dtype=np.float64)
    assert cos32.dtype == np.float32 and cos32.shape == (64, 8)
    np.testing.assert_array_equal(cos32, cos64.astype(np.float32))
    np.testing.assert_array_equal(sin32, sin64.astype(np.float32))


def test_rotary_errors_name_the_shapes():
    cos, sin = F.rotary_angles(4, 3)
    with pytest.raises(ValueError, match=r"x of shape \(3, 6\) needs cos and sin of shape"):
        F.rotary_embedding(Tensor(np.zeros((3, 6))), cos, sin)
    with pytest.raises(ValueError, match="head_size must be even, got 5"):
        F.rotary_angles(5, 3)
