//! The exact floating-point cluster trellis under the Ginkgo likelihood: log Z, the MAP value and
//! tree, and the number of finite-likelihood trees, over all `(2N − 3)!!` hierarchies.
//!
//! Two evaluations of the same recurrence:
//! - the *linear* one (default) keeps `Z` and `exp(MAP)` as plain products of split weights
//!   `w = e^ψ`, so a split costs one `exp` and one division and no logarithm;
//! - the *log* one evaluates [`crate::ginkgo::split_llh`] as written and accumulates with
//!   log-sum-exp. It is the reference, and the fallback whenever a linear value leaves
//!   `[1e−290, 1e290]` (very hard jets), so results are exact for any input.

use crate::ginkgo::{self, GinkgoParams, Momentum, ParamError};
use crate::mask::{self, Mask};
use crate::math;
use crate::recurrence::{self, Recurrence};
use core::f64::consts::PI;
use core::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
mod avx512;
mod jet_lanes;

pub use jet_lanes::{JetLaneCell, JetLanes, LaneAcc, JET_LANES, JET_LANES_MAX_LEAVES};

/// Largest number of leaves the trellis accepts. Tree counts stay exact in `u128` up to here
/// ((2·24 − 3)!! ≈ 2.5·10²⁸), and the buffers (64 B per subset) take 1 GiB at this size.
pub const MAX_LEAVES: usize = 24;

/// Work-buffer entry for one subset; a trellis over `n` leaves needs `2^n` of them.
///
/// Aligned to a 64-byte cache line (its size): with the 16-byte alignment of its `u128`, a
/// buffer could start mid-line and every cell a split reads would span two lines. The layout is
/// fixed (`repr(C)`): the AVX-512 evaluation loads `t` with `sqrt_t`, and `z` with `m`, as one
/// 16-byte pair each.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct Cell {
    t: f64,
    sqrt_t: f64,
    count: u128,
    z: f64,
    m: f64,
    inv_t: f64,
    best: Mask,
}

const _: () = assert!(core::mem::size_of::<Cell>() == 64);

/// Why a trellis cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrellisError {
    /// No leaves.
    Empty,
    /// More leaves than [`MAX_LEAVES`].
    TooManyLeaves {
        /// Leaves given.
        n: usize,
    },
    /// The work buffer holds fewer than `2^n` cells.
    BufferTooSmall {
        /// Cells needed.
        needed: usize,
    },
    /// A likelihood parameter is out of its domain.
    Param(ParamError),
}

impl core::fmt::Display for TrellisError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrellisError::Empty => f.write_str("the jet has no leaves"),
            TrellisError::TooManyLeaves { n } => write!(
                f,
                "{n} leaves is more than the trellis supports ({MAX_LEAVES}; memory grows as 64 B x 2^N)"
            ),
            TrellisError::BufferTooSmall { needed } => {
                write!(f, "work buffer too small: {needed} cells needed")
            }
            TrellisError::Param(e) => write!(f, "{e}"),
        }
    }
}

/// The three numbers the trellis computes for the whole jet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrellisResult {
    /// `log Σ_H exp ℓ(H)`; −∞ when no tree is finite.
    pub log_z: f64,
    /// `max_H ℓ(H)`; −∞ when no tree is finite.
    pub map_llh: f64,
    /// Number of trees with `ℓ(H) > −∞`.
    pub n_trees: u128,
}

/// How values are held in the cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `z = Z(S)`, `m = exp(MAP(S))`.
    Linear,
    /// `z = log Z(S)`, `m = MAP(S)`.
    Log,
}

/// Vector instructions the linear evaluation may use; all give bit-identical results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Simd {
    /// The target's baseline (SSE2 on x86-64).
    #[default]
    Baseline,
    /// AVX2 (x86-64 only).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 F, DQ and VL (x86-64 only).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// Per-λ constants of the linear split weight.
#[derive(Clone, Copy, Debug)]
struct Weights {
    lambda: f64,
    /// `λ / (1 − e^{−λ})`: an inner child's density prefactor.
    inner: f64,
    /// `1 / (1 − e^{−λ})`: a leaf child's prefactor.
    leaf: f64,
}

impl Weights {
    fn new(lambda: f64) -> Self {
        let leaf = 1.0 / -math::exp_m1(-lambda);
        Weights {
            lambda,
            inner: lambda * leaf,
            leaf,
        }
    }
}

/// What the weight of a split needs from its parent, copied into locals so that the vector
/// loops read no memory but their lanes.
#[derive(Clone, Copy)]
struct Parent {
    lambda: f64,
    inner: f64,
    leaf: f64,
    /// `λ²/(1 − e^{−λ})² / 4π`: the constant of [`Parent::inner_weight`].
    k_inner: f64,
    lambda_t_cut: f64,
    sqrt_t: f64,
    inv_t: f64,
    /// `1/(1 − e^{−λ}) · (1 − e^{−λ t_cut / t_P})`: the density of a leaf child under the
    /// parent's own scale, the first factor of [`Parent::leaf_weight`] when both children are
    /// leaves.
    both_leaves: f64,
}

impl Parent {
    /// The constants of a parent with `√t` and `1/t`, of two leaves when `pair`.
    #[inline(always)]
    fn new(wt: &Weights, t_cut: f64, sqrt_t: f64, inv_t: f64, pair: bool) -> Self {
        let lambda_t_cut = wt.lambda * t_cut;
        Parent {
            lambda: wt.lambda,
            inner: wt.inner,
            leaf: wt.leaf,
            k_inner: wt.inner * wt.inner * (1.0 / (4.0 * PI)),
            lambda_t_cut,
            sqrt_t,
            inv_t,
            // Only needed when t_max = 0, that is when both children are single leaves: a
            // cluster of several leaves reaches a batch only with t ≥ t_cut and t > 0.
            both_leaves: if pair {
                wt.leaf * math::one_minus_exp_neg(lambda_t_cut * inv_t)
            } else {
                0.0
            },
        }
    }

    /// e^ψ of a split into two inner clusters, `t_p2` being [`Parent::t_p2`] of the heavier.
    #[inline(always)]
    fn inner_weight(&self, t_max: f64, t_min: f64, t_p2: f64) -> f64 {
        let inv2 = 1.0 / t_p2;
        let e = math::exp_nonpositive(-self.lambda * (t_max * self.inv_t + t_min * inv2));
        self.k_inner * self.inv_t * inv2 * e
    }

