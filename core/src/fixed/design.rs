//! The design: every parameter of the fixed-point datapath as plain data, its validation, and
//! the number format of every physical quantity, derived from it in exactly one place.
//!
//! The host parses a TOML design file into [`Design`] (keys are the field paths below, e.g.
//! `internal.log_frac`); hdl and host read formats through [`Design::format`], never by
//! re-typing widths.

use core::f64::consts::PI;

/// Largest number of leaves the fixed model supports (the tree count stays far inside 64 bits
/// and the cell buffer at 4096 entries).
pub const MAX_FIXED_LEAVES: usize = 12;

/// Largest lookup table (entries, excluding the interpolation end point).
pub const MAX_LUT: usize = 4096;

/// Width of the angle-table words (`cosh Δη − 1`, `1 − cos Δφ`).
pub const ANGLE_WORD_BITS: u32 = 40;

/// Which results the hardware produces. Software always computes all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// The MAP value and the MAP tree (argmax per subset).
    pub map: bool,
    /// log Z.
    pub log_z: bool,
    /// The number of finite trees (needs multipliers; off by default).
    pub count: bool,
}

/// The input format of one constituent: L1-style integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFormat {
    /// Width of pT (unsigned).
    pub pt_bits: u32,
    /// pT LSB is `2^-pt_frac` GeV (0.25 GeV: `pt_frac = 2`).
    pub pt_frac: u32,
    /// Width of η (two's complement).
    pub eta_bits: u32,
    /// Width of φ (two's complement); φ is expected in `[−steps, steps]`.
    pub phi_bits: u32,
    /// Angle LSB is `π / angle_steps_per_pi` rad (CMS Phase-2: 720).
    pub angle_steps_per_pi: u32,
}

/// Fractional bits and widths of the internal quantities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Internal {
    /// Fractional bits of the angle-table words `cosh Δη − 1` and `1 − cos Δφ`.
    pub angle_frac: u32,
    /// Width of s_ij, t and t_P2 (unsigned); sums saturate at `2^t_bits − 1`.
    pub t_bits: u32,
    /// t LSB is `2^-t_frac` GeV².
    pub t_frac: u32,
    /// √t LSB is `2^-sqrt_frac` GeV.
    pub sqrt_frac: u32,
    /// Fractional bits of every log-domain value (ln t, ratio terms, ψ, scores, max* corrections).
    pub log_frac: u32,
    /// Width of ψ and of the MAP / log Z scores (two's complement, symmetric saturation).
    pub score_bits: u32,
    /// Width of the tree count (unsigned, saturating).
    pub count_bits: u32,
}

/// Lookup-table sizes (entries; powers of two). Interpolated tables hold one more entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LutSizes {
    /// `cosh Δη − 1` and `1 − cos Δφ`, indexed by the angle difference in LSBs (no
    /// interpolation). Must exceed `angle_steps_per_pi` so that every |Δφ| has an entry.
    pub angle: u32,
    /// `ln(1 + x)`, x ∈ [0, 1): the mantissa table of ln.
    pub ln: u32,
    /// Interpolation bits below the ln table index.
    pub ln_interp_bits: u32,
    /// `λ · 2^f`, f ∈ [0, 1): the exp table of the ratio terms (one per λ).
    pub exp: u32,
    /// The leaf-stop term over ln t on a 32-nat window (one per λ).
    pub leaf: u32,
    /// The max* correction `ln(1 + e^−d)`, d ∈ [0, 16).
    pub corr: u32,
}

/// A complete design of the clustering datapath.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Design {
    /// Maximum number of leaves N (constituents per jet).
    pub max_leaves: u32,
    /// λ of every split below the root.
    pub lambda: f64,
    /// λ of the root split (the split of the set of all valid leaves).
    pub lambda_root: f64,
    /// Mass² cut in GeV² (> 0 in the fixed model).
    pub t_cut: f64,
    /// Fold factor F: each hardware split unit evaluates F splits in turn.
    pub fold: u32,
    /// Target clock in MHz.
    pub clock_mhz: f64,
    /// Results produced by the hardware.
    pub outputs: Outputs,
    /// Constituent input format.
    pub input: InputFormat,
    /// Internal formats.
    pub internal: Internal,
    /// Lookup-table sizes.
    pub luts: LutSizes,
}

