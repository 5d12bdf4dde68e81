"""Synthetic tables: genailab's synthesizers scored against a holdout, on four real tables.

For each table of ``../shared/data`` (insurance, diabetes, telecom, circle8d): a 50/50 split
with a fixed seed; each synthesizer is fitted on the training half and samples as many rows;
:func:`genailab.evaluate.compare_tables` scores the synthetic rows against the holdout half,
beside the two baselines that give the numbers a meaning: the training half itself ("real
copy", the floor a perfect synthesizer could reach) and the training half with every column
shuffled on its own ("shuffled": right margins, no dependence). Lower is better everywhere.

Telecom is prepared as a user would have to: ``customerID`` (an identifier, not data) is
dropped, and ``TotalCharges``, whose 11 blank cells make it text, is converted to numbers
and those rows dropped.

When SDV is installed (``pip install sdv``; optional, never a genailab dependency) its
GaussianCopula and CTGAN run side by side, on the same split, in the same run.

Run: ``python benchmarks/synth.py [--data DIR] [--seed S]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from genailab.evaluate import compare_tables
from genailab.generate import BinSynthesizer, GaussianCopula, QuantileExtrapolator

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TABLES = ("insurance", "diabetes", "telecom", "circle8d")
SCORES = ("ks_mean", "tv_mean", "corr", "mv_ks")


def load_table(folder: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(folder / f"{name}.csv", encoding="utf-8-sig")  # circle8d has a BOM
    if name == "telecom":
        df = df.drop(columns="customerID")
        df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
        df = df.dropna().reset_index(drop=True)
    return df


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
    parser.add_argument("--data", default=str(DATA), help="folder with the four CSV files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = Path(args.data)
    missing = [t for t in TABLES if not (folder / f"{t}.csv").is_file()]
    if missing:
        print(f"benchmarks/synth.py: missing {', '.join(missing)} in '{folder}'", file=sys.stderr)
        return 2
    synthesizers = {**genailab_synthesizers(args.seed), **sdv_synthesizers(args.seed)}
    if len(synthesizers) == 3:
        print("(SDV is not installed: genailab's synthesizers only)")
    print("| table | synthesizer | fit + sample | " + " | ".join(SCORES) + " |")
    print("|---|---|---:|" + "---:|" * len(SCORES))
    for name in TABLES:
        df = load_table(folder, name)
        train = df.sample(frac=0.5, random_state=args.seed)
        holdout = df.drop(train.index)
        train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
        baselines = None
        for label, make in synthesizers.items():
            start = time.perf_counter()
            synth = make().fit(train).sample(len(train))
            seconds = time.perf_counter() - start
            report = compare_tables(train, synth, holdout, random_state=args.seed)
            row = report.scores.loc["synthetic"]
            cells = " | ".join(f"{row[s]:.4f}" for s in SCORES)
            print(f"| {name} | {label} | {seconds:.2f} s | {cells} |", flush=True)
            baselines = report.scores
        for base in ("real copy", "shuffled"):
            cells = " | ".join(f"{baselines.loc[base, s]:.4f}" for s in SCORES)
            print(f"| {name} | *{base}* | - | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
