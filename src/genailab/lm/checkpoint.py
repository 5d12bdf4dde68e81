"""Checkpoints of a language-model run: written atomically, read back with checks.

A checkpoint is one ``torch.save`` file holding only plain Python values and tensors, so
it loads with ``torch.load(weights_only=True)``: no pickled classes, nothing executed on
load. It carries everything a run needs to continue exactly where it stopped, and
everything :func:`genailab.lm.load` needs to sample from it on its own:

==================  ==========================================================
``format``          :data:`FORMAT`, the marker that says the file is ours
``version``         :data:`VERSION` of the layout below
``model_config``    ``model.config_dict()``: rebuilds the model with no code
``model``           the weights (``state_dict``)
``tokenizer``       ``tokenizer.to_dict()``: the vocabulary
``optimizer``       the optimizer's ``state_dict`` (moments, step counts)
``iter``            optimization steps completed
``rng``             torch (CPU, CUDA), numpy and Python ``random`` states, and the
                    batch generator's state
``train_config``    the run's training configuration (a plain dict)
``corpus``          the corpus name and the SHA-256 of its text
``history``         the evaluations so far, and ``wall_s``, the time spent so far
==================  ==========================================================

The write is atomic: ``torch.save`` to a temporary file in the same folder, then
``os.replace``, which is atomic on POSIX and Windows. A run killed mid-write leaves the
previous checkpoint intact, never a half-written one.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genailab.atomic_write import atomic_path
from genailab.errors import GenailabError

FORMAT = "genailab-lm-checkpoint"
VERSION = 1
CHECKPOINT_NAME = "ckpt.pt"
REQUIRED = (
    "model_config",
    "model",
    "tokenizer",
    "optimizer",
    "iter",
    "rng",
    "train_config",
    "corpus",
    "history",
)


class CheckpointError(GenailabError, ValueError):
    """A checkpoint that is missing, corrupt, foreign or does not match the run."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint path (or a run folder without ``ckpt.pt``) that does not exist."""


def text_hash(text: str) -> str:
    """The SHA-256 of ``text`` encoded as UTF-8, in hex: a corpus's identity in a checkpoint.

    Examples
    --------
    >>> text_hash("purr")[:12]
    'b66358a34a71'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checkpoint_path(path: str | os.PathLike[str]) -> Path:
    """``path`` itself if it is a file, else ``path / ckpt.pt`` (a run folder)."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() or not path.suffix else path


def rng_states() -> dict[str, Any]:
    """The global random states (torch CPU and CUDA, numpy, Python) as plain values/tensors.

    Examples
    --------
    >>> states = rng_states()
    >>> sorted(states)
    ['cuda', 'numpy', 'python', 'torch']
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore the global random states that :func:`rng_states` returned.

    Examples
    --------
    >>> saved = rng_states()
    >>> a = torch.rand(2)
    >>> set_rng_states(saved)
    >>> bool((torch.rand(2) == a).all())
    True
    """
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    n = states["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))
    p = states["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (the keys of :data:`REQUIRED`) to ``path`` atomically; return the path.

    The format marker and version are added here. The temporary file lives in the same
    folder as ``path`` so that the final ``os.replace`` is a rename on one file system.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> state = dict.fromkeys(REQUIRED, {})
    >>> state["iter"] = 3
    >>> load_checkpoint(save_checkpoint(Path(folder) / "ckpt.pt", state))["iter"]
    3
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


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint that :func:`save_checkpoint` wrote, checking that it is one.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, or a run folder holding ``ckpt.pt``.
    map_location : str or torch.device
        Where the tensors land (default the CPU).

    Raises
    ------
    CheckpointNotFoundError
        If the file does not exist.
    CheckpointError
        If it is not a torch file or is truncated (corrupt), or if it is a torch file that
        genailab did not write (no format marker, missing keys, another version). The
        message is one line naming the file and the problem.

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
            f"checkpoint '{file}' does not exist; train first (genailab lm train --out DIR) "
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
            f"checkpoint '{file}' is not a genailab language-model checkpoint "
            f"(no '{FORMAT}' format marker)"
        )
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint '{file}' has format version {data.get('version')!r}; "
            f"this genailab reads version {VERSION}"
        )
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CheckpointError(f"checkpoint '{file}' lacks {', '.join(missing)}")
    return data
