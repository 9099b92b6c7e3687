//! Approximate MAP trees under the Ginkgo likelihood: greedy agglomerative clustering and beam
//! search, as used as baselines in the Cluster Trellis and A* papers (arXiv:2002.11661,
//! 2104.07061).
//!
//! Both work bottom-up on a forest of clusters; merging clusters `A` and `B` adds
//! `ψ(A, B)` (leaves at t = 0, λ_root for the merge that makes the whole jet). Trees are
//! returned as core inner-node lists, sorted so that the same tree always has the same list
//! (and the same floating-point log-likelihood).

use crate::cluster::Algo;
use crate::jets::SourcedJet;
use crate::kt::{self, KtAlgo};
use crate::{io, trees};
use anyhow::{bail, Result};
use jettrellis_core::{ginkgo, mask, tree, GinkgoParams, Mask, Momentum};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Default beam width of `--algo beam` and `compare`.
pub const DEFAULT_BEAM_WIDTH: usize = 10;

/// Default radius of the kt family: large enough that no particle of a jet is ever closer to
/// the beam than to another particle, so every jet ends as a single tree.
pub const DEFAULT_RADIUS: f64 = 1000.0;

/// A tree as core inner nodes `(S, A)`.
pub type Nodes = Vec<(Mask, Mask)>;

/// Largest jet the baselines take: trees are 32-bit leaf masks.
pub const MAX_BASELINE_LEAVES: usize = 32;

/// A cluster of the forest.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cluster {
    mask: Mask,
    p: Momentum,
    /// Mass² as the likelihood sees it: 0 for a leaf.
    t: f64,
}

fn leaves_forest(leaves: &[Momentum]) -> Vec<Cluster> {
    leaves
        .iter()
        .enumerate()
        .map(|(i, p)| Cluster {
            mask: 1 << i,
            p: *p,
            t: 0.0,
        })
        .collect()
}

/// ψ of merging `a` and `b` into a cluster of momentum `p`, mass² `t`.
fn merge_llh(a: &Cluster, b: &Cluster, t: f64, full: Mask, params: &GinkgoParams) -> f64 {
    ginkgo::split_llh(
        a.t,
        b.t,
        t,
        params.lambda_for(a.mask | b.mask == full),
        params.t_cut,
    )
}

/// Merges clusters `i < j` of `forest` (the result takes position `i`) and returns the new
/// inner node.
fn merge(forest: &mut Vec<Cluster>, i: usize, j: usize) -> (Mask, Mask) {
    let (a, b) = (forest[i], forest[j]);
    let p = ginkgo::add(&a.p, &b.p);
    let s = a.mask | b.mask;
    forest[i] = Cluster {
        mask: s,
        p,
        t: ginkgo::mass2(&p),
    };
    forest.remove(j);
    let part = if a.mask & mask::lowest(s) != 0 {
        a.mask
    } else {
        b.mask
    };
    (s, part)
}

/// Sorts a tree's inner nodes into the canonical order (by cluster mask).
pub fn canonical(mut nodes: Vec<(Mask, Mask)>) -> Vec<(Mask, Mask)> {
    nodes.sort_unstable();
    nodes
}

/// Log-likelihood of a tree, summed in canonical node order so that equal trees score equal.
pub fn score(leaves: &[Momentum], params: &GinkgoParams, nodes: &[(Mask, Mask)]) -> f64 {
    tree::llh(leaves, params, &canonical(nodes.to_vec()))
}

/// Greedy agglomerative clustering: at each step merge the pair of clusters with the highest
/// ψ; ties go to the first pair `(i, j)`, `i < j`, in forest order (leaves in index order, a
/// merged cluster taking its first part's place). Returns the canonical inner nodes.
pub fn greedy(leaves: &[Momentum], params: &GinkgoParams) -> Vec<(Mask, Mask)> {
    greedy_path(leaves, params).0
}

/// Greedy clustering, also returning the forest's partition (sorted masks) after each step.
fn greedy_path(leaves: &[Momentum], params: &GinkgoParams) -> (Vec<(Mask, Mask)>, Vec<Vec<Mask>>) {
    let full = mask::full(leaves.len());
    let mut forest = leaves_forest(leaves);
    let mut nodes = Vec::with_capacity(leaves.len().saturating_sub(1));
    let mut path = Vec::with_capacity(leaves.len().saturating_sub(1));
    while forest.len() > 1 {
        let mut best = (f64::NEG_INFINITY, 0, 1);
        for i in 0..forest.len() {
            for j in i + 1..forest.len() {
                let t = ginkgo::mass2(&ginkgo::add(&forest[i].p, &forest[j].p));
                let v = merge_llh(&forest[i], &forest[j], t, full, params);
                if v > best.0 {
                    best = (v, i, j);
                }
            }
        }
        nodes.push(merge(&mut forest, best.1, best.2));
        path.push(key(&forest));
    }
    (canonical(nodes), path)
}

