//! Exact posterior sampling of trees, `P(H) = exp(ℓ(H) − log Z)`, from a solved trellis.
//!
//! Top-down: at cluster `S`, the split `(A, B)` is drawn with probability
//! `exp(ψ(A,B) + log Z(A) + log Z(B) − log Z(S))`, and both parts are sampled the same way. The
//! product of these probabilities over a tree telescopes to its posterior probability.

use crate::mask::{self, Mask};
use crate::math;
use crate::trellis::GinkgoTrellis;
use rand_core::RngCore;

/// A uniform draw in [0, 1) with 53 random bits.
fn uniform<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Draws the split part `A` of cluster `s`.
fn draw_split<R: RngCore + ?Sized>(tr: &GinkgoTrellis<'_>, s: Mask, rng: &mut R) -> Mask {
    let log_zs = tr.log_z(s);
    let u = uniform(rng);
    let mut cum = 0.0;
    let mut last = 0;
    for a in mask::splits(s) {
        let b = s ^ a;
        let lw = tr.split_llh(a, b) + tr.log_z(a) + tr.log_z(b);
        if lw == f64::NEG_INFINITY {
            continue;
        }
        last = a;
        cum += math::exp(lw - log_zs);
        if u < cum {
            return a;
        }
    }
    // Rounding can leave the cumulative sum a hair below 1: the last finite split takes it.
    last
}

/// Samples one tree from the posterior of a solved trellis into `out` (pre-order `(S, A)`
/// nodes, room for `n − 1`) and returns the number of nodes, or `None` when no tree is finite.
pub fn sample_tree<R: RngCore + ?Sized>(
    tr: &GinkgoTrellis<'_>,
    rng: &mut R,
    out: &mut [(Mask, Mask)],
) -> Option<usize> {
    let root = mask::full(tr.leaves());
    if tr.count(root) == 0 {
        return None;
    }
    Some(crate::tree::preorder(root, out, |s| draw_split(tr, s, rng)))
}
