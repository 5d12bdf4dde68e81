"""The data sets in ../shared/data that tests compare against, and a clear failure without them.

CI clones ../shared beside the repository; a run without it must fail, not skip silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """The path of ``../shared/data/NAME``; the calling test fails in one line if it is missing."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.fail(
            f"the data set is not at {path}: the tests need ../shared/data beside the "
            "repository, as CI has it",
            pytrace=False,
        )
    return path
