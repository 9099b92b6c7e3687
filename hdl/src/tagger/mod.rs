//! The quantized MLP tagger in hardware: from core's layers (`jettrellis_core::nn::Layer`) and
//! the input format, a pipelined netlist computing exactly what `nn::forward` computes on the
//! input mantissas — and so what hls4ml's C simulation computes.
//!
//! | block | module | what it is |
//! |---|---|---|
//! | every cast | [`fx`] | core's `Format::cast`: shift with the rounding mode, then the overflow mode |
//! | Dense | [`dense`] | constant-weight multipliers (R = 1) or ⌈n_in/R⌉ shared ones per neuron (R > 1) |
//! | ReLU, Linear, Sigmoid | [`activation`] | casts, and a ROM of core's sigmoid table |
//! | Softmax | [`softmax`] | max tree, exp and inverse ROMs of core's tables, `nnet::reduce` sum |
//!
//! ROM contents are the tables the `Sigmoid` and `Softmax` layers hold (built by core's table
//! functions), never recomputed here. Pipelining is the [`Builder`]'s: registers go in where the
//! depth budget of the target clock says, so the latency is fixed at generation time.
//!
//! # Composing: [`build`]
//!
//! [`build`] adds the network to an existing builder, from input words already in it:
//! - every input `x[i]` holds the mantissa of the input format (its width and signedness);
//!   inputs may come at different cycles, the network aligns them;
//! - `strobe` is a 1-bit value that is 1 at the (aligned) input cycle of a row and 0 on the
//!   other cycles; with R = 1 it only travels along (delayed to the outputs' cycle), with R > 1
//!   it restarts the phase counters of the shared multipliers;
//! - with R > 1 every input must hold its value for R cycles from that cycle (hold registers
//!   loaded by the strobe do this), and rows may come at most one every R cycles;
//! - all outputs are valid at [`Built::cycle`] (the builder's cycle numbering), together with
//!   [`Built::strobe`], the input strobe delayed to that cycle; with R > 1 they hold for R
//!   cycles from it.
//!
//! # Standalone: [`generate`]
//!
//! A top with inputs `in_valid` and `x_0 … x_{n−1}`, and registered outputs `out_valid` and
//! `y_0 … y_{m−1}`, named as the clustering datapath names its ports: `in_valid` = 1 for one
//! clock samples a row, and [`Tagger::latency`] edges later (that edge included) `out_valid`
//! is 1 for one clock with the outputs. A new row may come every [`Tagger::ii`] = R cycles;
//! with R > 1 the inputs are captured by hold registers, so they need be driven only with the
//! strobe.

pub mod activation;
pub mod dense;
pub mod fx;
pub mod io;
pub mod softmax;

use crate::ir::{bits_for, Builder, Netlist, Ty, V};
use fx::{cast, ty_of, Fx};
use jettrellis_core::apfixed::Format;
use jettrellis_core::nn::Layer;
use std::collections::HashMap;

/// Widest format the generator takes (products then fit 64 bits and every cast in 128).
pub const MAX_FORMAT_WIDTH: u32 = 32;

/// Names of the ports of a standalone tagger.
pub mod port {
    /// Input strobe.
    pub const IN_VALID: &str = "in_valid";
    /// Output strobe.
    pub const OUT_VALID: &str = "out_valid";

    /// Input `i`.
    pub fn x(i: usize) -> String {
        format!("x_{i}")
    }

    /// Output `j`.
    pub fn y(j: usize) -> String {
        format!("y_{j}")
    }
}

/// Why a network cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenError {
    /// The layer at fault (index into the layers), if one is.
    pub layer: Option<usize>,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.layer {
            Some(k) => write!(f, "layers[{k}]: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

impl std::error::Error for GenError {}

fn err(layer: Option<usize>, problem: impl Into<String>) -> GenError {
    GenError {
        layer,
        problem: problem.into(),
    }
}

/// What the layers share while they are built: the builder, the reuse factor, the row strobe
/// and the phase counters derived from it.
pub struct Ctx<'b> {
    /// The builder.
    pub b: &'b mut Builder,
    /// Reuse factor R.
    pub reuse: u32,
    /// 1 at a row's first cycle (see [`build`]).
    pub strobe: V,
    phases: HashMap<u32, V>,
}

impl Ctx<'_> {
    /// A phase counter valid at `cycle`: 0 when the row's strobe is there, then 1, 2, …
    /// Past R − 1 it runs on: nothing is captured then (totals are held on strobe-derived
    /// enables), and without a stop the loop is one mux and one adder, within any budget.
    pub fn phase_at(&mut self, cycle: u32) -> V {
        if let Some(&p) = self.phases.get(&cycle) {
            return p;
        }
        let w = bits_for(self.reuse as u128);
        let st = self.b.delay_to(self.strobe, cycle);
        let cnt = self.b.feedback(Ty::u(w), cycle);
        let zero = self.b.constant(0, Ty::u(w));
        let phase = self.b.mux(st, zero, cnt);
        let one = self.b.constant(1, Ty::u(w));
        let next = self.b.add(phase, one, Ty::u(w));
        assert_eq!(
            next.cycle, cycle,
            "the phase counter loop closes in one cycle"
        );
        self.b.connect(cnt, next);
        self.phases.insert(cycle, phase);
        phase
    }

    /// The total of a running sum whose loop register is valid at `t` and whose next value is
    /// `next`: checks the loop stayed within one cycle, and holds the value of the last phase
    /// (cycle t + R − 1) for R cycles from t + R.
    pub fn finish_loop(&mut self, next: V, t: u32) -> Result<V, GenError> {
        if next.cycle != t {
            return Err(err(
                None,
                format!(
                    "the accumulator loop of a reuse factor > 1 needs more logic between registers \
                     than the depth budget {} allows: lower the clock",
                    self.b.budget()
                ),
            ));
        }
        let last = t + self.reuse - 1;
        let en = self.b.delay_to(self.strobe, last);
        let v = V {
            cycle: last,
            depth: 0,
            ..next
        };
        Ok(self.b.hold(v, en))
    }
}

