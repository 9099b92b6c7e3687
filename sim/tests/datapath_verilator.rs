//! The generated clustering datapath, Verilated, equals the golden model bit for bit on
//! 10,000+ jets at N = 4 and N = 6, fold 1 and a fold > 1, with the generator's latency. The
//! N = 6 models (1.2 M register bits) are built with `quick_build`: 3 min each instead of 4.5 on
//! two cores, for a run of seconds either way.

mod common;

use common::{assert_matches, design, jets};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::datapath;
use jettrellis_sim::stream::stream;
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};

fn check(d: &Design, random: usize, raw: usize) {
    let opts = BuildOptions {
        quick_build: d.max_leaves > 4,
        ..BuildOptions::default()
    };
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    let name = format!("cluster_n{}_f{}", d.max_leaves, d.fold);
    let (mut be, info) =
        VerilatorBackend::from_netlist(&dp.net, &name, &opts).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{name}: built in {:.1} s (cached: {})",
        info.seconds, info.cached
    );
    let jets = jets(d, random, raw);
    let out = stream(&dp, &mut be, &jets).unwrap();
    assert_matches(&dp, &tab, &jets, &out);
}

#[test]
fn n4_fold1_10k_jets() {
    check(&design(4, 1, 1.5), 9_000, 1_000);
}

#[test]
fn n4_fold2_10k_jets_distinct_root_lambda() {
    check(&design(4, 2, 2.5), 9_000, 1_000);
}

#[test]
fn n6_fold1_10k_jets() {
    check(&design(6, 1, 1.5), 9_000, 1_000);
}

#[test]
fn n6_fold4_10k_jets_distinct_root_lambda() {
    check(&design(6, 4, 1.0), 9_000, 1_000);
}
