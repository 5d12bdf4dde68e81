"""Training a character-level language model: batches, AdamW, a schedule, evaluation, resume.

The loop is nanoGPT's ``train.py`` made into one function, :func:`train`:

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
  states, so that ``resume=True`` draws exactly the batches an uninterrupted run would have;
- **budget**: ``max_iters`` steps, or ``max_seconds`` of wall time, whichever comes first;
  a budget stop evaluates, saves and reports like a normal end.

The count-based bigram is not trained by gradient: it counts pairs on the train split and
is evaluated once (``iters = 0``).

Under ``torchrun`` (``WORLD_SIZE > 1``) the same function trains data-parallel with
PyTorch's own ``DistributedDataParallel`` (gloo on CPU, nccl on CUDA): every rank draws the
same global batch of ``batch_size * world_size`` windows from the same generator and keeps
its own slice, so a run on N processes follows the single-process run with batch
``batch_size * N`` step for step. Only rank 0 writes files.
"""

from __future__ import annotations

import dataclasses
import json
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

from genailab.engine.optim import cosine_with_warmup
from genailab.errors import ConfigError, UnknownNameError, suggest
from genailab.lm.bpe import BPETokenizer
from genailab.lm.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
    text_hash,
)
from genailab.lm.corpus import load_corpus
from genailab.lm.sample import TrainedModel
from genailab.lm.tokenizer import CharTokenizer
from genailab.lm.train_config import (
    BACKENDS,
    SIZES,
    TOKENIZERS,
    TrainConfig,
    make_config,
)

LOG_EVERY = 10  # steps between progress-bar updates (reading the loss syncs a GPU)
SCHEDULE_WARMUP_STEPS = 20  # steps that measure the pace before a time budget shapes the schedule


# ----------------------------------------------------------------------------------------------
# data
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


def make_tokenizer(kind: str, text: str, bpe_vocab_size: int) -> CharTokenizer | BPETokenizer:
    """A character tokenizer fitted on ``text``, or a BPE one trained on it."""
    if kind == "char":
        return CharTokenizer.fit(text)
    if kind == "bpe":
        return BPETokenizer.train(text, bpe_vocab_size)
    raise UnknownNameError(
        f"unknown tokenizer {kind!r}; tokenizers: {', '.join(TOKENIZERS)}"
        f"{suggest(kind, TOKENIZERS)}"
    )


def _build_model(cfg: TrainConfig, vocab_size: int) -> torch.nn.Module:
    """The model named by ``cfg.model`` with the sizes ``cfg`` has that its config takes."""
    from genailab.lm.models import build_model

    accepted = {f.name for f in dataclasses.fields(build_model(cfg.model, vocab_size).config)}
    unknown = [k for k in SIZES if getattr(cfg, k) and k not in accepted]
    if unknown:
        raise ConfigError(
            f"lm train: the {cfg.model} model has no {', '.join(unknown)}; its sizes are "
            f"{', '.join(k for k in SIZES if k in accepted)}"
        )
    sizes = {k: getattr(cfg, k) for k in SIZES if getattr(cfg, k)}
    common = {k: getattr(cfg, k) for k in ("block_size", "dropout", "rotary") if k in accepted}
    return build_model(cfg.model, vocab_size, **common, **sizes)


def _optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> Any:
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


