"""Vision: an AlexNet-shaped network trained here, its data, and tools that look inside it.

- :mod:`~genailab.vision.alexnet`: the network, its named stages ``conv1 .. fc8``.
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "alexnet": ["AlexNet", "STAGES", "CONV_STAGES", "FC_STAGES", "check_stage"],
    },
)
