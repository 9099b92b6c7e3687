//! The rust-hdl backend: the netlist inside a rust-hdl block, stepped by rust-hdl's simulator.
//!
//! # What runs where
//!
//! rust-hdl fixes port widths at compile time, while a datapath's ports are chosen at run time.
//! [`NetlistBlock`] is therefore a rust-hdl `LogicBlock` with a run-time-sized vector of
//! `Signal<In, Bits<128>>` per input port and of `Signal<Out, Bits<128>>` per output port (plus
//! the clock `clk`), each carrying one netlist port zero-extended to 128 bits.
//!
//! - **Simulation.** rust-hdl's simulator owns the signals, the clock and the settling loop
//!   ([`rust_hdl::core::simulate::simulate`], stepped directly, not the threaded `Simulation`
//!   API, which is orders of magnitude slower). The block's `update()` is the model: on the
//!   rising clock edge it hands the input signals to the netlist evaluator
//!   ([`jettrellis_hdl::eval::Sim`]), clocks it once and drives the output signals with its
//!   registers. So the *cycle semantics and the signal plumbing* are rust-hdl's, the
//!   *arithmetic* is the evaluator's; the emitted Verilog is not simulated by this backend (the
//!   Verilator and Icarus backends do that).
//! - **Verilog.** `hdl()` is a `Verilog::Wrapper`: a glue body that instantiates the emitted
//!   module (slicing each 128-bit port to the port's width) with the emitted Verilog of the
//!   netlist as the wrapper's `cores`, so `rust_hdl::core::prelude::generate_verilog` on the
//!   block gives a complete, simulatable design whose top is rust-hdl's `top`.

use crate::backend::Backend;
use jettrellis_hdl::emit;
use jettrellis_hdl::eval::Sim;
use jettrellis_hdl::ir::Netlist;
use rust_hdl::prelude::*;
use std::fmt::Write as _;

/// Settling iterations allowed per `simulate` call: the block settles in three (the edge is
/// seen one pass after the clock changes, the outputs one pass after that).
const SETTLE_ITERS: usize = 16;

/// Bits of a 128-bit rust-hdl value as a `u128`.
fn to_u128(b: Bits<128>) -> u128 {
    b.to_u128()
}

/// A `u128` as a 128-bit rust-hdl value (rust-hdl converts only from `u64` literals).
fn from_u128(x: u128) -> Bits<128> {
    let lo: Bits<128> = (x as u64).into();
    let hi: Bits<128> = ((x >> 64) as u64).into();
    (hi << 64) | lo
}

/// A netlist as a rust-hdl block (see the module docs for what runs where).
#[derive(LogicBlock)]
pub struct NetlistBlock<'a> {
    /// Clock: the netlist advances on its rising edge. Named `clk` like the emitted module's
    /// clock, so the Verilator and Icarus backends (which drive `clk`) run rust-hdl's Verilog.
    pub clk: Signal<In, Clock>,
    /// One signal per netlist input port, in netlist order (port `k` in the low bits).
    pub inputs: Vec<Signal<In, Bits<128>>>,
    /// One signal per netlist output port, in netlist order, zero-extended.
    pub outputs: Vec<Signal<Out, Bits<128>>>,
    // Underscored fields are not signals: the derive skips them.
    _sim: Sim<'a>,
    _glue: String,
    _cores: String,
}

