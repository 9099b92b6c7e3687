//! jettrellis-hdl: fixed-point hardware primitives on rust-hdl, each with a Rust model that
//! states its exact bits, checked against rust-hdl's simulator and Verilator by [`harness`].
//!
//! Every primitive registers its outputs and takes its widths as const generics; number formats
//! and table contents come from `jettrellis_core::fixed`, never re-typed.
//!
//! | primitive | latency | how it is written |
//! |---|---|---|
//! | [`mul::SignedMul`], [`mul::UnsignedMul`] (any widths, product ≤ 64 bits) | 1 | `Verilog::Custom` (rust-hdl multiplies only 16×16) |
//! | [`cast::WrapCast`], [`cast::SatCast`] (with a saturation flag) | 1 | `#[hdl_gen]` |
//! | [`rom::TableRom`] (a table of `Tables::roms()`) | 1 | `#[hdl_gen]` around rust-hdl's `ROM` |
//! | [`maxtree::MaxTree`] (max/argmax, −∞ flags, ties → lower index) | 1 | generated `Verilog::Custom` |
//! | [`maxstar::MaxStar`] (core's `Tables::max_star`) | 1 | generated `Verilog::Custom` |
//! | [`adder::AdderTree`] (exact, widened) | 1 | generated `Verilog::Custom` |
//! | [`delay::Delay`] | n | `#[hdl_gen]` over a `Vec` of DFFs |
//!
//! For `Verilog::Custom` blocks the Rust model runs in `update()` and only the Verilator leg of
//! [`harness::check`] tests the Verilog; for `#[hdl_gen]` blocks both legs test the generated code.

#![deny(missing_docs)]

pub mod adder;
pub mod cast;
pub mod datapath;
pub mod delay;
pub mod emit;
pub mod eval;
pub mod harness;
pub mod ir;
pub mod maxstar;
pub mod maxtree;
pub mod mul;
pub mod rom;
pub mod tagger;
