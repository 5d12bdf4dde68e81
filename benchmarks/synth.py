"""Synthetic tables: genailab's synthesizers scored against a holdout, on four real tables.

For each of four tables (insurance, diabetes, telecom, circle8d) and each seed:
a 50/50 split with that seed; each synthesizer is fitted on the training half and samples as
many rows; :func:`genailab.evaluate.compare_tables` scores the synthetic rows against the
holdout half, beside the two baselines that give the numbers a meaning: the training half
itself ("real copy", the floor a perfect synthesizer could reach) and the training half with
every column shuffled on its own ("shuffled": right margins, no dependence). Lower is better.
The table prints each score's mean over the seeds and the median time; then the goal, judged on
the mean of the four scores: genailab's best synthesizer against SDV's GaussianCopula and CTGAN.

Tables are read as ``genailab synth`` reads them (:mod:`genailab.generate.csv_tables`):
telecom's identifier ``customerID`` is left out, and the 11 rows whose ``TotalCharges`` is
blank are left out of the fit.

When SDV is installed (``pip install sdv``; optional, never a genailab dependency) its
GaussianCopula and CTGAN run side by side, on the same split, in the same run.

Run: ``python benchmarks/synth.py [--data DIR] [--tables LIST] [--seeds N]``. ``DIR`` holds the
tables as ``NAME.csv``; by default ``../shared/data`` beside the repository, which has all four
(the README's figures), or, when that folder is absent, the repository's own ``tests/data``,
which keeps insurance and a subset of telecom (``tests/data/README.md`` says why):
there the run covers those two tables and says so.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from data_folder import REPO_DATA, add_data_argument, missing_inputs
from genailab.evaluate import compare_tables
from genailab.generate import BinSynthesizer, GaussianCopula, QuantileExtrapolator
from genailab.generate.csv_tables import prepare_table, read_table

TABLES = ("insurance", "diabetes", "telecom", "circle8d")
REPO_TABLES = ("insurance", "telecom")  # the ones tests/data keeps
SCORES = ("ks_mean", "tv_mean", "corr", "mv_ks")


def load_table(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    table = prepare_table(read_table(path), path.name)
    for note in table.notes:
        print(f"note: {note}")
    return table.complete


def genailab_synthesizers(seed: int) -> dict:
    return {
        "genailab extrapolate": lambda: QuantileExtrapolator(random_state=seed),
        "genailab bins": lambda: BinSynthesizer(random_state=seed),
        "genailab copula": lambda: GaussianCopula(random_state=seed),
    }


class _SDV:
    """SDV's single-table synthesizers behind genailab's fit/sample interface."""

    def __init__(self, kind: str, seed: int) -> None:
        self.kind, self.seed = kind, seed

    def fit(self, df: pd.DataFrame) -> _SDV:
        from sdv.metadata import Metadata
        from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer

        warnings.filterwarnings("ignore", message="We strongly recommend saving the metadata")
        metadata = Metadata.detect_from_dataframe(df)
        cls = GaussianCopulaSynthesizer if self.kind == "copula" else CTGANSynthesizer
        self.model = cls(metadata)
        self.model.fit(df)
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return self.model.sample(num_rows=n)


def sdv_synthesizers(seed: int) -> dict:
    try:
        import sdv  # noqa: F401
    except ImportError:
        return {}
    return {
        "SDV GaussianCopula": lambda: _SDV("copula", seed),
        "SDV CTGAN": lambda: _SDV("ctgan", seed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_argument(parser, fallback=REPO_DATA)
    parser.add_argument(
        "--tables", type=_table_list, metavar="LIST",
        help=f"comma list of {', '.join(TABLES)} (default: all four; the two tests/data has there)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="splits (and model seeds) 0..N-1")
    args = parser.parse_args(argv)
    folder = args.data
    in_repo = folder.resolve() == REPO_DATA
    names = args.tables or (REPO_TABLES if in_repo else TABLES)
    if error := missing_inputs("benchmarks/synth.py", folder, [f"{t}.csv" for t in names]):
        print(error, file=sys.stderr)
        return 2
    print(f"data: {folder} ({', '.join(names)})")
    if in_repo:
        print(
            "(the repository's copies: telecom is a subset of the full table, so these figures "
            "are not the README's; pass --data DIR with the four full tables for those)"
        )
    labels = list({**genailab_synthesizers(0), **sdv_synthesizers(0)})
    if len(labels) == 3:
        print("(SDV is not installed: genailab's synthesizers only)")
    tables = {name: load_table(folder, name) for name in names}
    print(f"scores: mean over {args.seeds} seeds (splits); time: median")
    print("| table | synthesizer | fit + sample | " + " | ".join(SCORES) + " |")
    print("|---|---|---:|" + "---:|" * len(SCORES))
    goals = []
    for name, df in tables.items():
        scores = {label: [] for label in [*labels, "*real copy*", "*shuffled*"]}
        seconds = {label: [] for label in labels}
        for seed in range(args.seeds):
            train = df.sample(frac=0.5, random_state=seed)
            holdout = df.drop(train.index)
            train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
            makers = {**genailab_synthesizers(seed), **sdv_synthesizers(seed)}
            for label, make in makers.items():
                start = time.perf_counter()
                synth = make().fit(train).sample(len(train))
                seconds[label].append(time.perf_counter() - start)
                report = compare_tables(train, synth, holdout, random_state=seed)
                scores[label].append(report.scores.loc["synthetic", list(SCORES)].to_numpy())
            for base in ("real copy", "shuffled"):
                scores[f"*{base}*"].append(report.scores.loc[base, list(SCORES)].to_numpy())
        mean = {label: np.mean(rows, axis=0) for label, rows in scores.items()}
        time_of = {label: float(np.median(t)) for label, t in seconds.items()}
        for label, m in mean.items():
            took = f"{time_of[label]:.2f} s" if label in time_of else "-"
            cells = " | ".join(f"{v:.4f}" for v in m)
            print(f"| {name} | {label} | {took} | {cells} |", flush=True)
        goals.append(_goal(name, mean, time_of))
    print()
    for line in goals:
        print(line)
    return 0


def _table_list(text: str) -> tuple[str, ...]:
    """``--tables``: a comma list of known table names."""
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in names if t not in TABLES]
    if unknown or not names:
        given = f"unknown table {', '.join(map(repr, unknown))}" if unknown else "no table given"
        raise argparse.ArgumentTypeError(f"{given}; known: {', '.join(TABLES)}")
    return names


def _goal(name: str, mean: dict, time_of: dict) -> str:
    """One line: genailab's best (mean of the four scores) against SDV's two synthesizers."""
    ours = {label: float(np.mean(m)) for label, m in mean.items() if label.startswith("genailab")}
    best = min(ours, key=ours.get)
    parts = [f"{name}: best genailab is {best.removeprefix('genailab ')} ({ours[best]:.4f})"]
    for label, factor in (("SDV GaussianCopula", 10), ("SDV CTGAN", 100)):
        if label not in mean:
            continue
        theirs = float(np.mean(mean[label]))
        ratio = time_of[label] / max(time_of[best], 1e-9)
        met = ours[best] <= theirs and ratio >= factor
        parts.append(
            f"vs {label} {theirs:.4f} in {ratio:.0f}x its time -> "
            f"{'met' if met else 'NOT met'} (needs <= and >= {factor}x)"
        )
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
