"""Training the CNN: :func:`train`, with atomic checkpoints, exact resume and a time budget.

The loop, step by step:

- **data**: a name (``mnist``, ``shapes``, a folder; :func:`~genailab.vision.datasets.
  load_dataset`) split into a stratified train and test set, or an ImageSet to split, or a
  ``(train, test)`` pair. The images go to the device once as floats in [0, 1]; the
  per-channel mean and standard deviation of the training images normalise every input.
- **batches**: each epoch a random order of the training images (a seeded
  ``torch.Generator``), cut into batches of ``batch_size``; the last, incomplete one is
  dropped.
- **augmentation**: each image of a batch through its own random affine map (shift, rotation,
  scale), all at once with ``F.affine_grid`` and ``F.grid_sample``, border pixels repeated
  outwards; colours are untouched.
- **optimiser**: AdamW (Loshchilov & Hutter 2019), weight decay on kernels and matrices
  only, with a one-cycle schedule (Smith & Topin 2019): linear warm-up over ``warmup`` of the
  steps, then a cosine decay to ``final_lr * lr`` at the last step; cross-entropy with label
  smoothing (Szegedy et al. 2016).
- **evaluation** after each epoch: the accuracy on the whole test set and on a fixed subset
  of ``eval_train`` training images (all of them at the end), in eval mode without gradients.
- **checkpoint** after each epoch (:mod:`~genailab.vision.checkpoint`), random states and the
  epoch's image order included, so that a run killed at any point and resumed ends with the
  weights of an uninterrupted run.
- **budget**: ``max_seconds`` stops after the step that crosses it, then evaluates, saves and
  reports like a normal end (``summary["stopped"] == "max_seconds"``); the schedule is then
  fitted to the steps the run is projected to reach.

Under ``torchrun`` (``WORLD_SIZE > 1``) the same loop trains data-parallel with
``DistributedDataParallel`` (gloo on CPU, nccl on CUDA): every rank draws the same order and
augmentation for a global batch of ``batch_size * world_size`` images and trains on its own
slice; only rank 0 writes files.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from genailab.atomic_write import write_text_atomically
from genailab.engine.optim import cosine_with_warmup
from genailab.errors import ConfigError, DataError
from genailab.lm.checkpoint import rng_states, set_rng_states
from genailab.lm.train_loop import init_distributed
from genailab.vision.alexnet import AlexNet
from genailab.vision.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from genailab.vision.config import MAX_SECONDS, CNNConfig, make_config
from genailab.vision.datasets import ImageSet, load_dataset, split
from genailab.vision.trained import TrainedCNN

SCHEDULE_WARMUP_STEPS = 20  # steps that measure the pace before a time budget shapes the schedule
LOG_EVERY = 10  # steps between progress-bar updates

EpochHook = Callable[[int, TrainedCNN, dict[str, Any]], None]
StepHook = Callable[[int, TrainedCNN, dict[str, Any]], None]


# ------------------------------------------------------------------------------ pieces
def affine(
    x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """Images ``x`` (N, C, H, W) each rotated by ``angle`` (N,) radians, scaled by ``scale``
    (N,) and shifted by ``shift`` (N, 2) (x, y, as fractions of the side), bilinear; pixels
    that come from outside repeat the border.

    ``F.affine_grid`` maps output coordinates in [-1, 1] to input ones, so the map given is
    the inverse: rotate by the angle, divide by the scale, subtract twice the shift.

    Examples
    --------
    >>> x = torch.arange(16.0).view(1, 1, 4, 4)
    >>> turned = affine(x, torch.tensor([torch.pi / 2]), torch.ones(1), torch.zeros(1, 2))
    >>> bool(torch.allclose(turned, torch.rot90(x, 1, (2, 3)), atol=1e-4))
    True
    """
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    tx, ty = -2 * shift[:, 0], -2 * shift[:, 1]
    theta = torch.stack(
        [torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    )  # (N, 2, 3)
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_affine(
    x: torch.Tensor, generator: torch.Generator, shift: float, rotate: float, zoom: float
) -> torch.Tensor:
    """Each image of ``x`` (N, C, H, W) through its own random :func:`affine` map: a shift of
    up to ``shift`` of the side, a rotation of up to ``rotate`` degrees, a scale in
    ``1 +- zoom``, each uniform.

    The random numbers come from ``generator`` on the CPU (the same on every device and
    rank).

    Examples
    --------
    >>> x = torch.rand(4, 3, 16, 16)
    >>> same = random_affine(x, torch.Generator().manual_seed(0), 0.0, 0.0, 0.0)
    >>> bool(torch.allclose(same, x, atol=1e-5))
    True
    """
    u = torch.rand(x.shape[0], 4, generator=generator) * 2 - 1  # (N, 4) uniform in [-1, 1]
    return affine(x, u[:, 0] * math.radians(rotate), 1 + u[:, 1] * zoom, u[:, 2:] * shift)


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of (N, H, W, C) uint8 images, in [0, 1] units.

    Examples
    --------
    >>> channel_stats(np.full((2, 4, 4, 1), 255, np.uint8))
    ([1.0], [1.0])
    """
    x = images.reshape(-1, images.shape[-1]).astype(np.float64) / 255.0
    mean, std = x.mean(0), x.std(0)
    std = np.where(std > 1e-6, std, 1.0)  # a constant channel: leave its scale alone
    return [float(m) for m in mean], [float(s) for s in std]