    /// `t_P2 = (√t_P − √t_max)²`, the scale of the lighter child, from the heavier's `√t`.
    #[inline(always)]
    fn t_p2(&self, sqrt_max: f64) -> f64 {
        let d = self.sqrt_t - sqrt_max;
        d * d
    }

    /// Whether the split into `ca` and `cb`, both inner clusters, has ψ = −∞ because the heavier
    /// is as heavy as the parent (t_P2 = 0): its trees are counted with every other split, and
    /// taken back.
    #[inline(always)]
    fn degenerate(&self, ca: &Cell, cb: &Cell) -> bool {
        ca.t.min(cb.t) > 0.0 && self.t_p2(ca.sqrt_t.max(cb.sqrt_t)) == 0.0
    }

    /// e^ψ of a split with at least one leaf child (t = 0), the other of mass² `t_max` (0 for a
    /// leaf). Branch-free, for the vector loop.
    #[inline(always)]
    fn leaf_weight(&self, t_max: f64, sqrt_max: f64) -> f64 {
        let t_p2 = self.t_p2(sqrt_max);
        let leaf2 = self.leaf * math::one_minus_exp_neg(self.lambda_t_cut / t_p2);
        let inner =
            self.inner * self.inv_t * math::exp_nonpositive(-self.lambda * t_max * self.inv_t);
        let first = if t_max > 0.0 { inner } else { self.both_leaves };
        first * leaf2 * (1.0 / (4.0 * PI))
    }
}

/// `x · y` for tree counts: one 64×64→128 multiply when both fit in 64 bits (always for
/// subsets of up to 19 leaves), the full 128-bit product otherwise.
#[inline(always)]
fn count_product(x: u128, y: u128) -> u128 {
    if (x | y) >> 64 == 0 {
        (x as u64 as u128) * (y as u64 as u128)
    } else {
        x * y
    }
}

/// Subsets of up to this many leaves have at most (2·18 − 3)!! ≈ 6.3·10^18 < 2^64 trees.
const NARROW_COUNT_LEAVES: u32 = 18;

/// Splits folded per batch in linear mode.
const BATCH: usize = 64;

/// In linear mode, a subset of at least this many leaves adds up its splits' Z in [`PARTS`]
/// runs of consecutive splits ([`mask::splits_part`]), each from zero, and then the runs' sums
/// in order. So its parts can be evaluated on different threads
/// ([`GinkgoTrellis::eval_part`]) with the bits of one thread's fold, and a jet of many leaves
/// can use the caches as the sequential numeric order does (which the evaluation of whole
/// subsets in parallel, size by size, cannot).
pub const PARTS_FROM: u32 = 12;

/// log₂ of [`PARTS`].
const PART_BITS: u32 = 2;

/// Parts of a subset of at least [`PARTS_FROM`] leaves (four, so that up to four threads can
/// share one subset; the values do not depend on how many do).
pub const PARTS: usize = 1 << PART_BITS;

const _: () = assert!(BATCH as u64 <= 1 << (PARTS_FROM - 1 - PART_BITS));

/// The vector loops run over whole groups of this many lanes (one AVX-512 register of `f64`;
/// two AVX2 or four SSE2 ones): a batch is padded up to a multiple of it, so that no loop ends
/// in a scalar remainder, which would dominate subsets of a few dozen splits.
const LANES: usize = 8;

/// One field of a batch: written by `push` or `flush_linear` (or as padding) for indices below
/// the padded batch length before anything reads it. Left uninitialised so that starting a
/// batch costs nothing (zeroing ~7 KB per subset was half the time of a 9-leaf jet).
#[derive(Clone, Copy)]
struct Lane<T: Copy, const L: usize = BATCH>([MaybeUninit<T>; L]);

impl<T: Copy, const L: usize> Lane<T, L> {
    #[inline(always)]
    fn new() -> Self {
        Lane([MaybeUninit::uninit(); L])
    }

    #[inline(always)]
    fn set(&mut self, i: usize, v: T) {
        self.0[i] = MaybeUninit::new(v);
    }

    /// # Safety
    /// `set(i, …)` must have been called for this batch.
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        self.0[i].assume_init()
    }
}

/// A batch of consecutive splits of one subset, by their part `A`. The splits with a leaf
/// child (at most |S| of a subset's splits) are also listed apart, so that their costlier weight
/// is computed in a vector loop of their own.
struct Batch<const L: usize = BATCH> {
    a: Lane<Mask, L>,
    /// The children's values, staged for [`GinkgoTrellis::weigh`] (not used by the AVX-512
    /// per-subset fold, which keeps them in registers).
    t_max: Lane<f64, L>,
    t_min: Lane<f64, L>,
    sqrt_max: Lane<f64, L>,
    za: Lane<f64, L>,
    zb: Lane<f64, L>,
    ma: Lane<f64, L>,
    mb: Lane<f64, L>,
    /// Index in the batch of each split with a leaf child.
    leaf_at: Lane<u8, L>,
    /// `t_max` and `sqrt_max` of each split with a leaf child.
    leaf_t_max: Lane<f64, L>,
    leaf_sqrt_max: Lane<f64, L>,
    /// Their weights.
    leaf_w: Lane<f64, L>,
}

impl<const L: usize> Batch<L> {
    #[inline(always)]
    fn new() -> Self {
        Batch {
            a: Lane::new(),
            t_max: Lane::new(),
            t_min: Lane::new(),
            sqrt_max: Lane::new(),
            za: Lane::new(),
            zb: Lane::new(),
            ma: Lane::new(),
            mb: Lane::new(),
            leaf_at: Lane::new(),
            leaf_t_max: Lane::new(),
            leaf_sqrt_max: Lane::new(),
            leaf_w: Lane::new(),
        }
    }

    /// Stages the children's values of split `i`.
    #[inline(always)]
    fn stage(&mut self, i: usize, c: Children) {
        self.t_max.set(i, c.t_max);
        self.t_min.set(i, c.t_min);
        self.sqrt_max.set(i, c.sqrt_max);
        self.za.set(i, c.za);
        self.zb.set(i, c.zb);
        self.ma.set(i, c.ma);
        self.mb.set(i, c.mb);
    }

    /// The children's values of split `i`.
    ///
    /// # Safety
    /// `stage(i, …)` must have been called for this batch.
    #[inline(always)]
    unsafe fn staged(&self, i: usize) -> Children {
        Children {
            t_max: self.t_max.get(i),
            t_min: self.t_min.get(i),
            sqrt_max: self.sqrt_max.get(i),
            za: self.za.get(i),
            zb: self.zb.get(i),
            ma: self.ma.get(i),
            mb: self.mb.get(i),
        }
    }

