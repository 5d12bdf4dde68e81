#!/usr/bin/env bash
# Install genailab (with the GloVe word vectors that word-neighbors reads) and render every
# experiment on its quick preset into genailab-out/, then print the path of the gallery's
# index.html. The README's first set-up command.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check ".[glove]"
genailab tour --quick
