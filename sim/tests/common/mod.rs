//! Jets for the datapath tests: Ginkgo-like collimated jets, raw random words and edge cases,
//! and the comparison of a stream with the golden model.

#![allow(dead_code)]

use jettrellis_core::fixed::{quantize_jet, Design, FixedJet, FxCell, Tables};
use jettrellis_core::ginkgo::Momentum;
use jettrellis_hdl::datapath::{io, Datapath};
use jettrellis_sim::stream::Streamed;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn design(n: u32, fold: u32, lambda_root: f64) -> Design {
    Design {
        max_leaves: n,
        fold,
        lambda_root,
        ..Design::default()
    }
}

/// A design with narrow formats and extreme λs, which take other branches of the generator: a
/// ratio whose left shift always saturates, a right shift that can pass the score maximum.
pub fn narrow_design(n: u32, fold: u32) -> Design {
    let mut d = design(n, fold, 8.0);
    d.lambda = 0.3;
    d.internal.log_frac = 12;
    d.internal.score_bits = 24;
    d.luts.exp = 256;
    d
}

/// A collimated massless jet of `k` constituents around a random axis.
pub fn random_jet(rng: &mut ChaCha8Rng, k: usize, d: &Design) -> FixedJet {
    let eta0: f64 = rng.random_range(-2.0..2.0);
    let phi0: f64 = rng.random_range(-3.1..3.1);
    let leaves: Vec<Momentum> = (0..k)
        .map(|_| {
            let pt: f64 = rng.random_range(0.5..150.0);
            let eta = eta0 + rng.random_range(-0.4..0.4);
            let phi = phi0 + rng.random_range(-0.4..0.4);
            let (px, py, pz) = (pt * phi.cos(), pt * phi.sin(), pt * eta.sinh());
            [(px * px + py * py + pz * pz).sqrt(), px, py, pz]
        })
        .collect();
    quantize_jet(&leaves, d).unwrap().jet
}

/// Random raw words in every slot, random valid bits.
pub fn raw_jet(rng: &mut ChaCha8Rng, d: &Design) -> FixedJet {
    let mut j = FixedJet::default();
    let n = d.max_leaves as usize;
    for k in 0..n {
        j.pt[k] = rng.random_range(0..1u32 << d.input.pt_bits);
        j.eta[k] = rng.random_range(-(1i32 << (d.input.eta_bits - 1))..1 << (d.input.eta_bits - 1));
        j.phi[k] = rng.random_range(-(1i32 << (d.input.phi_bits - 1))..1 << (d.input.phi_bits - 1));
    }
    j.valid = rng.random_range(0..1u32 << n);
    j
}

pub fn edge_jets(rng: &mut ChaCha8Rng, d: &Design) -> Vec<FixedJet> {
    let n = d.max_leaves as usize;
    let full = (1u32 << n) - 1;
    let max_pt = (1u32 << d.input.pt_bits) - 1;
    let mut out = Vec::new();
    let base = random_jet(rng, n, d);
    // All leaves identical.
    let mut same = base;
    for k in 0..n {
        same.pt[k] = base.pt[0];
        same.eta[k] = base.eta[0];
        same.phi[k] = base.phi[0];
    }
    same.valid = full;
    out.push(same);
    // One and two valid leaves, in various slots; no valid leaf.
    for v in [0u32, 1, 1 << (n - 1), 0b11, 1 | 1 << (n - 1), 0b101] {
        let mut j = base;
        j.valid = v & full;
        out.push(j);
    }
    // Zero pT in a valid slot; maximal pT everywhere; extreme angles.
    let mut j = base;
    j.pt[1] = 0;
    j.valid = full;
    out.push(j);
    let mut j = base;
    j.pt = [max_pt; 12];
    j.valid = full;
    out.push(j);
    let mut j = base;
    for k in 0..n {
        j.eta[k] = if k % 2 == 0 {
            -(1 << (d.input.eta_bits - 1))
        } else {
            (1 << (d.input.eta_bits - 1)) - 1
        };
        j.phi[k] = if k % 2 == 0 {
            -(1 << (d.input.phi_bits - 1))
        } else {
            (1 << (d.input.phi_bits - 1)) - 1
        };
        j.pt[k] = max_pt >> k;
    }
    j.valid = full;
    out.push(j);
    if n >= 4 {
        // Found among raw words at N = 6: t of the whole jet saturates and t_P2 of the split
        // {0, 2} | {1, 3} is far below t({1, 3}), so the inner child's ratio saturates and ψ
        // falls below the score range (the hardware once cut that child's density to the leaf
        // term's width, and ψ wrapped instead).
        let mut j = FixedJet::default();
        let leaves = [
            (64243, -1101, -472),
            (61243, -877, -712),
            (4466, -950, -310),
            (3923, -892, -868),
        ];
        for (k, &(pt, eta, phi)) in leaves.iter().enumerate() {
            (j.pt[k], j.eta[k], j.phi[k]) = (pt, eta, phi);
        }
        j.valid = 0b1111;
        out.push(j);
    }
    out
}

/// Edge cases, then `random` Ginkgo-like jets of 1..=N constituents, then `raw` random words.
pub fn jets(d: &Design, random: usize, raw: usize) -> Vec<FixedJet> {
    let mut rng = ChaCha8Rng::seed_from_u64(d.max_leaves as u64 * 100 + d.fold as u64);
    let mut jets = edge_jets(&mut rng, d);
    for _ in 0..random {
        let k = rng.random_range(1..=d.max_leaves as usize);
        jets.push(random_jet(&mut rng, k, d));
    }
    for _ in 0..raw {
        jets.push(raw_jet(&mut rng, d));
    }
    jets
}

/// Asserts that every streamed result equals the golden model and every latency the
/// generator's.
pub fn assert_matches(dp: &Datapath, tab: &Tables, jets: &[FixedJet], out: &Streamed) {
    assert_matches_with(dp, tab, jets, out, None)
}

/// [`assert_matches`] for a datapath with a tail whose golden model is `tail`.
pub fn assert_matches_with(
    dp: &Datapath,
    tab: &Tables,
    jets: &[FixedJet],
    out: &Streamed,
    tail: Option<io::TailModel<'_>>,
) {
    let mut cells = vec![FxCell::default(); 1 << dp_leaves(dp)];
    assert_eq!(out.results.len(), jets.len());
    for (k, (jet, got)) in jets.iter().zip(&out.results).enumerate() {
        let want = io::expected_with(dp, tab, &mut cells, jet, tail);
        assert_eq!(got, &want, "jet {k}: {jet:?}");
    }
    assert!(
        out.latencies.iter().all(|&l| l == dp.latency as u64),
        "observed latencies differ from the generator's {}",
        dp.latency
    );
}

fn dp_leaves(dp: &Datapath) -> u32 {
    dp.net
        .inputs
        .iter()
        .filter(|p| p.name.starts_with("pt_"))
        .count() as u32
}
