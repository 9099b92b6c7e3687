//! Run-time `ap_fixed<W,I,Q,O>` / `ap_ufixed<W,I,Q,O>` formats with the exact cast rule of
//! Xilinx's `ap_types` as used by hls4ml (see `specs/hls4ml-fixed-point.md`).
//!
//! A value of a format is its mantissa `m` (an `i128` holding the W-bit two's-complement or
//! unsigned integer), meaning `m * 2^-F` with `F = W - I`. Arithmetic between values is exact
//! ([`Exact`]); rounding and overflow happen only in [`Format::cast`].
//!
//! The `fixed` crate is not used: its formats are compile-time types, while hls4ml models choose
//! W, I, Q and O per layer at run time, and it has neither the seven quantization modes nor the
//! four overflow modes of `ap_fixed`.

use core::fmt;

/// Widest supported word: mantissas and their exact products then fit in `i128`.
pub const MAX_WIDTH: u32 = 64;

/// Quantization (rounding) mode, applied when a value with more fractional bits is cast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Floor (toward −∞), the default.
    Trn,
    /// Toward zero.
    TrnZero,
    /// To nearest, ties toward +∞.
    Rnd,
    /// To nearest, ties toward zero.
    RndZero,
    /// To nearest, ties toward −∞.
    RndMinInf,
    /// To nearest, ties away from zero.
    RndInf,
    /// To nearest, ties to even.
    RndConv,
}

/// Overflow mode, applied after rounding when the value does not fit in W bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Keep the low W bits (two's complement or unsigned), the default.
    Wrap,
    /// Clamp to the range.
    Sat,
    /// Out-of-range values become zero.
    SatZero,
    /// Clamp to the symmetric range `±(2^(W-1)-1)`, including an exact `-2^(W-1)` (signed
    /// formats; like `Sat` for unsigned).
    SatSym,
}

const ROUNDINGS: [(Rounding, &str); 7] = [
    (Rounding::Trn, "AP_TRN"),
    (Rounding::TrnZero, "AP_TRN_ZERO"),
    (Rounding::Rnd, "AP_RND"),
    (Rounding::RndZero, "AP_RND_ZERO"),
    (Rounding::RndMinInf, "AP_RND_MIN_INF"),
    (Rounding::RndInf, "AP_RND_INF"),
    (Rounding::RndConv, "AP_RND_CONV"),
];

const OVERFLOWS: [(Overflow, &str); 4] = [
    (Overflow::Wrap, "AP_WRAP"),
    (Overflow::Sat, "AP_SAT"),
    (Overflow::SatZero, "AP_SAT_ZERO"),
    (Overflow::SatSym, "AP_SAT_SYM"),
];

impl Rounding {
    /// Every mode, for tests and tools.
    pub const ALL: [Rounding; 7] = [
        Rounding::Trn,
        Rounding::TrnZero,
        Rounding::Rnd,
        Rounding::RndZero,
        Rounding::RndMinInf,
        Rounding::RndInf,
        Rounding::RndConv,
    ];

    /// The `ap_fixed` spelling, e.g. `AP_RND`.
    pub fn name(self) -> &'static str {
        ROUNDINGS
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("", |(_, n)| n)
    }
}

impl Overflow {
    /// Every mode, for tests and tools.
    pub const ALL: [Overflow; 4] = [
        Overflow::Wrap,
        Overflow::Sat,
        Overflow::SatZero,
        Overflow::SatSym,
    ];

    /// The `ap_fixed` spelling, e.g. `AP_SAT`.
    pub fn name(self) -> &'static str {
        OVERFLOWS
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("", |(_, n)| n)
    }
}

/// A fixed-point format `ap_fixed<W,I,Q,O>` (signed) or `ap_ufixed<W,I,Q,O>` (unsigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    width: u32,
    int_bits: i32,
    signed: bool,
    rounding: Rounding,
    overflow: Overflow,
}

