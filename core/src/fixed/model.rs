//! The bit-exact golden model of the clustering datapath: compaction, pair invariants, subset
//! terms, and the trellis recurrence (through [`crate::recurrence::Recurrence`]) for the MAP
//! value and argmax, log Z by a max* tree, and the tree count. Integer arithmetic only.

use super::design::MAX_FIXED_LEAVES;
use super::input::FixedJet;
use super::tables::{LambdaTables, Tables};
use super::units::{LogVal, Overflows, Stage};
use crate::mask::{self, Mask};
use crate::recurrence::{self, Recurrence};

/// Work-buffer entry for one subset; the model needs `2^max_leaves` of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FxCell {
    /// t (t format), saturated.
    pub t: u64,
    /// `isqrt(t << sqrt_shift)`: √t with `sqrt_frac` fractional bits.
    pub sqrt_t: u64,
    /// ln t (−∞ for t = 0).
    pub ln_t: LogVal,
    /// MAP score (−∞: no finite tree).
    pub map: LogVal,
    /// log Z score (−∞: no finite tree).
    pub log_z: LogVal,
    /// Finite trees (saturated).
    pub count: u64,
    /// MAP split: the part holding the lowest leaf (0 when none).
    pub best: Mask,
}

/// Levels of the log Z reduction tree: enough for `2^(MAX_FIXED_LEAVES−1) − 1` splits.
pub(super) const LEVELS: usize = MAX_FIXED_LEAVES;

/// Per-subset accumulator.
#[derive(Clone, Copy, Debug)]
pub struct FxAcc {
    skip: bool,
    /// The parent's ln t, √t and λ set, hoisted out of the split loop.
    ln_p: i64,
    sqrt_p: u64,
    root: bool,
    map: LogVal,
    best: Mask,
    count: u64,
    /// Partial max* results of the pairwise reduction, one per level; `occupied` bit l says
    /// whether level l holds one.
    z: [LogVal; LEVELS],
    occupied: u32,
    ovf: Overflows,
}

/// The results for one jet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedResult {
    /// Valid constituents.
    pub n: usize,
    /// log Z (log format raw); −∞ when no tree is finite.
    pub log_z: LogVal,
    /// MAP value (log format raw); −∞ when no tree is finite.
    pub map: LogVal,
    /// Number of finite trees (saturated to the count format).
    pub count: u64,
    /// Saturation events of this jet, per stage.
    pub overflows: Overflows,
}

impl FixedResult {
    /// The result of a jet without valid leaves.
    pub(super) fn empty(overflows: Overflows) -> Self {
        FixedResult {
            n: 0,
            log_z: None,
            map: None,
            count: 0,
            overflows,
        }
    }
}

/// Why the model cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Cells needed.
    pub needed: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "work buffer too small: {} cells needed", self.needed)
    }
}

/// The fixed-point trellis of one design, on caller-provided cells; reusable across jets.
pub struct FixedTrellis<'a> {
    tab: &'a Tables,
    pub(super) cells: &'a mut [FxCell],
    pub(super) n: usize,
    pub(super) root: Mask,
    pub(super) slot: [u8; MAX_FIXED_LEAVES],
    pub(super) ovf: Overflows,
}

#[inline(always)]
fn round_shift_u128(x: u128, s: u32) -> u128 {
    if s == 0 {
        x
    } else {
        (x + (1 << (s - 1))) >> s
    }
}

/// A loaded jet: its valid leaves, their input slots and the saturation events of stages 0–2.
pub(super) struct Compacted {
    pub n: usize,
    pub slot: [u8; MAX_FIXED_LEAVES],
    pub ovf: Overflows,
}

/// s_ij of a jet's compacted leaves `i < j`, in `[j][i]`.
pub(super) type PairTable = [[u64; MAX_FIXED_LEAVES]; MAX_FIXED_LEAVES];

