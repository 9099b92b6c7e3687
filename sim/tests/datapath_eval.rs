//! The generated clustering datapath, run by the netlist evaluator and by rust-hdl's simulator,
//! equals the golden model bit for bit, and its observed latency and initiation interval equal
//! the generator's.

mod common;

use common::{assert_matches, assert_matches_with, design, jets, narrow_design};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::datapath::{self, Datapath};
use jettrellis_sim::backend::EvalBackend;
use jettrellis_sim::rusthdl::RustHdlBackend;
use jettrellis_sim::stream::stream;

fn check(d: &Design, random: usize, raw: usize) -> Datapath {
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    let jets = jets(d, random, raw);
    let out = stream(&dp, &mut EvalBackend::new(&dp.net), &jets).unwrap();
    assert_matches(&dp, &tab, &jets, &out);
    let out = stream(&dp, &mut RustHdlBackend::new(&dp.net, "dp"), &jets).unwrap();
    assert_matches(&dp, &tab, &jets, &out);
    dp
}
#[test]
fn n4_fold1_equals_the_model() {
    let dp = check(&design(4, 1, 1.5), 300, 100);
    assert_eq!(dp.ii, 1);
}

#[test]
fn n4_fold2_equals_the_model_with_a_distinct_root_lambda() {
    let dp = check(&design(4, 2, 2.5), 200, 50);
    assert_eq!(dp.ii, 2);
}

#[test]
fn n6_fold1_equals_the_model() {
    check(&design(6, 1, 1.5), 150, 40);
}

#[test]
fn n6_fold4_equals_the_model_with_a_distinct_root_lambda() {
    check(&design(6, 4, 1.0), 120, 30);
}

#[test]
fn narrow_formats_equal_the_model() {
    check(&narrow_design(4, 2), 300, 100);
}

#[test]
fn n2_and_n3_equal_the_model() {
    check(&design(2, 1, 1.5), 100, 50);
    check(&design(3, 2, 2.0), 100, 50);
}

/// The feature stage behind the datapath (what the end-to-end design feeds the tagger) equals
/// `core::fixed::features` on every jet, N = 3 and 4, F = 1 and 2, λ_root ≠ λ.
#[test]
fn features_equal_the_model() {
    use jettrellis_core::fixed::features::features;
    for d in [design(3, 1, 1.5), design(4, 2, 2.5), design(4, 1, 1.5)] {
        let tab = Tables::new(&d).unwrap();
        let mut tail = |_: &mut jettrellis_hdl::ir::Builder, f: [jettrellis_hdl::ir::V; 4], _| {
            f.iter()
                .enumerate()
                .map(|(k, &v)| (format!("feat_{k}"), v))
                .collect()
        };
        let dp = datapath::generate_with(&d, &tab, Some(&mut tail)).unwrap();
        let jets = jets(&d, 300, 60);
        let mut be = EvalBackend::new(&dp.net);
        let out = stream(&dp, &mut be, &jets).unwrap();
        let model = |tr: &jettrellis_core::fixed::FixedTrellis<'_>, r: &_| {
            features(tr, r).map(i128::from).to_vec()
        };
        assert_matches_with(&dp, &tab, &jets, &out, Some(&model));
        assert!(out.results.iter().all(|r| r.tail.len() == 4));
        // The features vary (a stuck output would pass on floors alone).
        let distinct: std::collections::HashSet<_> =
            out.results.iter().map(|r| r.tail[1]).collect();
        assert!(distinct.len() > 50, "{}", distinct.len());
    }
}
