//! `jettrellis simulate`: streams quantized jets through the generated datapath on a
//! cycle-accurate backend (Verilator, rust-hdl, Icarus or the netlist evaluator), compares every
//! output with the fixed-point golden model bit for bit, and reports latency, speed and the
//! accuracy against the float trellis on the same jets.

use crate::accuracy::{evaluate_all, summarize};
use crate::generate::{generate, read_design, Generated};
use crate::io;
use crate::jets::{quantized, read_jets, SourcedJet};
use anyhow::{anyhow, bail, Context, Result};
use jettrellis_core::fixed::{FixedJet, FixedTrellis, FxCell, Tables};
use jettrellis_hdl::datapath::io::{self as dpio, HwResult};
use jettrellis_hdl::datapath::{port, Datapath};
use jettrellis_hdl::ir::{mask, Netlist};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::icarus;
use jettrellis_sim::rusthdl::RustHdlBackend;
use jettrellis_sim::stream::{stream, Streamed};
use jettrellis_sim::testbench::{self, Check, Design as TbDesign, Options};
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The simulators `simulate` can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// The emitted Verilog, verilated into a cached shared library and driven through FFI.
    Verilator,
    /// rust-hdl's simulator stepping a block that wraps the netlist evaluator.
    RustHdl,
    /// The emitted Verilog in Icarus Verilog, through the exported self-checking testbench.
    Icarus,
    /// The netlist evaluator alone (the reference semantics of the netlist).
    Eval,
}

impl BackendKind {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Verilator => "verilator",
            BackendKind::RustHdl => "rust-hdl",
            BackendKind::Icarus => "icarus",
            BackendKind::Eval => "eval",
        }
    }
}

/// Arguments of `jettrellis simulate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  jettrellis simulate --design configs/default.toml --set max_leaves=4 --jets jets.jsonl --backend verilator --json\n  jettrellis simulate --model tests/data/hls4ml/jet_default/model.json --inputs tests/data/hls4ml/jet_default/inputs.json --backend verilator -o out.json",
    group(clap::ArgGroup::new("what").required(true).args(["design", "model"]))
)]
pub struct Args {
    /// Design file (TOML, see configs/default.toml).
    #[arg(long, requires = "jets")]
    pub design: Option<PathBuf>,
    /// Jets file: JSONL (one jet per line) or a JSON array.
    #[arg(long, requires = "design")]
    pub jets: Option<PathBuf>,
    /// Simulate the quantized tagger of this model file (JSON, DESIGN.md §5) instead of the
    /// clustering datapath: rows from --inputs, outputs checked against core's layers; `-o`
    /// then writes the outputs in the `tag` format ({"outputs": [[...]]}).
    #[arg(long, requires = "inputs", conflicts_with_all = ["set", "vcd", "max_jets"])]
    pub model: Option<PathBuf>,
    /// Tagger only: rows file {"inputs": [[...], ...]}.
    #[arg(long, requires = "model")]
    pub inputs: Option<PathBuf>,
    /// Tagger only: reuse factor R (II = R).
    #[arg(long, default_value_t = 1, requires = "model")]
    pub reuse: u32,
    /// Tagger only: target clock in MHz (sets the pipelining).
    #[arg(long, requires = "model")]
    pub clock_mhz: Option<f64>,
    /// Simulator.
    #[arg(long, value_enum, default_value = "verilator")]
    pub backend: BackendKind,
    /// Override a design key, e.g. `--set max_leaves=4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write a VCD trace of every signal (Verilator only; large: use with --max-jets).
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Verilator only: compile the model with g++ -O0 instead of -O1. At N = 6 the build takes
    /// 3 min instead of 4.5 and the model runs 3k instead of 7k jets/s: the shorter total below
    /// about 500k jets.
    #[arg(long)]
    pub quick_build: bool,
    /// Print the report as one JSON object on stdout instead of text (keys include `jets`,
    /// `mismatches`, `first_mismatch`, `latency_cycles`, `latency_manifest`,
    /// `cycles_per_second`, `jets_per_second`, `accuracy`). With Icarus, `mismatches` counts
    /// failing checked cycles: one per wrong jet, plus any cycle with a spurious `out_valid`.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file (atomically); with --model, the outputs in the
    /// `tag` format instead.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Simulate only the first N jets of the file.
    #[arg(long)]
    pub max_jets: Option<usize>,
    /// Verilog module name (default jettrellis_cluster, or jettrellis_tagger with --model).
    #[arg(long)]
    pub name: Option<String>,
    /// Icarus only: write the testbench here (kept) instead of a temporary directory.
    #[arg(long)]
    pub tb_dir: Option<PathBuf>,
    /// Testing aid: flips bit 0 of `n_leaves` in the golden model's result for this jet (with
    /// --model: of the row's first output), so a test can show that a mismatch is reported (and
    /// makes the run fail).
    #[arg(long, hide = true, value_name = "JET")]
    pub corrupt_expected: Option<usize>,
}

