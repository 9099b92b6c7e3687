#!/usr/bin/env bash
# Regenerates the tables of docs/baselines.md: 1,000 QCD + 1,000 W Ginkgo jets with 5-9 leaves,
# M_hard uniform in 30-80 GeV for both, compared over every algorithm (beam width 10).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p jettrellis
B=target/release/jettrellis
out=${1:-$(mktemp -d)}
mkdir -p "$out"
$B shower --kind qcd --jets 1000 --seed 1 --min-leaves 5 --max-leaves 9 --mass-range 30..80 -o "$out/qcd.jsonl"
$B shower --kind w --jets 1000 --seed 2 --min-leaves 5 --max-leaves 9 --mass-range 30..80 -o "$out/w.jsonl"
cat "$out/qcd.jsonl" "$out/w.jsonl" > "$out/both.jsonl"
for f in qcd w both; do
  echo "### $f"
  echo
  $B compare --jets "$out/$f.jsonl" --beam-width 10
  echo
done
