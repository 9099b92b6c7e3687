//! The `jettrellis` command-line tool as a library, so that integration tests drive the same code.
//!
//! Each subcommand lives in its own module with an `Args` struct (clap) and a `run` function;
//! [`cli`] only dispatches.

pub mod accuracy;
pub mod baselines;
pub mod bench;
pub mod chain;
pub mod cli;
pub mod cluster;
pub mod compare;
pub mod design;
pub mod flow;
pub mod generate;
pub mod io;
pub mod jets;
pub mod kt;
pub mod plots;
pub mod report;
pub mod shower;
pub mod simulate;
pub mod tag;
pub mod tagger_hw;
pub mod testbench;
pub mod train;
pub mod trees;