/// Stages 0 and 1 of one jet: its valid leaves and every pair's s_ij.
pub(super) fn pairs(tab: &Tables, jet: &FixedJet) -> (Compacted, PairTable) {
    let d = &tab.design;
    let mut ovf = Overflows::default();
    let mut slot = [0u8; MAX_FIXED_LEAVES];
    let mut n = 0;
    for k in 0..d.max_leaves as usize {
        if jet.valid >> k & 1 == 1 {
            slot[n] = k as u8;
            n += 1;
        }
    }
    let mut s_ij = [[0u64; MAX_FIXED_LEAVES]; MAX_FIXED_LEAVES];
    let period = 2 * d.input.angle_steps_per_pi as i64;
    let last = tab.cosh_m1.size as i64 - 1;
    for (j, row) in s_ij.iter_mut().enumerate().take(n).skip(1) {
        for (i, out) in row.iter_mut().enumerate().take(j) {
            let (a, b) = (slot[i] as usize, slot[j] as usize);
            let mut de = (jet.eta[a] as i64 - jet.eta[b] as i64).abs();
            if de > last {
                ovf.hit(Stage::Angle);
                de = last;
            }
            let dp = (jet.phi[a] as i64 - jet.phi[b] as i64).rem_euclid(period);
            let dp = dp.min(period - dp);
            let angle = (tab.cosh_m1.read(de as u64) + tab.one_m_cos.read(dp as u64)) as u128;
            let pp = jet.pt[a] as u128 * jet.pt[b] as u128;
            let s = round_shift_u128(pp * angle, tab.s_shift);
            *out = if s > tab.t_max as u128 {
                ovf.hit(Stage::Pair);
                tab.t_max
            } else {
                s as u64
            };
        }
    }
    (Compacted { n, slot, ovf }, s_ij)
}

/// Stages 0–2 of one jet (see [`FixedTrellis::load`]) into `cells`.
fn load_terms(tab: &Tables, jet: &FixedJet, cells: &mut [FxCell]) -> Compacted {
    let (mut c, s_ij) = pairs(tab, jet);
    // Stage 2: t(S), the exact sum of S's pairs, then saturated (the clamp of the exact sum
    // does not depend on how it is added up). By inclusion and exclusion over the lowest leaf
    // l and the highest h, t(S) = t(S ∖ h) + t(S ∖ l) − t(S ∖ {h, l}) + s_hl: constant work
    // per subset and no data-dependent loop. The three are exact unless S ∖ h or S ∖ l
    // saturated (S ∖ {h, l} is below both); then the pairs are added up instead (rare).
    let put = |cells: &mut [FxCell], s: Mask, t: u64| {
        let single = s.count_ones() == 1;
        cells[s as usize] = FxCell {
            t,
            sqrt_t: (t << tab.sqrt_shift).isqrt(),
            ln_t: tab.ln(t, tab.design.internal.t_frac),
            map: single.then_some(0),
            log_z: single.then_some(0),
            count: single as u64,
            best: 0,
        };
    };
    put(cells, 0, 0);
    for s in 1..=mask::full(c.n) {
        let (l, h) = (s.trailing_zeros() as usize, 31 - s.leading_zeros() as usize);
        let t = if l == h {
            0
        } else {
            let t = |m: Mask| cells[m as usize].t;
            let (no_h, no_l) = (t(s ^ 1 << h), t(s ^ 1 << l));
            if no_h == tab.t_max || no_l == tab.t_max {
                pair_sum(s, |j, i| s_ij[j][i])
            } else {
                no_h + no_l - t(s ^ (1 << h | 1 << l)) + s_ij[h][l]
            }
        };
        let t = if t > tab.t_max {
            c.ovf.hit(Stage::SubsetT);
            tab.t_max
        } else {
            t
        };
        put(cells, s, t);
    }
    c
}

impl<'a> FixedTrellis<'a> {
    /// Cells needed for a design with `max_leaves` leaves.
    pub const fn cells_needed(max_leaves: u32) -> usize {
        1 << max_leaves
    }