/// Jets ready for the datapath: the file's jets (for the float accuracy figures) and their
/// quantized form.
pub struct Prepared {
    /// The jets as read.
    pub jets: Vec<SourcedJet>,
    /// Their hardware inputs, in the same order.
    pub fixed: Vec<FixedJet>,
}

/// Reads and quantizes at most `max` jets of `path` for design `d`; errors name the file and
/// line of the offending jet.
pub fn prepare(
    path: &Path,
    d: &jettrellis_core::fixed::Design,
    max: Option<usize>,
) -> Result<Prepared> {
    let mut jets = read_jets(path)?;
    if let Some(m) = max {
        jets.truncate(m);
    }
    if jets.is_empty() {
        bail!("{}: no jets to simulate", path.display());
    }
    let fixed = quantized(path, &jets, d)?;
    Ok(Prepared { jets, fixed })
}

/// The golden model's result for every jet, in the form the datapath outputs it.
pub fn golden(dp: &Datapath, tab: &Tables, jets: &[FixedJet]) -> Vec<HwResult> {
    let cells = FixedTrellis::cells_needed(tab.design.max_leaves);
    jets.par_iter()
        .map_init(
            || vec![FxCell::default(); cells],
            |c, j| dpio::expected(dp, tab, c, j),
        )
        .collect()
}

/// The output words of `r` on `net`'s output ports and which of them are checked: `map_value`
/// when MAP is −∞, `log_z` when log Z is −∞ and the tree when MAP is −∞ are don't-cares (the
/// inverse of [`dpio::decode`]).
pub fn encode(net: &Netlist, r: &HwResult) -> Result<(Vec<u128>, Vec<bool>)> {
    let mut values = Vec::with_capacity(net.outputs.len());
    let mut care = Vec::with_capacity(net.outputs.len());
    let finite_map = matches!(r.map, Some(Some(_)));
    for (p, _) in &net.outputs {
        let w = p.ty.width;
        let raw = |x: i64| (x as i128 as u128) & mask(w);
        let log = |v: Option<Option<i64>>| match v {
            Some(Some(x)) => (raw(x), true),
            _ => (0, false),
        };
        let (v, c) = match p.name.as_str() {
            port::OUT_VALID => (1, true),
            port::N_LEAVES => (r.n as u128, true),
            port::OVERFLOW => (r.overflow as u128, true),
            port::MAP_VALUE => log(r.map),
            port::LOG_Z => log(r.log_z),
            port::MAP_NINF => (matches!(r.map, Some(None)) as u128, true),
            port::LOG_Z_NINF => (matches!(r.log_z, Some(None)) as u128, true),
            name => {
                let entry =
                    |prefix: &str| -> Option<usize> { name.strip_prefix(prefix)?.parse().ok() };
                if let Some(j) = entry("tree_s_") {
                    (r.tree.get(j).map_or(0, |t| t.0 as u128), finite_map)
                } else if let Some(j) = entry("tree_a_") {
                    (r.tree.get(j).map_or(0, |t| t.1 as u128), finite_map)
                } else {
                    bail!("output port `{name}` of the datapath is not known to the testbench");
                }
            }
        };
        values.push(v & mask(w));
        care.push(c);
    }
    Ok((values, care))
}

