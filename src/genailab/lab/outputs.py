"""Where a run's files go: ``OUT/<name>/``, and the checks that the folder can take them."""

from __future__ import annotations

from pathlib import Path

from genailab.errors import OutputError

DEFAULT_OUT = "genailab-out"


def prepare_output(folder: Path) -> Path:
    """Create ``folder`` and prove it is writable, or raise :class:`OutputError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OutputError(f"cannot write to output folder '{folder}': {reason}") from None
    return folder
