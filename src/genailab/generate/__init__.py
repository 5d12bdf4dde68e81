"""Generative models: synthetic data drawn from what was observed, and beyond it.

- :mod:`~genailab.generate.quantile_extrapolation`: Granville's kernel-smoothed bootstrap,
  whose samples and quantiles reach past the observed minimum and maximum.
"""

from genailab.generate.quantile_extrapolation import QuantileExtrapolator

__all__ = ["QuantileExtrapolator"]