/// The cycle whose clock edge makes jet `k`'s result visible (the testbench cycle model: cycle
/// `c` drives stimulus row `c`, then one edge).
fn output_cycle(dp: &Datapath, k: usize) -> u64 {
    k as u64 * dp.ii as u64 + dp.latency as u64 - 1
}

/// Stimulus rows and checks of a testbench that streams `jets` one every `dp.ii` cycles (as
/// [`stream`] does) and expects `want[k]` exactly `dp.latency` edges after jet `k` is sampled.
/// Every other cycle checks that `out_valid` is low, so the timing is checked too.
pub fn testbench_vectors(
    dp: &Datapath,
    jets: &[FixedJet],
    want: &[HwResult],
) -> Result<(Vec<Vec<u128>>, Vec<Check>)> {
    let net = &dp.net;
    let ov = dpio::output(net, port::OUT_VALID).ok_or_else(|| anyhow!("no out_valid port"))?;
    let strobe = dpio::in_valid(net);
    let n_out = net.outputs.len();
    let last = output_cycle(dp, jets.len() - 1);
    // A few idle cycles after the last result: a spurious late out_valid fails too.
    let cycles = last + 1 + dp.ii as u64 + 2;
    let mut stim = Vec::with_capacity(cycles as usize);
    let mut row = vec![0u128; net.inputs.len()];
    for c in 0..cycles {
        let k = (c / dp.ii as u64) as usize;
        if c % dp.ii as u64 == 0 && k < jets.len() {
            row = dpio::inputs(net, &jets[k], true);
        } else {
            // The last jet's words stay on the ports with the strobe low, as in `stream`.
            row[strobe] = 0;
        }
        stim.push(row.clone());
    }
    let mut checks = Vec::with_capacity(cycles as usize);
    let mut next = 0;
    for c in 0..cycles {
        if next < want.len() && c == output_cycle(dp, next) {
            let (values, mask) = encode(net, &want[next])?;
            checks.push(Check {
                cycle: c,
                values,
                mask,
            });
            next += 1;
        } else {
            let mut mask = vec![false; n_out];
            mask[ov] = true;
            checks.push(Check {
                cycle: c,
                values: vec![0; n_out],
                mask,
            });
        }
    }
    Ok((stim, checks))
}

/// The jet whose result the testbench checks at `cycle`, if any.
fn jet_at_cycle(dp: &Datapath, cycle: u64, jets: usize) -> Option<usize> {
    let first = output_cycle(dp, 0);
    let off = cycle.checked_sub(first)?;
    let k = (off / dp.ii as u64) as usize;
    (off % dp.ii as u64 == 0 && k < jets).then_some(k)
}

/// The header comment of exported testbenches.
pub fn testbench_header(
    design: &Path,
    sets: &[String],
    d: &jettrellis_core::fixed::Design,
    dp: &Datapath,
    jets: &Path,
) -> String {
    format!(
        "Self-checking testbench of the jettrellis clustering datapath (jettrellis {}).\n\
         Design {} {}; N = {}, fold = {}; latency {} cycles, II {}.\n\
         Jets {}; expected outputs from the fixed-point golden model (jettrellis-core).",
        env!("CARGO_PKG_VERSION"),
        design.display(),
        sets.iter()
            .map(|s| format!("--set {s}"))
            .collect::<Vec<_>>()
            .join(" "),
        d.max_leaves,
        d.fold,
        dp.latency,
        dp.ii,
        jets.display()
    )
}

