"""tests/data/README.md tells the truth about the files beside it: rows, columns, bytes, hashes."""

from __future__ import annotations

import csv
import hashlib
import re

from data_files import DATA, blank_cells

README = (DATA / "README.md").read_text(encoding="utf-8")
# | `name.csv` | what | 1,338 rows × 7 columns, 55,628 bytes | origin | licence |
SIZE = re.compile(
    r"^\| `([\w.-]+\.csv)` \|[^|]*\| ([\d,]+) rows × (\d+) columns, ([\d,]+) bytes \|"
)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_every_table_here_is_described_with_its_true_size():
    stated = {m[1]: m.groups()[1:] for m in map(SIZE.match, README.splitlines()) if m}
    assert sorted(stated) == sorted(p.name for p in DATA.glob("*.csv"))
    for name, (rows, columns, size) in stated.items():
        with (DATA / name).open(newline="", encoding="utf-8") as f:
            table = list(csv.reader(f))
        assert len(table) - 1 == _number(rows), name
        assert {len(row) for row in table} == {int(columns)}, name
        assert (DATA / name).stat().st_size == _number(size), name
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert f"`{name}`: `{digest}`" in README, name


def test_telecom_is_the_stated_subset():
    # The first 1,500 customers, then only rows whose TotalCharges is blank; 11 blanks in all,
    # the first on line 490 (the full table's figures, which the subset keeps).
    rows, blank_lines = blank_cells("telecom.csv", "TotalCharges")
    later = list(range(1500 + 2, rows + 2))  # file lines of the rows after the first 1,500
    assert set(later) <= set(blank_lines)
    assert len(blank_lines) == 11 and blank_lines[0] == 490
    assert rows == 1500 + len(later)
    data = (DATA / "telecom.csv").read_bytes()
    assert data.count(b"\r\n") == rows + 1 and b"\n" not in data.replace(b"\r\n", b"")
