//! Max / argmax tree with −∞ flags: core's scan rule vs rust-hdl vs Verilator, on random values,
//! forced ties, the most negative and largest values, and all-−∞ / one-finite inputs.

use super::common::*;
use jettrellis_hdl::harness::{check, to_raw};
use jettrellis_hdl::maxtree::{argmax_model, MaxTree};
use rand::Rng;

fn run<const W: usize, const I: usize>(k: usize) {
    let mut r = rng();
    let edges = signed_edges(W);
    let mut rows: Vec<(Vec<i64>, Vec<bool>)> = Vec::new();
    // All −∞ (winner 0), exactly one finite input at each position, all equal (ties: 0).
    rows.push((vec![5; k], vec![true; k]));
    for j in 0..k {
        let mut f = vec![true; k];
        f[j] = false;
        rows.push((vec![edges[0]; k], f));
    }
    for &e in &edges {
        rows.push((vec![e; k], vec![false; k]));
    }
    for n in 0..RANDOM {
        // Few distinct values (forced ties) half of the time, edge values sometimes, −∞ at 25%.
        let x = (0..k)
            .map(|_| match n % 4 {
                0 | 1 => random_signed(&mut r, W),
                2 => r.random_range(-2..=2),
                _ => edges[r.random_range(0..edges.len())],
            })
            .collect();
        let f = (0..k).map(|_| r.random_range(0..4) == 0).collect();
        rows.push((x, f));
    }
    let vectors: Vec<Vec<u64>> = rows
        .iter()
        .map(|(x, f)| {
            x.iter()
                .map(|&v| to_raw(v, W))
                .chain(f.iter().map(|&b| b as u64))
                .collect()
        })
        .collect();
    let want = rows
        .iter()
        .map(|(x, f)| {
            let (v, a, e) = argmax_model(x, f);
            vec![to_raw(v, W), a as u64, e as u64]
        })
        .collect();
    check(
        &format!("max tree {k} x {W} bits"),
        || MaxTree::<W, I>::new(k),
        &vectors,
        &delayed(want, 1, vec![0, 0, 0]),
    );
}

#[test]
fn max_tree_7x32() {
    run::<32, 3>(7);
}

#[test]
fn max_tree_16x12() {
    run::<12, 4>(16);
}

#[test]
fn max_tree_2x8() {
    run::<8, 1>(2);
}