    /// Fills the lanes from `len` up to the next multiple of [`LANES`] (and likewise the leaf
    /// list, of length `leaves`, its padding pointing at split 0), so that the vector loops read
    /// only initialised values: the padding splits of `s` are `(s, ∅)`, which the empty set's
    /// Z = 0 keeps out of the sums.
    #[inline(always)]
    fn pad(&mut self, s: Mask, len: usize, leaves: usize) {
        for i in len..padded::<L>(len) {
            self.a.set(i, s);
        }
        for j in leaves..padded::<L>(leaves) {
            self.leaf_at.set(j, 0);
            self.leaf_t_max.set(j, 0.0);
            self.leaf_sqrt_max.set(j, 0.0);
        }
    }
}

/// What the weight and products of a split need from its children: mass² ordered, the heavier's
/// √t, and both Z and MAP values (`a` for the part holding the lowest leaf).
#[derive(Clone, Copy)]
struct Children {
    t_max: f64,
    t_min: f64,
    sqrt_max: f64,
    za: f64,
    zb: f64,
    ma: f64,
    mb: f64,
}

/// How much of a batch is filled. Kept apart from the lanes: set next to them, LLVM merged
/// its initial zero and the uninitialised lanes into a 4 KiB `memset` per subset.
#[derive(Clone, Copy, Default)]
struct Fill {
    /// Splits in the batch.
    len: usize,
    /// Splits with a leaf child among them.
    leaves: usize,
}

/// `len` (at most `L`, a multiple of [`LANES`]) rounded up to whole groups of [`LANES`]. The
/// bound is stated so that the vector loops over it need no bounds checks.
#[inline(always)]
fn padded<const L: usize>(len: usize) -> usize {
    len.next_multiple_of(LANES).min(L)
}

/// Subsets of up to this many leaves are evaluated by [`GinkgoTrellis::solve`] a whole size at
/// a time: the splits of many subsets of one size fill the vector lanes together, instead of
/// each subset padding its few splits to whole groups and paying its own loops' overheads
/// (which dominated a 9-leaf jet). Larger subsets, of 255 splits and more, go one by one.
const STREAM_LEAVES: u32 = 8;

/// Up to this many leaves, every split of a size-at-a-time batch is weighed both ways (see
/// [`GinkgoTrellis::weigh`]): more than half of them have a leaf child (at 5 leaves, a third: the
/// leaf list is 1 % faster there since the AVX-512 staging).
const STREAM_LEAF_LANES: u32 = 4;

/// Splits per batch of the size-at-a-time evaluation (at most 256: the leaf list holds `u8`
/// indices).
const STREAM: usize = 256;

const _: () = assert!(STREAM_LEAVES <= NARROW_COUNT_LEAVES && STREAM <= 256);

/// A batch of the size-at-a-time evaluation: the splits of consecutive subsets of one size,
/// each subset's in canonical order, with what each split needs of its parent.
struct Stream {
    batch: Batch<STREAM>,
    /// The parent of each split, its `√t`, `1/t` and [`Parent::both_leaves`].
    s: Lane<Mask, STREAM>,
    sqrt_t: Lane<f64, STREAM>,
    inv_t: Lane<f64, STREAM>,
    both_leaves: Lane<f64, STREAM>,
    /// `N(A) N(B)` of each split (a subset of up to [`NARROW_COUNT_LEAVES`] leaves), set to 0
    /// when ψ is −∞ for a finite pair.
    count: Lane<u64, STREAM>,
    zz: Lane<f64, STREAM>,
    mm: Lane<f64, STREAM>,
}

impl Stream {
    #[inline(always)]
    fn new() -> Self {
        Stream {
            batch: Batch::new(),
            s: Lane::new(),
            sqrt_t: Lane::new(),
            inv_t: Lane::new(),
            both_leaves: Lane::new(),
            count: Lane::new(),
            zz: Lane::new(),
            mm: Lane::new(),
        }
    }

    /// Pads the batch as [`Batch::pad`] does, with splits `(∅, ∅)` of the empty set.
    #[inline(always)]
    fn pad(&mut self, fill: Fill) {
        self.batch.pad(0, fill.len, fill.leaves);
        for i in fill.len..padded::<STREAM>(fill.len) {
            self.s.set(i, 0);
            self.sqrt_t.set(i, 0.0);
            self.inv_t.set(i, 0.0);
            self.both_leaves.set(i, 0.0);
        }
    }
}

/// The reduction of the subset whose splits a size-at-a-time batch reaches next: it may have
/// begun in an earlier batch.
#[derive(Clone, Copy)]
struct Open {
    z: f64,
    m: f64,
    best: Mask,
    count: u64,
    /// Its splits not yet added.
    left: usize,
}

impl Open {
    #[inline(always)]
    fn new(splits: usize) -> Self {
        Open {
            z: 0.0,
            m: 0.0,
            best: 0,
            count: 0,
            left: splits,
        }
    }
}

/// Per-subset accumulator.
#[derive(Clone, Copy, Debug)]
pub struct Acc {
    z: f64,
    /// Linear mode: the sum of the finished parts' `z` (see [`PARTS_FROM`]).
    z_done: f64,
    /// Running maximum for log-sum-exp in log mode.
    zmax: f64,
    m: f64,
    count: u128,
    best: Mask,
    skip: bool,
}

impl Acc {
    /// Appends the next part of a linear evaluation (see [`PARTS_FROM`]): its `z` (summed from
    /// zero) joins the finished parts' sum; its MAP value replaces the best so far only when
    /// greater, as if its splits had been folded here.
    #[inline]
    fn absorb(&mut self, part: Acc) {
        self.z_done += self.z;
        self.z = part.z;
        self.count += part.count;
        if part.m > self.m {
            self.m = part.m;
            self.best = part.best;
        }
    }
}

/// A cluster trellis over one jet, on caller-provided cells.
pub struct GinkgoTrellis<'a> {
    cells: &'a mut [Cell],
    n: usize,
    params: GinkgoParams,
    mode: Mode,
    inner_w: Weights,
    root_w: Weights,
    linear_ok: bool,
    simd: Simd,
}

/// Linear values outside this range fall back to the log evaluation.
const LINEAR_MIN: f64 = 1e-290;
const LINEAR_MAX: f64 = 1e290;

