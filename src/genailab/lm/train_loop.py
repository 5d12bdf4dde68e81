"""The training loop of the language models: batches, AdamW, the schedule, evaluation, resume.

:class:`TorchRun` is nanoGPT's ``train.py`` loop made into an object that
:func:`genailab.lm.train` sets up and runs (``execute``):

- **data**: the corpus's first 90% (train) and last 10% (validation), tokenized once; a batch
  is ``batch_size`` random windows of ``block_size + 1`` tokens from the train split, drawn
  with a seeded ``torch.Generator`` (inputs: the first ``block_size``, targets: the last);
- **optimizer**: AdamW (Loshchilov & Hutter 2019) with weight decay on the matrices and
  embeddings (2-D weights) only, never on biases and LayerNorm gains;
- **schedule**: a linear warm-up over ``warmup_iters``, then a cosine decay from ``lr`` to
  ``min_lr`` at ``max_iters``; gradients clipped to a joint norm of ``grad_clip``;
- **evaluation**: every ``eval_interval`` steps, the mean loss over ``eval_iters`` batches of
  each split, in ``model.eval()`` under ``torch.no_grad()``; the evaluation batches are the
  same windows every time (their own generator, re-seeded), so the curve is not noisy from
  one evaluation to the next;
- **checkpoint** after each evaluation (:mod:`~genailab.lm.checkpoint`), holding the random
  states, so that a resumed run draws exactly the batches an uninterrupted run would have;
- **budget**: ``max_iters`` steps, or ``max_seconds`` of wall time, whichever comes first;
  a budget stop evaluates, saves and reports like a normal end; ``summary.json`` is written
  atomically at the end.

The count-based bigram is not trained by gradient: it counts pairs on the train split and
is evaluated once (``iters = 0``).

Under ``torchrun`` (``WORLD_SIZE > 1``) the same loop trains data-parallel with PyTorch's own
``DistributedDataParallel`` (gloo on CPU, nccl on CUDA): every rank draws the same global batch
of ``batch_size * world_size`` windows from the same generator and keeps its own slice, so a
run on N processes follows the single-process run with batch ``batch_size * N`` step for step.
Only rank 0 writes files.

The loop itself is backend-free: :class:`~genailab.lm.train_engine.EngineRun` overrides its
hooks to train the GPT on genailab's numpy engine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from genailab.atomic_write import write_text_atomically
from genailab.engine.optim import cosine_with_warmup
from genailab.lm.bpe import BPETokenizer
from genailab.lm.checkpoint import (
    CHECKPOINT_NAME,
    rng_states,
    save_checkpoint,
    set_rng_states,
    text_hash,
)
from genailab.lm.corpus import MIN_WINDOWS, Corpus, CorpusError
from genailab.lm.sample import TrainedModel
from genailab.lm.tokenizer import CharTokenizer
from genailab.lm.train_config import TrainConfig

LOG_EVERY = 10  # steps between progress-bar updates (reading the loss syncs a GPU)
SCHEDULE_WARMUP_STEPS = 20  # steps that measure the pace before a time budget shapes the schedule


# ----------------------------------------------------------------------------------------------
# data, optimizer, evaluation
# ----------------------------------------------------------------------------------------------


def get_batch(
    data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random windows of ``data``: inputs ``(B, T)`` and targets shifted by one.

    Examples
    --------
    >>> data = torch.arange(10)
    >>> x, y = get_batch(data, 4, 2, torch.Generator().manual_seed(0))
    >>> bool((y[:, :-1] == x[:, 1:]).all()), x.shape
    (True, torch.Size([2, 4]))
    """
    start = torch.randint(len(data) - block_size, (batch_size,), generator=generator)  # (B,)
    window = data[start[:, None] + torch.arange(block_size + 1)]  # (B, T + 1)
    return window[:, :-1], window[:, 1:]  # (B, T), (B, T)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> Any:
    """AdamW with decay on the 2-D weights only (fused on CUDA)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    fused = device.type == "cuda"
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=fused)


@torch.no_grad()
def estimate_loss(
    model: torch.nn.Module,
    splits: Mapping[str, torch.Tensor],
    cfg: TrainConfig,
    seed: int,
    device: torch.device,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Mean loss over ``cfg.eval_iters`` batches of each split, the same windows every call.

    ``batch_size`` (default ``cfg.batch_size``) is the global batch under DDP, so that every
    rank, and a single process with that batch, evaluates the same windows.
    """
    was_training = model.training
    model.eval()
    out = {}
    for name, data in splits.items():
        gen = torch.Generator().manual_seed(seed)
        losses = []
        for _ in range(cfg.eval_iters):
            x, y = get_batch(data, cfg.block_size, batch_size or cfg.batch_size, gen)
            x, y = x.to(device), y.to(device)
            losses.append(_loss(model(x), y).item())
        out[name] = float(np.mean(losses))
    model.train(was_training)
    return out


