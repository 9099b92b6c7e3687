//! Wrapping and saturating narrowing casts: model vs rust-hdl vs Verilator.

use super::common::*;
use jettrellis_hdl::cast::{sat_model, wrap_model, SatCast, WrapCast};
use jettrellis_hdl::harness::{check, to_raw};

/// The edges of the input format, the saturation limits of the output format and their
/// neighbours, then random inputs (half of them inside the output range).
fn vectors(w: usize, n: usize) -> Vec<Vec<i64>> {
    let mut v: Vec<Vec<i64>> = signed_edges(w).into_iter().map(|x| vec![x]).collect();
    for e in signed_edges(n) {
        for d in [-1, 0, 1] {
            v.push(vec![e + d]);
        }
    }
    let mut r = rng();
    for k in 0..RANDOM {
        v.push(vec![random_signed(&mut r, if k % 2 == 0 { w } else { n })]);
    }
    v
}

fn sat<const W: usize, const N: usize>() {
    let rows = vectors(W, N);
    let want = rows
        .iter()
        .map(|r| {
            let (y, s) = sat_model(r[0], N);
            vec![to_raw(y, N), s as u64]
        })
        .collect();
    check(
        &format!("sat cast {W}->{N}"),
        SatCast::<W, N>::default,
        &raw(&rows, &[W]),
        &delayed(want, 1, vec![0, 0]),
    );
}

fn wrap<const W: usize, const N: usize>() {
    let rows = vectors(W, N);
    let want = rows
        .iter()
        .map(|r| vec![to_raw(wrap_model(r[0], N), N)])
        .collect();
    check(
        &format!("wrap cast {W}->{N}"),
        WrapCast::<W, N>::default,
        &raw(&rows, &[W]),
        &delayed(want, 1, vec![0]),
    );
}

#[test]
fn sat_cast_40_to_32() {
    sat::<40, 32>();
}

#[test]
fn sat_cast_12_to_8() {
    sat::<12, 8>();
}

#[test]
fn wrap_cast_40_to_32() {
    wrap::<40, 32>();
}

#[test]
fn wrap_cast_12_to_8() {
    wrap::<12, 8>();
}