impl Default for Design {
    /// The shipped default (`configs/default.toml` holds the same values; a test checks it).
    fn default() -> Self {
        Design {
            max_leaves: 8,
            lambda: 1.5,
            lambda_root: 1.5,
            t_cut: 16.0,
            fold: 1,
            clock_mhz: 240.0,
            outputs: Outputs {
                map: true,
                log_z: true,
                count: false,
            },
            input: InputFormat {
                pt_bits: 16,
                pt_frac: 2,
                eta_bits: 12,
                phi_bits: 11,
                angle_steps_per_pi: 720,
            },
            internal: Internal {
                angle_frac: 28,
                t_bits: 36,
                t_frac: 12,
                sqrt_frac: 16,
                log_frac: 16,
                score_bits: 30,
                count_bits: 32,
            },
            luts: LutSizes {
                angle: 1024,
                ln: 1024,
                ln_interp_bits: 10,
                exp: 128,
                leaf: 2048,
                corr: 1024,
            },
        }
    }
}

/// What is wrong with a design value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Problem {
    /// Must be an integer in `[min, max]`.
    OutOfRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A width of zero.
    ZeroWidth,
    /// A table size that is not a power of two.
    NotPowerOfTwo,
    /// A real parameter outside its domain (the text says which).
    Domain(&'static str),
    /// Two parameters that do not fit together (the text says how).
    Inconsistent(&'static str),
}

/// A design error, naming the offending key as it appears in the design file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DesignError {
    /// The key, e.g. `luts.ln` or `internal.log_frac`.
    pub key: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

impl core::fmt::Display for DesignError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "key `{}`: ", self.key)?;
        match self.problem {
            Problem::OutOfRange { min, max } => write!(f, "must be in {min}..={max}"),
            Problem::ZeroWidth => f.write_str("a width of 0 bits is not allowed"),
            Problem::NotPowerOfTwo => f.write_str("a table size must be a power of two"),
            Problem::Domain(s) | Problem::Inconsistent(s) => f.write_str(s),
        }
    }
}

/// Unit of a quantity (the value of one LSB is `2^-frac` of this unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// GeV.
    GeV,
    /// GeV².
    GeV2,
    /// π / steps rad.
    AngleStep(u32),
    /// Dimensionless.
    One,
    /// Natural-log units (nats).
    Nat,
    /// Number of trees.
    Trees,
}

/// A fixed-point number format: `bits` wide, value = raw · 2^-frac · unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Total width in bits (including the sign bit when signed).
    pub bits: u32,
    /// Two's complement when true.
    pub signed: bool,
    /// Fractional bits.
    pub frac: u32,
    /// Unit of the value.
    pub unit: Unit,
}

impl Format {
    /// The real value of one LSB in `unit`s (for an angle unit: in rad).
    pub fn lsb(&self) -> f64 {
        let base = match self.unit {
            Unit::AngleStep(steps) => PI / steps as f64,
            _ => 1.0,
        };
        base * libm::ldexp(1.0, -(self.frac as i32))
    }
}

/// The physical quantities of the datapath, each with one format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Constituent pT.
    Pt,
    /// Constituent η.
    Eta,
    /// Constituent φ.
    Phi,
    /// |Δη| of a pair (angle-table index).
    DEta,
    /// |Δφ| of a pair after wrapping into [0, π] (angle-table index).
    DPhi,
    /// `cosh Δη − 1` and `1 − cos Δφ` table words, and their sum.
    AngleTerm,
    /// `pT_i · pT_j`.
    PtProduct,
    /// Pair invariant s_ij = 2 pT_i pT_j (cosh Δη − cos Δφ).
    Sij,
    /// Subset mass² t and t_P2.
    T,
    /// √t.
    SqrtT,
    /// ln t (with a −∞ flag for t = 0).
    LnT,
    /// Ratio term λ t / s.
    Ratio,
    /// Split log-likelihood ψ.
    Psi,
    /// MAP and log Z scores (with a −∞ flag).
    Score,
    /// max* correction ln(1 + e^−d).
    Corr,
    /// Tree count.
    Count,
    /// Tagger input features (differences of scores, see [`super::features`]).
    Feature,
}

impl Quantity {
    /// Every quantity, for listings (manifests, docs).
    pub const ALL: [Quantity; 17] = [
        Quantity::Pt,
        Quantity::Eta,
        Quantity::Phi,
        Quantity::DEta,
        Quantity::DPhi,
        Quantity::AngleTerm,
        Quantity::PtProduct,
        Quantity::Sij,
        Quantity::T,
        Quantity::SqrtT,
        Quantity::LnT,
        Quantity::Ratio,
        Quantity::Psi,
        Quantity::Score,
        Quantity::Corr,
        Quantity::Count,
        Quantity::Feature,
    ];

