"""Embeddings and nearest-neighbour search.

- :mod:`~genailab.embed.neighbor_index`: what every index shares (scikit-learn's
  ``NearestNeighbors`` shape: ``fit``, ``kneighbors``; ``save`` and :func:`load_index`).
- :mod:`~genailab.embed.exact_index`: brute force with BLAS, the reference for recall.
- :mod:`~genailab.embed.graph_index`: HNSW-style graph and beam search (kernels in
  :mod:`~genailab.embed.graph_build`).
- :mod:`~genailab.embed.ivf_index`: k-means inverted lists, optionally product-quantised.
- :mod:`~genailab.embed.lsh_index`: random-hyperplane hashing, re-ranked exactly.
- :mod:`~genailab.embed.probabilistic_ann`: Granville's random probes (a lesson in pruning).
- :mod:`~genailab.embed.kmeans`: the k-means of the quantisers.
- :mod:`~genailab.embed.datasets`: GloVe word vectors and overlapping Gaussian mixtures.
"""

from genailab.embed.datasets import gaussian_mixture, load_glove
from genailab.embed.exact_index import ExactIndex, exact_search
from genailab.embed.graph_index import GraphIndex
from genailab.embed.ivf_index import IVFIndex
from genailab.embed.kmeans import KMeans
from genailab.embed.lsh_index import LSHIndex
from genailab.embed.neighbor_index import IndexFileError, NeighborIndex, load_index
from genailab.embed.probabilistic_ann import ProbabilisticANN, ProbeState, expected_recall

__all__ = [
    "ExactIndex",
    "GraphIndex",
    "IVFIndex",
    "IndexFileError",
    "KMeans",
    "LSHIndex",
    "NeighborIndex",
    "ProbabilisticANN",
    "ProbeState",
    "exact_search",
    "expected_recall",
    "gaussian_mixture",
    "load_glove",
    "load_index",
]
