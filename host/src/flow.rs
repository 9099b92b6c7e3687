//! `jettrellis flow`: the main job. Ginkgo W and QCD jets → the end-to-end Verilog (clustering
//! datapath, features, tagger) → cycle-accurate simulation checked bit for bit against core →
//! accuracy against the float trellis and the tagger's ROC → FPGA report, with every artefact
//! under one folder.

use crate::accuracy::{evaluate_all, summarize};
use crate::chain;
use crate::generate::{generate_with, read_design, write};
use crate::io::write_atomic;
use crate::shower::{record, Kind, ShowerParams};
use crate::simulate::{prepare, verilator};
use crate::tag::{platform_expf, run_rows, Model};
use crate::train::{auc, jet_features};
use anyhow::{anyhow, bail, Context, Result};
use jettrellis_core::fixed::{FixedTrellis, FxCell, Tables};
use jettrellis_core::GinkgoParams;
use jettrellis_hdl::datapath::io::{self as dpio, HwResult};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::rusthdl::RustHdlBackend;
use jettrellis_sim::stream::stream;
use jettrellis_sim::verilator::BuildOptions;
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Simulators the flow can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowBackend {
    /// Verilator when installed, else rust-hdl.
    Auto,
    /// Verilator (fails when it is missing).
    Verilator,
    /// rust-hdl's simulator stepping the netlist.
    RustHdl,
    /// The netlist evaluator.
    Eval,
}

/// Arguments of `jettrellis flow`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis flow                      (configs/flow.toml, models/ginkgo_wqcd.json, into flow-out/)\n  jettrellis flow --design my.toml --jets 20000 --target xcvu13p -o run1"
)]
pub struct Args {
    /// Design file (TOML) of the clustering datapath.
    #[arg(long, default_value = "configs/flow.toml")]
    pub design: PathBuf,
    /// Override a design key, e.g. `--set fold=2` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Tagger behind the datapath (model JSON taking the clustering features).
    #[arg(long, default_value = "models/ginkgo_wqcd.json")]
    pub model: PathBuf,
    /// Output folder for every artefact (created; files in it are replaced).
    #[arg(short, long, default_value = "flow-out")]
    pub out: PathBuf,
    /// Jets per class (W and QCD).
    #[arg(long, default_value_t = 5000)]
    pub jets: usize,
    /// Shower seed (W uses it, QCD the next one).
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Simulator.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: FlowBackend,
    /// FPGA target of the report (see `jettrellis report --help`).
    #[arg(long, default_value = "xcvu9p")]
    pub target: String,
    /// Skip the Yosys report.
    #[arg(long)]
    pub no_report: bool,
}

const NAME: &str = "jettrellis_flow";

fn step(k: usize, what: &str) {
    eprintln!("[{k}/5] {what}");
}

fn tool_present(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// Writes W then QCD Ginkgo jets (same hard-mass spectrum, 30–80 GeV) to `path`.
fn shower(path: &Path, per_class: usize, seed: u64) -> Result<()> {
    let params = |kind: Kind| {
        let (_, lambda, lambda_root) = kind.preset();
        ShowerParams {
            m_hard: (30.0, 80.0),
            ginkgo: GinkgoParams {
                lambda,
                lambda_root,
                t_cut: 16.0,
            },
            momentum: 400.0,
            leaves: (2, 16),
            max_tries: 10_000,
        }
    };
    let mut records = Vec::with_capacity(2 * per_class);
    for (kind, s) in [(Kind::W, seed), (Kind::Qcd, seed + 1)] {
        let p = params(kind);
        let r: Result<Vec<_>> = (0..per_class)
            .into_par_iter()
            .map(|i| record(kind, &p, s, i))
            .collect();
        records.extend(r?);
    }
    write_atomic(path, |w| {
        for r in &records {
            serde_json::to_writer(&mut *w, r)?;
            writeln!(w)?;
        }
        Ok(())
    })
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, v)?;
        writeln!(w)?;
        Ok(())
    })
}

