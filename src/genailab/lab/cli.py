"""The ``genailab`` command: ``list``, ``run NAME``, ``tour``, ``gallery DIR``, ``lm``, ``synth``.

``genailab lm train`` / ``genailab lm sample`` (the language models) are defined in
:mod:`genailab.lm.cli`, ``genailab synth fit-sample`` / ``genailab synth report`` (synthetic
tables) in :mod:`genailab.generate.cli`, and added here.

Every error a user can cause (an unknown experiment, key, value or format, an unwritable
folder) prints one line on stderr that names the bad value and what is accepted, and exits
with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genailab.errors import GenailabError
from genailab.generate.cli import add_synth_commands, run_synth_command
from genailab.lab.config import parse_assignments
from genailab.lab.gallery import build_gallery
from genailab.lab.registry import discover
from genailab.lab.runner import DEFAULT_OUT, run
from genailab.lm.cli import add_lm_commands, run_lm_command
from genailab.video import FORMATS

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints the usage block before an error; we print the error alone."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        size = int(width), int(height)
    except ValueError:
        size = (0, 0)
    if not sep or min(size) < 2 or size[0] % 2 or size[1] % 2:
        raise argparse.ArgumentTypeError(
            f"size must be WIDTHxHEIGHT with even numbers, got '{text}'"
        )
    return size


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="genailab", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(
        dest="verb",
        required=True,
        parser_class=_OneLineParser,
        metavar="{list,run,tour,gallery,lm,synth}",
    )

    verbs.add_parser("list", help="name, chapter and title of every experiment")

    def add_render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true", help="use the quick preset")
        p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
        p.add_argument("--format", default="mp4", choices=FORMATS, help="video format")
        p.add_argument("--size", type=_size, help="video size WIDTHxHEIGHT (even numbers)")
        p.add_argument("--fps", type=int, help="frames per second")

    run_p = verbs.add_parser("run", help="run one experiment and render its video")
    run_p.add_argument("name", help="experiment name (see `genailab list`)")
    add_render_options(run_p)
    run_p.add_argument("--seed", type=int, help="random seed")
    run_p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field (repeatable)",
    )

    tour_p = verbs.add_parser("tour", help="run every experiment, then build the gallery")
    add_render_options(tour_p)

    gallery_p = verbs.add_parser("gallery", help="rebuild DIR/index.html from the runs in DIR")
    gallery_p.add_argument("folder", metavar="DIR")

    add_lm_commands(verbs)
    add_synth_commands(verbs)
    return parser


def _report(summary: dict, out: str) -> str:
    folder = Path(out) / summary["name"]
    figures = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary["final"].items()
    )
    return (
        f"{summary['name']}: {summary['frames']} frames in {summary['wall_s']:.1f} s -> "
        f"{folder / summary['files']['video']}  [{figures}]"
    )


def _list() -> int:
    found = discover()
    width = max(len(name) for name in found)
    for name, exp in found.items():
        print(f"{name:<{width}}  {exp.chapter:<26}  {exp.title}")
    return 0


def _run(args: argparse.Namespace) -> int:
    overrides = parse_assignments(args.assignments)
    summary = run(
        args.name,
        quick=args.quick,
        out=args.out,
        format=args.format,
        seed=args.seed,
        overrides=overrides,
        size=args.size,
        fps=args.fps,
    )
    print(_report(summary, args.out))
    return 0


def _tour(args: argparse.Namespace) -> int:
    names = list(discover())
    failures = []
    for name in names:
        try:
            summary = run(
                name,
                quick=args.quick,
                out=args.out,
                format=args.format,
                size=args.size,
                fps=args.fps,
            )
            print(_report(summary, args.out), flush=True)
        except Exception as err:  # one broken experiment must not stop the tour
            failures.append(name)
            print(f"{name}: failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    if len(failures) == len(names):
        raise GenailabError("every experiment of the tour failed")
    print(build_gallery(args.out).resolve())
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``genailab`` and ``python -m genailab``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "list":
            return _list()
        if args.verb == "run":
            return _run(args)
        if args.verb == "tour":
            return _tour(args)
        if args.verb == "lm":
            return run_lm_command(args)
        if args.verb == "synth":
            return run_synth_command(args)
        print(build_gallery(args.folder).resolve())
        return 0
    except GenailabError as err:
        print(f"genailab: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("genailab: interrupted", file=sys.stderr)
        return 130
