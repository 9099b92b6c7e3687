//! `jettrellis shower`: the Ginkgo invariant-mass toy parton shower (Cranmer, Macaluso,
//! Pappadopulo, arXiv:2105.10512), written from the paper's description.
//!
//! A jet starts as one particle of mass² `t = M_hard²` with momentum `|p|` along (1, 1, 1). Each
//! particle with `t ≥ t_cut` decays into two: the first child gets `t_L = t_P·r_L`, the second
//! `t_R = (√t_P − √t_L)²·r_R`, with `r` drawn from an exponential of rate λ (λ_root at the root)
//! truncated to `r < 1 − 10⁻³` by redrawing; the two-body decay is isotropic in the parent's rest
//! frame and boosted to the lab. A particle with `t < t_cut` is a leaf: its real four-momentum
//! (with `m² = t < t_cut`) is written out, while the likelihood treats it as `t = 0`.
//!
//! Every jet has its own random stream (ChaCha8 seeded with `--seed`, stream = jet index), so
//! the file is byte-identical for a given seed whatever the number of threads.

use crate::jets::Truth;
use crate::{io, trees};
use anyhow::{bail, Context, Result};
use jettrellis_core::{ginkgo, tree, GinkgoParams, Momentum};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::f64::consts::PI;
use std::path::PathBuf;

/// Largest number of leaves a shower may keep: trees are stored as 32-bit leaf masks.
pub const MAX_SHOWER_LEAVES: usize = 32;

/// Truncation of the exponential draws: `r` is redrawn while `r ≥ 1 − R_GAP`, which keeps every
/// child strictly lighter than its parent's mass budget (the Ginkgo generator's choice).
pub const R_GAP: f64 = 1e-3;

/// Jet type preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// QCD-like jet: M_hard = 30 GeV, λ = λ_root = 1.5.
    Qcd,
    /// W-boson jet: M_hard = 80 GeV, λ_root = 3, λ = 1.5.
    W,
}

impl Kind {
    /// `(M_hard, λ, λ_root)` of the preset.
    pub fn preset(self) -> (f64, f64, f64) {
        match self {
            Kind::Qcd => (30.0, 1.5, 1.5),
            Kind::W => (80.0, 1.5, 3.0),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Qcd => "qcd",
            Kind::W => "w",
        }
    }
}

/// Arguments of `jettrellis shower`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis shower --kind w --jets 1000 --seed 1 --min-leaves 5 --max-leaves 9 --mass-range 30..80 -o w.jsonl"
)]
pub struct Args {
    /// Jet type: sets M_hard, λ and λ_root (each overridable).
    #[arg(long, value_enum, default_value = "qcd")]
    pub kind: Kind,
    /// Number of jets.
    #[arg(long)]
    pub jets: usize,
    /// Seed: jet i uses ChaCha8 stream i of this seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fewest leaves of a kept jet (jets outside the range are redrawn).
    #[arg(long, default_value_t = 2)]
    pub min_leaves: usize,
    /// Most leaves of a kept jet (at most 32).
    #[arg(long, default_value_t = 16)]
    pub max_leaves: usize,
    /// Showers drawn per jet before giving up on the leaf range.
    #[arg(long, default_value_t = 10_000)]
    pub max_tries: usize,
    /// Hard mass in GeV (default from --kind).
    #[arg(long)]
    pub m_hard: Option<f64>,
    /// Draw M_hard per jet uniformly in `A..B` (GeV) instead of a fixed value.
    #[arg(long, value_parser = parse_range, conflicts_with = "m_hard")]
    pub mass_range: Option<(f64, f64)>,
    /// λ of every split below the root (default from --kind).
    #[arg(long)]
    pub lambda: Option<f64>,
    /// λ of the root split (default from --kind).
    #[arg(long)]
    pub lambda_root: Option<f64>,
    /// Mass² cut in GeV²: lighter particles do not decay.
    #[arg(long, default_value_t = 16.0)]
    pub t_cut: f64,
    /// Jet momentum |p| in GeV, along (1, 1, 1).
    #[arg(long, default_value_t = 400.0)]
    pub momentum: f64,
    /// Output JSONL file (default: stdout). Written atomically.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Parses `A..B` with `0 ≤ A ≤ B`, both finite.
fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, found {s:?}"))?;
    let a: f64 = a.trim().parse().map_err(|e| format!("{a:?}: {e}"))?;
    let b: f64 = b.trim().parse().map_err(|e| format!("{b:?}: {e}"))?;
    if !(a.is_finite() && b.is_finite() && 0.0 <= a && a <= b) {
        return Err(format!("need finite 0 <= A <= B, found {a}..{b}"));
    }
    Ok((a, b))
}

