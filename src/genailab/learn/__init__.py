"""Learners and fundamentals, each one a small numpy implementation that a data video can show.

- :mod:`~genailab.learn.gradient_descent`: Granville's math-free, parameter-free gradient
  descent on a function tabulated once on a grid.
- :mod:`~genailab.learn.perceptron`: Rosenblatt's perceptron, one threshold unit per output.
- :mod:`~genailab.learn.sine_network`: one hidden layer of sine units, fitted with random
  frozen features (least squares) or with both layers learned (the engine and Adam).
"""

from genailab.learn.gradient_descent import (
    DescentStep,
    Mode,
    TabulatedFunction,
    basin_of,
    descend,
    settle,
)
from genailab.learn.perceptron import Perceptron
from genailab.learn.sine_network import SineNetwork

__all__ = [
    "DescentStep",
    "Mode",
    "Perceptron",
    "SineNetwork",
    "TabulatedFunction",
    "basin_of",
    "descend",
    "settle",
]
