"""The README's Python examples run as written (so the README keeps telling the truth)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# Blocks that show the *shape* of an experiment module, with `...` bodies, are not runnable.
BLOCKS = [
    b
    for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    if "@experiment" not in b
]


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.video
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples write to ./genailab-out
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()