/// Whether a subset with trees, of linear `Z = z` and `e^MAP = m`, stays in the linear range
/// (`m ≤ z`, so these two bounds keep both in it).
#[inline(always)]
fn in_linear_range(z: f64, m: f64) -> bool {
    m >= LINEAR_MIN && z <= LINEAR_MAX
}

/// The log of a linear value `x` (Z or e^MAP) of cell `c`: −∞ when the subset has no finite
/// tree (its values are then 0).
#[inline]
fn linear_ln(c: &Cell, x: f64) -> f64 {
    if c.count == 0 {
        f64::NEG_INFINITY
    } else {
        math::ln(x)
    }
}

/// Whether a subset of mass² `t` can have a finite split. ψ = −∞ for every split of a subset
/// below the cut, or of zero mass (ln 0). At t_cut = 0, ψ = −∞ for every split with a leaf
/// child (ln(1 − e⁰)), which every tree has: no subset has a finite tree, and the linear
/// evaluations, which leave that check to their leaf-child splits, can skip them all.
#[inline(always)]
fn can_split(t: f64, t_cut: f64) -> bool {
    t >= t_cut && t > 0.0 && t_cut != 0.0
}

/// Whether split `a` (holding the lowest leaf `low` of its parent) or `b` is a single leaf.
#[inline(always)]
fn leaf_child(low: Mask, a: Mask, b: Mask) -> bool {
    a == low || b & (b - 1) == 0
}

impl<'a> GinkgoTrellis<'a> {
    /// Number of cells a trellis over `n` leaves needs.
    pub const fn cells_needed(n: usize) -> usize {
        1 << n
    }

    /// Prepares a trellis over `leaves`, computing every subset's mass² once.
    pub fn new(
        leaves: &[Momentum],
        params: GinkgoParams,
        cells: &'a mut [Cell],
    ) -> Result<Self, TrellisError> {
        let n = leaves.len();
        if n == 0 {
            return Err(TrellisError::Empty);
        }
        if n > MAX_LEAVES {
            return Err(TrellisError::TooManyLeaves { n });
        }
        if cells.len() < Self::cells_needed(n) {
            return Err(TrellisError::BufferTooSmall {
                needed: Self::cells_needed(n),
            });
        }
        params.validate().map_err(TrellisError::Param)?;
        // The empty set has no tree (Z = 0): the padding splits `(S, ∅)` of a batch read it.
        cells[0] = Cell::default();
        for s in 1..=mask::full(n) {
            let t = if s.count_ones() == 1 {
                0.0
            } else {
                let mut p = [0.0; 4];
                for i in mask::leaves(s) {
                    p = ginkgo::add(&p, &leaves[i]);
                }
                ginkgo::mass2(&p)
            };
            cells[s as usize] = Cell {
                t,
                sqrt_t: math::sqrt(t.max(0.0)),
                inv_t: 1.0 / t,
                ..Cell::default()
            };
        }
        Ok(Self::on_cells(cells, n, params))
    }

    /// A trellis of `n` leaves over `cells` as they are (linear mode, baseline instructions).
    fn on_cells(cells: &'a mut [Cell], n: usize, params: GinkgoParams) -> Self {
        GinkgoTrellis {
            cells,
            n,
            params,
            mode: Mode::Linear,
            inner_w: Weights::new(params.lambda),
            root_w: Weights::new(params.lambda_root),
            linear_ok: true,
            simd: Simd::Baseline,
        }
    }

    /// Selects the vector instructions of the linear evaluation.
    ///
    /// # Safety
    /// The CPU must support the instructions chosen (check with `is_x86_feature_detected!`).
    pub unsafe fn set_simd(&mut self, simd: Simd) {
        self.simd = simd;
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.n
    }

    /// The likelihood parameters.
    pub fn params(&self) -> &GinkgoParams {
        &self.params
    }

    /// The evaluation in use (after [`Self::solve`]: the one that produced the results).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Mass² of a subset (0 for a single leaf).
    pub fn t(&self, s: Mask) -> f64 {
        self.cells[s as usize].t
    }

    /// Prepares the cells for an evaluation in `mode`: leaves get Z = 1, MAP = 0, count 1.
    pub fn reset(&mut self, mode: Mode) {
        self.mode = mode;
        self.linear_ok = true;
        let one = match mode {
            Mode::Linear => 1.0,
            Mode::Log => 0.0,
        };
        for i in 0..self.n {
            let c = &mut self.cells[1 << i];
            c.z = one;
            c.m = one;
            c.count = 1;
            c.best = 0;
        }
    }

    /// Solves the trellis with the sequential recurrence.
    pub fn solve(&mut self) {
        self.solve_with(Self::drive);
    }

    /// The sequential driver of [`Self::solve`]. In linear mode the subsets of up to
    /// [`STREAM_LEAVES`] leaves are evaluated size by size first ([`Self::solve_small`]); then
    /// every other subset in numeric order, as the log evaluation does all of them: size by
    /// size, the large subsets' cells lie far apart in a buffer beyond the caches (16 leaves
    /// were 7 % slower), and their evaluation compiled apart, as [`recurrence::eval`] calls
    /// it, is faster than inlined here.
    fn drive(&mut self) {
        let n = self.n;
        let done = if self.mode == Mode::Linear {
            match self.simd {
                Simd::Baseline => self.solve_small::<false>(),
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `set_simd` requires the caller to have checked that the CPU has AVX2.
                Simd::Avx2 => unsafe { self.solve_small_avx2() },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `set_simd` requires the caller to have checked that the CPU has
                // AVX-512.
                Simd::Avx512 => unsafe { self.solve_small_avx512() },
            }
            STREAM_LEAVES
        } else {
            1
        };
        for s in 1..=mask::full(n) {
            if mask::size(s) > done {
                let acc = recurrence::eval(self, s);
                self.store(s, acc);
            }
        }
    }

    /// Solves the trellis with a caller-supplied driver of the recurrence (for example one that
    /// evaluates the subsets of each size, or the parts of a subset ([`Self::eval_part`]), in
    /// parallel). `drive` must evaluate and store every subset of two or more leaves after its
    /// proper subsets.
    pub fn solve_with(&mut self, mut drive: impl FnMut(&mut Self)) {
        self.reset(Mode::Linear);
        drive(self);
        if !self.linear_ok {
            self.reset(Mode::Log);
            drive(self);
        }
    }

    /// How many parts [`Self::eval_part`] evaluates subset `s` in: [`PARTS`] for a subset of at
    /// least [`PARTS_FROM`] leaves in linear mode that has splits to evaluate, else 1.
    pub fn parts(&self, s: Mask) -> usize {
        if self.mode == Mode::Linear && mask::size(s) >= PARTS_FROM && !self.begin(s).skip {
            PARTS
        } else {
            1
        }
    }

