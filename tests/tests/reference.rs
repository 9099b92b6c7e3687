//! The float trellis reproduces the 30 published/reproduced Cluster Trellis results of
//! data/ginkgo_reference.json (a copy of shared/reference), read through the same jets reader and solver that
//! `jettrellis cluster` uses.

use jettrellis::cluster::solve_all;
use jettrellis::jets::read_jets;
use jettrellis::trees::from_nested;
use jettrellis_core::{tree, GinkgoParams};
use serde_json::Value;
use std::path::PathBuf;

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ginkgo_reference.json")
}

/// A tree with child order forgotten: leaves as strings, pairs sorted.
fn canonical(t: &Value) -> String {
    match t {
        Value::Array(c) => {
            let mut parts = [canonical(&c[0]), canonical(&c[1])];
            parts.sort();
            format!("({},{})", parts[0], parts[1])
        }
        other => other.to_string(),
    }
}

#[test]
fn reproduces_the_reference_jets() {
    let path = reference_path();
    let raw: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let jets = read_jets(&path).unwrap();
    assert_eq!(jets.len(), 30);
    let records = solve_all(&jets, &GinkgoParams::default(), 0, 0).unwrap();
    for ((r, rec), j) in raw.iter().zip(&records).zip(&jets) {
        let src = r["source"].as_str().unwrap();
        let e = &r["expected"];
        let dz = (rec.log_z.unwrap() - e["log_z"].as_f64().unwrap()).abs();
        let dm = (rec.map_llh.unwrap() - e["map_llh"].as_f64().unwrap()).abs();
        assert!(dz <= 1e-9, "{src}: |Δ log Z| = {dz:e}");
        assert!(dm <= 1e-9, "{src}: |Δ MAP| = {dm:e}");
        assert_eq!(
            rec.n_trees,
            e["n_trees"].as_u64().unwrap() as u128,
            "{src}: n_trees"
        );
        assert_eq!(
            canonical(&rec.tree),
            canonical(&r["python_reproduction"]["map_tree"]),
            "{src}: MAP tree"
        );
        // Tree scoring: the truth topology and the stored beam/greedy trees.
        let n = j.jet.leaves.len();
        let params = GinkgoParams::default();
        let truth = from_nested(&r["truth_tree"]["nested"], n).unwrap();
        let l = tree::llh(&j.jet.leaves, &params, &truth);
        let want = r["truth_llh_recomputed"].as_f64().unwrap();
        assert!((l - want).abs() <= 1e-9, "{src}: truth llh {l} vs {want}");
        assert!(rec.map_llh.unwrap() >= l - 1e-12, "{src}: MAP below truth");
        if let Some(others) = r.get("other_trees").and_then(Value::as_array) {
            for t in others {
                let name = &t["algorithm"];
                let nodes = from_nested(&t["nested"], n).unwrap();
                let l = tree::llh(&j.jet.leaves, &params, &nodes);
                let want = t["llh_recomputed"].as_f64().unwrap();
                assert!((l - want).abs() <= 1e-9, "{src} {name}: {l} vs {want}");
            }
        }
    }
}
