//! The hardware input (N constituents as L1-style integers with valid bits) and the one
//! function that quantizes a float jet into it.

use super::design::{Design, MAX_FIXED_LEAVES};
use crate::ginkgo::Momentum;
use crate::mask::Mask;
use crate::math;
use core::f64::consts::PI;

/// One jet as the hardware sees it: up to N massless constituents in integer units.
/// Slot `k` takes part iff bit `k` of `valid` is set; the values of invalid slots are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedJet {
    /// pT in LSBs of `2^-pt_frac` GeV (unsigned, `pt_bits` wide).
    pub pt: [u32; MAX_FIXED_LEAVES],
    /// η in LSBs of π/steps (two's complement, `eta_bits` wide).
    pub eta: [i32; MAX_FIXED_LEAVES],
    /// φ in LSBs of π/steps (two's complement, `phi_bits` wide), normally in [−steps, steps).
    pub phi: [i32; MAX_FIXED_LEAVES],
    /// Valid bits.
    pub valid: Mask,
}

impl FixedJet {
    /// The massless four-momentum `[E, px, py, pz]` (GeV) that slot `k` stands for: what the
    /// float reference is run on to measure the fixed-point error alone.
    pub fn momentum(&self, k: usize, d: &Design) -> Momentum {
        let pt = libm::ldexp(self.pt[k] as f64, -(d.input.pt_frac as i32));
        let unit = PI / d.input.angle_steps_per_pi as f64;
        let eta = self.eta[k] as f64 * unit;
        let phi = self.phi[k] as f64 * unit;
        [
            pt * libm::cosh(eta),
            pt * libm::cos(phi),
            pt * libm::sin(phi),
            pt * libm::sinh(eta),
        ]
    }
}

/// What quantization did to a jet beyond rounding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuantReport {
    /// Constituents whose pT was above the pT format (saturated to the largest value).
    pub pt_saturated: u32,
    /// Constituents whose |η| was above the η format (saturated).
    pub eta_saturated: u32,
    /// Constituents dropped because their pT rounds to zero (η undefined or irrelevant).
    pub dropped_zero_pt: u32,
    /// Constituents dropped because more than N remained (the lowest pT ones go).
    pub dropped_excess: u32,
}

impl QuantReport {
    /// Adds another report.
    pub fn merge(&mut self, o: &QuantReport) {
        self.pt_saturated += o.pt_saturated;
        self.eta_saturated += o.eta_saturated;
        self.dropped_zero_pt += o.dropped_zero_pt;
        self.dropped_excess += o.dropped_excess;
    }
}

/// Why a jet cannot be quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFinite {
    /// The offending constituent.
    pub leaf: usize,
    /// The offending component (0 = E … 3 = pz).
    pub component: usize,
}

impl core::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const NAMES: [&str; 4] = ["E", "px", "py", "pz"];
        write!(
            f,
            "leaves[{}][{}] ({}) is not finite",
            self.leaf, self.component, NAMES[self.component]
        )
    }
}

/// A quantized jet and where its slots came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quantized {
    /// The hardware input; valid slots are `0 .. n`.
    pub jet: FixedJet,
    /// Number of valid slots.
    pub n: usize,
    /// `source[k]`: index in the float jet of slot `k`.
    pub source: [usize; MAX_FIXED_LEAVES],
    /// Saturations and drops.
    pub report: QuantReport,
}

