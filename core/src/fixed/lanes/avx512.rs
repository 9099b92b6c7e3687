//! The lane model's arithmetic in AVX-512: one register holds a 32-bit value of all sixteen
//! jets, a select is a mask. The few values that need 64 bits — t, the tree count, and the
//! products `u · log2e` and `d²` before they are rounded — take two registers of eight lanes
//! (lanes 0–7 and 8–15). A table of at most [`SMALL_LUT`] entries is read with register
//! permutes, a larger one with one gather of each lane's two neighbouring entries.
//! Each function mirrors the scalar unit of the same name (`fixed::units`, `fixed::model`).
//!
//! Only the `target_feature` entry points enable AVX-512; the helpers are `unsafe` and always
//! inlined into them, so they run with AVX-512 enabled (a function with `#[target_feature]`
//! cannot be `#[inline(always)]`, and a call that is not inlined would cost its arguments a trip
//! through memory). Their one precondition is that: call them only from those entry points.

use super::{Counts, LaneAcc, LaneCell, LaneTrellis, PermLut, LANES, NEG, SMALL_LUT};
use crate::fixed::design::MAX_LUT;
use crate::fixed::model::{pair_sum, LEVELS};
use crate::fixed::tables::{
    Lut, Tables, EXP_TABLE_FRAC, LOG2E_FRAC, RATIO_CLAMP_NATS, RATIO_MAX_SHIFT,
};
use crate::fixed::units::Stage;
use crate::mask::{self, Mask};
use core::arch::x86_64::*;

type V = __m512i;
type K = __mmask16;

/// Lanes of one 64-bit half.
const HALF: usize = LANES / 2;

#[inline(always)]
unsafe fn splat(x: i32) -> V {
    _mm512_set1_epi32(x)
}

#[inline(always)]
unsafe fn splat64(x: i64) -> V {
    _mm512_set1_epi64(x)
}

#[inline(always)]
unsafe fn load<T>(p: &[T; LANES]) -> V {
    const { assert!(size_of::<T>() == 4) };
    // SAFETY: sixteen 4-byte values are 64 readable bytes; the load is unaligned.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}

#[inline(always)]
unsafe fn store<T>(p: &mut [T; LANES], v: V) {
    const { assert!(size_of::<T>() == 4) };
    // SAFETY: sixteen 4-byte values are 64 writable bytes; the store is unaligned.
    unsafe { _mm512_storeu_si512(p.as_mut_ptr().cast(), v) }
}

/// The two halves of sixteen 64-bit values.
#[inline(always)]
unsafe fn load64(p: &[u64; LANES]) -> (V, V) {
    // SAFETY: 2 × 64 readable bytes.
    unsafe {
        (
            _mm512_loadu_si512(p.as_ptr().cast()),
            _mm512_loadu_si512(p.as_ptr().add(HALF).cast()),
        )
    }
}

/// Sixteen 32-bit lanes from the low halves of two registers of eight 64-bit lanes.
#[inline(always)]
unsafe fn pack(lo: V, hi: V) -> V {
    let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    _mm512_permutex2var_epi32(lo, even, hi)
}

/// Sixteen unsigned 32-bit lanes zero-extended into two halves.
#[inline(always)]
unsafe fn widen(x: V) -> (V, V) {
    (
        _mm512_cvtepu32_epi64(_mm512_castsi512_si256(x)),
        _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(x)),
    )
}

/// One mask of sixteen lanes from the masks of two halves.
#[inline(always)]
fn join(lo: __mmask8, hi: __mmask8) -> K {
    lo as K | (hi as K) << HALF
}

/// `k ? a : b` per lane.
#[inline(always)]
unsafe fn sel(k: K, a: V, b: V) -> V {
    _mm512_mask_blend_epi32(k, b, a)
}

#[inline(always)]
unsafe fn fin(x: V) -> K {
    _mm512_cmpneq_epi32_mask(x, splat(NEG))
}

#[inline(always)]
unsafe fn val(x: V) -> V {
    _mm512_maskz_mov_epi32(fin(x), x)
}

/// `round_shift` by a shift shared by all lanes; exact while `x + 2^(s−1)` fits 32 bits.
#[inline(always)]
unsafe fn round_shift(x: V, s: u32) -> V {
    if s == 0 {
        x
    } else {
        _mm512_srav_epi32(_mm512_add_epi32(x, splat(1 << (s - 1))), splat(s as i32))
    }
}

/// Adds one to the counter lanes selected by `k`.
#[inline(always)]
unsafe fn count(c: V, k: K) -> V {
    _mm512_mask_add_epi32(c, k, c, splat(1))
}

/// Entry `j` of a table of `size` ≤ [`SMALL_LUT`] entries (index bits from `log2(size)` up are
/// ignored).
#[inline(always)]
unsafe fn permute(t: &[i32; SMALL_LUT], size: usize, j: V) -> V {
    let p = t.as_ptr();
    // SAFETY: the loads of sixteen entries each lie inside the SMALL_LUT entries.
    let pair = |k: usize| unsafe {
        _mm512_permutex2var_epi32(
            _mm512_loadu_si512(p.add(32 * k).cast()),
            j,
            _mm512_loadu_si512(p.add(32 * k + 16).cast()),
        )
    };
    let b5 = _mm512_test_epi32_mask(j, splat(32));
    match size {
        0..=32 => pair(0),
        33..=64 => sel(b5, pair(1), pair(0)),
        _ => sel(
            _mm512_test_epi32_mask(j, splat(64)),
            sel(b5, pair(3), pair(2)),
            sel(b5, pair(1), pair(0)),
        ),
    }
}

