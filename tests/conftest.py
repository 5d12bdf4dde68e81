"""Shared fixtures: small, fast runs of real experiments for the protocol tests."""

from __future__ import annotations

import os

import pytest

# Keep BLAS and torch to the two cores CI has, and tqdm quiet, whatever the host.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def quick_tour(tmp_path_factory):
    """Every registered experiment run once on its QUICK preset (the tour's input)."""
    import genailab

    out = tmp_path_factory.mktemp("tour")
    summaries = {
        name: genailab.run(name, quick=True, out=out, progress=False)
        for name in genailab.list_experiments()
    }
    return out, summaries
