//! Quantized tagger layers bit-exact with hls4ml 1.3 (`io_parallel`, latency strategy), and a
//! float64 reference of the same network. The semantics are those of
//! `specs/hls4ml-fixed-point.md`; section numbers below refer to it.
//!
//! Activations are mantissas (`i128`) of the format each layer declares; weights and biases are
//! mantissas stored as `i64`, so weight and bias formats must not be `ap_ufixed<64,…>`
//! ([`Format::fits_i64`]). Nothing allocates: tables and buffers come from the caller.

use crate::apfixed::{Exact, Format, Overflow, Rounding};

/// Single-precision `expf`, the one transcendental the tables need. The C++ library calls the
/// platform's `expf`; pass the same function to get the same tables (see [`libm_expf`]).
pub type Expf = fn(f32) -> f32;

/// The pure-Rust `expf` of the `libm` crate, usable without std. The host tests that it equals
/// the platform `expf` on every table entry of the shipped configurations.
pub fn libm_expf(x: f32) -> f32 {
    libm::expf(x)
}

/// Formats of a Dense layer (`parameters.h`: `data_T`, `weight_t`, `bias_t`, `accum_t`, `res_T`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseFormats {
    /// Input (the previous layer's result type).
    pub input: Format,
    /// Weights.
    pub weight: Format,
    /// Biases.
    pub bias: Format,
    /// Accumulator.
    pub accum: Format,
    /// Result.
    pub result: Format,
}

/// A Dense layer with quantized weights `weights[i * n_out + j]` (input i → output j).
#[derive(Clone, Copy, Debug)]
pub struct Dense<'a> {
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
    /// Weight mantissas, row-major `[n_in][n_out]`.
    pub weights: &'a [i64],
    /// The same mantissas as `i32` when the weight format has W ≤ 32, else empty: the 32-bit
    /// path reads four lanes per vector from these instead of two.
    pub weights_i32: &'a [i32],
    /// Bias mantissas.
    pub bias: &'a [i64],
    /// Formats.
    pub formats: DenseFormats,
}

/// How a product is brought to the accumulator's fractional bits on the fast path:
/// `((x * w) + add) >> right << left`, a floor (AP_TRN) or half-up (AP_RND) shift, or an exact
/// left shift.
#[derive(Clone, Copy)]
struct ProductStep {
    add: i64,
    right: u32,
    left: u32,
}

/// The accumulator's overflow step on the fast path.
#[derive(Clone, Copy)]
enum AccStep {
    /// Deferred to the end: wrapping commutes with the additions.
    Wrap,
    /// As `Wrap`, in `i32` lanes (which vectorise): products, shifts and sums are exact modulo
    /// 2^32, and W_acc ≤ 32.
    Wrap32,
    /// Clamp into `[lo, hi]` after each product and each addition (AP_SAT, AP_SAT_SYM).
    Clamp(i64, i64),
    /// Zero when outside `[lo, hi]` (AP_SAT_ZERO).
    Zero(i64, i64),
}

impl<'a> Dense<'a> {
    /// §3: per-product cast to `accum_t`, bias first, inputs in increasing order, each step cast
    /// to `accum_t`, then one cast to the result type. `x` holds `n_in` input mantissas, `out`
    /// receives `n_out` result mantissas.
    pub fn forward(&self, x: &[i128], out: &mut [i128]) {
        let x = &x[..self.n_in];
        let out = &mut out[..self.n_out];
        match self.fast_step() {
            Some(step) => self.forward_fast(step, x, out),
            None => self.forward_exact(x, out),
        }
    }

    /// The straightforward evaluation, one exact operation and one cast at a time.
    pub fn forward_exact(&self, x: &[i128], out: &mut [i128]) {
        let f = &self.formats;
        for (j, o) in out.iter_mut().enumerate().take(self.n_out) {
            let mut acc = f.accum.convert(&f.bias, self.bias[j] as i128);
            for (i, &xi) in x.iter().enumerate().take(self.n_in) {
                let w = self.weights[i * self.n_out + j] as i128;
                // W ≤ 64 each, and not both unsigned 64-bit, so the product fits in i128.
                let p = f.accum.cast(Exact {
                    mant: xi * w,
                    frac: f.input.frac_bits() + f.weight.frac_bits(),
                });
                // Both have W ≤ 64 bits: the sum is exact and only the overflow step applies.
                acc = f.accum.cast(f.accum.exact(acc + p));
            }
            *o = f.result.convert(&f.accum, acc);
        }
    }