/// `Lut::read` at the offsets `d` (unsigned; lanes at or beyond the span get a meaningless
/// value, never an out-of-bounds read).
#[inline(always)]
unsafe fn read(lut: &Lut, perm: &PermLut, d: V) -> V {
    let s = lut.step_log2;
    let j = _mm512_srlv_epi32(d, splat(s as i32));
    let (y0, dy) = if perm.small {
        (
            permute(&perm.y, lut.size, j),
            permute(&perm.dy, lut.size, j),
        )
    } else {
        let j = _mm512_min_epu32(j, splat(MAX_LUT as i32 - 1));
        let base = lut.vals.as_ptr().cast::<i64>();
        // SAFETY: j ≤ MAX_LUT − 1, so the 8 bytes at entry j (entries j and j + 1) lie
        // inside the MAX_LUT + 1 entries of `vals`.
        let (lo, hi) = unsafe {
            (
                _mm512_i32gather_epi64(_mm512_castsi512_si256(j), base.cast(), 4),
                _mm512_i32gather_epi64(_mm512_extracti64x4_epi64::<1>(j), base.cast(), 4),
            )
        };
        let y0 = pack(lo, hi);
        let odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
        (
            y0,
            _mm512_sub_epi32(_mm512_permutex2var_epi32(lo, odd, hi), y0),
        )
    };
    if s == 0 {
        return y0;
    }
    let r = _mm512_and_si512(d, splat((1 << s) - 1));
    if !perm.wide {
        // |y[j+1] − y[j]| · r + 2^(s−1) < 2^31 (`PermLut::new`).
        return _mm512_add_epi32(y0, round_shift(_mm512_mullo_epi32(dy, r), s));
    }
    // The rounded product lands between two 32-bit entries.
    _mm512_add_epi32(y0, mul_round_shift(dy, r, s))
}

#[inline(always)]
unsafe fn sat(tab: &Tables, x: V) -> (V, K) {
    let max = tab.score_max as i32;
    let c = _mm512_max_epi32(_mm512_min_epi32(x, splat(max)), splat(-max));
    (c, _mm512_cmpneq_epi32_mask(c, x))
}

/// One half of [`ln`]: the leading zeros of `x` (of 1 for x = 0), the `m_bits` bits below its
/// leading one, and which lanes are 0.
#[inline(always)]
unsafe fn ln_half(x: V, m_bits: u32) -> (V, V, __mmask8) {
    let zero = _mm512_cmpeq_epi64_mask(x, _mm512_setzero_si512());
    let xs = _mm512_mask_mov_epi64(x, zero, splat64(1));
    let lz = _mm512_lzcnt_epi64(xs);
    let m = _mm512_srlv_epi64(
        _mm512_slli_epi64(_mm512_sllv_epi64(xs, lz), 1),
        splat64(64 - m_bits as i64),
    );
    (lz, m, zero)
}

/// `Tables::ln(x, t_frac)` of sixteen 64-bit values given as two halves.
#[inline(always)]
unsafe fn ln(tr: &LaneTrellis, (lo, hi): (V, V)) -> V {
    let tab = tr.tab;
    let m_bits = tab.ln.size.trailing_zeros() + tab.ln.step_log2;
    let (lz0, m0, z0) = ln_half(lo, m_bits);
    let (lz1, m1, z1) = ln_half(hi, m_bits);
    let v = _mm512_add_epi32(
        permute(&tr.ln_exponent, 64, pack(lz0, lz1)),
        read(&tab.ln, &tr.perm[PermLut::LN], pack(m0, m1)),
    );
    _mm512_mask_mov_epi32(v, join(z0, z1), splat(NEG))
}

/// `round_shift(a · b, s)` per lane (s ≥ 1) of signed 32-bit lanes: the exact 64-bit products of
/// the even and the odd lanes, rounded back into 32 bits (the caller knows the result fits).
#[inline(always)]
unsafe fn mul_round_shift(a: V, b: V, s: u32) -> V {
    let half = splat64(1 << (s - 1));
    let sh = _mm_cvtsi32_si128(s as i32);
    let even = _mm512_mul_epi32(a, b);
    let odd = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
    let even = _mm512_sra_epi64(_mm512_add_epi64(even, half), sh);
    let odd = _mm512_sra_epi64(_mm512_add_epi64(odd, half), sh);
    _mm512_mask_blend_epi32(0xaaaa, even, _mm512_slli_epi64(odd, 32))
}

/// `round_shift(u · log2e, LOG2E_FRAC)`.
#[inline(always)]
unsafe fn times_log2e(tab: &Tables, u: V) -> V {
    mul_round_shift(u, splat(tab.log2e as i32), LOG2E_FRAC)
}

/// The ratio unit's `y` and `sh` (`y · 2^-sh = λ e^u`) for a `u` inside ±64 nats; 0 < y < 2^31
/// (`LaneTrellis::new` checks the table).
#[inline(always)]
unsafe fn exp(tab: &Tables, lut: &Lut, perm: &PermLut, u: V) -> (V, V) {
    let g = tab.design.internal.log_frac;
    let v = times_log2e(tab, u);
    let k = _mm512_srav_epi32(v, splat(g as i32));
    let f = _mm512_and_si512(v, splat((1 << g) - 1));
    let sh = _mm512_sub_epi32(splat(EXP_TABLE_FRAC as i32 - g as i32), k);
    (read(lut, perm, f), sh)
}

