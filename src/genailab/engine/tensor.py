"""Tensor: a numpy array that remembers how it was made, and reverse-mode autodiff over it.

Every operation on a :class:`Tensor` computes its result with numpy and, when a gradient is
wanted, records two things on the result: its parents and a ``_backward`` closure, written
right under the forward code, that maps the gradient of the result to the gradients of the
parents (the chain rule, one op at a time). ``backward()`` then visits the graph from the
output to the leaves in reverse topological order and adds each leaf's gradient into its
``.grad``:

    dL/dx = sum over the uses y of x of (dL/dy) (dy/dx)

Design choices, each one a trap avoided:

- the topological sort is iterative (an explicit stack), so a chain of tens of thousands
  of ops never meets Python's recursion limit;
- gradients flowing between intermediate tensors live in a dict for the duration of one
  ``backward()``; only leaves (tensors created with ``requires_grad=True``) keep ``.grad``,
  and it accumulates across calls until ``zero_grad()``, exactly like PyTorch;
- no graph is recorded under :class:`no_grad` or when no parent requires a gradient, so
  inference costs a numpy call plus a few attribute stores per op;
- float32 by default (python numbers, int and float16 arrays), float64 kept when given.

Examples
--------
>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

import contextvars
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Tensor", "is_grad_enabled", "no_grad"]

Backward = Callable[[np.ndarray], tuple[Any, ...]]

# ============================================================================================
# Grad mode
# ============================================================================================

_GRAD_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "genailab_engine_grad_enabled", default=True
)


def is_grad_enabled() -> bool:
    """Return whether operations record the graph in the current context.

    Examples
    --------
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _GRAD_ENABLED.get()


class no_grad:  # lower case like torch.no_grad: a context manager read as a verb
    """Context manager (and decorator) under which no graph is recorded.

    Results computed inside have ``requires_grad=False`` and keep no reference to their
    inputs, so inference and parameter updates are cheap. The flag is a
    :class:`contextvars.ContextVar`, so threads and async tasks do not see each other's mode.

    Examples
    --------
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 3.0
    >>> y.requires_grad
    False
    >>> @no_grad()
    ... def predict(x):
    ...     return x * w
    >>> predict(Tensor([1.0, 1.0])).requires_grad
    False
    """

    __slots__ = ("_tokens",)

    def __init__(self) -> None:
        self._tokens: list[contextvars.Token[bool]] = []

    def __enter__(self) -> no_grad:
        self._tokens.append(_GRAD_ENABLED.set(False))
        return self

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


# ============================================================================================
# Graph plumbing: building nodes, unbroadcasting, axes
# ============================================================================================


