//! A Ginkgo-like toy shower: a parent of mass² t splits into children whose mass² values are
//! drawn from Ginkgo's truncated exponential (`t₁ ~ t · Exp(λ)` cut at `t`, `t₂` likewise at
//! scale `(√t − √t₁)²`), and decays isotropically in its rest frame; a cluster below `t_cut` is a
//! (massive) leaf. Close enough to Ginkgo to measure fixed-point accuracy; not a replacement
//! for the `shower` command.

use jettrellis::jets::Jet;
use jettrellis_core::Momentum;
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;

/// Toy-shower parameters.
#[derive(Clone, Copy, Debug)]
pub struct ToyParams {
    /// Root mass² (GeV²).
    pub t_root: f64,
    /// Jet energy (GeV).
    pub energy: f64,
    /// Decay rate λ.
    pub lambda: f64,
    /// Mass² cut (GeV²).
    pub t_cut: f64,
}

impl Default for ToyParams {
    /// Ginkgo's QCD-like defaults of the reference data: Δ₀ = 900, λ = 1.5, t_cut = 16, 400 GeV.
    fn default() -> Self {
        ToyParams {
            t_root: 900.0,
            energy: 400.0,
            lambda: 1.5,
            t_cut: 16.0,
        }
    }
}

fn draw_t(rng: &mut impl Rng, scale: f64, lambda: f64) -> f64 {
    // Inverse CDF of λ/s e^{−λ t/s} truncated to [0, s].
    let u: f64 = rng.random();
    -scale / lambda * (1.0 - u * (1.0 - (-lambda).exp())).ln()
}

fn boost(p: Momentum, parent: &Momentum) -> Momentum {
    let m = (parent[0] * parent[0]
        - parent[1] * parent[1]
        - parent[2] * parent[2]
        - parent[3] * parent[3])
        .max(0.0)
        .sqrt();
    let b = [
        parent[1] / parent[0],
        parent[2] / parent[0],
        parent[3] / parent[0],
    ];
    let b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
    if b2 <= 0.0 || m <= 0.0 {
        return p;
    }
    let gamma = parent[0] / m;
    let bp = b[0] * p[1] + b[1] * p[2] + b[2] * p[3];
    let k = (gamma - 1.0) * bp / b2 + gamma * p[0];
    [
        gamma * (p[0] + bp),
        p[1] + k * b[0],
        p[2] + k * b[1],
        p[3] + k * b[2],
    ]
}

fn split(rng: &mut impl Rng, p: Momentum, t: f64, prm: &ToyParams, out: &mut Vec<Momentum>) {
    if t < prm.t_cut || out.len() > 64 {
        out.push(p);
        return;
    }
    let t1 = draw_t(rng, t, prm.lambda);
    let t2 = draw_t(rng, (t.sqrt() - t1.sqrt()).powi(2), prm.lambda);
    let (m, m1, m2) = (t.sqrt(), t1.sqrt(), t2.sqrt());
    let q = ((t - (m1 + m2).powi(2)) * (t - (m1 - m2).powi(2)))
        .max(0.0)
        .sqrt()
        / (2.0 * m);
    let cos: f64 = rng.random_range(-1.0..1.0);
    let sin = (1.0 - cos * cos).sqrt();
    let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let n = [sin * phi.cos(), sin * phi.sin(), cos];
    let a = [(t1 + q * q).sqrt(), q * n[0], q * n[1], q * n[2]];
    let b = [(t2 + q * q).sqrt(), -q * n[0], -q * n[1], -q * n[2]];
    split(rng, boost(a, &p), t1, prm, out);
    split(rng, boost(b, &p), t2, prm, out);
}

/// One toy jet's leaves: a root of mass² `t_root` and energy `energy` flying along a random
/// direction with |η| < 1.
pub fn shower(rng: &mut impl Rng, prm: &ToyParams) -> Vec<Momentum> {
    let eta: f64 = rng.random_range(-1.0..1.0);
    let phi: f64 = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
    let pmag = (prm.energy * prm.energy - prm.t_root).sqrt();
    let (th_c, th_s) = (eta.tanh(), 1.0 / eta.cosh());
    let root = [
        prm.energy,
        pmag * th_s * phi.cos(),
        pmag * th_s * phi.sin(),
        pmag * th_c,
    ];
    let mut out = Vec::new();
    split(rng, root, prm.t_root, prm, &mut out);
    out
}

/// `count` toy jets with `min..=max` leaves each (others are redrawn), reproducible from `seed`.
pub fn jets(count: usize, seed: u64, min: usize, max: usize, prm: &ToyParams) -> Vec<Jet> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let leaves = shower(&mut rng, prm);
        if (min..=max).contains(&leaves.len()) {
            out.push(Jet {
                id: Some(out.len().into()),
                leaves,
                lambda: Some(prm.lambda),
                lambda_root: Some(prm.lambda),
                t_cut: Some(prm.t_cut),
                truth: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toy_jets_conserve_momentum_and_respect_the_cut() {
        let prm = ToyParams::default();
        let js = jets(50, 7, 4, 8, &prm);
        assert_eq!(js.len(), 50);
        for j in &js {
            assert!((4..=8).contains(&j.leaves.len()));
            let mut s = [0.0; 4];
            for l in &j.leaves {
                let m2 = jettrellis_core::ginkgo::mass2(l);
                assert!(m2 < prm.t_cut + 1e-6 && m2 > -1e-6 * l[0] * l[0], "{m2}");
                for c in 0..4 {
                    s[c] += l[c];
                }
            }
            assert!((s[0] - prm.energy).abs() < 1e-6);
            assert!((jettrellis_core::ginkgo::mass2(&s) - prm.t_root).abs() < 1e-4);
        }
    }
}
