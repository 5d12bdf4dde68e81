"""The memory an experiment's frames really take, for the tests of its ``memory_bytes``.

:func:`traced_peak` measures numpy's (and Python's) allocations with :mod:`tracemalloc`.
torch does not report its allocations to :mod:`tracemalloc`, so an experiment that computes in
torch is measured by the operating system instead: the growth of the peak resident memory of a
fresh interpreter while it consumes ``frames(cfg)``, after the imports.

NOTE: on Linux ``getrusage``'s ``ru_maxrss`` survives ``fork`` and ``exec``, so a child of a
large pytest process starts with its parent's peak and would measure no growth at all. The
probe reads the peak of its own address space instead (``VmHWM`` in ``/proc/self/status``),
after resetting it to the current size (writing 5 to ``/proc/self/clear_refs``).
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterable

_PROBE = """
import os, resource, sys
import torch
from genailab.lab import get

def status(key):
    with open("/proc/self/status") as lines:
        return 1024 * next(int(l.split()[1]) for l in lines if l.startswith(key + ":"))

def peak():  # elsewhere than Linux, ru_maxrss counts bytes (macOS) and is not inherited
    return status("VmHWM") if LINUX else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

LINUX = os.path.exists("/proc/self/clear_refs")
exp = get({name!r})
cfg = exp.config(overrides={overrides!r})
exp.module  # imported before the baseline
if LINUX:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak becomes the current size
before = status("VmRSS") if LINUX else peak()
for _ in exp.frames(cfg):
    pass
print(peak() - before)
"""


def peak_growth(name: str, overrides: dict) -> int:
    """Bytes by which the peak resident memory grows while ``name``'s frames are consumed."""
    code = _PROBE.format(name=name, overrides=overrides)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return int(done.stdout.split()[-1])


def traced_peak(frames: Iterable) -> int:
    """The peak of the allocations tracemalloc sees while ``frames`` is consumed, in bytes.

    Run the experiment once before on a small config so that its lazy imports are not counted.
    """
    tracemalloc.start()
    try:
        for _ in frames:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
