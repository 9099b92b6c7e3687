#!/usr/bin/env bash
# Times FastJet 3.5.2 C++ (from the PyPI wheel in .venv-fastjet/, see fastjet_vectors.sh) on the
# 16-leaf shower jet that `cargo bench -p jettrellis --bench kt` times as `*_shower16_*`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-fastjet/bin/python ]; then
  python3 -m venv .venv-fastjet
fi
.venv-fastjet/bin/pip install --quiet "fastjet==3.5.2.0"
FJ=$(.venv-fastjet/bin/python -c 'import fastjet, os; print(os.path.dirname(fastjet.__file__))' 2>/dev/null)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -O2 -std=c++17 -I"$FJ/include" scripts/fastjet_bench.cpp -L"$FJ/lib64" -lfastjet -Wl,-rpath,"$FJ/lib64" -o "$out/fjbench"
cargo run --release -q -p jettrellis -- shower --kind w --jets 1 --seed 5 --min-leaves 16 --max-leaves 16 --max-tries 1000000 -o "$out/jet.jsonl"
python3 -c 'import json,sys; [print(*p) for p in json.loads(open(sys.argv[1]).readline())["leaves"]]' "$out/jet.jsonl" | "$out/fjbench"
