"""``genailab lm train`` and ``genailab lm sample``: the language models from the shell.

:func:`add_lm_commands` adds the ``lm`` verb with its two sub-verbs to the ``genailab``
parser; :func:`run_lm_command` runs the parsed command and returns the exit code. Both
are thin: every flag maps onto an argument of :func:`genailab.lm.train` or
:meth:`genailab.lm.TrainedModel.generate`, and every error a user can cause is a
:class:`~genailab.errors.GenailabError` that the ``genailab`` entry point prints as one line
with exit code 2.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="genailab")
>>> _ = add_lm_commands(parser.add_subparsers(dest="verb"))
>>> args = parser.parse_args(["lm", "train", "--model", "lstm", "--set", "lr=0.01"])
>>> args.lm_verb, args.model, args.assignments
('train', 'lstm', ['lr=0.01'])
"""

from __future__ import annotations

import argparse
from typing import Any

from genailab.settings import bounded_number, parse_assignments

DEFAULT_OUT = "lm-out"
MODEL_CHOICES = ("bigram", "mlp", "cnn", "lstm", "gpt")  # = genailab.lm.models.MODELS


def add_lm_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``lm train`` and ``lm sample`` to an ``add_subparsers()`` object; return ``lm``'s parser.

    The parsed namespace has ``verb == "lm"`` (with ``dest="verb"``) and ``lm_verb`` set to
    ``"train"`` or ``"sample"``; pass it to :func:`run_lm_command`.
    """
    from genailab.lm.train_config import BACKENDS, PRESETS, TOKENIZERS

    lm = subparsers.add_parser("lm", help="train a language model, or sample from one")
    verbs = lm.add_subparsers(dest="lm_verb", required=True, metavar="{train,sample}")

    t = verbs.add_parser("train", help="train a character-level language model")
    t.add_argument("--corpus", default="cats", help="'cats' (shipped) or a UTF-8 text file")
    t.add_argument("--model", choices=MODEL_CHOICES, help="the model (default gpt)")
    t.add_argument("--preset", default="cpu", choices=list(PRESETS), help="default: cpu")
    t.add_argument("--max-iters", type=bounded_number(int, 0), help="optimization steps")
    seconds = bounded_number(float, 0, strict=True)
    t.add_argument("--max-seconds", type=seconds, help="wall-time budget in seconds")
    t.add_argument("--out", default=DEFAULT_OUT, help=f"run folder (default {DEFAULT_OUT})")
    t.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt")
    t.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    t.add_argument("--backend", default="torch", choices=BACKENDS)
    t.add_argument("--tokenizer", default="char", choices=TOKENIZERS)
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a training config field (repeatable), e.g. --set lr=1e-3",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    s = verbs.add_parser("sample", help="write text with a trained model")
    s.add_argument("folder", metavar="DIR", help="the --out folder of `lm train`")
    s.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    s.add_argument("--max-tokens", type=bounded_number(int, 0), default=400, help="default 400")
    s.add_argument("--temperature", type=float, default=0.8, help="default 0.8")
    s.add_argument("--top-k", type=int, help="sample among the k most likely tokens")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    return lm


def run_lm_command(args: argparse.Namespace) -> int:
    """Run a parsed ``lm train`` / ``lm sample``; print the summary line or the text; return 0.

    Errors a user can cause propagate as :class:`~genailab.errors.GenailabError` (or the
    ``ValueError`` of a bad sampling argument) for the caller to print as one line.
    """
    from genailab.lm.sample import load
    from genailab.lm.train import summary_line, train

    if args.lm_verb == "train":
        summary = train(
            corpus=args.corpus,
            model=args.model if args.resume else (args.model or "gpt"),
            preset=args.preset,
            max_iters=args.max_iters,
            max_seconds=args.max_seconds,
            out=args.out,
            resume=args.resume,
            device=args.device,
            backend=args.backend,
            overrides=parse_assignments(args.assignments),
            seed=args.seed,
            progress=False if args.quiet else None,
            tokenizer=args.tokenizer,
        )
        if summary.get("world_size", 1) == 1 or summary.get("rank", 0) == 0:
            print(summary_line(summary))
        return 0
    if args.lm_verb == "sample":
        model = load(args.folder, device=args.device)
        print(
            model.generate(
                args.prompt,
                max_tokens=args.max_tokens,
                temperature=args.temperature,
                top_k=args.top_k,
                seed=args.seed,
            )
        )
        return 0
    raise ValueError(f"unknown lm command {args.lm_verb!r}")  # pragma: no cover
