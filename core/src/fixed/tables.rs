//! Lookup-table contents and design constants: computed once per design, in floating point, by
//! [`Tables::new`] — the one function that both the golden model and the hardware generator call.
//! Nothing per jet touches a float.
//!
//! Every table entry and constant is `round(value · 2^frac)` (round half away from zero, as
//! `libm::round`), computed with `libm` so that the bits are the same on every build.

use super::design::{Design, DesignError, Problem, MAX_LUT};
use crate::math;
use core::f64::consts::{LN_2, LOG2_E, PI};

/// Fractional bits of the `ln 2` constant used to scale the exponent in the ln unit.
pub const LN2_FRAC: u32 = 32;
/// Fractional bits of the `log2 e` constant used by the exp unit.
pub const LOG2E_FRAC: u32 = 30;
/// Fractional bits of the `λ · 2^f` exp-table words.
pub const EXP_TABLE_FRAC: u32 = 24;
/// The ratio unit's input range in nats: `u ≤ −RATIO_CLAMP_NATS` gives 0, `u ≥` it saturates.
pub const RATIO_CLAMP_NATS: i64 = 64;
/// The ratio unit's largest shift: a shift down by this much or more leaves 0, a shift up by
/// `RATIO_MAX_SHIFT − EXP_TABLE_FRAC` or more saturates.
pub const RATIO_MAX_SHIFT: i64 = 62;
/// Width of the leaf-term window in nats (`2^LEAF_WINDOW_LOG2`).
pub const LEAF_WINDOW_LOG2: u32 = 5;
/// The leaf window starts this many nats below `ln(λ t_cut)`.
pub const LEAF_WINDOW_BELOW: f64 = 8.0;
/// Width of the max* correction window in nats (`2^CORR_WINDOW_LOG2`).
pub const CORR_WINDOW_LOG2: u32 = 4;

/// `round(x · 2^frac)` as an integer (round half away from zero).
pub fn quantize(x: f64, frac: u32) -> i64 {
    libm::round(libm::ldexp(x, frac as i32)) as i64
}

/// `floor(x / 2^s + 1/2)`: the one rounding of the datapath (round half up), exact for every
/// `x` whose `|x| + 2^(s−1)` fits in 64 bits.
#[inline(always)]
pub const fn round_shift(x: i64, s: u32) -> i64 {
    if s == 0 {
        x
    } else {
        (x + (1 << (s - 1))) >> s
    }
}

/// A table of `size` entries (a power of two, plus one end point when interpolated), read at
/// an unsigned offset `d` as `y[j] + round_shift((y[j+1] − y[j]) · r, step_log2)` with
/// `j = d >> step_log2`, `r = d mod 2^step_log2`. Entries are stored as `T` (`i32` for the
/// log-domain tables, `i64` for the 40-bit angle words); arithmetic is in `i64`.
#[derive(Clone, Debug)]
pub struct Lut<T = i32> {
    /// Number of index positions (a power of two).
    pub size: usize,
    /// log2 of the input LSBs per entry (0: direct lookup, no interpolation).
    pub step_log2: u32,
    /// Entries; `size + 1` of them are used when `step_log2 > 0`.
    pub vals: [T; MAX_LUT + 1],
}

impl<T: Copy + Default + Into<i64> + TryFrom<i64>> Lut<T> {
    fn build(
        key: &'static str,
        size: u32,
        step_log2: u32,
        f: impl Fn(usize) -> i64,
    ) -> Result<Self, DesignError> {
        let size = size as usize;
        let mut vals = [T::default(); MAX_LUT + 1];
        let used = if step_log2 > 0 { size + 1 } else { size };
        for (j, v) in vals.iter_mut().enumerate().take(used) {
            *v = T::try_from(f(j)).map_err(|_| DesignError {
                key,
                problem: Problem::Inconsistent("a table entry does not fit its word"),
            })?;
        }
        Ok(Lut {
            size,
            step_log2,
            vals,
        })
    }

    /// The used entries (what a ROM holds).
    pub fn entries(&self) -> &[T] {
        let used = if self.step_log2 > 0 {
            self.size + 1
        } else {
            self.size
        };
        &self.vals[..used]
    }

