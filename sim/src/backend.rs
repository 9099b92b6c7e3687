//! The interface every simulator backend implements, and the netlist evaluator behind it.

use jettrellis_hdl::eval::Sim;
use jettrellis_hdl::ir::Netlist;

/// A clocked simulation of one generated module. Ports are addressed by their index in the
/// netlist's `inputs` / `outputs`, values are raw bits (at most 128).
pub trait Backend {
    /// Sets input port `k` for the next clock edge.
    fn set(&mut self, k: usize, raw: u128);
    /// One rising clock edge.
    fn tick(&mut self);
    /// Output port `k` after the last edge.
    fn get(&self, k: usize) -> u128;
    /// What the backend is called in reports.
    fn name(&self) -> &'static str;
}

/// The netlist evaluator of `jettrellis_hdl::eval`.
pub struct EvalBackend<'a>(Sim<'a>);

impl<'a> EvalBackend<'a> {
    /// A fresh simulation of `net`.
    pub fn new(net: &'a Netlist) -> Self {
        EvalBackend(Sim::new(net))
    }
}

impl Backend for EvalBackend<'_> {
    fn set(&mut self, k: usize, raw: u128) {
        self.0.set(k, raw)
    }
    fn tick(&mut self) {
        self.0.tick()
    }
    fn get(&self, k: usize) -> u128 {
        self.0.get(k)
    }
    fn name(&self) -> &'static str {
        "eval"
    }
}
