//! Generalised-kt sequential recombination (kt, Cambridge/Aachen, anti-kt) with FastJet's
//! conventions, reproducing FastJet 3.5's `N2Plain` strategy step for step, so that merge
//! histories (ties included) equal FastJet's for the small N of this project.
//!
//! Conventions (FastJet `PseudoJet` / `ClusterSequence`):
//! - rapidity `y = ½ ln((kt² + max(m², 0)) / (E + |pz|)²)`, negated for pz > 0, and
//!   `±(10⁵ + |pz|)` for a particle with kt = 0 and E = |pz|; φ = atan2(py, px) in [0, 2π)
//!   (0 when kt = 0);
//! - `ΔR² = Δy² + Δφ²` with `Δφ = |φ_i − φ_j|`, replaced by `2π − Δφ` when above π;
//! - `d_ij = min(s_i, s_j)·ΔR²/R²`, `d_iB = s_i`, with the scale `s` = kt² (kt), 1 (C/A),
//!   1/kt² (anti-kt; 10³⁰⁰ when kt² ≤ 10⁻³⁰⁰);
//! - E-scheme recombination (four-vector sum);
//! - the nearest-neighbour bookkeeping of FastJet's `_simple_N2_cluster`, whose strict `<`
//!   comparisons and slot reuse decide every tie.
//!
//! The elementary functions come from the platform's C library (Rust's `f64::ln`, `atan2`), as
//! in FastJet, so that rapidities and angles agree to the last bit.

use jettrellis_core::Momentum;

const PI: f64 = std::f64::consts::PI;
const TWO_PI: f64 = 2.0 * std::f64::consts::PI;
/// FastJet's `MaxRap`: rapidity assigned (plus |pz|) to a particle along the beam.
const MAX_RAP: f64 = 1e5;

/// The member of the generalised-kt family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KtAlgo {
    /// kt algorithm (p = 1).
    Kt,
    /// Cambridge/Aachen (p = 0).
    Ca,
    /// anti-kt (p = −1).
    AntiKt,
}

impl KtAlgo {
    /// FastJet's `jet_scale_for_algorithm`: the per-jet factor `s` of `d_ij` and `d_iB`.
    fn scale(self, kt2: f64) -> f64 {
        match self {
            KtAlgo::Kt => kt2,
            KtAlgo::Ca => 1.0,
            KtAlgo::AntiKt => {
                if kt2 > 1e-300 {
                    1.0 / kt2
                } else {
                    1e300
                }
            }
        }
    }
}

/// The clustering history, in FastJet's order.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Pairwise merges `(a, b, d_ij)` with `a < b` (jet indices: leaves `0..N`, merge `k`
    /// creates jet `N + k`).
    pub merges: Vec<(usize, usize, f64)>,
    /// Beam recombinations `(jet, d_iB)`: the inclusive jets, in the order they were found.
    pub inclusive: Vec<(usize, f64)>,
}

/// FastJet's rapidity of a four-momentum (see the module docs).
pub fn rapidity(p: &Momentum) -> f64 {
    let (e, pz) = (p[0], p[3]);
    let kt2 = p[1] * p[1] + p[2] * p[2];
    if e == pz.abs() && kt2 == 0.0 {
        let r = MAX_RAP + pz.abs();
        return if pz >= 0.0 { r } else { -r };
    }
    let m2 = (e + pz) * (e - pz) - kt2;
    let e_plus_pz = e + pz.abs();
    let y = 0.5 * ((kt2 + m2.max(0.0)) / (e_plus_pz * e_plus_pz)).ln();
    if pz > 0.0 {
        -y
    } else {
        y
    }
}

/// FastJet's azimuth in [0, 2π).
pub fn phi_02pi(p: &Momentum) -> f64 {
    let kt2 = p[1] * p[1] + p[2] * p[2];
    let mut phi = if kt2 == 0.0 { 0.0 } else { p[2].atan2(p[1]) };
    if phi < 0.0 {
        phi += TWO_PI;
    }
    if phi >= TWO_PI {
        phi -= TWO_PI;
    }
    phi
}

