//! The lane model's split loop in AVX-512: one register holds a value of all eight jets, a
//! table read is one gather of the two neighbouring 32-bit entries, a select is a mask.
//! Each function mirrors the portable one of the same name in the parent module.
//!
//! Only [`fold`] enables the target features; the helpers are `unsafe` and always inlined into
//! it, so they run with AVX-512 enabled (a function with `#[target_feature]` cannot be
//! `#[inline(always)]`, and a call that is not inlined would cost its arguments a trip
//! through memory). Their one precondition is that: call them only from `fold`.

use super::{LaneAcc, LaneCell, LaneTrellis, LANES, NEG};
use crate::fixed::design::MAX_LUT;
use crate::fixed::model::LEVELS;
use crate::fixed::tables::{LambdaTables, Lut, Tables, EXP_TABLE_FRAC, LN2_FRAC, LOG2E_FRAC};
use crate::fixed::units::Stage;
use crate::mask::{self, Mask};
use core::arch::x86_64::*;

type V = __m512i;
type K = __mmask8;

#[inline(always)]
unsafe fn splat(x: i64) -> V {
    _mm512_set1_epi64(x)
}

#[inline(always)]
unsafe fn load_i(p: &[i64; LANES]) -> V {
    // SAFETY: eight i64 are 64 readable bytes; the load is unaligned.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}

#[inline(always)]
unsafe fn load_u(p: &[u64; LANES]) -> V {
    // SAFETY: as `load_i`.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}

#[inline(always)]
unsafe fn store_i(p: &mut [i64; LANES], v: V) {
    // SAFETY: eight i64 are 64 writable bytes; the store is unaligned.
    unsafe { _mm512_storeu_si512(p.as_mut_ptr().cast(), v) }
}

#[inline(always)]
unsafe fn store_u(p: &mut [u64; LANES], v: V) {
    // SAFETY: as `store_i`.
    unsafe { _mm512_storeu_si512(p.as_mut_ptr().cast(), v) }
}

/// `k ? a : b` per lane.
#[inline(always)]
unsafe fn sel(k: K, a: V, b: V) -> V {
    _mm512_mask_blend_epi64(k, b, a)
}

#[inline(always)]
unsafe fn fin(x: V) -> K {
    _mm512_cmpneq_epi64_mask(x, splat(NEG))
}

#[inline(always)]
unsafe fn val(x: V) -> V {
    _mm512_maskz_mov_epi64(fin(x), x)
}

/// `round_shift` by a shift shared by all lanes.
#[inline(always)]
unsafe fn round_shift(x: V, s: u32) -> V {
    if s == 0 {
        x
    } else {
        _mm512_srav_epi64(_mm512_add_epi64(x, splat(1 << (s - 1))), splat(s as i64))
    }
}

/// Adds one to the counter lanes selected by `k`.
#[inline(always)]
unsafe fn count(c: V, k: K) -> V {
    _mm512_mask_add_epi64(c, k, c, splat(1))
}

#[inline(always)]
unsafe fn read(lut: &Lut, d: V) -> V {
    let s = lut.step_log2;
    let j = _mm512_min_epu64(
        _mm512_srlv_epi64(d, splat(s as i64)),
        splat(MAX_LUT as i64 - 1),
    );
    // SAFETY: j ≤ MAX_LUT − 1, so the 8 bytes at entry j (entries j and j + 1) lie inside
    // the MAX_LUT + 1 entries of `vals`.
    let pair = unsafe { _mm512_i64gather_epi64(j, lut.vals.as_ptr().cast(), 4) };
    let y0 = _mm512_srai_epi64(_mm512_slli_epi64(pair, 32), 32);
    let y1 = _mm512_srai_epi64(pair, 32);
    let r = _mm512_and_si512(d, splat((1 << s) - 1));
    _mm512_add_epi64(
        y0,
        round_shift(_mm512_mul_epi32(_mm512_sub_epi64(y1, y0), r), s),
    )
}

#[inline(always)]
unsafe fn sat(tab: &Tables, x: V) -> (V, K) {
    let c = _mm512_max_epi64(
        _mm512_min_epi64(x, splat(tab.score_max)),
        splat(-tab.score_max),
    );
    (c, _mm512_cmpneq_epi64_mask(c, x))
}

#[inline(always)]
unsafe fn ln(tab: &Tables, x: V, frac: u32) -> V {
    let zero = _mm512_cmpeq_epi64_mask(x, _mm512_setzero_si512());
    let xs = _mm512_mask_mov_epi64(x, zero, splat(1));
    let lz = _mm512_lzcnt_epi64(xs);
    let p = _mm512_sub_epi64(splat(63), lz);
    let m_bits = tab.ln.size.trailing_zeros() + tab.ln.step_log2;
    let m = _mm512_srlv_epi64(
        _mm512_slli_epi64(_mm512_sllv_epi64(xs, lz), 1),
        splat(64 - m_bits as i64),
    );
    let g = tab.design.internal.log_frac;
    let e = round_shift(
        // (p − frac) · ln2 as an unsigned 32 × 32 product: p − frac + 64 ≥ 0, ln2 < 2^32.
        _mm512_sub_epi64(
            _mm512_mul_epu32(_mm512_add_epi64(p, splat(64 - frac as i64)), splat(tab.ln2)),
            splat(64 * tab.ln2),
        ),
        LN2_FRAC - g,
    );
    let v = _mm512_add_epi64(e, read(&tab.ln, m));
    _mm512_mask_mov_epi64(v, zero, splat(NEG))
}

#[inline(always)]
unsafe fn ratio(tab: &Tables, lt: &LambdaTables, u: V) -> (V, K) {
    let g = tab.design.internal.log_frac;
    let lim = 64i64 << g;
    let uc = _mm512_max_epi64(_mm512_min_epi64(u, splat(lim)), splat(-lim));
    // |uc| ≤ 2^26 and log2e < 2^31: a signed 32 × 32 product.
    let v = round_shift(_mm512_mul_epi32(uc, splat(tab.log2e)), LOG2E_FRAC);
    let k = _mm512_srav_epi64(v, splat(g as i64));
    let f = _mm512_sub_epi64(v, _mm512_sllv_epi64(k, splat(g as i64)));
    let y = read(&lt.exp, f);
    let sh = _mm512_sub_epi64(splat(EXP_TABLE_FRAC as i64 - g as i64), k);
    let shc = _mm512_max_epi64(_mm512_min_epi64(sh, splat(61)), _mm512_setzero_si512());
    let half = _mm512_srli_epi64(_mm512_sllv_epi64(splat(1), shc), 1);
    let down = _mm512_srav_epi64(_mm512_add_epi64(y, half), shc);
    let nsh = _mm512_max_epi64(
        _mm512_min_epi64(
            _mm512_sub_epi64(_mm512_setzero_si512(), sh),
            splat(61 - EXP_TABLE_FRAC as i64),
        ),
        _mm512_setzero_si512(),
    );
    let up = _mm512_sllv_epi64(y, nsh);
    let max = splat(tab.score_max);
    let to_zero = _mm512_cmple_epi64_mask(u, splat(-lim)) | _mm512_cmpge_epi64_mask(sh, splat(62));
    let to_max = _mm512_cmpge_epi64_mask(u, splat(lim))
        | _mm512_cmple_epi64_mask(sh, splat(EXP_TABLE_FRAC as i64 - 62));
    let shift_down = _mm512_cmpge_epi64_mask(sh, _mm512_setzero_si512());
    // Compared before shifting, as the scalar unit does: `up` may have left 64 bits.
    let over_up = _mm512_cmpgt_epi64_mask(y, _mm512_srlv_epi64(max, nsh));
    let over_down = _mm512_cmpgt_epi64_mask(down, max);
    let over = (shift_down & over_down) | (!shift_down & over_up);
    let shifted = sel(shift_down, down, up);
    // From the weakest rule to the strongest, as the scalar unit's if-chain reads upwards.
    let r = sel(over, max, shifted);
    let r = sel(to_max, max, r);
    let r = sel(to_zero, _mm512_setzero_si512(), r);
    let o = (over | to_max) & !to_zero;
    (r, o)
}

#[inline(always)]
unsafe fn density(tab: &Tables, lt: &LambdaTables, ln_t: V, ln_s: V) -> (V, K) {
    let (r, o) = ratio(tab, lt, _mm512_sub_epi64(ln_t, ln_s));
    (
        _mm512_sub_epi64(_mm512_sub_epi64(splat(lt.k_inner), ln_s), r),
        o,
    )
}

#[inline(always)]
unsafe fn leaf(lt: &LambdaTables, l: V) -> V {
    let lv = val(l);
    let d = _mm512_sub_epi64(lv, splat(lt.leaf_lo));
    let inside = read(&lt.leaf, d);
    let above = _mm512_sub_epi64(splat(lt.k_norm + lt.c_leaf), lv);
    let r = sel(
        _mm512_cmpge_epu64_mask(d, splat(lt.leaf.span() as i64)),
        above,
        inside,
    );
    let low = !fin(l) | _mm512_cmplt_epi64_mask(d, _mm512_setzero_si512());
    sel(low, splat(lt.k_norm), r)
}

#[inline(always)]
unsafe fn max_star(tab: &Tables, a: V, b: V) -> (V, K) {
    let (av, bv) = (val(a), val(b));
    let hi = _mm512_max_epi64(av, bv);
    let d = _mm512_sub_epi64(hi, _mm512_min_epi64(av, bv));
    let corr = _mm512_maskz_mov_epi64(
        _mm512_cmplt_epu64_mask(d, splat(tab.corr.span() as i64)),
        read(&tab.corr, d),
    );
    let (r, o) = sat(tab, _mm512_add_epi64(hi, corr));
    let (fa, fb) = (fin(a), fin(b));
    (sel(!fa, b, sel(!fb, a, r)), o & fa & fb)
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
    let lt = if root { &tab.root } else { &tab.inner };
    let ca: &LaneCell = &tr.cells[a as usize];
    let cb: &LaneCell = &tr.cells[b as usize];
    let (ma, mb) = (load_i(&ca.map), load_i(&cb.map));
    let (za, zb) = (load_i(&ca.log_z), load_i(&cb.log_z));
    let pre = r.active & fin(ma) & fin(mb) & fin(za) & fin(zb);
    let a_heavy: K = if A_LEAF {
        0
    } else if B_LEAF {
        0xff
    } else {
        _mm512_cmpge_epu64_mask(load_u(&ca.t), load_u(&cb.t))
    };
    let (lna, lnb) = (load_i(&ca.ln_t), load_i(&cb.ln_t));
    let mx_ln = sel(a_heavy, lna, lnb);
    let mn_ln = sel(a_heavy, lnb, lna);
    let mx_sqrt = sel(a_heavy, load_u(&ca.sqrt_t), load_u(&cb.sqrt_t));
    let (parent, o_parent) = density(tab, lt, val(mx_ln), r.ln_p);
    let dd = _mm512_maskz_sub_epi64(
        _mm512_cmpgt_epu64_mask(r.sqrt_p, mx_sqrt),
        r.sqrt_p,
        mx_sqrt,
    );
    // √t < 2^32 (the design's `t_bits + 2 sqrt_frac − t_frac ≤ 64`).
    let sq = _mm512_mul_epu32(dd, dd);
    let tp2 = match tab.sqrt_shift {
        0 => sq,
        s => _mm512_add_epi64(
            _mm512_srlv_epi64(sq, splat(s as i64)),
            _mm512_and_si512(_mm512_srlv_epi64(sq, splat(s as i64 - 1)), splat(1)),
        ),
    };
    let ln_p2 = ln(tab, tp2, tab.design.internal.t_frac);
    let f = fin(mx_ln);
    let (raw, psi_fin, ratio_parent, ratio_child) = if A_LEAF && B_LEAF {
        (
            _mm512_add_epi64(leaf(lt, r.ln_p), leaf(lt, r.ln_p)),
            0xff,
            0,
            0,
        )
    } else if A_LEAF || B_LEAF {
        (
            _mm512_add_epi64(parent, leaf(lt, ln_p2)),
            f,
            pre & f & o_parent,
            0,
        )
    } else {
        let (child, o_child) = density(tab, lt, val(mn_ln), val(ln_p2));
        let g = f & fin(mn_ln) & fin(ln_p2);
        (
            _mm512_add_epi64(parent, child),
            g,
            pre & f & o_parent,
            pre & g & o_child,
        )
    };
    let live = pre & psi_fin;
    let (p, o_psi) = sat(tab, _mm512_add_epi64(raw, splat(tab.k_4pi)));
    let (m, o_m) = sat(tab, _mm512_add_epi64(p, _mm512_add_epi64(val(ma), val(mb))));
    let (z, o_z) = sat(tab, _mm512_add_epi64(p, _mm512_add_epi64(val(za), val(zb))));
    Eval {
        a,
        live,
        m,
        v: _mm512_mask_mov_epi64(splat(NEG), live, z),
        ratio: [ratio_parent, ratio_child],
        score: [live & o_psi, live & o_m, live & o_z],
    }
}

/// Folds an evaluated split into the accumulator (the order of these calls is the
/// canonical split order).
#[inline(always)]
unsafe fn take(tr: &LaneTrellis, r: &mut Regs, acc: &mut LaneAcc, b: Mask, e: Eval) {
    let tab = tr.tab;
    let live = e.live;
    for k in e.ratio {
        r.ratio = count(r.ratio, k);
    }
    for k in e.score {
        r.score = count(r.score, k);
    }
    // −∞ is i64::MIN, below every score: "no MAP yet" needs no test of its own.
    let better = live & _mm512_cmpgt_epi64_mask(e.m, r.map);
    r.map = sel(better, e.m, r.map);
    r.best = _mm256_mask_mov_epi32(r.best, better, _mm256_set1_epi32(e.a as i32));
    let (ca, cb) = (&tr.cells[e.a as usize], &tr.cells[b as usize]);
    if tr.narrow_count {
        let c = _mm512_add_epi64(
            _mm512_mul_epu32(load_u(&ca.count), load_u(&cb.count)),
            r.count,
        );
        let max = splat(tab.count_max as i64);
        let over = _mm512_cmpgt_epu64_mask(c, max);
        r.count_ovf = count(r.count_ovf, live & over);
        r.count = _mm512_mask_mov_epi64(r.count, live, sel(over, max, c));
    } else {
        let mut counts = [0u64; LANES];
        store_u(&mut counts, r.count);
        let mut ovf = [0u64; LANES];
        store_u(&mut ovf, r.count_ovf);
        for l in (0..LANES).filter(|&l| live >> l & 1 == 1) {
            let c = ca.count[l]
                .checked_mul(cb.count[l])
                .and_then(|x| x.checked_add(counts[l]))
                .filter(|&x| x <= tab.count_max);
            counts[l] = c.unwrap_or_else(|| {
                ovf[l] += 1;
                tab.count_max
            });
        }
        r.count = load_u(&counts);
        r.count_ovf = load_u(&ovf);
    }
    push_z(tab, r, acc, e.v);
}

#[inline(always)]
unsafe fn push_z(tab: &Tables, r: &mut Regs, acc: &mut LaneAcc, v: V) {
    let mut c = v;
    let mut level = 0;
    while acc.occupied >> level & 1 == 1 {
        let (x, o) = max_star(tab, load_i(&acc.z[level]), c);
        r.score = count(r.score, o);
        c = x;
        acc.occupied &= !(1 << level);
        level += 1;
    }
    store_i(&mut acc.z[level], c);
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
    for a in mask::splits(s) {
        let e = eval_any(tr, &r, acc.root, a, s ^ a);
        take(tr, &mut r, acc, s ^ a, e);
    }
    r.store(acc);
}

/// Stage 2's √t = `isqrt(t << sqrt_shift)` (digit by digit, exact) and ln t of every cell, from
/// the t that stages 0–2 stored in each lane.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn subset_terms(tab: &Tables, cells: &mut [LaneCell]) {
    let sh = tab.sqrt_shift;
    // t << sqrt_shift < 2^bits: start at the largest power of four below that.
    let bits = tab.design.internal.t_bits + sh;
    let k = (bits - 1) / 2;
    for c in cells {
        let t = load_u(&c.t);
        let mut op = _mm512_sllv_epi64(t, splat(sh as i64));
        let mut res = _mm512_setzero_si512();
        for i in (0..=k).rev() {
            let one = splat(1 << (2 * i));
            let trial = _mm512_add_epi64(res, one);
            let take = _mm512_cmpge_epu64_mask(op, trial);
            op = _mm512_mask_sub_epi64(op, take, op, trial);
            res = _mm512_srli_epi64(res, 1);
            res = _mm512_mask_add_epi64(res, take, res, one);
        }
        store_u(&mut c.sqrt_t, res);
        store_i(&mut c.ln_t, ln(tab, t, tab.design.internal.t_frac));
    }
}

/// One split `a | b`.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn split(tr: &LaneTrellis, acc: &mut LaneAcc, a: Mask, b: Mask) {
    let mut r = Regs::load(acc);
    let x = eval_any(tr, &r, acc.root, a, b);
    take(tr, &mut r, acc, b, x);
    r.store(acc);
}

