"""Networks trained once and shared: :func:`pretrained` and its cache.

The experiments of the chapter "Inside a CNN" all look inside the same trained network. A
fixed configuration per data set and preset (:data:`PRETRAINED`) is trained the first time
it is asked for and saved under the cache folder (``$GENAILAB_CACHE``, default
``~/.cache/genailab``) in a folder named after a hash of the configuration and the data;
later calls load the checkpoint. Training is deterministic (a fixed number of epochs, no
time budget), so the cache holds what any process would compute. Two processes asking at
once are serialised by a lock file; every file is written atomically.

Examples
--------
>>> sorted(PRETRAINED)
[('mnist', 'full'), ('mnist', 'quick'), ('shapes', 'full'), ('shapes', 'quick')]
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from genailab.errors import UnknownNameError
from genailab.vision.config import CNNConfig, make_config

CACHE_ENV = "GENAILAB_CACHE"
# small networks, little data, no regularisation: a few hundred steps must suffice (dropout
# and augmentation pay off on long runs only)
_SMALL = {
    "widths": "16,32,48,48,32",
    "fc": "128,128",
    "dropout": 0.0,
    "augment": False,
    "label_smoothing": 0.0,
}
PRETRAINED: dict[tuple[str, str], dict[str, Any]] = {
    # a few CPU seconds each: small networks, small data
    ("mnist", "quick"): {**_SMALL, "epochs": 5, "n": 2000, "batch_size": 32},
    ("shapes", "quick"): {**_SMALL, "epochs": 6, "n": 2500, "batch_size": 32},
    # the goal configurations: genailab cnn train --data mnist|shapes
    ("mnist", "full"): {},
    ("shapes", "full"): {},
}
"""The config overrides of each (data, preset), on top of :class:`CNNConfig`'s defaults."""


def cache_folder() -> Path:
    """``$GENAILAB_CACHE`` or ``~/.cache/genailab``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "genailab")


def pretrained_config(data: str = "mnist", preset: str = "quick", seed: int = 0) -> CNNConfig:
    """The :class:`CNNConfig` that :func:`pretrained` trains for ``data`` and ``preset``.

    Examples
    --------
    >>> pretrained_config("shapes", "quick").epochs
    6
    """
    if (data, preset) not in PRETRAINED:
        datas = sorted({d for d, _ in PRETRAINED})
        presets = sorted({p for _, p in PRETRAINED})
        raise UnknownNameError(
            f"pretrained: unknown data {data!r} or preset {preset!r} (data: {', '.join(datas)}; "
            f"presets: {', '.join(presets)})"
        )
    return make_config(data, {**PRETRAINED[(data, preset)], "seed": seed})


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (POSIX; elsewhere no lock, the writes stay atomic)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pretrained(
    data: str = "mnist",
    preset: str = "quick",
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> tuple[Any, Any, Any]:
    """The network trained on ``data`` with the ``preset``'s fixed config, and its data.

    Trains on the first call (``quick``: seconds of CPU; ``full``: the goal configs, about a
    minute on two cores) and caches the checkpoint; later calls load it.

    Parameters
    ----------
    data : {"mnist", "shapes"}
    preset : {"quick", "full"}
    seed : int
        Seeds the data (shapes), the split, the weights and the training.
    device : str
        Where the returned network runs (training runs there too).
    progress : bool
        Show the training's progress bar.

    Returns
    -------
    (TrainedCNN, ImageSet, ImageSet)
        The network, in eval mode, and its train and test sets.
    """
    from genailab.vision.datasets import load_dataset, split
    from genailab.vision.trained import load
    from genailab.vision.training import data_identity, train

    cfg = pretrained_config(data, preset, seed)
    loaded = load_dataset(
        data, n=cfg.n or None, size=cfg.size or None, seed=cfg.seed, target=cfg.target
    )
    train_set, test_set = split(loaded, cfg.test_fraction, cfg.seed)
    identity = data_identity(train_set, test_set)
    key = json.dumps(
        {
            "config": dataclasses.asdict(cfg),
            "train": identity["train_sha256"],
            "test": identity["test_sha256"],
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = cache_folder() / "vision" / f"{data}-{preset}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".lock"):
        if not (folder / "summary.json").exists():
            train((train_set, test_set), out=folder, config=cfg, device=device, progress=progress)
        cnn = load(folder, device=device)
    return cnn, train_set, test_set
