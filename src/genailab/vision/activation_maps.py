"""Activation maps: one image through every stage of the network, and a kernel as a sliding dot
product.

A convolution kernel is a small template. Laid on one patch of the image, it gives one number:
the dot product of the kernel's weights with the patch's pixels (plus a bias), large where the
patch looks like the kernel. Slid over every patch, those numbers form the kernel's activation
map, which is exactly what ``torch.nn.functional.conv2d`` computes (a cross-correlation: the
kernel is not flipped). :func:`sliding_dot_product` computes it that way, explicitly, as the dot
product of the kernel with every patch, so that it can be checked against ``conv2d`` and shown
on a patch (:func:`patch_dot`). :func:`activation_maps` then sends one image through every stage
of an :class:`~genailab.vision.alexnet.AlexNet` (or a trained one) and returns each stage's maps:
``(C, H, W)`` for the conv and pool stages, a vector for the fully connected ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from genailab.errors import ConfigError, DataError
from genailab.vision.alexnet import STAGES, check_stage

Prepare = Callable[[np.ndarray], torch.Tensor]


# ------------------------------------------------------------------ the sliding dot product
def _as_array(value, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"{name}: expected numbers, got dtype {array.dtype}")
    return array


def _checked(image, kernel, stride: int, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """Image as (N, C, H, W) and kernels as (O, C, kh, kw), both in one float dtype."""
    image, kernel = _as_array(image, "image"), _as_array(kernel, "kernel")
    if image.ndim not in (3, 4):
        raise DataError(f"image: expected (C, H, W) or (N, C, H, W), got shape {image.shape}")
    if kernel.ndim not in (3, 4):
        raise DataError(f"kernel: expected (C, k, k) or (O, C, k, k), got shape {kernel.shape}")
    if int(stride) != stride or stride < 1:
        raise ConfigError(f"stride must be a positive integer, got {stride}")
    if int(padding) != padding or padding < 0:
        raise ConfigError(f"padding must be a non-negative integer, got {padding}")
    images = image if image.ndim == 4 else image[None]  # (N, C, H, W)
    kernels = kernel if kernel.ndim == 4 else kernel[None]  # (O, C, kh, kw)
    if images.shape[1] != kernels.shape[1]:
        raise DataError(
            f"kernel has {kernels.shape[1]} channels but the image has {images.shape[1]} "
            f"(image {image.shape}, kernel {kernel.shape})"
        )
    side = np.array(images.shape[2:]) + 2 * int(padding)
    if np.any(np.array(kernels.shape[2:]) > side):
        raise DataError(f"kernel {kernels.shape[2:]} is larger than the padded image {tuple(side)}")
    dtype = np.result_type(images.dtype, kernels.dtype, np.float32)
    return images.astype(dtype, copy=False), kernels.astype(dtype, copy=False)


def _pad(images: np.ndarray, padding: int) -> np.ndarray:
    width = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    return np.pad(images, width) if padding else images


def sliding_dot_product(image, kernel, bias=0.0, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The activation map of a kernel: its dot product with every patch of the image.

    The image is padded with ``padding`` zeros on each side; the patch at output position
    ``(y, x)`` is the ``kh x kw`` window whose top-left pixel is ``(y * stride, x * stride)``
    of the padded image, and the map's value there is ``sum(kernel * patch) + bias``. Every
    window is a view of the padded image (``sliding_window_view``), and one ``einsum`` takes
    all the dot products at once: the same numbers as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    image : array or tensor, (C, H, W) or (N, C, H, W)
    kernel : array or tensor, (C, kh, kw) or (O, C, kh, kw)
        One kernel, or ``O`` of them (a conv layer's ``.weight``).
    bias : float or (O,) array
    stride, padding : int

    Returns
    -------
    ndarray
        ``(H', W')`` for one image and one kernel; ``(O, H', W')``, ``(N, H', W')`` or
        ``(N, O, H', W')`` when either has the leading axis; ``H' = (H + 2 p - kh) // s + 1``.
        Float64 when either input is float64, float32 otherwise.

    Examples
    --------
    >>> image = np.arange(16.0).reshape(1, 4, 4)
    >>> kernel = np.array([[[0.0, 1.0], [0.0, 0.0]]])  # picks the top-right pixel of a patch
    >>> sliding_dot_product(image, kernel, stride=2)
    array([[ 1.,  3.],
           [ 9., 11.]])
    """
    images, kernels = _checked(image, kernel, stride, padding)
    kh, kw = kernels.shape[2:]
    windows = sliding_window_view(_pad(images, int(padding)), (kh, kw), axis=(2, 3))
    windows = windows[:, :, :: int(stride), :: int(stride)]  # (N, C, H', W', kh, kw), a view
    maps = np.einsum("nchwij,ocij->nohw", windows, kernels, optimize=True)  # (N, O, H', W')
    bias = np.asarray(_as_array(bias, "bias"), dtype=maps.dtype)
    if bias.ndim not in (0, 1) or (bias.ndim == 1 and bias.shape[0] != kernels.shape[0]):
        raise DataError(
            f"bias: expected a number or one per kernel ({kernels.shape[0]}), got {bias.shape}"
        )
    maps += bias.reshape(-1, 1, 1) if bias.ndim else bias
    if kernel.ndim == 3:
        maps = maps[:, 0]
    return maps if image.ndim == 4 else maps[0]


