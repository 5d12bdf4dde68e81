"""Evaluation: how close is a synthetic table to the real one?

- :mod:`~genailab.evaluate.distribution_distances`: Kolmogorov-Smirnov and total variation
  distances per column, the distance between correlation matrices, and the KS distance
  between multivariate empirical CDFs, after Granville.
"""

from genailab.evaluate.distribution_distances import (
    column_report,
    correlation_distance,
    ks_distance,
    multivariate_ks_distance,
    total_variation_distance,
)

__all__ = [
    "column_report",
    "correlation_distance",
    "ks_distance",
    "multivariate_ks_distance",
    "total_variation_distance",
]
