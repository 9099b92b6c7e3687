//! `jettrellis bench`: time per jet and per split evaluation of the exact trellis, for N = 4 … max,
//! on synthetic collimated jets, on one core and on all cores; with `--golden`, the throughput of
//! the fixed-point golden model (scalar, and sixteen jets at once where the CPU has AVX-512), on
//! synthetic jets of N = min … max leaves or on the jets of a file.

use crate::cluster::{drive_parallel, use_best_simd, use_best_simd_lanes};
use anyhow::{anyhow, Result};
use jettrellis_core::fixed::lanes::valid_leaves;
use jettrellis_core::fixed::{
    quantize_jet, Design, FixedJet, FixedTrellis, FxCell, LaneCell, LaneTrellis, Tables, LANES,
    MAX_FIXED_LEAVES,
};
use jettrellis_core::mask::total_splits;
use jettrellis_core::trellis::{
    Cell, GinkgoTrellis, JetLaneCell, JetLanes, JET_LANES, JET_LANES_MAX_LEAVES,
};
use jettrellis_core::{GinkgoParams, Momentum};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `jettrellis bench`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  jettrellis bench --max-leaves 16 --json\n  jettrellis bench --golden --max-leaves 8\n  jettrellis bench --golden --jets jets.jsonl --design configs/default.toml"
)]
pub struct Args {
    /// Smallest number of leaves.
    #[arg(long, default_value_t = 4)]
    pub min_leaves: usize,
    /// Largest number of leaves (default 16; 8 with --golden).
    #[arg(long)]
    pub max_leaves: Option<usize>,
    /// Measure the fixed-point golden model instead of the float trellis: jets per second on
    /// one core, scalar and (with AVX-512) sixteen jets at once, at `max_leaves` = N.
    #[arg(long)]
    pub golden: bool,
    /// With --golden: measure on the jets of this file (JSONL or JSON, as `cluster` reads it),
    /// quantized for the design (its `max_leaves` is N), instead of synthetic jets; the lane
    /// model solves them in batches of one leaf count.
    #[arg(long, requires = "golden", conflicts_with_all = ["min_leaves", "max_leaves"])]
    pub jets: Option<PathBuf>,
    /// With --golden: the design whose formats and tables are used (default: the built-in
    /// default design, the values of configs/default.toml); `max_leaves` is set to each N.
    #[arg(long, requires = "golden")]
    pub design: Option<PathBuf>,
    /// Wall time to spend per point (seconds); at least three runs are made.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// One row of the benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Leaves.
    pub leaves: usize,
    /// Split evaluations per jet, `(3^N + 1)/2 − 2^N`.
    pub splits: u64,
    /// Threads of the all-core measurement.
    pub threads: usize,
    /// Runs made on one core.
    pub runs_1core: usize,
    /// Seconds per jet on one core: min, median, max.
    pub s_per_jet_1core: [f64; 3],
    /// Nanoseconds per split on one core (median).
    pub ns_per_split_1core: f64,
    /// Seconds per jet on one core with eight jets solved side by side ([`JetLanes`], as
    /// `cluster` solves jets of up to [`JET_LANES_MAX_LEAVES`] leaves): a run's time over 8;
    /// min, median, max. Absent above that size.
    pub s_per_jet_1core_8jets: Option<[f64; 3]>,
    /// Seconds per jet over all cores (one jet, `cluster::drive_parallel`): min, median, max.
    pub s_per_jet_all: [f64; 3],
    /// Nanoseconds per split over all cores (median wall time).
    pub ns_per_split_all: f64,
    /// Bytes of work buffer per jet.
    pub buffer_bytes: usize,
}

/// A deterministic collimated jet: `n` massive leaves (m² in [1, 16) GeV²) within ΔR ≈ 0.4 of
/// the (1,1,1) axis sharing 400 GeV, like the leaves of a Ginkgo shower.
pub fn synthetic_jet(n: usize, seed: u64) -> Vec<Momentum> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let shares: Vec<f64> = (0..n).map(|_| rng.random_range(0.2..1.0)).collect();
    let total: f64 = shares.iter().sum();
    let axis_theta = (1.0f64 / 3f64.sqrt()).acos();
    let axis_phi = std::f64::consts::FRAC_PI_4;
    shares
        .iter()
        .map(|s| {
            let p = 400.0 * s / total;
            let theta = axis_theta + rng.random_range(-0.2..0.2);
            let phi = axis_phi + rng.random_range(-0.2..0.2);
            let m2: f64 = rng.random_range(1.0..16.0);
            [
                (p * p + m2).sqrt(),
                p * theta.sin() * phi.cos(),
                p * theta.sin() * phi.sin(),
                p * theta.cos(),
            ]
        })
        .collect()
}