    /// The fast path needs exact `i64` products (W_in + W_w ≤ 62) and a per-product rounding
    /// done by a shift (AP_TRN, AP_RND, or no dropped bits). With a wrapping accumulator the
    /// per-step wraps commute with the additions (all is arithmetic modulo 2^W), so sums run in
    /// wrapping `i64` and wrap once at the end; a saturating one is applied at every step, which
    /// needs the shifted product and the sum to stay exact in `i64` (W_acc ≤ 62).
    fn fast_step(&self) -> Option<(ProductStep, AccStep)> {
        let f = &self.formats;
        let prod_w = f.input.width() + f.weight.width();
        if prod_w > 62 {
            return None;
        }
        let s =
            f.input.frac_bits() as i64 + f.weight.frac_bits() as i64 - f.accum.frac_bits() as i64;
        let step = match (s, f.accum.rounding()) {
            (0, _) => ProductStep {
                add: 0,
                right: 0,
                left: 0,
            },
            (s, _) if s < 0 && -s < 63 => ProductStep {
                add: 0,
                right: 0,
                left: (-s) as u32,
            },
            (s, Rounding::Trn) if s > 0 => ProductStep {
                add: 0,
                right: s.min(63) as u32,
                left: 0,
            },
            (s, Rounding::Rnd) if s > 0 && s < 63 => ProductStep {
                add: 1i64 << (s - 1),
                right: s as u32,
                left: 0,
            },
            _ => return None,
        };
        let (lo, hi) = (f.accum.min_mant() as i64, f.accum.max_mant() as i64);
        // Products fit in i32 when |x·w| < 2^31 (a signed W-bit input has |x| ≤ 2^(W−1)), with
        // room for the rounding half.
        let in_bits = f.input.width() + !f.input.signed() as u32;
        let narrow = in_bits + f.weight.width() <= 32
            && step.right <= 30
            && step.left < 32
            && f.accum.width() <= 32;
        let acc = match f.accum.overflow() {
            Overflow::Wrap if narrow => AccStep::Wrap32,
            Overflow::Wrap => AccStep::Wrap,
            _ if f.accum.width() > 62 || prod_w + step.left > 62 => return None,
            Overflow::Sat => AccStep::Clamp(lo, hi),
            Overflow::SatSym if f.accum.signed() => AccStep::Clamp(-hi, hi),
            Overflow::SatSym => AccStep::Clamp(lo, hi),
            Overflow::SatZero => AccStep::Zero(lo, hi),
        };
        Some((step, acc))
    }

    fn forward_fast(&self, (step, acc_step): (ProductStep, AccStep), x: &[i128], out: &mut [i128]) {
        const CHUNK: usize = 64;
        let f = &self.formats;
        let mut start = 0;
        while start < self.n_out {
            let end = (start + CHUNK).min(self.n_out);
            let mut acc = [0i64; CHUNK];
            let acc = &mut acc[..end - start];
            for (a, &b) in acc.iter_mut().zip(&self.bias[start..end]) {
                *a = f.accum.convert(&f.bias, b as i128) as i64;
            }
            let rows =
                (0..x.len()).map(|i| &self.weights[i * self.n_out + start..i * self.n_out + end]);
            match acc_step {
                AccStep::Wrap32 => {
                    let mut acc32 = [0i32; CHUNK];
                    let acc32 = &mut acc32[..end - start];
                    for (n, &a) in acc32.iter_mut().zip(acc.iter()) {
                        *n = a as i32;
                    }
                    if self.weights_i32.len() == self.weights.len() {
                        let rows = (0..x.len()).map(|i| {
                            &self.weights_i32[i * self.n_out + start..i * self.n_out + end]
                        });
                        with_product32(acc32, x, rows, step);
                    } else {
                        with_product32(acc32, x, rows, step);
                    }
                    for (a, &n) in acc.iter_mut().zip(acc32.iter()) {
                        *a = n as i64;
                    }
                }
                AccStep::Wrap => with_product(acc, x, rows, step, |a, p| a.wrapping_add(p), |p| p),
                AccStep::Clamp(lo, hi) => {
                    let c = move |v: i64| v.clamp(lo, hi);
                    with_product(acc, x, rows, step, move |a, p| c(a + p), c)
                }
                AccStep::Zero(lo, hi) => {
                    let z = move |v: i64| if v < lo || v > hi { 0 } else { v };
                    with_product(acc, x, rows, step, move |a, p| z(a + p), z)
                }
            }
            for (o, &a) in out[start..end].iter_mut().zip(acc.iter()) {
                *o = f.result.convert(&f.accum, f.accum.wrap(a as i128));
            }
            start = end;
        }
    }
}

