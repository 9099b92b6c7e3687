//! `jettrellis generate`: the clustering datapath of a design as one Verilog file (the top and
//! its ROM modules) plus `manifest.json` (ports, latency, initiation interval, formats, hashes).

use crate::accuracy::{formats, roms};
use crate::chain;
use crate::io::write_atomic;
use crate::tag::Model;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args as ClapArgs;
use jettrellis_core::fixed::features::{self, feature_format};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::datapath::{self, Datapath};
use jettrellis_hdl::emit;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `generate`.
#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Examples:\n  jettrellis generate --design configs/default.toml -o build/ --name cluster8 --set max_leaves=6 --set fold=2\n  jettrellis generate --model tests/data/hls4ml/jet_default/model.json -o build/ --reuse 2"
)]
pub struct Args {
    /// Design file (TOML, see configs/default.toml).
    #[arg(long, default_value = "configs/default.toml")]
    pub design: PathBuf,
    /// Generate the quantized tagger of this model file (JSON, DESIGN.md §5) instead of the
    /// clustering datapath.
    #[arg(long, conflicts_with_all = ["design", "set"])]
    pub model: Option<PathBuf>,
    /// Tagger only: reuse factor R (multipliers shared over R cycles; II = R).
    #[arg(long, default_value_t = 1, requires = "model")]
    pub reuse: u32,
    /// Tagger only: target clock in MHz (sets the pipelining).
    #[arg(long, requires = "model")]
    pub clock_mhz: Option<f64>,
    /// Output directory (created if missing).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Verilog module name of the top (default jettrellis_cluster, or jettrellis_tagger with
    /// --model).
    #[arg(long)]
    pub name: Option<String>,
    /// Override a design key, e.g. `--set max_leaves=6` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// A generated design with everything written about it.
pub struct Generated {
    /// The datapath.
    pub dp: Datapath,
    /// The Verilog text.
    pub verilog: String,
    /// The manifest.
    pub manifest: Value,
}

/// Applies `KEY=VALUE` overrides (TOML values) to a design and validates it.
pub fn apply_overrides(d: &mut Design, sets: &[String]) -> Result<()> {
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {s}: expected KEY=VALUE"))?;
        let v: toml::Value = format!("x = {v}")
            .parse::<toml::Table>()
            .map_err(|e| anyhow!("--set {s}: {e}"))?
            .remove("x")
            .expect("parsed key");
        crate::design::set_key(d, k.trim(), &v).with_context(|| format!("--set {s}"))?;
    }
    d.validate().map_err(|e| anyhow!("{e}"))
}

/// Reads a design file and applies `--set` overrides to it.
pub fn read_design(path: &Path, sets: &[String]) -> Result<Design> {
    let mut d = crate::design::read(path)?;
    apply_overrides(&mut d, sets)?;
    Ok(d)
}

/// A Verilog identifier (what module names may be).
pub fn check_name(name: &str) -> Result<()> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(anyhow!(
            "--name {name:?}: a Verilog module name is a letter or _ followed by letters, digits or _"
        ))
    }
}

/// SHA-256 of `bytes` in hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Verilator lint command line for module `name` in `name.v`, with the waivers
/// ([`datapath::lint_args`]; it writes C++ into `name_lint/`).
pub fn lint_command(name: &str) -> String {
    let a = datapath::lint_args(name, &format!("{name}.v"), &format!("{name}_lint"));
    format!("verilator {}", a.join(" "))
}

/// Generates the datapath of `d` as module `name`.
pub fn generate(d: &Design, name: &str) -> Result<Generated> {
    generate_with(d, name, None)
}

