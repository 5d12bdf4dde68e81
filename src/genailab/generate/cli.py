"""``genailab synth fit-sample`` and ``genailab synth report``: synthetic tables from the shell.

:func:`add_synth_commands` adds the ``synth`` verb with its two sub-verbs to the ``genailab``
parser; :func:`run_synth_command` runs the parsed command and returns the exit code.

- ``synth fit-sample DATA.csv --rows N --out OUT.csv`` fits a synthesizer of
  :mod:`genailab.generate` on a CSV table and writes ``N`` synthetic rows (atomically: a
  temporary file in the same folder, then a rename, so a reader never sees half a file);
- ``synth report TRAIN.csv SYNTH.csv [--holdout HOLDOUT.csv]`` prints
  :func:`genailab.evaluate.format_report`: the synthetic table scored against held-out rows,
  beside the real-copy and shuffled baselines.

The CLI lives in ``generate`` because it fits generate's synthesizers and, as the layering
allows (topic packages import each other's public API, never ``lab``), scores them with
``evaluate``; ``lab.cli`` adds it as it adds ``lm``. Every error a user can cause (a missing or
unreadable file, an empty table, a column with no value or one value, text in a numeric column,
an unknown method) is a :class:`~genailab.errors.GenailabError` that the ``genailab`` entry
point prints as one line with exit code 2. Blank cells and identifier columns are not errors:
:mod:`genailab.generate.csv_tables` says, on a ``note:`` line, what is done with them.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="genailab")
>>> _ = add_synth_commands(parser.add_subparsers(dest="verb"))
>>> args = parser.parse_args(["synth", "fit-sample", "a.csv", "--rows", "5", "--out", "b.csv"])
>>> args.synth_verb, args.rows, args.method
('fit-sample', 5, 'extrapolate')
"""

from __future__ import annotations

import argparse
import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genailab.atomic_write import atomic_path
from genailab.errors import ConfigError, GenailabError, OutputError, UnknownNameError, suggest
from genailab.memory import check_memory
from genailab.settings import SEED_MAX, bounded_number

if TYPE_CHECKING:
    import pandas as pd

# Building the parser must stay cheap (``genailab --help``): numpy, pandas and the
# synthesizers are imported when a command runs.

ROWS_MAX = 100_000_000  # a CSV of some 10 GB; the memory check refuses less on a small machine
BANDWIDTH_MAX = 10  # noise ten times the spread of a column: nothing of the data is left
# Peak memory of fit-sample per synthetic cell (rows x columns), measured on insurance.csv
# (1 million rows x 7 columns) and telecom.csv (300 000 x 21): 25 (bins, extrapolate) to 40
# (copula) bytes, for the draws, the table of objects pandas builds and its CSV text.
SYNTH_BYTES_PER_CELL = 48

# --method name -> class name in genailab.generate; only those importable there are offered.
SYNTHESIZERS = {
    "extrapolate": "QuantileExtrapolator",
    "bins": "BinSynthesizer",
    "copula": "GaussianCopula",
}


def available_methods() -> dict[str, type]:
    """The ``--method`` names whose class :mod:`genailab.generate` exports now, with the class."""
    import genailab.generate as generate

    return {
        method: getattr(generate, name)
        for method, name in SYNTHESIZERS.items()
        if hasattr(generate, name)
    }


def check_table_destination(path: str | os.PathLike) -> Path:
    """Refuse, before any work, an ``--out`` that cannot take a table: a folder, or a file in
    a folder that does not exist (:class:`~genailab.errors.OutputError`, one line)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"--out {path} is a folder; name the file to write, e.g. {path}/o.csv")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist")
    return path


def write_table_atomically(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` as CSV to a temporary file beside ``path``, then rename it onto ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        df.to_csv(f, index=False)
    return path


def add_seed_option(f: argparse.ArgumentParser, what: str) -> None:
    """``--seed N`` in ``[0, SEED_MAX]``, default 0, as every genailab command takes it."""
    f.add_argument(
        "--seed",
        type=bounded_number(int, 0, high=SEED_MAX),
        default=0,
        help=f"{what}, in [0, {SEED_MAX}] (default 0)",
    )


def add_quiet_option(f: argparse.ArgumentParser) -> None:
    """``--quiet``: only the result, without the ``note:`` lines."""
    f.add_argument("--quiet", action="store_true", help="print no 'note:' lines, only the result")


def add_synth_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``synth fit-sample`` and ``synth report`` to an ``add_subparsers()`` object.

    The parsed namespace has ``verb == "synth"`` (with ``dest="verb"``) and ``synth_verb`` set
    to ``"fit-sample"`` or ``"report"``; pass it to :func:`run_synth_command`. The method is
    checked when the command runs, so building the parser imports no synthesizer.
    """
    synth = subparsers.add_parser("synth", help="fit a synthesizer on a CSV table, or score one")
    verbs = synth.add_subparsers(dest="synth_verb", required=True, metavar="{fit-sample,report}")

    f = verbs.add_parser("fit-sample", help="fit a synthesizer on DATA.csv, write synthetic rows")
    f.add_argument("data", metavar="DATA.csv", help="the real table (CSV with a header)")
    f.add_argument(
        "--rows",
        type=bounded_number(int, 1, high=ROWS_MAX),
        required=True,
        help=f"synthetic rows to write, 1 to {ROWS_MAX:_}",
    )
    f.add_argument(
        "--method",
        default="extrapolate",
        help=f"synthesizer, one of {', '.join(SYNTHESIZERS)} where genailab.generate has it "
        "(default extrapolate)",
    )
    add_seed_option(f, "random seed of the fit and the draws")
    f.add_argument(
        "--bandwidth",
        type=bounded_number(float, 0, high=BANDWIDTH_MAX),
        help=f"kernel bandwidth v in [0, {BANDWIDTH_MAX}] (extrapolate only): the noise added "
        "to a resampled row is v times the column's standard deviation (default 0.1)",
    )
    f.add_argument(
        "--missing",
        choices=("resample", "drop"),
        default="resample",
        help="rows with missing cells are left out of the fit; 'resample' (default) gives each "
        "synthetic row the missing cells of a random real row, 'drop' writes complete rows only",
    )
    f.add_argument(
        "--out",
        metavar="OUT.csv",
        required=True,
        help="where to write the rows (its folder must exist; written whole or not at all)",
    )
    add_quiet_option(f)

    r = verbs.add_parser("report", help="score SYNTH.csv against held-out real rows")
    r.add_argument("train", metavar="TRAIN.csv", help="the rows the synthesizer was fitted on")
    r.add_argument("synth", metavar="SYNTH.csv", help="the synthetic rows")
    r.add_argument(
        "--holdout",
        metavar="HOLDOUT.csv",
        help="real rows it never saw (default: half of TRAIN.csv, drawn at random)",
    )
    add_seed_option(r, "random seed of the split, the shuffled baseline and the nodes")
    add_quiet_option(r)
    return synth