/// Why a format or precision string is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The string does not start with `ap_fixed<`, `ap_ufixed<`, `fixed<` or `ufixed<`.
    Prefix,
    /// No closing `>` at the end.
    Close,
    /// Fewer than two or more than five parameters.
    ParamCount(usize),
    /// W is not an integer in 1..=64.
    Width,
    /// I is not an integer.
    IntBits,
    /// The third parameter is not a quantization mode.
    Rounding,
    /// The fourth parameter is not an overflow mode.
    Overflow,
    /// The fifth parameter (saturation bits) is not 0; only 0 is supported.
    SatBits,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Prefix => {
                f.write_str("expected ap_fixed<…>, ap_ufixed<…>, fixed<…> or ufixed<…>")
            }
            FormatError::Close => f.write_str("missing closing '>'"),
            FormatError::ParamCount(n) => write!(f, "expected 2 to 5 parameters, found {n}"),
            FormatError::Width => write!(f, "width W must be an integer in 1..={MAX_WIDTH}"),
            FormatError::IntBits => f.write_str("integer bits I must be an integer"),
            FormatError::Rounding => f.write_str(
                "quantization mode must be one of AP_TRN, AP_TRN_ZERO, AP_RND, AP_RND_ZERO, \
                 AP_RND_MIN_INF, AP_RND_INF, AP_RND_CONV",
            ),
            FormatError::Overflow => {
                f.write_str("overflow mode must be one of AP_WRAP, AP_SAT, AP_SAT_ZERO, AP_SAT_SYM")
            }
            FormatError::SatBits => {
                f.write_str("saturation bits N (5th parameter) other than 0 are not supported")
            }
        }
    }
}

/// An exact value `mant * 2^-frac`, the result of full-precision arithmetic before a cast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    /// The integer mantissa.
    pub mant: i128,
    /// Number of fractional bits (may be negative).
    pub frac: i32,
}

/// The value is NaN, which `ap_fixed` does not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotANumber;

impl Exact {
    /// The exact binary value of a double: `±1.f * 2^e` becomes an integer mantissa and a scale.
    /// An infinity is taken as 2^1024, the value its bit pattern reads as, so it wraps to 0 or
    /// saturates.
    pub fn from_f64(x: f64) -> Result<Exact, NotANumber> {
        if x.is_nan() {
            return Err(NotANumber);
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac_bits = (bits & ((1u64 << 52) - 1)) as i128;
        let (m, e) = if biased == 0 {
            (frac_bits, -1074)
        } else if biased == 0x7ff {
            (1, 1024)
        } else {
            (frac_bits | (1i128 << 52), biased - 1075)
        };
        let mant = if bits >> 63 == 1 { -m } else { m };
        Ok(Exact { mant, frac: -e })
    }

    /// The exact sum, or `None` if the aligned mantissas do not fit in `i128`.
    pub fn checked_add(self, other: Exact) -> Option<Exact> {
        let frac = self.frac.max(other.frac);
        let a = shl_exact(self.mant, (frac - self.frac) as u32)?;
        let b = shl_exact(other.mant, (frac - other.frac) as u32)?;
        Some(Exact {
            mant: a.checked_add(b)?,
            frac,
        })
    }

    /// The exact product, or `None` if it does not fit in `i128`.
    pub fn checked_mul(self, other: Exact) -> Option<Exact> {
        Some(Exact {
            mant: self.mant.checked_mul(other.mant)?,
            frac: self.frac.checked_add(other.frac)?,
        })
    }

    /// The nearest double (exact whenever the mantissa has at most 53 significant bits).
    pub fn to_f64(self) -> f64 {
        // i128 → f64 is correctly rounded; scaling by a power of two is exact unless it
        // underflows, so split large scales in two steps.
        let m = self.mant as f64;
        let half = self.frac / 2;
        m * pow2(-half) * pow2(-(self.frac - half))
    }
}

/// 2^e as a double for |e| ≤ 1023 + 52, exact where representable.
fn pow2(e: i32) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if e >= -1074 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        0.0
    }
}

fn shl_exact(m: i128, k: u32) -> Option<i128> {
    if m == 0 {
        return Some(0);
    }
    if k >= 127 {
        return None;
    }
    m.checked_mul(1i128 << k)
}

/// Where the dropped bits of a right shift lie relative to half an LSB.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dropped {
    Zero,
    BelowHalf,
    Half,
    AboveHalf,
}

/// floor(m / 2^s) and the class of the remainder, for any s ≥ 1.
fn shr_floor(m: i128, s: u32) -> (i128, Dropped) {
    if s >= 128 {
        // |m| ≤ 2^127 ≤ 2^(s-1): a non-negative m drops below half, a negative one leaves
        // floor = -1 with remainder 2^s - |m| ≥ half.
        return if m >= 0 {
            (
                0,
                if m == 0 {
                    Dropped::Zero
                } else {
                    Dropped::BelowHalf
                },
            )
        } else if s == 128 && m == i128::MIN {
            (-1, Dropped::Half)
        } else {
            (-1, Dropped::AboveHalf)
        };
    }
    let q = m >> s;
    let r = (m as u128) & ((1u128 << s) - 1);
    let half = 1u128 << (s - 1);
    let class = if r == 0 {
        Dropped::Zero
    } else if r < half {
        Dropped::BelowHalf
    } else if r == half {
        Dropped::Half
    } else {
        Dropped::AboveHalf
    };
    (q, class)
}

