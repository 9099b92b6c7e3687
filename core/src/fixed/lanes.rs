//! The golden model on [`LANES`] jets with the same number of valid leaves at once, in
//! AVX-512 (x86-64 CPUs with F, DQ, CD, VL and BW; a caller with `std` checks with
//! [`crate::lane_model_available`]).
//!
//! Jets with the same leaf count walk the same subsets and splits, so one pass of the
//! recurrence serves all of them: every cell and accumulator holds one 32-bit value per jet,
//! sixteen to a 512-bit register, each unit runs branch-free on all of them, a jet that takes
//! another path (a subset below the cut, an infinite child, a saturation) is a mask, not a
//! branch, and a table read is a register permute (tables of up to [`SMALL_LUT`] entries) or a
//! gather. The few 64-bit quantities (t, tree counts, two products before rounding) take two
//! registers. The results, MAP trees and overflow counts are those of [`FixedTrellis`], bit for
//! bit; the tests compare the two on every jet. Designs whose values do not fit 32-bit lanes
//! (scores above 30 bits, see [`LaneError`]) and CPUs without AVX-512 use the scalar
//! [`FixedTrellis`] (a portable version measured slower than it).

use super::design::MAX_FIXED_LEAVES;
use super::input::FixedJet;
use super::model::{pairs, FixedResult, FixedTrellis, FxCell, LEVELS};
use super::tables::{Lut, Tables};
use super::units::{Overflows, Stage};
use crate::mask::{self, Mask};
use crate::recurrence::{self, Recurrence};

mod avx512;

/// Whether this CPU runs [`LaneTrellis`] (AVX-512 F, DQ, CD, VL and BW). A macro because the
/// run-time check needs `std`, which core does without: it expands in the caller's crate.
#[macro_export]
macro_rules! lane_model_available {
    () => {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
    };
}

/// Jets solved together: sixteen 32-bit lanes fill an AVX-512 register.
pub const LANES: usize = 16;

/// Largest table the model reads with register permutes instead of gathers (entries).
pub const SMALL_LUT: usize = 128;

/// Widest score format of the lane model: three scores of 30 bits add up within 32.
pub const LANE_SCORE_BITS: u32 = 30;

/// The −∞ flag of a lane value. Never used in arithmetic: units take [`fin`]-masked inputs.
const NEG: i32 = i32::MIN;

/// Work-buffer entry for one subset: [`FxCell`]'s values for each lane, −∞ as `i32::MIN`.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct LaneCell {
    t: [u64; LANES],
    sqrt_t: [u32; LANES],
    ln_t: [i32; LANES],
    map: [i32; LANES],
    log_z: [i32; LANES],
    best: [Mask; LANES],
    /// The tree count's low and high 32 bits (the high ones stay 0 with [`Counts::Narrow`]).
    count: [u32; LANES],
    count_hi: [u32; LANES],
}

impl LaneCell {
    /// Lane `l`'s tree count.
    fn count(&self, l: usize) -> u64 {
        self.count[l] as u64 | (self.count_hi[l] as u64) << 32
    }
}

/// How the model adds up tree counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counts {
    /// In 32-bit lanes: every product of two counts plus a third stays below 2^32, because the
    /// counts cannot exceed a format below 2^16, or the design's largest number of trees fits
    /// both 32 bits and the count format (so nothing saturates).
    Narrow,
    /// Lane by lane in 64 bits, checked.
    Wide,
}

impl Counts {
    fn of(tab: &Tables) -> Counts {
        let trees = crate::tree::count(tab.design.max_leaves as usize);
        let all_fit = trees <= tab.count_max as u128 && trees <= u32::MAX as u128;
        if tab.count_max < 1 << 16 || all_fit {
            Counts::Narrow
        } else {
            Counts::Wide
        }
    }
}

/// A table as the model reads it: whether an interpolation product needs 64 bits, and for a
/// table of at most [`SMALL_LUT`] entries (read with permutes) the entries and the differences
/// of neighbours (an interpolated table's `size + 1` entries fit so).
#[derive(Clone, Debug)]
struct PermLut {
    /// `|y[j+1] − y[j]| · r + 2^(step−1)` can reach 2^31: the read multiplies in 64 bits.
    wide: bool,
    small: bool,
    y: [i32; SMALL_LUT],
    dy: [i32; SMALL_LUT],
}

