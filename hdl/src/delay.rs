//! Delay line: `n` registers in a chain, to align operands of unequal pipeline depth.

use crate::harness::{Dut, Port};
use rust_hdl::prelude::*;

/// `q` = the input of `n` cycles ago (latency `n ≥ 1`); the stages reset to 0.
#[derive(LogicBlock)]
pub struct Delay<const W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Input.
    pub d: Signal<In, Bits<W>>,
    /// The input delayed by `n` cycles.
    pub q: Signal<Out, Bits<W>>,
    stages: Vec<DFF<Bits<W>>>,
    _n: usize,
}

impl<const W: usize> Delay<W> {
    /// A delay of `n ≥ 1` cycles.
    pub fn new(n: usize) -> Self {
        assert!(n >= 1, "a delay line has at least one register");
        Delay {
            clock: Default::default(),
            d: Default::default(),
            q: Default::default(),
            stages: (0..n).map(|_| Default::default()).collect(),
            _n: n,
        }
    }
}

impl<const W: usize> Logic for Delay<W> {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self._n {
            self.stages[k].clock.next = self.clock.val();
        }
        self.stages[0].d.next = self.d.val();
        for k in 1..self._n {
            self.stages[k].d.next = self.stages[k - 1].q.val();
        }
        // Indices may only be loop variables or literals inside #[hdl_gen]: the last
        // assignment of this loop (k = n − 1) is the one that holds.
        for k in 0..self._n {
            self.q.next = self.stages[k].q.val();
        }
    }
}

impl<const W: usize> Dut for Delay<W> {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("d", W)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("q", W)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.d.next = Bits::<W>::from(v[0]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![self.q.val().to_u64()]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