    /// Evaluates part `p < self.parts(s)` of subset `s` (its proper subsets must be stored),
    /// without storing it: with one part, the whole subset as [`recurrence::eval`] does. The
    /// parts of a subset may be evaluated on different threads; [`Self::join_parts`] makes the
    /// accumulator [`recurrence::eval`] would have returned, bit for bit.
    ///
    /// # Panics
    /// If `p ≥ self.parts(s)`.
    pub fn eval_part(&self, s: Mask, p: usize) -> Acc {
        let parts = self.parts(s);
        assert!(p < parts, "part {p} of a subset evaluated in {parts}");
        if parts == 1 {
            return recurrence::eval(self, s);
        }
        let mut acc = self.begin(s);
        self.fold_run(&mut acc, s, PART_BITS, p as u32);
        acc
    }

    /// The accumulator of `s` from its parts' ([`Self::eval_part`], in part order).
    ///
    /// # Panics
    /// If `parts` does not hold `self.parts(s)` accumulators.
    pub fn join_parts(&self, s: Mask, parts: &[Acc]) -> Acc {
        assert_eq!(parts.len(), self.parts(s), "parts of subset {s:#b}");
        match parts {
            [one] => *one,
            _ => {
                let mut acc = self.begin(s);
                for &part in parts {
                    acc.absorb(part);
                }
                acc
            }
        }
    }

    /// Solves the trellis in the given mode only (no fallback), for tests of either evaluation.
    pub fn solve_in(&mut self, mode: Mode) -> bool {
        self.reset(mode);
        let n = self.n;
        recurrence::run(self, n);
        mode == Mode::Log || self.linear_ok
    }

    /// log Z of a solved subset.
    pub fn log_z(&self, s: Mask) -> f64 {
        let c = &self.cells[s as usize];
        match self.mode {
            Mode::Linear => linear_ln(c, c.z),
            Mode::Log => c.z,
        }
    }

    /// MAP log-likelihood of a solved subset.
    pub fn map(&self, s: Mask) -> f64 {
        let c = &self.cells[s as usize];
        match self.mode {
            Mode::Linear => linear_ln(c, c.m),
            Mode::Log => c.m,
        }
    }

    /// Number of finite trees over a solved subset.
    pub fn count(&self, s: Mask) -> u128 {
        self.cells[s as usize].count
    }

    /// The MAP split of a solved subset: the part `A` holding its lowest leaf (0 when the
    /// subset has no finite tree or is a single leaf).
    pub fn best_split(&self, s: Mask) -> Mask {
        self.cells[s as usize].best
    }

    /// log Z, MAP value and tree count of the whole jet.
    pub fn result(&self) -> TrellisResult {
        let s = mask::full(self.n);
        TrellisResult {
            log_z: self.log_z(s),
            map_llh: self.map(s),
            n_trees: self.count(s),
        }
    }

    /// ψ of splitting `a ∪ b` into `a` and `b`, by the reference formula.
    pub fn split_llh(&self, a: Mask, b: Mask) -> f64 {
        let s = a | b;
        let lambda = self.params.lambda_for(s == mask::full(self.n));
        ginkgo::split_llh(self.t(a), self.t(b), self.t(s), lambda, self.params.t_cut)
    }

    /// Writes the MAP tree as its inner nodes `(S, A)` in pre-order (root first, then the
    /// subtree of `A`, then that of `S ∖ A`) and returns how many were written (`n − 1`), or
    /// `None` when no tree is finite. `out` needs room for `n − 1` entries.
    pub fn map_tree(&self, out: &mut [(Mask, Mask)]) -> Option<usize> {
        let root = mask::full(self.n);
        if self.count(root) == 0 {
            return None;
        }
        Some(crate::tree::preorder(root, out, |s| self.best_split(s)))
    }

    fn weights(&self, s: Mask) -> &Weights {
        if s == mask::full(self.n) {
            &self.root_w
        } else {
            &self.inner_w
        }
    }

    /// The constants of the split weights of subset `s`.
    #[inline(always)]
    fn parent(&self, s: Mask) -> Parent {
        let p = &self.cells[s as usize];
        Parent::new(
            self.weights(s),
            self.params.t_cut,
            p.sqrt_t,
            p.inv_t,
            mask::size(s) == 2,
        )
    }

    /// Folds a batch of splits in linear mode. The first loop is branch-free and vectorizes
    /// over whole groups of [`LANES`]: the weight of every split as if its children were inner
    /// clusters ([`Parent::inner_weight`]) and its products, 0 unless ψ and both children are
    /// finite; [`Self::finish_batch`] does the rest.
    #[inline(always)]
    fn flush_linear(&self, acc: &mut Acc, s: Mask, batch: &mut Batch, fill: Fill) {
        let Fill { len, leaves } = fill;
        let p = self.parent(s);
        batch.pad(s, len, leaves);
        let mut zz = Lane::<f64>::new();
        let mut mm = Lane::<f64>::new();
        // SAFETY: `push` set `batch.a` for all indices below `len` (and the leaf list below
        // `leaves`), `pad` the rest up to the next multiple of `LANES`. Every `a` is a subset
        // of `s`.
        unsafe {
            // A batch of a few groups has mostly leaf-child splits (all of them up to 3 leaves):
            // weighing every lane both ways is cheaper there than the leaf list's extra loops,
            // whose chain of dependent steps small subsets wait on.
            let small = len <= 2 * LANES;
            let degenerate = if small {
                self.weigh_subset::<true>(&p, s, batch, len, &mut zz, &mut mm)
            } else {
                self.weigh_subset::<false>(&p, s, batch, len, &mut zz, &mut mm)
            };
            self.finish_batch(
                acc, s, &p, batch, fill, !small, degenerate, &mut zz, &mut mm,
            );
        }
    }

