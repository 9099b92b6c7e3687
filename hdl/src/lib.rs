//! jettrellis-hdl: fixed-point hardware primitives on rust-hdl, each with a Rust model that
//! states its exact bits, checked against rust-hdl's simulator and Verilator by [`harness`].
//!
//! Every primitive registers its outputs (latency in its docs) and takes its widths as const
//! generics; number formats and table contents come from `jettrellis_core::fixed`, never re-typed.

#![deny(missing_docs)]

pub mod adder;
pub mod cast;
pub mod delay;
pub mod harness;
pub mod maxstar;
pub mod maxtree;
pub mod mul;
pub mod rom;