def _leaf(data: Any) -> Tensor:
    """A tensor outside the graph (no parents, no gradient), built without validation."""
    t = object.__new__(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad = None
    t.requires_grad = False
    t._parents = ()
    t._backward = None
    return t


def _make(data: Any, parents: tuple[Tensor, ...], backward: Backward) -> Tensor:
    """The result of an op: a graph node if grad mode is on and some parent requires grad.

    ``backward(g)`` returns one gradient (or None) per parent, in the order of ``parents``.
    """
    if _GRAD_ENABLED.get():
        for p in parents:
            if p.requires_grad:
                t = object.__new__(Tensor)
                t.data = data if type(data) is np.ndarray else np.asarray(data)
                t.grad = None
                t.requires_grad = True
                t._parents = parents
                t._backward = backward
                return t
    return _leaf(data)


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` down to ``shape``: the adjoint of numpy broadcasting.

    NOTE: broadcasting copies an input along new leading axes and along its size-1 axes, so
    the input's gradient is the sum over exactly those axes (keeping the size-1 ones).
    Forgetting this is the classic broadcasting bug: the gradient comes back with the
    output's shape instead of the input's.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return np.asarray(g)


def _axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """Normalize ``axis`` to a tuple of non-negative ints, or None for all axes."""
    if axis is None:
        return None
    items = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in items:
        if not isinstance(a, int | np.integer) or not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"axis {axis!r} is out of range for a tensor with {ndim} dimension(s); "
                f"accepted: None or ints in [{-ndim}, {ndim - 1}]"
            )
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis; each axis may appear once")
    return tuple(out)


def _expand(g: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Put back the reduced axes of ``g`` as size-1 axes, so it broadcasts over the input."""
    if keepdims or axes is None:
        return g
    return np.expand_dims(g, axes)


def _as_float(data: Any, dtype: Any) -> np.ndarray:
    """The array a Tensor holds: float32 unless float64 (or an explicit dtype) was given."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    arr = np.asarray(data)
    if arr.dtype == np.float32 or (
        arr.dtype == np.float64 and isinstance(data, np.ndarray | np.generic)
    ):
        return arr
    return arr.astype(np.float32)


def _index(idx: Any) -> tuple[Any, bool]:
    """Index with Tensors/lists turned into arrays; True if it holds an integer array."""
    items = idx if isinstance(idx, tuple) else (idx,)
    clean, has_int_array = [], False
    for i in items:
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype != np.bool_ and i.ndim > 0:
            has_int_array = True
        clean.append(i)
    return (tuple(clean) if isinstance(idx, tuple) else clean[0]), has_int_array


# ============================================================================================
# Tensor
# ============================================================================================


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : array_like
        The values. Python numbers, lists, int, bool and float16 arrays become float32; a
        float32 or float64 numpy array keeps its dtype.
    requires_grad : bool, default False
        Whether ``backward()`` should compute and store ``.grad`` for this tensor.
    dtype : numpy dtype, optional
        Force a dtype (for example ``np.float64`` for gradient checks).

    Attributes
    ----------
    data : np.ndarray
        The values.
    grad : np.ndarray or None
        The accumulated gradient (same shape and dtype as ``data``), leaves only.
    requires_grad : bool
        Whether gradients flow to this tensor.

    Examples
    --------
    >>> a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> b = Tensor([10.0, 20.0])
    >>> loss = (a @ b).mean()
    >>> loss
    Tensor(80., requires_grad=True)
    >>> loss.backward()
    >>> a.grad
    array([[ 5., 10.],
           [ 5., 10.]], dtype=float32)
    """

    __slots__ = ("_backward", "_parents", "data", "grad", "requires_grad")
    # NOTE: without this, `ndarray + Tensor` would make numpy loop over the Tensor as an
    # object array; with it, numpy returns NotImplemented and Python calls Tensor.__radd__.
    __array_ufunc__ = None
    __hash__ = object.__hash__  # __eq__ returns an array, yet tensors stay usable as keys

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data: np.ndarray = _as_float(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None

    # ---------------------------------------------------------------------------- basics

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data`` (and of ``grad``)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:  # the truth of a size-1 tensor; numpy refuses larger ones
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = "" if self.data.dtype == np.float32 else f", dtype={self.data.dtype}"
        extra += ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{extra})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """Return ``data`` (the array itself, not a copy)."""
        return self.data

    def item(self) -> float:
        """Return the value of a size-1 tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; got shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """Return a tensor sharing ``data`` but outside the graph (no gradient flows)."""
        return _leaf(self.data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad`` becomes None, as in PyTorch)."""
        self.grad = None

    # ------------------------------------------------------------------------- backward

    def backward(self, grad: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        Parameters
        ----------
        grad : array_like, optional
            The gradient of some scalar with respect to ``self`` (same shape). May be omitted
            for a size-1 tensor, which then seeds itself with 1.

        Examples
        --------
        >>> x = Tensor(3.0, requires_grad=True)
        >>> (x * x).backward()
        >>> (x * x).backward()  # gradients add up until zero_grad()
        >>> x.grad
        array(12., dtype=float32)
        """
        if not self.requires_grad:
            raise ValueError(
                "backward() was called on a tensor that does not require grad; create the "
                "leaves with requires_grad=True and compute outside no_grad()"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a scalar (size-1) tensor, got shape "
                    f"{self.shape}; reduce it first (e.g. .sum()) or pass grad= of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(grad) needs a gradient of shape {self.shape}, got {grad.shape}"
                )
        if self._backward is None:  # a leaf: its own gradient is the seed
            _accumulate(self, grad)
            return
        grads: dict[int, Any] = {id(self): grad}
        owned: set[int] = set()  # gradients this loop allocated, safe to add into in place
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)  # popped: intermediate gradients die early
            if g is None:
                continue
            for parent, pg in zip(node._parents, node._backward(g), strict=False):
                if pg is None or not parent.requires_grad:
                    continue
                if parent._backward is None:
                    _accumulate(parent, pg)
                else:
                    key = id(parent)
                    prev = grads.get(key)
                    if prev is None:  # may alias another gradient: never written into
                        grads[key] = pg
                    elif key in owned:
                        prev += pg
                    else:  # NOTE: asarray: 0-d + 0-d gives a numpy scalar, not a buffer
                        grads[key] = np.asarray(prev + pg)
                        owned.add(key)

    # ====================================================================== arithmetic

    def _other(self, other: Any) -> tuple[Tensor | None, Any]:
        """Split an operand into (Tensor or None, its data).

        NOTE: a Python number stays a Python number, so numpy treats it as "weak" and
        float32 stays float32; numpy arrays and numpy scalars are cast to our dtype for the
        same reason (a float64 constant would otherwise silently promote the whole graph).
        """
        if isinstance(other, Tensor):
            return other, other.data
        if type(other) is float or type(other) is int:  # not np.float64, a float subclass
            return None, other
        return None, np.asarray(other, dtype=self.data.dtype)

    def __add__(self, other: Any) -> Tensor:
        b, bd = self._other(other)
        out = self.data + bd
        a = self

        def _backward(g):  # d(a + b) = da + db
            return (
                _unbroadcast(g, a.data.shape) if a.requires_grad else None,
                _unbroadcast(g, b.data.shape) if b is not None and b.requires_grad else None,
            )

        return _make(out, (a,) if b is None else (a, b), _backward)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        b, bd = self._other(other)
        out = self.data - bd
        a = self

        def _backward(g):  # d(a - b) = da - db
            return (
                _unbroadcast(g, a.data.shape) if a.requires_grad else None,
                -_unbroadcast(g, b.data.shape) if b is not None and b.requires_grad else None,
            )

        return _make(out, (a,) if b is None else (a, b), _backward)

    def __rsub__(self, other: Any) -> Tensor:  # other - self, other a constant
        _, cd = self._other(other)
        out = cd - self.data
        a = self

        def _backward(g):
            return (-_unbroadcast(g, a.data.shape),)

        return _make(out, (a,), _backward)

    def __mul__(self, other: Any) -> Tensor:
        b, bd = self._other(other)
        ad = self.data
        out = ad * bd
        a = self

        def _backward(g):  # d(ab) = b da + a db
            return (
                _unbroadcast(g * bd, ad.shape) if a.requires_grad else None,
                _unbroadcast(g * ad, bd.shape) if b is not None and b.requires_grad else None,
            )

        return _make(out, (a,) if b is None else (a, b), _backward)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        b, bd = self._other(other)
        ad = self.data
        out = ad / bd
        a = self

        def _backward(g):  # d(a / b) = da / b - (a / b^2) db
            ga = g / bd
            return (
                _unbroadcast(ga, ad.shape) if a.requires_grad else None,
                _unbroadcast(-ga * out, bd.shape) if b is not None and b.requires_grad else None,
            )

        return _make(out, (a,) if b is None else (a, b), _backward)

    def __rtruediv__(self, other: Any) -> Tensor:  # other / self, other a constant
        _, cd = self._other(other)
        xd = self.data
        out = cd / xd
        a = self

        def _backward(g):  # d(c / x) = -(c / x^2) dx
            return (_unbroadcast(-g * out / xd, xd.shape),)

        return _make(out, (a,), _backward)

    def __pow__(self, other: Any) -> Tensor:
        b, bd = self._other(other)
        ad = self.data
        a = self
        if b is None and isinstance(bd, int | float):
            p = bd
            # NOTE: x**p calls the C library's pow() per element, ~100x slower than a multiply;
            # the common exponents take the fast road.
            if p == 2:
                out = ad * ad
            elif p == 0.5:
                out = np.sqrt(ad)
            elif p == -1:
                out = 1.0 / ad
            else:
                out = ad**p

            def _backward(g):  # d(x^p) = p x^(p-1) dx
                if p == 2:
                    return (g * (2 * ad),)
                if p == 0.5:
                    return (g * 0.5 / out,)
                if p == -1:
                    return (-g * out * out,)
                return (g * (p * ad ** (p - 1)),)

            return _make(out, (a,), _backward)
        out = ad**bd

        def _backward(g):  # d(a^b) = b a^(b-1) da + a^b log(a) db
            return (
                _unbroadcast(g * bd * ad ** (bd - 1), ad.shape) if a.requires_grad else None,
                _unbroadcast(g * out * np.log(ad), bd.shape)
                if b is not None and b.requires_grad
                else None,
            )

        return _make(out, (a,) if b is None else (a, b), _backward)

    def __rpow__(self, other: Any) -> Tensor:  # c ** self, c a constant
        _, cd = self._other(other)
        xd = self.data
        out = cd**xd
        log_c = math.log(cd) if type(cd) is not np.ndarray else np.log(cd)  # keep floats weak

        def _backward(g):  # d(c^x) = c^x log(c) dx
            return (_unbroadcast(g * out * log_c, xd.shape),)

        return _make(out, (self,), _backward)

    def __neg__(self) -> Tensor:
        def _backward(g):
            return (-g,)

        return _make(-self.data, (self,), _backward)

    # --------------------------------------------------------------------------- matmul

    def __matmul__(self, other: Any) -> Tensor:
        b = other if isinstance(other, Tensor) else _leaf(np.asarray(other, self.data.dtype))
        ad, bd = self.data, b.data
        if ad.ndim == 0 or bd.ndim == 0:
            raise ValueError(
                f"matmul needs operands with at least 1 dimension, got shapes {ad.shape} and "
                f"{bd.shape}; use * for scalars"
            )
        k_a = ad.shape[-1]
        k_b = bd.shape[0] if bd.ndim == 1 else bd.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul shape mismatch: {ad.shape} @ {bd.shape}; the last axis of the left "
                f"({k_a}) must equal the {'only' if bd.ndim == 1 else 'second-to-last'} axis "
                f"of the right ({k_b})"
            )
        try:
            out = ad @ bd
        except ValueError as err:
            raise ValueError(
                f"matmul cannot broadcast the batch axes of {ad.shape} and {bd.shape}: {err}"
            ) from None
        a = self

        def _backward(g):  # C = A B  =>  dA = dC B^T,  dB = A^T dC  (summed over batches)
            if ad.ndim == 1 and bd.ndim == 1:  # a dot product
                return (g * bd if a.requires_grad else None, g * ad if b.requires_grad else None)
            # NOTE: a 1-D operand is a row (left) or a column (right) vector; lift it to
            # 2-D so one formula serves all cases, then drop the axis again.
            a2 = ad[None, :] if ad.ndim == 1 else ad
            b2 = bd[:, None] if bd.ndim == 1 else bd
            g2 = g
            if ad.ndim == 1:
                g2 = np.expand_dims(g2, -2)
            if bd.ndim == 1:
                g2 = np.expand_dims(g2, -1)
            ga = gb = None
            if a.requires_grad:
                ga = _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(ad.shape)
            if b.requires_grad:
                if b2.ndim == 2 and a2.ndim > 2:  # (..., n, k) @ (k, m): one big matmul
                    gb = a2.reshape(-1, a2.shape[-1]).T @ g2.reshape(-1, g2.shape[-1])
                else:
                    gb = _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape)
                gb = gb.reshape(bd.shape)
            return ga, gb

        return _make(out, (a, b), _backward)

    def __rmatmul__(self, other: Any) -> Tensor:  # constant @ self
        return _leaf(np.asarray(other, self.data.dtype)) @ self

    # ------------------------------------------------------------- comparisons (no grad)

    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < self._other(other)[1]

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= self._other(other)[1]

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > self._other(other)[1]

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= self._other(other)[1]

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        if other is None or isinstance(other, str):  # not comparable: Python says False
            return NotImplemented
        return self.data == self._other(other)[1]

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        if other is None or isinstance(other, str):
            return NotImplemented
        return self.data != self._other(other)[1]

    # ======================================================================= reductions

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (None: all axes).

        Examples
        --------
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
        Tensor([4., 6.])
        """
        axes = _axes(axis, self.data.ndim)
        shape = self.data.shape
        out = self.data.sum(axis=axes, keepdims=keepdims)

        def _backward(g):  # every input element contributes once: copy g back over the axes
            return (np.broadcast_to(_expand(g, axes, keepdims), shape),)

        return _make(out, (self,), _backward)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Arithmetic mean over ``axis`` (None: all axes).

        Examples
        --------
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).mean(axis=1, keepdims=True)
        Tensor([[1.5],
                [3.5]])
        """
        axes = _axes(axis, self.data.ndim)
        shape = self.data.shape
        n = _count(shape, axes)
        out = self.data.mean(axis=axes, keepdims=keepdims)

        def _backward(g):  # d mean = (1/n) d sum; scale the small array, then broadcast
            return (np.broadcast_to(_expand(g * (1.0 / max(n, 1)), axes, keepdims), shape),)

        return _make(out, (self,), _backward)

    def var(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Population variance (``ddof=0``) over ``axis`` (None: all axes).

        Examples
        --------
        >>> Tensor([1.0, 2.0, 3.0, 4.0]).var()
        Tensor(1.25)
        """
        axes = _axes(axis, self.data.ndim)
        x = self.data
        n = _count(x.shape, axes)
        d = x - x.mean(axis=axes, keepdims=True)
        out = np.mean(d * d, axis=axes, keepdims=keepdims)

        def _backward(g):  # d var / dx_i = 2 (x_i - mu) / n  (the path through mu sums to 0)
            return (_expand(g * (2.0 / max(n, 1)), axes, keepdims) * d,)

        return _make(out, (self,), _backward)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (None: all axes); ties share the gradient equally.

        Examples
        --------
        >>> x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
        >>> x.max().backward()
        >>> x.grad
        array([0. , 0.5, 0.5], dtype=float32)
        """
        axes = _axes(axis, self.data.ndim)
        x = self.data
        top = x.max(axis=axes, keepdims=True)
        out = top if keepdims else (top.reshape(()) if axes is None else top.squeeze(axes))

        def _backward(g):
            # NOTE: with ties, the subgradient is split evenly among the maxima (as
            # torch.amax does), so the gradient sums to g whatever the number of ties.
            hit = x == top
            share = _expand(g, axes, keepdims) / hit.sum(axis=axes, keepdims=True)
            return (hit * share,)

        return _make(out, (self,), _backward)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``: ``-(-x).max(axis)``, ties share the gradient equally.

        Examples
        --------
        >>> Tensor([2.0, -1.0, 5.0]).min()
        Tensor(-1.)
        """
        return -((-self).max(axis=axis, keepdims=keepdims))

    # ===================================================================== elementwise

    def exp(self) -> Tensor:
        """Elementwise e^x."""
        out = np.exp(self.data)

        def _backward(g):  # d e^x = e^x dx
            return (g * out,)

        return _make(out, (self,), _backward)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        x = self.data

        def _backward(g):  # d log x = dx / x
            return (g / x,)

        return _make(np.log(x), (self,), _backward)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        out = np.sqrt(self.data)

        def _backward(g):  # d sqrt(x) = dx / (2 sqrt(x))
            return (g * 0.5 / out,)

        return _make(out, (self,), _backward)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        out = np.tanh(self.data)

        def _backward(g):  # d tanh x = (1 - tanh^2 x) dx
            return (g * (1.0 - out * out),)

        return _make(out, (self,), _backward)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function 1 / (1 + e^-x), stable for any x.

        Examples
        --------
        >>> Tensor([-1000.0, 0.0, 1000.0]).sigmoid()
        Tensor([0. , 0.5, 1. ])
        """
        x = self.data
        # NOTE: 1 / (1 + e^-x) overflows e^-x for x << 0; with e = e^-|x| both branches
        # only ever exponentiate a non-positive number.
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)

        def _backward(g):  # d s = s (1 - s) dx
            return (g * out * (1.0 - out),)

        return _make(out, (self,), _backward)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0); the gradient at 0 is 0, as in PyTorch."""
        x = self.data

        def _backward(g):
            return (g * (x > 0),)

        return _make(np.maximum(x, 0), (self,), _backward)

    def sin(self) -> Tensor:
        """Elementwise sine."""
        x = self.data

        def _backward(g):
            return (g * np.cos(x),)

        return _make(np.sin(x), (self,), _backward)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        x = self.data

        def _backward(g):
            return (-g * np.sin(x),)

        return _make(np.cos(x), (self,), _backward)

    def abs(self) -> Tensor:
        """Elementwise |x|; the gradient at 0 is 0, as in PyTorch."""
        x = self.data

        def _backward(g):
            return (g * np.sign(x),)

        return _make(np.abs(x), (self,), _backward)

    # ========================================================================== shapes

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """Same values, new shape (one axis may be -1); accepts ``reshape(2, 3)`` or ``((2, 3))``.

        Examples
        --------
        >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
        """
        new = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        x = self.data
        try:
            out = x.reshape(new)
        except (ValueError, TypeError):
            raise ValueError(
                f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
                f"{new}; the new shape must hold the same number of elements"
            ) from None

        def _backward(g):
            return (g.reshape(x.shape),)

        return _make(out, (self,), _backward)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the axes (no argument: reverse them, like ``.T``).

        Examples
        --------
        >>> Tensor(np.zeros((2, 3, 4))).transpose(1, 0, 2).shape
        (3, 2, 4)
        """
        perm = tuple(axes[0]) if len(axes) == 1 and not isinstance(axes[0], int) else axes
        nd = self.data.ndim
        perm = tuple(reversed(range(nd))) if not perm else _axes(perm, nd)
        if len(perm) != nd:
            raise ValueError(f"transpose needs a permutation of all {nd} axes, got {axes}")
        inverse = tuple(np.argsort(perm))

        def _backward(g):
            return (g.transpose(inverse),)

        return _make(self.data.transpose(perm), (self,), _backward)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return self.transpose()

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes.

        Examples
        --------
        >>> Tensor(np.zeros((2, 3, 4))).swapaxes(0, -1).shape
        (4, 3, 2)
        """
        ((a1,), (a2,)) = _axes(axis1, self.data.ndim), _axes(axis2, self.data.ndim)

        def _backward(g):
            return (g.swapaxes(a1, a2),)

        return _make(self.data.swapaxes(a1, a2), (self,), _backward)

    def __getitem__(self, idx: Any) -> Tensor:
        """Numpy indexing: slices, ints, None, Ellipsis, integer arrays, boolean masks.

        Examples
        --------
        >>> W = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        >>> rows = W[np.array([[0, 2], [2, 2]])]  # an embedding lookup, (B, T) -> (B, T, C)
        >>> rows.shape
        (2, 2, 2)
        >>> rows.sum().backward()
        >>> W.grad[:, 0]  # row 2 was used three times (float64 in, float64 out)
        array([1., 0., 3.])
        """
        idx, scatter = _index(idx)
        x = self.data
        out = x[idx]
        if scatter and isinstance(idx, np.ndarray) and idx.dtype.kind in "iu":  # W[idx]
            rows = idx.reshape(-1) % max(len(x), 1)

            def _backward(g):
                return (_add_rows(x.shape, x.dtype, rows, g.reshape(len(rows), *x.shape[1:])),)

            return _make(out, (self,), _backward)

        def _backward(g):
            gx = np.zeros_like(x)
            if scatter:
                # NOTE: `gx[idx] += g` would keep only the last of repeated indices (a row
                # looked up twice must receive both gradients); np.add.at accumulates them.
                np.add.at(gx, idx, g)
            else:  # slices and masks select each element at most once
                gx[idx] = g
            return (gx,)

        return _make(out, (self,), _backward)

    # ======================================================================== softmax

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, computed without overflow.

        Examples
        --------
        >>> Tensor([1e4, 1e4, -1e4]).softmax()
        Tensor([0.5, 0.5, 0. ])
        """
        (ax,) = _axes(axis, self.data.ndim)
        # NOTE: softmax(x) = softmax(x - max x): subtracting the max makes every exponent
        # <= 0, so logits of 1e4 give exact results instead of inf / inf = nan.
        e = np.exp(self.data - self.data.max(axis=ax, keepdims=True))
        out = e / e.sum(axis=ax, keepdims=True)

        def _backward(g):  # fused Jacobian-vector product: s * (g - <g, s>)
            return (out * (g - (g * out).sum(axis=ax, keepdims=True)),)

        return _make(out, (self,), _backward)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log(softmax(x)) along ``axis`` = x - logsumexp(x), without overflow or log(0).

        Examples
        --------
        >>> Tensor([1e4, 0.0]).log_softmax()
        Tensor([     0., -10000.])
        """
        (ax,) = _axes(axis, self.data.ndim)
        z = self.data - self.data.max(axis=ax, keepdims=True)  # NOTE: max-shift, as softmax
        out = z - np.log(np.exp(z).sum(axis=ax, keepdims=True))

        def _backward(g):  # d logsoftmax: g - softmax * sum(g)
            return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

        return _make(out, (self,), _backward)


# ============================================================================================
# Backward helpers
# ============================================================================================


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """Number of input elements that each output of a reduction over ``axes`` averages."""
    return int(np.prod(shape if axes is None else [shape[i] for i in axes]))


def _accumulate(t: Tensor, g: Any) -> None:
    """Add ``g`` into the leaf's ``.grad``, in place once the buffer exists."""
    if t.grad is None:
        # NOTE: copy: g may be a view shared with another tensor's gradient (the two
        # parents of an addition receive the same array), and grad must be ours to mutate.
        t.grad = np.array(g, dtype=t.data.dtype, copy=True)
    else:
        t.grad += g


def _add_rows(shape: tuple[int, ...], dtype: Any, idx: np.ndarray, rows: Any) -> np.ndarray:
    """zeros(shape) with ``rows[k]`` added into row ``idx[k]``; repeated indices add up.

    NOTE: the gradient of a lookup ``W[idx]``. ``gw[idx] += rows`` would keep only the last
    of repeated indices; ``np.add.at`` is right but slow, so sort the indices and sum each
    run of equal ones with one ``np.add.reduceat``.
    """
    out = np.zeros(shape, dtype)
    if idx.size:
        order = np.argsort(idx, kind="stable")
        s = idx[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        out[s[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def _topological_order(root: Tensor) -> list[Tensor]:
    """Interior nodes reachable from ``root``, each after all of its parents.

    NOTE: an explicit stack of (node, iterator over its parents) replaces the recursive
    depth-first search, whose depth would be the length of the graph (a 20,000-step chain
    would blow Python's recursion limit). Leaves are not listed: they are accumulated into
    directly as their children are processed.
    """
    order: list[Tensor] = []
    seen = {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p._backward is not None and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
