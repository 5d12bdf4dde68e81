"""The training settings the three language-model videos share, and how they become a run.

``lm-ladder``, ``attention`` and ``cat-poems`` all train with :func:`genailab.lm.train`. Their
configs extend :class:`LMTraining`, which declares the training knobs once, with their help and
bounds (an experiment may change a default, never the meaning), and :func:`train_arguments`
turns them into ``train``'s arguments in one way for all three: every knob the result depends
on is pinned there, so that the presets of ``genailab.lm`` may change without changing a
video. The rules, the same for every video:

- a cosine schedule from ``lr`` down to ``lr / 10``, after a linear warm-up of
  ``warmup_iters`` steps (at most a tenth of the run);
- AdamW with weight decay 0.1 on the matrices, betas (0.9, 0.99), gradients clipped to norm 1;
- rotary positions for the GPT;
- one torch thread and the CPU by default, so that a video is the same on every machine
  (``genailab run NAME --device cuda`` sets ``device``; ``--set threads=0`` takes torch's
  default number of threads).

:func:`training_memory_bytes` estimates a run the same way ``lm train`` does before it starts.
(Discovery skips this module: its name starts with ``_``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from genailab.settings import seed_setting, setting

MAX_ITERS = 20_000  # optimization steps: a real run 10-30x the videos' defaults

# Keys the three videos share but set to their own defaults: each function below is one key's
# help and bounds, so that they cannot drift apart from one video to the next.


def iters_setting(default: int) -> Any:
    return setting(default, help="optimization steps of the training", ge=1, le=MAX_ITERS)


def batch_size_setting(default: int) -> Any:
    return setting(default, help="text windows per optimization step", ge=1, le=1024)


def block_size_setting(default: int) -> Any:
    return setting(
        default, help="context window in characters (training and evaluation)", ge=2, le=1024
    )


def lr_setting(default: float) -> Any:
    return setting(
        default, help="peak learning rate (then a cosine decay to a tenth of it)", gt=0, le=1
    )


def dropout_setting(default: float) -> Any:
    return setting(default, help="dropout rate while training (none when sampling)", ge=0, lt=1)


def eval_iters_setting(default: int) -> Any:
    return setting(default, help="batches of each split averaged in one evaluation", ge=1, le=1000)


@dataclass
class LMTraining:
    """The training knobs of a language-model video (the experiment's Config extends it)."""

    corpus: str = setting("cats", help="a shipped corpus name ('cats') or a UTF-8 text file")
    iters: int = iters_setting(600)
    batch_size: int = batch_size_setting(16)
    block_size: int = block_size_setting(64)
    lr: float = lr_setting(3e-3)
    warmup_iters: int = setting(
        50, help="steps of linear warm-up (at most a tenth of iters)", ge=0, le=MAX_ITERS
    )
    dropout: float = dropout_setting(0.0)
    eval_iters: int = eval_iters_setting(4)
    threads: int = setting(1, help="torch threads for training; 0: torch's default", ge=0, le=64)
    device: Literal["cpu", "auto", "cuda", "mps"] = setting(
        "cpu", help="where to train; cpu (the default) gives the same video on every machine"
    )
    seed: int = seed_setting()


def train_arguments(
    cfg: LMTraining, model: str, sizes: Mapping[str, int], eval_interval: int
) -> dict[str, Any]:
    """The arguments of :func:`genailab.lm.train` (all but ``out`` and ``on_eval``) for
    ``model`` with ``sizes`` (its size fields), evaluated every ``eval_interval`` steps.

    Examples
    --------
    >>> args = train_arguments(LMTraining(iters=300), "gpt", {"n_layer": 2}, 25)
    >>> args["max_iters"], args["device"], args["overrides"]["warmup_iters"]
    (300, 'cpu', 30)
    >>> o = args["overrides"]
    >>> round(o["min_lr"], 9), o["rotary"], o["n_layer"], o["weight_decay"], o["grad_clip"]
    (0.0003, True, 2, 0.1, 1.0)
    """
    overrides: dict[str, Any] = {
        **sizes,
        "block_size": cfg.block_size,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "min_lr": cfg.lr / 10,
        "warmup_iters": min(cfg.warmup_iters, cfg.iters // 10),
        "weight_decay": 0.1,
        "beta1": 0.9,
        "beta2": 0.99,
        "grad_clip": 1.0,
        "dropout": cfg.dropout,
        "eval_interval": eval_interval,
        "eval_iters": cfg.eval_iters,
        "threads": cfg.threads,
    }
    if model == "gpt":
        overrides["rotary"] = True
    return dict(
        corpus=cfg.corpus,
        model=model,
        preset="cpu",
        max_iters=cfg.iters,
        overrides=overrides,
        seed=cfg.seed,
        progress=False,
        device=cfg.device,
    )


def gpt_sizes(n_layer: int, n_head: int, n_embd: int) -> dict[str, int]:
    """The GPT's size fields of :class:`genailab.lm.TrainConfig`."""
    return {"n_layer": n_layer, "n_head": n_head, "n_embd": n_embd}


def training_memory_bytes(cfg: LMTraining, model: str, sizes: Mapping[str, int]) -> int:
    """The peak bytes :func:`genailab.lm.train` needs for ``model`` with ``sizes`` (every size
    of the model given): weights, gradients and AdamW moments, activations, the corpus.

    Examples
    --------
    >>> sizes = gpt_sizes(2, 2, 32)
    >>> training_memory_bytes(LMTraining(), "gpt", sizes) < 64 * 2**20
    True
    """
    from genailab.lm.corpus import load_corpus
    from genailab.lm.train_memory import training_bytes

    text = load_corpus(cfg.corpus).text
    config: dict[str, Any] = {
        "vocab_size": len(set(text)),
        "block_size": cfg.block_size,
        **sizes,
    }
    if model == "gpt":
        config |= {"bias": False, "rotary": True}
    return training_bytes(model, config, cfg.batch_size, cfg.block_size, len(text))
