//! `jettrellis tag`: runs a quantized tagger (bit-exact with hls4ml) or its float64 reference
//! over rows of inputs. Model and rows formats: DESIGN.md §5.

use crate::io;
use anyhow::{bail, Context, Result};
use jettrellis_core::apfixed::{Format, Overflow, Rounding};
use jettrellis_core::nn::{
    self, Dense, DenseFormats, Expf, FloatLayer, Layer, Sigmoid, Softmax, SoftmaxFormats,
};
use rayon::prelude::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest lookup table accepted (hls4ml's are 1024 or 2048 entries).
pub const MAX_TABLE_SIZE: u64 = 1 << 20;

/// Arguments of `jettrellis tag`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis tag --model tests/data/hls4ml/jet_default/model.json --inputs tests/data/hls4ml/jet_default/inputs.json -o out.json"
)]
pub struct Args {
    /// Model file (JSON, DESIGN.md §5).
    #[arg(long)]
    pub model: PathBuf,
    /// Rows file: {"inputs": [[...], ...]}.
    #[arg(long)]
    pub inputs: PathBuf,
    /// Output file {"outputs": [[...], ...]} (default: stdout). Written atomically.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Run the float64 reference network (unquantized weights) instead of the fixed-point one.
    #[arg(long)]
    pub float: bool,
    /// Quantize weights as hls4ml's C++ does: print each to K = max(0, F) decimal places, read
    /// that back as a double, then cast. Default: cast the given double exactly.
    #[arg(long)]
    pub hls4ml_decimal_weights: bool,
}

/// A loaded model: formats, quantized weights, float weights and lookup tables.
#[derive(Debug)]
pub struct Model {
    /// Format of the inputs.
    pub input: Format,
    /// Number of inputs, when the first Dense layer fixes it.
    pub n_in: Option<usize>,
    layers: Vec<OwnedLayer>,
}

#[derive(Debug)]
enum OwnedLayer {
    Dense {
        n_in: usize,
        n_out: usize,
        weights: Vec<i64>,
        weights_i32: Vec<i32>,
        bias: Vec<i64>,
        weights_f64: Vec<f64>,
        bias_f64: Vec<f64>,
        formats: DenseFormats,
    },
    Relu(Format, Format),
    Linear(Format, Format),
    Sigmoid {
        input: Format,
        table_fmt: Format,
        result: Format,
        table: Vec<i128>,
    },
    Softmax {
        formats: SoftmaxFormats,
        exp_table: Vec<i128>,
        inv_table: Vec<i128>,
    },
}

/// Where in the model file a value sits, for error messages like `layers[2].precision.accum`.
struct At<'a> {
    file: &'a Path,
    path: String,
}

impl At<'_> {
    fn field(&self, name: &str) -> At<'_> {
        At {
            file: self.file,
            path: if self.path.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", self.path)
            },
        }
    }

    fn index(&self, i: usize) -> At<'_> {
        At {
            file: self.file,
            path: format!("{}[{i}]", self.path),
        }
    }

    fn err(&self, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("{}: {}: {msg}", self.file.display(), self.path)
    }

    fn get<'v>(&self, v: &'v Value, name: &str) -> Result<&'v Value> {
        v.get(name)
            .ok_or_else(|| self.field(name).err("missing field"))
    }

    fn format(&self, v: &Value) -> Result<Format> {
        let s = v
            .as_str()
            .ok_or_else(|| self.err("expected a precision string like \"ap_fixed<16,6>\""))?;
        Format::parse(s).map_err(|e| self.err(format!("bad precision \"{s}\": {e}")))
    }

    fn precision(&self, layer: &Value, name: &str, default: Option<Format>) -> Result<Format> {
        let p = self.field("precision");
        match layer.get("precision").and_then(|p| p.get(name)) {
            Some(v) => p.field(name).format(v),
            None => default.ok_or_else(|| p.field(name).err("missing field")),
        }
    }

    fn table_size(&self, layer: &Value, name: &str, default: u64) -> Result<usize> {
        let at = self.field(name);
        let n = match layer.get(name) {
            None => default,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| at.err("expected a positive integer"))?,
        };
        if !n.is_power_of_two() || !(2..=MAX_TABLE_SIZE).contains(&n) {
            return Err(at.err(format!(
                "table size {n} must be a power of two in 2..={MAX_TABLE_SIZE}"
            )));
        }
        Ok(n as usize)
    }

    fn numbers(&self, v: &Value, len: usize) -> Result<Vec<f64>> {
        let a = v.as_array().ok_or_else(|| self.err("expected an array"))?;
        if a.len() != len {
            return Err(self.err(format!("expected {len} values, found {}", a.len())));
        }
        a.iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64()
                    .ok_or_else(|| self.index(i).err("expected a number"))
            })
            .collect()
    }
}

