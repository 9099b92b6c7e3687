//! Eight jets with the same number of leaves, solved side by side: every value of a cell is a
//! row of [`JET_LANES`] lanes, one per jet, so a split is the same few vector operations on
//! whole rows. The subsets and splits are enumerated once for all eight jets, the children's
//! values are plain aligned loads (no gathers, no staging, no padding of a subset's splits to
//! whole vectors), and whether a child is a single leaf is known from the masks alone, so the
//! two kinds of split weight need no per-lane list.
//!
//! Each lane computes what [`GinkgoTrellis`] computes for its jet in linear mode,
//! operation for operation ([`Parent::inner_weight`], [`Parent::leaf_weight`], the same
//! products and the same sums in split order), so the results are its bits; a lane whose
//! values leave the linear range is flagged ([`JetLanes::result`] gives `None`) for the caller
//! to solve that jet alone, where the log evaluation takes over.

use super::{
    can_split, in_linear_range, leaf_child, linear_ln, Cell, GinkgoTrellis, Parent, Simd,
    TrellisError, TrellisResult, Weights, PARTS_FROM,
};
use crate::ginkgo::{self, GinkgoParams, Momentum};
use crate::mask::{self, Mask};
use crate::math;
use crate::recurrence::Recurrence;

/// Jets solved side by side.
pub const JET_LANES: usize = 8;

/// Largest number of leaves [`JetLanes`] takes: below [`PARTS_FROM`], so no subset is added up
/// in parts, and tree counts (at most (2·11 − 3)!! ≈ 6.5·10⁸) stay exact in `f64`.
pub const JET_LANES_MAX_LEAVES: usize = PARTS_FROM as usize - 1;

const _: () = assert!(JET_LANES_MAX_LEAVES < PARTS_FROM as usize);

type Row = [f64; JET_LANES];

/// Work-buffer entry for one subset of eight jets; [`JetLanes`] over `n` leaves needs `2^n`.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct JetLaneCell {
    t: Row,
    sqrt_t: Row,
    inv_t: Row,
    z: Row,
    m: Row,
    /// Exact integers (see [`JET_LANES_MAX_LEAVES`]): a vector of them multiplies and adds
    /// like the other rows.
    count: Row,
    best: [Mask; JET_LANES],
}

impl Default for JetLaneCell {
    fn default() -> Self {
        JetLaneCell {
            t: [0.0; JET_LANES],
            sqrt_t: [0.0; JET_LANES],
            inv_t: [0.0; JET_LANES],
            z: [0.0; JET_LANES],
            m: [0.0; JET_LANES],
            count: [0.0; JET_LANES],
            best: [0; JET_LANES],
        }
    }
}

/// [`Parent`] of every lane, a row per field, so that a loop over the lanes reads each field
/// as one vector.
#[derive(Clone, Copy)]
struct ParentRows {
    lambda: Row,
    inner: Row,
    leaf: Row,
    k_inner: Row,
    lambda_t_cut: Row,
    sqrt_t: Row,
    inv_t: Row,
    both_leaves: Row,
}

impl ParentRows {
    #[inline(always)]
    fn lane(&self, l: usize) -> Parent {
        Parent {
            lambda: self.lambda[l],
            inner: self.inner[l],
            leaf: self.leaf[l],
            k_inner: self.k_inner[l],
            lambda_t_cut: self.lambda_t_cut[l],
            sqrt_t: self.sqrt_t[l],
            inv_t: self.inv_t[l],
            both_leaves: self.both_leaves[l],
        }
    }
}

/// The running sums and MAP of one subset in every lane.
#[derive(Clone, Copy)]
struct Sums {
    z: Row,
    m: Row,
    count: Row,
    best: [Mask; JET_LANES],
}

/// Accumulator of one subset in every lane.
#[derive(Clone, Copy)]
pub struct LaneAcc {
    sums: Sums,
    /// Lanes in which the subset cannot split ([`can_split`]).
    skip: [bool; JET_LANES],
    parent: ParentRows,
}

/// Cluster trellises of up to eight jets with the same number of leaves, on caller-provided
/// cells (linear evaluation only; see the module).
pub struct JetLanes<'a> {
    cells: &'a mut [JetLaneCell],
    n: usize,
    jets: usize,
    params: [GinkgoParams; JET_LANES],
    inner_w: [Weights; JET_LANES],
    root_w: [Weights; JET_LANES],
    linear_ok: [bool; JET_LANES],
    simd: Simd,
}

