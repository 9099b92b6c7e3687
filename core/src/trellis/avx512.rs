//! The linear evaluation of one subset's splits in AVX-512. The portable loop stages every
//! child value through memory, one scalar load and store at a time, and that traffic bounded
//! it; here the children's cells are read as 16-byte pairs (`t` with `√t`, `z` with the MAP
//! value, side by side in [`Cell`]) straight into registers and transposed there. Every
//! arithmetic step is the one of [`Parent::inner_weight`] and [`crate::math::exp_nonpositive`], in
//! the same order and without fused multiply-adds, so each value is the portable one, bit for
//! bit; the splits with a leaf child and the sums go through [`GinkgoTrellis::finish_batch`],
//! shared with the portable loop.
//!
//! Only [`GinkgoTrellis::fold_linear_avx512`] enables the target features; the helpers are
//! `unsafe` and always inlined into it, so they run with AVX-512 enabled (a function with
//! `#[target_feature]` cannot be `#[inline(always)]`). Call them only from there.

use super::{
    count_product, leaf_child, padded, Acc, Batch, Cell, Fill, GinkgoTrellis, Lane, Parent, BATCH,
    LANES, NARROW_COUNT_LEAVES,
};
use crate::mask::{self, Mask};
use core::arch::x86_64::*;
use core::mem::offset_of;

type V = __m512d;

/// Offsets (in `f64`) of the two pairs a split reads of each child.
const T: usize = offset_of!(Cell, t) / 8;
const Z: usize = offset_of!(Cell, z) / 8;
const _: () = assert!(
    offset_of!(Cell, sqrt_t) == offset_of!(Cell, t) + 8
        && offset_of!(Cell, m) == offset_of!(Cell, z) + 8
        && offset_of!(Cell, t) % 8 == 0
        && offset_of!(Cell, z) % 8 == 0
);

#[inline(always)]
unsafe fn splat(x: f64) -> V {
    _mm512_set1_pd(x)
}

#[inline(always)]
unsafe fn add(a: V, b: V) -> V {
    _mm512_add_pd(a, b)
}

#[inline(always)]
unsafe fn sub(a: V, b: V) -> V {
    _mm512_sub_pd(a, b)
}

#[inline(always)]
unsafe fn mul(a: V, b: V) -> V {
    _mm512_mul_pd(a, b)
}

/// `c0 + r·c1`.
#[inline(always)]
unsafe fn pair(r: V, c0: f64, c1: f64) -> V {
    add(splat(c0), mul(r, splat(c1)))
}

/// The pairs at `off` of four cells, as `(x0, y0, x1, y1, x2, y2, x3, y3)`.
#[inline(always)]
unsafe fn four(c: &[*const f64], off: usize) -> V {
    // SAFETY (all four): each pointer is a cell, `off + 1` is inside it.
    unsafe {
        let v = _mm512_castpd128_pd512(_mm_loadu_pd(c[0].add(off)));
        let v = _mm512_insertf64x2::<1>(v, _mm_loadu_pd(c[1].add(off)));
        let v = _mm512_insertf64x2::<2>(v, _mm_loadu_pd(c[2].add(off)));
        _mm512_insertf64x2::<3>(v, _mm_loadu_pd(c[3].add(off)))
    }
}

/// The pairs at `off` of eight cells, split into the first and the second members.
#[inline(always)]
unsafe fn pairs(c: &[*const f64; LANES], off: usize) -> (V, V) {
    // SAFETY: as `four`.
    let (lo, hi) = unsafe { (four(&c[..4], off), four(&c[4..], off)) };
    let even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    let odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    (
        _mm512_permutex2var_pd(lo, even, hi),
        _mm512_permutex2var_pd(lo, odd, hi),
    )
}

/// [`crate::math::exp_nonpositive`], operation for operation.
#[inline(always)]
unsafe fn exp_nonpositive(x: V) -> V {
    use crate::math::{EXP_MIN_ARG, INV_FACTORIAL as F, LN2_HI, LN2_LO, ROUND_SHIFT};
    // `x > min ? x : min`: vmaxpd returns its second operand for a NaN, as the comparison does.
    let x = _mm512_max_pd(x, splat(EXP_MIN_ARG));
    let shifted = add(mul(x, splat(core::f64::consts::LOG2_E)), splat(ROUND_SHIFT));
    let kf = sub(shifted, splat(ROUND_SHIFT));
    let r = sub(sub(x, mul(kf, splat(LN2_HI))), mul(kf, splat(LN2_LO)));
    let r2 = mul(r, r);
    let r4 = mul(r2, r2);
    let r8 = mul(r4, r4);
    let e4 = pair(r, F[4], F[5]);
    let e6 = pair(r, F[6], F[7]);
    let e8 = pair(r, F[8], F[9]);
    let e10 = pair(r, F[10], F[11]);
    let e12 = pair(r, F[12], F[13]);
    let f4 = add(e4, mul(r2, e6));
    let f8 = add(e8, mul(r2, e10));
    let tail = add(add(f4, mul(r4, f8)), mul(r8, e12));
    let mut p = add(splat(F[3]), mul(r, tail));
    p = add(splat(F[2]), mul(r, p));
    p = add(splat(F[1]), mul(r, p));
    p = add(splat(F[0]), mul(r, p));
    let k = _mm512_sub_epi64(
        _mm512_castpd_si512(shifted),
        _mm512_set1_epi64(ROUND_SHIFT.to_bits() as i64),
    );
    let scale = _mm512_slli_epi64::<52>(_mm512_add_epi64(k, _mm512_set1_epi64(1023)));
    mul(p, _mm512_castsi512_pd(scale))
}