/// hls4ml's default table type of sigmoid, `ap_fixed<18,8>`.
const SIGMOID_TABLE: Format = Format::fixed(18, 8);

/// hls4ml's default softmax table types, `ap_fixed<18,8,AP_RND,AP_SAT>`.
const SOFTMAX_TABLE: Format = Format::fixed(18, 8).with_modes(Rounding::Rnd, Overflow::Sat);

/// The platform `expf` (glibc on Linux), the one hls4ml's C++ tables call.
pub fn platform_expf(x: f32) -> f32 {
    x.exp()
}

impl Model {
    /// Reads and checks a model file; tables are built with `expf`.
    pub fn load(path: &Path, decimal_weights: bool, expf: Expf) -> Result<Model> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?;
        Model::from_json(path, &v, decimal_weights, expf)
    }

    /// Checks and builds a model from parsed JSON; `path` names the file in errors.
    pub fn from_json(path: &Path, v: &Value, decimal_weights: bool, expf: Expf) -> Result<Model> {
        let root = At {
            file: path,
            path: String::new(),
        };
        let input = root
            .field("input_precision")
            .format(root.get(v, "input_precision")?)?;
        let layers_at = root.field("layers");
        let arr = root
            .get(v, "layers")?
            .as_array()
            .ok_or_else(|| layers_at.err("expected an array"))?;
        let mut fmt = input;
        let mut width: Option<usize> = None;
        let mut n_in = None;
        let mut layers = Vec::with_capacity(arr.len());
        for (li, lv) in arr.iter().enumerate() {
            let at = layers_at.index(li);
            let ty = at
                .get(lv, "type")?
                .as_str()
                .ok_or_else(|| at.field("type").err("expected a string"))?;
            let layer = match ty {
                "dense" => {
                    let formats = DenseFormats {
                        input: fmt,
                        weight: at.precision(lv, "weight", None)?,
                        bias: at.precision(lv, "bias", None)?,
                        accum: at.precision(lv, "accum", None)?,
                        result: at.precision(lv, "result", None)?,
                    };
                    for (name, f) in [("weight", formats.weight), ("bias", formats.bias)] {
                        if !f.fits_i64() {
                            return Err(at.field("precision").field(name).err(
                                "ap_ufixed<64,…> weights and biases are not supported (W ≤ 63 unsigned)",
                            ));
                        }
                    }
                    let w_at = at.field("weights");
                    let rows = at
                        .get(lv, "weights")?
                        .as_array()
                        .ok_or_else(|| w_at.err("expected an array of rows [n_in][n_out]"))?;
                    if let Some(w) = width {
                        if rows.len() != w {
                            return Err(w_at.err(format!(
                                "expected {w} rows (the width of the previous layer), found {}",
                                rows.len()
                            )));
                        }
                    }
                    if rows.is_empty() {
                        return Err(w_at.err("no rows"));
                    }
                    let n_out = rows[0].as_array().map_or(0, Vec::len);
                    if n_out == 0 {
                        return Err(w_at.index(0).err("expected a non-empty array"));
                    }
                    let mut weights_f64 = Vec::with_capacity(rows.len() * n_out);
                    for (i, r) in rows.iter().enumerate() {
                        weights_f64.extend(w_at.index(i).numbers(r, n_out)?);
                    }
                    let bias_f64 = at.field("bias").numbers(at.get(lv, "bias")?, n_out)?;
                    let q = |f: &Format, x: f64| quantize_weight(f, x, decimal_weights);
                    let weights: Vec<i64> =
                        weights_f64.iter().map(|&x| q(&formats.weight, x)).collect();
                    let weights_i32 = if formats.weight.width() <= 32 {
                        weights.iter().map(|&w| w as i32).collect()
                    } else {
                        Vec::new()
                    };
                    let bias = bias_f64.iter().map(|&x| q(&formats.bias, x)).collect();
                    n_in = n_in.or(Some(rows.len()));
                    width = Some(n_out);
                    OwnedLayer::Dense {
                        n_in: rows.len(),
                        n_out,
                        weights,
                        weights_i32,
                        bias,
                        weights_f64,
                        bias_f64,
                        formats,
                    }
                }
                "relu" => OwnedLayer::Relu(fmt, at.precision(lv, "result", None)?),
                "linear" => OwnedLayer::Linear(fmt, at.precision(lv, "result", None)?),
                "sigmoid" => {
                    let n = at.table_size(lv, "table_size", 1024)?;
                    let table_fmt = at.precision(lv, "table", Some(SIGMOID_TABLE))?;
                    let mut table = vec![0; n];
                    nn::sigmoid_table(&table_fmt, expf, &mut table);
                    OwnedLayer::Sigmoid {
                        input: fmt,
                        table_fmt,
                        result: at.precision(lv, "result", None)?,
                        table,
                    }
                }
                "softmax" => {
                    let formats = SoftmaxFormats {
                        input: fmt,
                        exp_table: at.precision(lv, "exp_table", Some(SOFTMAX_TABLE))?,
                        inv_table: at.precision(lv, "inv_table", Some(SOFTMAX_TABLE))?,
                        inv_input: at.precision(lv, "inv_input", Some(SOFTMAX_TABLE))?,
                        accum: at.precision(lv, "accum", None)?,
                        result: at.precision(lv, "result", None)?,
                    };
                    let n_exp = at.table_size(lv, "exp_table_size", 1024)?;
                    let n_inv = at.table_size(lv, "inv_table_size", 1024)?;
                    let norm_w = formats.norm().width();
                    if fmt.signed() && fmt.width() < 2 || n_exp > 1usize << norm_w.min(40) {
                        return Err(at.field("exp_table_size").err(format!(
                            "{n_exp} entries need more index bits than the normalised input {} has",
                            formats.norm()
                        )));
                    }
                    if n_inv > 1usize << formats.inv_input.width().min(40) {
                        return Err(at.field("inv_table_size").err(format!(
                            "{n_inv} entries need more index bits than inv_input {} has",
                            formats.inv_input
                        )));
                    }
                    let mut exp_table = vec![0; n_exp];
                    nn::softmax_exp_table(&formats, expf, &mut exp_table);
                    let mut inv_table = vec![0; n_inv];
                    nn::softmax_inv_table(&formats, &mut inv_table);
                    OwnedLayer::Softmax {
                        formats,
                        exp_table,
                        inv_table,
                    }
                }
                other => {
                    return Err(at.field("type").err(format!(
                        "unknown layer type \"{other}\" (expected dense, relu, linear, sigmoid or softmax)"
                    )))
                }
            };
            fmt = layer.result();
            layers.push(layer);
        }
        Ok(Model {
            input,
            n_in,
            layers,
        })
    }

    /// The fixed-point layers, borrowing this model's weights and tables.
    pub fn layers(&self) -> Vec<Layer<'_>> {
        self.layers
            .iter()
            .map(|l| match l {
                OwnedLayer::Dense {
                    n_in,
                    n_out,
                    weights,
                    weights_i32,
                    bias,
                    formats,
                    ..
                } => Layer::Dense(Dense {
                    n_in: *n_in,
                    n_out: *n_out,
                    weights,
                    weights_i32,
                    bias,
                    formats: *formats,
                }),
                OwnedLayer::Relu(input, result) => Layer::Relu {
                    input: *input,
                    result: *result,
                },
                OwnedLayer::Linear(input, result) => Layer::Linear {
                    input: *input,
                    result: *result,
                },
                OwnedLayer::Sigmoid {
                    input,
                    table_fmt,
                    result,
                    table,
                } => Layer::Sigmoid(Sigmoid {
                    input: *input,
                    table_fmt: *table_fmt,
                    result: *result,
                    table,
                }),
                OwnedLayer::Softmax {
                    formats,
                    exp_table,
                    inv_table,
                } => Layer::Softmax(Softmax {
                    formats: *formats,
                    exp_table,
                    inv_table,
                }),
            })
            .collect()
    }

    /// The float64 reference layers (unquantized weights).
    pub fn float_layers(&self) -> Vec<FloatLayer<'_>> {
        self.layers
            .iter()
            .map(|l| match l {
                OwnedLayer::Dense {
                    n_out,
                    weights_f64,
                    bias_f64,
                    ..
                } => FloatLayer::Dense {
                    n_out: *n_out,
                    weights: weights_f64,
                    bias: bias_f64,
                },
                OwnedLayer::Relu(..) => FloatLayer::Relu,
                OwnedLayer::Linear(..) => FloatLayer::Linear,
                OwnedLayer::Sigmoid { .. } => FloatLayer::Sigmoid,
                OwnedLayer::Softmax { .. } => FloatLayer::Softmax,
            })
            .collect()
    }

    /// Length of the work buffers a forward pass needs: the widest layer.
    pub fn buffer_len(&self, n_in: usize) -> usize {
        self.layers.iter().fold(n_in, |m, l| match l {
            OwnedLayer::Dense { n_out, .. } => m.max(*n_out),
            _ => m,
        })
    }
}