impl<'a> JetLanes<'a> {
    /// Number of cells eight jets of `n` leaves need.
    pub const fn cells_needed(n: usize) -> usize {
        1 << n
    }

    /// Prepares the trellises of `jets` (one to [`JET_LANES`], each with its parameters),
    /// computing every subset's mass² as [`GinkgoTrellis::new`] does. Lanes beyond the
    /// jets repeat the first jet.
    ///
    /// # Panics
    /// If `jets` is empty or longer than [`JET_LANES`], or its jets differ in their number of
    /// leaves, or that number exceeds [`JET_LANES_MAX_LEAVES`].
    pub fn new(
        jets: &[(&[Momentum], GinkgoParams)],
        cells: &'a mut [JetLaneCell],
    ) -> Result<Self, TrellisError> {
        assert!(
            (1..=JET_LANES).contains(&jets.len()),
            "{} jets for {JET_LANES} lanes",
            jets.len()
        );
        let n = jets[0].0.len();
        assert!(
            jets.iter().all(|j| j.0.len() == n) && n <= JET_LANES_MAX_LEAVES,
            "the jets of the lanes need one number of leaves, at most {JET_LANES_MAX_LEAVES}"
        );
        if n == 0 {
            return Err(TrellisError::Empty);
        }
        if cells.len() < Self::cells_needed(n) {
            return Err(TrellisError::BufferTooSmall {
                needed: Self::cells_needed(n),
            });
        }
        for (_, p) in jets {
            p.validate().map_err(TrellisError::Param)?;
        }
        let jet = |l: usize| jets[if l < jets.len() { l } else { 0 }];
        let params: [GinkgoParams; JET_LANES] = core::array::from_fn(|l| jet(l).1);
        // The leaves' momenta, a row per leaf and component.
        let mut leaves = [[[0.0; JET_LANES]; 4]; JET_LANES_MAX_LEAVES];
        for (i, leaf) in leaves.iter_mut().enumerate().take(n) {
            for (c, row) in leaf.iter_mut().enumerate() {
                *row = core::array::from_fn(|l| jet(l).0[i][c]);
            }
        }
        cells[0] = JetLaneCell::default();
        for s in 1..=mask::full(n) {
            let mut cell = JetLaneCell::default();
            if s.count_ones() > 1 {
                let mut p = [[0.0; JET_LANES]; 4];
                for i in mask::leaves(s) {
                    for (c, row) in p.iter_mut().enumerate() {
                        for l in 0..JET_LANES {
                            row[l] += leaves[i][c][l];
                        }
                    }
                }
                cell.t = core::array::from_fn(|l| ginkgo::mass2(&p.map(|row| row[l])));
            }
            for l in 0..JET_LANES {
                cell.sqrt_t[l] = math::sqrt(cell.t[l].max(0.0));
                cell.inv_t[l] = 1.0 / cell.t[l];
            }
            cells[s as usize] = cell;
        }
        Ok(JetLanes {
            cells,
            n,
            jets: jets.len(),
            params,
            inner_w: params.map(|p| Weights::new(p.lambda)),
            root_w: params.map(|p| Weights::new(p.lambda_root)),
            linear_ok: [true; JET_LANES],
            simd: Simd::Baseline,
        })
    }

    /// Selects the vector instructions (the results are the same bits with any).
    ///
    /// # Safety
    /// The CPU must support the instructions chosen (check with `is_x86_feature_detected!`).
    pub unsafe fn set_simd(&mut self, simd: Simd) {
        self.simd = simd;
    }

    /// Number of leaves of every jet.
    pub fn leaves(&self) -> usize {
        self.n
    }

    /// Number of lanes holding a jet given to [`Self::new`].
    pub fn jets(&self) -> usize {
        self.jets
    }