/// The network built by [`build`].
#[derive(Clone, Debug)]
pub struct Built {
    /// Output mantissas (result format of the last layer), all valid at `cycle`.
    pub y: Vec<V>,
    /// The input strobe delayed to `cycle`.
    pub strobe: V,
    /// The cycle the outputs are valid at.
    pub cycle: u32,
    /// Format of the outputs.
    pub output: Format,
    /// Per layer: its name and the cycle its last output is valid at.
    pub stages: Vec<(String, u32)>,
}

/// The name of layer `k`, as the stages and ROMs call it.
fn layer_name(k: usize, l: &Layer) -> String {
    let kind = match l {
        Layer::Dense(_) => "dense",
        Layer::Relu { .. } => "relu",
        Layer::Linear { .. } => "linear",
        Layer::Sigmoid(_) => "sigmoid",
        Layer::Softmax(_) => "softmax",
    };
    format!("{kind}{k}")
}

/// The formats a layer reads, for the width check.
fn layer_formats(l: &Layer) -> Vec<Format> {
    match l {
        Layer::Dense(d) => {
            let f = d.formats;
            vec![f.input, f.weight, f.bias, f.accum, f.result]
        }
        Layer::Relu { input, result } | Layer::Linear { input, result } => vec![*input, *result],
        Layer::Sigmoid(s) => vec![s.input, s.table_fmt, s.result],
        Layer::Softmax(s) => {
            let f = s.formats;
            vec![
                f.input,
                f.exp_table,
                f.inv_table,
                f.inv_input,
                f.accum,
                f.result,
                f.norm(),
            ]
        }
    }
}

fn layer_input(l: &Layer) -> Format {
    match l {
        Layer::Dense(d) => d.formats.input,
        Layer::Relu { input, .. } | Layer::Linear { input, .. } => *input,
        Layer::Sigmoid(s) => s.input,
        Layer::Softmax(s) => s.formats.input,
    }
}

/// Checks that `layers` on `n_in` inputs of format `input` can be generated with reuse `reuse`.
pub fn check(input: &Format, layers: &[Layer], n_in: usize, reuse: u32) -> Result<(), GenError> {
    if reuse == 0 {
        return Err(err(None, "the reuse factor must be at least 1"));
    }
    if n_in == 0 {
        return Err(err(None, "the network has no inputs"));
    }
    let mut fmt = *input;
    let mut n = n_in;
    for (k, l) in layers.iter().enumerate() {
        if layer_input(l) != fmt {
            return Err(err(
                Some(k),
                format!(
                    "input format {} differs from the previous result {fmt}",
                    layer_input(l)
                ),
            ));
        }
        for f in layer_formats(l) {
            if f.width() > MAX_FORMAT_WIDTH {
                return Err(err(
                    Some(k),
                    format!("{f} is wider than the generator's {MAX_FORMAT_WIDTH} bits"),
                ));
            }
        }
        match l {
            Layer::Dense(d) => {
                if d.n_in != n {
                    return Err(err(
                        Some(k),
                        format!("{} inputs, but the previous layer gives {n}", d.n_in),
                    ));
                }
                n = d.n_out;
            }
            Layer::Sigmoid(s) if !s.table.len().is_power_of_two() || s.table.len() < 16 => {
                return Err(err(
                    Some(k),
                    "the sigmoid table size must be a power of two ≥ 16",
                ));
            }
            Layer::Softmax(s) => {
                let fine = |t: &[i128], w: u32| {
                    t.len().is_power_of_two() && t.len() >= 2 && t.len().trailing_zeros() <= w
                };
                if !fine(s.exp_table, s.formats.norm().width())
                    || !fine(s.inv_table, s.formats.inv_input.width())
                {
                    return Err(err(
                        Some(k),
                        "softmax tables must be powers of two no longer than their index words",
                    ));
                }
            }
            _ => {}
        }
        fmt = l.result();
    }
    Ok(())
}

