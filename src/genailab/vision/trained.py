"""A trained CNN with everything needed to use it: :class:`TrainedCNN` and :func:`load`.

The network alone (:class:`~genailab.vision.alexnet.AlexNet`) takes normalised float tensors;
a :class:`TrainedCNN` also knows its classes and the per-channel mean and standard deviation
of its training images, so it takes images as a person has them, ``(N, H, W, C)`` uint8 (or
floats in [0, 1]), and answers in numpy: class probabilities, predictions, the activations of
any stage, embeddings. Work is batched; gradients are off; the model stays in eval mode.

Examples
--------
>>> import numpy as np
>>> from genailab.vision.alexnet import AlexNet
>>> net = AlexNet(in_channels=1, image_size=28, n_classes=10)
>>> cnn = TrainedCNN(net, classes=tuple("0123456789"), mean=[0.13], std=[0.31], device="cpu")
>>> images = np.zeros((3, 28, 28, 1), np.uint8)
>>> cnn.predict_proba(images).shape, cnn.embed(images).shape
((3, 10), (3, 256))
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from genailab.errors import DataError
from genailab.vision.alexnet import STAGES, AlexNet, check_stage


class TrainedCNN:
    """An :class:`AlexNet` with its classes and input normalisation.

    Parameters
    ----------
    model : AlexNet
        The network; it is put in eval mode on ``device``.
    classes : sequence of str
        The name of each logit of ``fc8``.
    mean, std : sequence of float
        Per-channel mean and standard deviation of the training images, in [0, 1] units;
        :meth:`prepare` subtracts and divides by them.
    data_name : str
        The data it was trained on (``mnist``, ``shapes``, a folder).
    device : str
        ``"auto"`` (cuda, then mps, then cpu) or a device name.
    history : list of dict, optional
        The per-epoch metrics of its training.
    summary : dict, optional
        Its training summary (accuracies, time, config).
    """

    def __init__(
        self,
        model: AlexNet,
        classes: Sequence[str],
        mean: Sequence[float],
        std: Sequence[float],
        data_name: str = "",
        *,
        device: str | torch.device = "auto",
        history: list[dict[str, Any]] | None = None,
        summary: dict[str, Any] | None = None,
        attribute_classes: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        from genailab.device import resolve_device

        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.classes = tuple(classes)
        self.channels = int(model.config["in_channels"])
        self.image_size = int(model.config["image_size"])
        if len(self.classes) != model.config["n_classes"]:
            raise DataError(
                f"TrainedCNN: {len(self.classes)} classes for a network with "
                f"{model.config['n_classes']} logits"
            )
        mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        std = np.asarray(std, dtype=np.float32).reshape(-1)
        if mean.shape != (self.channels,) or std.shape != (self.channels,) or (std <= 0).any():
            raise DataError(
                f"TrainedCNN: mean and std must be {self.channels} numbers (std > 0), got "
                f"{mean.tolist()} and {std.tolist()}"
            )
        self.mean, self.std = mean, std
        self._mean_t = torch.from_numpy(mean).view(1, -1, 1, 1).to(self.device)
        self._std_t = torch.from_numpy(std).view(1, -1, 1, 1).to(self.device)
        self.data_name = data_name
        self.history = list(history or [])
        self.summary = dict(summary or {})
        self.attribute_classes = dict(attribute_classes or {})

    def __repr__(self) -> str:
        return (
            f"TrainedCNN({self.data_name or 'data'}: {self.channels} x {self.image_size} x "
            f"{self.image_size} -> {len(self.classes)} classes, on {self.device})"
        )

    # ----------------------------------------------------------------------- inputs
    def check_images(self, images: Any) -> np.ndarray:
        """``images`` as an (N, H, W, C) array after checking it fits the network; a single
        (H, W, C) image becomes a batch of one."""
        array = np.asarray(images)
        if array.ndim == 3 and array.shape[-1] == self.channels:
            array = array[None]
        if array.ndim != 4:
            raise DataError(
                f"images must be (N, H, W, C) (or one (H, W, C)), got shape {array.shape}"
            )
        _, h, w, c = array.shape
        if c != self.channels:
            raise DataError(
                f"images have {c} channel(s); this network takes {self.channels} "
                f"({'grey' if self.channels == 1 else 'RGB'}), images (N, H, W, {self.channels})"
            )
        if (h, w) != (self.image_size, self.image_size):
            raise DataError(
                f"images are {h} x {w}; this network takes {self.image_size} x "
                f"{self.image_size} (resize them, e.g. genailab.vision.datasets.resize_images)"
            )
        if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
            raise DataError(f"images must be uint8 (0-255) or floats in [0, 1], got {array.dtype}")
        return array

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        """Images as a float tensor (N, C, H, W) in [0, 1] -> the network's input (normalised
        per channel), differentiably (for optimising an image)."""
        return (x - self._mean_t.to(x.device, x.dtype)) / self._std_t.to(x.device, x.dtype)

    def prepare(self, images: Any, device: str | torch.device | None = None) -> torch.Tensor:
        """Images (N, H, W, C) uint8 or floats in [0, 1] -> float32 tensor (N, C, H, W),
        normalised as in training, on ``device`` (default the model's).

        Raises
        ------
        DataError
            For a shape, channel count, size or dtype the network cannot take.
        """
        array = self.check_images(images)
        x = torch.from_numpy(np.ascontiguousarray(array)).to(device or self.device)
        x = x.permute(0, 3, 1, 2).float()  # (N, C, H, W)
        if array.dtype == np.uint8:
            x = x / 255.0
        elif not torch.isfinite(x).all():
            raise DataError("images hold NaN or infinite values")
        return self.standardize(x)

    # ----------------------------------------------------------------------- outputs
    def _batches(self, images: Any, batch_size: int) -> Iterable[torch.Tensor]:
        array = self.check_images(images)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        for lo in range(0, len(array), batch_size):
            yield self.prepare(array[lo : lo + batch_size])

    @torch.no_grad()
    def logits(self, images: Any, batch_size: int = 512) -> np.ndarray:
        """The ``fc8`` outputs, (N, n_classes) float32."""
        self.model.eval()
        out = [self.model(x).float().cpu() for x in self._batches(images, batch_size)]
        return _cat(out, (0, len(self.classes)))

    def predict_proba(self, images: Any, batch_size: int = 512) -> np.ndarray:
        """Class probabilities (softmax of the logits), (N, n_classes) float32.

        Examples
        --------
        >>> from genailab.vision.alexnet import AlexNet
        >>> cnn = TrainedCNN(AlexNet(3, 32, 4), "abcd", [0.5] * 3, [0.25] * 3, device="cpu")
        >>> p = cnn.predict_proba(np.zeros((2, 32, 32, 3), np.float32))
        >>> p.shape, bool(np.allclose(p.sum(1), 1))
        ((2, 4), True)
        """
        logits = torch.from_numpy(self.logits(images, batch_size))
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, images: Any, batch_size: int = 512) -> np.ndarray:
        """The most probable class index of each image, (N,) int64."""
        return self.logits(images, batch_size).argmax(axis=1).astype(np.int64)

    @torch.no_grad()
    def activations(
        self, images: Any, stages: Iterable[str] | str = STAGES, batch_size: int = 256
    ) -> dict[str, np.ndarray]:
        """The output of each asked stage, stage -> (N, ...) float32 numpy (conv stages
        (N, C, H, W), fully connected ones (N, D)), in batches of one forward pass each."""
        stages = [stages] if isinstance(stages, str) else list(stages)
        for stage in stages:
            check_stage(stage)
        self.model.eval()
        parts: dict[str, list[torch.Tensor]] = {s: [] for s in stages}
        for x in self._batches(images, batch_size):
            for stage, value in self.model.activations(x, stages).items():
                parts[stage].append(value.float().cpu())
        return {
            s: torch.cat(v).numpy() if v else np.zeros((0,), np.float32) for s, v in parts.items()
        }

    def embed(self, images: Any, stage: str = "fc7", batch_size: int = 256) -> np.ndarray:
        """Each image's activation at ``stage``, flattened: (N, D) float32 (``fc7`` is the
        paper's embedding)."""
        acts = self.activations(images, [stage], batch_size)[stage]
        return acts.reshape(len(acts), -1)

    def accuracy(self, images: Any, labels: Any, batch_size: int = 512) -> float:
        """The fraction of ``images`` whose predicted class is ``labels``."""
        labels = np.asarray(labels)
        return float((self.predict(images, batch_size) == labels).mean()) if len(labels) else 0.0


def _cat(parts: list[torch.Tensor], empty_shape: tuple[int, ...]) -> np.ndarray:
    return torch.cat(parts).numpy() if parts else np.zeros(empty_shape, np.float32)


def load(path: str | os.PathLike, device: str | torch.device = "auto") -> TrainedCNN:
    """The :class:`TrainedCNN` saved in a training run's folder (``OUT/ckpt.pt``) or file.

    Raises
    ------
    CheckpointError
        A missing, corrupt or foreign checkpoint (one line naming the file).
    """
    from genailab.vision.checkpoint import load_checkpoint, trained_from_checkpoint

    return trained_from_checkpoint(load_checkpoint(path), device=device)