    /// Prepares a model over `tab`'s design.
    pub fn new(tab: &'a Tables, cells: &'a mut [FxCell]) -> Result<Self, BufferTooSmall> {
        let needed = Self::cells_needed(tab.design.max_leaves);
        if cells.len() < needed {
            return Err(BufferTooSmall { needed });
        }
        Ok(FixedTrellis {
            tab,
            cells,
            n: 0,
            root: 0,
            slot: [0; MAX_FIXED_LEAVES],
            ovf: Overflows::default(),
        })
    }

    /// The tables (and design) the model runs on.
    pub fn tables(&self) -> &'a Tables {
        self.tab
    }

    /// Number of valid leaves of the loaded jet.
    pub fn leaves(&self) -> usize {
        self.n
    }

    /// The input slot of compacted leaf `k`.
    pub fn slot(&self, k: usize) -> usize {
        self.slot[k] as usize
    }

    /// Maps a mask over compacted leaves to a mask over input slots.
    pub fn expand(&self, m: Mask) -> Mask {
        mask::leaves(m).fold(0, |acc, k| acc | 1 << self.slot[k])
    }

    /// A solved subset's cell (compacted leaf numbering).
    pub fn cell(&self, s: Mask) -> &FxCell {
        &self.cells[s as usize]
    }

    /// Stage 0: compaction (valid slots below `max_leaves`, in slot order, become leaves
    /// `0 .. n`). Stage 1: pair invariants. Stage 2: subset t, √t, ln t. Leaves get MAP = log Z =
    /// 0 and count 1.
    pub fn load(&mut self, jet: &FixedJet) {
        let c = load_terms(self.tab, jet, self.cells);
        self.n = c.n;
        self.root = mask::full(c.n);
        self.slot = c.slot;
        self.ovf = c.ovf;
    }

    /// Loads `jet` and runs the recurrence over its valid leaves.
    pub fn solve(&mut self, jet: &FixedJet) -> FixedResult {
        self.load(jet);
        let n = self.n;
        recurrence::run(self, n);
        self.result()
    }

    /// The results of the solved jet (n = 0: everything −∞ and no tree).
    pub fn result(&self) -> FixedResult {
        if self.n == 0 {
            return FixedResult::empty(self.ovf);
        }
        let c = &self.cells[self.root as usize];
        FixedResult {
            n: self.n,
            log_z: c.log_z,
            map: c.map,
            count: c.count,
            overflows: self.ovf,
        }
    }

    /// Writes the MAP tree (compacted leaf numbering) as inner nodes `(S, A)` in pre-order and
    /// returns their number, or `None` when no tree is finite.
    pub fn map_tree(&self, out: &mut [(Mask, Mask)]) -> Option<usize> {
        if self.n == 0 || self.cells[self.root as usize].map.is_none() {
            return None;
        }
        Some(crate::tree::preorder(self.root, out, |s| {
            self.cells[s as usize].best
        }))
    }

    /// ψ(A, B) of a split of a loaded jet (compacted numbering; `a`, `b` disjoint, non-empty),
    /// with its saturation events: the per-split test vector of the hardware split units.
    /// −∞ when `a ∪ b` is below the cut or either child has no finite tree.
    pub fn split_psi(&self, a: Mask, b: Mask) -> (LogVal, Overflows) {
        let mut ovf = Overflows::default();
        let s = a | b;
        let t = self.cells[s as usize].t;
        if t < self.tab.t_cut_raw || t == 0 {
            return (None, ovf);
        }
        if self.cells[a as usize].map.is_none() || self.cells[b as usize].map.is_none() {
            return (None, ovf);
        }
        let p = &self.cells[s as usize];
        let v = match p.ln_t {
            Some(ln_p) => self.psi(s == self.root, ln_p, p.sqrt_t, a, b, &mut ovf),
            None => None,
        };
        (v, ovf)
    }

    /// ψ(A, B) of splitting `s = a ∪ b`; see [`psi`].
    #[inline(always)]
    fn psi(
        &self,
        root: bool,
        ln_p: i64,
        sqrt_p: u64,
        a: Mask,
        b: Mask,
        ovf: &mut Overflows,
    ) -> LogVal {
        let tab = self.tab;
        let lt = if root { &tab.root } else { &tab.inner };
        let leaves = (a & (a - 1) == 0, b & (b - 1) == 0);
        let (ca, cb) = (&self.cells[a as usize], &self.cells[b as usize]);
        psi(tab, lt, (ln_p, sqrt_p), (ca, cb), leaves, ovf)
    }
}

