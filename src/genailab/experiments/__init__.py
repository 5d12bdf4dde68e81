"""One module per data video. Each defines a config dataclass marked with
:func:`genailab.lab.registry.experiment`, a ``frames(cfg)`` generator and a
``draw(frame, canvas)`` renderer; the registry finds them by reading this package's files
(without importing them) and imports a module only when its experiment runs.

:func:`genailab.list_experiments` lists them.

Examples
--------
>>> import genailab
>>> genailab.list_experiments()["gradient-descent"]
'Gradient descent without a learning rate'
"""