impl OwnedLayer {
    fn result(&self) -> Format {
        match self {
            OwnedLayer::Dense { formats, .. } => formats.result,
            OwnedLayer::Relu(_, r) | OwnedLayer::Linear(_, r) => *r,
            OwnedLayer::Sigmoid { result, .. } => *result,
            OwnedLayer::Softmax { formats, .. } => formats.result,
        }
    }
}

/// Quantizes one weight: exactly from the double, or (hls4ml's C++ path, spec §2) through the
/// decimal string `'{:.Kf}'` with K = max(0, F), read back as a double.
pub fn quantize_weight(f: &Format, x: f64, decimal: bool) -> i64 {
    let x = if decimal {
        let k = f.frac_bits().max(0) as usize;
        // Rust's `{:.K}` rounds the exact binary value half to even, as Python's does.
        format!("{x:.k$}").parse().unwrap_or(x)
    } else {
        x
    };
    // JSON numbers are finite, and `fits_i64` was checked, so neither step can fail.
    f.from_f64(x).unwrap_or(0) as i64
}

/// Reads a rows file `{"inputs": [[...], ...]}`, checking each row has `n_in` values when given.
pub fn read_rows(path: &Path, n_in: Option<usize>) -> Result<Vec<Vec<f64>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let root = At {
        file: path,
        path: String::new(),
    };
    let at = root.field("inputs");
    let rows = root
        .get(&v, "inputs")?
        .as_array()
        .ok_or_else(|| at.err("expected an array of rows"))?;
    let n = n_in.unwrap_or_else(|| rows.first().and_then(Value::as_array).map_or(0, Vec::len));
    rows.iter()
        .enumerate()
        .map(|(i, r)| at.index(i).numbers(r, n))
        .collect()
}