impl PermLut {
    const LN: usize = 0;
    const CORR: usize = 1;
    const EXP: usize = 2;
    const LEAF: usize = 3;
    const EXP_ROOT: usize = 4;
    const LEAF_ROOT: usize = 5;

    fn new(lut: &Lut) -> PermLut {
        let s = lut.step_log2;
        let mut p = PermLut {
            wide: !(s < 31 && (largest_step(lut) << s) + (1 << s) < 1 << 31),
            small: lut.size <= SMALL_LUT,
            y: [0; SMALL_LUT],
            dy: [0; SMALL_LUT],
        };
        if p.small {
            let e = lut.entries();
            for j in 0..lut.size {
                p.y[j] = e[j];
                if s > 0 {
                    p.dy[j] = e[j + 1] - e[j];
                }
            }
        }
        p
    }
}

/// The largest difference of neighbouring entries of `lut`.
fn largest_step(lut: &Lut) -> i64 {
    let e = lut.entries();
    e.windows(2)
        .map(|w| (w[1] as i64 - w[0] as i64).abs())
        .max()
        .unwrap_or(0)
}

/// Why [`LaneTrellis::new`] cannot run a design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneError {
    /// The work buffer holds fewer than `2^max_leaves` cells.
    BufferTooSmall {
        /// Cells needed.
        needed: usize,
    },
    /// Two neighbouring entries of a table differ by 2^31 or more, or an exp table entry is
    /// not positive (the ratio unit shifts it as an unsigned word): the 32-bit lanes would not
    /// hold the read exactly. No valid design's tables do either.
    TableStep {
        /// The table.
        table: &'static str,
    },
    /// The score format is wider than [`LANE_SCORE_BITS`].
    ScoreBits {
        /// The design's `internal.score_bits`.
        bits: u32,
    },
}

impl core::fmt::Display for LaneError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LaneError::BufferTooSmall { needed } => {
                write!(f, "work buffer too small: {needed} cells needed")
            }
            LaneError::TableStep { table } => write!(
                f,
                "the {table} table's entries do not fit 32-bit lanes: the lane model cannot read it"
            ),
            LaneError::ScoreBits { bits } => write!(
                f,
                "internal.score_bits = {bits}: the lane model needs at most {LANE_SCORE_BITS} (three scores add up in 32-bit lanes)"
            ),
        }
    }
}

/// Why [`LaneTrellis::solve`] refused a set of jets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixedLeaves {
    /// Valid leaves of the first jet.
    pub first: usize,
    /// The lane whose jet has another number.
    pub lane: usize,
    /// Its valid leaves.
    pub n: usize,
}

impl core::fmt::Display for MixedLeaves {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "lane {} has {} valid leaves, lane 0 has {}: lanes must share the leaf count",
            self.lane, self.n, self.first
        )
    }
}

/// The number of valid leaves the model sees in `jet` (slots below `max_leaves`).
pub fn valid_leaves(tab: &Tables, jet: &FixedJet) -> usize {
    (jet.valid & mask::full(tab.design.max_leaves as usize)).count_ones() as usize
}

/// The fixed-point trellis of one design on [`LANES`] jets at once, on caller-provided cells;
/// reusable across batches.
pub struct LaneTrellis<'a> {
    tab: &'a Tables,
    cells: &'a mut [LaneCell],
    n: usize,
    root: Mask,
    slot: [[u8; MAX_FIXED_LEAVES]; LANES],
    ovf: [Overflows; LANES],
    /// The batch's saturations in the recurrence (stages ratio, score and count), per lane.
    split_ovf: [[u32; LANES]; Stage::ALL.len()],
    counts: Counts,
    /// The tables in permute form, indexed by the `PermLut` constants.
    perm: [PermLut; 6],
    /// `Tables::ln_exponent(63 − lz, t_frac)` by the leading zeros `lz` of a 64-bit word.
    ln_exponent: [i32; SMALL_LUT],
}

/// Per-subset accumulator: the scalar model's, one value per lane.
pub struct LaneAcc {
    /// The lanes whose subset can split, as a bit mask.
    active: u16,
    root: bool,
    ln_p: [i32; LANES],
    sqrt_p: [u32; LANES],
    map: [i32; LANES],
    best: [Mask; LANES],
    count: [u32; LANES],
    count_hi: [u32; LANES],
    z: [[i32; LANES]; LEVELS],
    occupied: u32,
    ovf: [[u32; LANES]; Stage::ALL.len()],
}

