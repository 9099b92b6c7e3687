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
    /// Generate Ginkgo toy-shower jets (QCD or W) with their truth trees.
    Shower(crate::shower::Args),
    /// Cluster jets: exact trellis (log Z, MAP tree, tree count, samples) or a baseline.
    Cluster(crate::cluster::Args),
    /// Compare the trellis MAP, greedy, beam, kt, C/A, anti-kt and truth trees over a jets file.
    Compare(crate::compare::Args),
    /// Compare the fixed-point golden model with the float trellis on the same quantized jets.
    Accuracy(crate::accuracy::Args),
    /// Generate the pipelined Verilog of the clustering datapath and its manifest.
    Generate(crate::generate::Args),
    /// Stream jets through the generated datapath on a simulator and check it bit for bit.
    Simulate(crate::simulate::Args),
    /// Export the datapath with a self-checking Verilog testbench (Icarus or a vendor simulator).
    Testbench(crate::testbench::Args),
    /// Time the exact trellis per jet and per split for N = 4 … max.
    Bench(crate::bench::Args),
    /// Run a quantized tagger bit-exact with hls4ml (or its float64 reference) over input rows.
    Tag(crate::tag::Args),
    /// FPGA resources, latency, logic depth and (with --pnr) a placed-and-routed Fmax of the datapath.
    Report(crate::report::Args),
    /// The main job: shower → generate → simulate → compare → report, artefacts in one folder.
    Flow(crate::flow::Args),
    /// Fit the W-vs-QCD tagger on the clustering features and write it as a quantized model.
    Train(crate::train::Args),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Shower(a) => crate::shower::run(&a),
        Command::Cluster(a) => crate::cluster::run(&a),
        Command::Compare(a) => crate::compare::run(&a),
        Command::Bench(a) => crate::bench::run(&a),
        Command::Generate(a) => crate::generate::run(&a),
        Command::Accuracy(a) => crate::accuracy::run(&a),
        Command::Tag(a) => crate::tag::run(&a),
        Command::Simulate(a) => crate::simulate::run(&a),
        Command::Testbench(a) => crate::testbench::run(&a),
        Command::Report(a) => crate::report::run(&a),
        Command::Train(a) => crate::train::run(&a),
        Command::Flow(a) => crate::flow::run(&a),
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