/// Everything that defines the shower of one jet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShowerParams {
    /// Hard mass: fixed, or drawn uniformly from `[lo, hi]` per jet.
    pub m_hard: (f64, f64),
    /// Likelihood / generator rates and cut.
    pub ginkgo: GinkgoParams,
    /// |p| of the jet, GeV.
    pub momentum: f64,
    /// Leaf-count window of kept jets.
    pub leaves: (usize, usize),
    /// Draws per jet before giving up.
    pub max_tries: usize,
}

impl ShowerParams {
    /// The parameters of a command line, checked.
    pub fn from_args(a: &Args) -> Result<Self> {
        let (m, lam, lam_root) = a.kind.preset();
        let m = a.m_hard.unwrap_or(m);
        let p = ShowerParams {
            m_hard: a.mass_range.unwrap_or((m, m)),
            ginkgo: GinkgoParams {
                lambda: a.lambda.unwrap_or(lam),
                lambda_root: a.lambda_root.unwrap_or(lam_root),
                t_cut: a.t_cut,
            },
            momentum: a.momentum,
            leaves: (a.min_leaves, a.max_leaves),
            max_tries: a.max_tries,
        };
        p.ginkgo
            .validate()
            .map_err(|e| anyhow::anyhow!("command line: {e}"))?;
        if p.ginkgo.t_cut <= 0.0 {
            bail!("command line: --t-cut must be > 0 for the shower (otherwise nothing stops decaying)");
        }
        if !(p.m_hard.0.is_finite() && p.m_hard.0 >= 0.0) {
            bail!("command line: --m-hard must be finite and >= 0");
        }
        if !(p.momentum.is_finite() && p.momentum >= 0.0) {
            bail!("command line: --momentum must be finite and >= 0");
        }
        if !(1 <= a.min_leaves && a.min_leaves <= a.max_leaves && a.max_leaves <= MAX_SHOWER_LEAVES)
        {
            bail!("command line: need 1 <= --min-leaves <= --max-leaves <= {MAX_SHOWER_LEAVES}");
        }
        if a.max_tries == 0 {
            bail!("command line: --max-tries must be >= 1");
        }
        Ok(p)
    }
}

/// One particle of a shower.
#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    /// Four-momentum `[E, px, py, pz]`.
    pub p: Momentum,
    /// The generator's mass² of the particle.
    pub t: f64,
    /// Indices (into [`Shower::particles`]) of the two children; `None` for a leaf.
    pub children: Option<[usize; 2]>,
    /// Leaf index (position in [`Shower::leaves`]) of a leaf.
    pub leaf: Option<usize>,
}

/// A generated jet: all particles (the root first, parents before children) and its leaves in
/// depth-first order, first child first.
#[derive(Clone, Debug, PartialEq)]
pub struct Shower {
    /// Every particle; `particles[0]` is the jet.
    pub particles: Vec<Particle>,
    /// Leaf momenta in leaf-index order.
    pub leaves: Vec<Momentum>,
    /// The hard mass drawn for this jet.
    pub m_hard: f64,
}

impl Shower {
    /// The generating tree as nested leaf indices.
    pub fn nested(&self) -> serde_json::Value {
        fn build(s: &Shower, i: usize) -> serde_json::Value {
            let q = &s.particles[i];
            match (q.children, q.leaf) {
                (Some([a, b]), _) => serde_json::Value::Array(vec![build(s, a), build(s, b)]),
                (None, Some(l)) => l.into(),
                (None, None) => unreachable!("a particle is a leaf or has children"),
            }
        }
        build(self, 0)
    }
}

/// A truncated exponential draw on `[0, 1 − R_GAP)` with rate `lambda`.
fn draw_r(rng: &mut impl Rng, lambda: f64) -> f64 {
    loop {
        // 1 − u lies in (0, 1], so its log is finite.
        let u: f64 = rng.random();
        let r = -libm::log(1.0 - u) / lambda;
        if r < 1.0 - R_GAP {
            return r;
        }
    }
}

/// `(e, q)` seen in the rest frame of a particle of momentum `p` and mass `m`, boosted to the
/// lab. This form stays exact as the boost vanishes (no division by β²).
fn boost(p: &Momentum, m: f64, e: f64, q: [f64; 3]) -> Momentum {
    let pq = p[1] * q[0] + p[2] * q[1] + p[3] * q[2];
    let k = pq / (m * (p[0] + m)) + e / m;
    [
        (p[0] * e + pq) / m,
        q[0] + k * p[1],
        q[1] + k * p[2],
        q[2] + k * p[3],
    ]
}

