//! The Ginkgo split log-likelihood ψ, exactly as used by the published Cluster Trellis numbers
//! (see `shared/reference/ginkgo_reference.md`): leaves have t = 0, inner clusters t = m² of their
//! summed leaf momenta, ψ = −∞ when t_P < t_cut, no clipping in the leaf term.

use crate::math;
use core::f64::consts::PI;

/// A four-momentum `[E, px, py, pz]` in GeV.
pub type Momentum = [f64; 4];

/// Sum of two four-momenta.
#[inline]
pub fn add(a: &Momentum, b: &Momentum) -> Momentum {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

/// Invariant mass squared `E² − |p|²`, as the reference code computes it.
#[inline]
pub fn mass2(p: &Momentum) -> f64 {
    p[0] * p[0] - (p[1] * p[1] + p[2] * p[2] + p[3] * p[3])
}

/// Parameters of the Ginkgo likelihood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GinkgoParams {
    /// Decay rate λ of every split below the root.
    pub lambda: f64,
    /// Decay rate of the root split (the one whose parent is the whole jet).
    pub lambda_root: f64,
    /// Mass-squared cut t_cut (GeV²): a cluster lighter than this does not split.
    pub t_cut: f64,
}

impl Default for GinkgoParams {
    /// λ = λ_root = 1.5, t_cut = 16 GeV², the values of the reference data.
    fn default() -> Self {
        GinkgoParams {
            lambda: 1.5,
            lambda_root: 1.5,
            t_cut: 16.0,
        }
    }
}

/// Why a set of parameters cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// λ must be finite and > 0.
    Lambda,
    /// λ_root must be finite and > 0.
    LambdaRoot,
    /// t_cut must be finite and ≥ 0.
    TCut,
}

impl core::fmt::Display for ParamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ParamError::Lambda => "lambda must be finite and > 0",
            ParamError::LambdaRoot => "lambda_root must be finite and > 0",
            ParamError::TCut => "t_cut must be finite and >= 0",
        })
    }
}

impl GinkgoParams {
    /// Checks that every parameter is in its domain.
    pub fn validate(&self) -> Result<(), ParamError> {
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(ParamError::Lambda);
        }
        if !(self.lambda_root.is_finite() && self.lambda_root > 0.0) {
            return Err(ParamError::LambdaRoot);
        }
        if !(self.t_cut.is_finite() && self.t_cut >= 0.0) {
            return Err(ParamError::TCut);
        }
        Ok(())
    }

    /// λ for a split whose parent is the whole jet (`root`) or an inner cluster.
    #[inline]
    pub fn lambda_for(&self, root: bool) -> f64 {
        if root {
            self.lambda_root
        } else {
            self.lambda
        }
    }
}

/// `ln(1 − e^{−x})` for x ≥ 0, accurate for small and large x.
#[inline]
pub fn ln_one_minus_exp_neg(x: f64) -> f64 {
    math::ln(-math::exp_m1(-x))
}

/// `f(t | s)`: the log-density of a child of mass² `t` under a parent scale `s` (t ≤ 0 is a leaf).
#[inline]
pub fn child_term(t: f64, s: f64, lambda: f64, t_cut: f64) -> f64 {
    let norm = -ln_one_minus_exp_neg(lambda);
    if t > 0.0 {
        norm + math::ln(lambda) - math::ln(s) - lambda * t / s
    } else {
        norm + ln_one_minus_exp_neg(lambda * t_cut / s)
    }
}

/// ψ(A, B): log-likelihood of a parent of mass² `t_p` splitting into children of mass² `t_a`
/// and `t_b` (0 for a leaf), with decay rate `lambda`. Symmetric in the children.
pub fn split_llh(t_a: f64, t_b: f64, t_p: f64, lambda: f64, t_cut: f64) -> f64 {
    if t_p < t_cut || t_p.is_nan() {
        return f64::NEG_INFINITY;
    }
    let (t_max, t_min) = if t_a >= t_b { (t_a, t_b) } else { (t_b, t_a) };
    let d = math::sqrt(t_p) - math::sqrt(t_max.max(0.0));
    let t_p2 = d * d;
    if t_min > 0.0 && t_p2 <= 0.0 {
        // A massive child cannot carry the whole parent mass: the density vanishes.
        return f64::NEG_INFINITY;
    }
    let v = child_term(t_max, t_p, lambda, t_cut) + child_term(t_min, t_p2, lambda, t_cut)
        - math::ln(4.0 * PI);
    if v.is_nan() {
        f64::NEG_INFINITY
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_cut_is_minus_infinity() {
        assert_eq!(split_llh(0.0, 0.0, 15.9, 1.5, 16.0), f64::NEG_INFINITY);
        assert!(split_llh(0.0, 0.0, 16.0, 1.5, 16.0).is_finite());
    }

    #[test]
    fn symmetric_in_children() {
        let a = split_llh(30.0, 100.0, 900.0, 1.5, 16.0);
        let b = split_llh(100.0, 30.0, 900.0, 1.5, 16.0);
        assert_eq!(a, b);
    }

    #[test]
    fn leaf_term_matches_closed_form() {
        // Two leaves: both terms are leaf terms at scale t_p (t_P2 = t_p when t_max = 0).
        let (lam, tc, tp) = (1.5f64, 16.0f64, 50.0f64);
        let leaf = -math::ln(1.0 - math::exp(-lam)) + math::ln(1.0 - math::exp(-lam * tc / tp));
        let want = 2.0 * leaf - math::ln(4.0 * PI);
        assert!((split_llh(0.0, 0.0, tp, lam, tc) - want).abs() < 1e-14);
    }

    #[test]
    fn zero_cut_makes_leaf_terms_minus_infinity() {
        assert_eq!(split_llh(0.0, 0.0, 50.0, 1.5, 0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn params_validate() {
        assert!(GinkgoParams::default().validate().is_ok());
        let bad = GinkgoParams {
            t_cut: f64::NAN,
            ..GinkgoParams::default()
        };
        assert_eq!(bad.validate(), Err(ParamError::TCut));
        let bad = GinkgoParams {
            lambda: 0.0,
            ..GinkgoParams::default()
        };
        assert_eq!(bad.validate(), Err(ParamError::Lambda));
    }
}
