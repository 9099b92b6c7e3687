//! The harness can fail on its Verilator leg: a block whose hand-written Verilog disagrees with
//! its Rust model (here `y <= a + 1` against a model of `a`) is caught by Verilator even though
//! rust-hdl's simulator, which runs the model, agrees.

use jettrellis_hdl::harness::{
    first_mismatch, run_rust_hdl, verilator_available, Dut, Port, Verilated,
};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
struct WrongVerilog {
    clock: Signal<In, Clock>,
    a: Signal<In, Bits<8>>,
    y: Signal<Out, Bits<8>>,
}

impl Logic for WrongVerilog {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.y.next = self.a.val();
        }
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(posedge clock) y <= a + 8'd1;".into())
    }
}

impl Dut for WrongVerilog {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("a", 8)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("y", 8)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = Bits::<8>::from(v[0]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![self.y.val().to_u64()]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

fn wrong() -> WrongVerilog {
    WrongVerilog {
        clock: Default::default(),
        a: Default::default(),
        y: Default::default(),
    }
}

#[test]
fn verilator_catches_verilog_that_differs_from_its_model() {
    let vectors: Vec<Vec<u64>> = (0..256).map(|x| vec![x]).collect();
    assert_eq!(run_rust_hdl(&mut wrong(), &vectors), vectors);
    if !verilator_available() {
        eprintln!("SKIPPED: verilator is not installed");
        return;
    }
    let got = Verilated::build(&mut wrong())
        .and_then(|v| v.run(&vectors))
        .expect("builds and runs");
    assert_eq!(
        first_mismatch(&vectors, &got),
        Some((0, vec![0], vec![1])),
        "Verilator runs the Verilog, not the model"
    );
}
