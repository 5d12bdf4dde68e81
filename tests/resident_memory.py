"""The memory an experiment's frames really take, for the tests of its ``memory_bytes``.

torch does not report its allocations to :mod:`tracemalloc`, so an experiment that computes in
torch is measured by the operating system instead: the growth of the peak resident memory of a
fresh interpreter while it consumes ``frames(cfg)``, after the imports.
"""

from __future__ import annotations

import subprocess
import sys


def peak_growth(name: str, overrides: dict) -> int:
    """Bytes by which the peak resident memory grows while ``name``'s frames are consumed."""
    code = (
        "import resource, torch\n"
        "from genailab.lab import get\n"
        f"exp = get({name!r})\n"
        f"cfg = exp.config(overrides={overrides!r})\n"
        "exp.module  # imported before the baseline\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for _ in exp.frames(cfg):\n"
        "    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss counts bytes on macOS, else KiB
    return unit * int(done.stdout.split()[-1])
