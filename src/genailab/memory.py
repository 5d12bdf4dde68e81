"""Memory a request would need, checked before the work starts.

A run asked for with sizes that cannot fit (``--set points=1000000000``, ``--size
100000x100000``, a GPT with ``n_embd=100000``) should be refused at once, in one line that says
how much it would need, not minutes later by a ``MemoryError`` traceback or the kernel's OOM
killer. Each piece of work estimates its own peak (an experiment's ``memory_bytes(cfg)``, the
canvas, a model's weights and optimizer state); :func:`check_memory` compares the total with what
the machine has available now.
"""

from __future__ import annotations

import os

from genailab.errors import GenailabError


class MemoryNeedError(GenailabError, MemoryError):
    """A request whose estimated memory exceeds what the machine has available."""


def available_bytes() -> int:
    """Memory available to a new allocation now: ``MemAvailable`` of ``/proc/meminfo`` on
    Linux, else the physical memory (``sysconf``), else a generous 16 GiB."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover (not Linux or macOS)
        return 16 * 2**30


def format_bytes(n: float) -> str:
    """``n`` bytes as a person reads them.

    Examples
    --------
    >>> format_bytes(512), format_bytes(3 * 2**20), format_bytes(1.5 * 2**40)
    ('512 B', '3.0 MiB', '1536.0 GiB')
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def check_memory(need: float, what: str, available: int | None = None) -> None:
    """Raise :class:`MemoryNeedError` if ``need`` bytes exceed the memory available.

    ``what`` names the request in the message (``"gradient-descent with points=1000000"``).

    Examples
    --------
    >>> check_memory(2**20, "a small run")
    >>> check_memory(2**40, "a big run", available=2**34)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.memory.MemoryNeedError: a big run would need about 1024.0 GiB of memory; 16.0 GiB ...
    """
    have = available_bytes() if available is None else available
    if need > have:
        raise MemoryNeedError(
            f"{what} would need about {format_bytes(need)} of memory; "
            f"{format_bytes(have)} is available"
        )
