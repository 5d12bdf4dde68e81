"""Training a language model: :func:`train`, which checks every argument before any work.

:func:`train` settles the run before it starts, and refuses in one line what it cannot do:

- a fresh run takes the preset (:data:`~genailab.lm.train_config.PRESETS`), the model and its
  sizes in that preset, then ``overrides`` and ``max_iters`` (:func:`make_config`); the model
  is chosen with ``model`` (``--model``), never through ``overrides`` (``--set model``);
- a resumed run (``resume=True``) continues the checkpoint's settings: any of ``model``,
  ``preset``, ``tokenizer``, ``seed``, ``backend`` or an override that differs from the
  checkpoint's is refused, naming the flag and the checkpoint's value; only ``max_iters`` (to
  extend the run), ``max_seconds`` and ``device`` may change;
- the sizes must be those the model has, the corpus long enough for the context, the backend
  able to run the model on the device, and the run must fit in memory
  (:mod:`~genailab.lm.train_memory`, :func:`genailab.memory.check_memory`).

Then the loop runs: :class:`~genailab.lm.train_loop.TorchRun` on torch (alone or under
``torchrun``), :class:`~genailab.lm.train_engine.EngineRun` on genailab's numpy engine.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from genailab.errors import ConfigError, UnknownNameError, suggest
from genailab.lm.bpe import BPETokenizer
from genailab.lm.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, text_hash
from genailab.lm.corpus import Corpus, load_corpus
from genailab.lm.sample import TrainedModel
from genailab.lm.tokenizer import CharTokenizer
from genailab.lm.tokenizers import tokenizer_from_dict
from genailab.lm.train_config import (
    BACKENDS,
    MAX_SECONDS,
    SIZES,
    TOKENIZERS,
    TrainConfig,
    convert_overrides,
    make_config,
)
from genailab.lm.train_loop import RunSpec, TorchRun, get_batch
from genailab.lm.train_memory import describe_request, training_bytes
from genailab.memory import check_memory
from genailab.settings import SEED_MAX

__all__ = ["get_batch", "make_tokenizer", "summary_line", "train"]

RESUMING = "lm train --resume continues the checkpoint's settings"


def make_tokenizer(kind: str, text: str, bpe_vocab_size: int) -> CharTokenizer | BPETokenizer:
    """A character tokenizer fitted on ``text``, or a BPE one trained on it."""
    if kind == "char":
        return CharTokenizer.fit(text)
    if kind == "bpe":
        return BPETokenizer.train(text, bpe_vocab_size)
    raise UnknownNameError(_unknown("tokenizer", kind, TOKENIZERS))


def train(
    corpus: str | os.PathLike[str] | None = None,
    model: str | None = None,
    preset: str | None = None,
    max_iters: int | None = None,
    max_seconds: float | None = None,
    out: str | os.PathLike[str] = "lm-out",
    resume: bool = False,
    device: str = "auto",
    backend: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    progress: bool | None = None,
    tokenizer: str | None = None,
    on_eval: Callable[[TrainedModel], None] | None = None,
) -> dict[str, Any]:
    """Train a language model on a corpus; write ``out/ckpt.pt`` and ``out/summary.json``.

    Every argument left as None takes its default on a fresh run (given below) and the
    checkpoint's value with ``resume``; given with ``resume``, it must equal the checkpoint's.

    Parameters
    ----------
    corpus : str or path-like, optional
        A shipped corpus name (default ``"cats"``) or the path of a UTF-8 text file.
    model : str, optional
        One of ``bigram``, ``mlp``, ``cnn``, ``lstm``, ``gpt`` (default).
    preset : str, optional
        A key of :data:`PRESETS` (default ``cpu``); ``overrides`` and ``max_iters`` change
        single fields.
    max_iters : int, optional
        Optimization steps (and the length of the cosine schedule); default the preset's.
        With ``resume``, a larger value extends the run.
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
        Continue from ``out/ckpt.pt`` with the checkpoint's settings and random states, on
        the same corpus (checked by hash); the run ends with the weights an uninterrupted
        run would have.
    device : str
        ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda`` or ``mps``.
    backend : str, optional
        ``torch`` (default), or ``engine`` to train the GPT on genailab's numpy engine.
    overrides : mapping, optional
        :class:`TrainConfig` fields to change, as values or CLI strings (not ``model``).
    seed : int, optional
        Seeds the initial weights, the batches and dropout; default 0.
    progress : bool, optional
        Show a progress bar (loss, tokens/s); default: when stderr is a terminal.
    tokenizer : str, optional
        ``char`` (default; one token per character) or ``bpe`` (byte-level BPE trained on
        the text).
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
        ``iters``, ``tokens_per_s``, ``wall_s``, ``model``, ``model_config`` (what was built,
        every size resolved), ``config``, ``corpus``, ``preset``, ``device``, ``history``
        (one ``{iter, train_loss, val_loss, wall_s}`` per evaluation) and more.

    Raises
    ------
    GenailabError
        Before any work, for anything that cannot be done as asked; the message is one line
        (a :class:`~genailab.errors.ConfigError` for a setting,
        :class:`~genailab.memory.MemoryNeedError` for a run too big for the machine).

    Examples
    --------
    >>> import tempfile
    >>> summary = train("cats", "bigram", preset="tiny", out=tempfile.mkdtemp())
    >>> summary["iters"], round(summary["val_loss"], 2)
    (0, 2.28)
    """
    for kind, value, accepted in (
        ("backend", backend, BACKENDS),
        ("tokenizer", tokenizer, TOKENIZERS),
    ):
        if value is not None and value not in accepted:
            raise UnknownNameError(_unknown(kind, value, accepted))
    _check_seed(seed)
    if max_seconds is not None and not 0 < max_seconds <= MAX_SECONDS:
        raise ConfigError(
            f"lm train: max_seconds must be in (0, {MAX_SECONDS:g}], got {max_seconds}"
        )
    out = Path(out)
    if resume:
        ckpt = load_checkpoint(out / CHECKPOINT_NAME)
        settled = _resumed(
            ckpt, out, corpus, model, preset, max_iters, backend, overrides, seed, tokenizer
        )
        text, cfg, preset, seed, tokenizer, backend = settled
        tok = tokenizer_from_dict(ckpt["tokenizer"])
    else:
        ckpt = None
        text = load_corpus("cats" if corpus is None else corpus)
        preset, seed = preset or "cpu", 0 if seed is None else seed
        tokenizer, backend = tokenizer or "char", backend or "torch"
        cfg = make_config(preset, model or "gpt", overrides, max_iters)
        tok = CharTokenizer.fit(text.train_text) if tokenizer == "char" else None
    text.check_length(cfg.block_size)
    _check_backend(backend, cfg, device)
    # the memory check comes before the BPE tokenizer is trained: its vocabulary is at most
    # bpe_vocab_size
    vocab_size = cfg.bpe_vocab_size if tok is None else tok.vocab_size
    model_config = model_config_of(cfg, vocab_size)
    check_memory(
        training_bytes(cfg.model, model_config, cfg.batch_size, cfg.block_size, len(text.text)),
        describe_request(cfg.model, model_config, cfg.batch_size, cfg.block_size),
    )
    if tok is None:
        tok = make_tokenizer(tokenizer, text.train_text, cfg.bpe_vocab_size)
        model_config = model_config_of(cfg, tok.vocab_size)  # training may stop short of it
    spec = RunSpec(
        cfg, model_config, text, tok, out, device, seed, preset, tokenizer, progress, max_seconds
    )
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run = None
    try:
        if backend == "engine":
            from genailab.lm.train_engine import EngineRun

            run = EngineRun(spec)
        else:
            run = TorchRun(spec)
        run.on_eval = on_eval
        return run.execute(ckpt)
    finally:
        torch.set_num_threads(old_threads)
        if run is not None:
            run.close()


# ---------------------------------------------------------------------------------- checks


def _unknown(kind: str, value: Any, accepted: tuple[str, ...]) -> str:
    return (
        f"unknown {kind} {value!r}; {kind}s: {', '.join(accepted)}{suggest(str(value), accepted)}"
    )


def _check_seed(seed: Any) -> None:
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"lm train: seed must be an integer in [0, {SEED_MAX}], got {seed!r}")


def model_config_of(cfg: TrainConfig, vocab_size: int) -> dict[str, Any]:
    """The whole config of the model ``cfg`` asks for (``model`` included): its own defaults
    for the sizes ``cfg`` leaves at 0; a size the model does not have is refused.

    Examples
    --------
    >>> from genailab.lm.train_config import make_config
    >>> config = model_config_of(make_config("tiny", "lstm"), vocab_size=59)
    >>> config["model"], config["n_embd"], config["n_hidden"], config["n_layer"]
    ('lstm', 16, 32, 1)
    """
    from genailab.lm.models import MODEL_CLASSES

    config_class = MODEL_CLASSES[cfg.model].config_class
    accepted = {f.name for f in dataclasses.fields(config_class)}
    unknown = [k for k in SIZES if getattr(cfg, k) and k not in accepted]
    if unknown:
        raise ConfigError(
            f"lm train: the {cfg.model} model has no {', '.join(unknown)}; its sizes are "
            f"{', '.join(k for k in SIZES if k in accepted)}"
        )
    sizes = {k: getattr(cfg, k) for k in SIZES if getattr(cfg, k)}
    common = {k: getattr(cfg, k) for k in ("block_size", "dropout", "rotary") if k in accepted}
    config = config_class(vocab_size=vocab_size, **common, **sizes)
    return {"model": cfg.model, **dataclasses.asdict(config)}


def _check_backend(backend: str, cfg: TrainConfig, device: str) -> None:
    """Whether ``backend`` can train ``cfg.model`` on ``device`` (and that the device exists)."""
    if backend == "engine":
        if cfg.model != "gpt":
            raise ConfigError(f"lm train: the engine backend trains the gpt only, not {cfg.model}")
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise ConfigError("lm train: the engine backend runs in one process, not under DDP")
        if device not in ("auto", "cpu"):
            raise ConfigError(f"lm train: the engine backend runs on the CPU, not on {device}")
        return
    from genailab.device import resolve_device

    resolve_device(device)  # an unknown or absent device: its one-line error, now


def _resumed(
    ckpt: Mapping[str, Any],
    out: Path,
    corpus: str | os.PathLike[str] | None,
    model: str | None,
    preset: str | None,
    max_iters: int | None,
    backend: str | None,
    overrides: Mapping[str, Any] | None,
    seed: int | None,
    tokenizer: str | None,
) -> tuple[Corpus, TrainConfig, str, int, str, str]:
    """The corpus, config, preset, seed, tokenizer kind and backend of the run ``ckpt`` saved;
    an argument that would change one of them is refused."""
    where = out / CHECKPOINT_NAME
    if "run" not in ckpt:
        raise CheckpointError(f"checkpoint '{where}' lacks the run settings needed to resume")
    run, saved = ckpt["run"], dict(ckpt["train_config"])
    changes = convert_overrides(overrides)  # an unknown key is refused here too
    if "model" in changes:
        raise ConfigError(
            f"{RESUMING}; choose the model with --model, not --set model={changes['model']}"
        )
    given = (
        ("--model", model, "model", saved["model"]),
        ("--preset", preset, "preset", run["preset"]),
        ("--tokenizer", tokenizer, "tokenizer", run["tok"]),
        ("--seed", seed, "seed", run["seed"]),
        ("--backend", backend, "backend", run.get("backend", "torch")),
    )
    for flag, value, name, theirs in given:
        if value is not None and value != theirs:
            raise ConfigError(
                f"{RESUMING}; {flag} {value} differs from its {name} {theirs}: drop it, or "
                "train into another --out"
            )
    max_iters = _one_max_iters(max_iters, changes.pop("max_iters", None))
    for key, value in changes.items():
        if value != saved[key]:
            raise ConfigError(
                f"{RESUMING}; --set {key}={value} differs from its {key} {saved[key]}: drop it, "
                "or train into another --out"
            )
    if max_iters is not None and max_iters < int(ckpt["iter"]):
        raise ConfigError(
            f"lm train --resume: --max-iters {max_iters} is below the {ckpt['iter']} steps the "
            f"checkpoint has done; give at least {ckpt['iter']}"
        )
    text = load_corpus(ckpt["corpus"]["name"] if corpus is None else corpus)
    if ckpt["corpus"]["sha256"] != text_hash(text.text):
        sha = ckpt["corpus"]["sha256"]
        raise CheckpointError(
            f"cannot resume '{where}': it was trained on corpus {ckpt['corpus']['name']!r} "
            f"(sha256 {sha[:12]}), not on {text.name!r} (sha256 {text_hash(text.text)[:12]}); "
            "pass the same corpus or another --out"
        )
    if max_iters is not None:
        saved["max_iters"] = max_iters
    try:
        cfg = TrainConfig(**saved)
    except TypeError as err:  # a field this version does not know
        raise CheckpointError(
            f"checkpoint '{where}' has a training config of another version: {err}"
        ) from None
    return text, cfg, run["preset"], int(run["seed"]), run["tok"], run.get("backend", "torch")


def _one_max_iters(flag: int | None, assigned: int | None) -> int | None:
    """``--max-iters`` or ``--set max_iters``, which must agree when both are given."""
    if flag is not None and assigned is not None and flag != assigned:
        raise ConfigError(
            f"lm train: --max-iters {flag} and --set max_iters={assigned} disagree; give one"
        )
    return assigned if flag is None else flag


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
