//! The arithmetic units of docs/datapath.md §6 as netlist builders, each reproducing the
//! matching function of `jettrellis_core::fixed::units` bit for bit, and the ROMs they read,
//! filled from `Tables` (never recomputed here).

use crate::ir::{bits_for, Builder, Table, Ty, V};
use jettrellis_core::fixed::tables::{
    LambdaTables, Lut, Tables, EXP_TABLE_FRAC, LN2_FRAC, LOG2E_FRAC,
};

/// A log-domain value with its −∞ flag (flag set: the value bits are meaningless).
#[derive(Clone, Copy, Debug)]
pub struct Log {
    /// Two's-complement value in LSBs of 2^-G.
    pub v: V,
    /// 1 = −∞.
    pub ninf: V,
}

/// A ψ unit's view of one child: t, √t and ln t (ln's −∞ is not needed: a child with t = 0 is
/// a leaf or has no finite tree, and the recursion drops the split).
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// t (t format).
    pub t: V,
    /// √t.
    pub sqrt: V,
    /// ln t (value bits).
    pub ln: V,
}

/// One split's ψ and the overflow bits of its evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Psi {
    /// ψ, −∞ when both children are inner and t_P2 = 0.
    pub psi: Log,
    /// A ratio saturated on a term ψ uses.
    pub ratio_ovf: V,
    /// ψ saturated to the score range (only when finite).
    pub score_ovf: V,
}

/// A table in a ROM: direct, or interpolated with `(y[j], y[j+1] − y[j])` in one word.
#[derive(Clone, Copy, Debug)]
pub struct LutRom {
    id: u32,
    step: u32,
    addr_bits: u32,
    wy: u32,
    wd: u32,
}

/// Signed width holding every value in `[lo, hi]`.
pub fn signed_bits(lo: i128, hi: i128) -> u32 {
    let m = lo.unsigned_abs().max(hi.unsigned_abs() + 1);
    bits_for(m.saturating_sub(1)) + 1
}

impl LutRom {
    /// Puts `lut` into the netlist as table `name`.
    pub fn new<T: Copy + Default + Into<i64> + TryFrom<i64>>(
        b: &mut Builder,
        name: &str,
        lut: &Lut<T>,
    ) -> LutRom {
        let y: Vec<i128> = lut.entries().iter().map(|&v| v.into() as i128).collect();
        let wy = signed_bits(*y.iter().min().unwrap(), *y.iter().max().unwrap());
        let d: Vec<i128> = y.windows(2).map(|w| w[1] - w[0]).collect();
        let step = lut.step_log2;
        let wd = if step == 0 {
            0
        } else {
            signed_bits(*d.iter().min().unwrap(), *d.iter().max().unwrap())
        };
        let words = (0..lut.size)
            .map(|j| {
                let lo = (y[j] as u128) & crate::ir::mask(wy);
                if step == 0 {
                    lo
                } else {
                    lo | (((d[j] as u128) & crate::ir::mask(wd)) << wy)
                }
            })
            .collect();
        let addr_bits = lut.size.trailing_zeros();
        let id = b.table(Table {
            name: name.to_string(),
            width: wy + wd,
            addr_bits,
            words,
        });
        LutRom {
            id,
            step,
            addr_bits,
            wy,
            wd,
        }
    }

    /// Address bits of the offset `d` a read takes.
    pub fn offset_bits(&self) -> u32 {
        self.addr_bits + self.step
    }

    /// `Lut::read(d)` for an unsigned offset `d` below the table's span.
    pub fn read(&self, b: &mut Builder, d: V) -> V {
        let d = b.resize(d, Ty::u(self.offset_bits()));
        let j = b.slice(d, self.step, self.addr_bits);
        let word = b.rom(self.id, j);
        let y0 = b.slice(word, 0, self.wy);
        let y0 = b.resize(y0, Ty::s(self.wy));
        if self.step == 0 {
            return y0;
        }
        let delta = b.slice(word, self.wy, self.wd);
        let delta = b.resize(delta, Ty::s(self.wd));
        let r = b.slice(d, 0, self.step);
        let wp = self.wd + self.step + 1;
        let prod = b.mul(delta, r, Ty::s(wp));
        let half = b.constant(1 << (self.step - 1), Ty::s(wp));
        let sum = b.add(prod, half, Ty::s(wp));
        let rounded = b.shr(sum, self.step, Ty::s(wp - self.step));
        let w = self.wy.max(wp - self.step) + 1;
        b.add(y0, rounded, Ty::s(w))
    }
}

