//! The end-to-end design (clustering datapath → features → tagger, one netlist) equals core's
//! chain bit for bit on edge-case and random jets, with the shipped W-vs-QCD model and with a
//! deeper model (ReLU hidden layer), N = 3 and 4, F = 1 and 2.

use jettrellis::chain;
use jettrellis::generate::generate_with;
use jettrellis::tag::{platform_expf, Model};
use jettrellis_core::fixed::features::FEATURES;
use jettrellis_core::fixed::{Design, FixedJet, FixedTrellis, FxCell, Tables};
use jettrellis_hdl::datapath::io as dpio;
use jettrellis_sim::backend::EvalBackend;
use jettrellis_sim::stream::stream;
use rand::{Rng, SeedableRng};
use std::path::Path;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/ginkgo_wqcd.json");

/// Edge cases (no leaf, one, two, identical leaves, maximal pT, extreme angles), then random
/// collimated jets of 1..=N valid slots in random positions.
fn jets(d: &Design, random: usize) -> Vec<FixedJet> {
    let n = d.max_leaves as usize;
    let full = (1u32 << n) - 1;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut base = FixedJet::default();
    for k in 0..n {
        base.pt[k] = 40 + 97 * k as u32;
        base.eta[k] = 3 * k as i32 - 4;
        base.phi[k] = 5 - 2 * k as i32;
    }
    let mut out = Vec::new();
    for v in [0, 1, 0b10, 0b11, 0b101, full] {
        out.push(FixedJet {
            valid: v & full,
            ..base
        });
    }
    let mut same = base;
    same.pt = [base.pt[0]; 12];
    same.eta = [base.eta[0]; 12];
    same.phi = [base.phi[0]; 12];
    same.valid = full;
    out.push(same);
    let mut big = base;
    big.pt = [(1 << d.input.pt_bits) - 1; 12];
    big.valid = full;
    out.push(big);
    let mut wide = base;
    for k in 0..n {
        wide.eta[k] = if k % 2 == 0 {
            -(1 << (d.input.eta_bits - 1))
        } else {
            (1 << (d.input.eta_bits - 1)) - 1
        };
        wide.phi[k] = if k % 2 == 0 {
            -(1 << (d.input.phi_bits - 1))
        } else {
            (1 << (d.input.phi_bits - 1)) - 1
        };
    }
    wide.valid = full;
    out.push(wide);
    for _ in 0..random {
        let mut j = FixedJet::default();
        let (e0, p0) = (rng.random_range(-1500..1500), rng.random_range(-600..600));
        for k in 0..n {
            j.pt[k] = rng.random_range(1..2000);
            j.eta[k] = e0 + rng.random_range(-60..60);
            j.phi[k] = p0 + rng.random_range(-60..60);
        }
        j.valid = rng.random_range(1..=full);
        out.push(j);
    }
    out
}

fn check(d: &Design, model_path: &Path, random: usize) {
    let model = Model::load(model_path, false, platform_expf).unwrap();
    let layers = model.layers();
    let g = generate_with(d, "chain", Some((model_path, &model))).unwrap();
    let jets = jets(d, random);
    let mut be = EvalBackend::new(&g.dp.net);
    let out = stream(&g.dp, &mut be, &jets).unwrap();
    let tab = Tables::new(d).unwrap();
    let width = model.buffer_len(FEATURES);
    let tail =
        |tr: &FixedTrellis<'_>, r: &_| chain::tail_model(tr, r, &model.input, &layers, width);
    let mut cells = vec![FxCell::default(); 1 << d.max_leaves];
    let mut scores = std::collections::HashSet::new();
    for (k, (j, got)) in jets.iter().zip(&out.results).enumerate() {
        let want = dpio::expected_with(&g.dp, &tab, &mut cells, j, Some(&tail));
        assert_eq!(got, &want, "jet {k}: {j:?}");
        assert_eq!(got.tail.len(), 1);
        scores.insert(got.tail[0]);
    }
    assert!(out.latencies.iter().all(|&l| l == g.dp.latency as u64));
    // A stuck or constant output would pass the comparison on floors alone.
    assert!(scores.len() >= 20, "scores barely vary: {}", scores.len());
    assert_eq!(g.manifest["kind"], "cluster+tagger");
}

#[test]
fn shipped_model_behind_n4_and_n3() {
    let d = Design {
        max_leaves: 4,
        ..Design::default()
    };
    check(&d, Path::new(MODEL), 400);
    let d = Design {
        max_leaves: 3,
        fold: 2,
        lambda_root: 2.5,
        ..Design::default()
    };
    check(&d, Path::new(MODEL), 200);
}

#[test]
fn hidden_layer_model_behind_n4() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mlp.json");
    let w1: Vec<Vec<f64>> = (0..4)
        .map(|i| (0..3).map(|j| ((i * 3 + j) as f64 * 0.37).sin()).collect())
        .collect();
    let m = serde_json::json!({
        "input_precision": "ap_fixed<12,5,AP_RND,AP_SAT>",
        "layers": [
            {"type": "dense", "weights": w1, "bias": [0.1, -0.2, 0.3],
             "precision": {"weight": "ap_fixed<8,2>", "bias": "ap_fixed<8,2>", "accum": "ap_fixed<20,8,AP_TRN,AP_SAT>", "result": "ap_fixed<12,5>"}},
            {"type": "relu", "precision": {"result": "ap_fixed<10,4>"}},
            {"type": "dense", "weights": [[0.5], [-0.75], [0.25]], "bias": [0.0],
             "precision": {"weight": "ap_fixed<8,2>", "bias": "ap_fixed<8,2>", "accum": "ap_fixed<16,6>", "result": "ap_fixed<12,5>"}},
            {"type": "sigmoid", "table_size": 256, "precision": {"table": "ap_fixed<18,8>", "result": "ap_ufixed<10,0>"}}
        ]
    });
    std::fs::write(&p, m.to_string()).unwrap();
    let d = Design {
        max_leaves: 4,
        ..Design::default()
    };
    check(&d, &p, 300);
}

#[test]
fn a_model_that_does_not_take_the_features_is_an_error() {
    let model_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/hls4ml/jet_default/model.json"
    );
    let model = Model::load(Path::new(model_path), false, platform_expf).unwrap();
    let d = Design {
        max_leaves: 4,
        ..Design::default()
    };
    let e = generate_with(&d, "chain", Some((Path::new(model_path), &model)))
        .err()
        .unwrap();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("16 inputs") && msg.contains("model.json"),
        "{msg}"
    );
}