/// ψ(A, B) of one split (log format raw), from the parent's ln t and √t, the children's t, √t
/// and ln t (`FxCell`'s other fields are not read) and whether each child is a leaf; `None`
/// (−∞) when a needed ln t is −∞ (an inner child with t = 0, or both children inner and
/// t_P2 = 0). The model of the hardware's ψ unit. The parent must have passed the cut.
#[inline(always)]
pub fn psi(
    tab: &Tables,
    lt: &LambdaTables,
    (ln_p, sqrt_p): (i64, u64),
    (ca, cb): (&FxCell, &FxCell),
    (a_leaf, b_leaf): (bool, bool),
    ovf: &mut Overflows,
) -> LogVal {
    let raw = if a_leaf && b_leaf {
        // Both children are leaves: t_max = 0, so t_P2 = t_P and both terms are leaf terms.
        2 * tab.leaf(lt, Some(ln_p))
    } else {
        let (mx, mn, mn_leaf) = if a_leaf {
            (cb, ca, true)
        } else if b_leaf {
            (ca, cb, true)
        } else if ca.t >= cb.t {
            (ca, cb, false)
        } else {
            (cb, ca, false)
        };
        let parent = tab.density(lt, mx.ln_t?, ln_p, ovf);
        let dd = sqrt_p.saturating_sub(mx.sqrt_t) as u128;
        let tp2 = round_shift_u128(dd * dd, tab.sqrt_shift) as u64;
        let ln_p2 = tab.ln(tp2, tab.design.internal.t_frac);
        let child = if mn_leaf {
            tab.leaf(lt, ln_p2)
        } else {
            tab.density(lt, mn.ln_t?, ln_p2?, ovf)
        };
        parent + child
    };
    Some(tab.sat_score(raw + tab.k_4pi, Stage::Score, ovf))
}

/// Σ s_ij over the pairs `i < j` of `s`, `s_ij(j, i)` each (exact; at most 66 terms of at most
/// 48 bits).
pub(super) fn pair_sum(s: Mask, s_ij: impl Fn(usize, usize) -> u64) -> u64 {
    let mut t = 0;
    for j in mask::leaves(s) {
        for i in mask::leaves(s & ((1 << j) - 1)) {
            t += s_ij(j, i);
        }
    }
    t
}

impl FxAcc {
    /// An accumulator with nothing folded in yet, for a subset with the given parent terms.
    fn start(skip: bool, ln_p: i64, sqrt_p: u64, root: bool) -> Self {
        FxAcc {
            skip,
            ln_p,
            sqrt_p,
            root,
            map: None,
            best: 0,
            count: 0,
            z: [None; LEVELS],
            occupied: 0,
            ovf: Overflows::default(),
        }
    }

    /// Folds one split value into the pairwise log Z reduction (binary-counter order: equal to
    /// pairing neighbours level by level, an unpaired last element passing up).
    #[inline(always)]
    fn push_z(&mut self, tab: &Tables, v: LogVal) {
        let mut c = v;
        let mut l = 0;
        while self.occupied >> l & 1 == 1 {
            c = tab.max_star(self.z[l], c, &mut self.ovf);
            self.occupied &= !(1 << l);
            l += 1;
        }
        self.z[l] = c;
        self.occupied |= 1 << l;
    }

    /// Combines the partial results, lowest level first (`max*(higher, lower)`).
    fn finish_z(&mut self, tab: &Tables) -> LogVal {
        let mut r: Option<LogVal> = None;
        for l in 0..LEVELS {
            if self.occupied >> l & 1 == 1 {
                r = Some(match r {
                    None => self.z[l],
                    Some(x) => tab.max_star(self.z[l], x, &mut self.ovf),
                });
            }
        }
        r.flatten()
    }
}