/// Runs `jettrellis flow`.
pub fn run(a: &Args) -> Result<()> {
    let t_all = Instant::now();
    let d = read_design(&a.design, &a.set)?;
    let model = Model::load(&a.model, false, platform_expf)?;
    let layers = model.layers();
    chain::check(&model, &layers).with_context(|| a.model.display().to_string())?;
    if a.jets == 0 {
        bail!("--jets: need at least one jet per class");
    }
    // Everything checkable is checked before the output folder is touched.
    jettrellis_hdl::datapath::check(&d)
        .map_err(|e| anyhow!("{}: design key {e}", a.design.display()))?;
    if !a.no_report {
        crate::report::parse_target(&a.target).map_err(|e| anyhow!("--target: {e}"))?;
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut artefacts: Vec<PathBuf> = Vec::new();

    step(1, "shower: Ginkgo W and QCD jets");
    let jets_path = a.out.join("jets.jsonl");
    shower(&jets_path, a.jets, a.seed)?;
    artefacts.push(jets_path.clone());

    step(2, "generate: clustering datapath + features + tagger");
    let g = generate_with(&d, NAME, Some((&a.model, &model)))?;
    let vdir = a.out.join("verilog");
    write(&vdir, NAME, &g)?;
    artefacts.push(vdir.join(format!("{NAME}.v")));
    artefacts.push(vdir.join("manifest.json"));
    let dp = &g.dp;

    std::thread::scope(|scope| -> Result<()> {
        // Yosys runs in the background while the design is simulated and compared (it is a separate
        // process; the machine has cores to spare during a Verilator build's single-threaded phases).
        let report_job = if a.no_report {
            eprintln!("[5/5] report: skipped (--no-report)");
            None
        } else if !tool_present("yosys") {
            eprintln!(
            "[5/5] report: yosys is not installed (Debian/Ubuntu: apt-get install yosys): skipped"
        );
            Some(Err(json!({"skipped": "yosys not installed"})))
        } else {
            step(
                5,
                &format!(
                    "report: Yosys synthesis for {} (in the background)",
                    a.target
                ),
            );
            let dev =
                crate::report::parse_target(&a.target).map_err(|e| anyhow!("--target: {e}"))?;
            let (g, d) = (&g, &d);
            Some(Ok(scope.spawn(move || {
                crate::report::report_generated(
                    g,
                    NAME,
                    d,
                    dev,
                    d.clock_mhz,
                    crate::report::Options {
                        pnr: false,
                        synthesis: crate::report::Synthesis::Hierarchical,
                        depth: crate::report::DepthScope::Flat,
                    },
                )
            })))
        };
        let backend = match a.backend {
            FlowBackend::Auto if tool_present("verilator") => FlowBackend::Verilator,
            FlowBackend::Auto => {
                eprintln!(
                    "verilator is not installed (Debian/Ubuntu: apt-get install verilator): \
                 simulating with rust-hdl instead"
                );
                FlowBackend::RustHdl
            }
            b => b,
        };
        let backend_name = match backend {
            FlowBackend::Verilator => "verilator",
            FlowBackend::RustHdl => "rust-hdl",
            _ => "eval",
        };
        step(
            3,
            &format!("simulate on {backend_name}, check against core"),
        );
        let prep = prepare(&jets_path, &d, None)?;
        let labels: Vec<u8> = (0..prep.fixed.len())
            .map(|i| u8::from(i < a.jets))
            .collect();
        let mut be: Box<dyn Backend> = match backend {
            FlowBackend::Verilator => {
                let opts = BuildOptions::default().sized_for(&dp.net);
                let (be, _) = verilator(&dp.net, NAME, &opts, true)?;
                Box::new(be)
            }
            FlowBackend::RustHdl => Box::new(RustHdlBackend::new(&dp.net, NAME)),
            _ => Box::new(EvalBackend::new(&dp.net)),
        };
        let t_sim = Instant::now();
        let sim = stream(dp, be.as_mut(), &prep.fixed)
            .map_err(|e| anyhow!("the {backend_name} simulation failed: {e}"))?;
        let sim_seconds = t_sim.elapsed().as_secs_f64();
        let tab = Box::new(Tables::new(&d).map_err(|e| anyhow!("{e}"))?);
        let width = model.buffer_len(jettrellis_core::fixed::features::FEATURES);
        let tail =
            |tr: &FixedTrellis<'_>, r: &_| chain::tail_model(tr, r, &model.input, &layers, width);
        let cells = FixedTrellis::cells_needed(d.max_leaves);
        let want: Vec<HwResult> = prep
            .fixed
            .par_iter()
            .map_init(
                || vec![FxCell::default(); cells],
                |c, j| dpio::expected_with(dp, &tab, c, j, Some(&tail)),
            )
            .collect();
        let mismatches: Vec<usize> = (0..want.len())
            .filter(|&k| sim.results[k] != want[k])
            .collect();
        if let Some(&k) = mismatches.first() {
            bail!(
            "{} of {} jets differ from the golden model; first: jet {} ({}): expected {:?}, got {:?}",
            mismatches.len(),
            want.len(),
            k,
            prep.jets[k].output_id(),
            want[k],
            sim.results[k]
        );
        }
        let latency_ok = sim.latencies.iter().all(|&l| l == dp.latency as u64);
        if !latency_ok {
            bail!(
                "observed latencies differ from the manifest's {} cycles",
                dp.latency
            );
        }

        step(
            4,
            "compare: fixed point and hardware against the float reference",
        );
        let acc = evaluate_all(&prep.jets, &tab)?;
        let accuracy = summarize(&a.design, &acc);
        let acc_path = a.out.join("accuracy.json");
        write_json(&acc_path, &accuracy)?;
        artefacts.push(acc_path);
        let out_fmt = layers.last().map_or(model.input, |l| l.result());
        let hw_scores: Vec<f64> = sim
            .results
            .iter()
            .map(|r| out_fmt.to_f64(r.tail[0]))
            .collect();
        let fixed_scores: Vec<f64> = want.iter().map(|r| out_fmt.to_f64(r.tail[0])).collect();
        let fcells = FixedTrellis::cells_needed(d.max_leaves);
        let float_features: Vec<Vec<f64>> = prep
            .jets
            .par_iter()
            .map_init(
                || (vec![FxCell::default(); fcells], Vec::new()),
                |(c, fc), j| jet_features(&j.jet.leaves, &tab, c, fc).map(|(f, _)| f.to_vec()),
            )
            .collect::<Result<_>>()?;
        let float_scores: Vec<f64> = run_rows(&model, &float_features, true)?
            .into_iter()
            .map(|o| o[0])
            .collect();
        let aucs = [
            ("float", auc(&float_scores, &labels)),
            ("fixed", auc(&fixed_scores, &labels)),
            (backend_name, auc(&hw_scores, &labels)),
        ];
        let plots = a.out.join("plots");
        let dz: Vec<f64> = acc.iter().filter_map(|x| x.dlogz).collect();
        let dm: Vec<f64> = acc.iter().filter_map(|x| x.dmap).collect();
        crate::plots::histogram(&plots.join("dlogz.svg"), "fixed - float log Z", &dz)?;
        crate::plots::histogram(&plots.join("dmap.svg"), "fixed - float MAP llh", &dm)?;
        crate::plots::roc(
            &plots.join("roc.svg"),
            "W vs QCD tagger",
            &[
                ("float", &float_scores, &labels, aucs[0].1),
                ("fixed", &fixed_scores, &labels, aucs[1].1),
                (backend_name, &hw_scores, &labels, aucs[2].1),
            ],
        )?;
        for f in ["dlogz.svg", "dmap.svg", "roc.svg"] {
            artefacts.push(plots.join(f));
        }

        let report = match report_job {
            None => Value::Null,
            Some(Err(v)) => v,
            Some(Ok(h)) => {
                let r = h
                    .join()
                    .map_err(|_| anyhow!("the report thread panicked"))??;
                eprintln!("[5/5] report: done");
                let p = a.out.join("report.json");
                write_json(&p, &r)?;
                artefacts.push(p);
                r
            }
        };
        let summary = json!({
            "design": a.design.display().to_string(),
            "model": a.model.display().to_string(),
            "jets": prep.fixed.len(),
            "backend": backend_name,
            "mismatches": mismatches.len(),
            "latency_cycles": dp.latency,
            "latency_ns": dp.latency as f64 * 1000.0 / d.clock_mhz,
            "ii_cycles": dp.ii,
            "clock_mhz": d.clock_mhz,
            "jets_per_second": prep.fixed.len() as f64 / sim_seconds.max(1e-9),
            "map_tree_identical_fraction": accuracy["map_tree_identical_fraction"],
            "abs_dlogz_p99": accuracy["abs_dlogz_p99"],
            "abs_dmap_p99": accuracy["abs_dmap_p99"],
            "auc": aucs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "report": report,
            "seconds": t_all.elapsed().as_secs_f64(),
        });
        let sp = a.out.join("summary.json");
        write_json(&sp, &summary)?;
        artefacts.push(sp);
        print_summary(&summary, &artefacts);
        Ok(())
    })
}

fn print_summary(s: &Value, artefacts: &[PathBuf]) {
    let f = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "jettrellis flow: {} jets, {} on {}",
        s["jets"],
        s["design"].as_str().unwrap_or(""),
        s["backend"].as_str().unwrap_or("")
    );
    println!(
        "  bit-exact            {} mismatches against core",
        s["mismatches"]
    );
    println!(
        "  latency              {} cycles = {:.1} ns at {} MHz, II {} cycle(s)",
        s["latency_cycles"],
        f("latency_ns"),
        s["clock_mhz"],
        s["ii_cycles"]
    );
    println!("  simulated            {:.0} jets/s", f("jets_per_second"));
    println!(
        "  fixed vs float       MAP tree identical {:.4}, p99 |d log Z| {:.4}, p99 |d MAP| {:.4}",
        f("map_tree_identical_fraction"),
        f("abs_dlogz_p99"),
        f("abs_dmap_p99")
    );
    let auc = &s["auc"];
    let line: Vec<String> = auc
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {:.4}", v.as_f64().unwrap_or(f64::NAN)))
                .collect()
        })
        .unwrap_or_default();
    println!("  tagger ROC AUC       {}", line.join(", "));
    let r = &s["report"];
    if r.get("lut").is_some() {
        println!(
            "  {:<20} {} LUT ({}%), {} FF, {} DSP, {} BRAM36; logic depth {} (estimated {} MHz)",
            r["target"].as_str().unwrap_or(""),
            r["lut"],
            r["lut_pct"],
            r["ff"],
            r["dsp"],
            r["bram"],
            r["logic_depth"],
            r["fmax_estimate_mhz"]
        );
    } else {
        println!("  report               not run");
    }
    println!("  total                {:.0} s", f("seconds"));
    println!("artefacts:");
    for p in artefacts {
        println!("  {}", p.display());
    }
}
