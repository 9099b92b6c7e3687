//! The rust-hdl backend: its simulation equals the evaluator's cycle by cycle, and the Verilog
//! rust-hdl generates for the wrapping block (`generate_verilog`) runs in Verilator and Icarus
//! with the same outputs.

use jettrellis_hdl::ir::{mask, Builder, Netlist, Port, Ty};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::icarus;
use jettrellis_sim::rusthdl::RustHdlBackend;
use jettrellis_sim::testbench::{self, Design, Options};
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::generate_verilog;

/// Signed and unsigned arithmetic, a compare and a 128-bit port, pipelined over two stages.
fn design() -> Netlist {
    let mut b = Builder::new(4);
    let a = b.input("a", Ty::s(12));
    let x = b.input("x", Ty::s(10));
    let w = b.input("w", Ty::u(128));
    let p = b.mul(a, x, Ty::s(22));
    let s = b.add(p, a, Ty::s(23));
    b.output("s", s);
    let lt = b.lt(a, x);
    b.output("lt", lt);
    let v = b.add(w, a, Ty::u(128));
    b.output("wide", v);
    b.finish()
}

fn stimulus(net: &Netlist, cycles: usize) -> Vec<Vec<u128>> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    (0..cycles)
        .map(|c| {
            net.inputs
                .iter()
                .map(|p| match c % 17 {
                    0 => 0,
                    5 => mask(p.ty.width),
                    6 => 1 << (p.ty.width - 1),
                    _ => rng.random::<u128>() & mask(p.ty.width),
                })
                .collect()
        })
        .collect()
}

fn run(be: &mut dyn Backend, n_out: usize, stim: &[Vec<u128>]) -> Vec<Vec<u128>> {
    stim.iter()
        .map(|row| {
            for (k, &x) in row.iter().enumerate() {
                be.set(k, x);
            }
            be.tick();
            (0..n_out).map(|k| be.get(k)).collect()
        })
        .collect()
}

/// rust-hdl's ports: `inputs$k` / `outputs$k`, 128 bits each.
fn block_ports(prefix: &str, n: usize) -> Vec<Port> {
    (0..n)
        .map(|k| Port {
            name: format!("{prefix}${k}"),
            ty: Ty::u(128),
        })
        .collect()
}

#[test]
fn rust_hdl_steps_like_the_evaluator() {
    let net = design();
    let stim = stimulus(&net, 500);
    let n = net.outputs.len();
    let want = run(&mut EvalBackend::new(&net), n, &stim);
    let got = run(&mut RustHdlBackend::new(&net, "dut_net"), n, &stim);
    assert_eq!(want, got);
}

#[test]
fn generated_verilog_runs_in_icarus() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let net = design();
    let be = RustHdlBackend::new(&net, "dut_net");
    let design = Design {
        top: "top".into(),
        verilog: generate_verilog(be.block()),
        inputs: block_ports("inputs", net.inputs.len()),
        outputs: block_ports("outputs", net.outputs.len()),
    };
    let stim = stimulus(&net, 300);
    let n = net.outputs.len();
    let checks = testbench::reference(&mut EvalBackend::new(&net), n, &stim, |_, _| {
        Some(vec![true; n])
    });
    let dir = tempfile::tempdir().unwrap();
    testbench::write(dir.path(), &design, &stim, &checks, &Options::default()).unwrap();
    let v = icarus::run(dir.path()).unwrap();
    assert!(v.passed() && v.checked == 300, "{}", v.log);
}

#[test]
fn generated_verilog_runs_in_verilator() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let net = design();
    let be = RustHdlBackend::new(&net, "dut_net");
    let verilog = generate_verilog(be.block());
    let exe = std::env::current_exe().unwrap();
    let opts = BuildOptions {
        cache_dir: Some(exe.ancestors().nth(3).unwrap().join("verilator-cache")),
        ..BuildOptions::default()
    };
    let (mut vl, _) = VerilatorBackend::build(
        &verilog,
        "top",
        &block_ports("inputs", net.inputs.len()),
        &block_ports("outputs", net.outputs.len()),
        &opts,
    )
    .unwrap();
    let stim = stimulus(&net, 500);
    let n = net.outputs.len();
    assert_eq!(
        run(&mut vl, n, &stim),
        run(&mut EvalBackend::new(&net), n, &stim)
    );
}