/// A lane value as the scalar model holds it.
#[inline(always)]
fn opt(x: i32) -> Option<i64> {
    (x != NEG).then_some(x as i64)
}

impl<'a> LaneTrellis<'a> {
    /// Cells needed for a design with `max_leaves` leaves.
    pub const fn cells_needed(max_leaves: u32) -> usize {
        1 << max_leaves
    }

    /// Prepares a model over `tab`'s design.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, DQ, CD, VL and BW ([`crate::lane_model_available`]).
    pub unsafe fn new(tab: &'a Tables, cells: &'a mut [LaneCell]) -> Result<Self, LaneError> {
        let needed = Self::cells_needed(tab.design.max_leaves);
        if cells.len() < needed {
            return Err(LaneError::BufferTooSmall { needed });
        }
        let bits = tab.design.internal.score_bits;
        if bits > LANE_SCORE_BITS {
            return Err(LaneError::ScoreBits { bits });
        }
        // In `PermLut`'s order.
        let luts = [
            ("ln", &tab.ln),
            ("corr", &tab.corr),
            ("exp", &tab.inner.exp),
            ("leaf", &tab.inner.leaf),
            ("exp (root)", &tab.root.exp),
            ("leaf (root)", &tab.root.leaf),
        ];
        if let Some((table, _)) = luts.iter().find(|(_, lut)| largest_step(lut) >= 1 << 31) {
            return Err(LaneError::TableStep { table });
        }
        // The ratio unit shifts an exp entry as an unsigned 32-bit value.
        for (table, lut) in [("exp", &tab.inner.exp), ("exp (root)", &tab.root.exp)] {
            if lut.entries().iter().any(|&y| y <= 0) {
                return Err(LaneError::TableStep { table });
            }
        }
        let t_frac = tab.design.internal.t_frac;
        Ok(LaneTrellis {
            tab,
            cells,
            n: 0,
            root: 0,
            slot: [[0; MAX_FIXED_LEAVES]; LANES],
            ovf: [Overflows::default(); LANES],
            split_ovf: [[0; LANES]; Stage::ALL.len()],
            counts: Counts::of(tab),
            perm: luts.map(|(_, lut)| PermLut::new(lut)),
            ln_exponent: core::array::from_fn(|lz| {
                if lz < 64 {
                    tab.ln_exponent(63 - lz as i64, t_frac) as i32
                } else {
                    0
                }
            }),
        })
    }

    /// Solves [`LANES`] jets that have the same number of valid leaves ([`valid_leaves`]).
    /// A caller with fewer jets repeats one of them.
    pub fn solve(&mut self, jets: [&FixedJet; LANES]) -> Result<[FixedResult; LANES], MixedLeaves> {
        let first = valid_leaves(self.tab, jets[0]);
        for (lane, j) in jets.iter().enumerate() {
            let n = valid_leaves(self.tab, j);
            if n != first {
                return Err(MixedLeaves { first, lane, n });
            }
        }
        // Stages 0 and 1 lane by lane; stage 2 for all lanes at once (`avx512::subset_terms`)
        // from the t of the empty set, the single leaves and the pairs.
        for (lane, j) in jets.iter().enumerate() {
            let (c, s_ij) = pairs(self.tab, j);
            self.cells[0].t[lane] = 0;
            for (a, row) in s_ij.iter().enumerate().take(first) {
                self.cells[1 << a].t[lane] = 0;
                for (b, &s) in row.iter().enumerate().take(a) {
                    self.cells[1 << a | 1 << b].t[lane] = s;
                }
            }
            self.slot[lane] = c.slot;
            self.ovf[lane] = c.ovf;
        }
        self.n = first;
        self.root = mask::full(first);
        self.split_ovf = [[0; LANES]; Stage::ALL.len()];
        // SAFETY: `new` requires the caller to have checked that the CPU has AVX-512.
        unsafe { avx512::subset_terms(self, self.root) };
        recurrence::run(self, first);
        for (l, o) in self.ovf.iter_mut().enumerate() {
            o.merge(&Overflows(core::array::from_fn(|k| self.split_ovf[k][l])));
        }
        Ok(core::array::from_fn(|l| self.result(l)))
    }

