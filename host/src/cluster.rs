//! `jettrellis cluster`: the exact trellis over each jet of a jets file.

use crate::jets::{read_jets, SourcedJet};
use crate::{io, trees};
use anyhow::{bail, Result};
use jettrellis_core::recurrence::{self, Recurrence};
use jettrellis_core::trellis::{
    Cell, GinkgoTrellis, Mode, TrellisResult, MAX_LEAVES, PARTS, PARTS_FROM,
};
use jettrellis_core::{mask, sample, GinkgoParams, Mask};
use rand_chacha::rand_core::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// Jets with at least this many leaves are solved one at a time with every core inside the jet
/// ([`drive_parallel`]); smaller ones are spread over the cores one jet per task.
pub const PARALLEL_INSIDE_FROM: usize = 13;

/// Clustering algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Algo {
    /// Exact trellis: log Z, MAP tree, number of finite trees, posterior samples.
    Trellis,
    /// Greedy agglomerative: merge the pair with the highest split likelihood ψ.
    Greedy,
    /// Beam search over partial clusterings (`--beam-width`), never worse than greedy.
    Beam,
    /// kt algorithm, FastJet conventions (`--radius`).
    Kt,
    /// Cambridge/Aachen, FastJet conventions (`--radius`).
    Ca,
    /// anti-kt, FastJet conventions (`--radius`).
    Antikt,
}

/// Arguments of `jettrellis cluster`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis cluster --algo trellis --jets data/ginkgo_reference.json -o out.jsonl --samples 10"
)]
pub struct Args {
    /// Algorithm.
    #[arg(long, value_enum, default_value = "trellis")]
    pub algo: Algo,
    /// Jets file: JSONL (one jet per line) or a JSON array.
    #[arg(long)]
    pub jets: PathBuf,
    /// Output JSONL file (default: stdout). Written atomically.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Likelihood parameters.
    #[command(flatten)]
    pub likelihood: crate::jets::LikelihoodArgs,
    /// Posterior tree samples to draw per jet.
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
    /// Seed of the sampler (each jet's stream depends only on the seed and its index).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Beam width of `--algo beam`.
    #[arg(long, default_value_t = crate::baselines::DEFAULT_BEAM_WIDTH)]
    pub beam_width: usize,
    /// Radius R of the kt family. The default is so large that every jet ends as one tree;
    /// with a small R, `inclusive_jets` lists the beam recombinations.
    #[arg(long, default_value_t = crate::baselines::DEFAULT_RADIUS)]
    pub radius: f64,
}

/// The trellis results of one jet, as written to the output.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TrellisRecord {
    /// The jet's id, else its 0-based index.
    pub id: serde_json::Value,
    /// Always `"trellis"`.
    pub algo: &'static str,
    /// The MAP tree (null when no tree is finite).
    pub tree: serde_json::Value,
    /// Log-likelihood of `tree` (= `map_llh`).
    pub llh: Option<f64>,
    /// log Z (null for −∞).
    pub log_z: Option<f64>,
    /// MAP log-likelihood (null for −∞).
    pub map_llh: Option<f64>,
    /// Number of finite-likelihood trees.
    pub n_trees: u128,
    /// Posterior samples, with `--samples`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<Vec<serde_json::Value>>,
}

