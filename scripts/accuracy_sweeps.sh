#!/usr/bin/env bash
# Regenerates docs/accuracy/: the fixed-point golden model against the float trellis on 10,000
# Ginkgo jets (5k QCD + 5k W, 4–8 leaves, fixed seeds) with configs/default.toml, plus width sweeps.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p jettrellis
J=target/release/jettrellis
out=docs/accuracy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
$J shower --kind qcd --jets 5000 --seed 1 --min-leaves 4 --max-leaves 8 -o "$work/qcd.jsonl"
$J shower --kind w --jets 5000 --seed 2 --min-leaves 4 --max-leaves 8 -o "$work/w.jsonl"
cat "$work/qcd.jsonl" "$work/w.jsonl" > "$work/jets.jsonl"
$J accuracy --design configs/default.toml --jets "$work/jets.jsonl" -o "$out/summary.json" --plots "$out"
for key in internal.t_frac=4..14 internal.log_frac=10..18; do
  name=${key%%=*}
  $J accuracy --design configs/default.toml --jets "$work/jets.jsonl" \
    -o "$out/sweep_${name#internal.}.json" --plots "$work/p" --sweep "$key"
  mv "$work/p/sweep.svg" "$out/sweep_${name#internal.}.svg"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
for name in ["t_frac", "log_frac"]:
    s = json.load(open(f"{out}/sweep_{name}.json"))["sweep"]
    print(f"\n{s['key']} | identical MAP trees | p99 abs dlogZ | p99 abs dMAP | overflows")
    print("---|---|---|---|---")
    for p in s["points"]:
        if "error" in p:
            continue
        print(f"{p['value']} | {p['map_tree_identical_fraction']:.4f} | {p['abs_dlogz_p99']:.2e} | "
              f"{p['abs_dmap_p99']:.2e} | {sum(p['overflows'].values())}")
PY