def _to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    return x.permute(0, 3, 1, 2).float().div_(255.0).contiguous()  # (N, C, H, W) in [0, 1]


def init_weights(model: AlexNet, conv1_scale: float = 1.0) -> None:
    """He initialisation (He et al. 2015): each kernel and matrix normal with variance
    2 / fan_in, so that the activations keep their scale through the ReLU stages (PyTorch's
    default scales them down by about sqrt(3) per stage, which stalls an eight-stage network
    without normalisation); biases zero; ``fc8`` small, so that training starts near uniform
    class probabilities. ``conv1_scale`` multiplies the conv1 kernels: with batch norm after
    them their scale does not change what the network computes, and small ones make the
    kernels that form in a short run those of the gradients rather than of the random start."""
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            torch.nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            torch.nn.init.zeros_(module.bias)
    last = model.linear("fc8")
    torch.nn.init.normal_(last.weight, std=0.01)
    with torch.no_grad():
        model.conv("conv1").weight.mul_(conv1_scale)


def make_optimizer(model: torch.nn.Module, cfg: CNNConfig) -> torch.optim.Optimizer:
    """AdamW with decay on kernels and matrices only (not biases)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr)


def attribute_accuracies(data: ImageSet, predicted: np.ndarray, n_classes: int) -> dict[str, float]:
    """For each integer attribute that the class determines (the shape and the colour of a
    colour-shape class), the fraction of images whose predicted class has the right value.

    Examples
    --------
    >>> data = ImageSet(np.zeros((4, 8, 8, 1), np.uint8), np.array([0, 1, 2, 3]), "abcd", "t",
    ...                 attributes={"half": np.array([0, 0, 1, 1])})
    >>> attribute_accuracies(data, np.array([1, 1, 2, 0]), 4)
    {'half_accuracy': 0.75}
    """
    out = {}
    for name, values in data.attributes.items():
        if name == "index" or not np.issubdtype(values.dtype, np.integer) or not len(values):
            continue
        table = np.full(n_classes, -1, dtype=np.int64)
        table[data.labels] = values
        if not np.array_equal(table[data.labels], values):
            continue  # not a function of the class
        if len(np.unique(values)) == len(np.unique(data.labels)):
            continue  # the class itself
        out[f"{name}_accuracy"] = float((table[predicted] == values).mean())
    return out


def _resolve_data(data: Any, cfg: CNNConfig) -> tuple[ImageSet, ImageSet]:
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, ImageSet) for d in data):
        train_set, test_set = data
    elif isinstance(data, ImageSet):
        train_set, test_set = split(data, cfg.test_fraction, cfg.seed)
    elif isinstance(data, str | os.PathLike):
        loaded = load_dataset(
            data, n=cfg.n or None, size=cfg.size or None, seed=cfg.seed, target=cfg.target
        )
        train_set, test_set = split(loaded, cfg.test_fraction, cfg.seed)
    else:
        raise DataError(
            "cnn train: data must be a name (mnist, digits, shapes), a folder, an ImageSet or "
            f"a (train, test) pair of ImageSets, got {type(data).__name__}"
        )
    if train_set.images.shape[1:] != test_set.images.shape[1:]:
        raise DataError(
            f"cnn train: train images {train_set.images.shape[1:]} and test images "
            f"{test_set.images.shape[1:]} differ in shape"
        )
    if train_set.classes != test_set.classes:
        raise DataError("cnn train: the train and test sets have different classes")
    h, w = train_set.images.shape[1:3]
    if h != w:
        raise DataError(f"cnn train: images must be square, got {h} x {w}")
    return train_set, test_set


def data_identity(train_set: ImageSet, test_set: ImageSet) -> dict[str, Any]:
    """What a checkpoint records of its data: name, hashes, classes and attribute names."""
    return {
        "name": train_set.name,
        "train_sha256": train_set.fingerprint(),
        "test_sha256": test_set.fingerprint(),
        "classes": list(train_set.classes),
        "attribute_classes": {k: list(v) for k, v in train_set.attribute_classes.items()},
        "n_train": len(train_set),
        "n_test": len(test_set),
    }


# ------------------------------------------------------------------------------ the run
class _Run:
    """One training run's state; :meth:`execute` is the loop."""

    def __init__(
        self,
        cfg: CNNConfig,
        train_set: ImageSet,
        test_set: ImageSet,
        out: Path | None,
        device: str,
        progress: bool,
        max_seconds: float | None,
    ) -> None:
        from genailab.device import resolve_device

        self.cfg, self.train_set, self.test_set, self.out = cfg, train_set, test_set, out
        self.progress, self.max_seconds = progress, max_seconds
        self.world, self.rank, self.ddp = init_distributed()
        self.is_main = self.rank == 0
        self.device = resolve_device(device)
        if self.ddp and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.global_batch = cfg.batch_size * self.world
        if len(train_set) < self.global_batch:
            raise ConfigError(
                f"cnn train: batch_size {cfg.batch_size} x {self.world} process(es) exceeds the "
                f"{len(train_set)} training images; lower batch_size"
            )
        self.steps_per_epoch = len(train_set) // self.global_batch
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.mean, self.std = channel_stats(train_set.images)
        self.identity = data_identity(train_set, test_set)
        self.x_train = _to_tensor(train_set.images, self.device)  # (N, C, H, W) in [0, 1]
        self.y_train = torch.from_numpy(train_set.labels).to(self.device)
        torch.manual_seed(cfg.seed)  # the initial weights, the same on every rank
        n_classes = len(train_set.classes)
        self.model = AlexNet(**cfg.network(train_set.channels, train_set.image_size, n_classes))
        init_weights(self.model, cfg.init_conv1)
        self.model.to(self.device)
        self.cnn = TrainedCNN(
            self.model,
            train_set.classes,
            self.mean,
            self.std,
            train_set.name,
            device=self.device,
            attribute_classes=train_set.attribute_classes,
        )
        self.model.train()
        self.optimizer = make_optimizer(self.model, cfg)
        self.forward: torch.nn.Module = self.model
        if self.ddp:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.batches = torch.Generator().manual_seed(cfg.seed)
        self.augments = torch.Generator().manual_seed(cfg.seed + 1)
        pick = np.random.default_rng(cfg.seed + 2).permutation(len(train_set))[: cfg.eval_train]
        self.eval_train_index = np.sort(pick)
        self.step, self.epoch, self.perm = 0, 0, None
        self.history: list[dict[str, Any]] = []
        self.wall_before = 0.0
        self.start_step = 0
        self.horizon = self.total_steps

    # -- checkpoints -----------------------------------------------------------------------
    def state(self, wall: float, summary: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "model_config": self.model.config_dict(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "perm": self.perm,
            "rng": {
                **rng_states(),
                "batches": self.batches.get_state(),
                "augments": self.augments.get_state(),
            },
            "config": dataclasses.asdict(self.cfg),
            "data": self.identity,
            "mean": self.mean,
            "std": self.std,
            "history": list(self.history),
            "wall_s": wall,
            "world_size": self.world,
            "summary": summary,
        }

    def save(self, wall: float, summary: dict[str, Any] | None = None) -> None:
        if self.is_main and self.out is not None:
            save_checkpoint(self.out / CHECKPOINT_NAME, self.state(wall, summary))

    def restore(self, ckpt: Mapping[str, Any]) -> None:
        where = ckpt.get("path", "checkpoint")
        if (
            ckpt["data"].get("train_sha256") != self.identity["train_sha256"]
            or ckpt["data"].get("test_sha256") != self.identity["test_sha256"]
        ):
            raise CheckpointError(
                f"cannot resume '{where}': it was trained on other data "
                f"({ckpt['data'].get('name')!r}); train into another out, or resume=False"
            )
        saved = dict(ckpt["config"])
        mine = dataclasses.asdict(self.cfg)
        changed = [k for k in mine if saved.get(k) != mine[k]]
        if changed or set(saved) != set(mine):
            k = changed[0] if changed else sorted(set(saved) ^ set(mine))[0]
            raise CheckpointError(
                f"cannot resume '{where}': its {k} is {saved.get(k)!r}, this run's "
                f"{mine.get(k)!r}; use the same settings, another out, or resume=False"
            )
        if int(ckpt.get("world_size", 1)) != self.world:
            raise CheckpointError(
                f"cannot resume '{where}': it ran on {ckpt.get('world_size')} process(es), "
                f"this run on {self.world}"
            )
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step, self.epoch = int(ckpt["step"]), int(ckpt["epoch"])
        self.perm = ckpt["perm"]
        set_rng_states(ckpt["rng"])
        self.batches.set_state(ckpt["rng"]["batches"])
        self.augments.set_state(ckpt["rng"]["augments"])
        self.history = list(ckpt["history"])
        self.wall_before = float(ckpt.get("wall_s", 0.0))
        self.start_step = self.step

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, full: bool) -> dict[str, Any]:
        cfg, cnn = self.cfg, self.cnn
        self.model.eval()
        test_pred = cnn.predict(self.test_set.images, cfg.eval_batch)
        metrics: dict[str, Any] = {
            "test_accuracy": float((test_pred == self.test_set.labels).mean()),
        }
        n = len(self.train_set)
        if full:
            train_pred = cnn.predict(self.train_set.images, cfg.eval_batch)
            metrics["train_accuracy"] = float((train_pred == self.train_set.labels).mean())
        elif cfg.eval_train:
            idx = self.eval_train_index
            pred = cnn.predict(self.train_set.images[idx], cfg.eval_batch)
            metrics["train_accuracy"] = float((pred == self.train_set.labels[idx]).mean())
        metrics.update(attribute_accuracies(self.test_set, test_pred, len(self.train_set.classes)))
        metrics["train_evaluated"] = n if full else min(cfg.eval_train, n)
        self.model.train()
        return metrics

    # -- one step ----------------------------------------------------------------------------
    def train_step(self, lr: float) -> torch.Tensor:
        cfg = self.cfg
        if self.perm is None or self.step % self.steps_per_epoch == 0:
            self.perm = torch.randperm(len(self.train_set), generator=self.batches)  # new epoch
        k = self.step % self.steps_per_epoch
        index = self.perm[k * self.global_batch : (k + 1) * self.global_batch]  # global batch
        lo, hi = self.rank * cfg.batch_size, (self.rank + 1) * cfg.batch_size  # our slice
        x = self.x_train[index.to(self.device)]  # (G, C, H, W)
        if cfg.augment:
            x = random_affine(x, self.augments, cfg.shift, cfg.rotate, cfg.zoom)
        x, y = x[lo:hi], self.y_train[index[lo:hi].to(self.device)]
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        logits = self.forward(self.cnn.standardize(x))
        loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DDP the gradients are averaged over the ranks here
        self.optimizer.step()
        self.step += 1
        return loss

    def schedule_end(self, spent: float) -> int:
        """The step at which the schedule ends: the planned last one, or under a time budget
        the step the run is projected to reach when the time is up."""
        done = self.step - self.start_step
        if self.max_seconds is None or done < SCHEDULE_WARMUP_STEPS or spent <= 0:
            return self.total_steps
        projected = self.step + int((self.max_seconds - spent) * done / spent)
        return max(min(self.total_steps, projected), self.step + 1)

    def lr_at(self, step: int, horizon: int) -> float:
        cfg = self.cfg
        warm = min(int(cfg.warmup * self.total_steps), max(horizon - 1, 0))
        return cosine_with_warmup(step, warm, max(horizon, warm), cfg.lr, cfg.lr * cfg.final_lr)


