//! jettrellis-sim: one interface — set inputs, clock, read outputs — over the simulators that
//! run a generated netlist.

#![deny(missing_docs)]

pub mod backend;
pub mod icarus;
pub mod rusthdl;
pub mod stream;
pub mod tagger;
pub mod testbench;
pub mod tools;
pub mod verilator;
