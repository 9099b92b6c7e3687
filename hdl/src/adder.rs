//! Exact adder tree: the sum of K signed values, widened so that it never overflows. Hand-written
//! Verilog (a generated pairwise tree with explicit sign extension): widening a `Signed` in
//! rust-hdl needs `signed_bit_cast`, which overflows the stack on the most negative value.

use crate::harness::{signed_from_raw, signed_raw, signed_values, to_raw, Dut, Port};
use rust_hdl::prelude::*;
use std::fmt::Write as _;

/// The model: the exact sum.
pub fn sum_model(x: &[i64]) -> i64 {
    x.iter().sum()
}

/// `sum = x$0 + … + x$(k−1)` of W-bit signed inputs into S bits, one register: latency 1.
/// `S ≥ W + ⌈log2 k⌉` (checked), so the sum is exact.
#[derive(LogicBlock)]
pub struct AdderTree<const W: usize, const S: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Addends.
    pub x: Vec<Signal<In, Signed<W>>>,
    /// The exact sum of the previous cycle's addends.
    pub sum: Signal<Out, Signed<S>>,
}

impl<const W: usize, const S: usize> AdderTree<W, S> {
    /// A tree over `k ≥ 2` addends.
    pub fn new(k: usize) -> Self {
        let grow = (k - 1).checked_ilog2().map_or(0, |l| l as usize + 1);
        assert!(
            k >= 2 && S >= W + grow && S <= 64,
            "k >= 2 and W + ceil(log2 k) <= S <= 64"
        );
        AdderTree {
            clock: Default::default(),
            x: (0..k).map(|_| Default::default()).collect(),
            sum: Default::default(),
        }
    }
}

impl<const W: usize, const S: usize> Logic for AdderTree<W, S> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let x = signed_values(&self.x);
            self.sum.next = signed_from_raw(to_raw(sum_model(&x), S));
        }
    }

    fn connect(&mut self) {
        self.sum.connect();
    }

    fn hdl(&self) -> Verilog {
        // Every node is S bits wide: sign-extend the inputs once, then add neighbours level by
        // level (an unpaired last node passes up), the same shape as the max tree.
        let mut s = String::new();
        let mut n = self.x.len();
        let (s1, w1) = (S - 1, W - 1);
        for j in 0..n {
            if S > W {
                let _ = writeln!(
                    s,
                    "wire signed [{s1}:0] s0_{j} = {{{{{e}{{x${j}[{w1}]}}}}, x${j}}};",
                    e = S - W
                );
            } else {
                let _ = writeln!(s, "wire signed [{s1}:0] s0_{j} = x${j};");
            }
        }
        let mut l = 0;
        while n > 1 {
            for j in 0..n / 2 {
                let _ = writeln!(
                    s,
                    "wire signed [{s1}:0] s{m}_{j} = s{l}_{a} + s{l}_{b};",
                    m = l + 1,
                    a = 2 * j,
                    b = 2 * j + 1
                );
            }
            if n % 2 == 1 {
                let _ = writeln!(
                    s,
                    "wire signed [{s1}:0] s{m}_{j} = s{l}_{a};",
                    m = l + 1,
                    j = n / 2,
                    a = n - 1
                );
            }
            n = n.div_ceil(2);
            l += 1;
        }
        let _ = writeln!(s, "always @(posedge clock) sum <= s{l}_0;");
        Verilog::Custom(s)
    }
}

impl<const W: usize, const S: usize> Dut for AdderTree<W, S> {
    fn inputs(&self) -> Vec<Port> {
        (0..self.x.len())
            .map(|j| Port::new(format!("x${j}"), W))
            .collect()
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("sum", S)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        for (s, &x) in self.x.iter_mut().zip(v) {
            s.next = signed_from_raw(x);
        }
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![signed_raw(self.sum.val())]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