/// Writes the self-checking testbench of `g` (module `name`) into `dir`: `jets` streamed at
/// the II, `want` expected (see [`testbench_vectors`]). Returns the cycles it simulates.
pub fn write_testbench(
    dir: &Path,
    name: &str,
    g: &Generated,
    jets: &[FixedJet],
    want: &[HwResult],
    header: String,
) -> Result<u64> {
    let (stim, checks) = testbench_vectors(&g.dp, jets, want)?;
    let design = TbDesign {
        top: name.to_string(),
        verilog: g.verilog.clone(),
        inputs: g.dp.net.inputs.clone(),
        outputs: g.dp.net.outputs.iter().map(|(p, _)| p.clone()).collect(),
    };
    let opts = Options {
        header,
        ..Options::default()
    };
    testbench::write(dir, &design, &stim, &checks, &opts)
        .map_err(|e| anyhow!("writing the testbench in {}: {e}", dir.display()))?;
    Ok(stim.len() as u64)
}

/// What one backend run gave.
struct Run {
    /// One result per jet (empty for Icarus, which compares inside the testbench).
    results: Vec<HwResult>,
    /// Observed latencies (Icarus: the checked one, when the testbench passed).
    latencies: Vec<u64>,
    cycles: u64,
    seconds: f64,
    build: Value,
    /// Icarus: the testbench's verdict.
    icarus: Option<IcarusVerdict>,
}

/// What the Icarus testbench said: failed cycles, and the first mismatch line with the jet it
/// belongs to (when the cycle maps to one).
struct IcarusVerdict {
    failed: u64,
    first: Option<(Option<usize>, String)>,
}

/// Verilates `net` as module `name` (or finds it in the cache), saying which on stderr when
/// `tell`; the build facts as JSON (`cached`, `seconds`, `dir`).
pub fn verilator(
    net: &Netlist,
    name: &str,
    opts: &BuildOptions,
    tell: bool,
) -> Result<(VerilatorBackend, Value)> {
    let (be, info) = VerilatorBackend::from_netlist(net, name, opts)
        .map_err(|e| anyhow!("verilator backend: {e}"))?;
    if tell {
        eprintln!(
            "verilator model {} in {:.1} s ({})",
            if info.cached {
                "found in the cache"
            } else {
                "built"
            },
            info.seconds,
            info.dir.display()
        );
    }
    let build = json!({
        "hierarchical": opts.hierarchical,
        "cached": info.cached,
        "seconds": info.seconds,
        "dir": info.dir.display().to_string(),
    });
    Ok((be, build))
}

fn timed_stream(dp: &Datapath, be: &mut dyn Backend, jets: &[FixedJet]) -> Result<(Streamed, f64)> {
    let t0 = Instant::now();
    let s =
        stream(dp, be, jets).map_err(|e| anyhow!("the {} simulation failed: {e}", be.name()))?;
    Ok((s, t0.elapsed().as_secs_f64()))
}

/// The clustering run's files and module name.
struct Names<'a> {
    design: &'a Path,
    jets: &'a Path,
    name: &'a str,
}

