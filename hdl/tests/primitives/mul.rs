//! Signed and unsigned multipliers of arbitrary widths: model vs rust-hdl vs Verilator.

use super::common::*;
use jettrellis_hdl::harness::{check, mask, to_raw};
use jettrellis_hdl::mul::{mul_model, umul_model, SignedMul, UnsignedMul};
use rand::Rng;

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

fn run_unsigned<const A: usize, const B: usize, const P: usize>() {
    let edges = |bits: usize| [0, 1, 2, mask(bits) - 1, mask(bits)];
    let mut rows = Vec::new();
    for a in edges(A) {
        for b in edges(B) {
            rows.push(vec![a, b]);
        }
    }
    let mut r = rng();
    for _ in 0..RANDOM {
        rows.push(vec![
            r.random::<u64>() & mask(A),
            r.random::<u64>() & mask(B),
        ]);
    }
    let want = rows.iter().map(|v| vec![umul_model(v[0], v[1])]).collect();
    check(
        &format!("unsigned mul {A}x{B}"),
        UnsignedMul::<A, B, P>::default,
        &rows,
        &delayed(want, 1, vec![0]),
    );
}

#[test]
fn umul_16x16() {
    run_unsigned::<16, 16, 32>();
}

#[test]
fn umul_32x32() {
    run_unsigned::<32, 32, 64>();
}

#[test]
fn umul_24x17() {
    run_unsigned::<24, 17, 41>();
}
