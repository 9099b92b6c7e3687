//! Binary hierarchies over leaf subsets: a tree over `n` leaves is its `n − 1` inner nodes, each
//! an `(S, A)` pair (the cluster and the child holding its lowest leaf; the other child is
//! `S ∖ A`). Scoring a tree under the Ginkgo likelihood needs no trellis.

use crate::ginkgo::{self, GinkgoParams, Momentum};
use crate::mask::{self, Mask};

/// Why a list of inner nodes is not a binary hierarchy over all leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// A tree over `n` leaves has `n − 1` inner nodes.
    WrongNodeCount {
        /// Inner nodes needed.
        expected: usize,
        /// Inner nodes given.
        found: usize,
    },
    /// An inner node's parts are empty, overlap, or do not come from splitting an open cluster.
    NotAHierarchy {
        /// The offending cluster.
        cluster: Mask,
    },
}

impl core::fmt::Display for TreeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TreeError::WrongNodeCount { expected, found } => {
                write!(f, "a tree needs {expected} inner nodes, found {found}")
            }
            TreeError::NotAHierarchy { cluster } => {
                write!(
                    f,
                    "cluster {cluster:#b} is not split into two parts of the tree"
                )
            }
        }
    }
}

/// The number of binary hierarchies over `n` leaves, `(2n − 3)!!` (1 for `n ≤ 1`).
pub fn count(n: usize) -> u128 {
    (1..n as u128).map(|k| 2 * k - 1).product()
}

/// Writes the tree reachable from `root` in pre-order, asking `split(S)` for the part `A` of
/// each inner node `S`, and returns the number of inner nodes written.
pub fn preorder(
    root: Mask,
    out: &mut [(Mask, Mask)],
    mut split: impl FnMut(Mask) -> Mask,
) -> usize {
    let mut stack = [0 as Mask; 32];
    let mut sp = 0;
    let mut len = 0;
    stack[sp] = root;
    sp += 1;
    while sp > 0 {
        sp -= 1;
        let s = stack[sp];
        if s.count_ones() < 2 {
            continue;
        }
        let a = split(s);
        out[len] = (s, a);
        len += 1;
        stack[sp] = s ^ a;
        stack[sp + 1] = a;
        sp += 2;
    }
    len
}

/// Checks that `nodes` is a binary hierarchy over all `n` leaves: walking down from the whole
/// set, every cluster of two or more leaves is split by exactly one node into two non-empty
/// parts. (A complete walk meets exactly `n − 1` distinct clusters, so with `n − 1` nodes every
/// node is used.)
pub fn validate(n: usize, nodes: &[(Mask, Mask)]) -> Result<(), TreeError> {
    if nodes.len() + 1 != n {
        return Err(TreeError::WrongNodeCount {
            expected: n.saturating_sub(1),
            found: nodes.len(),
        });
    }
    let mut stack = [0 as Mask; 33];
    let mut sp = 1;
    stack[0] = mask::full(n);
    while sp > 0 {
        sp -= 1;
        let s = stack[sp];
        if s.count_ones() < 2 {
            continue;
        }
        let mut found = nodes.iter().filter(|x| x.0 == s);
        let (Some(&(_, a)), None) = (found.next(), found.next()) else {
            return Err(TreeError::NotAHierarchy { cluster: s });
        };
        if a == 0 || a == s || a & !s != 0 {
            return Err(TreeError::NotAHierarchy { cluster: s });
        }
        stack[sp] = a;
        stack[sp + 1] = s ^ a;
        sp += 2;
    }
    Ok(())
}

/// Mass² of a cluster: 0 for a single leaf, `m²` of the summed leaf momenta otherwise.
pub fn cluster_t(leaves: &[Momentum], s: Mask) -> f64 {
    if s.count_ones() < 2 {
        return 0.0;
    }
    let mut p = [0.0; 4];
    for i in mask::leaves(s) {
        p = ginkgo::add(&p, &leaves[i]);
    }
    ginkgo::mass2(&p)
}

/// Log-likelihood `ℓ(H) = Σ ψ` of a tree given by its inner nodes; λ_root applies at the
/// node whose cluster is the whole jet. The tree must be valid (see [`validate`]).
pub fn llh(leaves: &[Momentum], params: &GinkgoParams, nodes: &[(Mask, Mask)]) -> f64 {
    let root = mask::full(leaves.len());
    nodes
        .iter()
        .map(|&(s, a)| {
            ginkgo::split_llh(
                cluster_t(leaves, a),
                cluster_t(leaves, s ^ a),
                cluster_t(leaves, s),
                params.lambda_for(s == root),
                params.t_cut,
            )
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preorder_visits_root_then_left() {
        // ((0,1),(2,3)) with A always holding the lowest leaf.
        let mut out = [(0, 0); 3];
        let n = preorder(0b1111, &mut out, |s| match s {
            0b1111 => 0b0011,
            0b0011 => 0b0001,
            0b1100 => 0b0100,
            _ => unreachable!(),
        });
        assert_eq!(n, 3);
        assert_eq!(out, [(0b1111, 0b0011), (0b0011, 0b0001), (0b1100, 0b0100)]);
        assert_eq!(validate(4, &out), Ok(()));
    }

    #[test]
    fn validate_rejects_broken_trees() {
        assert!(validate(4, &[(0b1111, 0b0011), (0b0011, 0b0001)]).is_err());
        assert!(validate(4, &[(0b1111, 0b0011), (0b0011, 0b0001), (0b0011, 0b0010)]).is_err());
        assert!(validate(4, &[(0b1111, 0b0011), (0b0011, 0b0001), (0b1110, 0b0100)]).is_err());
        assert!(validate(3, &[(0b111, 0b001), (0b110, 0b000)]).is_err());
        assert_eq!(validate(1, &[]), Ok(()));
    }
}