/// Isotropic two-body decay of a particle of momentum `p` and mass² `t` into masses² `t1`, `t2`
/// (`√t1 + √t2 ≤ √t`).
fn decay(rng: &mut impl Rng, p: &Momentum, t: f64, t1: f64, t2: f64) -> (Momentum, Momentum) {
    let (m, m1, m2) = (libm::sqrt(t), libm::sqrt(t1), libm::sqrt(t2));
    let k2 = (t - (m1 + m2) * (m1 + m2)) * (t - (m1 - m2) * (m1 - m2));
    let pstar = libm::sqrt(k2.max(0.0)) / (2.0 * m);
    let cos_th = 2.0 * rng.random::<f64>() - 1.0;
    let sin_th = libm::sqrt((1.0 - cos_th * cos_th).max(0.0));
    let phi = 2.0 * PI * rng.random::<f64>();
    let dir = [sin_th * libm::cos(phi), sin_th * libm::sin(phi), cos_th];
    let q = [pstar * dir[0], pstar * dir[1], pstar * dir[2]];
    let e1 = libm::sqrt(pstar * pstar + t1);
    let e2 = libm::sqrt(pstar * pstar + t2);
    (boost(p, m, e1, q), boost(p, m, e2, [-q[0], -q[1], -q[2]]))
}

/// Draws one shower; `None` as soon as it is sure to have more than `max_leaves` leaves (it
/// would be rejected anyway, and stopping early bounds the work even for a tiny t_cut).
pub fn shower_once(
    rng: &mut impl Rng,
    params: &ShowerParams,
    m_hard: f64,
    max_leaves: usize,
) -> Option<Shower> {
    let g = &params.ginkgo;
    let t0 = m_hard * m_hard;
    let dir = 1.0 / libm::sqrt(3.0);
    let pz = params.momentum * dir;
    let root = Particle {
        p: [
            libm::sqrt(params.momentum * params.momentum + t0),
            pz,
            pz,
            pz,
        ],
        t: t0,
        children: None,
        leaf: None,
    };
    let mut s = Shower {
        particles: vec![root],
        leaves: Vec::new(),
        m_hard,
    };
    // Depth-first, first child first, so that leaf indices follow the tree's left-to-right order.
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        let (p, t) = (s.particles[i].p, s.particles[i].t);
        if t < g.t_cut {
            if s.leaves.len() == max_leaves {
                return None;
            }
            s.particles[i].leaf = Some(s.leaves.len());
            s.leaves.push(p);
            continue;
        }
        let lambda = g.lambda_for(i == 0);
        let t1 = t * draw_r(rng, lambda);
        let d = libm::sqrt(t) - libm::sqrt(t1);
        let t2 = d * d * draw_r(rng, lambda);
        let (p1, p2) = decay(rng, &p, t, t1, t2);
        let c = s.particles.len();
        for (q, tq) in [(p1, t1), (p2, t2)] {
            s.particles.push(Particle {
                p: q,
                t: tq,
                children: None,
                leaf: None,
            });
        }
        s.particles[i].children = Some([c, c + 1]);
        stack.push(c + 1);
        stack.push(c);
        // Every pending particle ends in at least one leaf.
        if s.leaves.len() + stack.len() > max_leaves {
            return None;
        }
    }
    Some(s)
}

/// Draws jet `index`: showers from its own stream until one has a leaf count in range.
pub fn shower_jet(params: &ShowerParams, seed: u64, index: usize) -> Result<Shower> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let (lo, hi) = params.m_hard;
    for _ in 0..params.max_tries {
        let m = if lo < hi {
            rng.random_range(lo..=hi)
        } else {
            lo
        };
        if let Some(s) = shower_once(&mut rng, params, m, params.leaves.1) {
            if s.leaves.len() >= params.leaves.0 {
                return Ok(s);
            }
        }
    }
    bail!(
        "jet {index}: no shower with {}..={} leaves in {} tries (M_hard {lo}..{hi} GeV, lambda {}, lambda_root {}, t_cut {}); widen the leaf range or raise --max-tries",
        params.leaves.0,
        params.leaves.1,
        params.max_tries,
        params.ginkgo.lambda,
        params.ginkgo.lambda_root,
        params.ginkgo.t_cut
    )
}

