#!/usr/bin/env bash
# Regenerates tests/data/hls4ml/ from hls4ml's C simulation.
# Creates a project-local venv (.venv-hls4ml/, gitignored) with hls4ml 1.3 and Keras 3 (JAX backend);
# needs python3 >= 3.10, g++ and PyPI. Usage: scripts/hls4ml_vectors.sh [--install-only]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-hls4ml
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import hls4ml, keras, jax' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet 'hls4ml==1.3.*' 'keras>=3,<4' 'jax[cpu]'
fi
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
export KERAS_BACKEND=jax
exec "$VENV/bin/python" scripts/hls4ml_vectors.py "$@"
