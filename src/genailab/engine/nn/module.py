"""Module: the base of every layer -- finds its parameters, saves and loads them, train/eval.

As in PyTorch, a module's parameters and submodules are simply its attributes: a Tensor with
``requires_grad=True`` is a parameter, a :class:`Module` a submodule, found in the order they
were assigned. Dotted names (``transformer.h.0.attn.c_attn.weight``) are built the way torch
builds them, so a torch twin's ``state_dict`` maps onto ours key for key. Lists of modules
go in a :class:`ModuleList` (a plain Python list is not searched), named ones in a
:class:`ModuleDict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from genailab.engine.tensor import Tensor


def parameter(data: Any, dtype: Any = np.float32) -> Tensor:
    """A trainable leaf tensor: ``data`` cast to ``dtype``, with ``requires_grad=True``."""
    return Tensor(np.asarray(data, dtype=dtype), requires_grad=True)


def as_tensor(x: Any) -> Tensor:
    """``x`` if it is a Tensor, else a constant Tensor of it (a float64 array stays float64)."""
    return x if isinstance(x, Tensor) else Tensor(x)


class Module:
    """Base class of the engine's layers (PyTorch's ``nn.Module`` in miniature).

    Subclasses assign parameters and submodules as attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``. No ``super().__init__()`` is needed.

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.nn import Linear, Module
    >>> class TwoLayer(Module):
    ...     def __init__(self):
    ...         self.fc1 = Linear(3, 4, rng=0)
    ...         self.fc2 = Linear(4, 1, bias=False, rng=1)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> net = TwoLayer()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight']
    >>> net(np.ones((2, 3), dtype=np.float32)).shape
    (2, 1)
    """

    training: bool = True  # a class default, so subclasses need not call super().__init__()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- the module tree ----------------------------------------------------------------------

    def named_children(self) -> list[tuple[str, Module]]:
        """Direct submodules, as (attribute name, module), in assignment order."""
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def children(self) -> list[Module]:
        """Direct submodules, in assignment order."""
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module and every submodule below it, depth first, each module once."""
        out: list[tuple[str, Module]] = []
        seen: set[int] = set()
        self._walk(prefix, seen, out)
        return out

    def modules(self) -> list[Module]:
        """This module and every submodule below it, depth first, each module once."""
        return [m for _, m in self.named_modules()]

    def _walk(self, prefix: str, seen: set[int] | None, out: list[tuple[str, Module]]) -> None:
        if seen is not None:
            if id(self) in seen:
                return
            seen.add(id(self))
        out.append((prefix, self))
        for name, child in self.named_children():
            child._walk(f"{prefix}.{name}" if prefix else name, seen, out)

    def _named_tensors(self, remove_duplicate: bool) -> list[tuple[str, Tensor]]:
        """(dotted name, parameter) for the whole tree; a parameter's own module comes first."""
        modules: list[tuple[str, Module]] = []
        self._walk("", set() if remove_duplicate else None, modules)
        out, seen = [], set()
        for prefix, module in modules:
            for name, value in vars(module).items():
                if isinstance(value, Tensor) and value.requires_grad:
                    if remove_duplicate:
                        if id(value) in seen:
                            continue  # a tied weight is listed once, under its first name
                        seen.add(id(value))
                    out.append((f"{prefix}.{name}" if prefix else name, value))
        return out

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """Every parameter once, as (dotted name, tensor), in torch's order and naming."""
        return self._named_tensors(remove_duplicate=True)

    def parameters(self) -> list[Tensor]:
        """Every parameter once (tied weights once), in a deterministic order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Number of trainable scalars (tied weights counted once)."""
        return sum(p.data.size for p in self.parameters())

    # ---- state --------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter array by dotted name (a tied weight under each of its names,
        as torch does)."""
        return {name: p.data.copy() for name, p in self._named_tensors(remove_duplicate=False)}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        """Copy arrays (numpy, or anything ``np.asarray`` takes: torch CPU tensors too) into
        the parameters, in place, so tied weights and optimizer references stay intact.

        Parameters
        ----------
        state_dict : mapping of str to array
            Arrays by dotted name, as :meth:`state_dict` returns them.
        strict : bool, default True
            Raise if a key is missing or unexpected; with ``False`` load the keys that match.

        Raises
        ------
        ValueError
            Naming the keys that are missing or unexpected, or the key whose shape differs;
            nothing is loaded then.
        """
        own = dict(self._named_tensors(remove_duplicate=False))
        if strict:
            missing = [k for k in own if k not in state_dict]
            unexpected = [k for k in state_dict if k not in own]
            if missing or unexpected:
                raise ValueError(
                    f"load_state_dict into {type(self).__name__}: missing keys {missing}, "
                    f"unexpected keys {unexpected}"
                )
        arrays = {k: np.asarray(v) for k, v in state_dict.items() if k in own}
        for name, value in arrays.items():
            if value.shape != own[name].data.shape:
                raise ValueError(
                    f"load_state_dict into {type(self).__name__}: '{name}' has shape "
                    f"{value.shape} in the state dict but {own[name].data.shape} in the model"
                )
        for name, value in arrays.items():
            own[name].data[...] = value

    # ---- modes and gradients ------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and all below it; return self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout is the identity); return self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``, torch's default)."""
        for p in self.parameters():
            p.grad = None

    # ---- printing -----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join([*lines, ")"])


class ModuleList(Module):
    """A list of modules whose parameters are named ``0.weight``, ``1.weight``, ...

    Examples
    --------
    >>> from genailab.engine.nn import Linear, ModuleList
    >>> layers = ModuleList([Linear(2, 2, rng=0), Linear(2, 1, rng=0)])
    >>> len(layers), [n for n, _ in layers.named_parameters()][-1]
    (2, '1.bias')
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._size = 0
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end (its name is its index)."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        setattr(self, str(self._size), module)
        self._size += 1
        return self

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i: int) -> Module:
        if not -self._size <= i < self._size:
            raise IndexError(f"index {i} out of range for a ModuleList of length {self._size}")
        return getattr(self, str(i % self._size))

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, str(i)) for i in range(self._size))


class Sequential(ModuleList):
    """Modules applied one after the other; parameters named ``0.weight``, ... (as torch).

    Examples
    --------
    >>> import numpy as np
    >>> from genailab.engine.nn import Linear, Sequential
    >>> from genailab.engine.tensor import Tensor
    >>> net = Sequential(Linear(3, 8, rng=0), Linear(8, 2, rng=1))
    >>> net(Tensor(np.ones((4, 3), dtype=np.float32))).shape
    (4, 2)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class ModuleDict(Module):
    """Modules by name (nanoGPT keeps its ``transformer`` in one); parameters ``name.weight``.

    Examples
    --------
    >>> from genailab.engine.nn import Linear, ModuleDict
    >>> d = ModuleDict(enc=Linear(2, 3, rng=0), dec=Linear(3, 2, rng=0))
    >>> list(d.keys()), d["dec"].weight.shape
    (['enc', 'dec'], (2, 3))
    """

    def __init__(self, modules: Mapping[str, Module] | None = None, **kwargs: Module) -> None:
        for name, module in {**(modules or {}), **kwargs}.items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds Modules, got {type(module).__name__} for '{name}'")
        setattr(self, name, module)

    def __getitem__(self, name: str) -> Module:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        """The names, in insertion order."""
        return [name for name, _ in self.named_children()]

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())