/// Integer obtained from rounding, before the overflow step: the exact value when it fits in
/// `i128`, else only its low 128 bits and its sign.
#[derive(Clone, Copy)]
struct Rounded {
    low: i128,
    fits: bool,
    negative: bool,
}

impl Format {
    /// A format; `None` unless 1 ≤ `width` ≤ 64.
    pub const fn new(
        signed: bool,
        width: u32,
        int_bits: i32,
        rounding: Rounding,
        overflow: Overflow,
    ) -> Option<Format> {
        if width == 0 || width > MAX_WIDTH {
            return None;
        }
        Some(Format {
            width,
            int_bits,
            signed,
            rounding,
            overflow,
        })
    }

    /// `ap_fixed<W,I>` with the default modes (AP_TRN, AP_WRAP); panics on a bad width, so use
    /// it for constants.
    pub const fn fixed(width: u32, int_bits: i32) -> Format {
        match Format::new(true, width, int_bits, Rounding::Trn, Overflow::Wrap) {
            Some(f) => f,
            None => panic!("width out of range"),
        }
    }

    /// Parses an hls4ml precision string: `ap_fixed<16,6>`, `ap_ufixed<8,0>`,
    /// `ap_fixed<16,6,AP_RND,AP_SAT>`, `ap_fixed<18,8,AP_RND,AP_SAT,0>`, `fixed<16,6>`,
    /// `ufixed<…>`. Spaces around parameters are allowed.
    pub fn parse(s: &str) -> Result<Format, FormatError> {
        let s = s.trim();
        let (signed, rest) = if let Some(r) = s.strip_prefix("ap_fixed<") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("ap_ufixed<") {
            (false, r)
        } else if let Some(r) = s.strip_prefix("fixed<") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("ufixed<") {
            (false, r)
        } else {
            return Err(FormatError::Prefix);
        };
        let body = rest.strip_suffix('>').ok_or(FormatError::Close)?;
        let n = body.split(',').count();
        if !(2..=5).contains(&n) {
            return Err(FormatError::ParamCount(n));
        }
        let mut parts = body.split(',').map(str::trim);
        let width: u32 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|w| (1..=MAX_WIDTH).contains(w))
            .ok_or(FormatError::Width)?;
        let int_bits: i32 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(FormatError::IntBits)?;
        let rounding = match parts.next() {
            None => Rounding::Trn,
            Some(p) => ROUNDINGS
                .iter()
                .find(|(_, name)| *name == p)
                .map(|(r, _)| *r)
                .ok_or(FormatError::Rounding)?,
        };
        let overflow = match parts.next() {
            None => Overflow::Wrap,
            Some(p) => OVERFLOWS
                .iter()
                .find(|(_, name)| *name == p)
                .map(|(o, _)| *o)
                .ok_or(FormatError::Overflow)?,
        };
        if let Some(p) = parts.next() {
            if p.parse::<u32>() != Ok(0) {
                return Err(FormatError::SatBits);
            }
        }
        Ok(Format {
            width,
            int_bits,
            signed,
            rounding,
            overflow,
        })
    }

    /// Total bits W.
    pub const fn width(&self) -> u32 {
        self.width
    }

    /// Integer bits I (including the sign bit for signed formats).
    pub const fn int_bits(&self) -> i32 {
        self.int_bits
    }

    /// Whether every mantissa of this format fits in an `i64` (all but `ap_ufixed<64,…>`).
    pub const fn fits_i64(&self) -> bool {
        self.signed || self.width < 64
    }

    /// Whether every value of `other` is a value of this format, so a cast from it is the
    /// identity on mantissas.
    pub fn holds(&self, other: &Format) -> bool {
        self.frac_bits() == other.frac_bits()
            && self.lowest() <= other.min_mant()
            && self.max_mant() >= other.max_mant()
    }

    /// Fractional bits F = W − I (may be negative).
    pub const fn frac_bits(&self) -> i32 {
        self.width as i32 - self.int_bits
    }

    /// Whether the mantissa is two's complement.
    pub const fn signed(&self) -> bool {
        self.signed
    }

    /// Quantization mode.
    pub const fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// Overflow mode.
    pub const fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// The same format with other modes.
    pub const fn with_modes(self, rounding: Rounding, overflow: Overflow) -> Format {
        Format {
            rounding,
            overflow,
            ..self
        }
    }

    /// Smallest mantissa.
    pub const fn min_mant(&self) -> i128 {
        if self.signed {
            -(1i128 << (self.width - 1))
        } else {
            0
        }
    }

    /// Largest mantissa.
    pub const fn max_mant(&self) -> i128 {
        if self.signed {
            (1i128 << (self.width - 1)) - 1
        } else {
            (1i128 << self.width) - 1
        }
    }

    /// The value of mantissa `m` as an exact number.
    #[inline]
    pub const fn exact(&self, m: i128) -> Exact {
        Exact {
            mant: m,
            frac: self.frac_bits(),
        }
    }

    /// The value of mantissa `m` as a double (exact for W ≤ 53).
    pub fn to_f64(&self, m: i128) -> f64 {
        self.exact(m).to_f64()
    }

    /// Casts an exact value into this format: quantize to F fractional bits with the rounding
    /// mode, then apply the overflow mode. Returns the mantissa.
    #[inline]
    pub fn cast(&self, x: Exact) -> i128 {
        // Most casts in a network drop no bits or floor, and land in range: keep that short
        // and inlinable.
        let shift = x.frac as i64 - self.frac_bits() as i64;
        let exact = if (0..64).contains(&shift) && (shift == 0 || self.rounding == Rounding::Trn) {
            Some(x.mant >> shift)
        } else if (-63..0).contains(&shift) && x.mant as i64 as i128 == x.mant {
            // |mant| < 2^63 and k < 64: the shifted value is exact in i128.
            Some(x.mant << -shift)
        } else {
            None
        };
        if let Some(v) = exact {
            if v >= self.lowest() && v <= self.max_mant() {
                return v;
            }
            if self.overflow == Overflow::Wrap {
                return self.wrap(v);
            }
        }
        self.cast_general(x)
    }

    /// Smallest mantissa a cast can produce: `-max` under AP_SAT_SYM, else the minimum.
    #[inline]
    fn lowest(&self) -> i128 {
        if self.overflow == Overflow::SatSym && self.signed {
            -self.max_mant()
        } else {
            self.min_mant()
        }
    }

    fn cast_general(&self, x: Exact) -> i128 {
        let shift = x.frac as i64 - self.frac_bits() as i64;
        let r = if shift == 0 {
            Rounded {
                low: x.mant,
                fits: true,
                negative: x.mant < 0,
            }
        } else if shift > 0 && shift < 128 && self.rounding == Rounding::Trn {
            let v = x.mant >> shift;
            Rounded {
                low: v,
                fits: true,
                negative: v < 0,
            }
        } else if shift > 0 {
            let s = shift.min(1 << 20) as u32;
            let (q, d) = shr_floor(x.mant, s);
            let neg = x.mant < 0;
            let up = match self.rounding {
                Rounding::Trn => false,
                Rounding::TrnZero => neg && d != Dropped::Zero,
                Rounding::Rnd => matches!(d, Dropped::Half | Dropped::AboveHalf),
                Rounding::RndZero => d == Dropped::AboveHalf || (d == Dropped::Half && neg),
                Rounding::RndMinInf => d == Dropped::AboveHalf,
                Rounding::RndInf => d == Dropped::AboveHalf || (d == Dropped::Half && !neg),
                Rounding::RndConv => d == Dropped::AboveHalf || (d == Dropped::Half && q & 1 == 1),
            };
            // q ≤ 2^126 after a shift of at least one bit, so the carry cannot overflow.
            let v = q + up as i128;
            Rounded {
                low: v,
                fits: true,
                negative: v < 0,
            }
        } else {
            let k = (-shift).min(1 << 20) as u32;
            match shl_exact(x.mant, k) {
                Some(v) => Rounded {
                    low: v,
                    fits: true,
                    negative: v < 0,
                },
                None => Rounded {
                    low: if k < 128 { x.mant.wrapping_shl(k) } else { 0 },
                    fits: false,
                    negative: x.mant < 0,
                },
            }
        };
        self.overflow_step(r)
    }

    fn overflow_step(&self, r: Rounded) -> i128 {
        // AP_SAT_SYM also moves an exact −2^(W−1) to −(2^(W−1)−1) (ap_fixed_base.h checks the
        // low W−1 bits of a negative result), so its range is symmetric.
        let (lo, hi) = (self.lowest(), self.max_mant());
        let in_range = r.fits && r.low >= lo && r.low <= hi;
        if in_range {
            return r.low;
        }
        match self.overflow {
            Overflow::Wrap => self.wrap(r.low),
            Overflow::SatZero => 0,
            Overflow::Sat | Overflow::SatSym => {
                if r.negative {
                    lo
                } else {
                    hi
                }
            }
        }
    }

    /// The low W bits of `m`, read as this format's mantissa (two's complement or unsigned).
    #[inline]
    pub fn wrap(&self, m: i128) -> i128 {
        let sh = 128 - self.width;
        if self.signed {
            (m << sh) >> sh
        } else {
            ((m as u128) << sh >> sh) as i128
        }
    }

    /// Casts a double by its exact binary value.
    pub fn from_f64(&self, x: f64) -> Result<i128, NotANumber> {
        Ok(self.cast(Exact::from_f64(x)?))
    }

    /// Casts a mantissa of format `from` into this format.
    #[inline]
    pub fn convert(&self, from: &Format, m: i128) -> i128 {
        self.cast(from.exact(m))
    }
}