/// The ROMs and constants of one λ.
#[derive(Clone, Copy, Debug)]
pub struct Lambda {
    exp: LutRom,
    exp_min: i64,
    exp_max: i64,
    leaf: LutRom,
    leaf_lo: i64,
    c_leaf: i64,
    k_norm: i64,
    k_inner: i64,
}

/// The units of one design: its tables in the netlist and the constants of §6.
pub struct Units<'t> {
    tab: &'t Tables,
    ln: LutRom,
    corr: LutRom,
    /// The inner λ.
    pub inner: Lambda,
    /// The root λ (the same tables as `inner` when λ_root = λ).
    pub root: Lambda,
    /// Whether the root λ differs from the inner one.
    pub distinct_root: bool,
    g: u32,
}

fn lambda(b: &mut Builder, lt: &LambdaTables, suffix: &str) -> Lambda {
    Lambda {
        exp: LutRom::new(b, &format!("exp_{suffix}"), &lt.exp),
        exp_min: lt.exp.entries().iter().map(|&v| v as i64).min().unwrap(),
        exp_max: lt.exp.entries().iter().map(|&v| v as i64).max().unwrap(),
        leaf: LutRom::new(b, &format!("leaf_{suffix}"), &lt.leaf),
        leaf_lo: lt.leaf_lo,
        c_leaf: lt.c_leaf,
        k_norm: lt.k_norm,
        k_inner: lt.k_inner,
    }
}