/// [`super::Children`] of eight splits, one register per value.
struct Children {
    t_max: V,
    t_min: V,
    sqrt_max: V,
    za: V,
    zb: V,
    ma: V,
    mb: V,
}

/// The values of the splits whose children are the cells `a[i]` and `b[i]`, chosen as
/// [`GinkgoTrellis::children`] chooses them.
#[inline(always)]
unsafe fn children(a: &[*const f64; LANES], b: &[*const f64; LANES]) -> Children {
    // SAFETY: the pointers are cells.
    let ((ta, sa), (za, ma), (tb, sb), (zb, mb)) =
        unsafe { (pairs(a, T), pairs(a, Z), pairs(b, T), pairs(b, Z)) };
    let a_heavier = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(ta, tb);
    Children {
        t_max: _mm512_mask_blend_pd(a_heavier, tb, ta),
        t_min: _mm512_mask_blend_pd(a_heavier, ta, tb),
        sqrt_max: _mm512_max_pd(sa, sb),
        za,
        zb,
        ma,
        mb,
    }
}

/// Stores eight `f64` at lane `i` of `lane`.
#[inline(always)]
unsafe fn put<const L: usize>(lane: &mut Lane<f64, L>, i: usize, v: V) {
    // SAFETY: the caller keeps `i + LANES ≤ L`.
    unsafe { _mm512_storeu_pd(lane.0.as_mut_ptr().add(i).cast(), v) }
}

/// Stages the children's values of the splits `batch.a[i]` of `parent[i]` for `i` below
/// `padded(len)`, as [`Batch::stage`] of [`GinkgoTrellis::children`] does one by one.
///
/// # Safety
/// AVX-512 enabled (see the module); `batch.a` and `parent` set up to `padded(len)`, each
/// split a subset of its parent, and `cells` the cells.
#[inline(always)]
pub(super) unsafe fn stage<const L: usize>(
    cells: *const Cell,
    batch: &mut Batch<L>,
    parent: &Lane<Mask, L>,
    len: usize,
) {
    for g in (0..padded::<L>(len)).step_by(LANES) {
        let mut pa = [cells.cast::<f64>(); LANES];
        let mut pb = pa;
        for l in 0..LANES {
            // SAFETY: set below `padded(len)`; subsets of a parent whose cell exists.
            unsafe {
                let a = batch.a.get(g + l);
                pa[l] = cells.add(a as usize).cast();
                pb[l] = cells.add((parent.get(g + l) ^ a) as usize).cast();
            }
        }
        // SAFETY: the pointers are cells; `g + LANES ≤ L` (whole groups).
        unsafe {
            let c = children(&pa, &pb);
            put(&mut batch.t_max, g, c.t_max);
            put(&mut batch.t_min, g, c.t_min);
            put(&mut batch.sqrt_max, g, c.sqrt_max);
            put(&mut batch.za, g, c.za);
            put(&mut batch.zb, g, c.zb);
            put(&mut batch.ma, g, c.ma);
            put(&mut batch.mb, g, c.mb);
        }
    }
}

/// What a group of eight splits gives back: the products `w·z_A·z_B` and `w·m_A·m_B` (0 unless
/// ψ and both children are finite, weights as if both children were inner clusters) and the
/// splits of two inner children with t_P2 = 0.
struct Weighed {
    zz: V,
    mm: V,
    degenerate: __mmask8,
}

