"""``genailab cnn train``: the AlexNet-shaped CNN trained from the shell.

:func:`add_cnn_commands` adds the ``cnn`` verb with its ``train`` sub-verb to the ``genailab``
parser; :func:`run_cnn_command` runs the parsed command and returns the exit code. Both are
thin: every flag maps onto an argument of :func:`genailab.vision.training.train`, and every
error a user can cause (an unknown key or a bad value, a missing folder, a corrupt checkpoint,
a checkpoint of other settings) is a :class:`~genailab.errors.GenailabError` that the
``genailab`` entry point prints as one line with exit code 2. ``genailab cnn train --help``
lists every key of :class:`~genailab.vision.config.CNNConfig`
(:func:`genailab.vision.config.describe`); building the parser imports no torch.

A run writes ``OUT/ckpt.pt`` after every epoch and ``OUT/summary.json`` at the end, and
continues from ``OUT/ckpt.pt`` when it is there (``--fresh`` starts again). Under
``torchrun --nproc-per-node 2 -m genailab cnn train ...`` the same command trains
data-parallel (one global batch of ``batch_size`` x processes); rank 0 writes and prints.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="genailab")
>>> _ = add_cnn_commands(parser.add_subparsers(dest="verb"))
>>> args = parser.parse_args(["cnn", "train", "--data", "shapes", "--set", "epochs=2"])
>>> args.cnn_verb, args.data, args.assignments, args.out
('train', 'shapes', ['epochs=2'], 'cnn-out')
"""

from __future__ import annotations

import argparse
import os
import textwrap
from typing import Any

from genailab.settings import bounded_number, format_settings, parse_assignments

DEFAULT_OUT = "cnn-out"
DEVICES = ("auto", "cpu", "cuda", "mps")  # = genailab.device.DEVICES, without importing torch


def settings_help() -> str:
    """The table of every ``--set`` key that ``cnn train --help`` prints below the options.

    Examples
    --------
    >>> settings_help().splitlines()[2].split()[:3]
    ['key', 'type', 'default']
    """
    from genailab.vision.config import DATA_DEFAULTS, describe

    datas = [name for name, values in DATA_DEFAULTS.items() if values]
    columns = "".join(f"; '{d}': the default for --data {d}" for d in datas)
    return "\n".join(
        [
            f"training config keys (--set KEY=VALUE{columns}):",
            "",
            *("  " + line for line in format_settings(describe(), datas).splitlines()),
            "",
            "data-parallel: torchrun --nproc-per-node 2 -m genailab cnn train --data mnist",
        ]
    )


def add_cnn_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``cnn train`` to an ``add_subparsers()`` object; return ``cnn``'s parser.

    The parsed namespace has ``verb == "cnn"`` (with ``dest="verb"``) and ``cnn_verb`` set to
    ``"train"``; pass it to :func:`run_cnn_command`.
    """
    from genailab.vision.config import MAX_SECONDS

    cnn = subparsers.add_parser("cnn", help="train the AlexNet-shaped image classifier")
    verbs = cnn.add_subparsers(dest="cnn_verb", required=True, metavar="{train}")
    t = verbs.add_parser(
        "train",
        help="train the CNN on mnist, the coloured shapes or a folder of images",
        description=textwrap.fill(
            "Train the AlexNet-shaped CNN into DIR: DIR/ckpt.pt after every epoch, "
            "DIR/summary.json (test_accuracy, train_accuracy, classes, wall_s, ...) at the end. "
            "A run whose DIR/ckpt.pt exists continues from it (the same settings and data); "
            "load the result in Python with genailab.vision.load(DIR).",
            96,
            break_on_hyphens=False,
        ),
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument(
        "--data",
        default="mnist",
        metavar="mnist|digits|shapes|DIR",
        help="MNIST-5k (the default), scikit-learn's 8x8 digits, the coloured shapes, or a "
        "folder with one sub-folder of PNG/JPEG images per class",
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
    t.add_argument(
        "--fresh", action="store_true", help="ignore DIR/ckpt.pt and start afresh (overwrites it)"
    )
    t.add_argument("--device", default="auto", choices=DEVICES, help="default auto: cuda, mps, cpu")
    t.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one training config key (repeatable; the keys are listed below)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    return cnn


def run_cnn_command(args: argparse.Namespace) -> int:
    """Run a parsed ``cnn train``; print the summary line; return 0.

    Errors a user can cause propagate as :class:`~genailab.errors.GenailabError` for the
    caller to print as one line.
    """
    if args.cnn_verb != "train":  # pragma: no cover
        raise ValueError(f"unknown cnn command {args.cnn_verb!r}")
    from genailab.vision.config import make_config

    overrides = parse_assignments(args.assignments)
    make_config(args.data, overrides)  # a bad setting is refused at once, before torch loads
    from genailab.vision.checkpoint import CheckpointError
    from genailab.vision.training import summary_line, train

    try:
        _, summary = train(
            args.data,
            out=args.out,
            overrides=overrides,
            max_seconds=args.max_seconds,
            device=args.device,
            resume=not args.fresh,
            progress=not args.quiet,
        )
    except CheckpointError as err:  # name the flag, not the Python argument
        raise CheckpointError(str(err).replace("resume=False", "--fresh")) from None
    if int(os.environ.get("RANK", "0")) == 0:
        print(summary_line(summary))
    return 0
