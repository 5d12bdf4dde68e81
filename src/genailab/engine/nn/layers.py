"""The standard layers, with PyTorch's arguments, parameter names, shapes and initialization.

Each layer is a thin module around one op of :mod:`genailab.engine.functional`; the op holds
the forward and its backward. Initialization follows torch's defaults (``Linear``, ``Conv``:
U(-1/sqrt(fan_in), 1/sqrt(fan_in)); ``Embedding``: N(0, 1); ``LayerNorm``: ones and zeros),
drawn from the ``rng`` given, so a seed fixes every weight.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from genailab.engine import functional as F
from genailab.engine.nn.module import Module, ModuleList, as_tensor, parameter
from genailab.engine.tensor import Tensor

RngLike = np.random.Generator | int | None


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


class Linear(Module):
    """``y = x W^T + b`` with ``W`` of shape (out_features, in_features), as ``torch.nn.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the last axis of the input and of the output.
    bias : bool, default True
        Learn an additive bias.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights, U(-1/sqrt(in), 1/sqrt(in)).
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> fc = Linear(3, 2, rng=0)
    >>> fc.weight.shape, fc.bias.shape
    ((2, 3), (2,))
    >>> fc(Tensor(np.ones((5, 3), dtype=np.float32))).shape
    (5, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        rng = np.random.default_rng(rng)
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = parameter(rng.uniform(-bound, bound, (out_features, in_features)), dtype)
        self.bias = parameter(rng.uniform(-bound, bound, out_features), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(as_tensor(x), self.weight, self.bias)  # (..., in) -> (..., out)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: row ``idx`` of ``weight`` (num_embeddings, embedding_dim).

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        Number of rows (vocabulary size) and width of each row.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights, N(0, 1) as torch.
    dtype : numpy dtype, default float32
        Dtype of the table.

    Examples
    --------
    >>> import numpy as np
    >>> emb = Embedding(10, 4, rng=0)
    >>> emb(np.array([[1, 2, 2]])).shape  # integer indices (B, T) -> (B, T, dim)
    (1, 3, 4)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        rng = np.random.default_rng(rng)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = parameter(rng.standard_normal((num_embeddings, embedding_dim)), dtype)

    def forward(self, idx: np.ndarray) -> Tensor:
        return F.embedding(self.weight, np.asarray(idx))  # (...) -> (..., dim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class LayerNorm(Module):
    """Normalize the last axis to zero mean and unit variance, then scale and shift.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` (Ba, Kiros & Hinton 2016).

    Parameters
    ----------
    dim : int
        Size of the last axis.
    eps : float, default 1e-5
        Added to the variance.
    bias : bool, default True
        Learn the shift (nanoGPT can turn it off).
    rng : ignored
        Accepted for a uniform signature; the initialization is ones and zeros.
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> ln = LayerNorm(4)
    >>> y = ln(Tensor(np.array([[1.0, 2.0, 3.0, 4.0]])))
    >>> np.round(y.data, 3)
    array([[-1.342, -0.447,  0.447,  1.342]])
    """

    def __init__(
        self,
        dim: int,
        eps: float = 1e-5,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        self.dim, self.eps = dim, eps
        self.weight = parameter(np.ones(dim), dtype)
        self.bias = parameter(np.zeros(dim), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(as_tensor(x), self.weight, self.bias, eps=self.eps)  # (..., dim)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}"


class Dropout(Module):
    """Zero each entry with probability ``p`` in training, scale the rest by ``1 / (1 - p)``.

    The identity in evaluation mode (``module.eval()``). Srivastava et al. 2014.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an entry, in [0, 1).
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the masks.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> drop = Dropout(0.5, rng=0)
    >>> y = drop(Tensor(np.ones(8)))
    >>> sorted(set(y.data.tolist()))  # kept entries are doubled
    [0.0, 2.0]
    >>> drop.eval()(Tensor(np.ones(3))).data
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout needs 0 <= p < 1, got p={p}")
        self.p = p
        self.rng = np.random.default_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        return F.dropout(x, self.p, training=True, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": lambda x: x.relu(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "gelu": F.gelu,  # the exact x Phi(x), as torch.nn.GELU()
}


class MLP(Module):
    """A multilayer perceptron: Linear, activation, ..., Linear (no activation at the end).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[784, 256, 256, 10]``; layers are
        ``layers.0`` ... ``layers.{len(sizes) - 2}``.
    activation : {"relu", "tanh", "sigmoid", "gelu"}, default "relu"
        Nonlinearity after every layer but the last ("gelu" is the exact ``x Phi(x)``).
    residual : bool, default False
        On hidden layers whose input and output widths agree, add the input back:
        ``h <- h + act(layer(h))``.
    bias : bool, default True
        Give every layer a bias.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights.
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> mlp = MLP([4, 16, 16, 3], activation="tanh", residual=True, rng=0)
    >>> mlp(Tensor(np.ones((2, 4), dtype=np.float32))).shape
    (2, 3)
    >>> mlp.num_parameters()
    403
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        residual: bool = False,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP activation must be one of {', '.join(ACTIVATIONS)}, got '{activation}'"
            )
        rng = np.random.default_rng(rng)
        self.sizes, self.activation, self.residual = list(sizes), activation, residual
        self.layers = ModuleList(
            Linear(a, b, bias=bias, rng=rng, dtype=dtype) for a, b in itertools.pairwise(sizes)
        )

    def forward(self, x: Tensor) -> Tensor:
        act = ACTIVATIONS[self.activation]
        *hidden, last = self.layers
        for layer in hidden:
            h = act(layer(x))  # (..., out)
            x = x + h if self.residual and layer.in_features == layer.out_features else h
        return last(x)  # (..., sizes[-1])

    def extra_repr(self) -> str:
        return f"{self.sizes}, activation='{self.activation}', residual={self.residual}"


class Conv1d(Module):
    """1-D convolution over (N, C_in, L), as ``torch.nn.Conv1d`` (weight (C_out, C_in, K)).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    kernel_size : int
        Width of the kernel.
    stride, padding, dilation : int
        As in torch (zero padding on both ends).
    bias : bool, default True
        Learn a bias per output channel.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> conv = Conv1d(2, 5, kernel_size=3, padding=1, rng=0)
    >>> conv(Tensor(np.ones((4, 2, 10), dtype=np.float32))).shape
    (4, 5, 10)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        rng = np.random.default_rng(rng)
        self.in_channels, self.out_channels, self.kernel_size = (
            in_channels,
            out_channels,
            kernel_size,
        )
        self.stride, self.padding, self.dilation = stride, padding, dilation
        bound = 1.0 / math.sqrt(in_channels * kernel_size)
        shape = (out_channels, in_channels, kernel_size)
        self.weight = parameter(rng.uniform(-bound, bound, shape), dtype)
        self.bias = parameter(rng.uniform(-bound, bound, out_channels), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(  # (N, C_in, L) -> (N, C_out, L_out)
            as_tensor(x), self.weight, self.bias, self.stride, self.padding, self.dilation
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}"
        )


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W), as ``torch.nn.Conv2d`` (weight (C_out, C_in, kh, kw)).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    kernel_size : int or pair of int
        Kernel height and width.
    stride, padding, dilation : int or pair of int
        As in torch (zero padding on every side).
    bias : bool, default True
        Learn a bias per output channel.
    rng : numpy.random.Generator or int, optional
        Source (or seed) of the initial weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    dtype : numpy dtype, default float32
        Dtype of the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.tensor import Tensor
    >>> conv = Conv2d(3, 8, kernel_size=3, stride=2, padding=1, rng=0)
    >>> conv(Tensor(np.ones((2, 3, 16, 16), dtype=np.float32))).shape
    (2, 8, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = np.float32,
    ) -> None:
        rng = np.random.default_rng(rng)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        kh, kw = self.kernel_size
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        shape = (out_channels, in_channels, kh, kw)
        self.weight = parameter(rng.uniform(-bound, bound, shape), dtype)
        self.bias = parameter(rng.uniform(-bound, bound, out_channels), dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(  # (N, C_in, H, W) -> (N, C_out, H_out, W_out)
            as_tensor(x), self.weight, self.bias, self.stride, self.padding, self.dilation
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}"
        )