    /// Short name (used as a key in manifests and summaries).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Pt => "pt",
            Quantity::Eta => "eta",
            Quantity::Phi => "phi",
            Quantity::DEta => "deta",
            Quantity::DPhi => "dphi",
            Quantity::AngleTerm => "angle_term",
            Quantity::PtProduct => "pt_product",
            Quantity::Sij => "s_ij",
            Quantity::T => "t",
            Quantity::SqrtT => "sqrt_t",
            Quantity::LnT => "ln_t",
            Quantity::Ratio => "ratio",
            Quantity::Psi => "psi",
            Quantity::Score => "score",
            Quantity::Corr => "corr",
            Quantity::Count => "count",
            Quantity::Feature => "feature",
        }
    }
}

fn range(key: &'static str, v: u32, min: u32, max: u32) -> Result<(), DesignError> {
    if v == 0 && min > 0 && key_is_width(key) {
        return Err(DesignError {
            key,
            problem: Problem::ZeroWidth,
        });
    }
    if v < min || v > max {
        return Err(DesignError {
            key,
            problem: Problem::OutOfRange {
                min: min as i64,
                max: max as i64,
            },
        });
    }
    Ok(())
}

fn key_is_width(key: &str) -> bool {
    key.ends_with("_bits")
}

fn pow2(key: &'static str, v: u32, max: u32) -> Result<(), DesignError> {
    if !v.is_power_of_two() {
        return Err(DesignError {
            key,
            problem: Problem::NotPowerOfTwo,
        });
    }
    range(key, v, 2, max)
}

fn err(key: &'static str, problem: Problem) -> Result<(), DesignError> {
    Err(DesignError { key, problem })
}

impl Design {
    /// Checks every parameter and every cross-constraint the datapath relies on.
    pub fn validate(&self) -> Result<(), DesignError> {
        range("max_leaves", self.max_leaves, 1, MAX_FIXED_LEAVES as u32)?;
        for (key, v) in [("lambda", self.lambda), ("lambda_root", self.lambda_root)] {
            if !(v.is_finite() && v > 0.0 && v < 64.0) {
                return err(key, Problem::Domain("must be finite, > 0 and < 64"));
            }
        }
        if !(self.t_cut.is_finite() && self.t_cut > 0.0) {
            return err("t_cut", Problem::Domain("must be finite and > 0"));
        }
        range("fold", self.fold, 1, 1 << 20)?;
        if !(self.clock_mhz.is_finite() && self.clock_mhz > 0.0) {
            return err("clock_mhz", Problem::Domain("must be finite and > 0"));
        }
        if !(self.outputs.map || self.outputs.log_z) {
            return err(
                "outputs.map",
                Problem::Inconsistent("at least one of outputs.map and outputs.log_z must be on"),
            );
        }
        let i = &self.input;
        range("input.pt_bits", i.pt_bits, 1, 24)?;
        range("input.pt_frac", i.pt_frac, 0, 8)?;
        range("input.eta_bits", i.eta_bits, 2, 16)?;
        range("input.phi_bits", i.phi_bits, 2, 16)?;
        range("input.angle_steps_per_pi", i.angle_steps_per_pi, 1, 1 << 14)?;
        if (1u32 << (i.phi_bits - 1)) <= i.angle_steps_per_pi {
            return err(
                "input.phi_bits",
                Problem::Inconsistent("phi must hold +-angle_steps_per_pi (+-pi)"),
            );
        }
        let n = &self.internal;
        range("internal.angle_frac", n.angle_frac, 1, 38)?;
        range("internal.t_bits", n.t_bits, 8, 48)?;
        range("internal.t_frac", n.t_frac, 0, 16)?;
        range("internal.sqrt_frac", n.sqrt_frac, 0, 24)?;
        range("internal.log_frac", n.log_frac, 4, 20)?;
        range("internal.score_bits", n.score_bits, n.log_frac + 8, 32)?;
        range("internal.count_bits", n.count_bits, 1, 63)?;
        if 2 * n.sqrt_frac < n.t_frac || n.t_bits + 2 * n.sqrt_frac - n.t_frac > 64 {
            return err(
                "internal.sqrt_frac",
                Problem::Inconsistent(
                    "need 2*sqrt_frac >= t_frac and t_bits + 2*sqrt_frac - t_frac <= 64",
                ),
            );
        }
        if n.angle_frac + 2 * i.pt_frac < n.t_frac + 2 {
            return err(
                "internal.angle_frac",
                Problem::Inconsistent("need angle_frac + 2*pt_frac >= t_frac + 2 (s_ij rounding)"),
            );
        }
        let l = &self.luts;
        pow2("luts.angle", l.angle, MAX_LUT as u32)?;
        pow2("luts.ln", l.ln, MAX_LUT as u32)?;
        range("luts.ln_interp_bits", l.ln_interp_bits, 0, 16)?;
        pow2("luts.exp", l.exp, MAX_LUT as u32)?;
        pow2("luts.leaf", l.leaf, MAX_LUT as u32)?;
        pow2("luts.corr", l.corr, MAX_LUT as u32)?;
        if l.angle <= i.angle_steps_per_pi {
            return err(
                "luts.angle",
                Problem::Inconsistent("must exceed input.angle_steps_per_pi (covers |dphi| <= pi)"),
            );
        }
        let max_arg = (l.angle - 1) as f64 * PI / i.angle_steps_per_pi as f64;
        let top = (libm::cosh(max_arg) - 1.0) * libm::ldexp(1.0, n.angle_frac as i32);
        if top >= libm::ldexp(1.0, ANGLE_WORD_BITS as i32 - 1) {
            return err(
                "internal.angle_frac",
                Problem::Inconsistent("cosh(max deta) - 1 does not fit the 40-bit angle word"),
            );
        }
        let g = n.log_frac;
        if l.exp > 1 << g || l.leaf > 1 << (g + 5) || l.corr > 1 << (g + 4) {
            return err(
                "luts.exp",
                Problem::Inconsistent(
                    "luts.exp <= 2^log_frac, luts.leaf <= 2^(log_frac+5), luts.corr <= 2^(log_frac+4)",
                ),
            );
        }
        let t_max = libm::ldexp(1.0, (n.t_bits - n.t_frac) as i32);
        if self.t_cut >= t_max {
            return err(
                "t_cut",
                Problem::Inconsistent("t_cut is beyond the t format"),
            );
        }
        Ok(())
    }

