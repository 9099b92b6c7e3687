//! Registered signed and unsigned multipliers of any widths: rust-hdl multiplies only 16×16, so
//! the product is hand-written Verilog (`Verilog::Custom`) with the Rust model in `update()`.

use crate::harness::{from_raw, signed_from_raw, signed_raw, to_raw, Dut, Port};
use rust_hdl::prelude::*;

/// The exact product of two signed values (the model; `a`, `b` fit `A`, `B` bits, `A + B ≤ 64`).
pub fn mul_model(a: i64, b: i64) -> i64 {
    a * b
}

/// `p = a · b` (A × B bits signed → P = A + B bits signed, exact), one register: latency 1.
#[derive(LogicBlock)]
pub struct SignedMul<const A: usize, const B: usize, const P: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Multiplicand.
    pub a: Signal<In, Signed<A>>,
    /// Multiplier.
    pub b: Signal<In, Signed<B>>,
    /// The product of the previous cycle's inputs.
    pub p: Signal<Out, Signed<P>>,
}

impl<const A: usize, const B: usize, const P: usize> Default for SignedMul<A, B, P> {
    fn default() -> Self {
        // rust-hdl cannot express `Signed<{A + B}>`, so the width is a parameter checked here.
        assert!(P == A + B && P <= 64, "SignedMul needs P = A + B <= 64");
        SignedMul {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize> Logic for SignedMul<A, B, P> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let a = from_raw(signed_raw(self.a.val()), A);
            let b = from_raw(signed_raw(self.b.val()), B);
            self.p.next = signed_from_raw(to_raw(mul_model(a, b), P));
        }
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        // Both operands are declared `signed`, so the product is a signed P-bit multiply.
        Verilog::Custom("always @(posedge clock) p <= a * b;".into())
    }
}

impl<const A: usize, const B: usize, const P: usize> Dut for SignedMul<A, B, P> {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("a", A), Port::new("b", B)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("p", P)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = signed_from_raw(v[0]);
        self.b.next = signed_from_raw(v[1]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![signed_raw(self.p.val())]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

/// The exact product of two unsigned values (the model; `A + B ≤ 64`).
pub fn umul_model(a: u64, b: u64) -> u64 {
    a * b
}

/// `p = a · b` (A × B bits unsigned → P = A + B bits, exact), one register: latency 1.
#[derive(LogicBlock)]
pub struct UnsignedMul<const A: usize, const B: usize, const P: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Multiplicand.
    pub a: Signal<In, Bits<A>>,
    /// Multiplier.
    pub b: Signal<In, Bits<B>>,
    /// The product of the previous cycle's inputs.
    pub p: Signal<Out, Bits<P>>,
}

impl<const A: usize, const B: usize, const P: usize> Default for UnsignedMul<A, B, P> {
    fn default() -> Self {
        assert!(P == A + B && P <= 64, "UnsignedMul needs P = A + B <= 64");
        UnsignedMul {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize> Logic for UnsignedMul<A, B, P> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let p = umul_model(self.a.val().to_u64(), self.b.val().to_u64());
            self.p.next = Bits::<P>::from(p);
        }
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(posedge clock) p <= a * b;".into())
    }
}

impl<const A: usize, const B: usize, const P: usize> Dut for UnsignedMul<A, B, P> {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("a", A), Port::new("b", B)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("p", P)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = Bits::<A>::from(v[0]);
        self.b.next = Bits::<B>::from(v[1]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![self.p.val().to_u64()]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