/// Mantissa storage the 32-bit path reads (the values fit in `i32` there).
trait Lane: Copy {
    fn lane(self) -> i32;
}

impl Lane for i64 {
    #[inline(always)]
    fn lane(self) -> i32 {
        self as i32
    }
}

impl Lane for i32 {
    #[inline(always)]
    fn lane(self) -> i32 {
        self
    }
}

/// Picks the 32-bit loop for the product step.
#[inline(always)]
fn with_product32<'w, W: Lane + 'w>(
    acc: &mut [i32],
    x: &[i128],
    rows: impl Iterator<Item = &'w [W]>,
    step: ProductStep,
) {
    let ProductStep { add, right, left } = step;
    let half = add as i32;
    if left > 0 {
        accumulate32(acc, x, rows, |p| p.wrapping_shl(left));
    } else if half > 0 {
        accumulate32(acc, x, rows, |p| (p + half) >> right);
    } else {
        accumulate32(acc, x, rows, |p| p >> right);
    }
}

/// `acc[j] += shift(x_i * w_ij)` modulo 2^32 over the inputs in order.
#[inline(always)]
fn accumulate32<'w, W: Lane + 'w>(
    acc: &mut [i32],
    x: &[i128],
    rows: impl Iterator<Item = &'w [W]>,
    shift: impl Fn(i32) -> i32,
) {
    for (&xi, row) in x.iter().zip(rows) {
        let xi = xi as i32;
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = a.wrapping_add(shift(xi.wrapping_mul(w.lane())));
        }
    }
}

/// Picks the product step's loop, so that each (product step, overflow mode) pair gets its own
/// branch-free inner loop.
#[inline(always)]
fn with_product<'w>(
    acc: &mut [i64],
    x: &[i128],
    rows: impl Iterator<Item = &'w [i64]>,
    step: ProductStep,
    add: impl Fn(i64, i64) -> i64,
    cast: impl Fn(i64) -> i64,
) {
    let ProductStep {
        add: half,
        right,
        left,
    } = step;
    if left > 0 {
        accumulate(acc, x, rows, |p| p.wrapping_shl(left), add, cast)
    } else if half > 0 {
        accumulate(acc, x, rows, |p| (p + half) >> right, add, cast)
    } else {
        accumulate(acc, x, rows, |p| p >> right, add, cast)
    }
}

/// `acc[j] = add(acc[j], cast(shift(x_i * w_ij)))` over the inputs in order.
#[inline(always)]
fn accumulate<'w>(
    acc: &mut [i64],
    x: &[i128],
    rows: impl Iterator<Item = &'w [i64]>,
    shift: impl Fn(i64) -> i64,
    add: impl Fn(i64, i64) -> i64,
    cast: impl Fn(i64) -> i64,
) {
    for (&xi, row) in x.iter().zip(rows) {
        let xi = xi as i64;
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = add(*a, cast(shift(xi * w)));
        }
    }
}

/// ReLU (§4): `x > 0 ? result(x) : 0`.
pub fn relu(input: &Format, result: &Format, x: &[i128], out: &mut [i128]) {
    if result.holds(input) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v.max(0);
        }
        return;
    }
    for (o, &v) in out.iter_mut().zip(x) {
        *o = if v > 0 { result.convert(input, v) } else { 0 };
    }
}

/// Linear activation: each value cast to the result type.
pub fn linear(input: &Format, result: &Format, x: &[i128], out: &mut [i128]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = result.convert(input, v);
    }
}

/// Fills `table` (its length is the table size N) with the sigmoid table of §5, as mantissas of
/// `table_fmt`: entry k is `table_t((float)(1.0 / (1 + expf(-in))))`, in = 16 (k − N/2) / N.
pub fn sigmoid_table(table_fmt: &Format, expf: Expf, table: &mut [i128]) {
    let n = table.len();
    for (k, t) in table.iter_mut().enumerate() {
        let in_val = (16.0 * (k as f64 - n as f64 / 2.0) / n as f64) as f32;
        // `1 + expf(..)` is a float sum, the division by 1.0 is done in double.
        let v = (1.0f64 / (1.0f32 + expf(-in_val)) as f64) as f32;
        *t = table_fmt.cast(Exact::from_f64(v as f64).unwrap_or(Exact { mant: 0, frac: 0 }));
    }
}