/// Times `f` (after one untimed run that warms caches and buffers): at least three runs, more
/// while `budget` seconds last. Sorted.
fn time_runs(budget: f64, mut f: impl FnMut()) -> Vec<f64> {
    f();
    let start = Instant::now();
    let mut v = Vec::new();
    while v.len() < 3 || (start.elapsed() < Duration::from_secs_f64(budget) && v.len() < 10_000) {
        let t = Instant::now();
        f();
        v.push(t.elapsed().as_secs_f64());
    }
    v.sort_by(f64::total_cmp);
    v
}

fn summary(v: &[f64]) -> [f64; 3] {
    [v[0], v[v.len() / 2], v[v.len() - 1]]
}

/// Measures one number of leaves.
pub fn measure(n: usize, seconds: f64) -> Row {
    let leaves = synthetic_jet(n, n as u64);
    let mut cells = vec![Cell::default(); GinkgoTrellis::cells_needed(n)];
    let params = GinkgoParams::default();
    let one = time_runs(seconds, || {
        let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).expect("valid jet");
        use_best_simd(&mut tr);
        tr.solve();
        std::hint::black_box(tr.result());
    });
    let all = time_runs(seconds, || {
        let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).expect("valid jet");
        use_best_simd(&mut tr);
        tr.solve_with(drive_parallel);
        std::hint::black_box(tr.result());
    });
    let eight = (n <= JET_LANES_MAX_LEAVES).then(|| {
        let jets: Vec<Vec<Momentum>> = (0..JET_LANES as u64)
            .map(|l| synthetic_jet(n, 1000 * n as u64 + l))
            .collect();
        let lanes: Vec<(&[Momentum], GinkgoParams)> =
            jets.iter().map(|j| (j.as_slice(), params)).collect();
        let mut cells = vec![JetLaneCell::default(); JetLanes::cells_needed(n)];
        let v = time_runs(seconds, || {
            let mut tr = JetLanes::new(&lanes, &mut cells).expect("valid jets");
            use_best_simd_lanes(&mut tr);
            tr.solve();
            std::hint::black_box(tr.result(0));
        });
        summary(&v).map(|t| t / JET_LANES as f64)
    });
    let splits = total_splits(n as u32);
    let (s1, sa) = (summary(&one), summary(&all));
    Row {
        leaves: n,
        splits,
        threads: rayon::current_num_threads(),
        runs_1core: one.len(),
        s_per_jet_1core: s1,
        ns_per_split_1core: s1[1] * 1e9 / splits as f64,
        s_per_jet_1core_8jets: eight,
        s_per_jet_all: sa,
        ns_per_split_all: sa[1] * 1e9 / splits as f64,
        buffer_bytes: cells.len() * std::mem::size_of::<Cell>(),
    }
}

/// One row of `bench --golden`.
#[derive(Clone, Debug, Serialize)]
pub struct GoldenRow {
    /// Leaves (the design's `max_leaves`, every jet with all of them valid).
    pub leaves: usize,
    /// Split evaluations per jet.
    pub splits: u64,
    /// Jets per run.
    pub jets: usize,
    /// Runs of each model.
    pub runs: usize,
    /// Scalar model (`FixedTrellis`), jets per second on one core: min, median, max.
    pub scalar_jets_per_s: [f64; 3],
    /// Lane model (`LaneTrellis`, AVX-512), jets per second on one core; absent when it cannot
    /// run (see `lanes_absent`).
    pub lanes_jets_per_s: Option<[f64; 3]>,
    /// Why the lane model did not run: no AVX-512 on this CPU, or a design it cannot hold
    /// (`LaneError`, e.g. scores above 30 bits).
    pub lanes_absent: Option<String>,
}

/// Jets per second from sorted run times of `jets` jets: min, median, max.
fn rates(jets: usize, v: &[f64]) -> [f64; 3] {
    let [fast, med, slow] = summary(v);
    [jets as f64 / slow, jets as f64 / med, jets as f64 / fast]
}

/// Jets per second of the golden model on `jets`, one core: the number of runs, the scalar
/// model's rates, and the lane model's or why it cannot run.
type GoldenRates = (usize, [f64; 3], std::result::Result<[f64; 3], String>);