impl fmt::Display for Format {
    /// Prints the hls4ml spelling; modes appear only when not the defaults.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.signed { "ap_fixed" } else { "ap_ufixed" };
        write!(f, "{prefix}<{},{}", self.width, self.int_bits)?;
        if self.rounding != Rounding::Trn || self.overflow != Overflow::Wrap {
            write!(f, ",{}", self.rounding.name())?;
            if self.overflow != Overflow::Wrap {
                write!(f, ",{}", self.overflow.name())?;
            }
        }
        f.write_str(">")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hls4ml_strings() {
        let f = Format::parse("ap_fixed<16,6>").unwrap();
        assert_eq!((f.width(), f.int_bits(), f.signed()), (16, 6, true));
        assert_eq!(f.rounding(), Rounding::Trn);
        let f = Format::parse("ap_fixed<18,8,AP_RND,AP_SAT,0>").unwrap();
        assert_eq!((f.rounding(), f.overflow()), (Rounding::Rnd, Overflow::Sat));
        let f = Format::parse("ufixed<8, 0>").unwrap();
        assert!(!f.signed());
        assert_eq!(Format::parse("ap_fixed<65,6>"), Err(FormatError::Width));
        assert_eq!(
            Format::parse("ap_fixed<16,6,AP_FOO>"),
            Err(FormatError::Rounding)
        );
        assert_eq!(
            Format::parse("ap_fixed<16,6,AP_RND,AP_BAR>"),
            Err(FormatError::Overflow)
        );
        assert_eq!(
            Format::parse("ap_fixed<16>"),
            Err(FormatError::ParamCount(1))
        );
        assert_eq!(Format::parse("ap_fixed<16,6"), Err(FormatError::Close));
        assert_eq!(Format::parse("int<16>"), Err(FormatError::Prefix));
        assert_eq!(
            Format::parse("ap_fixed<16,6,AP_RND,AP_SAT,2>"),
            Err(FormatError::SatBits)
        );
    }