    /// The end of a batch of `s`'s splits whose products with inner-child weights are in `zz`
    /// and `mm`: with `leaf_list`, the splits with a leaf child get their weights
    /// ([`Parent::leaf_weight`]) in a vector loop of their own and their products replace the
    /// others; the count products of `degenerate` splits (t_P2 = 0) are taken back; the last
    /// loop adds up in split order.
    ///
    /// # Safety
    /// `batch` must be padded ([`Batch::pad`]), its splits subsets of `s`, and `zz`, `mm` set
    /// below `fill.len`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn finish_batch(
        &self,
        acc: &mut Acc,
        s: Mask,
        p: &Parent,
        batch: &mut Batch,
        fill: Fill,
        leaf_list: bool,
        degenerate: bool,
        zz: &mut Lane<f64>,
        mm: &mut Lane<f64>,
    ) {
        let Fill { len, leaves } = fill;
        let cells = &*self.cells;
        if leaves > 0 && leaf_list {
            self.weigh_leaf_list(batch, leaves, |_| (s, *p), zz, mm);
        }
        if degenerate {
            // A child as heavy as the parent (t_P2 = 0) has density 0: its trees, counted
            // with every other split, are not finite.
            for i in 0..len {
                let a = batch.a.get(i);
                let ca = cells.get_unchecked(a as usize);
                let cb = cells.get_unchecked((s ^ a) as usize);
                if p.degenerate(ca, cb) {
                    acc.count -= count_product(ca.count, cb.count);
                }
            }
        }
        for i in 0..len {
            acc.z += zz.get(i);
            let m = mm.get(i);
            if m > acc.m {
                acc.m = m;
                acc.best = batch.a.get(i);
            }
        }
    }

    /// The leaf-list loops of [`Self::finish_batch`] and [`Self::flush_stream`]: the weights
    /// and products of the splits with a leaf child, listed in `batch.leaf_at`, replace what
    /// [`Self::weigh`] set for them. `lane(i)` gives split `i`'s parent and its constants.
    ///
    /// # Safety
    /// The leaf list must be set and padded, and its splits be subsets of their parents.
    #[inline(always)]
    unsafe fn weigh_leaf_list<const L: usize>(
        &self,
        batch: &mut Batch<L>,
        leaves: usize,
        lane: impl Fn(usize) -> (Mask, Parent),
        zz: &mut Lane<f64, L>,
        mm: &mut Lane<f64, L>,
    ) {
        let cells = &*self.cells;
        for j in 0..leaves {
            let i = batch.leaf_at.get(j) as usize;
            let a = batch.a.get(i);
            let s = lane(i).0;
            let ca = cells.get_unchecked(a as usize);
            let cb = cells.get_unchecked((s ^ a) as usize);
            batch
                .leaf_t_max
                .set(j, if ca.t >= cb.t { ca.t } else { cb.t });
            batch.leaf_sqrt_max.set(j, ca.sqrt_t.max(cb.sqrt_t));
        }
        for j in 0..padded::<L>(leaves) {
            let p = lane(batch.leaf_at.get(j) as usize).1;
            let w = p.leaf_weight(batch.leaf_t_max.get(j), batch.leaf_sqrt_max.get(j));
            batch.leaf_w.set(j, w);
        }
        for j in 0..leaves {
            let i = batch.leaf_at.get(j) as usize;
            let a = batch.a.get(i);
            let s = lane(i).0;
            let ca = cells.get_unchecked(a as usize);
            let cb = cells.get_unchecked((s ^ a) as usize);
            let w = batch.leaf_w.get(j);
            let finite = ca.z != 0.0 && cb.z != 0.0;
            zz.set(i, if finite { w * ca.z * cb.z } else { 0.0 });
            mm.set(i, if finite { w * ca.m * cb.m } else { 0.0 });
        }
    }

    /// The children's values of split `a` of `s`, straight from the cells.
    ///
    /// # Safety
    /// `a` must be a subset of `s`, and `s` have a cell.
    #[inline(always)]
    unsafe fn children(&self, s: Mask, a: Mask) -> Children {
        let ca = self.cells.get_unchecked(a as usize);
        let cb = self.cells.get_unchecked((s ^ a) as usize);
        let (t_max, t_min) = if ca.t >= cb.t {
            (ca.t, cb.t)
        } else {
            (cb.t, ca.t)
        };
        Children {
            t_max,
            t_min,
            // √ is monotonic, so this is the heavier child's √t (or an equal value).
            sqrt_max: ca.sqrt_t.max(cb.sqrt_t),
            za: ca.z,
            zb: cb.z,
            ma: ca.m,
            mb: cb.m,
        }
    }

    /// The first loop of [`Self::flush_linear`]: sets `zz` and `mm` for the padded batch and
    /// tells whether a split with two inner children had t_P2 = 0. With `LEAF_LANES`, the
    /// splits with a leaf child get their own weight; without, 0, for the leaf list to set. A
    /// scalar loop stages the children's values first: LLVM does not vectorize the loads for
    /// AVX2 or SSE2, and left the whole loop scalar (45% slower with AVX2 than staging).
    ///
    /// # Safety
    /// `batch.a` must be set up to `padded::<BATCH>(len)`, with subsets of `s`.
    #[inline(always)]
    unsafe fn weigh_subset<const LEAF_LANES: bool>(
        &self,
        p: &Parent,
        s: Mask,
        batch: &mut Batch,
        len: usize,
        zz: &mut Lane<f64>,
        mm: &mut Lane<f64>,
    ) -> bool {
        for i in 0..padded::<BATCH>(len) {
            let c = self.children(s, batch.a.get(i));
            batch.stage(i, c);
        }
        self.weigh::<LEAF_LANES, BATCH>(batch, len, |_| (s, *p), zz, mm)
    }

    /// The weights and products of a batch's splits, from the values staged in it: `lane(i)`
    /// gives split `i`'s parent and its constants (one parent for [`Self::weigh_subset`],
    /// several for [`Self::flush_stream`]); `LEAF_LANES` as in [`Self::weigh_subset`].
    ///
    /// # Safety
    /// The staged values must be set up to `padded(len)`.
    #[inline(always)]
    unsafe fn weigh<const LEAF_LANES: bool, const L: usize>(
        &self,
        batch: &mut Batch<L>,
        len: usize,
        lane: impl Fn(usize) -> (Mask, Parent),
        zz: &mut Lane<f64, L>,
        mm: &mut Lane<f64, L>,
    ) -> bool {
        let mut degenerate = false;
        for i in 0..padded::<L>(len) {
            let p = lane(i).1;
            let c = batch.staged(i);
            let t_p2 = p.t_p2(c.sqrt_max);
            let inner = c.t_min > 0.0;
            let w_inner = p.inner_weight(c.t_max, c.t_min, t_p2);
            let w = if LEAF_LANES && !inner {
                p.leaf_weight(c.t_max, c.sqrt_max)
            } else {
                w_inner
            };
            // In linear mode z = 0 exactly when a subset has no finite tree: a finite one
            // whose z underflowed has already failed the range check, which reruns the log
            // evaluation.
            let psi_finite = if LEAF_LANES {
                !inner | (t_p2 != 0.0)
            } else {
                inner & (t_p2 != 0.0)
            };
            let finite = psi_finite & (c.za != 0.0) & (c.zb != 0.0);
            degenerate |= inner & (t_p2 == 0.0);
            zz.set(i, if finite { w * c.za * c.zb } else { 0.0 });
            mm.set(i, if finite { w * c.ma * c.mb } else { 0.0 });
        }
        degenerate
    }

    /// The linear evaluation of all splits of `s`, in batches.
    #[inline(always)]
    fn fold_linear(&self, acc: &mut Acc, s: Mask, splits: mask::Splits) {
        let mut batch = Batch::new();
        let mut fill = Fill::default();
        // Up to NARROW_COUNT_LEAVES leaves every product and partial sum of the count fits 64
        // bits; it joins the u128 total before each flush, which may take some back.
        let narrow = s.count_ones() <= NARROW_COUNT_LEAVES;
        let mut part: u64 = 0;
        for a in splits {
            let (x, y) = self.push(&mut batch, &mut fill, s, a);
            if narrow {
                part += x as u64 * y as u64;
            } else {
                acc.count += count_product(x, y);
            }
            if fill.len == BATCH {
                acc.count += part as u128;
                part = 0;
                self.flush_linear(acc, s, &mut batch, fill);
                fill = Fill::default();
            }
        }
        acc.count += part as u128;
        if fill.len > 0 {
            self.flush_linear(acc, s, &mut batch, fill);
        }
    }

    /// [`Self::fold_linear`] compiled for AVX2 (four lanes instead of SSE2's two). FMA stays
    /// off so that the results are bit-identical to the baseline build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fold_linear_avx2(&self, acc: &mut Acc, s: Mask, splits: mask::Splits) {
        self.fold_linear(acc, s, splits)
    }

    /// Folds the linear evaluation of `splits` (all of `s`'s, or one part) into `acc` with the
    /// chosen vector instructions.
    #[inline]
    fn fold_run(&self, acc: &mut Acc, s: Mask, part_bits: u32, part: u32) {
        match self.simd {
            Simd::Baseline => self.fold_linear(acc, s, mask::splits_part(s, part_bits, part)),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `set_simd` requires the caller to have checked that the CPU has AVX2.
            Simd::Avx2 => unsafe {
                self.fold_linear_avx2(acc, s, mask::splits_part(s, part_bits, part))
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `set_simd` requires the caller to have checked that the CPU has AVX-512.
            Simd::Avx512 => unsafe { self.fold_linear_avx512(acc, s, part_bits, part) },
        }
    }

    /// The linear evaluation of the subsets of up to [`STREAM_LEAVES`] leaves, size by size, in
    /// batches of consecutive subsets' splits ([`Self::flush_stream`]). Each subset's values
    /// are those of [`Self::fold_linear`], bit for bit.
    #[inline(always)]
    fn solve_small<const PAIRS: bool>(&mut self) {
        let n = self.n;
        let mut st = Stream::new();
        for k in 2..=STREAM_LEAVES.min(n as u32) {
            let per = (1usize << (k - 1)) - 1;
            // The constants shared by all subsets of this size (the root's at k = n).
            let shared = self.parent(mask::full(k as usize));
            let mut fill = Fill::default();
            let mut open = Open::new(per);
            for s in recurrence::subsets_of_size(n, k) {
                let acc = self.begin(s);
                if acc.skip {
                    self.store(s, acc);
                    continue;
                }
                let p = self.parent(s);
                let low = mask::lowest(s);
                for a in mask::splits(s) {
                    let b = s ^ a;
                    // SAFETY: `a` and `b` are subsets of `s`, whose cell exists.
                    let (ca, cb) = unsafe {
                        (
                            self.cells.get_unchecked(a as usize),
                            self.cells.get_unchecked(b as usize),
                        )
                    };
                    let i = fill.len;
                    if leaf_child(low, a, b) {
                        st.batch.leaf_at.set(fill.leaves, i as u8);
                        fill.leaves += 1;
                    }
                    st.batch.a.set(i, a);
                    st.s.set(i, s);
                    st.sqrt_t.set(i, p.sqrt_t);
                    st.inv_t.set(i, p.inv_t);
                    st.both_leaves.set(i, p.both_leaves);
                    st.count.set(i, ca.count as u64 * cb.count as u64);
                    fill.len = i + 1;
                    if fill.len == STREAM {
                        self.flush_stream::<PAIRS>(&mut st, fill, &shared, k, &mut open);
                        fill = Fill::default();
                    }
                }
            }
            if fill.len > 0 {
                self.flush_stream::<PAIRS>(&mut st, fill, &shared, k, &mut open);
            }
        }
    }

    /// Evaluates a batch of splits of subsets of `k` leaves, as [`Self::flush_linear`] does
    /// for one subset's, and adds them up into each subset in split order, storing every
    /// subset whose last split is in the batch. `shared` holds the constants common to these
    /// subsets; `open`, the subset the batch begins in.
    #[inline(always)]
    fn flush_stream<const PAIRS: bool>(
        &mut self,
        st: &mut Stream,
        fill: Fill,
        shared: &Parent,
        k: u32,
        open: &mut Open,
    ) {
        let Fill { len, leaves } = fill;
        st.pad(fill);
        let per = (1usize << (k - 1)) - 1;
        let Stream {
            batch,
            s,
            sqrt_t,
            inv_t,
            both_leaves,
            count,
            zz,
            mm,
        } = st;
        let lane = |i: usize| {
            // SAFETY: the push loop set the lanes below `len`, `pad` the rest.
            unsafe {
                (
                    s.get(i),
                    Parent {
                        sqrt_t: sqrt_t.get(i),
                        inv_t: inv_t.get(i),
                        both_leaves: both_leaves.get(i),
                        ..*shared
                    },
                )
            }
        };
        let cells = &*self.cells;
        // SAFETY: as in `flush_linear`; every split is one of its parent's.
        unsafe {
            // Staged even with AVX-512: with the parents' values also read per lane, gathers in
            // the vector loop were slower (a 9-leaf jet 91 µs against 81 µs staged); `PAIRS`
            // stages by 16-byte pairs (74 µs).
            if PAIRS {
                #[cfg(target_arch = "x86_64")]
                avx512::stage(self.cells.as_ptr(), batch, s, len);
            } else {
                for i in 0..padded::<STREAM>(len) {
                    batch.stage(i, self.children(lane(i).0, batch.a.get(i)));
                }
            }
            let degenerate = if k <= STREAM_LEAF_LANES {
                self.weigh::<true, STREAM>(batch, len, lane, zz, mm)
            } else {
                let d = self.weigh::<false, STREAM>(batch, len, lane, zz, mm);
                self.weigh_leaf_list(batch, leaves, lane, zz, mm);
                d
            };
            if degenerate {
                for i in 0..len {
                    let (s, p) = lane(i);
                    let a = batch.a.get(i);
                    let ca = cells.get_unchecked(a as usize);
                    let cb = cells.get_unchecked((s ^ a) as usize);
                    if p.degenerate(ca, cb) {
                        count.set(i, 0);
                    }
                }
            }
            for i in 0..len {
                open.z += zz.get(i);
                let m = mm.get(i);
                if m > open.m {
                    open.m = m;
                    open.best = batch.a.get(i);
                }
                open.count += count.get(i);
                open.left -= 1;
                if open.left == 0 {
                    let acc = Acc {
                        z: open.z,
                        z_done: 0.0,
                        zmax: f64::NEG_INFINITY,
                        m: open.m,
                        count: open.count as u128,
                        best: open.best,
                        skip: false,
                    };
                    self.store(s.get(i), acc);
                    *open = Open::new(per);
                }
            }
        }
    }

    /// [`Self::solve_small`] compiled for AVX2 (see [`Self::fold_linear_avx2`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn solve_small_avx2(&mut self) {
        self.solve_small::<false>()
    }

    /// [`Self::solve_small`] compiled for AVX-512, staging by pairs ([`avx512::stage`]). The
    /// feature set includes FMA, but Rust never fuses `a * b + c` on its own, so the results
    /// stay bit-identical to the baseline build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    unsafe fn solve_small_avx512(&mut self) {
        self.solve_small::<true>()
    }

    /// Appends split `a` of `s` to the batch (and to its leaf list if a child is a single
    /// leaf), and returns the children's tree counts: their product `N(A) N(B)` is 0 unless
    /// both children have finite trees, and `flush_linear` takes back the rare splits whose ψ is
    /// −∞ for a finite pair.
    #[inline(always)]
    fn push(&self, batch: &mut Batch, fill: &mut Fill, s: Mask, a: Mask) -> (u128, u128) {
        let b = s ^ a;
        // SAFETY: `a` and `b` are subsets of `s`, whose cell exists. Unchecked indexing (no
        // panic path) also lets the caller keep its count in a register.
        let (ca, cb) = unsafe {
            (
                self.cells.get_unchecked(a as usize),
                self.cells.get_unchecked(b as usize),
            )
        };
        let len = fill.len;
        if leaf_child(mask::lowest(s), a, b) {
            batch.leaf_at.set(fill.leaves, len as u8);
            fill.leaves += 1;
        }
        batch.a.set(len, a);
        fill.len = len + 1;
        (ca.count, cb.count)
    }

    #[inline(always)]
    fn split_log(&self, acc: &mut Acc, a: Mask, b: Mask) {
        let ca = &self.cells[a as usize];
        let cb = &self.cells[b as usize];
        if ca.count == 0 || cb.count == 0 {
            return;
        }
        let psi = self.split_llh(a, b);
        if psi == f64::NEG_INFINITY {
            return;
        }
        acc.count += ca.count * cb.count;
        let m = psi + ca.m + cb.m;
        if m > acc.m {
            acc.m = m;
            acc.best = a;
        }
        let v = psi + ca.z + cb.z;
        if v > acc.zmax {
            acc.z = acc.z * math::exp(acc.zmax - v) + 1.0;
            acc.zmax = v;
        } else {
            acc.z += math::exp(v - acc.zmax);
        }
    }
}