/// A sigmoid layer (§5) over a table built by [`sigmoid_table`]; N must be a power of two ≥ 16.
#[derive(Clone, Copy, Debug)]
pub struct Sigmoid<'a> {
    /// Input format.
    pub input: Format,
    /// Table format.
    pub table_fmt: Format,
    /// Result format.
    pub result: Format,
    /// The table (mantissas of `table_fmt`).
    pub table: &'a [i128],
}

impl Sigmoid<'_> {
    /// The table index of §5: `(int)(x * N / 16)` truncates toward zero, plus N/2, clamped.
    pub fn index(&self, x: i128) -> usize {
        let n = self.table.len() as i64;
        // x * N / 16 = m * 2^(log2 N − 4 − F).
        let k = n.trailing_zeros() as i64 - 4 - self.input.frac_bits() as i64;
        let mag = x.unsigned_abs();
        // |x| * N / 16 truncated; only its low 32 bits matter below, and shifting left keeps
        // them exact even when high bits fall off.
        let t = if k >= 128 || -k >= 128 {
            0
        } else if k >= 0 {
            mag << k
        } else {
            mag >> (-k)
        };
        // The C++ stores the integer part in an `int`: keep its low 32 bits.
        let t = (t as u32) as i32;
        let data_round = if x < 0 { t.wrapping_neg() } else { t } as i64;
        (data_round + n / 2).clamp(0, n - 1) as usize
    }

    /// Applies the sigmoid to each input mantissa.
    pub fn forward(&self, x: &[i128], out: &mut [i128]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self
                .result
                .convert(&self.table_fmt, self.table[self.index(v)]);
        }
    }
}

/// Formats of a stable softmax (§6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxFormats {
    /// Input (`data_T`).
    pub input: Format,
    /// `exp_table_t`.
    pub exp_table: Format,
    /// `inv_table_t`.
    pub inv_table: Format,
    /// `inv_inp_t`.
    pub inv_input: Format,
    /// `accum_t`.
    pub accum: Format,
    /// Result.
    pub result: Format,
}

impl SoftmaxFormats {
    /// `inp_norm_t`, derived as hls4ml's template does: `ap_ufixed<W−1,I−1>` for a signed input,
    /// `ap_ufixed<W,I>` for an unsigned one, always AP_TRN / AP_WRAP.
    pub fn norm(&self) -> Format {
        let s = self.input.signed() as u32;
        Format::new(
            false,
            self.input.width() - s,
            self.input.int_bits() - s as i32,
            Rounding::Trn,
            Overflow::Wrap,
        )
        .unwrap_or(Format::fixed(1, 0))
    }
}

/// Fills the exp table (§6.4): entry k is `exp_table_t(expf(-x))` where x is the `inp_norm_t`
/// value whose top log2(N) bits are k. N = `table.len()` must be a power of two no larger than
/// 2^(norm width).
pub fn softmax_exp_table(f: &SoftmaxFormats, expf: Expf, table: &mut [i128]) {
    let norm = f.norm();
    let shift = norm.width() - table.len().trailing_zeros();
    for (k, t) in table.iter_mut().enumerate() {
        let x = norm.to_f64((k as i128) << shift) as f32;
        *t = float_to(&f.exp_table, expf(-x));
    }
}

/// Fills the inverse table (§6.9): entry k is `inv_table_t(1.0f / x)` where x is the signed
/// `inv_inp_t` value whose top log2(N) bits are k.
pub fn softmax_inv_table(f: &SoftmaxFormats, table: &mut [i128]) {
    let w = f.inv_input.width();
    let shift = w - table.len().trailing_zeros();
    for (k, t) in table.iter_mut().enumerate() {
        let m = f.inv_input.wrap((k as i128) << shift);
        let x = f.inv_input.to_f64(m) as f32;
        *t = float_to(&f.inv_table, 1.0f32 / x);
    }
}

fn float_to(fmt: &Format, v: f32) -> i128 {
    // Tables never hold NaN: expf and 1/x of finite floats are numbers or ±inf.
    fmt.cast(Exact::from_f64(v as f64).unwrap_or(Exact { mant: 0, frac: 0 }))
}

/// A stable softmax (§6) over tables built by [`softmax_exp_table`] and [`softmax_inv_table`].
#[derive(Clone, Copy, Debug)]
pub struct Softmax<'a> {
    /// Formats.
    pub formats: SoftmaxFormats,
    /// Exp table (mantissas of `exp_table_t`).
    pub exp_table: &'a [i128],
    /// Inverse table (mantissas of `inv_table_t`).
    pub inv_table: &'a [i128],
}