    #[test]
    fn spec_examples() {
        let f = Format::fixed(16, 6);
        assert_eq!(f.from_f64(1e30).unwrap(), 0);
        assert_eq!(f.to_f64(f.from_f64(40.0).unwrap()), -24.0);
        // AP_TRN floors, it does not truncate toward zero.
        assert_eq!(f.from_f64(-1.0 / 2048.0).unwrap(), -1);
        let r = f.with_modes(Rounding::Rnd, Overflow::Sat);
        assert_eq!(r.from_f64(1.0 / 2048.0).unwrap(), 1);
        assert_eq!(r.from_f64(-1.0 / 2048.0).unwrap(), 0);
        assert_eq!(r.from_f64(1e30).unwrap(), 32767);
        assert_eq!(r.from_f64(f64::INFINITY).unwrap(), 32767);
        assert!(f.from_f64(f64::NAN).is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "ap_fixed<16,6>",
            "ap_ufixed<8,0>",
            "ap_fixed<18,8,AP_RND,AP_SAT>",
            "ap_fixed<12,5,AP_RND_CONV>",
        ] {
            let f = Format::parse(s).unwrap();
            assert!(alloc_free_display(&f, s), "{s}");
        }
    }

    fn alloc_free_display(f: &Format, expect: &str) -> bool {
        struct Cmp<'a>(&'a str, bool);
        impl fmt::Write for Cmp<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                match self.0.strip_prefix(s) {
                    Some(rest) => self.0 = rest,
                    None => self.1 = false,
                }
                Ok(())
            }
        }
        let mut c = Cmp(expect, true);
        fmt::write(&mut c, format_args!("{f}")).unwrap();
        c.1 && c.0.is_empty()
    }
}
