"""``genailab lm train`` and ``genailab lm sample``: the language models from the shell.

:func:`add_lm_commands` adds the ``lm`` verb with its two sub-verbs to the ``genailab``
parser; :func:`run_lm_command` runs the parsed command and returns the exit code. Both
are thin: every flag maps onto an argument of :func:`genailab.lm.train` or
:meth:`genailab.lm.TrainedModel.generate`, every number is bounded here, and every error a
user can cause is a :class:`~genailab.errors.GenailabError` that the ``genailab`` entry point
prints as one line with exit code 2. ``genailab lm train --help`` lists every key of the
training config (:func:`genailab.lm.train_config.describe`). Building the parser imports no
torch.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="genailab")
>>> _ = add_lm_commands(parser.add_subparsers(dest="verb"))
>>> args = parser.parse_args(["lm", "train", "--model", "lstm", "--set", "lr=0.01"])
>>> args.lm_verb, args.model, args.assignments, args.seed
('train', 'lstm', ['lr=0.01'], None)
"""

from __future__ import annotations

import argparse
import dataclasses
import textwrap
from typing import Any

from genailab.settings import SEED_MAX, bounded_number, format_settings, parse_assignments

DEFAULT_OUT = "lm-out"
DEVICES = ("auto", "cpu", "cuda", "mps")  # = genailab.device.DEVICES, without importing torch
MAX_TOKENS = 100_000  # characters (or tokens) one `lm sample` may write
MAX_TEMPERATURE = 100.0  # far past uniform sampling already
MAX_TOP_K = 1_000_000
RESUMED = "with --resume: the checkpoint's"


def settings_help() -> str:
    """The table of every ``--set`` key that ``lm train --help`` prints below the options."""
    from genailab.lm.train_config import MODEL_SIZES, PRESETS, describe

    presets = [name for name in PRESETS if name != "cpu"]
    others = [
        f"{preset} {model}: " + " ".join(f"{k}={v}" for k, v in sizes.items())
        for preset, models in MODEL_SIZES.items()
        for model, sizes in models.items()
        if model != "gpt"
    ]
    return "\n".join(
        [
            "training config keys (--set KEY=VALUE; 'default' is the cpu preset, the other",
            "columns the other presets; a size of 0 is the model's own default, and a preset's",
            "column shows its gpt sizes):",
            *("  " + line for line in format_settings(describe(), presets).splitlines()),
            "",
            "the other models' sizes in the presets:",
            *textwrap.wrap(
                "; ".join(others),
                96,
                initial_indent="  ",
                subsequent_indent="  ",
                break_on_hyphens=False,
            ),
        ]
    )