/// Times the scalar and the lane model on `jets`.
fn golden_rates(tab: &Tables, jets: &[FixedJet], seconds: f64) -> Result<GoldenRates> {
    let n = tab.design.max_leaves;
    let mut cells = vec![FxCell::default(); FixedTrellis::cells_needed(n)];
    let mut m = FixedTrellis::new(tab, &mut cells).map_err(|e| anyhow!("{e}"))?;
    let scalar = time_runs(seconds, || {
        for j in jets {
            std::hint::black_box(m.solve(j));
        }
    });
    let batches = lane_batches(tab, jets);
    let mut cells = vec![LaneCell::default(); LaneTrellis::cells_needed(n)];
    let lanes = if jettrellis_core::lane_model_available!() {
        // SAFETY: the CPU was checked above.
        unsafe { LaneTrellis::new(tab, &mut cells) }.map_err(|e| e.to_string())
    } else {
        Err("no AVX-512 on this CPU".to_string())
    }
    .map(|mut m| {
        let v = time_runs(seconds, || {
            for &batch in &batches {
                let r = m.solve(batch);
                std::hint::black_box(r.expect("a batch has one leaf count"));
            }
        });
        rates(jets.len(), &v)
    });
    Ok((scalar.len(), rates(jets.len(), &scalar), lanes))
}

/// `jets` in batches of [`LANES`] with one number of valid leaves; the last batch of each
/// number is filled up with its first jet (solved, not counted).
fn lane_batches<'j>(tab: &Tables, jets: &'j [FixedJet]) -> Vec<[&'j FixedJet; LANES]> {
    let mut by_leaves: BTreeMap<usize, Vec<&FixedJet>> = BTreeMap::new();
    for j in jets {
        by_leaves.entry(valid_leaves(tab, j)).or_default().push(j);
    }
    by_leaves
        .values()
        .flat_map(|g| g.chunks(LANES))
        .map(|c| std::array::from_fn(|l| *c.get(l).unwrap_or(&c[0])))
        .collect()
}

/// Measures the golden model at `n` leaves on 256 quantized synthetic jets.
pub fn measure_golden(design: &Design, n: usize, seconds: f64) -> Result<GoldenRow> {
    let mut d = *design;
    d.max_leaves = n as u32;
    d.validate().map_err(|e| anyhow!("{e}"))?;
    let tab = Box::new(Tables::new(&d).map_err(|e| anyhow!("{e}"))?);
    let jets: Vec<FixedJet> = (0..256u64)
        .map(|seed| {
            let q = quantize_jet(&synthetic_jet(n, 1000 + seed), &d).expect("finite jet");
            anyhow::ensure!(q.n == n, "a synthetic jet lost a leaf in quantization");
            Ok(q.jet)
        })
        .collect::<Result<_>>()?;
    let (runs, scalar, lanes) = golden_rates(&tab, &jets, seconds)?;
    Ok(GoldenRow {
        leaves: n,
        splits: total_splits(n as u32),
        jets: jets.len(),
        runs,
        scalar_jets_per_s: scalar,
        lanes_jets_per_s: lanes.as_ref().ok().copied(),
        lanes_absent: lanes.err(),
    })
}

/// The golden model's throughput on the jets of a file (`bench --golden --jets`).
#[derive(Clone, Debug, Serialize)]
pub struct GoldenFileRow {
    /// The file.
    pub file: String,
    /// The design's `max_leaves` (N): jets with more constituents keep the N highest in pT.
    pub max_leaves: u32,
    /// Jets in the file.
    pub jets: usize,
    /// Jets by valid leaves after quantization.
    pub jets_by_leaves: BTreeMap<usize, usize>,
    /// Split evaluations per jet, averaged over the jets.
    pub mean_splits: f64,
    /// Runs of each model.
    pub runs: usize,
    /// Scalar model, jets per second on one core: min, median, max.
    pub scalar_jets_per_s: [f64; 3],
    /// Lane model, jets per second on one core; absent when it cannot run.
    pub lanes_jets_per_s: Option<[f64; 3]>,
    /// Why the lane model did not run.
    pub lanes_absent: Option<String>,
}

/// Measures the golden model on the jets of `path`, quantized for `design`.
pub fn measure_golden_file(design: &Design, path: &Path, seconds: f64) -> Result<GoldenFileRow> {
    let tab = Box::new(Tables::new(design).map_err(|e| anyhow!("{e}"))?);
    let sourced = crate::jets::read_jets(path)?;
    anyhow::ensure!(!sourced.is_empty(), "{}: no jets", path.display());
    let jets = crate::jets::quantized(path, &sourced, design)?;
    let mut jets_by_leaves = BTreeMap::new();
    for j in &jets {
        *jets_by_leaves.entry(valid_leaves(&tab, j)).or_insert(0) += 1;
    }
    let splits: u64 = jets_by_leaves
        .iter()
        .map(|(&n, &k)| total_splits(n as u32) * k as u64)
        .sum();
    let (runs, scalar, lanes) = golden_rates(&tab, &jets, seconds)?;
    Ok(GoldenFileRow {
        file: path.display().to_string(),
        max_leaves: design.max_leaves,
        jets: jets.len(),
        mean_splits: splits as f64 / jets.len() as f64,
        jets_by_leaves,
        runs,
        scalar_jets_per_s: scalar,
        lanes_jets_per_s: lanes.as_ref().ok().copied(),
        lanes_absent: lanes.err(),
    })
}