impl Recurrence for FixedTrellis<'_> {
    type Acc = FxAcc;

    #[inline]
    fn begin(&self, s: Mask) -> FxAcc {
        let c = &self.cells[s as usize];
        FxAcc::start(
            c.t < self.tab.t_cut_raw || c.t == 0,
            c.ln_t.unwrap_or(0),
            c.sqrt_t,
            s == self.root,
        )
    }

    #[inline]
    fn skip(&self, acc: &FxAcc) -> bool {
        acc.skip
    }

    #[inline]
    fn split(&self, acc: &mut FxAcc, _s: Mask, a: Mask, b: Mask, _index: u32) {
        let tab = self.tab;
        let ca = &self.cells[a as usize];
        let cb = &self.cells[b as usize];
        let v = match (ca.map, cb.map, ca.log_z, cb.log_z) {
            (Some(ma), Some(mb), Some(za), Some(zb)) => {
                match self.psi(acc.root, acc.ln_p, acc.sqrt_p, a, b, &mut acc.ovf) {
                    Some(psi) => {
                        let m = tab.sat_score(psi + ma + mb, Stage::Score, &mut acc.ovf);
                        // Strictly greater: a tie keeps the earlier (lower-index) split.
                        if acc.map.is_none_or(|best| m > best) {
                            acc.map = Some(m);
                            acc.best = a;
                        }
                        // Exact product and sum (checked), then saturation.
                        let c = ca
                            .count
                            .checked_mul(cb.count)
                            .and_then(|x| x.checked_add(acc.count))
                            .filter(|&x| x <= tab.count_max);
                        acc.count = c.unwrap_or_else(|| {
                            acc.ovf.hit(Stage::Count);
                            tab.count_max
                        });
                        Some(tab.sat_score(psi + za + zb, Stage::Score, &mut acc.ovf))
                    }
                    None => None,
                }
            }
            _ => None,
        };
        acc.push_z(tab, v);
    }

    fn store(&mut self, s: Mask, mut acc: FxAcc) {
        let z = if acc.skip {
            None
        } else {
            acc.finish_z(self.tab)
        };
        self.ovf.merge(&acc.ovf);
        let c = &mut self.cells[s as usize];
        c.map = acc.map;
        c.log_z = z;
        c.count = acc.count;
        c.best = acc.best;
    }
}

/// A log-format value in nats (−∞ for the flag).
pub fn to_f64(v: LogVal, log_frac: u32) -> f64 {
    match v {
        None => f64::NEG_INFINITY,
        Some(x) => libm::ldexp(x as f64, -(log_frac as i32)),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::fixed::Design;
    use std::boxed::Box;
    use std::vec::Vec;

    /// The documented reduction: pair neighbours level by level, an unpaired last element
    /// passing up unchanged.
    fn pairwise(t: &Tables, mut v: Vec<LogVal>, o: &mut Overflows) -> LogVal {
        while v.len() > 1 {
            v = v
                .chunks(2)
                .map(|c| {
                    if c.len() == 2 {
                        t.max_star(c[0], c[1], o)
                    } else {
                        c[0]
                    }
                })
                .collect();
        }
        v[0]
    }

    #[test]
    fn streaming_reduction_equals_the_pairwise_tree() {
        let t = Box::new(Tables::new(&Design::default()).unwrap());
        let mut o = Overflows::default();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 1..=200usize {
            let v: Vec<LogVal> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Values within a few nats of each other, so that association matters.
                    (!x.is_multiple_of(7)).then_some((x % (6 << 16)) as i64 - (3 << 16))
                })
                .collect();
            let mut acc = FxAcc::start(false, 0, 0, false);
            for &e in &v {
                acc.push_z(&t, e);
            }
            assert_eq!(acc.finish_z(&t), pairwise(&t, v, &mut o), "len {len}");
        }
    }
}
