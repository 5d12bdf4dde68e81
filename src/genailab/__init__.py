"""genailab: a laboratory for machine learning and generative AI, in which the data explains.

Every concept is an implementation, a proof against a reference, an experiment that yields
frames, and a data video rendered from those frames.

Importing genailab is cheap: the experiments, the runner and the topic packages (engine,
learn, lm, ...) load when first used, so ``import genailab.engine`` costs numpy and nothing
more.

Examples
--------
>>> import genailab
>>> "gradient-descent" in genailab.list_experiments()
True
"""

from __future__ import annotations

from genailab.errors import ConfigError, GenailabError, OutputError, UnknownNameError
from genailab.lazy_exports import lazy_exports

__version__ = "0.1.0"
_lazy_names, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "lab.registry": ["describe", "list_experiments"],
        "lab.runner": ["run"],
    },
)
__all__ = [
    "ConfigError",
    "GenailabError",
    "OutputError",
    "UnknownNameError",
    "__version__",
    *_lazy_names,
]
