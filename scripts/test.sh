#!/usr/bin/env bash
# Install genailab with its dev tools, then lint and run the whole test suite.
# This is the README's second set-up command, and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
python3 -m ruff check src tests benchmarks
python3 -m ruff format --check src tests benchmarks
python3 -m pytest
# Second stage: every full preset rendered by `genailab tour`, checked like the quick ones.
python3 -m pytest -m full_tour tests/full_tour