class PatchDot(NamedTuple):
    """One position of a sliding dot product: the patch, the kernel times it, their sum."""

    patch: np.ndarray  # (C, kh, kw): the pixels under the kernel (zeros in the padding)
    products: np.ndarray  # (C, kh, kw): kernel * patch, element by element
    value: float  # products.sum() + bias: the activation map at this position


def patch_dot(
    image, kernel, y: int, x: int, bias: float = 0.0, stride: int = 1, padding: int = 0
) -> PatchDot:
    """The kernel laid on the patch under output position ``(y, x)``: what the map's value
    there is made of.

    Parameters
    ----------
    image : array or tensor, (C, H, W)
    kernel : array or tensor, (C, kh, kw)
    y, x : int
        A position of the activation map (``0 <= y < H'``, ``0 <= x < W'``).
    bias : float
    stride, padding : int
        As in :func:`sliding_dot_product`.

    Examples
    --------
    >>> image = np.arange(16.0).reshape(1, 4, 4)
    >>> kernel = np.ones((1, 3, 3))
    >>> dot = patch_dot(image, kernel, 0, 0, padding=1)
    >>> dot.patch[0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 4., 5.]])
    >>> dot.value, float(sliding_dot_product(image, kernel, padding=1)[0, 0])
    (10.0, 10.0)
    """
    image_array, kernel_array = _as_array(image, "image"), _as_array(kernel, "kernel")
    if image_array.ndim != 3 or kernel_array.ndim != 3:
        raise DataError(
            f"patch_dot: expected an image (C, H, W) and a kernel (C, k, k), got shapes "
            f"{image_array.shape} and {kernel_array.shape}"
        )
    images, kernels = _checked(image_array, kernel_array, stride, padding)
    kh, kw = kernels.shape[2:]
    padded = _pad(images, int(padding))[0]  # (C, H + 2p, W + 2p)
    rows = (padded.shape[1] - kh) // int(stride) + 1
    cols = (padded.shape[2] - kw) // int(stride) + 1
    if not (0 <= y < rows and 0 <= x < cols):
        raise DataError(
            f"patch_dot: position ({y}, {x}) is outside the {rows} x {cols} activation map"
        )
    top, left = int(y) * int(stride), int(x) * int(stride)
    patch = padded[:, top : top + kh, left : left + kw].copy()  # (C, kh, kw)
    products = kernels[0] * patch  # (C, kh, kw)
    return PatchDot(patch, products, float(products.sum() + bias))


# ------------------------------------------------------------------ images into a network
def _to_batch(images, in_channels: int, image_size: int) -> torch.Tensor:
    """Images as a float tensor (N, C, H, W) in [0, 1] for a plain AlexNet: (N, H, W, C) or
    (N, H, W) arrays (uint8 scaled by 1/255), or a tensor already (N, C, H, W)."""
    if isinstance(images, torch.Tensor):
        batch = images if images.is_floating_point() else images.float()
    else:
        array = _as_array(images, "images")
        if array.ndim == 3 and in_channels == 1:
            array = array[..., None]  # (N, H, W) grey -> (N, H, W, 1)
        if array.ndim != 4:
            raise DataError(f"images: expected (N, H, W, C), got shape {array.shape}")
        scale = 1 / 255 if array.dtype == np.uint8 else 1.0
        batch = torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))
        batch = batch.float() * scale  # (N, C, H, W)
    expected = (in_channels, image_size, image_size)
    if batch.ndim != 4 or tuple(batch.shape[1:]) != expected:
        raise DataError(
            f"images: the network takes (N, {in_channels}, {image_size}, {image_size}) "
            f"(or (N, {image_size}, {image_size}, {in_channels}) arrays), got {tuple(batch.shape)}"
        )
    return batch


