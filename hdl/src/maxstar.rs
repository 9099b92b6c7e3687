//! The max* (logsumexp) unit exactly as core computes it (`Tables::max_star`):
//! `max*(a, b) = SAT_score(hi + CORR(hi − lo))` with −∞ as the identity, where CORR reads core's
//! `corr` table with its linear interpolation (`Lut::read`) inside the 16-nat window and is 0
//! beyond it. Hand-written Verilog generated from the table (the interpolation needs a
//! non-16×16 multiply); the Rust model in `update()` is core's own function.

use crate::harness::{from_raw, signed_from_raw, signed_raw, to_raw, Dut, Port};
use jettrellis_core::fixed::{Design, LogVal, Overflows, Quantity, Stage, Tables};
use rust_hdl::prelude::*;
use std::fmt::Write as _;

/// The model: `(value bits, −∞, saturated)` of max*(a, b). The value bits are core's result
/// when it is finite, else `b`'s bits (an −∞ input passes the other input through, flag included).
pub fn max_star_model(t: &Tables, a: LogVal, b: LogVal, b_raw: i64) -> (i64, bool, bool) {
    let mut ovf = Overflows::default();
    match t.max_star(a, b, &mut ovf) {
        Some(y) => (y, false, ovf.get(Stage::Score) > 0),
        None => (b_raw, true, false),
    }
}

/// max*(a, b) on W-bit scores (W = the design's score width) with −∞ flags and the saturation
/// flag of stage Score; one register at the output: latency 1.
#[derive(LogicBlock)]
pub struct MaxStar<const W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// First operand.
    pub a: Signal<In, Signed<W>>,
    /// `a` is −∞.
    pub a_ninf: Signal<In, Bit>,
    /// Second operand.
    pub b: Signal<In, Signed<W>>,
    /// `b` is −∞.
    pub b_ninf: Signal<In, Bit>,
    /// Result value bits.
    pub y: Signal<Out, Signed<W>>,
    /// Result is −∞.
    pub y_ninf: Signal<Out, Bit>,
    /// The sum saturated (stage Score).
    pub sat: Signal<Out, Bit>,
    _tables: Box<Tables>,
}

impl<const W: usize> MaxStar<W> {
    /// The unit of a design (its `corr` table and score format).
    pub fn new(d: &Design) -> Self {
        let t = Tables::new(d).expect("a valid design");
        let g = d.internal.log_frac;
        assert!(
            t.corr.entries().iter().all(|&v| (0..1 << g).contains(&v)),
            "the Verilog holds corr entries as G-bit unsigned words"
        );
        assert_eq!(
            d.format(Quantity::Score).bits as usize,
            W,
            "W is the score width"
        );
        MaxStar {
            clock: Default::default(),
            a: Default::default(),
            a_ninf: Default::default(),
            b: Default::default(),
            b_ninf: Default::default(),
            y: Default::default(),
            y_ninf: Default::default(),
            sat: Default::default(),
            _tables: Box::new(t),
        }
    }
}

