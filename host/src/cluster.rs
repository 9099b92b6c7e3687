//! `jettrellis cluster`: the exact trellis over each jet of a jets file.

use crate::jets::{read_jets, SourcedJet};
use crate::{io, trees};
use anyhow::{bail, Result};
use jettrellis_core::recurrence::{self, Recurrence};
use jettrellis_core::trellis::{
    Cell, GinkgoTrellis, JetLaneCell, JetLanes, Mode, Simd, JET_LANES, JET_LANES_MAX_LEAVES,
    MAX_LEAVES, PARTS, PARTS_FROM,
};
use jettrellis_core::{mask, sample, GinkgoParams, Mask, Momentum};
use rand_chacha::rand_core::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// Jets with at least this many leaves are solved one at a time with every core inside the jet
/// ([`drive_parallel`]); smaller ones are spread over the cores one jet per task.
pub const PARALLEL_INSIDE_FROM: usize = 13;

/// From this many leaves (a 32 MB buffer, the L3 cache here) [`drive_parallel`] evaluates the
/// subsets of [`PARTS_FROM`] leaves or more in numeric order, for the caches.
pub const NUMERIC_ORDER_FROM: usize = 19;

fn binomial(n: u64, k: u64) -> u64 {
    (0..k).fold(1, |c, i| c * (n - i) / (i + 1))
}

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

/// Solves the recurrence on the rayon pool, with the bits of the sequential solve. The small
/// subsets are evaluated size by size, all subsets of a size in parallel; the larger ones in
/// numeric order, one at a time, their parts ([`GinkgoTrellis::eval_part`]) in parallel. From
/// [`NUMERIC_ORDER_FROM`] leaves, "larger" means [`PARTS_FROM`] leaves or more: size by size,
/// the cores would work on subsets far apart in a buffer beyond the caches; in numeric order,
/// as the sequential solve goes, on neighbouring cells (N = 20 on two cores: 8.8–10.6 s →
/// 7.8–9.2 s per jet). Below, the buffer fits the caches and only the sizes with fewer than 64
/// subsets go in numeric order: size by size needs no synchronization per subset (N = 16,
/// alternating runs: 0.080–0.104 → 0.079–0.100 s, winning six pairs of seven). In log mode (a
/// rare fallback, which has no parts) every size is evaluated size by size.
pub fn drive_parallel(tr: &mut GinkgoTrellis<'_>) {
    let n = tr.leaves();
    let by_size = match tr.mode() {
        Mode::Log => n as u32,
        Mode::Linear if n >= NUMERIC_ORDER_FROM => (PARTS_FROM - 1).min(n as u32),
        // The buffer fits the caches: every size with enough subsets to share is done size by
        // size, which needs no synchronization per subset.
        Mode::Linear => (2..=n as u32)
            .take_while(|&k| binomial(n as u64, k as u64) >= 64)
            .last()
            .unwrap_or(1),
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

/// The widest vector instructions this CPU supports for the trellis's linear evaluation (the
/// results are bit-identical whichever is chosen).
pub fn best_simd() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512dq") && has!("avx512vl") {
            return Simd::Avx512;
        } else if has!("avx2") {
            return Simd::Avx2;
        }
    }
    Simd::Baseline
}

/// Makes `tr` use [`best_simd`].
pub fn use_best_simd(tr: &mut GinkgoTrellis<'_>) {
    // SAFETY: `best_simd` chose what this CPU supports.
    unsafe { tr.set_simd(best_simd()) };
}

/// Makes `tr` use [`best_simd`].
pub fn use_best_simd_lanes(tr: &mut JetLanes<'_>) {
    // SAFETY: `best_simd` chose what this CPU supports.
    unsafe { tr.set_simd(best_simd()) };
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
    Ok(record_of(jet, &tr, samples, seed))
}

