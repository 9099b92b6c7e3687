//! Differential tests of every primitive: the Rust model against rust-hdl's simulator and a
//! Verilator build of the generated Verilog (plus `verilator --lint-only -Wall`), bit for bit,
//! on edge cases and seeded random inputs. One test binary, so one link for all of them.

mod common;

mod adder;
mod cast;
mod delay;
mod harness;
mod maxstar;
mod maxtree;
mod mul;
mod rom;
