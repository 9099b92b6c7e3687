//! kt, C/A and anti-kt against FastJet 3.5.2 itself: `tests/data/fastjet/vectors.json` holds
//! merge histories made by `scripts/fastjet_vectors.sh` (random, tied, φ-wrapping and
//! zero-pT events, N = 1 … 29, R = 0.4, 1, 1000). Every merge, distance and inclusive jet
//! must agree exactly.

use jettrellis::kt::{cluster, KtAlgo};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

#[test]
fn merge_histories_equal_fastjet() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/fastjet/vectors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let events = doc["events"].as_array().unwrap();
    assert!(events.len() >= 50);
    let mut cases = 0;
    let mut ties = 0;
    for (e, ev) in events.iter().enumerate() {
        let parts: Vec<[f64; 4]> = ev["particles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p = p.as_array().unwrap();
                [f(&p[0]), f(&p[1]), f(&p[2]), f(&p[3])]
            })
            .collect();
        for r in ev["results"].as_array().unwrap() {
            let algo = match r["algo"].as_str().unwrap() {
                "kt" => KtAlgo::Kt,
                "ca" => KtAlgo::Ca,
                "antikt" => KtAlgo::AntiKt,
                a => panic!("unknown algo {a}"),
            };
            let radius = f(&r["radius"]);
            let h = cluster(&parts, algo, radius);
            let what = format!("event {e} ({}) {algo:?} R={radius}", ev["kind"]);
            let want: Vec<(usize, usize, f64)> = r["merges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m[0].as_u64().unwrap() as usize,
                        m[1].as_u64().unwrap() as usize,
                        f(&m[2]),
                    )
                })
                .collect();
            let mut ds: Vec<f64> = want.iter().map(|m| m.2).collect();
            ds.sort_by(f64::total_cmp);
            ties += ds.windows(2).filter(|w| w[0] == w[1]).count();
            assert_eq!(h.merges, want, "{what}: merges");
            let beam: Vec<f64> = r["beam_d"].as_array().unwrap().iter().map(f).collect();
            assert_eq!(
                h.inclusive.iter().map(|x| x.1).collect::<Vec<_>>(),
                beam,
                "{what}: beam distances"
            );
            // Leaf sets of the inclusive jets.
            let mut sets: Vec<Vec<usize>> = (0..parts.len()).map(|i| vec![i]).collect();
            for &(a, b, _) in &h.merges {
                let mut s = [sets[a].clone(), sets[b].clone()].concat();
                s.sort_unstable();
                sets.push(s);
            }
            let mut inc: Vec<Vec<usize>> = h.inclusive.iter().map(|x| sets[x.0].clone()).collect();
            inc.sort();
            let want_inc: Vec<Vec<usize>> = serde_json::from_value(r["inclusive"].clone()).unwrap();
            assert_eq!(inc, want_inc, "{what}: inclusive jets");
            cases += 1;
        }
    }
    assert_eq!(cases, events.len() * 9);
    // The vectors must exercise exact ties.
    assert!(ties > 20, "only {ties} tied merge distances");
}