/// `Tables::ratio` on the lanes of `care`; the others get a meaningless value.
#[inline(always)]
unsafe fn ratio(tr: &LaneTrellis, root: bool, u: V, care: K) -> (V, K) {
    let tab = tr.tab;
    let (lt, perm) = if root {
        (&tab.root, &tr.perm[PermLut::EXP_ROOT])
    } else {
        (&tab.inner, &tr.perm[PermLut::EXP])
    };
    let g = tab.design.internal.log_frac;
    let lim = (RATIO_CLAMP_NATS << g) as i32;
    let max = splat(tab.score_max as i32);
    let top = RATIO_MAX_SHIFT as i32;
    // The common case on every lane that matters — u inside the clamp, y shifted down by at
    // most 31 — needs none of the rules below but the last.
    let inside = _mm512_cmplt_epu32_mask(_mm512_add_epi32(u, splat(lim - 1)), splat(2 * lim - 1));
    let (y, sh) = exp(tab, &lt.exp, perm, u);
    if inside & _mm512_cmple_epu32_mask(sh, splat(31)) | !care == 0xffff {
        let half = _mm512_srli_epi32(_mm512_sllv_epi32(splat(1), sh), 1);
        let down = _mm512_srlv_epi32(_mm512_add_epi32(y, half), sh);
        let over = _mm512_cmpgt_epi32_mask(down, max);
        return (sel(over, max, down), over);
    }
    let (y, sh) = exp(
        tab,
        &lt.exp,
        perm,
        _mm512_max_epi32(_mm512_min_epi32(u, splat(lim)), splat(-lim)),
    );
    // A shift of 32 or more leaves 0 of a y below 2^31, as the scalar unit's 64-bit one does.
    let shc = _mm512_max_epi32(_mm512_min_epi32(sh, splat(top - 1)), _mm512_setzero_si512());
    let half = _mm512_srli_epi32(_mm512_sllv_epi32(splat(1), shc), 1);
    let down = _mm512_srlv_epi32(_mm512_add_epi32(y, half), shc);
    let nsh = _mm512_max_epi32(
        _mm512_min_epi32(
            _mm512_sub_epi32(_mm512_setzero_si512(), sh),
            splat(top - 1 - EXP_TABLE_FRAC as i32),
        ),
        _mm512_setzero_si512(),
    );
    let up = _mm512_sllv_epi32(y, nsh);
    let to_zero = _mm512_cmple_epi32_mask(u, splat(-lim)) | _mm512_cmpge_epi32_mask(sh, splat(top));
    let to_max = _mm512_cmpge_epi32_mask(u, splat(lim))
        | _mm512_cmple_epi32_mask(sh, splat(EXP_TABLE_FRAC as i32 - top));
    let shift_down = _mm512_cmpge_epi32_mask(sh, _mm512_setzero_si512());
    // Compared before shifting, as the scalar unit does: `up` may have left 32 bits.
    let over_up = _mm512_cmpgt_epi32_mask(y, _mm512_srlv_epi32(max, nsh));
    let over_down = _mm512_cmpgt_epi32_mask(down, max);
    let over = (shift_down & over_down) | (!shift_down & over_up);
    let shifted = sel(shift_down, down, up);
    // From the weakest rule to the strongest, as the scalar unit's if-chain reads upwards.
    let r = sel(over, max, shifted);
    let r = sel(to_max, max, r);
    let r = sel(to_zero, _mm512_setzero_si512(), r);
    let o = (over | to_max) & !to_zero;
    (r, o)
}

/// `DENS_L` on the lanes of `care`.
#[inline(always)]
unsafe fn density(tr: &LaneTrellis, root: bool, ln_t: V, ln_s: V, care: K) -> (V, K) {
    let lt = if root { &tr.tab.root } else { &tr.tab.inner };
    let (r, o) = ratio(tr, root, _mm512_sub_epi32(ln_t, ln_s), care);
    (
        _mm512_sub_epi32(_mm512_sub_epi32(splat(lt.k_inner as i32), ln_s), r),
        o,
    )
}

#[inline(always)]
unsafe fn leaf(tr: &LaneTrellis, root: bool, l: V) -> V {
    let (lt, perm) = if root {
        (&tr.tab.root, &tr.perm[PermLut::LEAF_ROOT])
    } else {
        (&tr.tab.inner, &tr.perm[PermLut::LEAF])
    };
    // At l = −∞ d and both reads are garbage, which the last select replaces.
    let d = _mm512_sub_epi32(l, splat(lt.leaf_lo as i32));
    let inside = read(&lt.leaf, perm, d);
    let above = _mm512_sub_epi32(splat((lt.k_norm + lt.c_leaf) as i32), l);
    let r = sel(
        _mm512_cmpge_epu32_mask(d, splat(lt.leaf.span() as i32)),
        above,
        inside,
    );
    let low = !fin(l) | _mm512_cmplt_epi32_mask(d, _mm512_setzero_si512());
    sel(low, splat(lt.k_norm as i32), r)
}

#[inline(always)]
unsafe fn max_star(tr: &LaneTrellis, a: V, b: V) -> (V, K) {
    let tab = tr.tab;
    // A −∞ input makes d and the sum garbage, which the last selects replace.
    let hi = _mm512_max_epi32(a, b);
    let d = _mm512_sub_epi32(hi, _mm512_min_epi32(a, b));
    let corr = _mm512_maskz_mov_epi32(
        _mm512_cmplt_epu32_mask(d, splat(tab.corr.span() as i32)),
        read(&tab.corr, &tr.perm[PermLut::CORR], d),
    );
    let (r, o) = sat(tab, _mm512_add_epi32(hi, corr));
    let (fa, fb) = (fin(a), fin(b));
    (sel(!fa, b, sel(!fb, a, r)), o & fa & fb)
}

/// `t(a) ≥ t(b)` of the 64-bit t of two cells.
#[inline(always)]
unsafe fn t_ge(ca: &LaneCell, cb: &LaneCell) -> K {
    let ((a0, a1), (b0, b1)) = (load64(&ca.t), load64(&cb.t));
    join(
        _mm512_cmpge_epu64_mask(a0, b0),
        _mm512_cmpge_epu64_mask(a1, b1),
    )
}

/// `round_shift(x², s)` of eight 64-bit lanes holding `x < 2^32`.
#[inline(always)]
unsafe fn square_shifted(x: V, s: u32) -> V {
    let sq = _mm512_mul_epu32(x, x);
    if s == 0 {
        sq
    } else {
        // x² may use all 64 bits: add the rounding bit after shifting.
        _mm512_add_epi64(
            _mm512_srlv_epi64(sq, splat64(s as i64)),
            _mm512_and_si512(_mm512_srlv_epi64(sq, splat64(s as i64 - 1)), splat64(1)),
        )
    }
}

