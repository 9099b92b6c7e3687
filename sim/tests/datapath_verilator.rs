//! The generated clustering datapath, Verilated, equals the golden model bit for bit on
//! 10,000+ jets at N = 4 and N = 6, fold 1 and a fold > 1, with the generator's latency. The
//! models are built as `BuildOptions::sized_for` chooses: N = 6 hierarchically (each sub-module
//! verilated once: 1.5 min on one core instead of 6), N = 4 flat; N = 3 is checked both ways.

mod common;

use common::{assert_matches, design, jets};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::datapath;
use jettrellis_sim::stream::stream;
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};

fn check(d: &Design, random: usize, raw: usize) {
    check_with(d, random, raw, None);
}

/// `hierarchical`: build that way, else as `sized_for` chooses.
fn check_with(d: &Design, random: usize, raw: usize, hierarchical: Option<bool>) {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    let mut opts = BuildOptions::default().sized_for(&dp.net);
    if let Some(h) = hierarchical {
        opts.hierarchical = h;
    }
    let name = format!("cluster_n{}_f{}", d.max_leaves, d.fold);
    assert_eq!(
        opts.hierarchical,
        hierarchical.unwrap_or(d.max_leaves >= 6),
        "{name}: sized_for"
    );
    let (mut be, info) =
        VerilatorBackend::from_netlist(&dp.net, &name, &opts).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{name}: built in {:.1} s (cached: {}, hierarchical: {})",
        info.seconds, info.cached, opts.hierarchical
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

#[test]
fn n3_flat_and_hierarchical_2k_jets() {
    for h in [false, true] {
        check_with(&design(3, 1, 1.5), 1_500, 500, Some(h));
    }
}

/// A traced hierarchical model would crash Verilator 5.006's runtime: refused before building.
#[test]
fn a_traced_hierarchical_build_is_refused() {
    let opts = BuildOptions {
        vcd: Some("x.vcd".into()),
        hierarchical: true,
        ..BuildOptions::default()
    };
    let d = design(3, 1, 1.5);
    let dp = datapath::generate(&d, &Tables::new(&d).unwrap()).unwrap();
    let err = match VerilatorBackend::from_netlist(&dp.net, "traced", &opts) {
        Ok(_) => panic!("built a traced hierarchical model"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("needs a flat build"), "{err}");
    let d6 = design(6, 1, 1.5);
    let big = datapath::generate(&d6, &Tables::new(&d6).unwrap()).unwrap();
    let traced = BuildOptions {
        vcd: Some("x.vcd".into()),
        ..BuildOptions::default()
    };
    assert!(!traced.sized_for(&big.net).hierarchical);
    assert!(BuildOptions::default().sized_for(&big.net).hierarchical);
}
