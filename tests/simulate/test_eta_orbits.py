"""Eta-function orbits against closed forms: scipy's zeta, ln 2, and zeros of zeta."""

import numpy as np
import pytest
from scipy.special import zeta

from genailab.simulate import averaged_partial_sums, eta, eta_partial_sums

# Published constants, not genailab output: the first two zeros of zeta on the critical line
# (imaginary parts, from Odlyzko's tables) and zeta(1/2).
ZERO_1 = 14.134725141734693
ZERO_2 = 21.022039638771555
ZETA_HALF = -1.4603545088095868


def test_partial_sums_match_a_direct_sum():
    s = np.array([0.5 + 14.1j, 2.0, 0.75 - 3j])
    out = eta_partial_sums(s, 50)
    assert out.shape == (3, 50) and out.dtype == np.complex128
    for i, si in enumerate(s):
        direct = sum((-1) ** (k + 1) * k ** (-si) for k in range(1, 31))
        assert out[i, 29] == pytest.approx(direct, abs=1e-13)


@pytest.mark.parametrize("sigma", [1.5, 2.0, 3.0, 6.5])
def test_eta_is_one_minus_two_to_one_minus_s_times_zeta_for_real_s(sigma):
    expected = (1 - 2 ** (1 - sigma)) * zeta(sigma)
    assert eta(sigma)[0] == pytest.approx(expected, rel=1e-13, abs=0)


def test_known_values():
    assert eta(1.0)[0].real == pytest.approx(np.log(2), abs=1e-13)
    assert eta(0.5)[0].real == pytest.approx((1 - np.sqrt(2)) * ZETA_HALF, abs=1e-12)
    assert abs(eta(0.5)[0].imag) < 1e-15


def test_averaged_partial_sums_vanish_at_zeros_of_zeta():
    s = np.array([0.5 + 1j * ZERO_1, 0.5 + 1j * ZERO_2, 0.75 + 1j * ZERO_1])
    partial = eta_partial_sums(s, 2000)
    # The raw partial sums only get within ~n^-sigma / 2 of the limit ...
    assert np.abs(partial[:2, -1]).min() > 5e-3
    # ... one round of averaging is within ~1e-4, eight rounds within 1e-12.
    once = averaged_partial_sums(partial, 1)[:, -1]
    assert np.abs(once[:2]).max() < 1e-4
    limit = eta(s)
    assert np.abs(limit[:2]).max() < 1e-12
    # off the critical line the same height is no zero: the limit is far from 0
    assert abs(limit[2]) > 0.3


def test_raw_error_follows_half_the_next_term():
    # For an alternating series S_n - eta ~ (-1)^n (n+1)^-s / 2 to leading order.
    s = np.array([0.5 + 1j * ZERO_1, 0.75 + 5j])
    n = 4000
    partial = eta_partial_sums(s, n)
    error = np.abs(partial[:, -1] - eta(s))
    assert error == pytest.approx(0.5 * (n + 1) ** -s.real, rel=0.01)


def test_averaging_is_binomial_mean():
    partial = np.array([1.0, 4.0, 2.0, 8.0, 3.0])
    out = averaged_partial_sums(partial, 3)
    expected = [(1 + 3 * 4 + 3 * 2 + 8) / 8, (4 + 3 * 2 + 3 * 8 + 3) / 8]
    np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: eta_partial_sums(1.0, 0), "n_terms must be an int >= 1, got 0"),
        (lambda: eta_partial_sums(np.ones((2, 2)), 3), "1-D array"),
        (lambda: eta_partial_sums(np.nan, 3), "s must be finite"),
        (lambda: eta(-0.5), r"Re\(s\) > 0"),
        (lambda: eta(1.0, n_terms=5, order=5), "n_terms must be an int > order = 5"),
        (lambda: averaged_partial_sums(np.ones(3), 3), r"order must be an int in \[0, 2\]"),
    ],
)
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()