    /// Number of input positions covered: `size · 2^step_log2`.
    #[inline(always)]
    pub fn span(&self) -> u64 {
        (self.size as u64) << self.step_log2
    }

    /// Reads the table at offset `d < span()`.
    #[inline(always)]
    pub fn read(&self, d: u64) -> i64 {
        debug_assert!(d < self.span());
        let j = (d >> self.step_log2) as usize;
        let y0: i64 = self.vals[j].into();
        if self.step_log2 == 0 {
            return y0;
        }
        let r = (d & ((1 << self.step_log2) - 1)) as i64;
        let y1: i64 = self.vals[j + 1].into();
        y0 + round_shift((y1 - y0) * r, self.step_log2)
    }
}

/// The tables and constants that depend on λ (one set for the inner splits, one for the root).
#[derive(Clone, Debug)]
pub struct LambdaTables {
    /// λ itself (documentation only; never used per jet).
    pub lambda: f64,
    /// `λ · 2^(j/size)` with [`EXP_TABLE_FRAC`] fractional bits, indexed by the fraction of
    /// `log2` of the ratio.
    pub exp: Lut,
    /// `−ln(1 − e^−λ) + ln(1 − e^{−λ t_cut e^{−l}})` at `l = leaf_lo + j·2^step` (log format).
    pub leaf: Lut,
    /// Start of the leaf window (log format raw): `round((ln(λ t_cut) − 8) · 2^G)`.
    pub leaf_lo: i64,
    /// `round(ln(λ t_cut) · 2^G)`: above the window the leaf term is `k_norm + c_leaf − l`.
    pub c_leaf: i64,
    /// `round(−ln(1 − e^−λ) · 2^G)`: the leaf term for t → 0 (also for t_P2 = 0).
    pub k_norm: i64,
    /// `round((−ln(1 − e^−λ) + ln λ) · 2^G)`: the constant of an inner child's density.
    pub k_inner: i64,
}

/// Everything the per-jet computation needs besides the inputs.
#[derive(Clone, Debug)]
pub struct Tables {
    /// The design the tables were computed for.
    pub design: Design,
    /// `cosh(k π / steps) − 1`, k = |Δη| in LSBs, with `angle_frac` fractional bits.
    pub cosh_m1: Lut<i64>,
    /// `1 − cos(k π / steps)`, k = |Δφ| in LSBs, with `angle_frac` fractional bits.
    pub one_m_cos: Lut<i64>,
    /// `ln(1 + j / size)` (log format), interpolated with `ln_interp_bits`.
    pub ln: Lut,
    /// `ln(1 + e^{−d})` at `d = j · 2^step` (log format raw).
    pub corr: Lut,
    /// λ-dependent tables of the splits below the root.
    pub inner: LambdaTables,
    /// λ-dependent tables of the root split.
    pub root: LambdaTables,
    /// `round(ln 2 · 2^LN2_FRAC)`.
    pub ln2: i64,
    /// `round(log2 e · 2^LOG2E_FRAC)`.
    pub log2e: i64,
    /// `round(−ln(4π) · 2^G)`.
    pub k_4pi: i64,
    /// `ceil(t_cut · 2^t_frac)`: a subset splits iff `T ≥ t_cut_raw` (and T > 0).
    pub t_cut_raw: u64,
    /// Largest t (`2^t_bits − 1`).
    pub t_max: u64,
    /// Right shift turning `pT_i pT_j (C + D)` into s_ij: `angle_frac + 2 pt_frac − t_frac − 1`.
    pub s_shift: u32,
    /// Left shift of t before the integer square root: `2 sqrt_frac − t_frac`.
    pub sqrt_shift: u32,
    /// Largest score magnitude (`2^(score_bits−1) − 1`); scores saturate symmetrically.
    pub score_max: i64,
    /// Largest tree count (`2^count_bits − 1`).
    pub count_max: u64,
}

