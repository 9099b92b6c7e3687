//! Elementary functions for the float reference, always from `libm`.
//!
//! A `#![no_std]` crate sees std's float methods whenever std is linked somewhere in the build
//! (a test build is enough), so calling `x.exp()` would give different functions, and possibly
//! different last bits, in different builds. Calling `libm` by name gives the same bits
//! everywhere.

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// e^x − 1, accurate near 0.
#[inline]
pub fn exp_m1(x: f64) -> f64 {
    libm::expm1(x)
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// Square root (correctly rounded).
#[inline]
pub fn sqrt(x: f64) -> f64 {
    libm::sqrt(x)
}

/// 1/i! for i = 0 … 15: the Taylor coefficients of [`exp_nonpositive`] and
/// [`one_minus_exp_neg`] (and of the AVX-512 copy of the former, which must use the same).
pub(crate) const INV_FACTORIAL: [f64; 16] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
    1.0 / 87_178_291_200.0,
    1.0 / 1_307_674_368_000.0,
];

/// The Cody–Waite reduction of [`exp_nonpositive`]: ln 2 split so that `k · LN2_HI` is exact.
pub(crate) const LN2_HI: f64 = 6.931_471_803_691_238e-1;
/// The low part of ln 2 (see [`LN2_HI`]).
pub(crate) const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// Adding 1.5·2^52 rounds to an integer held in the low mantissa bits.
pub(crate) const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;
/// [`exp_nonpositive`] clamps its argument here (e^−708 ≈ 3·10⁻³⁰⁸, still normal).
pub(crate) const EXP_MIN_ARG: f64 = -708.0;

/// e^x for x ≤ 0 without branches, so that loops over it vectorize: Cody–Waite reduction
/// `x = k ln 2 + r`, `|r| ≤ ln 2 / 2`, a degree-13 Taylor polynomial (truncation error
/// < 5·10⁻¹⁸ relative) and `2^k` built in the exponent bits. Within 2 ulp of `libm::exp`
/// on [−708, 0]; arguments below −708 are clamped there (e^−708 ≈ 3·10⁻³⁰⁸, still normal),
/// which callers treat as negligible.
///
/// The terms of degree 4 to 13 are evaluated in Estrin's scheme (independent pairs combined
/// with r², r⁴, r⁸), which shortens the chain of dependent operations from 13 multiply-adds to
/// about 7; the last four are Horner steps, so that their rounding stays that of Horner's form
/// (the tail is scaled by r⁴ ≤ 0.015 before it meets them).
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    const F: [f64; 16] = INV_FACTORIAL;
    let x = if x > EXP_MIN_ARG { x } else { EXP_MIN_ARG };
    let shifted = x * core::f64::consts::LOG2_E + ROUND_SHIFT;
    let kf = shifted - ROUND_SHIFT;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let e4 = F[4] + r * F[5];
    let e6 = F[6] + r * F[7];
    let e8 = F[8] + r * F[9];
    let e10 = F[10] + r * F[11];
    let e12 = F[12] + r * F[13];
    let f4 = e4 + r2 * e6;
    let f8 = e8 + r2 * e10;
    let tail = (f4 + r4 * f8) + r8 * e12;
    let mut p = F[3] + r * tail;
    p = F[2] + r * p;
    p = F[1] + r * p;
    p = F[0] + r * p;
    let k = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits());
    let scale = f64::from_bits(k.wrapping_add(1023) << 52);
    p * scale
}

/// `1 − e^{−x}` for x ≥ 0: below 0.35 (where subtracting from 1 would lose digits) its series
/// `x Σ (−x)^i/(i+1)!` to i = 14 (truncation < 10⁻¹⁸ relative), in the same Estrin-then-Horner
/// form as [`exp_nonpositive`] (it is on the critical path of small subsets); `1 − e^{−x}`
/// above (at most two bits lost to cancellation there). Both are computed and one is
/// selected, without a branch, so that loops over it vectorize.
#[inline(always)]
pub fn one_minus_exp_neg(x: f64) -> f64 {
    let y = -x;
    let y2 = y * y;
    let y4 = y2 * y2;
    let y8 = y4 * y4;
    const F: [f64; 16] = INV_FACTORIAL;
    let e0 = F[5] + y * F[6];
    let e2 = F[7] + y * F[8];
    let e4 = F[9] + y * F[10];
    let e6 = F[11] + y * F[12];
    let e8 = F[13] + y * F[14];
    let e10 = F[15];
    let tail = ((e0 + y2 * e2) + y4 * (e4 + y2 * e6)) + y8 * (e8 + y2 * e10);
    let mut q = F[4] + y * tail;
    q = F[3] + y * q;
    q = F[2] + y * q;
    q = F[1] + y * q;
    let series = x * q;
    let direct = 1.0 - exp_nonpositive(-x);
    if x < 0.35 {
        series
    } else {
        direct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_nonpositive_within_two_ulp_of_libm() {
        let mut worst = 0;
        let mut x = 0.0f64;
        // A dense sweep of [−708, 0] plus the reduction boundaries ±ln2/2 around each k.
        while x > -708.0 {
            worst = worst.max(ulps(exp_nonpositive(x), exp(x)));
            x -= 0.000_713_7;
        }
        for k in 0..1021 {
            for off in [-0.346_573_590_3, 0.346_573_590_3, 0.0] {
                let x = -(k as f64) * core::f64::consts::LN_2 + off;
                if (-708.0..=0.0).contains(&x) {
                    worst = worst.max(ulps(exp_nonpositive(x), exp(x)));
                }
            }
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-1e300), exp_nonpositive(-708.0));
        assert!(exp_nonpositive(-708.0) > 0.0);
    }

    #[test]
    fn one_minus_exp_neg_matches_expm1() {
        let mut worst = 0.0f64;
        let mut x = 1e-12;
        while x < 800.0 {
            let want = -exp_m1(-x);
            let rel = ((one_minus_exp_neg(x) - want) / want).abs();
            worst = worst.max(rel);
            x *= 1.001;
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        assert_eq!(one_minus_exp_neg(0.0), 0.0);
    }
}
