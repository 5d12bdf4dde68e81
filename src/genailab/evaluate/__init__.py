"""Evaluation: how close is a synthetic table to the real one?

- :mod:`~genailab.evaluate.distribution_distances`: Kolmogorov-Smirnov and total variation
  distances per column, the distance between correlation matrices, and the KS distance
  between multivariate empirical CDFs, after Granville.
- :mod:`~genailab.evaluate.synthetic_report`: the honest protocol that scores a synthetic table
  against held-out real rows, beside the real-copy and shuffled baselines.
"""

from genailab.evaluate.distribution_distances import (
    column_report,
    correlation_distance,
    ks_distance,
    multivariate_ks_distance,
    quantile_nodes,
    total_variation_distance,
)
from genailab.evaluate.synthetic_report import (
    SyntheticReport,
    TableError,
    compare_tables,
    format_report,
)

__all__ = [
    "SyntheticReport",
    "TableError",
    "column_report",
    "compare_tables",
    "correlation_distance",
    "format_report",
    "ks_distance",
    "multivariate_ks_distance",
    "quantile_nodes",
    "total_variation_distance",
]