/// One output line.
#[derive(Clone, Debug, Serialize)]
pub struct ShowerRecord {
    /// `"<kind>-<index>"`.
    pub id: String,
    /// Leaf four-momenta.
    pub leaves: Vec<Momentum>,
    /// λ below the root.
    pub lambda: f64,
    /// λ of the root split.
    pub lambda_root: f64,
    /// Mass² cut.
    pub t_cut: f64,
    /// The hard mass of this jet.
    pub m_hard: f64,
    /// Generating tree and its log-likelihood (λ_root at the root, leaves at t = 0).
    pub truth: Truth,
}

/// The record of jet `index`: its shower, truth tree and that tree's log-likelihood.
pub fn record(kind: Kind, params: &ShowerParams, seed: u64, index: usize) -> Result<ShowerRecord> {
    let s = shower_jet(params, seed, index)?;
    let tree = s.nested();
    let nodes = trees::from_nested(&tree, s.leaves.len())
        .with_context(|| format!("jet {index}: internal tree"))?;
    let llh = tree::llh(&s.leaves, &params.ginkgo, &nodes);
    Ok(ShowerRecord {
        id: format!("{}-{index}", kind.name()),
        leaves: s.leaves,
        lambda: params.ginkgo.lambda,
        lambda_root: params.ginkgo.lambda_root,
        t_cut: params.ginkgo.t_cut,
        m_hard: s.m_hard,
        truth: Truth { tree, llh },
    })
}

/// Relative four-momentum mismatch `max_μ |p_parent − p_1 − p_2| / E_parent` over every decay.
pub fn max_conservation_error(s: &Shower) -> f64 {
    s.particles
        .iter()
        .filter_map(|q| {
            let [a, b] = q.children?;
            let sum = ginkgo::add(&s.particles[a].p, &s.particles[b].p);
            Some(
                (0..4)
                    .map(|k| (q.p[k] - sum[k]).abs() / q.p[0])
                    .fold(0.0, f64::max),
            )
        })
        .fold(0.0, f64::max)
}

/// Runs `jettrellis shower`.
pub fn run(args: &Args) -> Result<()> {
    let params = ShowerParams::from_args(args)?;
    let pb = io::progress(args.jets as u64, "shower");
    let records: Vec<ShowerRecord> = (0..args.jets)
        .into_par_iter()
        .map(|i| {
            let r = record(args.kind, &params, args.seed, i);
            pb.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    pb.finish_and_clear();
    io::write_output(args.output.as_deref(), |w| {
        for r in &records {
            serde_json::to_writer(&mut *w, r)?;
            writeln!(w)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ShowerParams {
        ShowerParams {
            m_hard: (30.0, 30.0),
            ginkgo: GinkgoParams::default(),
            momentum: 400.0,
            leaves: (1, 32),
            max_tries: 100,
        }
    }

    #[test]
    fn range_parser() {
        assert_eq!(parse_range("30..80"), Ok((30.0, 80.0)));
        assert!(parse_range("80..30").is_err());
        assert!(parse_range("30").is_err());
        assert!(parse_range("a..3").is_err());
    }

    #[test]
    fn boost_of_rest_particle_is_the_parent() {
        let p = [500.0, 100.0, -200.0, 300.0];
        let m = (500.0f64 * 500.0 - 140000.0).sqrt();
        let b = boost(&p, m, m, [0.0; 3]);
        for k in 0..4 {
            assert!((b[k] - p[k]).abs() < 1e-12 * p[0]);
        }
    }

    #[test]
    fn leaves_are_below_cut_and_inner_particles_above() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let s = shower_once(&mut rng, &params(), 30.0, 32).expect("fits");
            for q in &s.particles {
                assert_eq!(q.children.is_none(), q.t < 16.0);
                let m2 = ginkgo::mass2(&q.p);
                assert!(
                    (m2 - q.t).abs() <= 1e-9 * q.p[0] * q.p[0],
                    "{m2} vs {}",
                    q.t
                );
            }
            assert_eq!(s.particles.len(), 2 * s.leaves.len() - 1);
        }
    }

    #[test]
    fn a_tiny_cut_is_cut_short() {
        let p = ShowerParams {
            ginkgo: GinkgoParams {
                t_cut: 1e-300,
                ..GinkgoParams::default()
            },
            ..params()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(shower_once(&mut rng, &p, 30.0, 32).is_none());
    }

    #[test]
    fn too_many_leaves_is_a_clear_error() {
        let p = ShowerParams {
            leaves: (30, 32),
            max_tries: 5,
            ..params()
        };
        let e = shower_jet(&p, 0, 0).unwrap_err().to_string();
        assert!(
            e.contains("no shower with 30..=32 leaves in 5 tries"),
            "{e}"
        );
    }
}