/// FastJet's `BriefJet`.
#[derive(Clone, Copy, Debug)]
struct Brief {
    eta: f64,
    phi: f64,
    kt2: f64,
    jet: usize,
    nn_dist: f64,
    nn: Option<usize>,
}

/// The clustering state: recombined jets and the brief jets still active (slots `0..tail`).
struct N2 {
    algo: KtAlgo,
    r2: f64,
    jets: Vec<Momentum>,
    bj: Vec<Brief>,
}

impl N2 {
    fn info(&self, jet: usize) -> Brief {
        let p = &self.jets[jet];
        Brief {
            eta: rapidity(p),
            phi: phi_02pi(p),
            kt2: self.algo.scale(p[1] * p[1] + p[2] * p[2]),
            jet,
            nn_dist: self.r2,
            nn: None,
        }
    }

    fn dist(&self, a: usize, b: usize) -> f64 {
        let (a, b) = (&self.bj[a], &self.bj[b]);
        let mut dphi = (a.phi - b.phi).abs();
        let deta = a.eta - b.eta;
        if dphi > PI {
            dphi = TWO_PI - dphi;
        }
        dphi * dphi + deta * deta
    }

    fn dij(&self, i: usize) -> f64 {
        let b = &self.bj[i];
        let mut kt2 = b.kt2;
        if let Some(nn) = b.nn {
            if self.bj[nn].kt2 < kt2 {
                kt2 = self.bj[nn].kt2;
            }
        }
        b.nn_dist * kt2
    }

    /// Nearest neighbour of `jet` among slots `begin..end`, updating theirs on the way.
    fn set_nn_crosscheck(&mut self, jet: usize, begin: usize, end: usize) {
        let (mut nn_dist, mut nn) = (self.r2, None);
        for j in begin..end {
            let d = self.dist(jet, j);
            if d < nn_dist {
                nn_dist = d;
                nn = Some(j);
            }
            if d < self.bj[j].nn_dist {
                self.bj[j].nn_dist = d;
                self.bj[j].nn = Some(jet);
            }
        }
        self.bj[jet].nn = nn;
        self.bj[jet].nn_dist = nn_dist;
    }

    /// Nearest neighbour of `jet` among slots `0..tail` other than itself.
    fn set_nn_nocross(&mut self, jet: usize, tail: usize) {
        let (mut nn_dist, mut nn) = (self.r2, None);
        for j in (0..jet).chain(jet + 1..tail) {
            let d = self.dist(jet, j);
            if d < nn_dist {
                nn_dist = d;
                nn = Some(j);
            }
        }
        self.bj[jet].nn = nn;
        self.bj[jet].nn_dist = nn_dist;
    }
}

