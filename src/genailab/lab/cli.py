"""The genailab command: list, run NAME, tour, gallery DIR, lm, cnn, synth.

``genailab lm train`` / ``genailab lm sample`` (the language models) are defined in
:mod:`genailab.lm.cli`, ``genailab cnn train`` (the image classifier) in
:mod:`genailab.vision.cli`, ``genailab synth fit-sample`` / ``genailab synth report`` (synthetic
tables) in :mod:`genailab.generate.cli`, and added here.

Every error a user can cause (an unknown experiment, key, value or format, an unwritable
folder) prints one line on stderr that names the bad value and what is accepted, and exits
with code 2; no traceback. Building the parser imports nothing heavy (no numpy, torch or
experiment module), so ``genailab --help`` and ``genailab list`` answer at once; ``genailab run
NAME --help`` imports that one experiment to list its keys.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genailab.errors import ConfigError, GenailabError
from genailab.generate.cli import add_synth_commands, run_synth_command
from genailab.lab.chapters import CHAPTERS, find_chapter, slug
from genailab.lab.outputs import DEFAULT_OUT
from genailab.lab.pacing import SECONDS_RANGE
from genailab.lab.registry import discover
from genailab.lm.cli import add_lm_commands, run_lm_command
from genailab.settings import SEED_MAX, bounded_number
from genailab.video.formats import FORMATS, FPS_RANGE, HEIGHT_RANGE, WIDTH_RANGE, parse_size
from genailab.vision.cli import add_cnn_commands, run_cnn_command

EXIT_USAGE = 2
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # = genailab.device.DEVICES (which loads torch)
DESCRIPTION = (
    "genailab: a laboratory for machine learning and generative AI, in which the data\n"
    "itself explains each concept. Each experiment computes frames and renders them as a\n"
    "data video; the gallery shows every video beside its explanation."
)
EPILOG = (
    "examples:\n"
    "  genailab list                                  every experiment\n"
    "  genailab run gradient-descent --quick          one video, quick preset\n"
    "  genailab run gradient-descent --help           its config keys, bounds and help\n"
    "  genailab tour --quick                          every video, then the gallery page\n"
    "  genailab tour --chapter from-zero-to-gpt       one chapter, full presets\n"
    "  genailab lm train --help                       train a language model\n"
    "  genailab cnn train --data mnist                train the image classifier"
)


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints the usage block before an error; we print the error alone."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


_size.__name__ = "WIDTHxHEIGHT"  # argparse names the type in some of its messages


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="genailab",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(
        dest="verb",
        required=True,
        parser_class=_OneLineParser,
        metavar="{list,run,tour,gallery,lm,cnn,synth}",
    )

    verbs.add_parser("list", help="name, chapter and title of every experiment")

    def add_render_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true", help="use the quick preset")
        p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
        p.add_argument(
            "--format", default="mp4", choices=FORMATS, help="video format (default mp4)"
        )
        p.add_argument(
            "--size",
            type=_size,
            metavar="WxH",
            help=f"video size WIDTHxHEIGHT, even, within {WIDTH_RANGE[0]}..{WIDTH_RANGE[1]} x "
            f"{HEIGHT_RANGE[0]}..{HEIGHT_RANGE[1]} (default: the experiment's)",
        )
        p.add_argument(
            "--fps",
            type=bounded_number(int, FPS_RANGE[0], high=FPS_RANGE[1]),
            help=f"frames per second, {FPS_RANGE[0]} to {FPS_RANGE[1]} (default: the experiment's)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    run_p = verbs.add_parser(
        "run",
        help="run one experiment and render its video",
        description="Run one experiment and render its video into OUT/NAME/. "
        "`genailab run NAME --help` lists NAME's config keys.",
    )
    run_p.add_argument("name", help="experiment name (see `genailab list`)")
    add_render_options(run_p)
    run_p.add_argument(
        "--seed",
        type=bounded_number(int, 0, high=SEED_MAX),
        help=f"random seed in [0, {SEED_MAX}] (default: the config's)",
    )
    run_p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (repeatable; `genailab run NAME --help` lists the keys)",
    )
    run_p.add_argument(
        "--seconds",
        type=bounded_number(float, SECONDS_RANGE[0], high=SECONDS_RANGE[1]),
        help="how long the data frames last on screen, spread over them (default: the "
        "experiment's length for the preset; the opening and closing cards come on top)",
    )
    run_p.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        help="torch device, for the experiments whose config has a 'device' key",
    )

    tour_p = verbs.add_parser(
        "tour",
        help="run every experiment (or one chapter's), then build the gallery",
        description="Run every experiment in gallery order, then write OUT/index.html. "
        "Without --quick the full presets run (see the README for how long that takes).",
    )
    add_render_options(tour_p)
    tour_p.add_argument(
        "--chapter",
        metavar="NAME",
        help=f"only this chapter, by title or slug ({', '.join(slug(c) for c in CHAPTERS)})",
    )

    gallery_p = verbs.add_parser("gallery", help="rebuild DIR/index.html from the runs in DIR")
    gallery_p.add_argument("folder", metavar="DIR", help="the --out folder of `run` or `tour`")

    add_lm_commands(verbs)
    add_cnn_commands(verbs)
    add_synth_commands(verbs)
    return parser


def _subparser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[verb]
    raise KeyError(verb)  # pragma: no cover


def experiment_help(name: str) -> str:
    """What ``genailab run NAME --help`` adds below the usage: the experiment and its keys.

    Examples
    --------
    >>> print(experiment_help("gradient-descent").splitlines()[0])
    gradient-descent: Gradient descent without a learning rate (Granville's data videos)
    """
    from genailab.lab.registry import describe
    from genailab.settings import format_settings

    info = describe(name)
    lines = [
        f"{info['name']}: {info['title']} ({info['chapter']})",
        f"video: {info['size'][0]}x{info['size'][1]} at {info['fps']} fps by default",
        "",
        "config keys (--set KEY=VALUE; --quick uses the 'quick' column):",
        *("  " + line for line in format_settings(info["settings"], ["quick"]).splitlines()),
    ]
    return "\n".join(lines)


def _run_help(parser: argparse.ArgumentParser, name: str) -> str:
    """The whole text of ``genailab run NAME --help`` (an unknown NAME raises first)."""
    keys = experiment_help(name)
    return f"{_subparser(parser, 'run').format_help()}\n{keys}"


def _wants_run_help(argv: list[str]) -> str | None:
    """The NAME of ``run NAME ... --help`` (help for one experiment), else None."""
    if len(argv) < 2 or argv[0] != "run" or not ({"-h", "--help"} & set(argv)):
        return None
    name = argv[1]
    return None if name.startswith("-") else name


def _report(summary: dict, out: str) -> str:
    folder = Path(out) / summary["name"]
    figures = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary["final"].items()
    )
    claims = summary.get("claims", [])
    met = sum(1 for claim in claims if claim["met"])
    return (
        f"{summary['name']}: {summary['frames']} frames in {summary['wall_s']:.1f} s, "
        f"a {summary['duration_s']:.0f} s video, {met}/{len(claims)} claims met -> "
        f"{folder / summary['files']['video']}  [{figures}]"
    )


def _list() -> int:
    found = discover()
    name_width = max(len(name) for name in found)
    chapter_width = max(len(exp.chapter) for exp in found.values())
    for name, exp in found.items():
        print(f"{name:<{name_width}}  {exp.chapter:<{chapter_width}}  {exp.title}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from genailab.lab.runner import run
    from genailab.settings import parse_assignments

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
        device=args.device,
        seconds=args.seconds,
        progress=False if args.quiet else None,
    )
    print(_report(summary, args.out))
    return 0


def _duration(seconds: float) -> str:
    """``7 min 12 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _tour(args: argparse.Namespace) -> int:
    import time

    from genailab.lab.gallery import build_gallery
    from genailab.lab.runner import run

    found = discover()
    if args.chapter is not None:
        chapter = find_chapter(args.chapter)
        found = {name: exp for name, exp in found.items() if exp.chapter == chapter}
        if not found:
            raise GenailabError(f"chapter '{chapter}' has no experiment yet")
    names = list(found)
    failures = []
    started = time.perf_counter()
    for index, name in enumerate(names, 1):
        if not args.quiet:  # which run is under way, and how far the tour has come
            elapsed = _duration(time.perf_counter() - started)
            print(f"[{index}/{len(names)}] {name} ({elapsed} so far)", file=sys.stderr, flush=True)
        try:
            summary = run(
                name,
                quick=args.quick,
                out=args.out,
                format=args.format,
                size=args.size,
                fps=args.fps,
                progress=False if args.quiet else None,
            )
            print(_report(summary, args.out), flush=True)
        except Exception as err:  # one broken experiment must not stop the tour
            failures.append(name)
            print(f"{name}: failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    if len(failures) == len(names):
        raise GenailabError("every experiment of the tour failed")
    total = _duration(time.perf_counter() - started)
    print(f"{len(names) - len(failures)} of {len(names)} videos in {total}", flush=True)
    print(build_gallery(args.out).resolve())
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``genailab`` and ``python -m genailab``; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    try:
        name = _wants_run_help(argv)
        if name is not None:
            print(_run_help(parser, name))
            return 0
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help, or a usage error argparse has already printed
            return stop.code if isinstance(stop.code, int) else EXIT_USAGE
        if args.verb == "list":
            return _list()
        if args.verb == "run":
            return _run(args)
        if args.verb == "tour":
            return _tour(args)
        if args.verb == "lm":
            return run_lm_command(args)
        if args.verb == "cnn":
            return run_cnn_command(args)
        if args.verb == "synth":
            return run_synth_command(args)
        from genailab.lab.gallery import build_gallery

        print(build_gallery(args.folder).resolve())
        return 0
    except GenailabError as err:
        print(f"genailab: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("genailab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output left early (`genailab list | head -1`)
        _silence_stdout()
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test captures it)
        pass