def _loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    V = logits.size(-1)
    return F.cross_entropy(logits.reshape(-1, V).float(), targets.reshape(-1), ignore_index=-1)


# ----------------------------------------------------------------------------------------------
# the training run
# ----------------------------------------------------------------------------------------------


@dataclass
class RunSpec:
    """What :func:`genailab.lm.train` settled before the run: every value checked."""

    cfg: TrainConfig
    model_config: dict[str, Any]  # the model's whole config, "model" (its name) included
    corpus: Corpus
    tok: CharTokenizer | BPETokenizer
    out: Path
    device: str
    seed: int
    preset: str
    tokenizer: str  # its kind: char or bpe
    progress: bool | None
    max_seconds: float | None


def check_token_length(ids: Mapping[str, Any], block_size: int, name: str) -> None:
    """Raise :class:`CorpusError` unless each split holds ``MIN_WINDOWS`` windows of tokens.

    The corpus check counts characters; a BPE tokenizer packs several into one token, so a text
    long enough in characters can still be too short in tokens.
    """
    needed = MIN_WINDOWS * (block_size + 1)
    for split, tokens in ids.items():
        if len(tokens) < needed:
            raise CorpusError(
                f"corpus {name!r}: its {split} split is {len(tokens):,} tokens long, too short "
                f"for block_size {block_size} (each split needs {needed:,}); use a longer text, "
                "a smaller block_size or --tokenizer char"
            )