    /// The format of a quantity under this design.
    pub fn format(&self, q: Quantity) -> Format {
        let i = &self.input;
        let n = &self.internal;
        let steps = Unit::AngleStep(i.angle_steps_per_pi);
        let f = |bits, signed, frac, unit| Format {
            bits,
            signed,
            frac,
            unit,
        };
        let g = n.log_frac;
        match q {
            Quantity::Pt => f(i.pt_bits, false, i.pt_frac, Unit::GeV),
            Quantity::Eta => f(i.eta_bits, true, 0, steps),
            Quantity::Phi => f(i.phi_bits, true, 0, steps),
            Quantity::DEta => f(i.eta_bits, false, 0, steps),
            Quantity::DPhi => f(i.phi_bits - 1, false, 0, steps),
            Quantity::AngleTerm => f(ANGLE_WORD_BITS, false, n.angle_frac, Unit::One),
            Quantity::PtProduct => f(2 * i.pt_bits, false, 2 * i.pt_frac, Unit::GeV2),
            Quantity::Sij | Quantity::T => f(n.t_bits, false, n.t_frac, Unit::GeV2),
            Quantity::SqrtT => f(
                (n.t_bits + 2 * n.sqrt_frac - n.t_frac).div_ceil(2),
                false,
                n.sqrt_frac,
                Unit::GeV,
            ),
            // |ln t| < 48 ln 2 < 34 nats for every t format allowed.
            Quantity::LnT => f(g + 7, true, g, Unit::Nat),
            Quantity::Ratio => f(n.score_bits - 1, false, g, Unit::One),
            Quantity::Psi | Quantity::Score => f(n.score_bits, true, g, Unit::Nat),
            Quantity::Corr => f(g, false, g, Unit::Nat),
            Quantity::Count => f(n.count_bits, false, 0, Unit::Trees),
            Quantity::Feature => f(n.score_bits + 1, true, g, Unit::Nat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Design::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_key() {
        let mut d = Design::default();
        d.luts.ln = 1000;
        assert_eq!(
            d.validate().unwrap_err(),
            DesignError {
                key: "luts.ln",
                problem: Problem::NotPowerOfTwo
            }
        );
        let mut d = Design::default();
        d.internal.t_bits = 0;
        assert_eq!(d.validate().unwrap_err().problem, Problem::ZeroWidth);
        assert_eq!(d.validate().unwrap_err().key, "internal.t_bits");
        let d = Design {
            max_leaves: 13,
            ..Design::default()
        };
        assert_eq!(d.validate().unwrap_err().key, "max_leaves");
        let mut d = Design::default();
        d.luts.angle = 512;
        assert_eq!(d.validate().unwrap_err().key, "luts.angle");
    }

    #[test]
    fn formats_follow_the_design() {
        let d = Design::default();
        let pt = d.format(Quantity::Pt);
        assert_eq!(pt.lsb(), 0.25);
        assert_eq!(d.format(Quantity::Eta).lsb(), PI / 720.0);
        assert_eq!(d.format(Quantity::Score).frac, 16);
        assert!(d.format(Quantity::SqrtT).bits >= 28);
    }
}
