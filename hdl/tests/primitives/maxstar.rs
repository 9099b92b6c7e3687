//! The max* unit: core's `Tables::max_star` vs rust-hdl vs Verilator, for the default design
//! (30-bit scores, interpolated 1025-entry table) and a small one (16-bit scores, direct table).

use super::common::*;
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::harness::{check, to_raw};
use jettrellis_hdl::maxstar::{max_star_model, MaxStar};
use rand::Rng;

/// `(a, a −∞, b, b −∞)` rows: edge pairs, ties, differences at the window edge and at table
/// step boundaries, −∞ on either or both sides, then random pairs (half of them close enough to
/// use the table), then every difference of the window (so every table interval and every
/// interpolation remainder).
fn vectors(t: &Tables, w: usize) -> Vec<(i64, bool, i64, bool)> {
    let span = t.corr.span() as i64;
    let step = 1i64 << t.corr.step_log2;
    let edges: Vec<i64> = signed_edges(w)
        .into_iter()
        .chain([t.score_max, -t.score_max, t.score_max - 1])
        .collect();
    let mut v = Vec::new();
    for &a in &edges {
        for &b in &edges {
            for (fa, fb) in [(false, false), (true, false), (false, true), (true, true)] {
                v.push((a, fa, b, fb));
            }
        }
    }
    for base in [0, t.score_max - 5, -t.score_max, 12345] {
        for dd in [0, 1, step - 1, step, step + 1, span - 1, span, span + 1] {
            let b = base - dd;
            if b >= -t.score_max - 1 {
                v.push((base, false, b, false));
                v.push((b, false, base, false));
            }
        }
    }
    for dd in 0..=span {
        v.push((1000, false, 1000 - dd, false));
    }
    let mut r = rng();
    for k in 0..RANDOM {
        let a = random_signed(&mut r, w);
        let b = if k % 2 == 0 {
            (a - r.random_range(-span..=span)).clamp(-t.score_max, t.score_max)
        } else {
            random_signed(&mut r, w)
        };
        v.push((a, r.random_range(0..8) == 0, b, r.random_range(0..8) == 0));
    }
    v
}

fn run<const W: usize>(d: &Design) {
    let t = Tables::new(d).expect("a valid design");
    let rows = vectors(&t, W);
    let inputs: Vec<Vec<u64>> = rows
        .iter()
        .map(|&(a, fa, b, fb)| vec![to_raw(a, W), fa as u64, to_raw(b, W), fb as u64])
        .collect();
    let want = rows
        .iter()
        .map(|&(a, fa, b, fb)| {
            let (y, n, s) = max_star_model(&t, (!fa).then_some(a), (!fb).then_some(b), b);
            vec![to_raw(y, W), n as u64, s as u64]
        })
        .collect();
    check(
        &format!("max* {W}-bit scores"),
        || MaxStar::<W>::new(d),
        &inputs,
        &delayed(want, 1, vec![0, 0, 0]),
    );
}

#[test]
fn max_star_default_design() {
    run::<30>(&Design::default());
}

#[test]
fn max_star_small_direct_table() {
    let mut d = Design::default();
    d.internal.log_frac = 8;
    d.internal.score_bits = 16;
    d.luts.exp = 256;
    d.luts.corr = 4096;
    assert_eq!(Tables::new(&d).unwrap().corr.step_log2, 0, "a direct table");
    run::<16>(&d);
}
