"""Where the benchmarks find their inputs: a folder given with ``--data DIR``.

By default it is ``../shared/data`` beside the repository, when that folder exists (the
developers' machines and CI have it); a benchmark that can run on the repository's own
copies in ``tests/data`` falls back to those. A missing input ends the run with one line that
names the file, says what it is and where it comes from (:func:`missing_inputs`), and exit
status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
REPO_DATA = ROOT / "tests" / "data"

# What each input is and where it comes from (tests/data/README.md has the details).
ORIGIN = {
    "tiny_shakespeare.txt": "the Tiny Shakespeare corpus (public domain, karpathy/char-rnn)",
    "insurance.csv": "Kaggle's medical insurance table (mirichoi0218/insurance; also tests/data)",
    "diabetes.csv": "the Pima Indians diabetes table (UCI / Kaggle uciml)",
    "telecom.csv": "IBM's Telco customer churn table (IBM/telco-customer-churn-on-icp4d)",
    "circle8d.csv": "Granville's synthetic circle table (github.com/VincentGranville/Main)",
}


def default_data(fallback: Path | None = None) -> Path:
    """``../shared/data`` when it exists, else ``fallback`` (when given), else that same path."""
    if SHARED_DATA.is_dir() or fallback is None:
        return SHARED_DATA
    return fallback


def add_data_argument(parser: argparse.ArgumentParser, fallback: Path | None = None) -> None:
    """The ``--data DIR`` option, with the default of :func:`default_data`."""
    where = "../shared/data beside the repository"
    if fallback is not None:
        where += f" when it exists, else {fallback.relative_to(ROOT)}"
    parser.add_argument(
        "--data", type=Path, default=default_data(fallback), metavar="DIR",
        help=f"folder holding the input files (default: {where})",
    )  # fmt: skip


def missing_inputs(script: str, folder: Path, names: list[str]) -> str | None:
    """The one line to print (then exit 2) when ``folder`` lacks a file of ``names``; else None."""
    missing = [name for name in names if not (folder / name).is_file()]
    if not missing:
        return None
    where = f"not found in {folder}" if folder.is_dir() else f"not found: no folder {folder}"
    if len(missing) == 1:
        what = f"it is {ORIGIN.get(missing[0], 'an input of this benchmark')}"
    else:
        what = "; ".join(f"{name} is {ORIGIN.get(name, 'an input')}" for name in missing)
    return f"{script}: {', '.join(missing)} {where}: {what}; pass --data DIR"
