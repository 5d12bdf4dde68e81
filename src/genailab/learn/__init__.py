"""Learners and fundamentals, each one a small numpy implementation that a data video can show.

- :mod:`~genailab.learn.bitmap_classifier`: Granville's bitmap ("GPU") classification: the
  training points painted on a grid, then a majority or random-neighbour filter spreads their
  labels pass after pass until every pixel is classified.
- :mod:`~genailab.learn.cloud_regression`: Granville's cloud regression, one fitter for every
  shape linear in its parameters (line, polynomial, circle, conic; the Halir-Flusser ellipse),
  with parametric-bootstrap intervals and bands; the shapes in
  :mod:`~genailab.learn.implicit_shapes`.
- :mod:`~genailab.learn.gradient_descent`: Granville's math-free, parameter-free gradient
  descent on a function tabulated once on a grid.
- :mod:`~genailab.learn.perceptron`: Rosenblatt's perceptron, one threshold unit per output.
- :mod:`~genailab.learn.product_centres`: unsupervised regression with two centres, minimising
  ``sum ||x - a||^p ||x - b||^p`` (damped Newton), next to 2-means.
- :mod:`~genailab.learn.sine_network`: one hidden layer of sine units, fitted with random
  frozen features (least squares) or with both layers learned (the engine and Adam).
"""

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "bitmap_classifier": ["BitmapClassifier"],
        "cloud_regression": ["CloudRegression"],
        "gradient_descent": [
            "DescentStep",
            "Mode",
            "TabulatedFunction",
            "basin_of",
            "descend",
            "settle",
        ],
        "implicit_shapes": ["EllipseGeometry"],
        "perceptron": ["Perceptron"],
        "product_centres": ["ProductCentres", "product_objective", "two_means"],
        "sine_network": ["SineNetwork"],
    },
)
