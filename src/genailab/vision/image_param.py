"""How an optimised image is parameterised: pixels or a 1/f-scaled spectrum, decorrelated colours.

Feature visualisation climbs the gradient of an activation with respect to an image. What the
climb finds depends on the coordinates it climbs in (Mordvintsev et al. 2018, "Differentiable
Image Parameterizations"; Olah et al. 2017, "Feature Visualization"):

- **pixels** (:class:`PixelImage`): every pixel is a free parameter. The gradient of a deep
  activation is dominated by high frequencies, so the climb fills the image with a fine
  adversarial pattern that the network loves and a person cannot read.
- **a Fourier spectrum** (:class:`FourierImage`): the parameters are the coefficients of the
  image's 2-D real FFT, each multiplied by ``1 / max(f, 1 / side)`` where ``f`` is its
  frequency in cycles per pixel. A unit step on every coefficient then gives an image with the
  1/f amplitude spectrum of natural images, and plain gradient ascent in these coordinates
  is gradient ascent preconditioned towards low frequencies.
- **decorrelated colours** (:func:`colour_decorrelation`): natural images' red, green and blue
  are strongly correlated. The three parameter channels are mixed by the square root ``S`` of
  the training images' RGB covariance (``S S^T = Sigma``), so independent unit-variance
  parameters give colours with the data's covariance.

Both end in a sigmoid, which maps the unbounded parameters to valid intensities in [0, 1].

Examples
--------
>>> import torch
>>> image = FourierImage(batch=2, channels=3, size=16, seed=0)
>>> x = image()  # (B, C, H, W) in [0, 1]
>>> tuple(x.shape), bool(((x > 0) & (x < 1)).all())
((2, 3, 16, 16), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from genailab.errors import DataError


# ----------------------------------------------------------------------------- colour
def colour_covariance(images: Any) -> np.ndarray:
    """The covariance (C, C) float64 of the pixel colours of ``images``, (N, H, W, C) uint8 or
    floats in [0, 1], in [0, 1] units.

    Examples
    --------
    >>> grey = np.linspace(0, 1, 16).reshape(1, 4, 4, 1)
    >>> round(float(colour_covariance(grey)[0, 0]), 4)
    0.1007
    """
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[-1] not in (1, 3) or array.size == 0:
        raise DataError(
            f"colour_covariance: images must be (N, H, W, C) with C = 1 or 3, got shape "
            f"{array.shape}"
        )
    pixels = array.reshape(-1, array.shape[-1]).astype(np.float64)  # (N H W, C)
    if array.dtype == np.uint8:
        pixels /= 255.0
    return np.atleast_2d(np.cov(pixels, rowvar=False))


def colour_decorrelation(images: Any) -> np.ndarray:
    """The symmetric square root ``S`` (C, C) of the colour covariance of ``images``.

    ``S = V diag(sqrt(lambda)) V^T`` from the eigendecomposition ``Sigma = V diag(lambda) V^T``,
    so ``S @ S == Sigma`` (and ``S @ S.T``, ``S`` being symmetric). Mixing independent
    unit-variance colour parameters by ``S`` gives colours with the data's covariance.

    Parameters
    ----------
    images : array (N, H, W, C)
        Training images, uint8 or floats in [0, 1]; C = 1 (grey) or 3 (RGB).

    Returns
    -------
    ndarray (C, C) float32

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> grey = rng.random((50, 4, 4, 1))
    >>> rgb = np.concatenate([grey, grey * 0.5, 1 - grey], axis=-1)  # correlated channels
    >>> S = colour_decorrelation(rgb)
    >>> bool(np.allclose(S @ S, colour_covariance(rgb), atol=1e-6))
    True
    """
    cov = colour_covariance(images)  # (C, C)
    eigenvalues, vectors = np.linalg.eigh(cov)  # ascending, (C,), (C, C)
    # NOTE: a channel that never varies has a zero (or tiny negative, from rounding) eigenvalue
    root = vectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T
    return root.astype(np.float32)


def _normalised_mixing(sqrt_cov: np.ndarray | torch.Tensor | None, channels: int) -> torch.Tensor:
    """``S`` divided by its largest column norm (so no parameter channel is amplified), or the
    identity without one."""
    if sqrt_cov is None:
        return torch.eye(channels)
    mix = torch.as_tensor(np.asarray(sqrt_cov, dtype=np.float32))
    if tuple(mix.shape) != (channels, channels) or not torch.isfinite(mix).all():
        raise DataError(
            f"colour mixing matrix must be a finite ({channels}, {channels}) matrix, got "
            f"shape {tuple(mix.shape)}"
        )
    scale = mix.norm(dim=0).max()
    return mix / scale if scale > 0 else torch.eye(channels)


# ----------------------------------------------------------------------------- spectrum
def frequency_scale(size: int, decay: float = 1.0) -> torch.Tensor:
    """The amplitude ``1 / max(f, 1 / size) ** decay`` of each coefficient of a (size, size)
    image's ``rfft2``, (size, size // 2 + 1); ``f`` in cycles per pixel.

    Examples
    --------
    >>> s = frequency_scale(8)
    >>> tuple(s.shape), float(s[0, 0]), float(s[0, 1]), float(s[0, 4])  # f = 0, 1/8, 1/2
    ((8, 5), 8.0, 8.0, 2.0)
    """
    fy = torch.fft.fftfreq(size)[:, None]  # (H, 1) cycles per pixel, signed
    fx = torch.fft.rfftfreq(size)[None, :]  # (1, W // 2 + 1)
    f = torch.sqrt(fy**2 + fx**2)  # (H, W // 2 + 1)
    return 1.0 / torch.clamp(f, min=1.0 / size) ** decay


class _Image(nn.Module):
    """Shared tail: mix colours by the normalised square root of the covariance, sigmoid."""

    def __init__(self, channels: int, sqrt_cov: Any) -> None:
        super().__init__()
        self.register_buffer("mix", _normalised_mixing(sqrt_cov, channels))  # (C, C)

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        """Unbounded decorrelated parameters (B, C, H, W) -> colours in [0, 1]."""
        z = torch.einsum("dc,bchw->bdhw", self.mix, z)  # (B, C, H, W), colours correlated
        return torch.sigmoid(z)


class PixelImage(_Image):
    """An image whose parameters are its (pre-sigmoid, colour-decorrelated) pixels.

    Parameters
    ----------
    batch, channels, size : int
        The images' count, colour channels (1 or 3) and side.
    sqrt_cov : array (C, C), optional
        :func:`colour_decorrelation` of the training images; ``None`` leaves colours
        independent.
    seed : int
        Seeds the small random start (standard deviation 0.01 around mid-grey).
    """

    def __init__(
        self, batch: int, channels: int, size: int, sqrt_cov: Any = None, seed: int = 0
    ) -> None:
        super().__init__(channels, sqrt_cov)
        g = torch.Generator().manual_seed(seed)
        self.pixels = nn.Parameter(0.01 * torch.randn(batch, channels, size, size, generator=g))

    def forward(self) -> torch.Tensor:
        return self.to_image(self.pixels)  # (B, C, H, W)


class FourierImage(_Image):
    """An image whose parameters are its spectrum, scaled by 1/f.

    The parameters ``w`` (B, C, H, W // 2 + 1, 2) are the real and imaginary parts of the
    ``rfft2`` coefficients divided by :func:`frequency_scale`; the image is
    ``irfft2(w * scale, norm="ortho") / 4``. Orthonormal FFT: a unit coefficient contributes
    an image of unit norm; the factor 4 (as Mordvintsev et al.) keeps the start's pre-sigmoid
    values in the sigmoid's linear range despite the large low-frequency gains.

    Parameters
    ----------
    batch, channels, size, sqrt_cov, seed
        As :class:`PixelImage`.
    decay : float
        The power of the 1/f scaling (1: natural images' amplitude spectrum; 0: white).

    Examples
    --------
    >>> image = FourierImage(1, 1, 8, seed=0)
    >>> tuple(image.spectrum.shape), tuple(image().shape)
    ((1, 1, 8, 5, 2), (1, 1, 8, 8))
    """

    def __init__(
        self,
        batch: int,
        channels: int,
        size: int,
        sqrt_cov: Any = None,
        seed: int = 0,
        decay: float = 1.0,
    ) -> None:
        super().__init__(channels, sqrt_cov)
        g = torch.Generator().manual_seed(seed)
        self.size = size
        shape = (batch, channels, size, size // 2 + 1, 2)
        self.spectrum = nn.Parameter(0.01 * torch.randn(*shape, generator=g))
        self.register_buffer("scale", frequency_scale(size, decay))  # (H, W // 2 + 1)

    def decorrelated(self) -> torch.Tensor:
        """The pre-mixing, pre-sigmoid image (B, C, H, W)."""
        coeffs = torch.view_as_complex(self.spectrum) * self.scale  # (B, C, H, W // 2 + 1)
        return torch.fft.irfft2(coeffs, s=(self.size, self.size), norm="ortho") / 4.0

    def forward(self) -> torch.Tensor:
        return self.to_image(self.decorrelated())  # (B, C, H, W)


PARAMETERISATIONS = {"fourier": FourierImage, "pixel": PixelImage}