impl Softmax<'_> {
    /// Applies the softmax to `x`, writing `x.len()` result mantissas to `out`.
    pub fn forward(&self, x: &[i128], out: &mut [i128]) {
        let f = &self.formats;
        let norm = f.norm();
        let out = &mut out[..x.len()];
        let Some(&xmax) = x.iter().max() else {
            return;
        };
        let exp_shift = norm.width() - self.exp_table.len().trailing_zeros();
        for (o, &v) in out.iter_mut().zip(x) {
            // The difference is exact; the cast to the unsigned norm type wraps.
            let d = norm.convert(&f.input, xmax - v);
            let e = self.exp_table[(d >> exp_shift) as usize];
            *o = f.accum.convert(&f.exp_table, e);
        }
        let sum = tree_sum(&f.accum, out);
        let s = f.inv_input.convert(&f.accum, sum);
        let w = f.inv_input.width();
        let word = (s as u128) & (u128::MAX >> (128 - w));
        let idx = (word >> (w - self.inv_table.len().trailing_zeros())) as usize;
        let inv = self.inv_table[idx];
        let frac = f.accum.frac_bits() + f.inv_table.frac_bits();
        for o in out.iter_mut() {
            *o = f.result.cast(Exact {
                mant: *o * inv,
                frac,
            });
        }
    }
}

/// `nnet::reduce` with `Op_add<accum_t>`: split at the largest power of two ≤ n − 1, cast each
/// partial sum.
fn tree_sum(accum: &Format, x: &[i128]) -> i128 {
    match x.len() {
        0 => 0,
        1 => x[0],
        n => {
            let left = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            accum.cast(accum.exact(tree_sum(accum, &x[..left]) + tree_sum(accum, &x[left..])))
        }
    }
}

/// One layer of a quantized network.
#[derive(Clone, Copy, Debug)]
pub enum Layer<'a> {
    /// Dense.
    Dense(Dense<'a>),
    /// ReLU from `input` to `result`.
    Relu {
        /// Input format.
        input: Format,
        /// Result format.
        result: Format,
    },
    /// Linear (a cast) from `input` to `result`.
    Linear {
        /// Input format.
        input: Format,
        /// Result format.
        result: Format,
    },
    /// Sigmoid.
    Sigmoid(Sigmoid<'a>),
    /// Stable softmax.
    Softmax(Softmax<'a>),
}

impl Layer<'_> {
    /// The result format.
    pub fn result(&self) -> Format {
        match self {
            Layer::Dense(d) => d.formats.result,
            Layer::Relu { result, .. } | Layer::Linear { result, .. } => *result,
            Layer::Sigmoid(s) => s.result,
            Layer::Softmax(s) => s.formats.result,
        }
    }

    /// Runs the layer on `n` input mantissas; returns the number of outputs.
    pub fn forward(&self, x: &[i128], out: &mut [i128]) -> usize {
        match self {
            Layer::Dense(d) => {
                d.forward(x, out);
                d.n_out
            }
            Layer::Relu { input, result } => {
                relu(input, result, x, out);
                x.len()
            }
            Layer::Linear { input, result } => {
                linear(input, result, x, out);
                x.len()
            }
            Layer::Sigmoid(s) => {
                s.forward(x, out);
                x.len()
            }
            Layer::Softmax(s) => {
                s.forward(x, out);
                x.len()
            }
        }
    }
}

/// Runs a quantized network on one row: casts each double of `input` to `input_fmt` (§1), runs
/// the layers ping-ponging between `buf_a` and `buf_b` (each as long as the widest layer), and
/// writes the exact output values to `out`. Returns the number of outputs, or `None` when an
/// input is NaN.
pub fn forward(
    input_fmt: &Format,
    layers: &[Layer<'_>],
    input: &[f64],
    buf_a: &mut [i128],
    buf_b: &mut [i128],
    out: &mut [f64],
) -> Option<usize> {
    for (m, &v) in buf_a.iter_mut().zip(input) {
        *m = input_fmt.from_f64(v).ok()?;
    }
    let fmt = layers.last().map_or(*input_fmt, Layer::result);
    let y = forward_raw(layers, input.len(), buf_a, buf_b);
    for (o, &m) in out.iter_mut().zip(y) {
        *o = fmt.to_f64(m);
    }
    Some(y.len())
}

/// Runs the layers on the `n` input mantissas at the front of `buf_a` (ping-ponging with
/// `buf_b`) and returns the output mantissas, in the last layer's result format: what the
/// hardware tagger outputs.
pub fn forward_raw<'b>(
    layers: &[Layer<'_>],
    n: usize,
    buf_a: &'b mut [i128],
    buf_b: &'b mut [i128],
) -> &'b [i128] {
    let mut n = n;
    let (mut cur, mut next) = (buf_a, buf_b);
    for layer in layers {
        n = layer.forward(&cur[..n], next);
        core::mem::swap(&mut cur, &mut next);
    }
    &cur[..n]
}

/// One layer of the float64 reference network.
#[derive(Clone, Copy, Debug)]
pub enum FloatLayer<'a> {
    /// Dense with weights `[n_in][n_out]` row-major.
    Dense {
        /// Outputs.
        n_out: usize,
        /// Weights.
        weights: &'a [f64],
        /// Biases.
        bias: &'a [f64],
    },
    /// max(x, 0).
    Relu,
    /// Identity.
    Linear,
    /// 1 / (1 + e^−x).
    Sigmoid,
    /// e^(x − max) / Σ e^(x − max).
    Softmax,
}