/// `t_P2 = round_shift(d², sqrt_shift)` in two halves, from `d < 2^32`.
#[inline(always)]
unsafe fn t_p2(tab: &Tables, d: V) -> (V, V) {
    let (lo, hi) = widen(d);
    (
        square_shifted(lo, tab.sqrt_shift),
        square_shifted(hi, tab.sqrt_shift),
    )
}

/// The values of one split on every lane, before they are folded into the accumulator.
#[inline(always)]
unsafe fn eval<const A_LEAF: bool, const B_LEAF: bool>(
    tr: &LaneTrellis,
    r: &Regs,
    root: bool,
    a: Mask,
    b: Mask,
) -> Eval {
    let tab = tr.tab;
    let ca: &LaneCell = &tr.cells[a as usize];
    let cb: &LaneCell = &tr.cells[b as usize];
    let (ma, mb) = (load(&ca.map), load(&cb.map));
    let (za, zb) = (load(&ca.log_z), load(&cb.log_z));
    // −∞ is the least lane value: a minimum is finite iff both values are. A subset's log Z
    // is finite exactly where its MAP is (both come from the same live splits), so the MAP
    // values say it for both.
    let pre = r.active & fin(_mm512_min_epi32(ma, mb));
    let a_heavy: K = if A_LEAF {
        0
    } else if B_LEAF {
        0xffff
    } else {
        t_ge(ca, cb)
    };
    let (lna, lnb) = (load(&ca.ln_t), load(&cb.ln_t));
    let mx_ln = sel(a_heavy, lna, lnb);
    let mn_ln = sel(a_heavy, lnb, lna);
    let mx_sqrt = sel(a_heavy, load(&ca.sqrt_t), load(&cb.sqrt_t));
    let f = fin(mx_ln);
    // Lanes where an input is −∞ compute garbage that `live` and the overflow masks drop.
    let (parent, o_parent) = density(tr, root, mx_ln, r.ln_p, pre & f);
    let dd = _mm512_maskz_sub_epi32(
        _mm512_cmpgt_epu32_mask(r.sqrt_p, mx_sqrt),
        r.sqrt_p,
        mx_sqrt,
    );
    let ln_p2 = ln(tr, t_p2(tab, dd));
    let (raw, psi_fin, ratio_parent, ratio_child) = if A_LEAF && B_LEAF {
        let l = leaf(tr, root, r.ln_p);
        (_mm512_add_epi32(l, l), 0xffff, 0, 0)
    } else if A_LEAF || B_LEAF {
        (
            _mm512_add_epi32(parent, leaf(tr, root, ln_p2)),
            f,
            pre & f & o_parent,
            0,
        )
    } else {
        let g = f & fin(mn_ln) & fin(ln_p2);
        let (child, o_child) = density(tr, root, mn_ln, ln_p2, pre & g);
        (
            _mm512_add_epi32(parent, child),
            g,
            pre & f & o_parent,
            pre & g & o_child,
        )
    };
    let live = pre & psi_fin;
    let (p, o_psi) = sat(tab, _mm512_add_epi32(raw, splat(tab.k_4pi as i32)));
    // Scores of at most 30 bits: three of them add up within 32 (`LaneTrellis::new`).
    let (m, o_m) = sat(tab, _mm512_add_epi32(p, _mm512_add_epi32(ma, mb)));
    let (z, o_z) = sat(tab, _mm512_add_epi32(p, _mm512_add_epi32(za, zb)));
    Eval {
        a,
        live,
        m,
        v: _mm512_mask_mov_epi32(splat(NEG), live, z),
        ratio: [ratio_parent, ratio_child],
        score: [live & o_psi, live & o_m, live & o_z],
    }
}

/// Folds an evaluated split into the accumulator (the order of these calls is the
/// canonical split order).
#[inline(always)]
unsafe fn take(tr: &LaneTrellis, r: &mut Regs, b: Mask, e: Eval) {
    let tab = tr.tab;
    let live = e.live;
    // Saturations are rare: one test instead of five counter updates per split.
    if e.ratio.iter().chain(&e.score).fold(0, |a, &k| a | k) != 0 {
        for k in e.ratio {
            r.ratio = count(r.ratio, k);
        }
        for k in e.score {
            r.score = count(r.score, k);
        }
    }
    // −∞ is i32::MIN, below every score: "no MAP yet" needs no test of its own.
    let better = live & _mm512_cmpgt_epi32_mask(e.m, r.map);
    r.map = sel(better, e.m, r.map);
    r.best = _mm512_mask_mov_epi32(r.best, better, splat(e.a as i32));
    let (ca, cb) = (&tr.cells[e.a as usize], &tr.cells[b as usize]);
    if tr.counts == Counts::Narrow {
        // No wrap: see `Counts::Narrow`.
        let c = _mm512_add_epi32(
            _mm512_mullo_epi32(load(&ca.count), load(&cb.count)),
            r.count,
        );
        let max = splat(tab.count_max.min(u32::MAX as u64) as u32 as i32);
        let over = live & _mm512_cmpgt_epu32_mask(c, max);
        r.count_ovf = count(r.count_ovf, over);
        r.count = _mm512_mask_mov_epi32(r.count, live, sel(over, max, c));
    } else {
        let mut counts = [0u32; LANES];
        let mut his = [0u32; LANES];
        store(&mut counts, r.count);
        store(&mut his, r.count_hi);
        let mut ovf = [0u32; LANES];
        store(&mut ovf, r.count_ovf);
        for l in (0..LANES).filter(|&l| live >> l & 1 == 1) {
            let sum = counts[l] as u64 | (his[l] as u64) << 32;
            let c = ca
                .count(l)
                .checked_mul(cb.count(l))
                .and_then(|x| x.checked_add(sum))
                .filter(|&x| x <= tab.count_max)
                .unwrap_or_else(|| {
                    ovf[l] += 1;
                    tab.count_max
                });
            counts[l] = c as u32;
            his[l] = (c >> 32) as u32;
        }
        r.count = load(&counts);
        r.count_hi = load(&his);
        r.count_ovf = load(&ovf);
    }
}