impl Recurrence for GinkgoTrellis<'_> {
    type Acc = Acc;

    #[inline]
    fn begin(&self, s: Mask) -> Acc {
        let (z, m) = match self.mode {
            Mode::Linear => (0.0, 0.0),
            Mode::Log => (0.0, f64::NEG_INFINITY),
        };
        Acc {
            z,
            z_done: 0.0,
            zmax: f64::NEG_INFINITY,
            m,
            count: 0,
            best: 0,
            skip: !can_split(self.cells[s as usize].t, self.params.t_cut),
        }
    }

    #[inline]
    fn skip(&self, acc: &Acc) -> bool {
        acc.skip
    }

    #[inline]
    fn split(&self, acc: &mut Acc, s: Mask, a: Mask, b: Mask, index: u32) {
        match self.mode {
            Mode::Linear => {
                let k = mask::size(s);
                if k >= PARTS_FROM && index > 0 && index.is_multiple_of(1 << (k - 1 - PART_BITS)) {
                    acc.z_done += acc.z;
                    acc.z = 0.0;
                }
                let mut batch = Batch::new();
                let mut fill = Fill::default();
                let (x, y) = self.push(&mut batch, &mut fill, s, a);
                acc.count += count_product(x, y);
                self.flush_linear(acc, s, &mut batch, fill);
            }
            Mode::Log => self.split_log(acc, a, b),
        }
    }

    #[inline]
    fn fold_splits(&self, acc: &mut Acc, s: Mask) {
        match (self.mode, self.simd) {
            (Mode::Log, _) => {
                for a in mask::splits(s) {
                    self.split_log(acc, a, s ^ a);
                }
            }
            (Mode::Linear, _) if mask::size(s) >= PARTS_FROM => {
                for p in 0..PARTS {
                    let mut part = self.begin(s);
                    self.fold_run(&mut part, s, PART_BITS, p as u32);
                    acc.absorb(part);
                }
            }
            (Mode::Linear, _) => self.fold_run(acc, s, 0, 0),
        }
    }

    fn store(&mut self, s: Mask, acc: Acc) {
        let c = &mut self.cells[s as usize];
        c.count = acc.count;
        c.best = acc.best;
        match self.mode {
            Mode::Linear => {
                c.z = acc.z_done + acc.z;
                c.m = acc.m;
                if acc.count > 0 && !in_linear_range(c.z, acc.m) {
                    self.linear_ok = false;
                }
            }
            Mode::Log => {
                c.m = acc.m;
                c.z = if acc.count == 0 {
                    f64::NEG_INFINITY
                } else {
                    acc.zmax + math::ln(acc.z)
                };
            }
        }
    }
}