def train(
    corpus: str | os.PathLike[str] = "cats",
    model: str | None = "gpt",
    preset: str = "cpu",
    max_iters: int | None = None,
    max_seconds: float | None = None,
    out: str | os.PathLike[str] = "lm-out",
    resume: bool = False,
    device: str = "auto",
    backend: str = "torch",
    overrides: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: bool | None = None,
    tokenizer: str = "char",
    on_eval: Callable[[TrainedModel], None] | None = None,
) -> dict[str, Any]:
    """Train a language model on a corpus; write ``out/ckpt.pt`` and ``out/summary.json``.

    Parameters
    ----------
    corpus : str or path-like
        A shipped corpus name (``"cats"``) or the path of a UTF-8 text file.
    model : str or None
        One of ``bigram``, ``mlp``, ``cnn``, ``lstm``, ``gpt``. With ``resume``, None means
        the checkpoint's model.
    preset : str
        A key of :data:`PRESETS`; ``overrides`` and ``max_iters`` change single fields.
    max_iters : int, optional
        Optimization steps (and the length of the cosine schedule); default the preset's.
    max_seconds : float, optional
        Wall-time budget: the run stops cleanly after the step that crosses it, then
        evaluates, saves and reports (``summary["stopped"] == "max_seconds"``). The cosine
        schedule is then fitted to the budget: it ends at ``max_iters`` or at the step the
        run is projected to reach when the time is up (from its step rate so far),
        whichever comes first, so that the learning rate has decayed when the time ends.
        The projection depends on the machine's speed: a time-budgeted run is not
        reproducible bit for bit (one bounded by ``max_iters`` alone is).
    out : str or path-like
        Folder for ``ckpt.pt`` and ``summary.json``.
    resume : bool
        Continue from ``out/ckpt.pt``: the same corpus (by hash) and model are required;
        the run goes on with the checkpoint's configuration and random states, and ends
        with the weights an uninterrupted run would have.
    device : str
        ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda`` or ``mps``.
    backend : str
        ``torch``, or ``engine`` to train the GPT on genailab's numpy engine.
    overrides : mapping, optional
        :class:`TrainConfig` fields to change, as values or CLI strings.
    seed : int
        Seeds the initial weights, the batches and dropout.
    progress : bool, optional
        Show a progress bar (loss, tokens/s); default: when stderr is a terminal.
    tokenizer : str
        ``char`` (one token per character) or ``bpe`` (byte-level BPE trained on the text).
    on_eval : callable, optional
        Called after every evaluation and its checkpoint (on the main process) with a
        :class:`~genailab.lm.TrainedModel` of the weights at that step, in eval mode, whose
        ``history`` ends with that evaluation and whose ``path`` holds them: for watching a
        model learn (the experiments sample from it). Do not keep the model: training goes on
        with it after the call.

    Returns
    -------
    dict
        The summary also written to ``out/summary.json``: ``val_loss``, ``train_loss``,
        ``iters``, ``tokens_per_s``, ``wall_s``, ``model``, ``corpus``, ``preset``, ``device``,
        ``history`` (one ``{iter, train_loss, val_loss, wall_s}`` per evaluation) and more.

    Examples
    --------
    >>> import tempfile
    >>> summary = train("cats", "bigram", preset="tiny", out=tempfile.mkdtemp())
    >>> summary["iters"], round(summary["val_loss"], 2)
    (0, 2.28)
    """
    if backend not in BACKENDS:
        raise UnknownNameError(
            f"unknown backend {backend!r}; backends: {', '.join(BACKENDS)}"
            f"{suggest(backend, BACKENDS)}"
        )
    if max_seconds is not None and max_seconds <= 0:
        raise ConfigError(f"lm train: max_seconds must be > 0, got {max_seconds}")
    out = Path(out)
    text = load_corpus(corpus)
    ckpt = None
    if resume:
        ckpt = load_checkpoint(out / CHECKPOINT_NAME)
        _check_resumable(ckpt, out, text, model)
        cfg = make_config("tiny", overrides=ckpt["train_config"], max_iters=max_iters)
        preset, seed, tokenizer = ckpt["run"]["preset"], ckpt["run"]["seed"], ckpt["run"]["tok"]
        backend = ckpt["run"].get("backend", "torch")
    else:
        cfg = make_config(preset, model or "gpt", overrides, max_iters)
    text.check_length(cfg.block_size)
    if tokenizer not in TOKENIZERS:
        make_tokenizer(tokenizer, "", 0)  # raises the unknown-name error
    tok = (
        _tokenizer_from(ckpt)
        if ckpt
        else make_tokenizer(tokenizer, text.train_text, cfg.bpe_vocab_size)
    )
    runner = _EngineRun if backend == "engine" else _Run
    run = runner(cfg, text, tok, out, device, seed, preset, tokenizer, progress, max_seconds)
    run.on_eval = on_eval
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return run.execute(ckpt)
    finally:
        torch.set_num_threads(old_threads)
        run.close()


def _tokenizer_from(ckpt: Mapping[str, Any]) -> CharTokenizer | BPETokenizer:
    from genailab.lm.tokenizers import tokenizer_from_dict

    return tokenizer_from_dict(ckpt["tokenizer"])


