"""Checkpoints of a CNN training run: written atomically, read back with checks.

One ``torch.save`` file of plain values and tensors (it loads with ``weights_only=True``:
nothing executed on load), holding what a run needs to continue exactly where it stopped
and what :func:`genailab.vision.load` needs to use the network on its own:

=================  ===========================================================
``format``         :data:`FORMAT`, the marker that says the file is ours
``version``        :data:`VERSION` of this layout
``model_config``   ``AlexNet.config_dict()``: rebuilds the network
``model``          its weights (``state_dict``)
``optimizer``      the optimizer's ``state_dict``
``step, epoch``    optimisation steps done, and the epoch they are in
``perm``           the current epoch's order of the training images
``rng``            torch, numpy, Python and the batch and augmentation generators' states
``config``         the run's :class:`~genailab.vision.training.CNNConfig` as a dict
``data``           name, SHA-256 of the train and test images, classes, attribute names
``mean, std``      the per-channel input normalisation
``history``        per-epoch metrics; ``wall_s``: training time so far
=================  ===========================================================

Written to a temporary file beside ``ckpt.pt`` and renamed onto it (atomic on POSIX and
Windows): a killed run leaves the previous checkpoint whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from genailab.atomic_write import atomic_path
from genailab.lm.checkpoint import CheckpointError, CheckpointNotFoundError

FORMAT = "genailab-cnn-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "ckpt.pt"
REQUIRED = (
    "model_config",
    "model",
    "optimizer",
    "step",
    "epoch",
    "rng",
    "config",
    "data",
    "mean",
    "std",
    "history",
)

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "checkpoint_path",
    "load_checkpoint",
    "save_checkpoint",
    "trained_from_checkpoint",
]


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` if it names a file, else ``path / ckpt.pt`` (a run folder)."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() or not path.suffix else path


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (the keys of :data:`REQUIRED`) to ``path`` atomically; return the path.

    Examples
    --------
    >>> import tempfile
    >>> state = dict.fromkeys(REQUIRED, 0)
    >>> path = save_checkpoint(Path(tempfile.mkdtemp()) / "ckpt.pt", state)
    >>> load_checkpoint(path)["step"]
    0
    """
    missing = [key for key in REQUIRED if key not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {', '.join(missing)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save({"format": FORMAT, "version": VERSION, **state}, f)
        f.flush()
        os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint :func:`save_checkpoint` wrote (a file, or a run folder's ``ckpt.pt``).

    Raises
    ------
    CheckpointNotFoundError
        If there is no such file.
    CheckpointError
        If it is corrupt, not a torch file, or not a genailab CNN checkpoint of this version;
        one line naming the file.

    Examples
    --------
    >>> load_checkpoint("no/such/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.lm.checkpoint.CheckpointNotFoundError: checkpoint 'no/such/run/ckpt.pt' does not ...
    """
    file = checkpoint_path(path)
    if not file.is_file():
        raise CheckpointNotFoundError(
            f"checkpoint '{file}' does not exist; train first (genailab cnn train --out DIR) "
            "or give the folder of a finished run"
        )
    try:
        data = torch.load(file, map_location=map_location, weights_only=True)
    except Exception as err:  # zip reader, unpickler and EOF errors all mean the same here
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint '{file}' is corrupt or not a torch file ({reason[:160]}); "
            "delete it and train again"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint '{file}' is not a genailab CNN checkpoint (no '{FORMAT}' format marker)"
        )
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint '{file}' has format version {data.get('version')!r}; "
            f"this genailab reads version {VERSION}"
        )
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint '{file}' lacks {', '.join(missing)}")
    data["path"] = str(file)
    return data


def trained_from_checkpoint(ckpt: dict[str, Any], device: str | torch.device = "auto") -> Any:
    """The :class:`~genailab.vision.trained.TrainedCNN` whose weights ``ckpt`` holds."""
    from genailab.vision.alexnet import AlexNet
    from genailab.vision.trained import TrainedCNN

    where = ckpt.get("path", "checkpoint")
    try:
        model = AlexNet(**ckpt["model_config"])
        model.load_state_dict(ckpt["model"])
    except (TypeError, RuntimeError, KeyError) as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint '{where}' does not rebuild its network ({first})"
        ) from None
    data = ckpt["data"]
    return TrainedCNN(
        model,
        classes=data["classes"],
        mean=ckpt["mean"],
        std=ckpt["std"],
        data_name=data["name"],
        device=device,
        history=ckpt["history"],
        summary=ckpt.get("summary"),
        attribute_classes={k: tuple(v) for k, v in data.get("attribute_classes", {}).items()},
    )