def add_lm_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``lm train`` and ``lm sample`` to an ``add_subparsers()`` object; return ``lm``'s parser.

    The parsed namespace has ``verb == "lm"`` (with ``dest="verb"``) and ``lm_verb`` set to
    ``"train"`` or ``"sample"``; pass it to :func:`run_lm_command`.
    """
    from genailab.lm.train_config import (
        BACKENDS,
        MAX_SECONDS,
        MODELS,
        PRESETS,
        TOKENIZERS,
        TrainConfig,
    )
    from genailab.settings import setting_info

    max_iters = next(f for f in dataclasses.fields(TrainConfig) if f.name == "max_iters")
    most_iters = setting_info(max_iters).bounds.high
    seed = bounded_number(int, 0, high=SEED_MAX)
    lm = subparsers.add_parser("lm", help="train a language model, or sample from one")
    verbs = lm.add_subparsers(dest="lm_verb", required=True, metavar="{train,sample}")

    t = verbs.add_parser(
        "train",
        help="train a character-level language model",
        description=textwrap.fill(
            "Train a language model into DIR (ckpt.pt after every evaluation, summary.json at "
            "the end). With --resume, continue DIR's run with its own settings: only "
            "--max-iters (to extend it), --max-seconds and --device may change.",
            96,
            break_on_hyphens=False,
        ),
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument(
        "--corpus",
        metavar="NAME|FILE",
        help=f"'cats' (shipped, the default) or a UTF-8 text file; {RESUMED}",
    )
    t.add_argument("--model", choices=MODELS, help=f"the model (default gpt; {RESUMED})")
    t.add_argument(
        "--preset", choices=list(PRESETS), help=f"training settings (default cpu; {RESUMED})"
    )
    t.add_argument(
        "--max-iters",
        type=bounded_number(int, 0, high=most_iters),
        metavar="N",
        help="optimization steps (default the preset's); with --resume, a larger N extends it",
    )
    t.add_argument(
        "--max-seconds",
        type=bounded_number(float, 0, strict=True, high=MAX_SECONDS),
        metavar="S",
        help="wall-time budget in seconds; the schedule is fitted to it",
    )
    t.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help=f"run folder (default {DEFAULT_OUT})"
    )
    t.add_argument("--resume", action="store_true", help="continue the run in DIR/ckpt.pt")
    t.add_argument("--device", default="auto", choices=DEVICES, help="default auto: cuda, mps, cpu")
    t.add_argument(
        "--backend",
        choices=BACKENDS,
        help=f"torch (default), or engine: the gpt on genailab's numpy engine; {RESUMED}",
    )
    t.add_argument(
        "--tokenizer",
        choices=TOKENIZERS,
        help=f"char (default: one token per character) or bpe; {RESUMED}",
    )
    t.add_argument("--seed", type=seed, metavar="N", help=f"random seed (default 0; {RESUMED})")
    t.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one training config key (repeatable; the keys are listed below)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    # NOTE: sampling prints nothing but the text, so it has no --quiet to silence anything
    s = verbs.add_parser(
        "sample",
        help="write text with a trained model",
        description="Continue a prompt with the model trained into DIR; the same DIR, prompt, "
        "seed and device always give the same text.",
    )
    s.add_argument("folder", metavar="DIR", help="the --out folder of `lm train`")
    s.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    s.add_argument(
        "--max-tokens",
        type=bounded_number(int, 0, high=MAX_TOKENS),
        default=400,
        metavar="N",
        help="tokens to write, characters with the char tokenizer (default 400)",
    )
    s.add_argument(
        "--temperature",
        type=bounded_number(float, 0, strict=True, high=MAX_TEMPERATURE),
        default=0.8,
        metavar="T",
        help="below 1 sharper, above 1 more random (default 0.8; --top-k 1 is greedy)",
    )
    s.add_argument(
        "--top-k",
        type=bounded_number(int, 1, high=MAX_TOP_K),
        metavar="K",
        help="draw among the K most likely tokens only (default: all)",
    )
    s.add_argument("--seed", type=seed, default=0, metavar="N", help="random seed (default 0)")
    s.add_argument("--device", default="auto", choices=DEVICES, help="default auto: cuda, mps, cpu")
    return lm


def run_lm_command(args: argparse.Namespace) -> int:
    """Run a parsed ``lm train`` / ``lm sample``; print the summary line or the text; return 0.

    Errors a user can cause propagate as :class:`~genailab.errors.GenailabError` for the
    caller to print as one line.
    """
    if args.lm_verb == "train":
        overrides = parse_assignments(args.assignments)
        if not args.resume:  # a bad setting is refused at once, before torch is loaded
            from genailab.lm.train_config import make_config

            make_config(args.preset or "cpu", args.model or "gpt", overrides, args.max_iters)
        from genailab.lm.training import summary_line, train

        summary = train(
            corpus=args.corpus,
            model=args.model,
            preset=args.preset,
            max_iters=args.max_iters,
            max_seconds=args.max_seconds,
            out=args.out,
            resume=args.resume,
            device=args.device,
            backend=args.backend,
            overrides=overrides,
            seed=args.seed,
            progress=False if args.quiet else None,
            tokenizer=args.tokenizer,
        )
        if summary.get("world_size", 1) == 1 or summary.get("rank", 0) == 0:
            print(summary_line(summary))
        return 0
    if args.lm_verb == "sample":
        from genailab.lm.sample import load

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
