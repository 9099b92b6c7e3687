//! The exported testbench, run in Icarus Verilog against vectors from the evaluator.

use jettrellis_hdl::ir::{Builder, Netlist, Table, Ty};
use jettrellis_sim::backend::EvalBackend;
use jettrellis_sim::icarus::{self, Icarus};
use jettrellis_sim::testbench::{self, Check, Design, Options};
use std::time::Instant;

/// Index of output `valid` and `acc` in the test design.
const OUT_VALID: usize = 0;
const OUT_ACC: usize = 1;

/// A pipelined multiply-add with a valid strobe, a signed compare, a ROM read and a 100-bit
/// add: outputs `valid`, `acc`, `lt`, `rom`, `wide`.
fn design() -> Netlist {
    let mut b = Builder::new(4);
    let a = b.input("a", Ty::s(12));
    let x = b.input("x", Ty::s(10));
    let c = b.input("c", Ty::s(24));
    let v = b.input("v", Ty::u(1));
    let addr = b.input("addr", Ty::u(6));
    let w = b.input("w", Ty::u(100));
    let p = b.mul(a, x, Ty::s(22));
    let acc = b.add(p, c, Ty::s(25));
    let valid = b.delay_to(v, acc.cycle);
    b.output("valid", valid);
    b.output("acc", acc);
    let lt = b.lt(a, c);
    b.output("lt", lt);
    let words = (0..50u128).map(|k| (k * k * 97 + 13) & 0x3ffff).collect();
    let t = b.table(Table {
        name: "sq".into(),
        width: 18,
        addr_bits: 6,
        words,
    });
    let r = b.rom(t, addr);
    b.output("rom", r);
    let wide = b.add(w, c, Ty::u(100));
    b.output("wide", wide);
    b.finish()
}

/// A deterministic pseudo-random stimulus (splitmix64), every value cut to its port; the most
/// negative and largest values appear at fixed cycles. Cycle 0 drives zeros, so registers keep
/// their power-up 0 across the first edge: logic that is X until its inputs change shows up.
fn stimulus(net: &Netlist, cycles: usize) -> Vec<Vec<u128>> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..cycles)
        .map(|c| {
            net.inputs
                .iter()
                .map(|p| {
                    let m = jettrellis_hdl::ir::mask(p.ty.width);
                    match c % 50 {
                        _ if c == 0 => 0,
                        7 => m,                         // all ones: -1 or the maximum
                        8 => 1u128 << (p.ty.width - 1), // the most negative value
                        _ => (((next() as u128) << 64) | next() as u128) & m,
                    }
                })
                .collect()
        })
        .collect()
}

/// The evaluator's outputs at every cycle; `acc` is a don't-care while `valid` is low.
fn expected(net: &Netlist, stim: &[Vec<u128>]) -> Vec<Check> {
    let n = net.outputs.len();
    testbench::reference(&mut EvalBackend::new(net), n, stim, |_, out| {
        let mut m = vec![true; n];
        m[OUT_ACC] = out[OUT_VALID] == 1;
        Some(m)
    })
}

fn write(dir: &std::path::Path, net: &Netlist, stim: &[Vec<u128>], exp: &[Check]) {
    let d = Design::from_netlist(net, "madd", "test design of sim/tests/icarus.rs");
    let opts = Options {
        header: "written by sim/tests/icarus.rs".into(),
        ..Options::default()
    };
    testbench::write(dir, &d, stim, exp, &opts).unwrap();
}

#[test]
fn evaluator_vectors_pass_in_icarus() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let net = design();
    let cycles = 2000;
    let stim = stimulus(&net, cycles);
    let exp = expected(&net, &stim);
    assert!(exp.iter().any(|c| !c.mask[OUT_ACC]) && exp.iter().any(|c| c.mask[OUT_ACC]));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &net, &stim, &exp);
    let t0 = Instant::now();
    let v = icarus::run(dir.path()).unwrap();
    assert!(v.passed(), "{}", v.log);
    assert_eq!(v.checked, cycles as u64);
    assert!(v.mismatches.is_empty());
    println!(
        "icarus: {cycles} cycles, compile {:?}, simulate {:?} ({:.1} ms per 1000 cycles), total {:?}",
        v.compile_time,
        v.sim_time,
        v.sim_time.as_secs_f64() * 1e3 * 1000.0 / cycles as f64,
        t0.elapsed()
    );
}

#[test]
fn one_flipped_bit_is_one_reported_mismatch() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let net = design();
    let stim = stimulus(&net, 300);
    let mut exp = expected(&net, &stim);
    let (j, port) = (123, 4);
    assert!(exp[j].mask[port]);
    exp[j].values[port] ^= 1 << 77;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &net, &stim, &exp);
    let v = icarus::run(dir.path()).unwrap();
    assert!(!v.passed());
    assert_eq!((v.failed, v.checked), (1, 300), "{}", v.log);
    assert_eq!(v.mismatches.len(), 1, "{}", v.log);
    let m = &v.mismatches[0];
    assert_eq!((m.cycle, m.port.as_str()), (exp[j].cycle, "wide"));
    assert_eq!(
        u128::from_str_radix(&m.expected, 16).unwrap()
            ^ u128::from_str_radix(&m.actual, 16).unwrap(),
        1 << 77
    );
    assert!(v.log.contains("FAIL 1 of 300"), "{}", v.log);
}

#[test]
fn a_bad_design_is_a_compile_error_with_the_log() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let net = design();
    let stim = stimulus(&net, 10);
    let exp = expected(&net, &stim);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &net, &stim, &exp);
    std::fs::write(
        dir.path().join("madd.v"),
        "module madd(input wire clk);\n  nonsense;\nendmodule\n",
    )
    .unwrap();
    let e = icarus::run(dir.path()).unwrap_err();
    assert!(matches!(e, icarus::Error::Compile { .. }), "{e}");
    assert!(e.to_string().contains("madd.v"), "{e}");
}

#[test]
fn missing_iverilog_names_the_package() {
    let net = design();
    let stim = stimulus(&net, 10);
    let exp = expected(&net, &stim);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &net, &stim, &exp);
    let empty = tempfile::tempdir().unwrap();
    let tools = Icarus::with_search_path(empty.path());
    assert!(!tools.available());
    let e = tools.run(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            icarus::Error::NotInstalled {
                program: "iverilog"
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("Debian package `iverilog`"), "{e}");
}
