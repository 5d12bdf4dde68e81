"""Run ``python -m genailab ...`` as a user does, and check its one-line errors (tests only)."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def genailab(*args, cwd=None):
    """``python -m genailab ARGS`` in a subprocess; the CompletedProcess with text output."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "genailab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def assert_one_line_error(result, *fragments):
    """Exit code 2, no traceback, one ``genailab [verb]: error:`` line holding every fragment."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # "genailab: error: ..." from the command, "genailab lm train: error: ..." from argparse
    assert re.match(r"genailab( [a-z-]+)*: error: ", lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
