"""Package exports that are imported on first use (PEP 562), so one tool costs only its own imports.

A package ``__init__`` that imports all of its modules makes ``from genailab.learn import
TabulatedFunction`` pay for torch (the bitmap classifier) and numba (the graph index) too:
seconds, for a command that needs milliseconds. Instead each package names its public API
and the module that holds each name; a name's module is imported the first time the name is
read, then cached in the package like an ordinary attribute::

    __all__, __getattr__, __dir__ = lazy_exports(__name__, {
        "bitmap_classifier": ["BitmapClassifier"],
        "gradient_descent": ["TabulatedFunction", "descend"],
    })

``from genailab.learn import BitmapClassifier``, ``genailab.learn.BitmapClassifier`` and
``help(genailab.learn)`` behave exactly as with eager imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, a module ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to list of str
        Submodule (relative to ``package``) -> the public names it defines.

    Examples
    --------
    >>> names, getattr_, dir_ = lazy_exports("genailab.learn", {"perceptron": ["Perceptron"]})
    >>> names, getattr_("Perceptron").__name__
    (['Perceptron'], 'Perceptron')
    """
    where = {name: module for module, names in exports.items() for name in names}
    if len(where) != sum(len(names) for names in exports.values()):
        raise TypeError(f"{package}: a name is exported by two modules")

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        module = importlib.import_module(f"{package}.{where[name]}")
        for exported in exports[where[name]]:  # later reads of these skip __getattr__
            setattr(sys.modules[package], exported, getattr(module, exported))
        return getattr(module, name)

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return sorted(where), __getattr__, __dir__