/// The output record of `jet` from its solved trellis, with `samples` posterior trees drawn
/// from the jet's own random stream (it depends only on `seed` and the jet's index).
fn record_of(jet: &SourcedJet, tr: &GinkgoTrellis<'_>, samples: usize, seed: u64) -> TrellisRecord {
    let n = tr.leaves();
    let mut nodes = vec![(0, 0); n.saturating_sub(1)];
    let tree = tr.map_tree(&mut nodes).map(|_| trees::to_nested(&nodes, n));
    let samples = (samples > 0).then(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            seed ^ (jet.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        (0..samples)
            .map(|_| match sample::sample_tree(tr, &mut rng, &mut nodes) {
                Some(_) => trees::to_nested(&nodes, n),
                None => serde_json::Value::Null,
            })
            .collect()
    });
    let r = tr.result();
    let finite = |x: f64| x.is_finite().then_some(x);
    TrellisRecord {
        id: jet.output_id(),
        algo: "trellis",
        tree: tree.unwrap_or(serde_json::Value::Null),
        llh: finite(r.map_llh),
        log_z: finite(r.log_z),
        map_llh: finite(r.map_llh),
        n_trees: r.n_trees,
        samples,
    }
}

/// Solves up to [`JET_LANES`] jets of one number of leaves side by side ([`JetLanes`]); a jet
/// whose values leave the linear range, or a group with bad parameters, is solved alone (which
/// falls back to the log evaluation, or names the jet in its error). The records, samples
/// included, are those of [`solve_jet`], bit for bit.
pub fn solve_side_by_side(
    group: &[&SourcedJet],
    defaults: &GinkgoParams,
    samples: usize,
    seed: u64,
    cells: &mut Vec<JetLaneCell>,
    alone: &mut Vec<Cell>,
) -> Vec<Result<TrellisRecord>> {
    let n = group[0].jet.leaves.len();
    let need = JetLanes::cells_needed(n);
    if cells.len() < need {
        cells.resize(need, JetLaneCell::default());
    }
    let lanes: Vec<(&[Momentum], GinkgoParams)> = group
        .iter()
        .map(|j| (j.jet.leaves.as_slice(), j.params(defaults)))
        .collect();
    let Ok(mut tr) = JetLanes::new(&lanes, cells) else {
        return group
            .iter()
            .map(|j| solve_jet(j, defaults, samples, seed, alone, false))
            .collect();
    };
    use_best_simd_lanes(&mut tr);
    tr.solve();
    if alone.len() < need {
        alone.resize(need, Cell::default());
    }
    group
        .iter()
        .enumerate()
        .map(|(l, j)| match tr.export(l, alone) {
            Some(one) => Ok(record_of(j, &one, samples, seed)),
            None => solve_jet(j, defaults, samples, seed, alone, false),
        })
        .collect()
}

