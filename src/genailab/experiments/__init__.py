"""One module per data video. Each defines a config dataclass marked with
:func:`genailab.lab.registry.experiment`, a ``frames(cfg)`` generator and a
``draw(frame, canvas)`` renderer; the registry finds them by walking this package.

Calling the package lists the experiments: ``genailab.experiments()`` (the package and the
function share a name, and Python binds a subpackage to its parent's attribute on import, so
the package itself is made callable rather than letting one shadow the other).

Examples
--------
>>> import genailab
>>> genailab.experiments()["gradient-descent"]
'Gradient descent without a learning rate'
"""

from __future__ import annotations

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self) -> dict[str, str]:
        """Name -> one-line title of every registered experiment, in gallery order."""
        from genailab.lab.registry import experiments

        return experiments()


sys.modules[__name__].__class__ = _CallablePackage