/// Runs the model on every row: fixed point (exact output values) or the float64 reference.
pub fn run_rows(model: &Model, rows: &[Vec<f64>], float: bool) -> Result<Vec<Vec<f64>>> {
    let n_in = rows.first().map_or(0, Vec::len);
    let len = model.buffer_len(n_in);
    if float {
        let layers = model.float_layers();
        return Ok(rows
            .par_iter()
            .map(|r| {
                let (mut buf, mut out) = (vec![0.0; len], vec![0.0; len]);
                let n = nn::forward_f64(&layers, r, &mut buf, &mut out);
                out.truncate(n);
                out
            })
            .collect());
    }
    let layers = model.layers();
    rows.par_iter()
        .enumerate()
        .map(|(i, r)| {
            let (mut a, mut b, mut out) = (vec![0; len], vec![0; len], vec![0.0; len]);
            match nn::forward(&model.input, &layers, r, &mut a, &mut b, &mut out) {
                Some(n) => {
                    out.truncate(n);
                    Ok(out)
                }
                None => bail!("inputs[{i}]: NaN input"),
            }
        })
        .collect()
}

/// Runs `jettrellis tag`.
pub fn run(args: &Args) -> Result<()> {
    let model = Model::load(&args.model, args.hls4ml_decimal_weights, platform_expf)?;
    let rows = read_rows(&args.inputs, model.n_in)?;
    let outputs = run_rows(&model, &rows, args.float)?;
    io::write_output(args.output.as_deref(), |w: &mut dyn Write| {
        serde_json::to_writer(&mut *w, &serde_json::json!({ "outputs": outputs }))?;
        writeln!(w)?;
        Ok(())
    })
}
