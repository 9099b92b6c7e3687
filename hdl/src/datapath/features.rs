//! The tagger features of `jettrellis_core::fixed::features` in hardware, from the subset terms
//! and the first node of the MAP-tree walk (the root split).

use super::{Gen, Sub};
use crate::ir::{Ty, V};
use jettrellis_core::fixed::features::{floor_raw, FEATURES};
use jettrellis_core::fixed::Quantity;

/// ln t of a subset with a "finite" bit (t > 0 and more than one leaf).
#[derive(Clone, Copy)]
struct Ln {
    v: V,
    finite: V,
}

impl Gen<'_> {
    fn feature_ty(&self) -> Ty {
        let f = self.tab.design.format(Quantity::Feature);
        Ty::s(f.bits)
    }

    /// ln t of the subset whose mask `m` carries, by an AND-OR select over every subset.
    fn ln_of(&mut self, m: V, subs: &[Option<Sub>]) -> Ln {
        let lt = subs.iter().flatten().next().expect("N ≥ 2").ln.ty;
        let zero_ln = self.b.constant(0, lt);
        let mut terms = Vec::new();
        let mut finite = Vec::new();
        for (s, sub) in subs.iter().enumerate() {
            let Some(sub) = sub else { continue };
            let here = self.cu(s as u64, m.ty.width);
            let here = self.b.eq(m, here);
            let zt = self.b.constant(0, sub.t.ty);
            let zero = self.b.eq(sub.t, zt);
            let nonzero = self.b.not(zero);
            finite.push(self.b.and(here, nonzero));
            terms.push(self.b.mux(here, sub.ln, zero_ln));
        }
        let v = or_tree(self, &terms);
        let finite = self.b.or_all(&finite);
        Ln { v, finite }
    }

    /// `finite ? max(v, floor) : floor` in the feature format.
    fn clamp_feature(&mut self, v: V, finite: V) -> V {
        let ty = self.feature_ty();
        let floor = self
            .b
            .constant(floor_raw(self.tab.design.internal.log_frac) as i128, ty);
        let v = self.b.resize(v, ty);
        let below = self.b.lt(v, floor);
        let keep = self.b.not(below);
        let ok = self.b.and(finite, keep);
        self.b.mux(ok, v, floor)
    }

    /// `ln t(x) − ln t(jet)`, clamped.
    fn relative(&mut self, x: Ln, jet: Ln) -> V {
        let ty = self.feature_ty();
        let d = self.b.sub(x.v, jet.v, ty);
        let fin = self.b.and(x.finite, jet.finite);
        self.clamp_feature(d, fin)
    }

    /// The features from the root mask `root` (full(n) for n ≥ 2, else 0), the walk's first
    /// node `(s, a)` (s = root, a = its MAP part; both zero without a finite MAP tree, which
    /// makes both children's terms the floor) and the root's MAP value and log Z.
    pub(super) fn features(
        &mut self,
        subs: &[Option<Sub>],
        root: V,
        (s, a): (V, V),
        map: super::Log,
        z: super::Log,
    ) -> [V; FEATURES] {
        let jet = self.ln_of(root, subs);
        let ln_m2 = self.clamp_feature(jet.v, jet.finite);
        let la = self.ln_of(a, subs);
        let b_mask = self.b.xor(s, a);
        let lb = self.ln_of(b_mask, subs);
        let ra = self.relative(la, jet);
        let rb = self.relative(lb, jet);
        let a_lighter = self.b.lt(ra, rb);
        let heavy = self.b.mux(a_lighter, rb, ra);
        let light = self.b.mux(a_lighter, ra, rb);
        let ty = self.feature_ty();
        let diff = self.b.sub(map.v, z.v, ty);
        let map_fin = self.b.not(map.ninf);
        let z_fin = self.b.not(z.ninf);
        let both = self.b.and(map_fin, z_fin);
        let p_map = self.clamp_feature(diff, both);
        [ln_m2, heavy, light, p_map]
    }
}

/// OR of words (at most one is non-zero), as a balanced tree.
fn or_tree(g: &mut Gen<'_>, v: &[V]) -> V {
    match v {
        [x] => *x,
        _ => {
            let (l, r) = v.split_at(v.len() / 2);
            let (l, r) = (or_tree(g, l), or_tree(g, r));
            g.b.or(l, r)
        }
    }
}