    /// The results of lane `l` of the solved batch.
    pub fn result(&self, l: usize) -> FixedResult {
        let c = &self.cells[self.root as usize];
        if self.n == 0 {
            return FixedResult::empty(self.ovf[l]);
        }
        FixedResult {
            n: self.n,
            log_z: opt(c.log_z[l]),
            map: opt(c.map[l]),
            count: c.count(l),
            overflows: self.ovf[l],
        }
    }

    /// Copies lane `l` of the solved batch into `to`, which then answers every question
    /// ([`FixedTrellis::map_tree`], [`FixedTrellis::cell`], features…) as if it had solved
    /// that jet itself.
    pub fn export(&self, l: usize, to: &mut FixedTrellis) {
        for s in 0..=self.root as usize {
            let c = &self.cells[s];
            to.cells[s] = FxCell {
                t: c.t[l],
                sqrt_t: c.sqrt_t[l] as u64,
                ln_t: opt(c.ln_t[l]),
                map: opt(c.map[l]),
                log_z: opt(c.log_z[l]),
                count: c.count(l),
                best: c.best[l],
            };
        }
        to.n = self.n;
        to.root = self.root;
        to.slot = self.slot[l];
        to.ovf = self.ovf[l];
    }
}

impl Recurrence for LaneTrellis<'_> {
    type Acc = LaneAcc;

    #[inline]
    fn begin(&self, s: Mask) -> LaneAcc {
        // SAFETY: `new` requires the caller to have checked that the CPU has AVX-512.
        unsafe { avx512::begin(self, s) }
    }

    #[inline]
    fn skip(&self, acc: &LaneAcc) -> bool {
        acc.active == 0
    }

    #[inline]
    fn split(&self, acc: &mut LaneAcc, _s: Mask, a: Mask, b: Mask, _index: u32) {
        // SAFETY: `new` requires the caller to have checked that the CPU has AVX-512.
        unsafe { avx512::split(self, acc, a, b) }
    }

    #[inline]
    fn fold_splits(&self, acc: &mut LaneAcc, s: Mask) {
        // SAFETY: as in `split`.
        unsafe { avx512::fold(self, acc, s) }
    }

    fn store(&mut self, s: Mask, mut acc: LaneAcc) {
        // SAFETY: as in `split`.
        unsafe { avx512::store_acc(self, s, &mut acc) }
    }
}

/// A design whose every table is small enough for permutes: 32, 64 and 128 entries, direct
/// and interpolated.
#[cfg(test)]
fn tables_in_registers() -> crate::fixed::Design {
    let mut d = crate::fixed::Design::default();
    d.luts.ln = 128;
    d.luts.ln_interp_bits = 15;
    d.luts.exp = 64;
    d.luts.leaf = 128;
    d.luts.corr = 32;
    d
}