impl<'t> Units<'t> {
    /// Puts the tables of `tab` into the netlist.
    pub fn new(b: &mut Builder, tab: &'t Tables) -> Units<'t> {
        let inner = lambda(b, &tab.inner, "inner");
        let distinct_root = tab.root.exp.entries() != tab.inner.exp.entries()
            || tab.root.leaf.entries() != tab.inner.leaf.entries()
            || (
                tab.root.leaf_lo,
                tab.root.c_leaf,
                tab.root.k_norm,
                tab.root.k_inner,
            ) != (
                tab.inner.leaf_lo,
                tab.inner.c_leaf,
                tab.inner.k_norm,
                tab.inner.k_inner,
            );
        let root = if distinct_root {
            lambda(b, &tab.root, "root")
        } else {
            inner
        };
        Units {
            tab,
            ln: LutRom::new(b, "ln", &tab.ln),
            corr: LutRom::new(b, "corr", &tab.corr),
            inner,
            root,
            distinct_root,
            g: tab.design.internal.log_frac,
        }
    }

    /// The format of ln values (`ln_t`): signed, G + 7 bits.
    pub fn ln_ty(&self) -> Ty {
        Ty::s(self.g + 7)
    }

    /// The score format: signed `score_bits`.
    pub fn score_ty(&self) -> Ty {
        Ty::s(self.tab.design.internal.score_bits)
    }

    /// A signed constant in `ty`.
    fn c(b: &mut Builder, x: i64, ty: Ty) -> V {
        b.constant(x as i128, ty)
    }

    /// `SAT_score(x)` and its overflow bit.
    pub fn sat_score(&self, b: &mut Builder, x: V) -> (V, V) {
        let max = self.tab.score_max;
        let ty = Ty::s(x.ty.width.max(self.tab.design.internal.score_bits) + 1);
        let x = b.resize(x, ty);
        let hi_c = Self::c(b, max, ty);
        let lo_c = Self::c(b, -max, ty);
        let hi = b.lt(hi_c, x);
        let lo = b.lt(x, lo_c);
        let st = self.score_ty();
        let xs = b.resize(x, st);
        let maxv = Self::c(b, max, st);
        let minv = Self::c(b, -max, st);
        let v = b.mux(lo, minv, xs);
        let v = b.mux(hi, maxv, v);
        let ovf = b.or(hi, lo);
        (v, ovf)
    }

    /// Leading zeros of a non-zero `x` (any value for 0).
    pub fn lzc(&self, b: &mut Builder, x: V) -> V {
        let w = x.ty.width;
        let p = w.next_power_of_two();
        let xp = if p == w {
            x
        } else {
            let z = b.constant(0, Ty::u(p - w));
            b.cat(x, z)
        };
        if p == 1 {
            return b.constant(0, Ty::u(1));
        }
        lzc_pow2(b, xp).0
    }

    /// `LN(x, frac)` (§6.1) of an unsigned `x`, as an `ln_t` value.
    pub fn ln(&self, b: &mut Builder, x: V, frac: u32) -> Log {
        let wx = x.ty.width;
        let zero_c = b.constant(0, x.ty);
        let ninf = b.eq(x, zero_c);
        let lz = self.lzc(b, x);
        let y = b.var_shl(x, lz, Ty::u(wx));
        let m_bits = self.ln.offset_bits();
        let m = if wx == 1 {
            b.constant(0, Ty::u(m_bits))
        } else if wx > m_bits {
            b.slice(y, wx - 1 - m_bits, m_bits)
        } else {
            let below = b.slice(y, 0, wx - 1);
            b.shl(below, m_bits - (wx - 1), Ty::u(m_bits))
        };
        let frac_tab = self.ln_exponent_table(b, wx, frac);
        let e = frac_tab.0;
        let lzb = b.resize(lz, Ty::u(e.1));
        let ew = b.rom(e.0, lzb);
        let ew = b.resize(ew, Ty::s(frac_tab.1));
        let mant = self.ln.read(b, m);
        let v = b.add(ew, mant, Ty::s(self.g + 8));
        let v = b.resize(v, self.ln_ty());
        Log { v, ninf }
    }

    /// The ROM of `Tables::ln_exponent(p, frac)` indexed by the leading-zero count of a
    /// `wx`-bit word: ((table, address bits), word width).
    fn ln_exponent_table(&self, b: &mut Builder, wx: u32, frac: u32) -> ((u32, u32), u32) {
        let addr_bits = bits_for(wx as u128);
        let vals: Vec<i64> = (0..wx)
            .map(|lz| self.tab.ln_exponent(wx as i64 - 1 - lz as i64, frac))
            .collect();
        let w = signed_bits(
            *vals.iter().min().unwrap() as i128,
            *vals.iter().max().unwrap() as i128,
        );
        let words = vals
            .iter()
            .map(|&v| (v as i128 as u128) & crate::ir::mask(w))
            .collect();
        let id = b.table(Table {
            name: format!("ln_exp_w{wx}_f{frac}"),
            width: w,
            addr_bits,
            words,
        });
        debug_assert_eq!(LN2_FRAC, 32);
        ((id, addr_bits), w)
    }

    /// `RATIO_L(u)` (§6.2): unsigned result in `[0, score_max]` and its overflow bit.
    pub fn ratio(&self, b: &mut Builder, lam: &Lambda, u: V) -> (V, V) {
        let g = self.g;
        let lim = 64i64 << g;
        let wu = u.ty.width.max(g + 8);
        let u = b.resize(u, Ty::s(wu));
        let neg_lim = Self::c(b, -lim, u.ty);
        let pos_lim = Self::c(b, lim, u.ty);
        let above_low = b.lt(neg_lim, u);
        let low = b.not(above_low);
        let high = b.ge(u, pos_lim);
        let uc = b.resize(u, Ty::s(g + 7));
        let log2e = Self::c(b, self.tab.log2e, Ty::s(33));
        let prod = b.mul(uc, log2e, Ty::s(g + 7 + 33));
        let half = Self::c(b, 1 << (LOG2E_FRAC - 1), prod.ty);
        let sum = b.add(prod, half, prod.ty);
        let v = b.shr(sum, LOG2E_FRAC, Ty::s(g + 9));
        let k = b.shr(v, g, Ty::s(10));
        let f = b.slice(v, 0, g);
        let wy = bits_for(lam.exp_max as u128);
        let y = lam.exp.read(b, f);
        let y = b.resize(y, Ty::u(wy));
        let base = Self::c(b, EXP_TABLE_FRAC as i64 - g as i64, Ty::s(11));
        let sh = b.sub(base, k, Ty::s(11));
        let zero = Self::c(b, 0, Ty::s(11));
        let left = b.lt(sh, zero);
        // Right shift with round-half-up: ((2y >> sh) + 1) >> 1, shift clamped where y is gone.
        let cap = wy + 1;
        let shb = bits_for(cap as u128);
        let cap_c = Self::c(b, cap as i64, Ty::s(11));
        let over = b.lt(cap_c, sh);
        let sh_u = b.resize(sh, Ty::u(shb));
        let cap_u = b.constant(cap as i128, Ty::u(shb));
        let sh_r = b.mux(over, cap_u, sh_u);
        let y2 = b.shl(y, 1, Ty::u(wy + 1));
        let w = b.var_shr(y2, sh_r, Ty::u(wy + 1));
        let one = b.constant(1, Ty::u(wy + 2));
        let w1 = b.add(w, one, Ty::u(wy + 2));
        let right = b.shr(w1, 1, Ty::u(wy + 1));
        // Left shift: y << −sh, saturating. Every y is at least the table's smallest entry, so
        // from the first shift l_sat that takes that entry past the score maximum on (and from
        // −sh ≥ 62 − EXP_TABLE_FRAC, the core's limit) every y saturates: the shifter needs
        // only shifts below l_sat, and a word of wy + l_sat − 1 bits holds them exactly.
        let big_l = 62 - EXP_TABLE_FRAC as i64;
        let l_sat = (0..big_l)
            .find(|&l| (lam.exp_min as i128) << l > self.tab.score_max as i128)
            .unwrap_or(big_l);
        let zero10 = Self::c(b, 0, Ty::s(11));
        let l = b.sub(zero10, sh, Ty::s(11));
        let rt = Ty::u(self.tab.design.internal.score_bits - 1);
        let max_r = b.constant(self.tab.score_max as i128, rt);
        let zero_r = b.constant(0, rt);
        let (sat_l, left_v) = if l_sat <= 1 {
            // The left path starts at l = 1: it always saturates.
            (b.constant(1, Ty::u(1)), max_r)
        } else {
            let sat_c = Self::c(b, l_sat, Ty::s(11));
            let too_far = b.ge(l, sat_c);
            let l_u = b.resize(l, Ty::u(bits_for(l_sat as u128 - 1)));
            let wl = wy + l_sat as u32 - 1;
            let yw = b.resize(y, Ty::u(wl));
            let shifted = b.var_shl(yw, l_u, Ty::u(wl));
            let largest = (lam.exp_max as i128) << (l_sat - 1);
            let sat_l = if largest > self.tab.score_max as i128 {
                let wc = Ty::u(wl.max(rt.width));
                let max_c = b.constant(self.tab.score_max as i128, wc);
                let shifted_c = b.resize(shifted, wc);
                let above = b.lt(max_c, shifted_c);
                b.or(too_far, above)
            } else {
                too_far
            };
            let shifted_r = b.resize(shifted, rt);
            (sat_l, b.mux(sat_l, max_r, shifted_r))
        };
        // A right-shifted y passes the maximum only if the table's largest entry does (narrow
        // score formats); otherwise the compare would be constant.
        let right_r = b.resize(right, rt);
        let (sat_r, right_v) = if lam.exp_max > self.tab.score_max {
            let wc = Ty::u(right.ty.width.max(rt.width));
            let max_w = b.constant(self.tab.score_max as i128, wc);
            let right_w = b.resize(right, wc);
            let sat_r = b.lt(max_w, right_w);
            (sat_r, b.mux(sat_r, max_r, right_r))
        } else {
            (b.constant(0, Ty::u(1)), right_r)
        };
        let v = b.mux(left, left_v, right_v);
        let v = b.mux(high, max_r, v);
        let v = b.mux(low, zero_r, v);
        let sat = b.mux(left, sat_l, sat_r);
        let ovf = b.or(high, sat);
        let ovf = b.and(above_low, ovf);
        (v, ovf)
    }

    /// `DENS_L(lt, ls) = k_inner − ls − RATIO_L(lt − ls)` and the ratio's overflow bit.
    pub fn density(&self, b: &mut Builder, lam: &Lambda, ln_t: V, ln_s: V) -> (V, V) {
        let g = self.g;
        let u = b.sub(ln_t, ln_s, Ty::s(g + 9));
        let (r, ovf) = self.ratio(b, lam, u);
        let w = self.tab.design.internal.score_bits + 2;
        let k = Self::c(b, lam.k_inner, Ty::s(w));
        let a = b.sub(k, ln_s, Ty::s(w));
        (b.sub(a, r, Ty::s(w)), ovf)
    }

    /// `LEAF_L(l)` (§6.3).
    pub fn leaf(&self, b: &mut Builder, lam: &Lambda, l: Log) -> V {
        let g = self.g;
        let w = g + 10;
        let lo = Self::c(b, lam.leaf_lo, Ty::s(w));
        let d = b.sub(l.v, lo, Ty::s(w));
        let zero = Self::c(b, 0, Ty::s(w));
        let neg = b.lt(d, zero);
        let span = lam.leaf.offset_bits();
        let span_c = Self::c(b, 1 << span, Ty::s(w));
        let big = b.ge(d, span_c);
        let idx = b.slice(d, 0, span);
        let rd = lam.leaf.read(b, idx);
        let kc = Self::c(b, lam.k_norm + lam.c_leaf, Ty::s(w));
        let far = b.sub(kc, l.v, Ty::s(w));
        let kn = Self::c(b, lam.k_norm, Ty::s(w));
        let v = b.mux(big, far, rd);
        let stop = b.or(l.ninf, neg);
        b.mux(stop, kn, v)
    }

    /// ψ of one split (§5.1) from the parent's (ln t, √t), the children's terms and their leaf
    /// flags as signals (constants fold away); the model is `core::fixed::model::psi`.
    pub fn psi(
        &self,
        b: &mut Builder,
        lam: &Lambda,
        (s_ln, s_sqrt): (V, V),
        a: Terms,
        bb: Terms,
        (a_leaf, b_leaf): (V, V),
    ) -> Psi {
        let tf = self.tab.design.internal.t_frac;
        let both = b.and(a_leaf, b_leaf);
        let mn_leaf = b.or(a_leaf, b_leaf);
        let a_small = b.lt(a.t, bb.t);
        let nbl = b.not(b_leaf);
        let a_small = b.and(nbl, a_small);
        let x_is_b = b.or(a_leaf, a_small);
        let x_ln = b.mux(x_is_b, bb.ln, a.ln);
        let x_sqrt = b.mux(x_is_b, bb.sqrt, a.sqrt);
        let y_ln = b.mux(x_is_b, a.ln, bb.ln);
        let (parent, p_ovf) = self.density(b, lam, x_ln, s_ln);
        let lower = b.lt(s_sqrt, x_sqrt);
        let diff = b.sub(s_sqrt, x_sqrt, s_sqrt.ty);
        let zero = b.constant(0, s_sqrt.ty);
        let dsq = b.mux(lower, zero, diff);
        let ws = dsq.ty.width;
        let sq = b.mul(dsq, dsq, Ty::u(2 * ws));
        let sh = self.tab.sqrt_shift;
        let tp2 = if sh == 0 {
            sq
        } else {
            let half = b.constant(1i128 << (sh - 1), Ty::u(2 * ws + 1));
            let sum = b.add(sq, half, Ty::u(2 * ws + 1));
            b.shr(sum, sh, Ty::u(2 * ws + 1 - sh))
        };
        let l2 = self.ln(b, tp2, tf);
        let zero1 = b.constant(0, Ty::u(1));
        let leaf_in = Log {
            v: b.mux(both, s_ln, l2.v),
            ninf: b.mux(both, zero1, l2.ninf),
        };
        let lf = self.leaf(b, lam, leaf_in);
        let (cd, c_ovf) = self.density(b, lam, y_ln, l2.v);
        let lf_wide = b.resize(lf, cd.ty);
        let child = b.mux(mn_leaf, lf_wide, cd);
        let w = self.tab.design.internal.score_bits + 3;
        let pc = b.add(parent, child, Ty::s(w));
        let two_lf = b.shl(lf, 1, Ty::s(w));
        let raw = b.mux(both, two_lf, pc);
        let k4pi = b.constant(self.tab.k_4pi as i128, Ty::s(w));
        let raw = b.add(raw, k4pi, Ty::s(w + 1));
        let (v, sat) = self.sat_score(b, raw);
        let inner_min = b.not(mn_leaf);
        let psi_ninf = b.and(inner_min, l2.ninf);
        let l2_fin = b.not(l2.ninf);
        let c_used = b.and(inner_min, l2_fin);
        let c_hit = b.and(c_used, c_ovf);
        let r_any = b.or(p_ovf, c_hit);
        let not_both = b.not(both);
        let ratio_ovf = b.and(not_both, r_any);
        let psi_fin = b.not(psi_ninf);
        let score_ovf = b.and(psi_fin, sat);
        Psi {
            psi: Log { v, ninf: psi_ninf },
            ratio_ovf,
            score_ovf,
        }
    }

    /// `max*(a, b)` (§6.4) and its saturation bit (set only when both are finite).
    pub fn max_star(&self, b: &mut Builder, x: Log, y: Log) -> (Log, V) {
        let w = self.tab.design.internal.score_bits + 1;
        let diff = b.sub(x.v, y.v, Ty::s(w));
        let zero = Self::c(b, 0, Ty::s(w));
        let x_lt = b.lt(diff, zero);
        let neg = b.sub(zero, diff, Ty::s(w));
        let ad = b.mux(x_lt, neg, diff);
        let ad = b.resize(ad, Ty::u(w));
        let hi = b.mux(x_lt, y.v, x.v);
        let span = self.corr.offset_bits();
        let span_c = b.constant(1 << span, Ty::u(w));
        let far = b.ge(ad, span_c);
        let idx = b.slice(ad, 0, span);
        let cr = self.corr.read(b, idx);
        let zc = Self::c(b, 0, cr.ty);
        let corr = b.mux(far, zc, cr);
        let sum = b.add(hi, corr, Ty::s(w + 1));
        let (v, ovf) = self.sat_score(b, sum);
        let xv = b.resize(x.v, v.ty);
        let yv = b.resize(y.v, v.ty);
        let v = b.mux(y.ninf, xv, v);
        let v = b.mux(x.ninf, yv, v);
        let ninf = b.and(x.ninf, y.ninf);
        let finite_x = b.not(x.ninf);
        let finite_y = b.not(y.ninf);
        let both = b.and(finite_x, finite_y);
        let ovf = b.and(both, ovf);
        (Log { v, ninf }, ovf)
    }

    /// Exact `isqrt(x)` of an unsigned `x` (digit by digit, two input bits per step). After k
    /// steps the root has k bits and the remainder (at most twice the root) k + 1, so each
    /// step's words are only as wide as their values: registers holding constant zeros cost
    /// Yosys one `opt` round per step to find (14 rounds over the whole N = 8 design).
    pub fn isqrt(&self, b: &mut Builder, x: V) -> V {
        let wx = x.ty.width + (x.ty.width & 1);
        let x = b.resize(x, Ty::u(wx));
        let h = wx / 2;
        let one = b.constant(1, Ty::u(2));
        // Slice first: each step then delays only the two bits it still needs.
        let pairs: Vec<V> = (0..h).map(|i| b.slice(x, 2 * i, 2)).collect();
        let mut rem: Option<V> = None;
        let mut root: Option<V> = None;
        for (k, &pair) in (1..=h).zip(pairs.iter().rev()) {
            let cur = match rem {
                Some(r) => b.cat(r, pair),
                None => pair,
            };
            let trial = match root {
                Some(r) => b.cat(r, one),
                None => one,
            };
            let less = b.lt(cur, trial);
            let diff = b.sub(cur, trial, cur.ty);
            let next = b.mux(less, cur, diff);
            rem = Some(b.slice(next, 0, k + 1));
            let ge = b.not(less);
            root = Some(match root {
                Some(r) => b.cat(r, ge),
                None => ge,
            });
        }
        root.expect("a word of at least one bit")
    }
}

/// Leading zeros of a power-of-two-wide word, and whether it is all zero.
fn lzc_pow2(b: &mut Builder, x: V) -> (V, V) {
    let w = x.ty.width;
    if w == 2 {
        let hi = b.bit(x, 1);
        let lo = b.bit(x, 0);
        let nhi = b.not(hi);
        let nlo = b.not(lo);
        return (nhi, b.and(nhi, nlo));
    }
    let hi = b.slice(x, w / 2, w / 2);
    let lo = b.slice(x, 0, w / 2);
    let (ch, zh) = lzc_pow2(b, hi);
    let (cl, zl) = lzc_pow2(b, lo);
    let low = b.mux(zh, cl, ch);
    (b.cat(zh, low), b.and(zh, zl))
}