/// Solves every jet, in input order: large jets each over all cores; the others one task per
/// jet, or, with AVX2 or AVX-512, eight jets of one number of leaves (up to
/// [`JET_LANES_MAX_LEAVES`]) per task side by side ([`solve_side_by_side`]:
/// N = 9 on one core 74 µs per jet alone, 33 µs side by side with AVX-512). Either way every
/// record has the same bits.
pub fn solve_all(
    jets: &[SourcedJet],
    defaults: &GinkgoParams,
    samples: usize,
    seed: u64,
) -> Result<Vec<TrellisRecord>> {
    let pb = io::progress(jets.len() as u64, "trellis");
    let side_by_side = best_simd() != Simd::Baseline;
    // Each task: jets with their positions in `jets`.
    let mut by_leaves: Vec<Vec<(usize, &SourcedJet)>> = vec![Vec::new(); JET_LANES_MAX_LEAVES + 1];
    let mut tasks: Vec<Vec<(usize, &SourcedJet)>> = Vec::new();
    for (i, j) in jets.iter().enumerate() {
        let n = j.jet.leaves.len();
        if side_by_side && (1..=JET_LANES_MAX_LEAVES).contains(&n) {
            by_leaves[n].push((i, j));
        } else if n < PARALLEL_INSIDE_FROM {
            tasks.push(vec![(i, j)]);
        }
    }
    tasks.extend(
        by_leaves
            .iter()
            .flat_map(|g| g.chunks(JET_LANES).map(<[_]>::to_vec)),
    );
    let done: Vec<Vec<(usize, Result<TrellisRecord>)>> = tasks
        .par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(lane_cells, cells), task| {
                let group: Vec<&SourcedJet> = task.iter().map(|t| t.1).collect();
                let records = if group.len() > 1 {
                    solve_side_by_side(&group, defaults, samples, seed, lane_cells, cells)
                } else {
                    vec![solve_jet(group[0], defaults, samples, seed, cells, false)]
                };
                pb.inc(group.len() as u64);
                task.iter().map(|t| t.0).zip(records).collect()
            },
        )
        .collect();
    let mut slots: Vec<Option<Result<TrellisRecord>>> = (0..jets.len()).map(|_| None).collect();
    for (i, r) in done.into_iter().flatten() {
        slots[i] = Some(r);
    }
    let mut cells = Vec::new();
    let mut out = Vec::with_capacity(jets.len());
    for (j, r) in jets.iter().zip(slots) {
        match r {
            Some(r) => out.push(r?),
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

    /// 15 leaves: the subsets of 12 and 13 leaves are evaluated size by size (each in parts,
    /// inside `recurrence::eval`), those of 14 and 15 in numeric order, their parts on the pool.
    #[test]
    fn the_parallel_driver_gives_the_sequential_bits_with_large_subsets_size_by_size() {
        const { assert!(15 < NUMERIC_ORDER_FROM) };
        assert_eq!(
            parallel_equals_sequential(&synthetic_jet(15, 9)),
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

    fn sourced(index: usize, leaves: Vec<Momentum>, lambda: Option<f64>) -> SourcedJet {
        SourcedJet {
            jet: crate::jets::Jet {
                id: None,
                leaves,
                lambda,
                lambda_root: None,
                t_cut: None,
                truth: None,
            },
            index,
            line: index + 1,
        }
    }

    /// Jets of 1 to 11 leaves, up to ten of each (whole groups of eight and remainders), some
    /// with their own λ, one leaving the linear range: `solve_all` (side by side where the CPU
    /// allows) must write every jet's record as solving it alone does, as JSON text, with and
    /// without posterior samples.
    #[test]
    fn jets_side_by_side_get_the_records_of_jets_solved_alone() {
        let mut jets = Vec::new();
        for n in 1..=JET_LANES_MAX_LEAVES {
            for k in 0..(n % 4) * 3 + 1 {
                let mut leaves = synthetic_jet(n, (100 * n + k) as u64);
                if n == 7 && k == 2 {
                    leaves.iter_mut().for_each(|p| *p = p.map(|x| x * 1e13));
                }
                let lambda = (k % 3 == 1).then_some(2.5);
                jets.push(sourced(jets.len(), leaves, lambda));
            }
        }
        let d = GinkgoParams::default();
        for samples in [0, 3] {
            let all = solve_all(&jets, &d, samples, 11).unwrap();
            let mut cells = Vec::new();
            for (j, r) in jets.iter().zip(&all) {
                let alone = solve_jet(j, &d, samples, 11, &mut cells, false).unwrap();
                assert_eq!(
                    serde_json::to_string(r).unwrap(),
                    serde_json::to_string(&alone).unwrap()
                );
                assert_eq!(r.samples.as_ref().map_or(0, Vec::len), samples);
            }
        }
        let fallbacks = jets
            .iter()
            .filter(|j| {
                let mut c = vec![Cell::default(); 1 << j.jet.leaves.len()];
                let mut tr = GinkgoTrellis::new(&j.jet.leaves, j.params(&d), &mut c).unwrap();
                !tr.solve_in(Mode::Linear)
            })
            .count();
        assert_eq!(fallbacks, 1, "the scaled jet must leave the linear range");
    }

    /// A jet with a bad λ of its own among jets solved side by side: the error names it.
    #[test]
    fn a_bad_jet_among_jets_side_by_side_is_named() {
        let jets: Vec<SourcedJet> = (0..8)
            .map(|k| sourced(k, synthetic_jet(6, k as u64), (k == 5).then_some(-1.0)))
            .collect();
        let e = solve_all(&jets, &GinkgoParams::default(), 0, 0).unwrap_err();
        assert!(
            e.to_string().contains("jet 5 (line 6)") && e.to_string().contains("lambda"),
            "{e}"
        );
    }
}