/// Generates the datapath of `d` as module `name`, with the tagger `(model file, model)`
/// behind it when given (the end-to-end design of [`crate::chain`]).
pub fn generate_with(d: &Design, name: &str, tagger: Option<(&Path, &Model)>) -> Result<Generated> {
    check_name(name)?;
    let t0 = Instant::now();
    let tab = Tables::new(d).map_err(|e| anyhow!("{e}"))?;
    let dp = match tagger {
        None => datapath::generate(d, &tab),
        Some((path, model)) => {
            let layers = model.layers();
            chain::check(model, &layers).with_context(|| path.display().to_string())?;
            let mut err = None;
            let mut tail = chain::tail_hw(d, model.input, &layers, &mut err);
            let dp = datapath::generate_with(d, &tab, Some(&mut tail));
            drop(tail);
            if let Some(e) = err {
                bail!("{}: tagger: {e}", path.display());
            }
            dp
        }
    }
    .map_err(|e| anyhow!("design key {e}"))?;
    let design_text = crate::design::to_toml(d);
    let design_hash = sha256(design_text.as_bytes());
    let what = match tagger {
        None => "clustering datapath".to_string(),
        Some((p, _)) => format!("clustering datapath + tagger {}", p.display()),
    };
    let header = format!(
        "Generated by jettrellis {} — {what}, N = {}, fold = {}.\n\
         Latency {} cycles, initiation interval {} cycles. Design sha256 {design_hash}.\n\
         Do not edit: regenerate with `jettrellis generate`.",
        env!("CARGO_PKG_VERSION"),
        d.max_leaves,
        d.fold,
        dp.latency,
        dp.ii
    );
    let verilog = emit::verilog(&dp.net, name, &header);
    let seconds = t0.elapsed().as_secs_f64();
    let port = |p: &jettrellis_hdl::ir::Port, dir: &str| json!({"name": p.name, "dir": dir, "width": p.ty.width, "signed": p.ty.signed});
    let mut ports = vec![json!({"name": "clk", "dir": "in", "width": 1, "signed": false})];
    ports.extend(dp.net.inputs.iter().map(|p| port(p, "in")));
    ports.extend(dp.net.outputs.iter().map(|(p, _)| port(p, "out")));
    let mut manifest = json!({
        "kind": if tagger.is_some() { "cluster+tagger" } else { "cluster" },
        "module": name,
        "verilog": format!("{name}.v"),
        "generator": format!("jettrellis {}", env!("CARGO_PKG_VERSION")),
        "design_sha256": design_hash,
        "verilog_sha256": sha256(verilog.as_bytes()),
        "design": design_text,
        "clock": "clk",
        "clock_mhz": d.clock_mhz,
        "latency_cycles": dp.latency,
        "latency_ns": dp.latency as f64 * 1000.0 / d.clock_mhz,
        "ii_cycles": dp.ii,
        "latency_definition": "clock edges from the edge that samples in_valid = 1 to the edge after which out_valid = 1 and the outputs are visible, both included",
        "ports": ports,
        "port_notes": {
            "valid": "bit k: slot k holds a constituent",
            "map_value, log_z": "score format; meaningless when the matching _ninf bit is 1 (-inf)",
            "tree_s_j, tree_a_j": "pre-order MAP tree: cluster S_j (mask over compacted leaves: leaf i = i-th valid slot) and its part A_j holding S_j's lowest leaf; zero past n-1 nodes or without a finite MAP",
            "overflow": "one sticky bit per stage for this jet: bit 0 angle, 1 pair, 2 subset_t, 3 ratio, 4 score, 5 count",
            "n_leaves": "number of valid slots"
        },
        "verilator_lint": {
            "command": lint_command(name),
            "waivers": datapath::LINT_WAIVERS
                .iter()
                .map(|(w, why)| json!({"warning": w, "reason": why}))
                .collect::<Vec<_>>(),
        },
        "formats": formats(d),
        "roms": roms(&tab),
        "stages": dp.stages.iter().map(|(name, c)| json!({"stage": name, "valid_at_cycle": c})).collect::<Vec<_>>(),
        "stats": {
            "nodes": dp.net.flat_nodes(),
            "top_nodes": dp.net.nodes.len(),
            "modules": dp.net.modules.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            "register_bits": dp.net.register_bits(),
            "delay_memory_bits": dp.net.delay_memory_bits(),
            "psi_units": dp.psi_units,
            "splits_per_jet": dp.splits,
            "depth_budget": dp.depth_budget,
            "generate_seconds": seconds,
            "verilog_bytes": verilog.len(),
        },
    });
    if let Some((path, model)) = tagger {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        manifest["tagger"] = json!({
            "model": path.display().to_string(),
            "model_sha256": sha256(&text),
            "features": features::FEATURE_NAMES,
            "feature_format": feature_format(d).to_string(),
            "input_precision": model.input.to_string(),
            "reuse": 1,
            "outputs": "score_j: mantissas of the last layer's result format",
        });
    }
    Ok(Generated {
        dp,
        verilog,
        manifest,
    })
}

/// Writes the Verilog and the manifest into `dir` (each atomically).
pub fn write(dir: &Path, name: &str, g: &Generated) -> Result<()> {
    write_files(dir, name, &g.verilog, &g.manifest)
}

/// Writes `<name>.v` and `manifest.json` into `dir` (created if missing; each atomically).
pub fn write_files(dir: &Path, name: &str, verilog: &str, manifest: &Value) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_atomic(&dir.join(format!("{name}.v")), |w| {
        w.write_all(verilog.as_bytes())?;
        Ok(())
    })?;
    write_atomic(&dir.join("manifest.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, manifest)?;
        writeln!(w)?;
        Ok(())
    })
}

/// Runs `generate`.
pub fn run(a: &Args) -> Result<()> {
    if let Some(m) = &a.model {
        let name = a.name.as_deref().unwrap_or(crate::tagger_hw::DEFAULT_NAME);
        let clock = a.clock_mhz.unwrap_or(crate::tagger_hw::DEFAULT_CLOCK_MHZ);
        return crate::tagger_hw::run_generate(m, &a.out, a.reuse, clock, name);
    }
    let name = a.name.as_deref().unwrap_or("jettrellis_cluster");
    let d = read_design(&a.design, &a.set)?;
    let g = generate(&d, name)?;
    write(&a.out, name, &g)?;
    let s = &g.manifest["stats"];
    eprintln!(
        "{}: N = {}, fold = {}, latency {} cycles ({:.1} ns at {} MHz), II {}; {} psi units, {} nodes, {} register bits, {} delay-memory bits; generated in {:.2} s",
        a.out.join(format!("{name}.v")).display(),
        d.max_leaves,
        d.fold,
        g.dp.latency,
        g.manifest["latency_ns"].as_f64().unwrap_or(0.0),
        d.clock_mhz,
        g.dp.ii,
        s["psi_units"],
        s["nodes"],
        s["register_bits"],
        s["delay_memory_bits"],
        s["generate_seconds"].as_f64().unwrap_or(0.0)
    );
    Ok(())
}
