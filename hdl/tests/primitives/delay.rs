//! Delay line: model (the input `n` cycles earlier) vs rust-hdl vs Verilator.

use super::common::*;
use jettrellis_hdl::delay::Delay;
use rand::Rng;

fn run<const W: usize>(n: usize) {
    let mut r = rng();
    let mut rows: Vec<Vec<u64>> = signed_edges(W)
        .into_iter()
        .map(|x| vec![jettrellis_hdl::harness::to_raw(x, W)])
        .collect();
    rows.extend((0..RANDOM).map(|_| vec![r.random::<u64>() & jettrellis_hdl::harness::mask(W)]));
    // The model of a delay line is its input, n cycles later.
    let want = delayed(rows.clone(), n, vec![0]);
    jettrellis_hdl::harness::check(
        &format!("delay {W} bits x {n}"),
        || Delay::<W>::new(n),
        &rows,
        &want,
    );
}

#[test]
fn delay_1() {
    run::<36>(1);
}

#[test]
fn delay_5() {
    run::<32>(5);
}

#[test]
fn delay_64_bits_3() {
    run::<64>(3);
}