fn lambda_tables(d: &Design, lambda: f64, key: &'static str) -> Result<LambdaTables, DesignError> {
    let g = d.internal.log_frac;
    let norm = -math::ln(-math::exp_m1(-lambda));
    let exp_step = g - d.luts.exp.trailing_zeros();
    let exp_size = d.luts.exp as f64;
    let exp = Lut::build(key, d.luts.exp, exp_step, |j| {
        quantize(lambda * libm::exp2(j as f64 / exp_size), EXP_TABLE_FRAC)
    })?;
    let c = math::ln(lambda * d.t_cut);
    let leaf_lo = quantize(c - LEAF_WINDOW_BELOW, g);
    let leaf_step = g + LEAF_WINDOW_LOG2 - d.luts.leaf.trailing_zeros();
    let leaf = Lut::build(key, d.luts.leaf, leaf_step, |j| {
        let l = libm::ldexp((leaf_lo + ((j as i64) << leaf_step)) as f64, -(g as i32));
        let x = lambda * d.t_cut * math::exp(-l);
        quantize(norm + math::ln(-math::exp_m1(-x)), g)
    })?;
    Ok(LambdaTables {
        lambda,
        exp,
        leaf,
        leaf_lo,
        c_leaf: quantize(c, g),
        k_norm: quantize(norm, g),
        k_inner: quantize(norm + math::ln(lambda), g),
    })
}

impl Tables {
    /// Validates the design and computes every table and constant of it.
    pub fn new(d: &Design) -> Result<Tables, DesignError> {
        d.validate()?;
        let i = &d.input;
        let n = &d.internal;
        let g = n.log_frac;
        let steps = i.angle_steps_per_pi as f64;
        let cosh_m1 = Lut::build("internal.angle_frac", d.luts.angle, 0, |k| {
            let x = k as f64 * PI / steps;
            // cosh x − 1 = 2 sinh²(x/2), without cancellation at small x.
            let s = libm::sinh(x / 2.0);
            quantize(2.0 * s * s, n.angle_frac)
        })?;
        let one_m_cos = Lut::build("internal.angle_frac", d.luts.angle, 0, |k| {
            let s = libm::sin(k as f64 * PI / steps / 2.0);
            quantize(2.0 * s * s, n.angle_frac)
        })?;
        let ln_size = d.luts.ln as f64;
        let ln = Lut::build("luts.ln", d.luts.ln, d.luts.ln_interp_bits, |j| {
            quantize(libm::log1p(j as f64 / ln_size), g)
        })?;
        let corr_step = g + CORR_WINDOW_LOG2 - d.luts.corr.trailing_zeros();
        let corr = Lut::build("luts.corr", d.luts.corr, corr_step, |j| {
            let x = libm::ldexp((j as u64) as f64, corr_step as i32 - g as i32);
            quantize(libm::log1p(math::exp(-x)), g)
        })?;
        let t_cut_raw = libm::ceil(libm::ldexp(d.t_cut, n.t_frac as i32)) as u64;
        Ok(Tables {
            design: *d,
            cosh_m1,
            one_m_cos,
            ln,
            corr,
            inner: lambda_tables(d, d.lambda, "lambda")?,
            root: lambda_tables(d, d.lambda_root, "lambda_root")?,
            ln2: quantize(LN_2, LN2_FRAC),
            log2e: quantize(LOG2_E, LOG2E_FRAC),
            k_4pi: quantize(-math::ln(4.0 * PI), g),
            t_cut_raw,
            t_max: (1u64 << n.t_bits) - 1,
            s_shift: n.angle_frac + 2 * i.pt_frac - n.t_frac - 1,
            sqrt_shift: 2 * n.sqrt_frac - n.t_frac,
            score_max: (1i64 << (n.score_bits - 1)) - 1,
            count_max: (1u64 << n.count_bits) - 1,
        })
    }

    /// The two angle ROMs by name (40-bit words), for the hardware generator and listings.
    pub fn angle_roms(&self) -> [(&'static str, &Lut<i64>); 2] {
        [("cosh_m1", &self.cosh_m1), ("one_m_cos", &self.one_m_cos)]
    }

    /// Every log-domain ROM of the design by name, for the hardware generator and listings.
    pub fn roms(&self) -> [(&'static str, &Lut); 6] {
        [
            ("ln", &self.ln),
            ("corr", &self.corr),
            ("exp_inner", &self.inner.exp),
            ("leaf_inner", &self.inner.leaf),
            ("exp_root", &self.root.exp),
            ("leaf_root", &self.root.leaf),
        ]
    }
}