/// Evaluates split `a | (s ∖ a)` and folds it in but for its log Z value, which it returns.
#[inline(always)]
unsafe fn step(tr: &LaneTrellis, r: &mut Regs, root: bool, s: Mask, a: Mask) -> V {
    let e = eval_any(tr, r, root, a, s ^ a);
    let z = e.v;
    take(tr, r, s ^ a, e);
    z
}

/// Adds a split's log Z value (or, at `level` ≥ 1, the max* of 2^level neighbours) to the
/// binary counter of partial results of the pairwise max* tree.
#[inline(always)]
unsafe fn push_z(tr: &LaneTrellis, r: &mut Regs, acc: &mut LaneAcc, v: V, mut level: usize) {
    let mut c = v;
    while acc.occupied >> level & 1 == 1 {
        let (x, o) = max_star(tr, load(&acc.z[level]), c);
        r.score = count(r.score, o);
        c = x;
        acc.occupied &= !(1 << level);
        level += 1;
    }
    store(&mut acc.z[level], c);
    acc.occupied |= 1 << level;
}

#[inline(always)]
unsafe fn eval_any(tr: &LaneTrellis, r: &Regs, root: bool, a: Mask, b: Mask) -> Eval {
    match (a.count_ones() == 1, b.count_ones() == 1) {
        (true, true) => eval::<true, true>(tr, r, root, a, b),
        (true, false) => eval::<true, false>(tr, r, root, a, b),
        (false, true) => eval::<false, true>(tr, r, root, a, b),
        (false, false) => eval::<false, false>(tr, r, root, a, b),
    }
}

/// Every split of `s` in the canonical order, the accumulator held in registers.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn fold(tr: &LaneTrellis, acc: &mut LaneAcc, s: Mask) {
    let mut r = Regs::load(acc);
    let root = acc.root;
    let mut splits = mask::splits(s);
    // The first level of the max* tree combines neighbours: pairs of splits are combined in
    // registers and counted one level up, once the accumulator holds no unpaired split.
    if acc.occupied & 1 == 1 {
        if let Some(a) = splits.next() {
            let z = step(tr, &mut r, root, s, a);
            push_z(tr, &mut r, acc, z, 0);
        }
    }
    while let Some(a) = splits.next() {
        let z0 = step(tr, &mut r, root, s, a);
        match splits.next() {
            Some(b) => {
                let z1 = step(tr, &mut r, root, s, b);
                let (z, o) = max_star(tr, z0, z1);
                r.score = count(r.score, o);
                push_z(tr, &mut r, acc, z, 1);
            }
            None => push_z(tr, &mut r, acc, z0, 0),
        }
    }
    r.store(acc);
}

/// `isqrt(t << sh)` of eight 64-bit lanes: the f64 square root as a guess, then one exact
/// integer correction, so the result is the integer square root the scalar model takes, bit
/// for bit. Why one downward step is all it takes, for x < 2^64 and r = ⌊√x⌋ < 2^32: rounding
/// and the square root are monotone, so the guess is at least √fl(r²) rounded, and that is r
/// (fl(r²) is within r·2^-53 of r², which moves √ by less than half an f64 step at r); the
/// guess is at most r + 1 (√fl(x) is within 2^-20 of √x).
#[inline(always)]
unsafe fn isqrt(t: V, sh: u32) -> V {
    let x = _mm512_sll_epi64(t, _mm_cvtsi32_si128(sh as i32));
    let guess = _mm512_cvttpd_epu64(_mm512_sqrt_pd(_mm512_cvtepu64_pd(x)));
    // A guess of 2^32 (x rounded up to 2^64) would square to 0.
    let r = _mm512_min_epu64(guess, splat64(u32::MAX as i64));
    _mm512_mask_sub_epi64(
        r,
        _mm512_cmpgt_epu64_mask(_mm512_mullo_epi64(r, r), x),
        r,
        splat64(1),
    )
}

/// Stage 2's t of a subset of three leaves or more, as the scalar model adds it up:
/// `t(S ∖ h) + t(S ∖ l) − t(S ∖ {h, l}) + t({h, l})` (l, h its lowest and highest leaf; a
/// pair's t is its s_hl), or, on a lane where `S ∖ h` or `S ∖ l` saturated, the sum of S's
/// pairs; then clamped, each clamp a `subset_t` event.
#[inline(always)]
unsafe fn subset_t(tr: &mut LaneTrellis, s: Mask) {
    let (l, h) = (s.trailing_zeros(), 31 - s.leading_zeros());
    let t = |m: Mask| &tr.cells[m as usize].t;
    let (no_h, no_l) = (t(s ^ 1 << h), t(s ^ 1 << l));
    let (both, pair) = (t(s ^ (1 << h | 1 << l)), t(1 << h | 1 << l));
    let max = splat64(tr.tab.t_max as i64);
    let mut exact = [0u64; LANES];
    let mut parts = 0;
    for k in 0..2 {
        let at = |x: &[u64; LANES]| {
            // SAFETY: eight of the sixteen 8-byte values.
            unsafe { _mm512_loadu_si512(x.as_ptr().add(HALF * k).cast()) }
        };
        let (a, b) = (at(no_h), at(no_l));
        let sum = _mm512_add_epi64(_mm512_sub_epi64(_mm512_add_epi64(a, b), at(both)), at(pair));
        parts |= ((_mm512_cmpeq_epu64_mask(a, max) | _mm512_cmpeq_epu64_mask(b, max)) as u16)
            << (HALF * k);
        // SAFETY: eight of the sixteen 8-byte values.
        unsafe { _mm512_storeu_si512(exact.as_mut_ptr().add(HALF * k).cast(), sum) };
    }
    for lane in (0..LANES).filter(|&l| parts >> l & 1 == 1) {
        exact[lane] = pair_sum(s, |j, i| tr.cells[1 << j | 1 << i].t[lane]);
    }
    let (lo, hi) = load64(&exact);
    let over = join(
        _mm512_cmpgt_epu64_mask(lo, max),
        _mm512_cmpgt_epu64_mask(hi, max),
    );
    let ovf = &mut tr.split_ovf[Stage::SubsetT as usize];
    store(ovf, count(load(ovf), over));
    let t = &mut tr.cells[s as usize].t;
    // SAFETY: 2 × 64 writable bytes.
    unsafe {
        _mm512_storeu_si512(t.as_mut_ptr().cast(), _mm512_min_epu64(lo, max));
        _mm512_storeu_si512(t.as_mut_ptr().add(HALF).cast(), _mm512_min_epu64(hi, max));
    }
}

