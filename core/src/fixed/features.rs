//! Jet features for the tagger, computed from a solved fixed-point trellis: the quantities the
//! end-to-end hardware hands from the clustering datapath to the tagger.
//!
//! All four are log-domain values in the [`super::Quantity::Feature`] format
//! (`log_frac` fractional bits), clamped below at −[`FLOOR_NATS`] nats, which also stands for −∞:
//!
//! 0. `ln_m2`: ln t of the jet (its mass², GeV²);
//! 1. `ln_heavy`: ln(t_heavy / t_jet) of the heavier child of the MAP tree's root split;
//! 2. `ln_light`: ln(t_light / t_jet) of the lighter child (a single massless leaf: −∞);
//! 3. `ln_p_map`: MAP value − log Z, the log posterior probability of the MAP tree.
//!
//! Heavier and lighter are by ln t (ties: either, the values are equal). Without a finite MAP tree
//! (fewer than two leaves, or every tree below the cut) features 1 and 2 are the floor; with no
//! finite tree feature 3 is the floor; with one leaf it is 0 (the one tree is certain).

use super::design::{Design, Quantity};
use super::model::{FixedResult, FixedTrellis};
use super::units::LogVal;
use crate::apfixed::{Format, Overflow, Rounding};
use crate::mask;
use crate::math;
use crate::trellis::GinkgoTrellis;

/// Number of features.
pub const FEATURES: usize = 4;

/// Feature names, in order (the tagger's input order).
pub const FEATURE_NAMES: [&str; FEATURES] = ["ln_m2", "ln_heavy", "ln_light", "ln_p_map"];

/// The floor of every feature, in nats: far below any finite value a jet of the formats produces
/// for features 1–2 and inside every tagger input format with 6 or more integer bits.
pub const FLOOR_NATS: i64 = 16;

/// The floor as a raw value with `log_frac` fractional bits.
pub const fn floor_raw(log_frac: u32) -> i64 {
    -(FLOOR_NATS << log_frac)
}

/// The feature format as an `ap_fixed`, so the tagger's input cast is the one cast rule of
/// `specs/hls4ml-fixed-point.md` ([`Format::convert`]).
pub fn feature_format(d: &Design) -> Format {
    let f = d.format(Quantity::Feature);
    Format::new(
        true,
        f.bits,
        f.bits as i32 - f.frac as i32,
        Rounding::Trn,
        Overflow::Wrap,
    )
    .expect("feature width is at most 33 bits")
}

/// Casts features to the tagger's input format (`input_t(feature)` in hls4ml terms).
pub fn tagger_inputs(f: &[i64; FEATURES], d: &Design, input: &Format) -> [i128; FEATURES] {
    let from = feature_format(d);
    f.map(|x| input.convert(&from, x as i128))
}

/// `max(v, floor)`, with −∞ as the floor.
fn clamp(v: Option<i64>, floor: i64) -> i64 {
    v.map_or(floor, |v| v.max(floor))
}

fn rel(x: LogVal, jet: LogVal) -> Option<i64> {
    Some(x? - jet?)
}

/// The features of the jet `tr` has solved, `res` being its [`FixedTrellis::result`].
pub fn features(tr: &FixedTrellis<'_>, res: &FixedResult) -> [i64; FEATURES] {
    let floor = floor_raw(tr.tables().design.internal.log_frac);
    let n = res.n;
    let root = mask::full(n);
    let jet = if n == 0 { None } else { tr.cell(root).ln_t };
    let (heavy, light) = if n >= 2 && res.map.is_some() {
        let a = tr.cell(root).best;
        let la = clamp(rel(tr.cell(a).ln_t, jet), floor);
        let lb = clamp(rel(tr.cell(root ^ a).ln_t, jet), floor);
        (la.max(lb), la.min(lb))
    } else {
        (floor, floor)
    };
    let p_map = match (res.map, res.log_z) {
        (Some(m), Some(z)) => (m - z).max(floor),
        _ => floor,
    };
    [clamp(jet, floor), heavy, light, p_map]
}

/// The same features in float64 nats from the float trellis (solved for MAP and log Z): the
/// reference the fixed-point features are measured against and the tagger is trained on.
pub fn features_f64(tr: &GinkgoTrellis<'_>) -> [f64; FEATURES] {
    let floor = -(FLOOR_NATS as f64);
    let n = tr.leaves();
    let clamp = |v: f64| if v.is_nan() { floor } else { v.max(floor) };
    if n == 0 {
        return [floor; FEATURES];
    }
    let root = mask::full(n);
    let ln = |s| math::ln(tr.t(s));
    let jet = ln(root);
    let map = tr.map(root);
    let (heavy, light) = if n >= 2 && map.is_finite() {
        let a = tr.best_split(root);
        let la = clamp(ln(a) - jet);
        let lb = clamp(ln(root ^ a) - jet);
        (la.max(lb), la.min(lb))
    } else {
        (floor, floor)
    };
    let p_map = if map.is_finite() {
        clamp(map - tr.log_z(root))
    } else {
        floor
    };
    [clamp(jet), heavy, light, p_map]
}