/// Clusters `particles` with radius `r` (> 0). Returns FastJet's history: `N − k` merges and `k`
/// inclusive jets.
pub fn cluster(particles: &[Momentum], algo: KtAlgo, r: f64) -> History {
    let n0 = particles.len();
    let r2 = r * r;
    let inv_r2 = 1.0 / r2;
    let mut st = N2 {
        algo,
        r2,
        jets: particles.to_vec(),
        bj: Vec::with_capacity(n0),
    };
    for i in 0..n0 {
        let b = st.info(i);
        st.bj.push(b);
    }
    for a in 1..n0 {
        st.set_nn_crosscheck(a, 0, a);
    }
    let mut dij: Vec<f64> = (0..n0).map(|i| st.dij(i)).collect();
    let mut hist = History {
        merges: Vec::with_capacity(n0),
        inclusive: Vec::new(),
    };
    let mut tail = n0;
    while tail != 0 {
        let (mut d_min, mut a) = (dij[0], 0);
        for (i, &d) in dij.iter().enumerate().take(tail).skip(1) {
            if d < d_min {
                a = i;
                d_min = d;
            }
        }
        let d_min = d_min * inv_r2;
        let mut b = st.bj[a].nn;
        if let Some(mut bb) = b {
            // The surviving slot is the lower one, so the freed (higher) slot can be refilled
            // from the tail.
            if a < bb {
                std::mem::swap(&mut a, &mut bb);
            }
            let (ja, jb) = (st.bj[a].jet, st.bj[bb].jet);
            let pa = st.jets[ja];
            let pb = st.jets[jb];
            st.jets
                .push([pa[0] + pb[0], pa[1] + pb[1], pa[2] + pb[2], pa[3] + pb[3]]);
            hist.merges.push((ja.min(jb), ja.max(jb), d_min));
            let nn = st.jets.len() - 1;
            st.bj[bb] = st.info(nn);
            b = Some(bb);
        } else {
            hist.inclusive.push((st.bj[a].jet, d_min));
        }
        tail -= 1;
        st.bj[a] = st.bj[tail];
        dij[a] = dij[tail];
        for (i, dij_i) in dij.iter_mut().enumerate().take(tail) {
            // With a beam step `b` is None, so jets without a neighbour are revisited too, as
            // in FastJet (where the comparison is with a null pointer).
            if st.bj[i].nn == Some(a) || st.bj[i].nn == b {
                st.set_nn_nocross(i, tail);
                *dij_i = st.dij(i);
            }
            if let Some(bb) = b {
                let d = st.dist(i, bb);
                if d < st.bj[i].nn_dist && i != bb {
                    st.bj[i].nn_dist = d;
                    st.bj[i].nn = Some(bb);
                    *dij_i = st.dij(i);
                }
                if d < st.bj[bb].nn_dist && i != bb {
                    st.bj[bb].nn_dist = d;
                    st.bj[bb].nn = Some(i);
                }
            }
            if st.bj[i].nn == Some(tail) {
                st.bj[i].nn = Some(a);
            }
        }
        if let Some(bb) = b {
            dij[bb] = st.dij(bb);
        }
    }
    hist
}