/// Quantizes a float jet: each four-momentum becomes massless `(pT, η, φ)` integers
/// (`pT = √(px² + py²)`, `η = asinh(pz / pT)`, `φ = atan2(py, px)`, each rounded to nearest);
/// values beyond a format saturate (counted); a pT that rounds to zero drops the constituent
/// (counted); of the rest, the `max_leaves` highest quantized pT are kept (ties: the lower
/// index), in their original order. φ = +π is written as −π. Any non-finite component is an error.
pub fn quantize_jet(leaves: &[Momentum], d: &Design) -> Result<Quantized, NonFinite> {
    for (leaf, p) in leaves.iter().enumerate() {
        if let Some(component) = p.iter().position(|v| !v.is_finite()) {
            return Err(NonFinite { leaf, component });
        }
    }
    let i = &d.input;
    let steps = i.angle_steps_per_pi as i64;
    let pt_max = (1u64 << i.pt_bits) - 1;
    let eta_max = (1i64 << (i.eta_bits - 1)) - 1;
    let mut report = QuantReport::default();
    let pt_raw = |p: &Momentum| -> (u64, bool) {
        let pt = math::sqrt(p[1] * p[1] + p[2] * p[2]);
        let r = libm::round(libm::ldexp(pt, i.pt_frac as i32));
        if r > pt_max as f64 {
            (pt_max, true)
        } else {
            (r as u64, false)
        }
    };
    let kept = leaves.iter().filter(|p| pt_raw(p).0 > 0).count();
    let n_max = d.max_leaves as usize;
    let mut out = Quantized::default();
    for (k, p) in leaves.iter().enumerate() {
        let (pt, sat) = pt_raw(p);
        if pt == 0 {
            report.dropped_zero_pt += 1;
            continue;
        }
        if kept > n_max {
            let rank = leaves
                .iter()
                .enumerate()
                .filter(|&(j, q)| {
                    let o = pt_raw(q).0;
                    o > pt || (o == pt && j < k)
                })
                .count();
            if rank >= n_max {
                report.dropped_excess += 1;
                continue;
            }
        }
        report.pt_saturated += sat as u32;
        let ptf = math::sqrt(p[1] * p[1] + p[2] * p[2]);
        let per_rad = steps as f64 / PI;
        let eta = libm::round(libm::asinh(p[3] / ptf) * per_rad);
        let eta = if eta.abs() > eta_max as f64 {
            report.eta_saturated += 1;
            eta_max * eta.signum() as i64
        } else {
            eta as i64
        };
        let mut phi = libm::round(libm::atan2(p[2], p[1]) * per_rad) as i64;
        if phi >= steps {
            phi -= 2 * steps;
        }
        let s = out.n;
        out.jet.pt[s] = pt as u32;
        out.jet.eta[s] = eta as i32;
        out.jet.phi[s] = phi as i32;
        out.jet.valid |= 1 << s;
        out.source[s] = k;
        out.n += 1;
    }
    out.report = report;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantizes_and_round_trips() {
        let d = Design::default();
        let p = [100.0 * libm::cosh(0.5), 100.0, 0.0, 100.0 * libm::sinh(0.5)];
        let q = quantize_jet(&[p], &d).unwrap();
        assert_eq!(q.n, 1);
        assert_eq!(q.jet.pt[0], 400);
        assert_eq!(q.jet.eta[0], libm::round(0.5 * 720.0 / PI) as i32);
        assert_eq!(q.jet.phi[0], 0);
        let back = q.jet.momentum(0, &d);
        assert!((back[1] - 100.0).abs() < 1e-9);
    }

    #[test]
    fn saturates_drops_and_keeps_highest() {
        let mut d = Design {
            max_leaves: 2,
            ..Design::default()
        };
        let leaves = [
            [1.0, 0.01, 0.0, 0.0],    // pT rounds to zero: dropped
            [1e9, 1e6, 0.0, 0.0],     // saturates pT
            [10.0, 0.0, 5.0, 1e9],    // saturates eta
            [3.0, 3.0, 0.0, 0.0],     // lowest of the rest: dropped
            [-20.0, -20.0, 0.0, 0.0], // phi = pi, written as -pi
        ];
        let q = quantize_jet(&leaves, &d).unwrap();
        assert_eq!(q.n, 2);
        assert_eq!(q.source[..2], [1, 4]);
        assert_eq!(q.jet.phi[1], -720);
        assert_eq!(q.report.dropped_zero_pt, 1);
        assert_eq!(q.report.dropped_excess, 2);
        assert_eq!(q.report.pt_saturated, 1);
        d.max_leaves = 3;
        let q = quantize_jet(&leaves, &d).unwrap();
        assert_eq!(q.report.eta_saturated, 1);
        assert_eq!(q.jet.eta[1], 2047);
        let bad = quantize_jet(&[[1.0, f64::NAN, 0.0, 0.0]], &d);
        assert_eq!(
            bad,
            Err(NonFinite {
                leaf: 0,
                component: 1
            })
        );
    }
}