fn run_backend(
    a: &Args,
    names: &Names,
    d: &jettrellis_core::fixed::Design,
    g: &Generated,
    prep: &Prepared,
    want: &[HwResult],
) -> Result<Run> {
    let dp = &g.dp;
    if a.vcd.is_some() && a.backend != BackendKind::Verilator {
        bail!("--vcd needs --backend verilator");
    }
    if a.quick_build && a.backend != BackendKind::Verilator {
        bail!("--quick-build needs --backend verilator");
    }
    let jets = &prep.fixed;
    let from_stream = |(s, seconds): (Streamed, f64), build: Value| Run {
        results: s.results,
        latencies: s.latencies,
        cycles: s.cycles,
        seconds,
        build,
        icarus: None,
    };
    Ok(match a.backend {
        BackendKind::Eval => {
            let mut be = EvalBackend::new(&dp.net);
            from_stream(timed_stream(dp, &mut be, jets)?, Value::Null)
        }
        BackendKind::RustHdl => {
            let mut be = RustHdlBackend::new(&dp.net, names.name);
            from_stream(timed_stream(dp, &mut be, jets)?, Value::Null)
        }
        BackendKind::Verilator => {
            let opts = BuildOptions {
                vcd: a.vcd.clone(),
                quick_build: a.quick_build,
                ..BuildOptions::default()
            }
            .sized_for(&dp.net);
            let (mut be, build) = verilator(&dp.net, names.name, &opts, !a.json)?;
            from_stream(timed_stream(dp, &mut be, jets)?, build)
        }
        BackendKind::Icarus => {
            let tmp;
            let dir = match &a.tb_dir {
                Some(d) => d.as_path(),
                None => {
                    tmp =
                        tempfile::tempdir().context("creating a temporary testbench directory")?;
                    tmp.path()
                }
            };
            let header = testbench_header(names.design, &a.set, d, dp, names.jets);
            let cycles = write_testbench(dir, names.name, g, jets, want, header)?;
            let v = icarus::run(dir).map_err(|e| anyhow!("icarus backend: {e}"))?;
            let first = v.mismatches.first().map(|m| {
                (
                    jet_at_cycle(dp, m.cycle, jets.len()),
                    format!(
                        "cycle {} port {} expected {} actual {}",
                        m.cycle, m.port, m.expected, m.actual
                    ),
                )
            });
            let latencies = if v.passed() {
                vec![dp.latency as u64; jets.len()]
            } else {
                Vec::new()
            };
            Run {
                results: Vec::new(),
                latencies,
                cycles,
                seconds: v.sim_time.as_secs_f64(),
                build: json!({
                    "compile_seconds": v.compile_time.as_secs_f64(),
                    "dir": a.tb_dir.as_ref().map(|d| d.display().to_string()),
                }),
                icarus: Some(IcarusVerdict {
                    failed: v.failed,
                    first,
                }),
            }
        }
    })
}

/// The inputs of a jet, for the mismatch report.
fn describe_inputs(j: &FixedJet, n: usize) -> String {
    format!(
        "valid {:#b}, pt {:?}, eta {:?}, phi {:?}",
        j.valid,
        &j.pt[..n],
        &j.eta[..n],
        &j.phi[..n]
    )
}