/// Stage 2 of the cells `0..=last`, from the t of the empty set, the single leaves and the
/// pairs that stages 0–1 stored in each lane: t ([`subset_t`]), √t = `isqrt(t << sqrt_shift)`
/// (exact), ln t, and the values of the subsets no split reaches: a single leaf (MAP = log Z =
/// 0, one tree) and the empty set (−∞).
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn subset_terms(tr: &mut LaneTrellis, last: Mask) {
    let sh = tr.tab.sqrt_shift;
    for s in 0..=last as usize {
        if s.count_ones() > 2 {
            subset_t(tr, s as Mask);
        }
        let (t0, t1) = load64(&tr.cells[s].t);
        // √t < 2^32 (the design's `t_bits + 2 sqrt_frac − t_frac ≤ 64`).
        let sqrt_t = pack(isqrt(t0, sh), isqrt(t1, sh));
        let ln_t = ln(tr, (t0, t1));
        let c = &mut tr.cells[s];
        store(&mut c.sqrt_t, sqrt_t);
        store(&mut c.ln_t, ln_t);
        if s.count_ones() < 2 {
            let single = s != 0;
            let v = splat(if single { 0 } else { NEG });
            store(&mut c.map, v);
            store(&mut c.log_z, v);
            store(&mut c.count, splat(single as i32));
            store(&mut c.count_hi, _mm512_setzero_si512());
            store(&mut c.best, _mm512_setzero_si512());
        }
    }
}

/// One split `a | b`.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn split(tr: &LaneTrellis, acc: &mut LaneAcc, a: Mask, b: Mask) {
    let mut r = Regs::load(acc);
    let z = step(tr, &mut r, acc.root, a | b, a);
    push_z(tr, &mut r, acc, z, 0);
    r.store(acc);
}

/// The accumulator of subset `s`: which lanes can split (`t ≥ t_cut` and `t > 0`), the
/// parent's ln t (0 where −∞: those lanes do not split) and √t.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn begin(tr: &LaneTrellis, s: Mask) -> LaneAcc {
    let c = &tr.cells[s as usize];
    let (t0, t1) = load64(&c.t);
    let cut = splat64(tr.tab.t_cut_raw as i64);
    let splits = |t: V| _mm512_cmpge_epu64_mask(t, cut) & _mm512_test_epi64_mask(t, t);
    let mut acc = LaneAcc {
        active: join(splits(t0), splits(t1)),
        root: s == tr.root,
        ln_p: [0; LANES],
        sqrt_p: c.sqrt_t,
        map: [NEG; LANES],
        best: [0; LANES],
        count: [0; LANES],
        count_hi: [0; LANES],
        z: [[NEG; LANES]; LEVELS],
        occupied: 0,
        ovf: [[0; LANES]; Stage::ALL.len()],
    };
    store(&mut acc.ln_p, val(load(&c.ln_t)));
    acc
}

/// Stores a finished accumulator in cell `s` (−∞, no tree where the subset does not split)
/// and adds its saturations to the batch's.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn store_acc(tr: &mut LaneTrellis, s: Mask, acc: &mut LaneAcc) {
    let z = finish_z(tr, acc);
    let on = acc.active;
    let c = &mut tr.cells[s as usize];
    store(
        &mut c.map,
        _mm512_mask_mov_epi32(splat(NEG), on, load(&acc.map)),
    );
    store(&mut c.log_z, _mm512_mask_mov_epi32(splat(NEG), on, z));
    store(&mut c.count, _mm512_maskz_mov_epi32(on, load(&acc.count)));
    store(
        &mut c.count_hi,
        _mm512_maskz_mov_epi32(on, load(&acc.count_hi)),
    );
    store(&mut c.best, _mm512_maskz_mov_epi32(on, load(&acc.best)));
    // A jet has fewer than 2^32 saturations (at most five per split): the sums cannot wrap.
    for st in [Stage::Ratio, Stage::Score, Stage::Count] {
        let k = st as usize;
        let sum = _mm512_add_epi32(load(&tr.split_ovf[k]), load(&acc.ovf[k]));
        store(&mut tr.split_ovf[k], sum);
    }
}

/// Combines the partial max* results of a finished subset, lowest level first (`max*(higher,
/// lower)`), as `FxAcc::finish_z` does; −∞ for a subset with no split.
#[inline(always)]
unsafe fn finish_z(tr: &LaneTrellis, acc: &mut LaneAcc) -> V {
    let mut score = load(&acc.ovf[Stage::Score as usize]);
    let mut z: Option<V> = None;
    for level in 0..LEVELS {
        if acc.occupied >> level & 1 == 1 {
            let x = load(&acc.z[level]);
            z = Some(match z {
                None => x,
                Some(lower) => {
                    let (v, o) = max_star(tr, x, lower);
                    score = count(score, o);
                    v
                }
            });
        }
    }
    store(&mut acc.ovf[Stage::Score as usize], score);
    z.unwrap_or(splat(NEG))
}