impl History {
    /// The tree over `n` leaves as core inner nodes: the merges, then (when several inclusive
    /// jets remain) the inclusive jets joined one by one in the order FastJet found them.
    pub fn nodes(&self, n: usize) -> Vec<(jettrellis_core::Mask, jettrellis_core::Mask)> {
        use jettrellis_core::{mask, Mask};
        let mut masks: Vec<Mask> = (0..n).map(|i| 1 << i).collect();
        let mut nodes = Vec::with_capacity(n.saturating_sub(1));
        let join = |x: Mask, y: Mask, nodes: &mut Vec<(Mask, Mask)>| {
            let s = x | y;
            nodes.push((s, if x & mask::lowest(s) != 0 { x } else { y }));
            s
        };
        for &(a, b, _) in &self.merges {
            let s = join(masks[a], masks[b], &mut nodes);
            masks.push(s);
        }
        let mut acc: Option<Mask> = None;
        for &(j, _) in &self.inclusive {
            acc = Some(match acc {
                None => masks[j],
                Some(x) => join(x, masks[j], &mut nodes),
            });
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ptyphim(pt: f64, y: f64, phi: f64, m: f64) -> Momentum {
        let mt = (pt * pt + m * m).sqrt();
        [mt * y.cosh(), pt * phi.cos(), pt * phi.sin(), mt * y.sinh()]
    }

    #[test]
    fn one_and_two_particles() {
        let p = ptyphim(10.0, 0.5, 1.0, 0.0);
        let h = cluster(&[p], KtAlgo::Kt, 0.4);
        assert!(h.merges.is_empty());
        assert_eq!(h.inclusive.len(), 1);
        assert!((h.inclusive[0].1 - 100.0).abs() < 1e-9);
        assert!(cluster(&[], KtAlgo::Kt, 0.4).merges.is_empty());
        let q = ptyphim(5.0, 0.6, 1.1, 0.0);
        let h = cluster(&[p, q], KtAlgo::Kt, 0.4);
        assert_eq!(h.merges.len(), 1);
        assert_eq!((h.merges[0].0, h.merges[0].1), (0, 1));
        let dr2 = (rapidity(&p) - rapidity(&q)).powi(2) + 0.1f64.powi(2);
        assert!((h.merges[0].2 - 25.0 * dr2 / 0.16).abs() < 1e-9);
        // Far apart: two inclusive jets, the softer first for kt, the harder for anti-kt.
        let q = ptyphim(5.0, 3.0, 4.0, 0.0);
        let h = cluster(&[p, q], KtAlgo::Kt, 0.4);
        assert!(h.merges.is_empty());
        assert_eq!(h.inclusive.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 0]);
        let h = cluster(&[p, q], KtAlgo::AntiKt, 0.4);
        assert_eq!(h.inclusive.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(h.nodes(2), vec![(0b11, 0b01)]);
    }

    #[test]
    fn phi_wraps_around() {
        let a = ptyphim(10.0, 0.0, 0.05, 0.0);
        let b = ptyphim(10.0, 0.0, 2.0 * PI - 0.05, 0.0);
        let c = ptyphim(10.0, 0.0, 0.5, 0.0);
        assert!(phi_02pi(&b) < TWO_PI && phi_02pi(&b) > 6.0);
        let h = cluster(&[a, b, c], KtAlgo::Ca, 1.0);
        // a and b are 0.1 apart across φ = 0; c is 0.45 from a.
        assert_eq!((h.merges[0].0, h.merges[0].1), (0, 1));
        assert!((h.merges[0].2 - 0.01).abs() < 1e-9);
        assert_eq!(phi_02pi(&[1.0, 0.0, 0.0, 1.0]), 0.0);
        assert_eq!(phi_02pi(&[1.0, 1.0, -0.0, 0.0]), 0.0);
    }

    #[test]
    fn identical_particles_and_ties() {
        let p = ptyphim(10.0, 0.3, 2.0, 1.0);
        let h = cluster(&[p, p, p, p], KtAlgo::Kt, 0.7);
        assert_eq!(h.merges.len(), 3);
        assert_eq!(h.merges[0].2, 0.0);
        // Four particles on a square: every nearest distance ties.
        let sq = [
            ptyphim(10.0, 0.0, 1.0, 0.0),
            ptyphim(10.0, 0.2, 1.0, 0.0),
            ptyphim(10.0, 0.0, 1.2, 0.0),
            ptyphim(10.0, 0.2, 1.2, 0.0),
        ];
        let h = cluster(&sq, KtAlgo::Ca, 1.0);
        assert_eq!(h.merges.len(), 3);
        assert!(h.inclusive.len() == 1);
    }

    #[test]
    fn zero_pt_particles() {
        let soft = [0.0, 0.0, 0.0, 0.0];
        let along = [3.0, 0.0, 0.0, 3.0];
        let p = ptyphim(10.0, 0.0, 1.0, 0.0);
        assert_eq!(rapidity(&along), MAX_RAP + 3.0);
        assert_eq!(rapidity(&[3.0, 0.0, 0.0, -3.0]), -MAX_RAP - 3.0);
        for algo in [KtAlgo::Kt, KtAlgo::Ca, KtAlgo::AntiKt] {
            let h = cluster(&[p, soft, along], algo, 0.4);
            assert_eq!(h.merges.len() + h.inclusive.len(), 3);
            let nodes = h.nodes(3);
            jettrellis_core::tree::validate(3, &nodes).unwrap();
        }
        assert_eq!(KtAlgo::AntiKt.scale(0.0), 1e300);
    }
}