/// The partition of a forest as sorted masks: states with equal keys have the same future.
fn key(forest: &[Cluster]) -> Vec<Mask> {
    let mut k: Vec<Mask> = forest.iter().map(|c| c.mask).collect();
    k.sort_unstable();
    k
}

/// A partial clustering in the beam.
#[derive(Clone, Debug)]
struct State {
    forest: Vec<Cluster>,
    nodes: Vec<(Mask, Mask)>,
    llh: f64,
}

/// Beam search of width `width` (≥ 1): at each step every state of the beam is extended by
/// every merge, and the `width` best distinct partial clusterings are kept. Two states with the
/// same partition into clusters have the same possible futures, so only the better one is kept.
/// The greedy path is always kept (replacing the worst state if it fell out), so the result is
/// never worse than [`greedy`]. Ties rank by (state, i, j) order, so width 1 is greedy.
pub fn beam(leaves: &[Momentum], params: &GinkgoParams, width: usize) -> Vec<(Mask, Mask)> {
    assert!(width >= 1, "beam width must be at least 1");
    let full = mask::full(leaves.len());
    let (_, greedy_keys) = greedy_path(leaves, params);
    let mut states = vec![State {
        forest: leaves_forest(leaves),
        nodes: Vec::new(),
        llh: 0.0,
    }];
    for greedy_key in &greedy_keys {
        // (score, state, i, j) of every extension.
        let mut cand: Vec<(f64, usize, usize, usize)> = Vec::new();
        for (si, st) in states.iter().enumerate() {
            let f = &st.forest;
            for i in 0..f.len() {
                for j in i + 1..f.len() {
                    let t = ginkgo::mass2(&ginkgo::add(&f[i].p, &f[j].p));
                    cand.push((st.llh + merge_llh(&f[i], &f[j], t, full, params), si, i, j));
                }
            }
        }
        // Stable sort: equal scores keep (state, i, j) order.
        cand.sort_by(|x, y| y.0.total_cmp(&x.0));
        let mut next: Vec<State> = Vec::with_capacity(width);
        let mut seen: HashMap<Vec<Mask>, ()> = HashMap::new();
        let mut greedy_kept = false;
        let mut greedy_spare: Option<State> = None;
        for &(v, si, i, j) in &cand {
            let mut st = states[si].clone();
            let node = merge(&mut st.forest, i, j);
            let k = key(&st.forest);
            if seen.insert(k.clone(), ()).is_some() {
                continue;
            }
            st.nodes.push(node);
            st.llh = v;
            let is_greedy = &k == greedy_key;
            if next.len() < width {
                greedy_kept |= is_greedy;
                next.push(st);
            } else if is_greedy {
                greedy_spare = Some(st);
                break;
            }
            if next.len() == width && greedy_kept {
                break;
            }
        }
        if let (false, Some(g)) = (greedy_kept, greedy_spare) {
            *next.last_mut().expect("width >= 1") = g;
        }
        states = next;
    }
    let best = states
        .into_iter()
        .next()
        .map(|s| s.nodes)
        .unwrap_or_default();
    canonical(best)
}

/// Options of the baselines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Beam width (≥ 1).
    pub beam_width: usize,
    /// kt-family radius (finite, > 0).
    pub radius: f64,
}

impl Options {
    /// Checked options.
    pub fn new(beam_width: usize, radius: f64) -> Result<Self> {
        if beam_width == 0 {
            bail!("command line: --beam-width must be >= 1");
        }
        if !(radius.is_finite() && radius > 0.0) {
            bail!("command line: --radius must be finite and > 0, found {radius}");
        }
        Ok(Options { beam_width, radius })
    }
}

/// One baseline result, as written by `cluster --algo greedy|beam|kt|ca|antikt`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BaselineRecord {
    /// The jet's id, else its 0-based index.
    pub id: serde_json::Value,
    /// `greedy`, `beam`, `kt`, `ca` or `antikt`.
    pub algo: &'static str,
    /// The tree, nested leaf indices (part holding the lowest leaf first).
    pub tree: serde_json::Value,
    /// Ginkgo log-likelihood of `tree` (null for −∞).
    pub llh: Option<f64>,
    /// kt family: `[a, b, d_ij]` per pairwise merge, FastJet order (merge k creates node N+k).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merges: Option<Vec<(usize, usize, f64)>>,
    /// kt family: `[node, d_iB]` per beam recombination (the inclusive jets), FastJet order.
    /// With several, `tree` joins them in this order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusive_jets: Option<Vec<(usize, f64)>>,
}

