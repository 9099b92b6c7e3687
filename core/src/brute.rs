//! Brute force over all `(2N − 3)!!` hierarchies, for N ≤ [`MAX_BRUTE_LEAVES`]: the test
//! oracle of the trellis.

use crate::ginkgo::{self, GinkgoParams, Momentum};
use crate::mask::{self, Mask};
use crate::math;
use crate::tree;
use crate::trellis::TrellisResult;

/// Largest N enumerated (2,027,025 trees).
pub const MAX_BRUTE_LEAVES: usize = 9;

/// Calls `visit` with the inner nodes `(S, A)` of every binary hierarchy over `n` leaves, each
/// exactly once. `n` must be between 1 and [`MAX_BRUTE_LEAVES`].
pub fn for_each_tree(n: usize, mut visit: impl FnMut(&[(Mask, Mask)])) {
    assert!(
        (1..=MAX_BRUTE_LEAVES).contains(&n),
        "brute force takes 1..=9 leaves"
    );
    let mut open = [0 as Mask; MAX_BRUTE_LEAVES];
    open[0] = mask::full(n);
    let mut nodes = [(0, 0); MAX_BRUTE_LEAVES];
    grow(&mut open, 1, &mut nodes, 0, &mut visit);
}

/// Splits the last open cluster every possible way and recurses on the rest.
fn grow(
    open: &mut [Mask; MAX_BRUTE_LEAVES],
    n_open: usize,
    nodes: &mut [(Mask, Mask); MAX_BRUTE_LEAVES],
    n_nodes: usize,
    visit: &mut impl FnMut(&[(Mask, Mask)]),
) {
    let Some(top) = n_open.checked_sub(1) else {
        visit(&nodes[..n_nodes]);
        return;
    };
    let s = open[top];
    if s.count_ones() < 2 {
        grow(open, top, nodes, n_nodes, visit);
        open[top] = s;
        return;
    }
    for a in mask::splits(s) {
        nodes[n_nodes] = (s, a);
        open[top] = a;
        open[top + 1] = s ^ a;
        grow(open, top + 2, nodes, n_nodes + 1, visit);
    }
    open[top] = s;
}

/// log Z, MAP value, finite-tree count and one MAP tree by enumerating every tree.
pub fn solve(leaves: &[Momentum], params: &GinkgoParams) -> (TrellisResult, [(Mask, Mask); 8]) {
    let n = leaves.len();
    let mut t = [0.0f64; 1 << MAX_BRUTE_LEAVES];
    for s in 1..=mask::full(n) {
        t[s as usize] = tree::cluster_t(leaves, s);
    }
    let root = mask::full(n);
    let (mut zmax, mut zsum) = (f64::NEG_INFINITY, 0.0f64);
    let mut best = (f64::NEG_INFINITY, [(0, 0); 8]);
    let mut count = 0u128;
    for_each_tree(n, |nodes| {
        let l: f64 = nodes
            .iter()
            .map(|&(s, a)| {
                ginkgo::split_llh(
                    t[a as usize],
                    t[(s ^ a) as usize],
                    t[s as usize],
                    params.lambda_for(s == root),
                    params.t_cut,
                )
            })
            .sum();
        if l == f64::NEG_INFINITY {
            return;
        }
        count += 1;
        if l > best.0 {
            best.0 = l;
            best.1[..nodes.len()].copy_from_slice(nodes);
        }
        if l > zmax {
            zsum = zsum * math::exp(zmax - l) + 1.0;
            zmax = l;
        } else {
            zsum += math::exp(l - zmax);
        }
    });
    let log_z = if count == 0 {
        f64::NEG_INFINITY
    } else {
        zmax + math::ln(zsum)
    };
    (
        TrellisResult {
            log_z,
            map_llh: best.0,
            n_trees: count,
        },
        best.1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerates_double_factorial_many_distinct_valid_trees() {
        for n in 1..=7usize {
            let mut k = 0u64;
            for_each_tree(n, |nodes| {
                assert_eq!(tree::validate(n, nodes), Ok(()));
                k += 1;
            });
            assert_eq!(k as u128, tree::count(n), "n = {n}");
        }
    }
}