/// Solves the recurrence on the rayon pool, with the bits of the sequential solve. In linear
/// mode the subsets of fewer than [`PARTS_FROM`] leaves are evaluated size by size, all subsets
/// of a size in parallel; the larger ones in numeric order, one at a time, their parts
/// ([`GinkgoTrellis::eval_part`]) in parallel. Size by size, the cores work on subsets far
/// apart in a buffer beyond the caches; in numeric order, as the sequential solve goes, on
/// neighbouring cells (N = 20 on two cores: 8.8–10.6 s → 7.8–9.2 s per jet; N ≤ 18, whose
/// buffer fits the L3 cache, unchanged). In log mode (a rare
/// fallback, which has no parts) every size is evaluated size by size.
pub fn drive_parallel(tr: &mut GinkgoTrellis<'_>) {
    let n = tr.leaves();
    let by_size = match tr.mode() {
        Mode::Linear => (PARTS_FROM - 1).min(n as u32),
        Mode::Log => n as u32,
    };
    for k in 2..=by_size {
        let subs: Vec<Mask> = recurrence::subsets_of_size(n, k).collect();
        let shared: &GinkgoTrellis<'_> = tr;
        let accs: Vec<_> = subs
            .par_iter()
            .with_min_len(16)
            .map(|&s| recurrence::eval(shared, s))
            .collect();
        for (s, acc) in subs.into_iter().zip(accs) {
            tr.store(s, acc);
        }
    }
    // On a worker thread of the pool: from outside it, every subset's parallel loop would
    // block this thread on a lock until a worker has run it.
    rayon::scope(|_| {
        for s in 1..=mask::full(n) {
            if mask::size(s) > by_size {
                let shared: &GinkgoTrellis<'_> = tr;
                let mut parts = [shared.begin(s); PARTS];
                let parts = &mut parts[..shared.parts(s)];
                parts
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(p, acc)| *acc = shared.eval_part(s, p));
                let acc = shared.join_parts(s, parts);
                tr.store(s, acc);
            }
        }
    });
}

/// Selects the widest vector instructions this CPU supports for the trellis's linear evaluation
/// (the results are bit-identical whichever is chosen).
pub fn use_best_simd(tr: &mut GinkgoTrellis<'_>) {
    #[cfg(target_arch = "x86_64")]
    {
        use jettrellis_core::trellis::Simd;
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512dq") && has!("avx512vl") {
            // SAFETY: the CPU was just checked to support these AVX-512 subsets.
            unsafe { tr.set_simd(Simd::Avx512) };
        } else if has!("avx2") {
            // SAFETY: the CPU was just checked to support AVX2.
            unsafe { tr.set_simd(Simd::Avx2) };
        }
    }
}

/// Solves one jet's trellis on `cells` (resized as needed), in parallel inside the jet when
/// `parallel`, and returns the record.
pub fn solve_jet(
    jet: &SourcedJet,
    defaults: &GinkgoParams,
    samples: usize,
    seed: u64,
    cells: &mut Vec<Cell>,
    parallel: bool,
) -> Result<TrellisRecord> {
    let n = jet.jet.leaves.len();
    if n > MAX_LEAVES {
        bail!(
            "jet {} (line {}): {n} leaves; the exact trellis supports at most {MAX_LEAVES} (its work buffer is 64 B x 2^N: {} MiB at N = {n})",
            jet.output_id(),
            jet.line,
            (64u128 << n) >> 20
        );
    }
    let need = GinkgoTrellis::cells_needed(n);
    if cells.len() < need {
        cells.resize(need, Cell::default());
    }
    let params = jet.params(defaults);
    let mut tr = GinkgoTrellis::new(&jet.jet.leaves, params, cells)
        .map_err(|e| anyhow::anyhow!("jet {} (line {}): {e}", jet.output_id(), jet.line))?;
    use_best_simd(&mut tr);
    if parallel {
        tr.solve_with(drive_parallel);
    } else {
        tr.solve();
    }
    let TrellisResult {
        log_z,
        map_llh,
        n_trees,
    } = tr.result();
    let mut nodes = vec![(0, 0); n.saturating_sub(1)];
    let tree = match tr.map_tree(&mut nodes) {
        Some(_) => trees::to_nested(&nodes, n),
        None => serde_json::Value::Null,
    };
    let finite = |x: f64| x.is_finite().then_some(x);
    let samples = (samples > 0).then(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            seed ^ (jet.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        (0..samples)
            .map(|_| match sample::sample_tree(&tr, &mut rng, &mut nodes) {
                Some(_) => trees::to_nested(&nodes, n),
                None => serde_json::Value::Null,
            })
            .collect()
    });
    Ok(TrellisRecord {
        id: jet.output_id(),
        algo: "trellis",
        tree,
        llh: finite(map_llh),
        log_z: finite(log_z),
        map_llh: finite(map_llh),
        n_trees,
        samples,
    })
}