def _check_resumable(ckpt: Mapping[str, Any], out: Path, text: Any, model: str | None) -> None:
    where = out / CHECKPOINT_NAME
    if "run" not in ckpt:
        raise CheckpointError(f"checkpoint '{where}' lacks the run settings needed to resume")
    saved = ckpt["corpus"]
    if saved["sha256"] != text_hash(text.text):
        raise CheckpointError(
            f"cannot resume '{where}': it was trained on corpus {saved['name']!r} "
            f"(sha256 {saved['sha256'][:12]}), not on {text.name!r} (sha256 "
            f"{text_hash(text.text)[:12]}); pass the same corpus or another --out"
        )
    saved_model = ckpt["model_config"]["model"]
    if model is not None and model != saved_model:
        raise CheckpointError(
            f"cannot resume '{where}': it holds a {saved_model!r} model, not {model!r}; "
            f"pass --model {saved_model} or another --out"
        )


class _Run:
    """The state of one training run on torch; :meth:`execute` is the loop.

    The loop itself is backend-free: :class:`_EngineRun` overrides the hooks (``_setup``,
    ``_step``, ``_estimate``, ``_model_state``, ``_restore_model``) to train on the engine.
    """

    backend = "torch"

    def __init__(
        self,
        cfg: TrainConfig,
        corpus: Any,
        tok: CharTokenizer | BPETokenizer,
        out: Path,
        device: str,
        seed: int,
        preset: str,
        tokenizer: str,
        progress: bool | None,
        max_seconds: float | None,
    ) -> None:
        self.cfg, self.corpus, self.tok, self.out = cfg, corpus, tok, out
        self.seed, self.preset, self.tokenizer = seed, preset, tokenizer
        self.max_seconds = max_seconds
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.ids = {"train": tok.encode(corpus.train_text), "val": tok.encode(corpus.val_text)}
        self.history: list[dict[str, float]] = []
        self.wall_before = 0.0  # time spent before a resume
        self.on_eval: Callable[[TrainedModel], None] | None = None
        self.start_iter = 0
        self.world, self.rank, self.ddp = 1, 0, False
        self._setup(device)
        self.is_main = self.rank == 0

    def _setup(self, device: str) -> None:
        from genailab.device import resolve_device

        self.world, self.rank, self.ddp = _init_distributed()
        self.device = resolve_device(device)
        if self.ddp and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(self.device)
        self.splits = {k: torch.from_numpy(v) for k, v in self.ids.items()}
        torch.manual_seed(self.seed)  # the initial weights, the same on every rank
        self.model = _build_model(self.cfg, self.tok.vocab_size).to(self.device)
        self.count_based = bool(getattr(self.model, "count_based", False))
        self.optimizer = None if self.count_based else _optimizer(self.model, self.cfg, self.device)
        self.batches = torch.Generator().manual_seed(self.seed)
        self.forward = self.model
        if self.ddp and not self.count_based:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    def close(self) -> None:
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
            "history": self.history,
            "out": str(self.out),
        }
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary


# ----------------------------------------------------------------------------------------------
# the engine backend: the same loop, the GPT on genailab's numpy autograd
# ----------------------------------------------------------------------------------------------