class TorchRun:
    """The state of one training run on torch; :meth:`execute` is the loop.

    The loop itself is backend-free: :class:`~genailab.lm.train_engine.EngineRun` overrides
    the hooks (``_setup``, ``_step``, ``_estimate``, ``_model_state``, ``_restore_model``) to
    train on the engine.
    """

    backend = "torch"

    def __init__(self, spec: RunSpec) -> None:
        self.cfg, self.corpus, self.tok, self.out = spec.cfg, spec.corpus, spec.tok, spec.out
        self.model_config = dict(spec.model_config)
        self.seed, self.preset, self.tokenizer = spec.seed, spec.preset, spec.tokenizer
        self.max_seconds = spec.max_seconds
        self.progress = sys.stderr.isatty() if spec.progress is None else spec.progress
        tok, corpus = spec.tok, spec.corpus
        self.ids = {"train": tok.encode(corpus.train_text), "val": tok.encode(corpus.val_text)}
        check_token_length(self.ids, self.cfg.block_size, corpus.name)
        self.history: list[dict[str, float]] = []
        self.wall_before = 0.0  # time spent before a resume
        self.on_eval: Callable[[TrainedModel], None] | None = None
        self.start_iter = 0
        self.world, self.rank, self.ddp = 1, 0, False
        self._setup(spec.device)
        self.is_main = self.rank == 0

    def _setup(self, device: str) -> None:
        from genailab.device import resolve_device
        from genailab.lm.models import model_from_config

        self.world, self.rank, self.ddp = init_distributed()
        self.device = resolve_device(device)
        if self.ddp and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.splits = {k: torch.from_numpy(v) for k, v in self.ids.items()}
        torch.manual_seed(self.seed)  # the initial weights, the same on every rank
        self.model = model_from_config(self.model_config).to(self.device)
        self.count_based = bool(getattr(self.model, "count_based", False))
        self.optimizer = (
            None if self.count_based else make_optimizer(self.model, self.cfg, self.device)
        )
        self.batches = torch.Generator().manual_seed(self.seed)
        self.forward = self.model
        if self.ddp and not self.count_based:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    def close(self) -> None:
        """Leave the process group, if this run joined one under torchrun."""
        if self.ddp and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()

    # -- hooks: one training step, the evaluation, the saved state ---------------------------

    def _step(self, lr: float) -> Any:
        """One optimization step at learning rate ``lr``; return the loss (not synced)."""
        cfg = self.cfg
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(
            self.splits["train"], cfg.block_size, cfg.batch_size * self.world, self.batches
        )
        lo, hi = self.rank * cfg.batch_size, (self.rank + 1) * cfg.batch_size  # our slice
        x, y = x[lo:hi].to(self.device), y[lo:hi].to(self.device)
        loss = _loss(self.forward(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DDP: gradients averaged over the ranks here
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        return loss

    def _estimate(self) -> dict[str, float]:
        batch = self.cfg.batch_size * self.world
        return estimate_loss(self.model, self.splits, self.cfg, self.seed + 1, self.device, batch)

    def _model_state(self) -> dict[str, Any]:
        return {
            "model_config": self.model.config_dict(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": {} if self.optimizer is None else self.optimizer.state_dict(),
            "rng": {**rng_states(), "batches": self.batches.get_state()},
        }

    def _restore_model(self, ckpt: Mapping[str, Any]) -> None:
        self.model.load_state_dict(ckpt["model"])
        if self.optimizer is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        self.batches.set_state(ckpt["rng"]["batches"])
        set_rng_states(ckpt["rng"])

    def _num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- checkpoints ------------------------------------------------------------------------

    def _save(self, it: int, wall: float) -> None:
        if not self.is_main:
            return
        state = {
            **self._model_state(),
            "tokenizer": self.tok.to_dict(),
            "iter": it,
            "train_config": dataclasses.asdict(self.cfg),
            "corpus": {"name": self.corpus.name, "sha256": text_hash(self.corpus.text)},
            "history": list(self.history),
            "wall_s": wall,
            "run": {
                "preset": self.preset,
                "seed": self.seed,
                "tok": self.tokenizer,
                "backend": self.backend,
            },
        }
        save_checkpoint(self.out / CHECKPOINT_NAME, state)

    def _restore(self, ckpt: Mapping[str, Any]) -> None:
        self._restore_model(ckpt)
        self.history = list(ckpt["history"])
        self.wall_before = float(ckpt.get("wall_s", 0.0))
        self.start_iter = int(ckpt["iter"])

    # -- the loop ---------------------------------------------------------------------------

    def _evaluate(self, it: int, wall: float) -> None:
        losses = self._estimate()
        entry = {"iter": it, "train_loss": losses["train"], "val_loss": losses["val"]}
        self.history.append({**entry, "wall_s": round(wall, 3)})

    def _notify(self, it: int) -> None:
        """Hand the ``on_eval`` hook the model just evaluated (and saved)."""
        if self.on_eval is not None and self.is_main:
            model = self._torch_model()
            was_training = model.training
            model.eval()
            path = self.out / CHECKPOINT_NAME
            self.on_eval(TrainedModel(model, self.tok, it, list(self.history), path))
            model.train(was_training)

    def _torch_model(self) -> torch.nn.Module:
        """The torch module being trained (the engine backend converts its weights)."""
        return self.model

    def execute(self, ckpt: Mapping[str, Any] | None) -> dict[str, Any]:
        """Train from scratch, or on from ``ckpt``, to the end of the budget; the summary."""
        cfg = self.cfg
        t0 = time.perf_counter()
        if self.backend == "torch" and self.count_based:
            self.model.fit_counts(self.ids["train"])
            self._evaluate(0, time.perf_counter() - t0)
            wall = time.perf_counter() - t0
            self._save(0, wall)
            self._notify(0)
            return self._finish(0, wall, len(self.ids["train"]) / max(wall, 1e-9), "counts")
        if ckpt is not None:
            self._restore(ckpt)
        bar = tqdm(
            total=cfg.max_iters,
            initial=self.start_iter,
            disable=not (self.progress and self.is_main),
            desc=f"{cfg.model} {self.corpus.name}",
            unit="it",
            dynamic_ncols=True,
            file=sys.stderr,
        )
        it, stopped, step_time, tokens = self.start_iter, "max_iters", 0.0, 0
        fresh = ckpt is None  # a resumed run has its evaluation and checkpoint at start_iter
        while True:
            wall = self.wall_before + time.perf_counter() - t0
            spent = self.max_seconds is not None and wall - self.wall_before >= self.max_seconds
            if spent and it < cfg.max_iters:
                stopped = "max_seconds"
            done = it >= cfg.max_iters or spent
            if fresh and (it % cfg.eval_interval == 0 or done):
                self._evaluate(it, wall)
                self._save(it, self.wall_before + time.perf_counter() - t0)
                self._notify(it)
            fresh = True
            if done:
                break
            horizon = self._schedule_end(it, wall - self.wall_before)
            lr = cosine_with_warmup(it, cfg.warmup_iters, horizon, cfg.lr, cfg.min_lr)
            ts = time.perf_counter()
            loss = self._step(lr)
            it += 1
            tokens += cfg.batch_size * self.world * cfg.block_size
            if it % LOG_EVERY == 0 or it == cfg.max_iters:
                loss_value = loss.item()  # syncs a GPU: only every LOG_EVERY steps
                step_time += time.perf_counter() - ts
                bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{tokens / step_time:,.0f}")
            else:
                step_time += time.perf_counter() - ts
            bar.update(1)
        bar.close()
        wall = time.perf_counter() - t0
        return self._finish(it, wall, tokens / max(step_time, 1e-9), stopped)

    def _schedule_end(self, it: int, spent: float) -> int:
        """The step at which the cosine schedule ends: ``max_iters``, or sooner under a budget.

        With ``max_seconds``, after a few steps have measured the pace (evaluations
        included), the end is the step the run will reach when the time is up.
        """
        cfg, done = self.cfg, it - self.start_iter
        if self.max_seconds is None or done < SCHEDULE_WARMUP_STEPS or spent <= 0:
            return cfg.max_iters
        projected = it + int((self.max_seconds - spent) * done / spent)
        return max(min(cfg.max_iters, projected), cfg.warmup_iters + 1, it + 1)

    def _finish(self, it: int, wall: float, tokens_per_s: float, stopped: str) -> dict[str, Any]:
        last = self.history[-1]
        summary = {
            "model": self.cfg.model,
            "corpus": self.corpus.name,
            "preset": self.preset,
            "backend": self.backend,
            "device": str(self.device),
            "world_size": self.world,
            "rank": self.rank,
            "seed": self.seed,
            "tokenizer": self.tokenizer,
            "vocab_size": self.tok.vocab_size,
            "num_parameters": self._num_parameters(),
            "iters": it,
            "stopped": stopped,
            "resumed_from": self.start_iter if self.start_iter else None,
            "val_loss": last["val_loss"],
            "train_loss": last["train_loss"],
            "tokens_per_s": round(tokens_per_s, 1),
            "wall_s": round(wall, 3),
            "total_wall_s": round(self.wall_before + wall, 3),
            "config": dataclasses.asdict(self.cfg),
            "model_config": self.model_config,  # what was built, every size resolved
            "history": self.history,
            "out": str(self.out),
        }
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            write_text_atomically(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary


def init_distributed() -> tuple[int, int, bool]:
    """``(world_size, rank, ddp)``: joins the process group when torchrun started us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0, False
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_world_size(), dist.get_rank(), True
