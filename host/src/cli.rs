//! Command-line entry point: parses the subcommand and reports errors with a non-zero exit.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exact hierarchical clustering of jets and quantized taggers, in float, fixed point and Verilog.
#[derive(Debug, Parser)]
#[command(name = "jettrellis", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cluster jets with the exact trellis (log Z, MAP tree, tree count, posterior samples).
    Cluster(crate::cluster::Args),
    /// Time the exact trellis per jet and per split for N = 4 … max.
    Bench(crate::bench::Args),
    /// Run a quantized tagger bit-exact with hls4ml (or its float64 reference) over input rows.
    Tag(crate::tag::Args),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Cluster(a) => crate::cluster::run(&a),
        Command::Bench(a) => crate::bench::run(&a),
        Command::Tag(a) => crate::tag::run(&a),
    }
}

/// Parses the process arguments, runs, and turns an error into `error: …` on stderr and exit 1.
pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