class _EngineRun(_Run):
    """Train :class:`genailab.engine.nn.GPT` with :class:`genailab.engine.optim.AdamW`.

    No torch in the loop: numpy batches from a ``numpy.random.Generator``, the engine's
    forward, backward, clipping and AdamW. The checkpoint converts the arrays to tensors on
    the way out, in the torch GPT's layout with the same :class:`~genailab.engine.nn.GPTConfig`
    (rotary or learned positions, as ``rotary`` says), so :func:`genailab.lm.load` samples from
    an engine-trained model with the torch GPT.
    """

    backend = "engine"

    def _setup(self, device: str) -> None:
        from genailab.engine import tune_allocator
        from genailab.engine.nn import GPT, GPTConfig
        from genailab.engine.optim import AdamW

        cfg = self.cfg
        if cfg.model != "gpt":
            raise ConfigError(f"lm train: the engine backend trains the gpt only, not {cfg.model}")
        if _init_distributed()[0] > 1:
            raise ConfigError("lm train: the engine backend runs in one process, not under DDP")
        if device not in ("auto", "cpu"):
            raise ConfigError(f"lm train: the engine backend runs on the CPU, not on {device}")
        # The engine's temporaries otherwise page-fault on every step (1.4-1.65x slower, see
        # benchmarks/engine.py); process-wide, which a training run owns.
        tune_allocator()
        self.device = torch.device("cpu")
        sizes = {k: getattr(cfg, k) for k in ("n_layer", "n_head", "n_embd") if getattr(cfg, k)}
        self.config = GPTConfig(
            vocab_size=self.tok.vocab_size,
            block_size=cfg.block_size,
            dropout=cfg.dropout,
            rotary=cfg.rotary,
            **sizes,
        )
        self.model_rng = np.random.default_rng(self.seed)  # initial weights, then dropout
        self.model = GPT(self.config, rng=self.model_rng)
        self.optimizer = AdamW(
            self.model.optim_groups(cfg.weight_decay), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)
        )
        self.batches = np.random.default_rng(self.seed)
        self.count_based = False

    def _numpy_batch(self, data: np.ndarray, gen: np.random.Generator) -> tuple[Any, Any]:
        T = self.cfg.block_size
        start = gen.integers(0, len(data) - T, size=self.cfg.batch_size)  # (B,)
        window = data[start[:, None] + np.arange(T + 1)]  # (B, T + 1)
        return window[:, :-1], window[:, 1:]

    def _step(self, lr: float) -> Any:
        from genailab.engine.optim import clip_grad_norm

        self.optimizer.lr = lr
        self.model.train()
        x, y = self._numpy_batch(self.ids["train"], self.batches)
        _, loss = self.model(x, targets=y)
        self.optimizer.zero_grad()
        loss.backward()
        if self.cfg.grad_clip > 0:
            clip_grad_norm(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return loss

    def _estimate(self) -> dict[str, float]:
        from genailab.engine import no_grad

        self.model.eval()
        out = {}
        with no_grad():
            for name, data in self.ids.items():
                gen = np.random.default_rng(self.seed + 1)
                losses = [
                    self.model(*self._numpy_batch(data, gen))[1].item()
                    for _ in range(self.cfg.eval_iters)
                ]
                out[name] = float(np.mean(losses))
        self.model.train()
        return out

    def _model_state(self) -> dict[str, Any]:
        config = {"model": "gpt", **dataclasses.asdict(self.config)}
        return {
            "model_config": config,
            "model": {k: torch.from_numpy(v) for k, v in self.model.state_dict().items()},
            "optimizer": _arrays_to(self.optimizer.state_dict(), torch.from_numpy),
            "rng": {
                **rng_states(),
                "batches": self.batches.bit_generator.state,
                "model": self.model_rng.bit_generator.state,
            },
        }

    def _restore_model(self, ckpt: Mapping[str, Any]) -> None:
        self.model.load_state_dict({k: v.numpy() for k, v in ckpt["model"].items()})
        self.optimizer.load_state_dict(_arrays_to(ckpt["optimizer"], lambda t: t.numpy()))
        self.batches.bit_generator.state = ckpt["rng"]["batches"]
        self.model_rng.bit_generator.state = ckpt["rng"]["model"]

    def _num_parameters(self) -> int:
        return self.model.num_parameters()

    def _torch_model(self) -> torch.nn.Module:
        from genailab.lm.models import model_from_config

        state = self._model_state()
        model = model_from_config(dict(state["model_config"]))
        model.load_state_dict(state["model"])
        return model


def _arrays_to(obj: Any, convert: Any) -> Any:
    """``obj`` with every numpy array (or tensor) inside dicts, lists and tuples converted."""
    if isinstance(obj, np.ndarray | torch.Tensor):
        return convert(obj)
    if isinstance(obj, dict):
        return {k: _arrays_to(v, convert) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_arrays_to(v, convert) for v in obj)
    return obj


def _init_distributed() -> tuple[int, int, bool]:
    """``(world_size, rank, ddp)``: joins the process group when torchrun started us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0, False
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_world_size(), dist.get_rank(), True


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line for the CLI: model, corpus, steps, losses, speed and time.

    Examples
    --------
    >>> summary_line({"model": "gpt", "corpus": "cats", "iters": 60, "val_loss": 2.5,
    ...               "train_loss": 2.4, "tokens_per_s": 1e5, "wall_s": 1.5, "out": "o"})
    'gpt on cats: 60 iters, val 2.5000, train 2.4000, 100,000 tokens/s, 1.5 s -> o'
    """
    return (
        f"{summary['model']} on {summary['corpus']}: {summary['iters']} iters, "
        f"val {summary['val_loss']:.4f}, train {summary['train_loss']:.4f}, "
        f"{summary['tokens_per_s']:,.0f} tokens/s, {summary['wall_s']:.1f} s -> {summary['out']}"
    )
