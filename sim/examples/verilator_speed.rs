//! Cost per clock cycle of the Verilator backend's FFI path, against the netlist evaluator, on a
//! netlist of a few hundred nodes, and on a single adder (the cost of the FFI path alone).
//!
//! `cargo run --release -p jettrellis-sim --example verilator_speed [cycles]`

use jettrellis_hdl::ir::{Builder, Netlist, Ty};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};
use std::time::Instant;

/// Eight 32-bit inputs through 40 rounds of add, compare, select and xor.
fn design() -> Netlist {
    let mut b = Builder::new(6);
    let ins: Vec<_> = (0..8)
        .map(|k| b.input(format!("x{k}"), Ty::s(32)))
        .collect();
    let (mut x, mut y) = (ins[0], ins[1]);
    for r in 0..40 {
        let s = b.add(x, ins[r % 8], Ty::s(32));
        let t = b.sub(y, ins[(r + 3) % 8], Ty::s(32));
        let l = b.lt(s, t);
        let m = b.mux(l, s, t);
        let sh = b.shr(m, (r % 5) as u32, Ty::s(32));
        x = b.xor(sh, t);
        y = m;
    }
    b.output("x", x);
    b.output("y", y);
    b.finish()
}

/// One input, one adder, one output: what is left is the cost of the FFI path itself.
fn tiny() -> Netlist {
    let mut b = Builder::new(6);
    let x = b.input("x", Ty::s(32));
    let one = b.constant(1, Ty::s(32));
    let y = b.add(x, one, Ty::s(32));
    b.output("y", y);
    b.finish()
}

/// Nanoseconds per cycle over `cycles` cycles: set every input, tick, read every output.
fn run(sim: &mut dyn Backend, net: &Netlist, cycles: u64) -> (f64, u128) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut sum = 0u128;
    let t0 = Instant::now();
    for _ in 0..cycles {
        for k in 0..net.inputs.len() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            sim.set(k, (seed >> 32) as u128);
        }
        sim.tick();
        for k in 0..net.outputs.len() {
            sum = sum.wrapping_add(sim.get(k));
        }
    }
    (t0.elapsed().as_nanos() as f64 / cycles as f64, sum)
}

fn main() {
    let cycles: u64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("cycles"));
    let net = design();
    let (mut vl, info) = VerilatorBackend::from_netlist(&net, "speed", &BuildOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{} nodes, {} inputs, {} outputs; build {:.1} s (cached: {})",
        net.nodes.len(),
        net.inputs.len(),
        net.outputs.len(),
        info.seconds,
        info.cached
    );
    let (ns_vl, sum_vl) = run(&mut vl, &net, cycles);
    println!("verilator: {ns_vl:.1} ns/cycle over {cycles} cycles");
    // The evaluator is slower; a tenth of the cycles is enough to time it and check the sums
    // of both agree over that run.
    let short = cycles / 10;
    let (mut a, mut b) = (
        VerilatorBackend::from_netlist(&net, "speed", &BuildOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .0,
        EvalBackend::new(&net),
    );
    let (_, sum_a) = run(&mut a, &net, short);
    let (ns_ev, sum_b) = run(&mut b, &net, short);
    println!("eval:      {ns_ev:.1} ns/cycle over {short} cycles");
    assert_eq!(sum_a, sum_b, "verilator and eval disagree");
    println!("checksum {sum_vl:#x}");
    let net = tiny();
    let (mut t, _) = VerilatorBackend::from_netlist(&net, "tiny", &BuildOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (ns_tiny, _) = run(&mut t, &net, cycles);
    println!("verilator, one adder: {ns_tiny:.1} ns/cycle over {cycles} cycles (FFI floor)");
}
