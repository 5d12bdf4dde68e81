"""genailab: a laboratory for machine learning and generative AI, in which the data explains.

Every concept is an implementation, a proof against a reference, an experiment that yields
frames, and a data video rendered from those frames.

Examples
--------
>>> import genailab
>>> "gradient-descent" in genailab.experiments()
True
"""

from __future__ import annotations

from genailab import experiments  # a callable package: genailab.experiments() lists them
from genailab.errors import ConfigError, GenailabError, OutputError, UnknownNameError
from genailab.lab.runner import run

__version__ = "0.1.0"
__all__ = [
    "ConfigError",
    "GenailabError",
    "OutputError",
    "UnknownNameError",
    "__version__",
    "experiments",
    "run",
]
