"""Evaluation: how close is a synthetic table to the real one?

- :mod:`~genailab.evaluate.distribution_distances`: Kolmogorov-Smirnov and total variation
  distances per column, the distance between correlation matrices, and the KS distance
  between multivariate empirical CDFs, after Granville.
- :mod:`~genailab.evaluate.synthetic_report`: the honest protocol that scores a synthetic table
  against held-out real rows, beside the real-copy and shuffled baselines.
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "distribution_distances": [
            "column_report",
            "correlation_distance",
            "ks_distance",
            "multivariate_ks_distance",
            "quantile_nodes",
            "total_variation_distance",
        ],
        "synthetic_report": ["SyntheticReport", "TableError", "compare_tables", "format_report"],
    },
)