    /// Solves every lane's trellis in linear mode.
    pub fn solve(&mut self) {
        for (i, c) in self.cells[1..=mask::full(self.n) as usize]
            .iter_mut()
            .enumerate()
        {
            if (i + 1).is_power_of_two() {
                *c = JetLaneCell {
                    z: [1.0; JET_LANES],
                    m: [1.0; JET_LANES],
                    count: [1.0; JET_LANES],
                    best: [0; JET_LANES],
                    ..*c
                };
            }
        }
        self.linear_ok = [true; JET_LANES];
        match self.simd {
            Simd::Baseline => self.drive(),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `set_simd` requires the caller to have checked that the CPU has AVX2.
            Simd::Avx2 => unsafe { self.drive_avx2() },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `set_simd` requires the caller to have checked that the CPU has AVX-512.
            Simd::Avx512 => unsafe { self.drive_avx512() },
        }
    }

    /// [`crate::recurrence::run`], with [`crate::recurrence::eval`] written out: the compiled
    /// variants below get their instructions only in what is inlined into them, and the
    /// compiler does not inline those two.
    #[inline(always)]
    fn drive(&mut self) {
        for s in 1..=mask::full(self.n) {
            if mask::size(s) >= 2 {
                let mut acc = self.begin(s);
                if !self.skip(&acc) {
                    self.fold_splits(&mut acc, s);
                }
                self.store(s, acc);
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn drive_avx2(&mut self) {
        self.drive()
    }

    /// Rust never fuses `a * b + c` on its own, so FMA (in the feature set) changes no bit.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn drive_avx512(&mut self) {
        self.drive()
    }

    /// The results of lane `l` after [`Self::solve`], as [`GinkgoTrellis::result`] gives
    /// them for its jet; `None` when a value left the linear range (solve that jet alone).
    pub fn result(&self, l: usize) -> Option<TrellisResult> {
        if !self.linear_ok[l] {
            return None;
        }
        let c = self.cell(l, mask::full(self.n));
        Some(TrellisResult {
            log_z: linear_ln(&c, c.z),
            map_llh: linear_ln(&c, c.m),
            n_trees: c.count,
        })
    }

    /// Lane `l`'s cell of subset `s` after [`Self::solve`], as [`GinkgoTrellis`] in
    /// linear mode leaves it for that jet (for comparing the two, bit for bit).
    pub fn cell(&self, l: usize, s: Mask) -> Cell {
        let c = &self.cells[s as usize];
        Cell {
            t: c.t[l],
            sqrt_t: c.sqrt_t[l],
            count: c.count[l] as u128,
            z: c.z[l],
            m: c.m[l],
            inv_t: c.inv_t[l],
            best: c.best[l],
        }
    }

    /// Lane `l` after [`Self::solve`] as the solved trellis of its jet alone, on `cells`: every
    /// cell has the bits [`GinkgoTrellis::solve`] gives it, so everything asked of it
    /// (posterior samples, scores of single splits, …) is answered as for that jet. `None` when
    /// the lane left the linear range (solve that jet alone).
    ///
    /// # Panics
    /// If `cells` holds fewer than `2^n` cells.
    pub fn export<'c>(&self, l: usize, cells: &'c mut [Cell]) -> Option<GinkgoTrellis<'c>> {
        if !self.linear_ok[l] {
            return None;
        }
        let full = mask::full(self.n);
        cells[0] = Cell::default();
        for s in 1..=full {
            cells[s as usize] = self.cell(l, s);
        }
        Some(GinkgoTrellis::on_cells(cells, self.n, self.params[l]))
    }

    /// Adds split `a` of `s` (whose lowest leaf is `low`) in every lane.
    #[inline(always)]
    fn add(&self, parent: &ParentRows, acc: &mut Sums, low: Mask, s: Mask, a: Mask) {
        if leaf_child(low, a, s ^ a) {
            self.add_split::<true>(parent, acc, s, a);
        } else {
            self.add_split::<false>(parent, acc, s, a);
        }
    }

