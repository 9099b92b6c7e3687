//! Signed multiplier of arbitrary widths: model vs rust-hdl vs Verilator.

use super::common::*;
use jettrellis_hdl::harness::{check, to_raw};
use jettrellis_hdl::mul::{mul_model, SignedMul};

/// Every pair of edge values, then random pairs.
fn vectors(a_bits: usize, b_bits: usize) -> Vec<Vec<i64>> {
    let mut v = Vec::new();
    for &a in &signed_edges(a_bits) {
        for &b in &signed_edges(b_bits) {
            v.push(vec![a, b]);
        }
    }
    let mut r = rng();
    for _ in 0..RANDOM {
        v.push(vec![
            random_signed(&mut r, a_bits),
            random_signed(&mut r, b_bits),
        ]);
    }
    v
}

fn run<const A: usize, const B: usize, const P: usize>(model: impl Fn(i64, i64) -> i64) {
    let rows = vectors(A, B);
    let want = rows
        .iter()
        .map(|r| vec![to_raw(model(r[0], r[1]), P)])
        .collect();
    check(
        &format!("mul {A}x{B}"),
        SignedMul::<A, B, P>::default,
        &raw(&rows, &[A, B]),
        &delayed(want, 1, vec![0]),
    );
}

#[test]
fn mul_18x18() {
    run::<18, 18, 36>(mul_model);
}

#[test]
fn mul_25x18() {
    run::<25, 18, 43>(mul_model);
}

#[test]
fn mul_12x8() {
    run::<12, 8, 20>(mul_model);
}

/// The harness can fail: a model that drops the product's top bit (wrong only for
/// most-negative × most-negative) is caught.
#[test]
#[should_panic(expected = "differs from the model")]
fn a_wrong_model_fails() {
    run::<12, 8, 20>(|a, b| (mul_model(a, b) << 45) >> 45);
}