def _notify(hook: Callable | None, run: _Run, index: int, metrics: dict[str, Any]) -> None:
    if hook is None or not run.is_main:
        return
    run.model.eval()
    saved = rng_states()  # a hook that draws random numbers must not change the training
    try:
        hook(index, run.cnn, metrics)
    finally:
        set_rng_states(saved)
        run.model.train()


def train(
    data: Any,
    *,
    out: str | os.PathLike | None = None,
    config: CNNConfig | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_seconds: float | None = None,
    device: str = "auto",
    on_epoch: EpochHook | None = None,
    on_step: StepHook | None = None,
    step_every: int = 10,
    resume: bool = True,
    progress: bool = True,
) -> tuple[TrainedCNN, dict[str, Any]]:
    """Train an AlexNet-shaped CNN on ``data``; with ``out``, write ``ckpt.pt`` and
    ``summary.json`` there.

    Parameters
    ----------
    data : str, path-like, ImageSet or (ImageSet, ImageSet)
        ``"mnist"``, ``"digits"``, ``"shapes"`` or a folder (loaded with the config's ``n``,
        ``size``, ``target`` and ``seed``, then split by ``test_fraction``), an ImageSet to
        split, or a ``(train, test)`` pair.
    out : str or path-like, optional
        Folder for the checkpoint (after every epoch) and the summary; None writes nothing.
    config : CNNConfig, optional
        The settings (default ``CNNConfig()`` with the data set's :data:`DATA_DEFAULTS`);
        ``overrides`` (values or CLI strings) change single keys of it.
    max_seconds : float, optional
        Wall-time budget of this call's training; the run stops after the step that crosses
        it, then evaluates, saves and reports. The schedule is fitted to the budget, so such a
        run depends on the machine's speed (one bounded by ``epochs`` alone is reproducible).
    device : str
        ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"mps"``.
    on_epoch : callable, optional
        ``on_epoch(epoch, cnn, metrics)`` after each epoch's evaluation and checkpoint
        (epoch counted from 1; metrics: ``test_accuracy``, ``train_accuracy``, ``loss``,
        ``lr``, ``step``, ``wall_s`` and the attribute accuracies), ``cnn`` a
        :class:`TrainedCNN` of the weights at that moment, in eval mode; do not keep it, the
        training goes on with its model.
    on_step : callable, optional
        ``on_step(step, cnn, metrics)`` every ``step_every`` steps (metrics: ``loss``,
        ``lr``, ``epoch``, ``wall_s``), before any evaluation.
    resume : bool
        Continue from ``out/ckpt.pt`` if it exists (same settings and data, checked); the
        run ends with the weights an uninterrupted run has. False starts afresh.
    progress : bool
        A tqdm progress bar on stderr.

    Returns
    -------
    (TrainedCNN, dict)
        The trained network (eval mode) and the summary written to ``summary.json``:
        ``test_accuracy``, ``train_accuracy`` (on all training images), ``classes``,
        ``wall_s``, ``epochs``, ``steps``, ``images_per_s``, ``stopped``, ``config``,
        ``history``, and for the shapes ``shape_accuracy`` and ``colour_accuracy``.

    Examples
    --------
    >>> from genailab.vision.datasets import load_dataset
    >>> data = load_dataset("digits", n=200)
    >>> cnn, summary = train(data, overrides={"epochs": 1, "widths": "4,4,4,4,4", "fc": "8,8",
    ...                      "batch_size": 32}, progress=False, device="cpu")
    >>> summary["epochs"], summary["steps"], cnn.classes[:3]
    (1, 4, ('0', '1', '2'))
    """
    if max_seconds is not None and not (
        isinstance(max_seconds, int | float) and 0 < max_seconds <= MAX_SECONDS
    ):
        raise ConfigError(
            f"cnn train: max_seconds must be in (0, {MAX_SECONDS:g}], got {max_seconds}"
        )
    if isinstance(step_every, bool) or not isinstance(step_every, int) or step_every < 1:
        raise ConfigError(f"cnn train: step_every must be a positive integer, got {step_every!r}")
    name = os.fspath(data) if isinstance(data, str | os.PathLike) else getattr(data, "name", None)
    cfg = make_config(name if config is None else None, overrides, base=config)
    train_set, test_set = _resolve_data(data, cfg)
    out_path = None if out is None else Path(out)
    ckpt = None
    if out_path is not None and resume and (out_path / CHECKPOINT_NAME).exists():
        ckpt = load_checkpoint(out_path)
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run = None
    try:
        run = _Run(cfg, train_set, test_set, out_path, device, progress, max_seconds)
        if ckpt is not None:
            run.restore(ckpt)
        return _execute(run, on_epoch, on_step, step_every)
    finally:
        torch.set_num_threads(old_threads)
        if run is not None and run.ddp and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _execute(
    run: _Run, on_epoch: EpochHook | None, on_step: StepHook | None, step_every: int
) -> tuple[TrainedCNN, dict[str, Any]]:
    cfg = run.cfg
    t0 = time.perf_counter()
    bar = tqdm(
        total=run.total_steps,
        initial=run.step,
        disable=not (run.progress and run.is_main),
        desc=f"cnn {run.train_set.name}",
        unit="step",
        dynamic_ncols=True,
        file=sys.stderr,
        leave=False,
    )
    stopped, step_time, images = "epochs", 0.0, 0
    loss_value, lr = float("nan"), cfg.lr
    while run.step < run.total_steps:
        spent = time.perf_counter() - t0
        if run.max_seconds is not None and spent >= run.max_seconds:
            stopped = "max_seconds"
            break
        lr = run.lr_at(run.step, run.schedule_end(spent))
        ts = time.perf_counter()
        loss = run.train_step(lr)
        step_time += time.perf_counter() - ts
        images += run.global_batch
        if run.step % LOG_EVERY == 0 or (on_step is not None and run.step % step_every == 0):
            loss_value = float(loss.item())  # syncs a GPU: only now and then
            bar.set_postfix(loss=f"{loss_value:.3f}", img_s=f"{images / step_time:,.0f}")
        bar.update(1)
        if on_step is not None and run.step % step_every == 0:
            wall = run.wall_before + time.perf_counter() - t0
            epoch = run.step / run.steps_per_epoch
            _notify(
                on_step,
                run,
                run.step,
                {"loss": loss_value, "lr": lr, "epoch": epoch, "wall_s": wall},
            )
        if run.step % run.steps_per_epoch == 0:  # an epoch ends: evaluate, save, report
            run.epoch = run.step // run.steps_per_epoch
            loss_value = float(loss.item())
            metrics = run.evaluate(full=False)
            wall = run.wall_before + time.perf_counter() - t0
            entry = {
                "epoch": run.epoch,
                "step": run.step,
                "loss": loss_value,
                "lr": lr,
                **metrics,
                "wall_s": round(wall, 3),
            }
            run.history.append(entry)
            run.save(wall)
            _notify(on_epoch, run, run.epoch, dict(entry))
    bar.close()
    final = run.evaluate(full=True)
    wall_call = time.perf_counter() - t0
    summary = {
        "data": run.train_set.name,
        "classes": list(run.train_set.classes),
        "test_accuracy": final["test_accuracy"],
        "train_accuracy": final["train_accuracy"],
        **{k: v for k, v in final.items() if k.endswith("_accuracy")},
        "epochs": run.step / run.steps_per_epoch if run.step % run.steps_per_epoch else run.epoch,
        "steps": run.step,
        "stopped": stopped,
        "resumed_from": run.start_step or None,
        "images_per_s": round(images / step_time, 1) if step_time > 0 else None,
        "wall_s": round(run.wall_before + wall_call, 3),
        "call_wall_s": round(wall_call, 3),
        "n_train": len(run.train_set),
        "n_test": len(run.test_set),
        "device": str(run.device),
        "world_size": run.world,
        "num_parameters": sum(p.numel() for p in run.model.parameters()),
        "mean": run.mean,
        "std": run.std,
        "config": dataclasses.asdict(cfg),
        "model_config": run.model.config_dict(),
        "history": run.history,
        "out": None if run.out is None else str(run.out),
    }
    if run.out is not None and run.is_main:
        run.save(run.wall_before + wall_call, summary)
        write_text_atomically(run.out / "summary.json", json.dumps(summary, indent=2) + "\n")
    run.model.eval()
    run.cnn.history, run.cnn.summary = list(run.history), summary
    return run.cnn, summary


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line for the CLI: data, accuracies, speed and time.

    Examples
    --------
    >>> summary_line({"data": "mnist", "epochs": 3, "test_accuracy": 0.9871,
    ...               "train_accuracy": 0.995, "images_per_s": 1234.5, "wall_s": 42.0,
    ...               "out": "cnn-out"})
    'cnn on mnist: 3 epochs, test 98.71%, train 99.50%, 1,234 images/s, 42.0 s -> cnn-out'
    """
    extra = "".join(
        f", {k[: -len('_accuracy')]} {v:.2%}"
        for k, v in summary.items()
        if k.endswith("_accuracy") and k not in ("test_accuracy", "train_accuracy")
    )
    epochs = summary["epochs"]
    epochs = f"{epochs:g}" if isinstance(epochs, float) else str(epochs)
    return (
        f"cnn on {summary['data']}: {epochs} epochs, test {summary['test_accuracy']:.2%}, "
        f"train {summary['train_accuracy']:.2%}{extra}, {summary['images_per_s'] or 0:,.0f} "
        f"images/s, {summary['wall_s']:.1f} s -> {summary['out']}"
    )
