//! `jettrellis testbench`: exports the datapath with a self-checking Verilog testbench whose
//! expected outputs come from the fixed-point golden model, for Icarus or a vendor simulator.

use crate::generate::{generate, read_design};
use crate::simulate::{golden, prepare, testbench_header, write_testbench};
use anyhow::{anyhow, Result};
use jettrellis_core::fixed::Tables;
use jettrellis_sim::testbench::RUN_SCRIPT;
use std::path::PathBuf;

/// Arguments of `jettrellis testbench`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis testbench --design configs/default.toml --set max_leaves=4 --jets jets.jsonl -o tb/ && (cd tb && ./run_icarus.sh)"
)]
pub struct Args {
    /// Design file (TOML, see configs/default.toml).
    #[arg(long)]
    pub design: PathBuf,
    /// Jets file: JSONL (one jet per line) or a JSON array.
    #[arg(long)]
    pub jets: PathBuf,
    /// Output directory (created if missing).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Override a design key, e.g. `--set max_leaves=4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Use only the first N jets of the file.
    #[arg(long)]
    pub max_jets: Option<usize>,
    /// Verilog module name of the datapath.
    #[arg(long, default_value = "jettrellis_cluster")]
    pub name: String,
}

/// Runs `jettrellis testbench`.
pub fn run(a: &Args) -> Result<()> {
    let d = read_design(&a.design, &a.set)?;
    let prep = prepare(&a.jets, &d, a.max_jets)?;
    let g = generate(&d, &a.name)?;
    let tab = Box::new(Tables::new(&d).map_err(|e| anyhow!("{}: {e}", a.design.display()))?);
    let want = golden(&g.dp, &tab, &prep.fixed);
    let header = testbench_header(&a.design, &a.set, &d, &g.dp, &a.jets);
    let cycles = write_testbench(&a.out, &a.name, &g, &prep.fixed, &want, header)?;
    eprintln!(
        "{}: testbench of {} jets ({} cycles, outputs checked on out_valid cycles, out_valid low elsewhere)",
        a.out.display(),
        prep.fixed.len(),
        cycles
    );
    eprintln!(
        "run it with: (cd {} && ./{RUN_SCRIPT})   — prints PASS <checked> or FAIL <failed> of <checked>",
        a.out.display()
    );
    Ok(())
}