/// Combines the partial max* results of a finished subset, lowest level first (`max*(higher,
/// lower)`), as `FxAcc::finish_z` does; −∞ for a subset with no split.
#[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl,avx512bw")]
pub(super) unsafe fn finish_z(tab: &Tables, acc: &mut LaneAcc) -> [i64; LANES] {
    let mut score = load_u(&acc.ovf[Stage::Score as usize]);
    let mut z: Option<V> = None;
    for level in 0..LEVELS {
        if acc.occupied >> level & 1 == 1 {
            let x = load_i(&acc.z[level]);
            z = Some(match z {
                None => x,
                Some(lower) => {
                    let (v, o) = max_star(tab, x, lower);
                    score = count(score, o);
                    v
                }
            });
        }
    }
    store_u(&mut acc.ovf[Stage::Score as usize], score);
    let mut out = [NEG; LANES];
    if let Some(z) = z {
        store_i(&mut out, z);
    }
    out
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
    best: __m256i,
    count: V,
    ratio: V,
    score: V,
    count_ovf: V,
}

impl Regs {
    #[inline(always)]
    unsafe fn load(acc: &LaneAcc) -> Regs {
        let mut best = [0i32; LANES];
        for (b, &x) in best.iter_mut().zip(&acc.best) {
            *b = x as i32;
        }
        Regs {
            active: acc.active_bits,
            ln_p: load_i(&acc.ln_p),
            sqrt_p: load_u(&acc.sqrt_p),
            map: load_i(&acc.map),
            best: _mm256_loadu_si256(best.as_ptr().cast()),
            count: load_u(&acc.count),
            ratio: load_u(&acc.ovf[Stage::Ratio as usize]),
            score: load_u(&acc.ovf[Stage::Score as usize]),
            count_ovf: load_u(&acc.ovf[Stage::Count as usize]),
        }
    }

    #[inline(always)]
    unsafe fn store(&self, acc: &mut LaneAcc) {
        store_i(&mut acc.map, self.map);
        let mut best = [0i32; LANES];
        _mm256_storeu_si256(best.as_mut_ptr().cast(), self.best);
        for (x, &b) in acc.best.iter_mut().zip(&best) {
            *x = b as Mask;
        }
        store_u(&mut acc.count, self.count);
        store_u(&mut acc.ovf[Stage::Ratio as usize], self.ratio);
        store_u(&mut acc.ovf[Stage::Score as usize], self.score);
        store_u(&mut acc.ovf[Stage::Count as usize], self.count_ovf);
    }
}