def _notes(quiet: bool) -> Any:
    """Print a ``note:`` line, or nothing under ``--quiet``."""
    return (lambda note: None) if quiet else (lambda note: print(f"note: {note}"))


def _fit_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from genailab.evaluate import TableError
    from genailab.generate.csv_tables import prepare_table, read_table, restore_missing

    check_table_destination(args.out)
    methods = available_methods()
    if args.method not in methods:
        raise UnknownNameError(
            f"unknown method {args.method!r}; accepted: {', '.join(methods)}"
            + suggest(args.method, methods)
        )
    cls = methods[args.method]
    kwargs: dict[str, Any] = {"random_state": args.seed}
    if args.bandwidth is not None:
        kwargs["bandwidth"] = args.bandwidth
    accepted = inspect.signature(cls).parameters
    for key, flag in (("bandwidth", "--bandwidth"), ("random_state", "--seed")):
        if key in kwargs and key not in accepted:
            raise ConfigError(f"method {args.method!r} ({cls.__name__}) does not take {flag}")
    model = cls(**kwargs)
    table = prepare_table(read_table(args.data), args.data)
    columns = table.complete.shape[1]
    check_memory(
        SYNTH_BYTES_PER_CELL * args.rows * columns,
        f"{args.rows} synthetic rows of {columns} columns",
    )
    say = _notes(args.quiet)
    for note in table.notes:
        say(note)
    try:
        synth = model.fit(table.complete).sample(args.rows)
    except GenailabError:
        raise
    except ValueError as err:  # a table the synthesizer refuses: name the file
        raise TableError(f"{args.data}: {err}") from None
    if args.missing == "resample":
        synth = restore_missing(synth, table.missing, np.random.default_rng([args.seed, 1]))
        if table.missing.any():
            k = int(synth.isna().any(axis=1).sum())
            say(
                "missing cells resampled: each synthetic row took the missing cells of a "
                f"random real row ({k} of {args.rows} rows have some; --missing drop for none)"
            )
    out = write_table_atomically(synth, args.out)
    print(
        f"{args.method}: {len(table.complete)} rows of {args.data} -> {args.rows} synthetic rows "
        f"in {out}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from genailab.evaluate import TableError, compare_tables, format_report
    from genailab.generate.csv_tables import prepare_table, read_table

    say = _notes(args.quiet)
    tables = []
    for path in (args.train, args.synth, args.holdout):
        if path is None:
            tables.append(None)
            continue
        table = prepare_table(read_table(path), path, used_for="the scores")
        for note in table.notes:
            say(note)
        tables.append(table.complete)
    train, synth, holdout = tables
    try:
        report = compare_tables(train, synth, holdout, random_state=args.seed)
    except GenailabError:
        raise
    except ValueError as err:  # e.g. a category label that cannot be compared
        raise TableError(str(err)) from None
    print(format_report(report))
    return 0


def run_synth_command(args: argparse.Namespace) -> int:
    """Run a parsed ``synth fit-sample`` / ``synth report``; return 0.

    Errors a user can cause propagate as :class:`~genailab.errors.GenailabError` for the
    caller to print as one line.
    """
    if args.synth_verb == "fit-sample":
        return _fit_sample(args)
    if args.synth_verb == "report":
        return _report(args)
    raise ValueError(f"unknown synth command {args.synth_verb!r}")  # pragma: no cover