impl<'a> NetlistBlock<'a> {
    /// `net` as a block whose Verilog instantiates it as module `top_name` (which must not be
    /// `top`, the name rust-hdl gives the block itself).
    pub fn new(net: &'a Netlist, top_name: &str) -> NetlistBlock<'a> {
        assert!(
            top_name != "top",
            "`top` is the name of rust-hdl's own module"
        );
        let header = "jettrellis-sim rust-hdl backend: the netlist wrapped by NetlistBlock";
        let mut block = NetlistBlock {
            clk: Default::default(),
            inputs: net.inputs.iter().map(|_| Default::default()).collect(),
            outputs: net.outputs.iter().map(|_| Default::default()).collect(),
            _sim: Sim::new(net),
            _glue: glue(net, top_name),
            _cores: emit::verilog(net, top_name, header),
        };
        // The inputs are driven from outside the block (by the backend or a parent block).
        block.clk.connect();
        for s in &mut block.inputs {
            s.connect();
        }
        block.connect_all();
        block
    }
}

/// The wrapper body: one wire per output at its own width, zero-extended onto the 128-bit
/// output signal, and the emitted module with every input sliced to its width.
fn glue(net: &Netlist, top_name: &str) -> String {
    let mut v = String::new();
    let mut conns = vec![".clk(clk)".to_string()];
    for (k, p) in net.inputs.iter().enumerate() {
        conns.push(format!(".{}(inputs${k}[{}:0])", p.name, p.ty.width - 1));
    }
    for (k, (p, _)) in net.outputs.iter().enumerate() {
        let w = p.ty.width;
        let _ = writeln!(v, "wire [{}:0] o{k};", w - 1);
        if w < 128 {
            let _ = writeln!(v, "assign outputs${k} = {{{}'d0, o{k}}};", 128 - w);
        } else {
            let _ = writeln!(v, "assign outputs${k} = o{k};");
        }
        conns.push(format!(".{}(o{k})", p.name));
    }
    let _ = writeln!(v, "{top_name} dut ({});", conns.join(", "));
    v
}

impl Logic for NetlistBlock<'_> {
    fn update(&mut self) {
        if self.clk.pos_edge() {
            for (k, s) in self.inputs.iter().enumerate() {
                self._sim.set(k, to_u128(s.val()));
            }
            self._sim.tick();
            for (k, s) in self.outputs.iter_mut().enumerate() {
                s.next = from_u128(self._sim.get(k));
            }
        }
    }

    fn connect(&mut self) {
        for s in &mut self.outputs {
            s.connect();
        }
    }

    fn hdl(&self) -> Verilog {
        Verilog::Wrapper(Wrapper {
            code: self._glue.clone(),
            cores: self._cores.clone(),
        })
    }
}

/// [`NetlistBlock`] driven through rust-hdl's simulator, one `simulate` pass per phase: inputs
/// settle, the clock rises (the netlist advances), the clock falls.
pub struct RustHdlBackend<'a> {
    block: NetlistBlock<'a>,
}

impl<'a> RustHdlBackend<'a> {
    /// A fresh simulation of `net` (registers at 0, clock low). `top_name` is the module name
    /// of the netlist in the block's Verilog.
    pub fn new(net: &'a Netlist, top_name: &str) -> RustHdlBackend<'a> {
        let mut block = NetlistBlock::new(net, top_name);
        block.clk.next = Clock::from(false);
        let mut be = RustHdlBackend { block };
        be.settle();
        be
    }

    /// The block, e.g. for `generate_verilog`.
    pub fn block(&self) -> &NetlistBlock<'a> {
        &self.block
    }

    fn settle(&mut self) {
        // The block has no combinational loops, so this can only fail on a bug in the block.
        assert!(
            simulate(&mut self.block, SETTLE_ITERS),
            "the rust-hdl block does not settle"
        );
    }
}

impl Backend for RustHdlBackend<'_> {
    fn set(&mut self, k: usize, raw: u128) {
        self.block.inputs[k].next = from_u128(raw);
    }
    fn tick(&mut self) {
        self.settle();
        self.block.clk.next = Clock::from(true);
        self.settle();
        self.block.clk.next = Clock::from(false);
        self.settle();
    }
    fn get(&self, k: usize) -> u128 {
        to_u128(self.block.outputs[k].val())
    }
    fn name(&self) -> &'static str {
        "rust-hdl"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jettrellis_hdl::ir::{Builder, Ty};

    #[test]
    fn u128_round_trips_through_bits() {
        for x in [0, 1, u64::MAX as u128, 1 << 64, u128::MAX, 0x1234 << 100] {
            assert_eq!(to_u128(from_u128(x)), x);
        }
    }

    /// The glue names rust-hdl's vector ports as rust-hdl emits them (`inputs$k`).
    #[test]
    fn generated_verilog_wraps_the_netlist() {
        let mut b = Builder::new(4);
        let a = b.input("a", Ty::s(12));
        let c = b.input("c", Ty::u(128));
        let s = b.add(a, a, Ty::s(13));
        b.output("s", s);
        b.output("c", c);
        let net = b.finish();
        let be = RustHdlBackend::new(&net, "wrapped");
        let v = generate_verilog(be.block());
        assert!(v.contains("module top("), "{v}");
        assert!(v.contains("module wrapped ("), "{v}");
        assert!(
            v.contains("wrapped dut (.clk(clk), .a(inputs$0[11:0])"),
            "{v}"
        );
        assert!(v.contains("assign outputs$0 = {115'd0, o0};"), "{v}");
        assert!(v.contains("assign outputs$1 = o1;"), "{v}");
    }
}
