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

from genailab.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "datasets": ["gaussian_mixture", "load_glove"],
        "exact_index": ["ExactIndex", "exact_search"],
        "graph_index": ["GraphIndex"],
        "ivf_index": ["IVFIndex"],
        "kmeans": ["KMeans"],
        "lsh_index": ["LSHIndex"],
        "neighbor_index": ["IndexFileError", "NeighborIndex", "load_index"],
        "probabilistic_ann": ["ProbabilisticANN", "ProbeState", "expected_recall"],
    },
)