/// Name of a baseline in outputs.
pub fn algo_name(algo: Algo) -> &'static str {
    match algo {
        Algo::Trellis => "trellis",
        Algo::Greedy => "greedy",
        Algo::Beam => "beam",
        Algo::Kt => "kt",
        Algo::Ca => "ca",
        Algo::Antikt => "antikt",
    }
}

/// Runs baseline `algo` on one jet: the record and the tree's canonical inner nodes.
pub fn solve_jet(
    jet: &SourcedJet,
    defaults: &GinkgoParams,
    algo: Algo,
    opts: &Options,
) -> Result<(BaselineRecord, Nodes)> {
    let leaves = &jet.jet.leaves;
    let n = leaves.len();
    if n > MAX_BASELINE_LEAVES {
        bail!(
            "jet {} (line {}): {n} leaves; the baselines take at most {MAX_BASELINE_LEAVES}",
            jet.output_id(),
            jet.line
        );
    }
    let params = jet.params(defaults);
    params
        .validate()
        .map_err(|e| anyhow::anyhow!("jet {} (line {}): {e}", jet.output_id(), jet.line))?;
    let by_kt = |k: KtAlgo| {
        let h = kt::cluster(leaves, k, opts.radius);
        (canonical(h.nodes(n)), Some(h.merges), Some(h.inclusive))
    };
    let (nodes, merges, inclusive) = match algo {
        Algo::Trellis => bail!("the trellis is not a baseline (see cluster::solve_all)"),
        Algo::Greedy => (greedy(leaves, &params), None, None),
        Algo::Beam => (beam(leaves, &params, opts.beam_width), None, None),
        Algo::Kt => by_kt(KtAlgo::Kt),
        Algo::Ca => by_kt(KtAlgo::Ca),
        Algo::Antikt => by_kt(KtAlgo::AntiKt),
    };
    let llh = score(leaves, &params, &nodes);
    Ok((
        BaselineRecord {
            id: jet.output_id(),
            algo: algo_name(algo),
            tree: trees::to_nested(&nodes, n),
            llh: llh.is_finite().then_some(llh),
            merges,
            inclusive_jets: inclusive,
        },
        nodes,
    ))
}

/// Runs baseline `algo` on every jet (in parallel, output in input order).
pub fn solve_all(
    jets: &[SourcedJet],
    defaults: &GinkgoParams,
    algo: Algo,
    opts: &Options,
) -> Result<Vec<(BaselineRecord, Nodes)>> {
    let pb = io::progress(jets.len() as u64, algo_name(algo));
    let out = jets
        .par_iter()
        .map(|j| {
            let r = solve_jet(j, defaults, algo, opts);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jettrellis_core::brute;

    fn jet(n: usize, seed: u64) -> Vec<Momentum> {
        crate::bench::synthetic_jet(n, seed)
    }

    #[test]
    fn greedy_and_beam_make_valid_trees_and_beam_wins() {
        let params = GinkgoParams::default();
        for n in 1..=7 {
            for seed in 0..20 {
                let l = jet(n, seed);
                let g = greedy(&l, &params);
                tree::validate(n, &g).unwrap();
                let mut best = f64::NEG_INFINITY;
                brute::for_each_tree(n, |t| best = best.max(tree::llh(&l, &params, t)));
                let gl = score(&l, &params, &g);
                for w in [1, 2, 5, 50] {
                    let b = beam(&l, &params, w);
                    tree::validate(n, &b).unwrap();
                    let bl = score(&l, &params, &b);
                    if w == 1 {
                        assert_eq!(b, g);
                    }
                    assert!(bl >= gl, "n {n} seed {seed} w {w}: {bl} < greedy {gl}");
                    assert!(best >= bl - 1e-9 * bl.abs().max(1.0));
                }
                // A beam as wide as all partitions is exact.
                let b = beam(&l, &params, 10_000);
                let bl = score(&l, &params, &b);
                assert!((bl - best).abs() <= 1e-9 * best.abs().max(1.0) || best == bl);
            }
        }
    }

    #[test]
    fn greedy_merges_the_best_pair_first() {
        let params = GinkgoParams::default();
        let l = jet(4, 7);
        let g = greedy(&l, &params);
        let full = mask::full(4);
        let forest = leaves_forest(&l);
        let mut best = (f64::NEG_INFINITY, 0);
        for i in 0..4 {
            for j in i + 1..4 {
                let t = ginkgo::mass2(&ginkgo::add(&l[i], &l[j]));
                let v = merge_llh(&forest[i], &forest[j], t, full, &params);
                if v > best.0 {
                    best = (v, (1 << i) | (1 << j));
                }
            }
        }
        assert!(g.iter().any(|n| n.0 == best.1));
    }
}
