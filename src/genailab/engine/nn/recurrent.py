"""LSTM: a long short-term memory layer, one cell unrolled over the time steps.

Hochreiter & Schmidhuber, "Long Short-Term Memory" (Neural Computation, 1997), with the forget
gate of Gers, Schmidhuber & Cummins (2000), exactly as ``torch.nn.LSTM`` computes it::

    z = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh       # (B, 4H), torch's gate order:
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
    c_t = f * c_{t-1} + i * g                           # forget some memory, write some new
    h_t = o * tanh(c_t)                                 # read the memory out

The whole sequence is one op of the graph with its own backward, backpropagation through time
(Werbos 1990) written out: walking the steps in reverse, with ``dh`` and ``dc`` the gradients
reaching ``h_t`` and ``c_t`` (from the outputs and from step t + 1)::

    do = dh * tanh(c_t)                   dc += dh * o * (1 - tanh(c_t)^2)
    di = dc * g    df = dc * c_{t-1}      dg = dc * i        dc_{t-1} = dc * f
    dz = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]       dh_{t-1} = dz W_hh

NOTE: unrolling the cell into ordinary graph ops would also be correct, but each step's slice
``z[t]`` of the (T, B, 4H) input projection sends back a gradient as large as the whole
projection, T of them: quadratic in the sequence length. Here the per-step gradients ``dz``
land in one (T, B, 4H) array, and the weight gradients are three matrix products after the
loop, so both directions are linear in T.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from genailab.engine.nn.module import Module, as_tensor, parameter
from genailab.engine.tensor import Tensor, _make

RngLike = np.random.Generator | int | None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # NOTE: exp of a non-positive number never overflows
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _lstm_sequence(
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    h0: Tensor,
    c0: Tensor,
) -> Tensor:
    """Run an LSTM cell over ``x`` (B, T, C) from ``h0``, ``c0`` (B, H).

    Returns a (B, T, 2H) tensor: ``h_t`` in ``[..., :H]`` and ``c_t`` in ``[..., H:]``, every
    step, so that one backward pass serves the outputs and the final states alike.
    """
    xd, wi, wh = x.data, w_ih.data, w_hh.data
    B, T, C = xd.shape
    H = wh.shape[1]
    xs = np.ascontiguousarray(xd.transpose(1, 0, 2))  # (T, B, C) time-major
    zx = (xs.reshape(T * B, C) @ wi.T).reshape(T, B, 4 * H)  # (T, B, 4H) all inputs at once
    zx += b_ih.data + b_hh.data
    acts = np.empty_like(zx)  # (T, B, 4H) i, f, g, o after their nonlinearities
    hs = np.empty((T + 1, B, H), dtype=zx.dtype)  # (T + 1, B, H) h_{-1} = h0, h_0, ...
    cs = np.empty((T + 1, B, H), dtype=zx.dtype)  # (T + 1, B, H) c_{-1} = c0, c_0, ...
    tcs = np.empty((T, B, H), dtype=zx.dtype)  # (T, B, H) tanh(c_t)
    hs[0], cs[0] = h0.data, c0.data
    for t in range(T):
        z = zx[t] + hs[t] @ wh.T  # (B, 4H)
        a = acts[t]
        a[...] = _sigmoid(z)
        a[:, 2 * H : 3 * H] = np.tanh(z[:, 2 * H : 3 * H])
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        cs[t + 1] = f * cs[t] + i * g  # (B, H)
        tcs[t] = np.tanh(cs[t + 1])
        hs[t + 1] = o * tcs[t]  # (B, H)
    out = np.concatenate([hs[1:], cs[1:]], axis=-1).transpose(1, 0, 2)  # (B, T, 2H)

    def _backward(grad):  # backpropagation through time, see the module docstring
        g_out = grad.transpose(1, 0, 2)  # (T, B, 2H) time-major
        dzs = np.empty_like(acts)  # (T, B, 4H)
        dh = np.zeros((B, H), dtype=zx.dtype)  # reaching h_t from step t + 1
        dc = np.zeros((B, H), dtype=zx.dtype)  # reaching c_t from step t + 1
        for t in reversed(range(T)):
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            dh = dh + g_out[t, :, :H]  # (B, H)
            dc = dc + g_out[t, :, H:] + dh * o * (1.0 - tcs[t] * tcs[t])  # (B, H)
            dz = dzs[t]
            dz[:, :H] = dc * g * i * (1.0 - i)
            dz[:, H : 2 * H] = dc * cs[t] * f * (1.0 - f)
            dz[:, 2 * H : 3 * H] = dc * i * (1.0 - g * g)
            dz[:, 3 * H :] = dh * tcs[t] * o * (1.0 - o)
            dh = dz @ wh  # (B, H)
            dc = dc * f  # (B, H)
        dz2 = dzs.reshape(T * B, 4 * H)
        gx = (dz2 @ wi).reshape(T, B, C).transpose(1, 0, 2) if x.requires_grad else None
        gwi = dz2.T @ xs.reshape(T * B, C) if w_ih.requires_grad else None
        gwh = dz2.T @ hs[:-1].reshape(T * B, H) if w_hh.requires_grad else None
        gb = dz2.sum(axis=0)
        return gx, gwi, gwh, gb, gb, dh, dc

    return _make(out, (x, w_ih, w_hh, b_ih, b_hh, h0, c0), _backward)


class LSTM(Module):
    """One LSTM layer over batch-first sequences, as ``torch.nn.LSTM(batch_first=True)``.

    Parameters (torch's names and shapes): ``weight_ih_l0`` (4H, C), ``weight_hh_l0`` (4H, H),
    ``bias_ih_l0`` (4H,), ``bias_hh_l0`` (4H,), rows in gate order i, f, g, o.

    Parameters
    ----------
    input_size : int
        Features per time step, C.
    hidden_size : int
        Size of the hidden and cell states, H.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as torch.
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> lstm = LSTM(3, 5, rng=0)
    >>> out, (h, c) = lstm(Tensor(np.ones((2, 7, 3), dtype=np.float32)))
    >>> out.shape, h.shape, c.shape
    ((2, 7, 5), (1, 2, 5), (1, 2, 5))
    >>> bool(np.allclose(out.data[:, -1], h.data[0]))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        rng = np.random.default_rng(rng)
        self.input_size, self.hidden_size = input_size, hidden_size
        k, H = 1.0 / math.sqrt(hidden_size), hidden_size
        self.weight_ih_l0 = parameter(rng.uniform(-k, k, (4 * H, input_size)), dtype)
        self.weight_hh_l0 = parameter(rng.uniform(-k, k, (4 * H, H)), dtype)
        self.bias_ih_l0 = parameter(rng.uniform(-k, k, 4 * H), dtype)
        self.bias_hh_l0 = parameter(rng.uniform(-k, k, 4 * H), dtype)

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run the sequence ``x`` (B, T, C) from ``state`` = (h0, c0), each (1, B, H), or zeros.

        Returns ``out`` (B, T, H), the hidden state at every step, and ``(h, c)``, each
        (1, B, H), the states after the last step (torch's ``(h_n, c_n)``).
        """
        x = as_tensor(x)
        B, H = x.shape[0], self.hidden_size
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"LSTM expects input (B, T, {self.input_size}), got {x.shape}")
        if state is None:
            zeros = np.zeros((B, H), dtype=self.weight_hh_l0.dtype)
            h0, c0 = Tensor(zeros), Tensor(zeros)  # (B, H)
        else:
            h0, c0 = as_tensor(state[0]).reshape(B, H), as_tensor(state[1]).reshape(B, H)
        weights = (self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0)
        hc = _lstm_sequence(x, *weights, h0, c0)  # (B, T, 2H)
        out = hc[:, :, :H]  # (B, T, H)
        h, c = hc[:, -1, :H], hc[:, -1, H:]  # (B, H) each, after the last step
        return out, (h.reshape(1, B, H), c.reshape(1, B, H))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"