/// Runs `jettrellis simulate`.
pub fn run(a: &Args) -> Result<()> {
    if let (Some(model), Some(inputs)) = (&a.model, &a.inputs) {
        return crate::tagger_hw::run_simulate(&crate::tagger_hw::SimArgs {
            model,
            inputs,
            backend: a.backend,
            reuse: a.reuse,
            clock_mhz: a.clock_mhz.unwrap_or(crate::tagger_hw::DEFAULT_CLOCK_MHZ),
            name: a.name.as_deref().unwrap_or(crate::tagger_hw::DEFAULT_NAME),
            output: a.output.as_deref(),
            json: a.json,
            tb_dir: a.tb_dir.as_deref(),
            corrupt_expected: a.corrupt_expected,
        });
    }
    let (Some(design), Some(jets)) = (&a.design, &a.jets) else {
        bail!("--design and --jets, or --model and --inputs, are needed");
    };
    let name = a.name.as_deref().unwrap_or("jettrellis_cluster");
    let d = read_design(design, &a.set)?;
    let prep = prepare(jets, &d, a.max_jets)?;
    let g = generate(&d, name)?;
    let dp = &g.dp;
    let tab = Box::new(Tables::new(&d).map_err(|e| anyhow!("{}: {e}", design.display()))?);
    let mut want = golden(dp, &tab, &prep.fixed);
    if let Some(k) = a.corrupt_expected {
        let r = want
            .get_mut(k)
            .ok_or_else(|| anyhow!("--corrupt-expected {k}: only {} jets", prep.fixed.len()))?;
        r.n ^= 1;
    }
    let names = Names { design, jets, name };
    let run = run_backend(a, &names, &d, &g, &prep, &want)?;
    let n = prep.fixed.len();
    let slots = d.max_leaves as usize;
    // Mismatching jets and the first one's report.
    let (mismatches, first) = match &run.icarus {
        Some(IcarusVerdict { failed, first }) => {
            let first = first.as_ref().map(|(k, text)| {
                let mut m = json!({"mismatch": text});
                if let Some(k) = *k {
                    m["jet"] = json!(k);
                    m["line"] = json!(prep.jets[k].line);
                    m["inputs"] = json!(describe_inputs(&prep.fixed[k], slots));
                    m["expected"] = json!(format!("{:?}", want[k]));
                }
                m
            });
            (*failed as usize, first)
        }
        None => {
            let bad: Vec<usize> = (0..n).filter(|&k| run.results[k] != want[k]).collect();
            let first = bad.first().map(|&k| {
                json!({"jet": k, "line": prep.jets[k].line,
                       "inputs": describe_inputs(&prep.fixed[k], slots),
                       "expected": format!("{:?}", want[k]),
                       "actual": format!("{:?}", run.results[k])})
            });
            (bad.len(), first)
        }
    };
    let lat_min = run.latencies.iter().copied().min();
    let lat_max = run.latencies.iter().copied().max();
    let latency_ok = lat_min == Some(dp.latency as u64) && lat_max == lat_min;
    let acc = evaluate_all(&prep.jets, &tab)?;
    let accuracy = summarize(design, &acc);
    let report = json!({
        "backend": a.backend.name(),
        "design": design.display().to_string(),
        "set": a.set,
        "max_leaves": d.max_leaves,
        "fold": d.fold,
        "jets": n,
        "mismatches": mismatches,
        "first_mismatch": first,
        "latency_cycles": lat_max,
        "latency_cycles_min": lat_min,
        "latency_manifest": dp.latency,
        "ii_cycles": dp.ii,
        "cycles": run.cycles,
        "sim_seconds": run.seconds,
        "cycles_per_second": run.cycles as f64 / run.seconds.max(1e-12),
        "jets_per_second": n as f64 / run.seconds.max(1e-12),
        "build": run.build,
        "accuracy": accuracy,
    });
    if let Some(out) = &a.output {
        io::write_atomic(out, |w| {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)?;
            Ok(())
        })?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    if mismatches > 0 {
        bail!(
            "{mismatches} mismatch(es) between the {} simulation and the golden model",
            a.backend.name()
        );
    }
    if !latency_ok {
        bail!(
            "observed latency {:?}..{:?} cycles differs from the manifest's {}",
            lat_min,
            lat_max,
            dp.latency
        );
    }
    Ok(())
}

fn print_text(r: &Value) {
    let acc = &r["accuracy"];
    println!(
        "{} backend: {} jets (N = {}, fold = {}), {} mismatches",
        r["backend"].as_str().unwrap_or(""),
        r["jets"],
        r["max_leaves"],
        r["fold"],
        r["mismatches"]
    );
    if let Some(m) = r["first_mismatch"].as_object() {
        println!("first mismatch:");
        // In reading order, not the map's alphabetical one.
        for k in ["jet", "line", "inputs", "expected", "actual", "mismatch"] {
            if let Some(v) = m.get(k) {
                println!(
                    "  {k}: {}",
                    v.as_str().map_or(v.to_string(), str::to_string)
                );
            }
        }
    }
    println!(
        "latency {} cycles observed (manifest {}), II {}",
        r["latency_cycles"], r["latency_manifest"], r["ii_cycles"]
    );
    println!(
        "{} cycles in {:.3} s: {:.0} cycles/s, {:.0} jets/s",
        r["cycles"],
        r["sim_seconds"].as_f64().unwrap_or(0.0),
        r["cycles_per_second"].as_f64().unwrap_or(0.0),
        r["jets_per_second"].as_f64().unwrap_or(0.0)
    );
    println!(
        "accuracy vs float: MAP tree identical {:.4}, count identical {:.4}, |dlogZ| p99 {:.3e}, |dMAP| p99 {:.3e}, jets with overflow {}",
        acc["map_tree_identical_fraction"].as_f64().unwrap_or(0.0),
        acc["count_identical_fraction"].as_f64().unwrap_or(0.0),
        acc["abs_dlogz_p99"].as_f64().unwrap_or(0.0),
        acc["abs_dmap_p99"].as_f64().unwrap_or(0.0),
        acc["jets_with_overflow"]
    );
}