/// Runs the float64 reference network on one row (buffers as in [`forward`]); returns the
/// number of outputs, written to the front of `out`.
pub fn forward_f64(
    layers: &[FloatLayer<'_>],
    input: &[f64],
    buf: &mut [f64],
    out: &mut [f64],
) -> usize {
    let mut n = input.len();
    out[..n].copy_from_slice(input);
    for layer in layers {
        match *layer {
            FloatLayer::Dense {
                n_out,
                weights,
                bias,
            } => {
                buf[..n_out].copy_from_slice(&bias[..n_out]);
                for (i, &xi) in out[..n].iter().enumerate() {
                    for (b, &w) in buf[..n_out].iter_mut().zip(&weights[i * n_out..]) {
                        *b += xi * w;
                    }
                }
                n = n_out;
                out[..n].copy_from_slice(&buf[..n]);
            }
            FloatLayer::Relu => out[..n].iter_mut().for_each(|v| *v = v.max(0.0)),
            FloatLayer::Linear => {}
            FloatLayer::Sigmoid => out[..n]
                .iter_mut()
                .for_each(|v| *v = 1.0 / (1.0 + crate::math::exp(-*v))),
            FloatLayer::Softmax => {
                let m = out[..n].iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let mut s = 0.0;
                for v in out[..n].iter_mut() {
                    *v = crate::math::exp(*v - m);
                    s += *v;
                }
                out[..n].iter_mut().for_each(|v| *v /= s);
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_index_truncates_toward_zero() {
        let table = [0i128; 1024];
        let s = Sigmoid {
            input: Format::fixed(16, 6),
            table_fmt: Format::fixed(18, 8),
            result: Format::fixed(16, 6),
            table: &table,
        };
        // One grid step is 16/N = 1/64 = 16 input LSBs.
        assert_eq!(s.index(-1), 512);
        assert_eq!(s.index(1), 512);
        assert_eq!(s.index(-17), 511);
        assert_eq!(s.index(17), 513);
        assert_eq!(s.index(-32768), 0);
        assert_eq!(s.index(32767), 1023);
    }

    #[test]
    fn softmax_difference_wraps() {
        let t = Format::fixed(18, 8).with_modes(Rounding::Rnd, Overflow::Sat);
        let f = SoftmaxFormats {
            input: Format::fixed(16, 6),
            exp_table: t,
            inv_table: t,
            inv_input: t,
            accum: Format::fixed(16, 6),
            result: Format::fixed(16, 6),
        };
        let (mut e, mut inv) = ([0i128; 1024], [0i128; 1024]);
        softmax_exp_table(&f, libm_expf, &mut e);
        softmax_inv_table(&f, &mut inv);
        let sm = Softmax {
            formats: f,
            exp_table: &e,
            inv_table: &inv,
        };
        let mut out = [0i128; 2];
        // 31 − (−1) = 32 wraps to 0 in ap_ufixed<15,5>: both get e^0, so both get 1/2.
        sm.forward(&[31 << 10, -1 << 10], &mut out);
        assert_eq!(out[0], out[1]);
        assert_eq!(out[0], 512);
        // 31 − (−0.5) = 31.5 does not wrap: the small one gets nearly nothing.
        sm.forward(&[31 << 10, -512], &mut out);
        assert_eq!(out, [1024, 0]);
    }
}