def network_and_prepare(model_or_trained) -> tuple[nn.Module, Prepare]:
    """The AlexNet inside ``model_or_trained`` and the function that turns images into its
    input: a ``TrainedCNN``'s own ``prepare`` (normalised as in training), or, for a plain
    ``AlexNet``, images scaled to [0, 1].

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> net, prepare = network_and_prepare(AlexNet(in_channels=1, image_size=28))
    >>> tuple(prepare(np.zeros((2, 28, 28), np.uint8)).shape)
    (2, 1, 28, 28)
    """
    model = getattr(model_or_trained, "model", model_or_trained)
    if not (isinstance(model, nn.Module) and hasattr(model, "stages")):
        raise DataError(
            f"expected an AlexNet or a TrainedCNN, got {type(model_or_trained).__name__}"
        )
    prepare = getattr(model_or_trained, "prepare", None)
    if prepare is None or model_or_trained is model:
        config = model.config_dict()
        channels, size = config["in_channels"], config["image_size"]

        def prepare(images):
            return _to_batch(images, channels, size)

    return model, prepare


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode (no dropout) and without gradients, its mode restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def activation_maps(
    model_or_trained, image, stages: Iterable[str] = STAGES
) -> dict[str, np.ndarray]:
    """Each stage's output for one image, in one forward pass.

    Parameters
    ----------
    model_or_trained : AlexNet or TrainedCNN
    image : array (H, W, C) or (H, W), uint8 or float; or a prepared tensor (C, H, W)
        One image of the network's input size (see :func:`photo_input` for a photograph).
    stages : iterable of str
        Stages to return (all by default).

    Returns
    -------
    dict of str to ndarray
        ``(C, H, W)`` float32 maps for conv and pool stages, ``(D,)`` vectors for fc stages
        (``fc8``: the logits).

    Examples
    --------
    >>> from genailab.vision.alexnet import AlexNet
    >>> maps = activation_maps(AlexNet(in_channels=1, image_size=28), np.zeros((28, 28)))
    >>> maps["conv1"].shape, maps["pool2"].shape, maps["fc8"].shape
    ((32, 28, 28), (64, 7, 7), (10,))
    """
    wanted = [check_stage(s) for s in stages]
    model, prepare = network_and_prepare(model_or_trained)
    if isinstance(image, torch.Tensor):
        if image.ndim != 3:
            raise DataError(f"image: expected one tensor (C, H, W), got {tuple(image.shape)}")
        batch = image[None]  # cast to the network's dtype below
    else:
        array = _as_array(image, "image")
        if array.ndim not in (2, 3):
            raise DataError(f"image: expected one image (H, W, C) or (H, W), got {array.shape}")
        if array.ndim == 2:
            array = array[..., None]
        batch = prepare(array[None])  # (1, C, H, W)
    weight = next(model.parameters())  # the network's device and float dtype
    with evaluating(model):
        out = model.activations(batch.to(weight.device, weight.dtype), wanted)
    return {name: out[name][0].cpu().numpy() for name in wanted}


# ------------------------------------------------------------------ photographs
def photo_input(photo: np.ndarray, size: int, channels: int = 3) -> np.ndarray:
    """A photograph cut to the network's input: the central square, resized (with
    anti-aliasing) to ``size`` x ``size``, grey when the network takes one channel.

    Parameters
    ----------
    photo : array (H, W, 3) or (H, W), uint8
        E.g. ``skimage.data.chelsea()`` (a cat), ``skimage.data.astronaut()``.
    size : int
    channels : 1 or 3

    Returns
    -------
    ndarray (size, size, channels), uint8

    Examples
    --------
    >>> photo_input(np.zeros((300, 451, 3), np.uint8), 32).shape
    (32, 32, 3)
    >>> photo_input(np.zeros((300, 451, 3), np.uint8), 28, channels=1).shape
    (28, 28, 1)
    """
    from skimage.color import gray2rgb, rgb2gray
    from skimage.transform import resize

    array = _as_array(photo, "photo")
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]  # drop an alpha channel
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise DataError(f"photo: expected (H, W, 3) or (H, W), got shape {array.shape}")
    if channels not in (1, 3):
        raise ConfigError(f"photo_input: channels must be 1 or 3, got {channels}")
    height, width = array.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = array[top : top + side, left : left + side]
    if array.dtype == np.uint8:
        square = square / 255.0
    if channels == 1:
        grey = rgb2gray(square) if square.ndim == 3 else square
        square = grey[..., None]
    elif square.ndim == 2:
        square = gray2rgb(square)
    small = resize(square, (size, size, channels), anti_aliasing=True)  # floats in [0, 1]
    return np.clip(np.round(small * 255), 0, 255).astype(np.uint8)
