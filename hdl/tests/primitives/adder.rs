//! Exact adder tree: model vs rust-hdl vs Verilator, with all-most-negative and all-largest
//! addends (the extremes of the sum) and random ones.

use super::common::*;
use jettrellis_hdl::adder::{sum_model, AdderTree};
use jettrellis_hdl::harness::{check, to_raw};

fn run<const W: usize, const S: usize>(k: usize) {
    let mut rows: Vec<Vec<i64>> = signed_edges(W).into_iter().map(|e| vec![e; k]).collect();
    let mut r = rng();
    for _ in 0..RANDOM {
        rows.push((0..k).map(|_| random_signed(&mut r, W)).collect());
    }
    let want = rows.iter().map(|x| vec![to_raw(sum_model(x), S)]).collect();
    check(
        &format!("adder tree {k} x {W} bits"),
        || AdderTree::<W, S>::new(k),
        &raw(&rows, &vec![W; k]),
        &delayed(want, 1, vec![0]),
    );
}

#[test]
fn adder_tree_5x32() {
    run::<32, 35>(5);
}

#[test]
fn adder_tree_8x12() {
    run::<12, 15>(8);
}

#[test]
fn adder_tree_2x36() {
    run::<36, 37>(2);
}
