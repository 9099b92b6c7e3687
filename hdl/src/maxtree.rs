//! Max / argmax over K log-domain values with −∞ flags, by core's rule: the largest finite value
//! wins, ties go to the lower index, all −∞ gives index 0 with the flag set. The rule is
//! associative, so the pairwise comparison tree gives the same winner as core's running scan.
//! Hand-written Verilog (a generated comparator tree): rust-hdl's `#[hdl_gen]` cannot index by
//! computed positions, which a tree needs.

use crate::harness::{signed_from_raw, signed_raw, signed_values, to_raw, Dut, Port};
use rust_hdl::prelude::*;
use std::fmt::Write as _;

/// The model: core's scan (`best` is replaced only by a strictly greater finite value).
/// Returns `(value bits of the winner, winner index, all −∞)`.
pub fn argmax_model(x: &[i64], ninf: &[bool]) -> (i64, usize, bool) {
    let mut best = 0;
    for k in 1..x.len() {
        if !ninf[k] && (ninf[best] || x[k] > x[best]) {
            best = k;
        }
    }
    (x[best], best, ninf[best])
}

/// Max / argmax of `k` inputs `x$0…` (W-bit signed, with −∞ flags `ninf$0…`), one register at
/// the output: latency 1. `I` index bits hold `k − 1`.
#[derive(LogicBlock)]
pub struct MaxTree<const W: usize, const I: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Values.
    pub x: Vec<Signal<In, Signed<W>>>,
    /// −∞ flags of the values.
    pub ninf: Vec<Signal<In, Bit>>,
    /// The winner's value bits.
    pub max: Signal<Out, Signed<W>>,
    /// The winner's index.
    pub arg: Signal<Out, Bits<I>>,
    /// Every input was −∞.
    pub empty: Signal<Out, Bit>,
}

impl<const W: usize, const I: usize> MaxTree<W, I> {
    /// A tree over `k ≥ 2` inputs.
    pub fn new(k: usize) -> Self {
        assert!(k >= 2 && k - 1 < 1 << I, "2 <= k <= 2^I");
        MaxTree {
            clock: Default::default(),
            x: (0..k).map(|_| Default::default()).collect(),
            ninf: (0..k).map(|_| Default::default()).collect(),
            max: Default::default(),
            arg: Default::default(),
            empty: Default::default(),
        }
    }
}

impl<const W: usize, const I: usize> Logic for MaxTree<W, I> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let x = signed_values(&self.x);
            let f: Vec<bool> = self.ninf.iter().map(|s| s.val()).collect();
            let (v, k, e) = argmax_model(&x, &f);
            self.max.next = signed_from_raw(to_raw(v, W));
            self.arg.next = Bits::<I>::from(k as u64);
            self.empty.next = e;
        }
    }

    fn connect(&mut self) {
        self.max.connect();
        self.arg.connect();
        self.empty.connect();
    }

    fn hdl(&self) -> Verilog {
        // Level 0 is the inputs; each level pairs neighbours (2j, 2j+1), an unpaired last
        // element passes up. The right (higher-index) side wins only if it is finite and either
        // the left is −∞ or it is strictly greater.
        let mut s = String::new();
        let mut n = self.x.len();
        for j in 0..n {
            let _ = writeln!(
                s,
                "wire signed [{}:0] v0_{j} = x${j};\nwire f0_{j} = ninf${j};\nwire [{}:0] i0_{j} = {I}'d{j};",
                W - 1,
                I - 1
            );
        }
        let mut l = 0;
        while n > 1 {
            for j in 0..n / 2 {
                let (a, b) = (2 * j, 2 * j + 1);
                let _ = writeln!(
                    s,
                    "wire t{l}_{j} = !f{l}_{b} && (f{l}_{a} || v{l}_{b} > v{l}_{a});\n\
                     wire signed [{w}:0] v{m}_{j} = t{l}_{j} ? v{l}_{b} : v{l}_{a};\n\
                     wire f{m}_{j} = t{l}_{j} ? f{l}_{b} : f{l}_{a};\n\
                     wire [{i}:0] i{m}_{j} = t{l}_{j} ? i{l}_{b} : i{l}_{a};",
                    m = l + 1,
                    w = W - 1,
                    i = I - 1
                );
            }
            if n % 2 == 1 {
                let (j, a) = (n / 2, n - 1);
                let _ = writeln!(
                    s,
                    "wire signed [{w}:0] v{m}_{j} = v{l}_{a};\nwire f{m}_{j} = f{l}_{a};\nwire [{i}:0] i{m}_{j} = i{l}_{a};",
                    m = l + 1,
                    w = W - 1,
                    i = I - 1
                );
            }
            n = n.div_ceil(2);
            l += 1;
        }
        let _ = writeln!(
            s,
            "always @(posedge clock) begin\n  max <= v{l}_0;\n  arg <= i{l}_0;\n  empty <= f{l}_0;\nend"
        );
        Verilog::Custom(s)
    }
}

impl<const W: usize, const I: usize> Dut for MaxTree<W, I> {
    fn inputs(&self) -> Vec<Port> {
        let k = self.x.len();
        (0..k)
            .map(|j| Port::new(format!("x${j}"), W))
            .chain((0..k).map(|j| Port::new(format!("ninf${j}"), 1)))
            .collect()
    }
    fn outputs(&self) -> Vec<Port> {
        vec![
            Port::new("max", W),
            Port::new("arg", I),
            Port::new("empty", 1),
        ]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        let k = self.x.len();
        for j in 0..k {
            self.x[j].next = signed_from_raw(v[j]);
            self.ninf[j].next = v[k + j] != 0;
        }
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![
            signed_raw(self.max.val()),
            self.arg.val().to_u64(),
            self.empty.val() as u64,
        ]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