/// One evaluated split (see `eval`).
struct Eval {
    a: Mask,
    live: K,
    m: V,
    v: V,
    ratio: [K; 2],
    score: [K; 3],
}

/// [`LaneAcc`]'s per-lane values while a subset's splits are folded.
struct Regs {
    active: K,
    ln_p: V,
    sqrt_p: V,
    map: V,
    best: V,
    count: V,
    count_hi: V,
    ratio: V,
    score: V,
    count_ovf: V,
}

impl Regs {
    #[inline(always)]
    unsafe fn load(acc: &LaneAcc) -> Regs {
        Regs {
            active: acc.active,
            ln_p: load(&acc.ln_p),
            sqrt_p: load(&acc.sqrt_p),
            map: load(&acc.map),
            best: load(&acc.best),
            count: load(&acc.count),
            count_hi: load(&acc.count_hi),
            ratio: load(&acc.ovf[Stage::Ratio as usize]),
            score: load(&acc.ovf[Stage::Score as usize]),
            count_ovf: load(&acc.ovf[Stage::Count as usize]),
        }
    }

    #[inline(always)]
    unsafe fn store(&self, acc: &mut LaneAcc) {
        store(&mut acc.map, self.map);
        store(&mut acc.best, self.best);
        store(&mut acc.count, self.count);
        store(&mut acc.count_hi, self.count_hi);
        store(&mut acc.ovf[Stage::Ratio as usize], self.ratio);
        store(&mut acc.ovf[Stage::Score as usize], self.score);
        store(&mut acc.ovf[Stage::Count as usize], self.count_ovf);
    }
}

