"""genailab.engine: reverse-mode autograd from zero, on numpy only.

A :class:`Tensor` records the operations that made it; ``backward()`` applies the chain
rule through them. :mod:`~genailab.engine.functional` holds the fused ops a network needs
(cross-entropy, layer norm, convolution, attention), :mod:`~genailab.engine.nn` the modules
and :mod:`~genailab.engine.optim` the optimizers, each with PyTorch's names and layouts so
that weights copy over one to one.

Examples
--------
>>> from genailab.engine import Tensor, functional as F
>>> logits = Tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, [0])
>>> round(loss.item(), 4)
0.1698
>>> loss.backward()
>>> logits.grad.round(4)
array([[-0.1562,  0.1142,  0.042 ]], dtype=float32)
"""

from __future__ import annotations

import ctypes
import importlib
from typing import Any

from genailab.engine import functional
from genailab.engine.tensor import Tensor, is_grad_enabled, no_grad

__all__ = [
    "Tensor",
    "functional",
    "is_grad_enabled",
    "nn",
    "no_grad",
    "optim",
    "tune_allocator",
]


def tune_allocator() -> bool:
    """Let the C allocator keep freed memory, so a training step stops page-faulting.

    A forward and backward pass allocates and frees hundreds of temporaries of a few MB.
    By default glibc hands such blocks back to the kernel (``munmap``, heap trimming), and
    every new one then faults its pages in again, zero-filled, one by one: on a small GPT
    that is a third of the step time. This raises glibc's mmap threshold to its 32 MB
    maximum and its trim threshold to 1 GB, for the whole process (numpy and torch alike),
    so freed memory is reused instead. Call it once at the start of a training script or
    benchmark; it is opt-in because it changes process-wide behaviour.

    Returns
    -------
    bool
        True if applied; False (and nothing changed) where the C library is not glibc.

    Examples
    --------
    >>> tune_allocator()  # on Linux with glibc
    True
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's <malloc.h>
    return bool(mallopt(m_mmap_threshold, 32 * 2**20)) and bool(mallopt(m_trim_threshold, 2**30))


def __getattr__(name: str) -> Any:
    """Import ``nn`` and ``optim`` on first use (they are written against this core)."""
    if name in ("nn", "optim"):
        return importlib.import_module(f"genailab.engine.{name}")
    raise AttributeError(f"module 'genailab.engine' has no attribute {name!r}")