/// One row per N = min..=max, with a progress bar.
fn sweep<R>(
    min: usize,
    max: usize,
    what: &str,
    mut row: impl FnMut(usize) -> Result<R>,
) -> Result<Vec<R>> {
    let pb = crate::io::progress((max - min + 1) as u64, what);
    let rows = (min..=max)
        .map(|n| {
            let r = row(n);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    rows
}

fn run_golden(args: &Args, max: usize) -> Result<()> {
    anyhow::ensure!(
        args.min_leaves >= 2 && args.min_leaves <= max && max <= MAX_FIXED_LEAVES,
        "--min-leaves/--max-leaves must satisfy 2 <= min <= max <= {MAX_FIXED_LEAVES} with --golden"
    );
    let design = match &args.design {
        Some(p) => crate::design::read(p)?,
        None => Design::default(),
    };
    let fmt = |r: &[f64; 3]| format!("{:.0} / {:.0} / {:.0}", r[0], r[1], r[2]);
    let lanes_text = |r: &Option<[f64; 3]>, why: &Option<String>| match (r, why) {
        (Some(x), _) => fmt(x),
        (None, why) => why.clone().unwrap_or_default(),
    };
    if let Some(path) = &args.jets {
        let r = measure_golden_file(&design, path, args.seconds)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
            return Ok(());
        }
        println!(
            "{}: {} jets, N = {}, leaves {:?}, {:.0} splits per jet on average",
            r.file, r.jets, r.max_leaves, r.jets_by_leaves, r.mean_splits
        );
        println!(
            "scalar jets/s min/med/max:        {}",
            fmt(&r.scalar_jets_per_s)
        );
        println!(
            "AVX-512 lanes jets/s min/med/max: {}",
            lanes_text(&r.lanes_jets_per_s, &r.lanes_absent)
        );
        println!("one core; {} runs of all jets", r.runs);
        return Ok(());
    }
    let rows = sweep(args.min_leaves, max, "bench --golden", |n| {
        measure_golden(&design, n, args.seconds)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:>3} {:>7} {:>30} {:>30}",
        "N", "splits", "scalar jets/s min/med/max", "AVX-512 lanes jets/s min/med/max"
    );
    for r in &rows {
        let lanes = lanes_text(&r.lanes_jets_per_s, &r.lanes_absent);
        println!(
            "{:>3} {:>7} {:>30} {:>30}",
            r.leaves,
            r.splits,
            fmt(&r.scalar_jets_per_s),
            lanes
        );
    }
    println!(
        "one core; {} jets per run",
        rows.first().map_or(0, |r| r.jets)
    );
    Ok(())
}

/// Runs `jettrellis bench`.
pub fn run(args: &Args) -> Result<()> {
    if args.golden {
        return run_golden(args, args.max_leaves.unwrap_or(8));
    }
    let max = args.max_leaves.unwrap_or(16);
    anyhow::ensure!(
        (2..=jettrellis_core::trellis::MAX_LEAVES).contains(&max)
            && args.min_leaves >= 2
            && args.min_leaves <= max,
        "--min-leaves/--max-leaves must satisfy 2 <= min <= max <= {}",
        jettrellis_core::trellis::MAX_LEAVES
    );
    let rows = sweep(args.min_leaves, max, "bench", |n| {
        Ok(measure(n, args.seconds))
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:>3} {:>12} {:>22} {:>9} {:>22} {:>22} {:>9} {:>10}",
        "N",
        "splits",
        "1 core s/jet min/med",
        "ns/split",
        "1 core 8 side by side",
        "all cores s/jet",
        "ns/split",
        "buffer"
    );
    for r in &rows {
        let eight = r.s_per_jet_1core_8jets.map_or(format!("{:>22}", "-"), |t| {
            format!("{:>10.3e} {:>10.3e} ", t[0], t[1])
        });
        println!(
            "{:>3} {:>12} {:>10.3e} {:>10.3e} {:>9.2} {eight} {:>10.3e} {:>10.3e} {:>9.2} {:>7} KiB",
            r.leaves,
            r.splits,
            r.s_per_jet_1core[0],
            r.s_per_jet_1core[1],
            r.ns_per_split_1core,
            r.s_per_jet_all[0],
            r.s_per_jet_all[1],
            r.ns_per_split_all,
            r.buffer_bytes >> 10
        );
    }
    println!("threads: {}", rows.first().map_or(0, |r| r.threads));
    Ok(())
}
