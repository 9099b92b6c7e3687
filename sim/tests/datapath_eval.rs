//! The generated clustering datapath, run by the netlist evaluator, equals the golden model bit
//! for bit, and its observed latency and initiation interval equal the generator's.

mod common;

use common::{assert_matches, design, jets};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::datapath::{self, Datapath};
use jettrellis_sim::backend::EvalBackend;
use jettrellis_sim::stream::stream;

fn check(d: &Design, random: usize, raw: usize) -> Datapath {
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    let jets = jets(d, random, raw);
    let mut be = EvalBackend::new(&dp.net);
    let out = stream(&dp, &mut be, &jets).unwrap();
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
fn n2_and_n3_equal_the_model() {
    check(&design(2, 1, 1.5), 100, 50);
    check(&design(3, 2, 2.0), 100, 50);
}