/// Adds the network to `b` on inputs `x` (mantissas of `input`) with reuse factor `reuse`; see
/// the module documentation for the timing contract of `x`, `strobe` and the result.
pub fn build(
    b: &mut Builder,
    input: Format,
    layers: &[Layer],
    reuse: u32,
    x: &[V],
    strobe: V,
) -> Result<Built, GenError> {
    check(&input, layers, x.len(), reuse)?;
    let c0 = x
        .iter()
        .map(|v| v.cycle)
        .max()
        .unwrap_or(0)
        .max(strobe.cycle);
    let strobe = b.delay_to(strobe, c0);
    let mut ctx = Ctx {
        b,
        reuse,
        strobe,
        phases: HashMap::new(),
    };
    let mut cur: Vec<Fx> = x
        .iter()
        .map(|&v| {
            let v = ctx.b.delay_to(v, c0);
            Fx::of(ctx.b.resize(v, ty_of(&input)), &input)
        })
        .collect();
    let mut stages = Vec::with_capacity(layers.len());
    for (k, l) in layers.iter().enumerate() {
        let name = layer_name(k, l);
        cur = match l {
            Layer::Dense(d) if reuse == 1 => dense::parallel(&mut ctx, d, &cur),
            Layer::Dense(d) => dense::shared(&mut ctx, d, &cur).map_err(|e| GenError {
                layer: Some(k),
                ..e
            })?,
            Layer::Relu { result, .. } => cur
                .iter()
                .map(|&v| activation::relu(&mut ctx, v, result))
                .collect(),
            Layer::Linear { result, .. } => cur.iter().map(|&v| cast(ctx.b, v, result)).collect(),
            Layer::Sigmoid(s) => cur
                .iter()
                .map(|&v| activation::sigmoid(&mut ctx, s, &name, v))
                .collect(),
            Layer::Softmax(s) => softmax::softmax(&mut ctx, s, &name, &cur),
        };
        let last = cur.iter().map(|v| v.v.cycle).max().unwrap_or(0);
        stages.push((name, last));
    }
    let output = layers.last().map_or(input, |l| l.result());
    let cycle = cur.iter().map(|v| v.v.cycle).max().unwrap_or(c0).max(c0);
    let y = cur
        .iter()
        .map(|v| {
            let r = ctx.b.resize(v.v, ty_of(&output));
            ctx.b.delay_to(r, cycle)
        })
        .collect();
    let strobe = ctx.b.delay_to(ctx.strobe, cycle);
    Ok(Built {
        y,
        strobe,
        cycle,
        output,
        stages,
    })
}

/// A generated standalone tagger.
#[derive(Clone, Debug)]
pub struct Tagger {
    /// The netlist.
    pub net: Netlist,
    /// Verilog module name of the top.
    pub name: String,
    /// Clock edges from the one that samples `in_valid` to the one after which `out_valid`
    /// and the outputs are visible (that edge included).
    pub latency: u32,
    /// Initiation interval: cycles between two rows (= the reuse factor).
    pub ii: u32,
    /// Depth budget between registers (builder cost units).
    pub depth_budget: u32,
    /// Input format.
    pub input: Format,
    /// Output format.
    pub output: Format,
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
    /// Per layer: its name and the cycle (after the sampling edge) its last output is valid at.
    pub stages: Vec<(String, u32)>,
}

/// Generates a standalone tagger (ports in the module documentation) for `n_in` inputs of
/// format `input`, reuse factor `reuse`, pipelined for `clock_mhz`, as Verilog module `name`.
pub fn generate(
    input: Format,
    layers: &[Layer],
    n_in: usize,
    reuse: u32,
    clock_mhz: f64,
    name: &str,
) -> Result<Tagger, GenError> {
    let budget = crate::datapath::depth_budget(clock_mhz);
    let mut b = Builder::new(budget);
    let in_valid = b.raw_input(port::IN_VALID, Ty::u(1));
    let raw: Vec<V> = (0..n_in)
        .map(|i| b.raw_input(port::x(i), ty_of(&input)))
        .collect();
    // R > 1: hold registers, so that the shared multipliers see the row for R cycles.
    let x: Vec<V> = raw
        .iter()
        .map(|&v| {
            if reuse == 1 {
                b.reg(v)
            } else {
                b.hold(v, in_valid)
            }
        })
        .collect();
    let strobe = b.reg(in_valid);
    let net = build(&mut b, input, layers, reuse, &x, strobe)?;
    let latency = b.output(port::OUT_VALID, net.strobe);
    for (j, &v) in net.y.iter().enumerate() {
        b.output(port::y(j), v);
    }
    Ok(Tagger {
        net: b.finish(),
        name: name.to_string(),
        latency,
        ii: reuse,
        depth_budget: budget,
        input,
        output: net.output,
        n_in,
        n_out: net.y.len(),
        stages: net.stages,
    })
}
