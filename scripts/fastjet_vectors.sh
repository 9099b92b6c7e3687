#!/usr/bin/env bash
# Regenerates tests/data/fastjet/vectors.json from FastJet itself (PyPI package `fastjet`, which
# wraps FastJet's C++ library) in a project-local venv, .venv-fastjet/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-fastjet/bin/python ]; then
  python3 -m venv .venv-fastjet
fi
.venv-fastjet/bin/pip install --quiet "fastjet==3.5.2.0"
# FastJet prints its banner on stdout; the vectors go to the file.
.venv-fastjet/bin/python scripts/fastjet_vectors.py tests/data/fastjet/vectors.json >/dev/null
echo "wrote tests/data/fastjet/vectors.json"
