"""Embeddings and nearest-neighbour search.

- :mod:`~genailab.embed.neighbor_index`: what every index shares (scikit-learn's
  ``NearestNeighbors`` shape: ``fit``, ``kneighbors``; ``save`` and :func:`load_index`).
- :mod:`~genailab.embed.exact_index`: brute force with BLAS, the reference for recall.
"""

from genailab.embed.exact_index import ExactIndex, exact_search
from genailab.embed.neighbor_index import IndexFileError, NeighborIndex, load_index

__all__ = ["ExactIndex", "IndexFileError", "NeighborIndex", "exact_search", "load_index"]
