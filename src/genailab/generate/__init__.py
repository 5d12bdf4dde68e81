"""Generative models: synthetic data drawn from what was observed, and beyond it.

- :mod:`~genailab.generate.quantile_extrapolation`: Granville's kernel-smoothed bootstrap,
  whose samples and quantiles reach past the observed minimum and maximum.
- :mod:`~genailab.generate.bin_synthesizer`: Granville's NoGAN idea, a multinomial over the
  occupied quantile hyper-rectangles, then a draw inside the chosen one.
- :mod:`~genailab.generate.gaussian_copula`: empirical margins joined by the correlation of
  their normal scores.
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "bin_synthesizer": ["BinSynthesizer"],
        "gaussian_copula": ["GaussianCopula"],
        "quantile_extrapolation": ["QuantileExtrapolator"],
    },
)