#[cfg(test)]
mod tests {
    //! Each lane unit against its scalar unit on every lane, over whole input ranges and their
    //! boundaries, for designs that take each path (gathers and permutes, narrow scores, λ whose
    //! exp entries exceed 2^30).
    extern crate std;
    use super::super::opt;
    use super::*;
    use crate::fixed::units::Overflows;
    use crate::fixed::Design;
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
    unsafe fn ratio_lanes(tr: &LaneTrellis, root: bool, u: &[i32; LANES]) -> ([i32; LANES], K) {
        let (r, o) = ratio(tr, root, load(u), 0xffff);
        let mut out = [0; LANES];
        store(&mut out, r);
        (out, o)
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
    unsafe fn ln_lanes(tr: &LaneTrellis, x: &[u64; LANES]) -> [i32; LANES] {
        let mut out = [0; LANES];
        store(&mut out, ln(tr, load64(x)));
        out
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
    unsafe fn leaf_lanes(tr: &LaneTrellis, root: bool, l: &[i32; LANES]) -> [i32; LANES] {
        let mut out = [0; LANES];
        store(&mut out, leaf(tr, root, load(l)));
        out
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
    unsafe fn max_star_lanes(
        tr: &LaneTrellis,
        a: &[i32; LANES],
        b: &[i32; LANES],
    ) -> ([i32; LANES], K) {
        let (r, o) = max_star(tr, load(a), load(b));
        let mut out = [0; LANES];
        store(&mut out, r);
        (out, o)
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
    unsafe fn isqrt_lanes(t: &[u64; LANES], sh: u32) -> [u64; LANES] {
        let (lo, hi) = load64(t);
        let mut out = [0; LANES];
        // SAFETY: 2 × 64 writable bytes.
        unsafe {
            _mm512_storeu_si512(out.as_mut_ptr().cast(), isqrt(lo, sh));
            _mm512_storeu_si512(out.as_mut_ptr().add(HALF).cast(), isqrt(hi, sh));
        }
        out
    }

    fn designs() -> Vec<Design> {
        let mut narrow = Design {
            lambda: 0.3,
            lambda_root: 8.0,
            ..Design::default()
        };
        narrow.internal.log_frac = 12;
        narrow.internal.score_bits = 20;
        narrow.luts.exp = 256;
        let steep = Design {
            lambda: 40.0,
            lambda_root: 63.0,
            t_cut: 1e-3,
            ..Design::default()
        };
        vec![
            Design::default(),
            super::super::tables_in_registers(),
            super::super::tables_in_memory(),
            narrow,
            steep,
        ]
    }

    /// Runs `check` on every design with a lane model over it.
    fn each_design(check: impl Fn(&Tables, &LaneTrellis)) {
        if !crate::lane_model_available!() {
            std::eprintln!("this CPU has no AVX-512: the lane model cannot run here");
            return;
        }
        for d in designs() {
            let tab = Box::new(Tables::new(&d).unwrap());
            let mut cells = vec![LaneCell::default(); 1 << d.max_leaves];
            // SAFETY: the CPU was checked above.
            let tr = unsafe { LaneTrellis::new(&tab, &mut cells) }.unwrap();
            check(&tab, &tr);
        }
    }

    /// `xs` in chunks of sixteen lanes (the last one padded with its first value).
    fn chunks<T: Copy>(xs: &[T]) -> impl Iterator<Item = [T; LANES]> + '_ {
        xs.chunks(LANES)
            .map(|c| core::array::from_fn(|l| *c.get(l).unwrap_or(&c[0])))
    }

    /// Every value of `lo..=hi` at `stride`, plus each of `edges` and its neighbours.
    fn sweep(lo: i64, hi: i64, stride: usize, edges: &[i64]) -> Vec<i32> {
        let mut v: Vec<i64> = (lo..=hi).step_by(stride).collect();
        for &e in edges {
            v.extend([e - 1, e, e + 1]);
        }
        v.into_iter()
            .filter(|x| i32::try_from(*x).is_ok_and(|x| x != NEG))
            .map(|x| x as i32)
            .collect()
    }

    #[test]
    fn ratio_lanes_equal_the_scalar_unit() {
        each_design(|tab, tr| {
            let g = tab.design.internal.log_frac;
            let lim = RATIO_CLAMP_NATS << g;
            // Where k, and with it the shift, changes: every multiple of ln 2.
            let steps: Vec<i64> = (-100..=100)
                .map(|k| (k as f64 * core::f64::consts::LN_2 * (1u64 << g) as f64) as i64)
                .collect();
            let mut edges = vec![-lim, lim, 0];
            edges.extend(steps);
            let us = sweep(-lim - 40, lim + 40, 29, &edges);
            for root in [false, true] {
                let lt = if root { &tab.root } else { &tab.inner };
                for u in chunks(&us) {
                    // SAFETY: `each_design` checked the CPU.
                    let (got, o) = unsafe { ratio_lanes(tr, root, &u) };
                    for l in 0..LANES {
                        let mut ovf = Overflows::default();
                        let want = tab.ratio(lt, u[l] as i64, &mut ovf);
                        assert_eq!(got[l] as i64, want, "u = {} root {root}", u[l]);
                        assert_eq!(o >> l & 1 == 1, ovf.total() == 1, "u = {}", u[l]);
                    }
                }
            }
        });
    }

    #[test]
    fn isqrt_lanes_equal_the_integer_square_root() {
        if !crate::lane_model_available!() {
            std::eprintln!("this CPU has no AVX-512: the lane model cannot run here");
            return;
        }
        // Around every square the f64 guess can land on either side of: k² − 1, k², k² + 1
        // for k up to 2^32 − 1 (x up to u64::MAX, where the guess rounds up to 2^32).
        let mut xs = vec![0u64, 1, 2, 3, u64::MAX, u64::MAX - 1, 1 << 63];
        let mut k: u64 = 1;
        while k < 1 << 32 {
            for r in [k, k + 1, k - 1, k | 1, (k * 3) >> 1] {
                let r = r.min(u32::MAX as u64);
                let sq = r * r;
                xs.extend([sq.saturating_sub(1), sq, sq + 1, sq + 2 * r]);
            }
            k = k * 5 / 4 + 1;
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..4096 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            xs.extend([x, x >> (x % 64)]);
        }
        for t in chunks(&xs) {
            // SAFETY: checked above.
            let got = unsafe { isqrt_lanes(&t, 0) };
            for l in 0..LANES {
                assert_eq!(got[l], t[l].isqrt(), "isqrt({})", t[l]);
            }
            let t = t.map(|x| x >> 20);
            // SAFETY: as above.
            let got = unsafe { isqrt_lanes(&t, 20) };
            for l in 0..LANES {
                assert_eq!(got[l], (t[l] << 20).isqrt(), "isqrt({} << 20)", t[l]);
            }
        }
    }

    #[test]
    fn ln_lanes_equal_the_scalar_unit() {
        each_design(|tab, tr| {
            let mut xs = vec![0u64, 1, 2, 3, u64::MAX];
            for k in 0..64 {
                let p = 1u64 << k;
                xs.extend([p - 1, p, p + 1, p | p >> 1, p | (p - 1) >> 3]);
            }
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                xs.push(x >> (x % 64));
            }
            let tf = tab.design.internal.t_frac;
            for c in chunks(&xs) {
                // SAFETY: `each_design` checked the CPU.
                let got = unsafe { ln_lanes(tr, &c) };
                for l in 0..LANES {
                    assert_eq!(opt(got[l]), tab.ln(c[l], tf), "x = {}", c[l]);
                }
            }
        });
    }

    #[test]
    fn leaf_lanes_equal_the_scalar_unit() {
        each_design(|tab, tr| {
            let g = tab.design.internal.log_frac;
            for root in [false, true] {
                let lt = if root { &tab.root } else { &tab.inner };
                let top = lt.leaf_lo + lt.leaf.span() as i64;
                let mut ls = sweep(-(60 << g), 60 << g, 13, &[lt.leaf_lo, top, 0]);
                ls.push(NEG);
                for c in chunks(&ls) {
                    // SAFETY: `each_design` checked the CPU.
                    let got = unsafe { leaf_lanes(tr, root, &c) };
                    for l in 0..LANES {
                        let want = tab.leaf(lt, opt(c[l]));
                        assert_eq!(got[l] as i64, want, "l = {} root {root}", c[l]);
                    }
                }
            }
        });
    }

    #[test]
    fn max_star_lanes_equal_the_scalar_unit() {
        each_design(|tab, tr| {
            let max = tab.score_max;
            let span = tab.corr.span() as i64;
            let g = tab.design.internal.log_frac;
            let mut pairs = Vec::new();
            for a in [-max, -max + 1, -1, 0, 1, max - 1, max, NEG as i64] {
                for d in [0, 1, 2, span - 1, span, span + 1, 3 << g, max] {
                    for b in [a - d, a + d] {
                        if (-max..=max).contains(&b) || b == NEG as i64 {
                            pairs.push((a as i32, b as i32));
                        }
                    }
                }
            }
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            for _ in 0..30_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let a = (x % (2 * max as u64 + 1)) as i64 - max;
                let b = a - (x >> 40) as i64 % (2 * span);
                pairs.push((a as i32, b.max(-max) as i32));
            }
            let (a, b): (Vec<i32>, Vec<i32>) = pairs.into_iter().unzip();
            for (ca, cb) in chunks(&a).zip(chunks(&b)) {
                // SAFETY: `each_design` checked the CPU.
                let (got, o) = unsafe { max_star_lanes(tr, &ca, &cb) };
                for l in 0..LANES {
                    let mut ovf = Overflows::default();
                    let want = tab.max_star(opt(ca[l]), opt(cb[l]), &mut ovf);
                    assert_eq!(opt(got[l]), want, "{} {}", ca[l], cb[l]);
                    assert_eq!(o >> l & 1 == 1, ovf.total() == 1, "{} {}", ca[l], cb[l]);
                }
            }
        });
    }
}