    /// Adds split `a` of `s` in every lane; `LEAF`: a child is a single leaf.
    #[inline(always)]
    fn add_split<const LEAF: bool>(&self, parent: &ParentRows, acc: &mut Sums, s: Mask, a: Mask) {
        // SAFETY: `a` and `s ∖ a` are subsets of `s`, whose cell exists.
        let (ca, cb) = unsafe {
            (
                self.cells.get_unchecked(a as usize),
                self.cells.get_unchecked((s ^ a) as usize),
            )
        };
        // Read from a copy: `m = if better { mm } else { m }` in place became a masked store,
        // which the next split's comparison waited on.
        let prev = *acc;
        for l in 0..JET_LANES {
            let p = parent.lane(l);
            // GinkgoTrellis::children
            let (t_max, t_min) = if ca.t[l] >= cb.t[l] {
                (ca.t[l], cb.t[l])
            } else {
                (cb.t[l], ca.t[l])
            };
            let sqrt_max = ca.sqrt_t[l].max(cb.sqrt_t[l]);
            // A multi-leaf child with t ≤ 0 has z = 0 (it cannot split), which the products'
            // `finite` sees; a single-leaf child's density needs no t_P2 ≠ 0.
            let (w, psi_finite) = if LEAF {
                (p.leaf_weight(t_max, sqrt_max), true)
            } else {
                let t_p2 = p.t_p2(sqrt_max);
                (p.inner_weight(t_max, t_min, t_p2), t_p2 != 0.0)
            };
            let finite = psi_finite & (ca.z[l] != 0.0) & (cb.z[l] != 0.0);
            let zz = if finite { w * ca.z[l] * cb.z[l] } else { 0.0 };
            let mm = if finite { w * ca.m[l] * cb.m[l] } else { 0.0 };
            let better = mm > prev.m[l];
            acc.z[l] = prev.z[l] + zz;
            acc.m[l] = if better { mm } else { prev.m[l] };
            acc.best[l] = if better { a } else { prev.best[l] };
            acc.count[l] = prev.count[l]
                + if finite {
                    ca.count[l] * cb.count[l]
                } else {
                    0.0
                };
        }
    }
}

impl Recurrence for JetLanes<'_> {
    type Acc = LaneAcc;

    #[inline(always)]
    fn begin(&self, s: Mask) -> LaneAcc {
        let c = &self.cells[s as usize];
        let w = if s == mask::full(self.n) {
            &self.root_w
        } else {
            &self.inner_w
        };
        let parent: [Parent; JET_LANES] = core::array::from_fn(|l| {
            Parent::new(
                &w[l],
                self.params[l].t_cut,
                c.sqrt_t[l],
                c.inv_t[l],
                mask::size(s) == 2,
            )
        });
        LaneAcc {
            sums: Sums {
                z: [0.0; JET_LANES],
                m: [0.0; JET_LANES],
                count: [0.0; JET_LANES],
                best: [0; JET_LANES],
            },
            skip: core::array::from_fn(|l| !can_split(c.t[l], self.params[l].t_cut)),
            parent: ParentRows {
                lambda: parent.map(|p| p.lambda),
                inner: parent.map(|p| p.inner),
                leaf: parent.map(|p| p.leaf),
                k_inner: parent.map(|p| p.k_inner),
                lambda_t_cut: parent.map(|p| p.lambda_t_cut),
                sqrt_t: parent.map(|p| p.sqrt_t),
                inv_t: parent.map(|p| p.inv_t),
                both_leaves: parent.map(|p| p.both_leaves),
            },
        }
    }

    #[inline(always)]
    fn skip(&self, acc: &LaneAcc) -> bool {
        acc.skip.iter().all(|&s| s)
    }

    #[inline(always)]
    fn split(&self, acc: &mut LaneAcc, s: Mask, a: Mask, _b: Mask, _index: u32) {
        self.add(&acc.parent, &mut acc.sums, mask::lowest(s), s, a);
    }

    #[inline(always)]
    fn fold_splits(&self, acc: &mut LaneAcc, s: Mask) {
        let low = mask::lowest(s);
        // In locals, so that the sums can stay in registers.
        let parent = acc.parent;
        let mut sums = acc.sums;
        for a in mask::splits(s) {
            self.add(&parent, &mut sums, low, s, a);
        }
        acc.sums = sums;
    }

    #[inline(always)]
    fn store(&mut self, s: Mask, acc: LaneAcc) {
        let c = &mut self.cells[s as usize];
        for l in 0..JET_LANES {
            if acc.skip[l] {
                c.z[l] = 0.0;
                c.m[l] = 0.0;
                c.count[l] = 0.0;
                c.best[l] = 0;
            } else {
                let a = &acc.sums;
                c.z[l] = a.z[l];
                c.m[l] = a.m[l];
                c.count[l] = a.count[l];
                c.best[l] = a.best[l];
                if a.count[l] > 0.0 && !in_linear_range(a.z[l], a.m[l]) {
                    self.linear_ok[l] = false;
                }
            }
        }
    }
}