/// A design whose every table is too large for permutes (more than [`SMALL_LUT`] entries):
/// every read is a gather.
#[cfg(test)]
fn tables_in_memory() -> crate::fixed::Design {
    let mut d = crate::fixed::Design::default();
    d.luts.ln = 1024;
    d.luts.ln_interp_bits = 10;
    d.luts.exp = 1024;
    d
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::fixed::Design;
    use rand::{Rng, SeedableRng};
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    /// A jet with `n` valid slots among the design's, drawn from one of several families:
    /// collimated, wide, extreme pT, identical constituents, zero pT, extreme angles.
    fn jet(rng: &mut rand_chacha::ChaCha8Rng, d: &Design, n: usize) -> FixedJet {
        let slots = d.max_leaves as usize;
        let mut j = FixedJet::default();
        while (j.valid.count_ones() as usize) < n {
            j.valid |= 1 << rng.random_range(0..slots);
        }
        // Slots beyond the design are ignored by the model whatever their valid bit.
        j.valid |= rng.random_range(0..4u32) << slots;
        let pt_max = (1u32 << d.input.pt_bits) - 1;
        let eta_min = -(1i32 << (d.input.eta_bits - 1));
        let phi_min = -(1i32 << (d.input.phi_bits - 1));
        let family = rng.random_range(0..6);
        let (e0, p0) = (rng.random_range(-400..400), rng.random_range(-600..600));
        for k in 0..slots {
            let (pt, eta, phi) = match family {
                0 => (
                    rng.random_range(8..1600),
                    e0 + rng.random_range(-60..60),
                    p0 + rng.random_range(-60..60),
                ),
                1 => (
                    rng.random_range(1..4000),
                    rng.random_range(eta_min..-eta_min),
                    rng.random_range(phi_min..-phi_min),
                ),
                2 => (
                    pt_max - rng.random_range(0..3),
                    e0 + rng.random_range(-300..300),
                    p0 + rng.random_range(-300..300),
                ),
                3 => (400, 5, -7),
                4 => (
                    [0, 0, 1, 400][rng.random_range(0..4)],
                    e0 + rng.random_range(-3..3),
                    p0,
                ),
                _ => (
                    [1, pt_max][rng.random_range(0..2)],
                    [eta_min, -eta_min - 1, 0][rng.random_range(0..3)],
                    [phi_min, -phi_min - 1, 0][rng.random_range(0..3)],
                ),
            };
            j.pt[k] = pt;
            j.eta[k] = eta;
            j.phi[k] = phi;
        }
        j
    }

    /// Every lane equals the scalar model: results, overflow counts, every cell, the slots.
    fn check(d: &Design, batches: usize, seed: u64) {
        let tab = Box::new(Tables::new(d).unwrap());
        let size = 1 << d.max_leaves;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut lane_cells = vec![LaneCell::default(); size];
        let mut cells = vec![FxCell::default(); size];
        let mut mine = vec![FxCell::default(); size];
        let mut ovf = 0;
        // SAFETY: the callers checked the CPU.
        let mut lanes = unsafe { LaneTrellis::new(&tab, &mut lane_cells) }.unwrap();
        {
            for batch in 0..batches {
                let n = batch % (d.max_leaves as usize + 1);
                let jets: Vec<FixedJet> = (0..LANES).map(|_| jet(&mut rng, d, n)).collect();
                let got = lanes.solve(core::array::from_fn(|l| &jets[l])).unwrap();
                for (l, j) in jets.iter().enumerate() {
                    let mut m = FixedTrellis::new(&tab, &mut cells).unwrap();
                    let want = m.solve(j);
                    assert_eq!(got[l], want, "batch {batch} lane {l}: {j:?}");
                    ovf += want.overflows.total();
                    let mut e = FixedTrellis::new(&tab, &mut mine).unwrap();
                    lanes.export(l, &mut e);
                    assert_eq!(e.result(), want);
                    for k in 0..n {
                        assert_eq!(e.slot(k), m.slot(k));
                    }
                    for s in 0..=mask::full(n) {
                        assert_eq!(e.cell(s), m.cell(s), "batch {batch} lane {l} s {s}");
                    }
                }
            }
        }
        assert!(
            ovf > 0,
            "the jets never saturated anything: edge cases are missing"
        );
    }

    /// Whether the CPU runs the lane model; says so when it does not.
    fn cpu() -> bool {
        let ok = crate::lane_model_available!();
        if !ok {
            std::eprintln!("this CPU has no AVX-512: the lane model cannot run here");
        }
        ok
    }

    #[test]
    fn lanes_equal_the_scalar_model() {
        if cpu() {
            check(&Design::default(), 180, 1);
        }
    }

    /// The lane model driven one split at a time through `Recurrence::split` (the trait's
    /// default `fold_splits`).
    struct PerSplit<'l, 'a>(&'l mut LaneTrellis<'a>);

    impl Recurrence for PerSplit<'_, '_> {
        type Acc = LaneAcc;

        fn begin(&self, s: Mask) -> LaneAcc {
            self.0.begin(s)
        }

        fn skip(&self, acc: &LaneAcc) -> bool {
            self.0.skip(acc)
        }

        fn split(&self, acc: &mut LaneAcc, s: Mask, a: Mask, b: Mask, index: u32) {
            self.0.split(acc, s, a, b, index)
        }

        fn store(&mut self, s: Mask, acc: LaneAcc) {
            self.0.store(s, acc)
        }
    }

    #[test]
    fn split_by_split_equals_the_folded_splits() {
        if !cpu() {
            return;
        }
        let d = Design::default();
        let tab = Box::new(Tables::new(&d).unwrap());
        let mut cells = vec![LaneCell::default(); 256];
        // SAFETY: checked above.
        let mut lanes = unsafe { LaneTrellis::new(&tab, &mut cells) }.unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for n in 2..=8 {
            let jets: Vec<FixedJet> = (0..LANES).map(|_| jet(&mut rng, &d, n)).collect();
            lanes.solve(core::array::from_fn(|l| &jets[l])).unwrap();
            let folded = lanes.cells.to_vec();
            recurrence::run(&mut PerSplit(&mut lanes), n);
            for (s, (a, b)) in folded.iter().zip(lanes.cells.iter()).enumerate() {
                let fields = |c: &LaneCell| (c.map, c.log_z, c.count, c.count_hi, c.best);
                assert_eq!(fields(a), fields(b), "n {n} subset {s:#b}");
            }
        }
    }

    #[test]
    fn lanes_equal_the_scalar_model_on_narrow_formats() {
        let mut d = Design {
            max_leaves: 6,
            lambda_root: 3.0,
            ..Design::default()
        };
        d.internal.t_bits = 24;
        d.internal.score_bits = d.internal.log_frac + 8;
        d.internal.count_bits = 5;
        d.luts.ln_interp_bits = 0;
        if cpu() {
            check(&d, 280, 2);
        }
    }

    #[test]
    fn lanes_equal_the_scalar_model_with_wide_counts() {
        // Counts saturate at 2^20 − 1, below the 2,027,025 trees of nine leaves: the lanes
        // add them up one by one in 64 bits. The root's exp entries exceed 2^30, so that a root
        // ratio shifted down by 32 places or more rounds as in 64 bits.
        let mut d = Design {
            max_leaves: 9,
            lambda_root: 40.0,
            ..Design::default()
        };
        d.internal.count_bits = 20;
        // Up to 21!! ≈ 1.4·10^10 trees of twelve leaves: counts above 2^32.
        let mut twelve = Design {
            max_leaves: 12,
            ..Design::default()
        };
        twelve.internal.count_bits = 40;
        if cpu() {
            check(&d, 40, 3);
            check(&twelve, 13, 6);
        }
    }

    /// Every table read with permutes, then every table with gathers.
    #[test]
    fn lanes_equal_the_scalar_model_with_tables_in_registers_and_in_memory() {
        if !cpu() {
            return;
        }
        for (luts, small, seed) in [
            (tables_in_registers(), true, 5),
            (tables_in_memory(), false, 7),
        ] {
            let d = Design {
                lambda_root: 3.0,
                ..luts
            };
            let tab = Tables::new(&d).unwrap();
            let mut cells = vec![LaneCell::default(); 256];
            // SAFETY: checked above.
            let lanes = unsafe { LaneTrellis::new(&tab, &mut cells) }.unwrap();
            assert!(lanes.perm.iter().all(|p| p.small == small));
            check(&d, 180, seed);
        }
    }

    #[test]
    fn bad_batches_and_designs_are_refused() {
        if !cpu() {
            return;
        }
        let d = Design::default();
        let tab = Box::new(Tables::new(&d).unwrap());
        let mut cells = vec![LaneCell::default(); 256];
        // SAFETY: checked above.
        let mut lanes = unsafe { LaneTrellis::new(&tab, &mut cells) }.unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let a = jet(&mut rng, &d, 5);
        let b = jet(&mut rng, &d, 4);
        let mut jets = [&a; LANES];
        jets[6] = &b;
        let e = lanes.solve(jets).unwrap_err();
        assert_eq!((e.first, e.lane, e.n), (5, 6, 4));
        let mut short = vec![LaneCell::default(); 255];
        // SAFETY: checked above.
        let e = unsafe { LaneTrellis::new(&tab, &mut short) }.err();
        assert_eq!(e, Some(LaneError::BufferTooSmall { needed: 256 }));
        let mut wide = d;
        wide.internal.score_bits = LANE_SCORE_BITS + 1;
        let wide = Box::new(Tables::new(&wide).unwrap());
        // SAFETY: checked above.
        let e = unsafe { LaneTrellis::new(&wide, &mut cells) }.err();
        assert_eq!(e, Some(LaneError::ScoreBits { bits: 31 }));
        let mut steep = Box::new(Tables::new(&d).unwrap());
        steep.root.leaf.vals[7] = i32::MIN;
        steep.root.leaf.vals[8] = 1;
        // SAFETY: checked above.
        let e = unsafe { LaneTrellis::new(&steep, &mut short) }.err();
        assert_eq!(e, Some(LaneError::BufferTooSmall { needed: 256 }));
        let mut cells = vec![LaneCell::default(); 256];
        // SAFETY: checked above.
        let e = unsafe { LaneTrellis::new(&steep, &mut cells) }.err();
        assert_eq!(
            e,
            Some(LaneError::TableStep {
                table: "leaf (root)"
            })
        );
    }
}
