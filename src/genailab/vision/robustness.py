"""Transformation robustness: random pads, jitters, scalings and rotations of a batch of images.

An image optimised to excite a neuron through one fixed view tends to be an adversarial
pattern: shift it by a pixel and the activation collapses. Olah et al. (2017, "Feature
Visualization") instead optimise the *expected* activation over small random transformations
applied before each step; what survives them is a pattern the neuron responds to wherever and
however it appears. Each transform here is random per image of the batch, differentiable
(a sampling grid through ``grid_sample``), and keeps the image's size, so that a network with
fully connected stages still takes it:

- :func:`pad`: a border of constant colour (so that the later moves do not pull the image's
  own edge into view), removed again by :func:`crop`;
- :func:`jitter`: a shift by a random whole number of pixels;
- :func:`scale`: a zoom by a random factor about the centre;
- :func:`rotate`: a rotation by a random angle about the centre.

:class:`Robustness` chains them in the order of the paper (pad, jitter, scale, rotate, jitter,
crop), with magnitudes fitted to 28-64 px images.

Examples
--------
>>> import torch
>>> x = torch.rand(4, 3, 16, 16)
>>> g = torch.Generator().manual_seed(0)
>>> tuple(Robustness()(x, g).shape)
(4, 3, 16, 16)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def pad(x: torch.Tensor, width: int, value: float = 0.5) -> torch.Tensor:
    """``x`` (B, C, H, W) with a border of ``width`` pixels of ``value`` on every side."""
    return F.pad(x, (width, width, width, width), mode="constant", value=value)


def crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """The centre ``size`` x ``size`` of ``x`` (B, C, H, W)."""
    top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
    return x[..., top : top + size, left : left + size]


def _warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample ``x`` (B, C, H, W) through the affine maps ``theta`` (B, 2, 3), output
    coordinates -> input ones in [-1, 1]; outside the image, the border's colour."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _identity(batch: int, x: torch.Tensor) -> torch.Tensor:
    return torch.eye(2, 3, device=x.device, dtype=x.dtype).repeat(batch, 1, 1)  # (B, 2, 3)


def jitter(x: torch.Tensor, pixels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of ``x`` (B, C, H, W) by its own random whole number of pixels in
    ``[-pixels, pixels]`` along each axis (exact: the grid lands on pixel centres)."""
    if pixels <= 0:
        return x
    B, _, H, W = x.shape
    shift = torch.randint(-pixels, pixels + 1, (B, 2), generator=generator)  # (B, 2) dx, dy
    theta = _identity(B, x)
    # NOTE: with align_corners=False the image spans [-1, 1] over W pixels: a pixel is 2 / W
    theta[:, 0, 2] = 2.0 * shift[:, 0].to(x) / W
    theta[:, 1, 2] = 2.0 * shift[:, 1].to(x) / H
    return _warp(x, theta)


def scale(
    x: torch.Tensor, factors: Sequence[float], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Zoom each image of ``x`` (B, C, H, W) about its centre by a factor drawn from
    ``factors`` (> 1 enlarges)."""
    if not factors:
        return x
    B = x.shape[0]
    choice = torch.randint(len(factors), (B,), generator=generator)  # (B,)
    zoom = torch.tensor(list(factors), dtype=x.dtype)[choice].to(x.device)  # (B,)
    theta = _identity(B, x)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / zoom  # output -> input coordinates: shrink
    return _warp(x, theta)


def rotate(
    x: torch.Tensor, degrees: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Rotate each image of ``x`` (B, C, H, W) about its centre by its own angle drawn
    uniformly from ``[-degrees, degrees]``."""
    if degrees <= 0:
        return x
    B = x.shape[0]
    angle = (torch.rand(B, generator=generator) * 2 - 1) * math.radians(degrees)  # (B,)
    cos, sin = torch.cos(angle).to(x), torch.sin(angle).to(x)
    theta = torch.zeros(B, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    return _warp(x, theta)


@dataclass(frozen=True)
class Robustness:
    """The chain pad -> jitter -> scale -> rotate -> jitter -> crop, random per image.

    Parameters
    ----------
    pad : int
        Border in pixels (of ``fill``) added first and cropped last.
    jitter : int
        Largest shift (pixels) of the first jitter; the second shifts by up to half of it
        (at least 1), after the resampling of the scaling and rotation.
    scales : tuple of float
        Zoom factors to draw from.
    degrees : float
        Largest rotation.
    fill : float
        The border's intensity.
    """

    pad: int = 2
    jitter: int = 2
    scales: tuple[float, ...] = (0.9, 0.95, 1.0, 1.05, 1.1)
    degrees: float = 10.0
    fill: float = 0.5

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``x`` (B, C, H, W) -> randomly transformed images of the same shape."""
        size = x.shape[-1]
        y = pad(x, self.pad, self.fill)  # (B, C, H + 2 pad, W + 2 pad)
        y = jitter(y, self.jitter, generator)
        y = scale(y, self.scales, generator)
        y = rotate(y, self.degrees, generator)
        y = jitter(y, max(1, self.jitter // 2) if self.jitter else 0, generator)
        return crop(y, size)  # (B, C, H, W)