impl<const W: usize> Logic for MaxStar<W> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let a = from_raw(signed_raw(self.a.val()), W);
            let b = from_raw(signed_raw(self.b.val()), W);
            let la = (!self.a_ninf.val()).then_some(a);
            let lb = (!self.b_ninf.val()).then_some(b);
            let (y, n, s) = max_star_model(&self._tables, la, lb, b);
            self.y.next = signed_from_raw(to_raw(y, W));
            self.y_ninf.next = n;
            self.sat.next = s;
        }
    }

    fn connect(&mut self) {
        self.y.connect();
        self.y_ninf.connect();
        self.sat.connect();
    }

    fn hdl(&self) -> Verilog {
        let t = &self._tables;
        let corr = &t.corr;
        let step = corr.step_log2 as usize;
        let jb = corr.size.trailing_zeros() as usize; // index bits of the table
        let g = t.design.internal.log_frac as usize; // every entry is < ln 2 · 2^G < 2^G
        let span = corr.span();
        let max = t.score_max;
        let w = W;
        // Everything after the compare is 64-bit signed, with explicit sign/zero extension so
        // that no Verilog width or signedness rule is involved.
        let mut s = format!(
            "wire a_ge = (a >= b);\n\
             wire signed [{w1}:0] hi = a_ge ? a : b;\n\
             wire signed [{w1}:0] lo = a_ge ? b : a;\n\
             wire signed [63:0] hi64 = {{{{{ext}{{hi[{w1}]}}}}, hi}};\n\
             wire signed [63:0] lo64 = {{{{{ext}{{lo[{w1}]}}}}, lo}};\n\
             wire signed [63:0] d = hi64 - lo64;\n\
             wire in_win = (d < 64'sd{span});\n\
             wire [{jb}:0] j = {{1'b0, d[{top}:{step}]}};\n",
            w1 = w - 1,
            ext = 64 - w,
            top = step + jb - 1,
        );
        let _ = writeln!(
            s,
            "function [{}:0] corrt;\n  input [{jb}:0] k;\n  begin\n    case (k)",
            g - 1
        );
        for (k, v) in corr.entries().iter().enumerate() {
            let _ = writeln!(s, "      {}'d{k}: corrt = {g}'d{v};", jb + 1);
        }
        let _ = writeln!(
            s,
            "      default: corrt = {g}'d0;\n    endcase\n  end\nendfunction"
        );
        let _ = writeln!(
            s,
            "wire signed [63:0] y0 = {{{{{z}{{1'b0}}}}, corrt(j)}};",
            z = 64 - g
        );
        if step > 0 {
            // Lut::read: y0 + round_shift((y1 − y0) · r, step), r the low `step` bits of d.
            let _ = writeln!(
                s,
                "wire signed [63:0] y1 = {{{{{z}{{1'b0}}}}, corrt(j + {j1}'d1)}};\n\
                 wire signed [63:0] r = {{{{{zr}{{1'b0}}}}, d[{s1}:0]}};\n\
                 wire signed [63:0] prod = (y1 - y0) * r;\n\
                 wire signed [63:0] c = y0 + ((prod + 64'sd{half}) >>> {step});",
                z = 64 - g,
                j1 = jb + 1,
                zr = 64 - step,
                s1 = step - 1,
                half = 1u64 << (step - 1),
            );
        } else {
            s.push_str("wire signed [63:0] c = y0;\n");
        }
        let _ = write!(
            s,
            "wire signed [63:0] corr = in_win ? c : 64'sd0;\n\
             wire signed [63:0] sum = hi64 + corr;\n\
             wire over = (sum > 64'sd{max});\n\
             wire under = (sum < -64'sd{max});\n\
             wire signed [{w1}:0] sat_sum = over ? {w}'sd{max} : (under ? -{w}'sd{max} : sum[{w1}:0]);\n\
             always @(posedge clock) begin\n\
             \x20 if (a_ninf) begin y <= b; y_ninf <= b_ninf; sat <= 1'b0; end\n\
             \x20 else if (b_ninf) begin y <= a; y_ninf <= 1'b0; sat <= 1'b0; end\n\
             \x20 else begin y <= sat_sum; y_ninf <= 1'b0; sat <= over | under; end\n\
             end\n",
            w1 = w - 1,
        );
        Verilog::Custom(s)
    }
}

impl<const W: usize> Dut for MaxStar<W> {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("a", W),
            Port::new("a_ninf", 1),
            Port::new("b", W),
            Port::new("b_ninf", 1),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![
            Port::new("y", W),
            Port::new("y_ninf", 1),
            Port::new("sat", 1),
        ]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.a.next = signed_from_raw(v[0]);
        self.a_ninf.next = v[1] != 0;
        self.b.next = signed_from_raw(v[2]);
        self.b_ninf.next = v[3] != 0;
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![
            signed_raw(self.y.val()),
            self.y_ninf.val() as u64,
            self.sat.val() as u64,
        ]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
