//! Narrowing casts of signed values, registered: wrapping (keep the low bits) and saturating
//! (clamp to the target range and raise a flag — the datapath counts every saturation).

use crate::harness::{signed_from_raw, signed_raw, Dut, Port};
use rust_hdl::prelude::*;

/// The wrapping cast model: the low `n` bits of `a`, as a signed value.
pub fn wrap_model(a: i64, n: usize) -> i64 {
    crate::harness::from_raw(a as u64, n)
}

/// The saturating cast model: `(clamp(a, −2^(n−1), 2^(n−1) − 1), saturated?)`.
pub fn sat_model(a: i64, n: usize) -> (i64, bool) {
    let max = (1i64 << (n - 1)) - 1;
    let min = -max - 1;
    (a.clamp(min, max), a < min || a > max)
}

/// `y = a` wrapped to N bits (the low N bits of a W-bit value), one register: latency 1.
#[derive(LogicBlock)]
pub struct WrapCast<const W: usize, const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Input.
    pub a: Signal<In, Signed<W>>,
    /// The low N bits of the previous cycle's input.
    pub y: Signal<Out, Signed<N>>,
    held: DFF<Signed<N>>,
}

impl<const W: usize, const N: usize> Default for WrapCast<W, N> {
    fn default() -> Self {
        assert!(N < W, "a narrowing cast");
        WrapCast {
            clock: Default::default(),
            a: Default::default(),
            y: Default::default(),
            held: Default::default(),
        }
    }
}

impl<const W: usize, const N: usize> Logic for WrapCast<W, N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, held);
        self.held.d.next = self.a.val().get_bits::<N>(0);
        self.y.next = self.held.q.val();
    }
}

/// `y = clamp(a)` to N bits with `sat` set when it clamped, one register: latency 1.
/// The range checks compare against `Constant<Signed<W>>` parameters: rust-hdl emits a compare
/// with a literal as unsigned Verilog.
#[derive(LogicBlock)]
pub struct SatCast<const W: usize, const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Input.
    pub a: Signal<In, Signed<W>>,
    /// The previous cycle's input, clamped to N bits.
    pub y: Signal<Out, Signed<N>>,
    /// Whether it was clamped.
    pub sat: Signal<Out, Bit>,
    hi: Constant<Signed<W>>,
    lo: Constant<Signed<W>>,
    hi_n: Constant<Signed<N>>,
    lo_n: Constant<Signed<N>>,
    held: DFF<Signed<N>>,
    flag: DFF<Bit>,
}

impl<const W: usize, const N: usize> Default for SatCast<W, N> {
    fn default() -> Self {
        assert!(N < W && W <= 64, "a narrowing cast of at most 64 bits");
        let max = (1i64 << (N - 1)) - 1;
        let raw_w = |x: i64| crate::harness::to_raw(x, W);
        let raw_n = |x: i64| crate::harness::to_raw(x, N);
        SatCast {
            clock: Default::default(),
            a: Default::default(),
            y: Default::default(),
            sat: Default::default(),
            hi: Constant::new(signed_from_raw(raw_w(max))),
            lo: Constant::new(signed_from_raw(raw_w(-max - 1))),
            hi_n: Constant::new(signed_from_raw(raw_n(max))),
            lo_n: Constant::new(signed_from_raw(raw_n(-max - 1))),
            held: Default::default(),
            flag: Default::default(),
        }
    }
}

impl<const W: usize, const N: usize> Logic for SatCast<W, N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, held, flag);
        self.held.d.next = self.a.val().get_bits::<N>(0);
        self.flag.d.next = false;
        if self.a.val() > self.hi.val() {
            self.held.d.next = self.hi_n.val();
            self.flag.d.next = true;
        }
        if self.a.val() < self.lo.val() {
            self.held.d.next = self.lo_n.val();
            self.flag.d.next = true;
        }
        self.y.next = self.held.q.val();
        self.sat.next = self.flag.q.val();
    }
}

impl<const W: usize, const N: usize> Dut for WrapCast<W, N> {
    fn lint_waivers(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "UNUSEDSIGNAL",
            "a wrapping cast drops the input's high bits by definition",
        )]
    }
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("a", W)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("y", N)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = signed_from_raw(v[0]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![signed_raw(self.y.val())]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<const W: usize, const N: usize> Dut for SatCast<W, N> {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("a", W)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("y", N), Port::new("sat", 1)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = signed_from_raw(v[0]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![signed_raw(self.y.val()), self.sat.val() as u64]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
