"""Learners and fundamentals, each one a small numpy implementation that a data video can show.

- :mod:`~genailab.learn.gradient_descent`: Granville's math-free, parameter-free gradient
  descent on a function tabulated once on a grid.
"""

from genailab.learn.gradient_descent import (
    DescentStep,
    Mode,
    TabulatedFunction,
    basin_of,
    descend,
    settle,
)

__all__ = ["DescentStep", "Mode", "TabulatedFunction", "basin_of", "descend", "settle"]