/// The group of splits whose children are the cells `a[i]` and `b[i]`, as the portable loop
/// weighs it without its leaf lanes.
#[inline(always)]
unsafe fn weigh(
    p: &Parent,
    k_inv_t: f64,
    a: &[*const f64; LANES],
    b: &[*const f64; LANES],
) -> Weighed {
    // SAFETY: the pointers are cells.
    let Children {
        t_max,
        t_min,
        sqrt_max,
        za,
        zb,
        ma,
        mb,
    } = unsafe { children(a, b) };
    // Parent::t_p2
    let d = sub(splat(p.sqrt_t), sqrt_max);
    let t_p2 = mul(d, d);
    // Parent::inner_weight
    let inv2 = _mm512_div_pd(splat(1.0), t_p2);
    let x = add(mul(t_max, splat(p.inv_t)), mul(t_min, inv2));
    // SAFETY: AVX-512 is enabled in the only caller.
    let e = unsafe { exp_nonpositive(mul(splat(-p.lambda), x)) };
    let w = mul(mul(splat(k_inv_t), inv2), e);
    let inner = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(t_min, splat(0.0));
    let p2_zero = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(t_p2, splat(0.0));
    let finite = inner
        & !p2_zero
        & _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(za, splat(0.0))
        & _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(zb, splat(0.0));
    Weighed {
        zz: _mm512_maskz_mul_pd(finite, mul(w, za), zb),
        mm: _mm512_maskz_mul_pd(finite, mul(w, ma), mb),
        degenerate: inner & p2_zero,
    }
}

impl GinkgoTrellis<'_> {
    /// [`Self::fold_linear`] in AVX-512: the same batches, leaf lists, counts and sums, with
    /// the first loop's children read as pairs (see the module).
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn fold_linear_avx512(
        &self,
        acc: &mut Acc,
        s: Mask,
        part_bits: u32,
        part: u32,
    ) {
        let p = self.parent(s);
        let k_inv_t = p.k_inner * p.inv_t;
        let cells = self.cells.as_ptr();
        let at = |m: Mask| {
            // SAFETY: every split's parts are subsets of `s`, whose cell exists.
            unsafe { cells.add(m as usize).cast::<f64>() }
        };
        let narrow = mask::size(s) <= NARROW_COUNT_LEAVES;
        let low = mask::lowest(s);
        // The run's `A`s, as `mask::Splits` yields them: with `sub` starting from a constant 0
        // (not the part's first submask of `s ∖ low`), this loop is a third faster (N = 16 on one
        // core, `jettrellis bench`: 0.15 s against 0.20 s with the other start).
        let splits = mask::splits_part(s, part_bits, part);
        let (fixed, rest) = (splits.fixed(), splits.varying());
        let mut sub: Mask = 0;
        let mut left = splits.total();
        let mut batch = Batch::new();
        let mut zz = Lane::<f64>::new();
        let mut mm = Lane::<f64>::new();
        while left > 0 {
            let len = left.min(BATCH as u64) as usize;
            left -= len as u64;
            let mut fill = Fill { len, leaves: 0 };
            let mut part: u64 = 0;
            let mut degenerate = false;
            for g in (0..len).step_by(LANES) {
                let mut pa = [cells.cast::<f64>(); LANES];
                let mut pb = pa;
                for l in 0..LANES {
                    let i = g + l;
                    // Past the end, the split (s, ∅): the empty set's Z = 0 keeps it out.
                    let (a, b) = if i < len {
                        let a = fixed | sub;
                        sub = sub.wrapping_sub(rest) & rest;
                        let b = s ^ a;
                        if leaf_child(low, a, b) {
                            batch.leaf_at.set(fill.leaves, i as u8);
                            fill.leaves += 1;
                        }
                        // SAFETY: subsets of `s`.
                        let (ca, cb) = unsafe {
                            (
                                self.cells.get_unchecked(a as usize),
                                self.cells.get_unchecked(b as usize),
                            )
                        };
                        if narrow {
                            part += ca.count as u64 * cb.count as u64;
                        } else {
                            acc.count += count_product(ca.count, cb.count);
                        }
                        (a, b)
                    } else {
                        (s, 0)
                    };
                    batch.a.set(i, a);
                    pa[l] = at(a);
                    pb[l] = at(b);
                }
                // SAFETY: AVX-512 is enabled here; the pointers are cells.
                let w = unsafe { weigh(&p, k_inv_t, &pa, &pb) };
                // SAFETY: `g + LANES ≤ BATCH`: the lanes hold whole groups.
                unsafe {
                    _mm512_storeu_pd(zz.0.as_mut_ptr().add(g).cast(), w.zz);
                    _mm512_storeu_pd(mm.0.as_mut_ptr().add(g).cast(), w.mm);
                }
                degenerate |= w.degenerate != 0;
            }
            acc.count += part as u128;
            batch.pad(s, len, fill.leaves);
            // SAFETY: the batch is padded, its splits are subsets of `s`, `zz` and `mm` set.
            unsafe {
                self.finish_batch(
                    acc, s, &p, &mut batch, fill, true, degenerate, &mut zz, &mut mm,
                )
            };
        }
    }
}
