"""The README's Python examples print what the README says they print.

Each runnable ```python block is followed in the README by a line ``Prints:`` and a ```text
block with its output. The test runs the block and compares its stdout with that text line by
line: words, punctuation and integers exactly (runs of spaces count as one), and a number shown
with decimals must be the printed value rounded to the digits shown (within half a unit of the
last one). An example that states a result in a comment prints it, so the claim is checked.
"""

from __future__ import annotations

import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()
# A python block, then optionally its output: a blank line, "Prints:", a blank line, a text block.
EXAMPLE = re.compile(
    r"```python\n(?P<code>.*?)```\n(?:\nPrints:\n\n```text\n(?P<prints>.*?)```\n)?", re.S
)
NUMBER = re.compile(r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


def section_of(position: int) -> str:
    """The README heading a block sits under, as a test id ("python-api")."""
    headings = re.findall(r"^## (.+)$", TEXT[:position], re.M)
    return re.sub(r"[^a-z0-9]+", "-", headings[-1].lower()).strip("-") if headings else "top"


# Blocks that show the *shape* of an experiment module, with `...` bodies, are not runnable.
RUNNABLE = [m for m in EXAMPLE.finditer(TEXT) if "@experiment" not in m["code"]]
SECTIONS = [section_of(m.start()) for m in RUNNABLE]
EXAMPLES = [  # (test id: the section, numbered when it has several examples; code; its output)
    (f"{s}-{SECTIONS[:i].count(s) + 1}" if SECTIONS.count(s) > 1 else s, m["code"], m["prints"])
    for i, (s, m) in enumerate(zip(SECTIONS, RUNNABLE, strict=True))
]


def mismatch(expected: str, actual: str) -> str | None:
    """Why ``actual`` is not the line ``expected`` shows, or None when it is.

    Text between numbers must agree exactly once runs of whitespace are made one space; an
    integer must be the same digits; a number with decimals must lie within half a unit of its
    last decimal of the printed value (``3.30`` accepts 3.3001, not 3.306).
    """
    want, got = NUMBER.split(" ".join(expected.split())), NUMBER.split(" ".join(actual.split()))
    if len(want) != len(got):
        return f"{len(got) // 2} numbers printed, {len(want) // 2} shown"
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        if i % 2 == 0 or not re.search(r"[.eE]", w):  # text, or an integer: exact
            if w != g:
                return f"{g!r} printed where the README shows {w!r}"
            continue
        half_unit = Decimal("0.5").scaleb(Decimal(w).as_tuple().exponent)
        if abs(Decimal(g) - Decimal(w)) > half_unit:
            return f"{g} printed, the README shows {w} (+/- {half_unit})"
    return None


def output_mismatch(expected: str, actual: str) -> str | None:
    """The first line where ``actual`` differs from ``expected``, described; None if none."""
    want, got = expected.strip("\n").splitlines(), actual.strip("\n").splitlines()
    if len(want) != len(got):
        return f"{len(got)} lines printed, the README shows {len(want)}:\n{actual}"
    for n, (w, g) in enumerate(zip(want, got, strict=True), start=1):
        if (why := mismatch(w, g)) is not None:
            return f"line {n}: {why}"
    return None


def test_readme_has_python_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(("section", "code", "prints"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_shows_what_it_prints(section, code, prints):
    assert prints is not None, f"the example under '{section}' has no 'Prints:' text block"
    assert "print(" in code


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("queen", "queen"),
        ("(4, 32, 65) 4.19", "(4, 32, 65) 4.19"),
        ("40 3.30", "40 3.3001397848129272"),
        ("[-0.0018 0.0210] 3.000 1.976", "[-0.0017795   0.02099766] 2.999636 1.976113"),
        ("x 1.5e-05", "x 1.54e-05"),
    ],
)
def test_the_comparison_accepts_the_printed_value_rounded(expected, actual):
    assert mismatch(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("queen", "king"),
        ("True", "False"),
        ("28 0.961", "29 0.961"),  # integers are exact
        ("28 0.961", "28.0 0.961"),
        ("40 3.30", "40 3.3051"),  # beyond half a unit of the last decimal shown
        ("40 3.30", "40 3.2949"),
        ("0.5", "0.56"),
        ("x 1.5e-05", "x 1.56e-05"),
        ("40 3.30", "40 3.30 7"),  # a number more
        ("[-0.0018 0.0210]", "[0.0018 0.0210]"),  # the sign counts
    ],
)
def test_the_comparison_rejects_a_different_line(expected, actual):
    assert mismatch(expected, actual) is not None


def test_the_comparison_rejects_a_missing_or_extra_line():
    assert output_mismatch("queen\nTrue\n", "queen\nTrue\n") is None
    assert output_mismatch("queen\nTrue\n", "queen\n") is not None
    assert output_mismatch("queen\n", "queen\nTrue\n") is not None


def marks(code: str) -> list[pytest.MarkDecorator]:
    # genailab.run renders an MP4; every example trains, fits or searches for seconds.
    return [pytest.mark.slow] + ([pytest.mark.video] if "genailab.run(" in code else [])


@pytest.mark.parametrize(
    ("code", "prints"),
    [pytest.param(code, prints, marks=marks(code), id=name) for name, code, prints in EXAMPLES],
)
def test_readme_example_prints_what_the_readme_shows(code, prints, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples write to ./genailab-out
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # and to tempfile.mkdtemp()
    exec(compile(code, "README.md example", "exec"), {})
    why = output_mismatch(prints or "", capsys.readouterr().out)
    assert why is None, why