/// Solves every jet, in input order: small jets one per core, large ones each over all cores.
pub fn solve_all(
    jets: &[SourcedJet],
    defaults: &GinkgoParams,
    samples: usize,
    seed: u64,
) -> Result<Vec<TrellisRecord>> {
    let pb = io::progress(jets.len() as u64, "trellis");
    let small: Vec<Result<Option<TrellisRecord>>> = jets
        .par_iter()
        .map_init(Vec::new, |cells, j| {
            if j.jet.leaves.len() >= PARALLEL_INSIDE_FROM {
                return Ok(None);
            }
            let r = solve_jet(j, defaults, samples, seed, cells, false).map(Some);
            pb.inc(1);
            r
        })
        .collect();
    let mut cells = Vec::new();
    let mut out = Vec::with_capacity(jets.len());
    for (j, r) in jets.iter().zip(small) {
        match r? {
            Some(rec) => out.push(rec),
            None => {
                out.push(solve_jet(j, defaults, samples, seed, &mut cells, true)?);
                pb.inc(1);
            }
        }
    }
    pb.finish_and_clear();
    Ok(out)
}

/// Runs `jettrellis cluster`.
pub fn run(args: &Args) -> Result<()> {
    let defaults = args.likelihood.params()?;
    let jets = read_jets(&args.jets)?;
    match args.algo {
        Algo::Trellis => write_records(
            args.output.as_deref(),
            &solve_all(&jets, &defaults, args.samples, args.seed)?,
        ),
        algo => {
            let opts = crate::baselines::Options::new(args.beam_width, args.radius)?;
            let records = crate::baselines::solve_all(&jets, &defaults, algo, &opts)?;
            write_records(
                args.output.as_deref(),
                &records.into_iter().map(|r| r.0).collect::<Vec<_>>(),
            )
        }
    }
}

/// Writes one JSON object per line, atomically to `path` or to stdout.
fn write_records<T: Serialize>(path: Option<&std::path::Path>, records: &[T]) -> Result<()> {
    io::write_output(path, |w| {
        for r in records {
            serde_json::to_writer(&mut *w, r)?;
            writeln!(w)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::synthetic_jet;

    /// Solves `leaves` sequentially and with [`drive_parallel`] (on the best SIMD variant),
    /// checks that every cell has the same bits (as `Debug` text: log Z alone would hide the
    /// last bits of Z) and returns the mode used.
    fn parallel_equals_sequential(leaves: &[jettrellis_core::Momentum]) -> Mode {
        let solve = |parallel: bool| {
            let mut c = vec![Cell::default(); 1 << leaves.len()];
            let mut tr = GinkgoTrellis::new(leaves, GinkgoParams::default(), &mut c).unwrap();
            use_best_simd(&mut tr);
            if parallel {
                tr.solve_with(drive_parallel);
            } else {
                tr.solve();
            }
            let mode = tr.mode();
            (mode, c.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>())
        };
        let seq = solve(false);
        assert!(solve(true) == seq);
        seq.0
    }

    /// 13 leaves: the subsets of 12 and 13 leaves are evaluated in parts on the pool.
    #[test]
    fn the_parallel_driver_gives_the_sequential_bits() {
        const { assert!(13 > PARTS_FROM) };
        assert_eq!(
            parallel_equals_sequential(&synthetic_jet(13, 7)),
            Mode::Linear
        );
    }

    /// Momenta of 10^15 GeV leave the linear range: both drivers rerun in log mode, which the
    /// parallel one evaluates size by size.
    #[test]
    fn the_parallel_driver_gives_the_sequential_bits_in_the_log_fallback() {
        let leaves: Vec<_> = synthetic_jet(13, 8)
            .into_iter()
            .map(|p| p.map(|x| x * 1e13))
            .collect();
        assert_eq!(parallel_equals_sequential(&leaves), Mode::Log);
    }
}
