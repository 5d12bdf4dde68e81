"""The tables the tests read, kept in the repository in ``tests/data/``.

``tests/data/README.md`` gives each file's origin, size and licence. The files travel with
the repository, so a clone alone runs every test; a missing one is a broken checkout.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def data_file(name: str) -> Path:
    """The path of ``tests/data/NAME``.

    Examples
    --------
    >>> data_file("insurance.csv").name
    'insurance.csv'
    """
    path = DATA / name
    if not path.is_file():
        held = ", ".join(sorted(p.name for p in DATA.glob("*.csv")))
        raise FileNotFoundError(f"{name} is not in {DATA}; it holds {held}")
    return path


def blank_cells(name: str, column: str) -> tuple[int, list[int]]:
    """The rows of ``tests/data/NAME`` and the file lines where ``column`` is blank.

    Read with :mod:`csv`, apart from the code under test, so that the tests derive their
    expected counts from the file instead of pinning them. Line 1 is the header; no cell of
    these files spans lines, so row ``i`` (from 0) is line ``i + 2``.

    Examples
    --------
    >>> rows, lines = blank_cells("insurance.csv", "bmi")
    >>> rows, lines
    (1338, [])
    """
    with data_file(name).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return len(rows), [i + 2 for i, row in enumerate(rows) if not row[column].strip()]
