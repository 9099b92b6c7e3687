//! `jettrellis train`: fits the W-vs-QCD tagger on the clustering features (core
//! `fixed::features`) and writes it as a quantized model file for `tag`, `generate --model` and
//! the end-to-end design.
//!
//! The model is logistic regression (one Dense unit and a sigmoid): four features of one jet
//! carry little non-linear structure, and a regression is fitted exactly by Newton's method with
//! no hyper-parameters to tune. It is trained on the float features of the float trellis (the
//! physics reference) over the even-indexed jets and evaluated on the odd-indexed ones: in float
//! (float features, float weights) and in fixed point (the golden model's features, quantized
//! weights, hls4ml layer semantics), which is what the hardware computes.

use crate::jets::{read_jets, SourcedJet};
use crate::tag::{platform_expf, Model};
use crate::{design, io};
use anyhow::{anyhow, bail, Context, Result};
use jettrellis_core::apfixed::Format;
use jettrellis_core::fixed::features::{self, FEATURES, FEATURE_NAMES};
use jettrellis_core::fixed::{quantize_jet, Design, FixedTrellis, FxCell, Tables};
use jettrellis_core::nn;
use jettrellis_core::trellis::{Cell, GinkgoTrellis};
use jettrellis_core::{GinkgoParams, Momentum};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Arguments of `jettrellis train`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (what made models/ginkgo_wqcd.json: see scripts/train-wqcd):\n  jettrellis train --design configs/flow.toml --signal w.jsonl --background qcd.jsonl -o models/ginkgo_wqcd.json --summary train.json"
)]
pub struct Args {
    /// Design file (TOML): the quantization and the fixed-point features.
    #[arg(long)]
    pub design: PathBuf,
    /// Signal jets (W), JSONL or a JSON array.
    #[arg(long)]
    pub signal: PathBuf,
    /// Background jets (QCD), JSONL or a JSON array.
    #[arg(long)]
    pub background: PathBuf,
    /// Model file to write (JSON, `tag` format). Written atomically.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Summary JSON: AUCs (float, fixed), weights, jet counts. Default: stdout.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Input precision of the tagger (the cast of the features).
    #[arg(long, default_value = "ap_fixed<16,6,AP_TRN,AP_SAT>")]
    pub input_precision: String,
    /// Weight and bias precision.
    #[arg(long, default_value = "ap_fixed<16,6>")]
    pub weight_precision: String,
    /// Dense accumulator precision.
    #[arg(long, default_value = "ap_fixed<32,12>")]
    pub accum_precision: String,
    /// Dense result (the logit) precision.
    #[arg(long, default_value = "ap_fixed<16,6,AP_TRN,AP_SAT>")]
    pub logit_precision: String,
    /// Sigmoid result (the score) precision.
    #[arg(long, default_value = "ap_ufixed<16,0>")]
    pub score_precision: String,
}

/// The features of one jet, float and fixed, with its class.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Float features of the float trellis on the quantized massless leaves.
    pub float: [f64; FEATURES],
    /// Fixed-point features (raw, feature format).
    pub fixed: [i64; FEATURES],
    /// 1 for signal.
    pub label: u8,
}

/// The features of `leaves` under `tables`' design.
pub fn jet_features(
    leaves: &[Momentum],
    tables: &Tables,
    cells: &mut [FxCell],
    fcells: &mut Vec<Cell>,
) -> Result<([f64; FEATURES], [i64; FEATURES])> {
    let d = &tables.design;
    let q = quantize_jet(leaves, d).map_err(|e| anyhow!("{e}"))?;
    let mut fx = FixedTrellis::new(tables, cells).map_err(|e| anyhow!("{e}"))?;
    let r = fx.solve(&q.jet);
    let fixed = features::features(&fx, &r);
    let massless: Vec<Momentum> = (0..q.n).map(|k| q.jet.momentum(k, d)).collect();
    if fcells.len() < 1 << massless.len() {
        fcells.resize(1 << massless.len(), Cell::default());
    }
    let params = GinkgoParams {
        lambda: d.lambda,
        lambda_root: d.lambda_root,
        t_cut: d.t_cut,
    };
    let mut tr = GinkgoTrellis::new(&massless, params, fcells).map_err(|e| anyhow!("{e}"))?;
    tr.solve();
    Ok((features::features_f64(&tr), fixed))
}

/// Features of every jet of both files, in parallel.
pub fn samples(
    signal: &[SourcedJet],
    background: &[SourcedJet],
    t: &Tables,
) -> Result<Vec<Sample>> {
    let all: Vec<(&SourcedJet, u8)> = signal
        .iter()
        .map(|j| (j, 1))
        .chain(background.iter().map(|j| (j, 0)))
        .collect();
    let pb = io::progress(all.len() as u64, "features");
    let cells = FixedTrellis::cells_needed(t.design.max_leaves);
    let out = all
        .par_iter()
        .map_init(
            || (vec![FxCell::default(); cells], Vec::new()),
            |(c, fc), (j, label)| {
                pb.inc(1);
                let (float, fixed) = jet_features(&j.jet.leaves, t, c, fc)
                    .map_err(|e| anyhow!("jet {} (line {}): {e:#}", j.output_id(), j.line))?;
                Ok(Sample {
                    float,
                    fixed,
                    label: *label,
                })
            },
        )
        .collect();
    pb.finish_and_clear();
    out
}

/// Logistic regression by Newton's method: weights (one per feature) then the bias. A small
/// ridge term keeps the Hessian invertible when classes separate on some feature.
pub fn fit_logistic(x: &[[f64; FEATURES]], y: &[u8]) -> [f64; FEATURES + 1] {
    const P: usize = FEATURES + 1;
    const RIDGE: f64 = 1e-6;
    let mut w = [0.0; P];
    let row = |r: &[f64; FEATURES]| {
        let mut v = [1.0; P];
        v[..FEATURES].copy_from_slice(r);
        v
    };
    for _ in 0..50 {
        let mut g = [0.0; P];
        let mut h = [[0.0; P]; P];
        for (r, &label) in x.iter().zip(y) {
            let v = row(r);
            let z: f64 = v.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let s = p * (1.0 - p);
            for i in 0..P {
                g[i] += (p - label as f64) * v[i];
                for j in 0..P {
                    h[i][j] += s * v[i] * v[j];
                }
            }
        }
        let n = x.len().max(1) as f64;
        for (i, (gi, hi)) in g.iter_mut().zip(h.iter_mut()).enumerate() {
            *gi = *gi / n + RIDGE * w[i];
            hi.iter_mut().for_each(|x| *x /= n);
            hi[i] += RIDGE;
        }
        let step = solve(h, g);
        let mut change: f64 = 0.0;
        for i in 0..P {
            w[i] -= step[i];
            change = change.max(step[i].abs());
        }
        if change < 1e-12 {
            break;
        }
    }
    w
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (a is symmetric positive
/// definite here, so a pivot is never zero).
fn solve<const P: usize>(mut a: [[f64; P]; P], mut b: [f64; P]) -> [f64; P] {
    for c in 0..P {
        let p = (c..P)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c];
        for r in c + 1..P {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; P];
    for c in (0..P).rev() {
        let s: f64 = (c + 1..P).map(|k| a[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x
}

/// ROC AUC (Mann–Whitney; tied scores count one half).
pub fn auc(scores: &[f64], labels: &[u8]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mean = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean * idx[i..j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j;
    }
    let pos = labels.iter().filter(|&&l| l == 1).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// The model file of a fitted regression.
pub fn model_json(w: &[f64; FEATURES + 1], args: &Args) -> Value {
    json!({
        "description": "W vs QCD logistic regression on the clustering features",
        "features": FEATURE_NAMES,
        "input_precision": args.input_precision,
        "layers": [
            {
                "type": "dense",
                "weights": w[..FEATURES].iter().map(|&x| [x]).collect::<Vec<_>>(),
                "bias": [w[FEATURES]],
                "precision": {
                    "weight": args.weight_precision,
                    "bias": args.weight_precision,
                    "accum": args.accum_precision,
                    "result": args.logit_precision
                }
            },
            {
                "type": "sigmoid",
                "table_size": 1024,
                "precision": {"table": "ap_fixed<18,8>", "result": args.score_precision}
            }
        ]
    })
}

/// The fixed-point score of one jet's features: cast to the input format, then the model.
pub fn fixed_score(
    model: &Model,
    layers: &[nn::Layer<'_>],
    d: &Design,
    f: &[i64; FEATURES],
) -> f64 {
    let x = features::tagger_inputs(f, d, &model.input);
    let from = model.input;
    let rows: Vec<f64> = x.iter().map(|&m| from.to_f64(m)).collect();
    let len = model.buffer_len(FEATURES);
    let (mut a, mut b, mut out) = (vec![0; len], vec![0; len], vec![0.0; len]);
    // The mantissas are exact in f64 (≤ 64 bits wide is checked on load), so the model's input
    // cast reproduces them.
    nn::forward(&model.input, layers, &rows, &mut a, &mut b, &mut out).map_or(f64::NAN, |_| out[0])
}

fn check_format(name: &str, s: &str) -> Result<()> {
    Format::parse(s)
        .map(|_| ())
        .map_err(|e| anyhow!("--{name}: bad precision {s:?}: {e}"))
}

/// Runs `jettrellis train`.
pub fn run(args: &Args) -> Result<()> {
    for (n, s) in [
        ("input-precision", &args.input_precision),
        ("weight-precision", &args.weight_precision),
        ("accum-precision", &args.accum_precision),
        ("logit-precision", &args.logit_precision),
        ("score-precision", &args.score_precision),
    ] {
        check_format(n, s)?;
    }
    let d = design::read(&args.design)?;
    let tables = Box::new(Tables::new(&d).map_err(|e| anyhow!("{}: {e}", args.design.display()))?);
    let sig = read_jets(&args.signal)?;
    let bkg = read_jets(&args.background)?;
    if sig.is_empty() || bkg.is_empty() {
        bail!(
            "need signal and background jets (found {} and {})",
            sig.len(),
            bkg.len()
        );
    }
    let all = samples(&sig, &bkg, &tables)?;
    let (train, test): (Vec<_>, Vec<_>) = all.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let x: Vec<[f64; FEATURES]> = train.iter().map(|(_, s)| s.float).collect();
    let y: Vec<u8> = train.iter().map(|(_, s)| s.label).collect();
    let w = fit_logistic(&x, &y);
    let model_v = model_json(&w, args);
    io::write_atomic(&args.output, |f| {
        serde_json::to_writer_pretty(&mut *f, &model_v)?;
        writeln!(f)?;
        Ok(())
    })?;
    let model = Model::from_json(&args.output, &model_v, false, platform_expf)
        .context("reading back the written model")?;
    let layers = model.layers();
    let labels: Vec<u8> = test.iter().map(|(_, s)| s.label).collect();
    let float: Vec<f64> = test
        .iter()
        .map(|(_, s)| {
            let z = w[FEATURES] + s.float.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            1.0 / (1.0 + (-z).exp())
        })
        .collect();
    let fixed: Vec<f64> = test
        .iter()
        .map(|(_, s)| fixed_score(&model, &layers, &d, &s.fixed))
        .collect();
    let summary = summary_json(args, &all, &w, auc(&float, &labels), auc(&fixed, &labels));
    eprintln!(
        "train: {} signal + {} background jets; test AUC float {:.4}, fixed {:.4}; model {}",
        sig.len(),
        bkg.len(),
        summary["auc_float"].as_f64().unwrap_or(f64::NAN),
        summary["auc_fixed"].as_f64().unwrap_or(f64::NAN),
        args.output.display()
    );
    io::write_output(args.summary.as_deref(), |w| {
        serde_json::to_writer_pretty(&mut *w, &summary)?;
        writeln!(w)?;
        Ok(())
    })
}

fn summary_json(args: &Args, all: &[Sample], w: &[f64; FEATURES + 1], fl: f64, fx: f64) -> Value {
    let per_feature: Vec<Value> = (0..FEATURES)
        .map(|k| {
            let s: Vec<f64> = all.iter().map(|s| s.float[k]).collect();
            let l: Vec<u8> = all.iter().map(|s| s.label).collect();
            json!({"name": FEATURE_NAMES[k], "weight": w[k], "auc_alone": auc(&s, &l)})
        })
        .collect();
    json!({
        "model": path_str(&args.output),
        "signal": path_str(&args.signal),
        "background": path_str(&args.background),
        "jets": all.len(),
        "test_jets": all.len() / 2,
        "features": per_feature,
        "bias": w[FEATURES],
        "auc_float": fl,
        "auc_fixed": fx,
    })
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half_and_orders() {
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &[0, 0, 1, 1]), 1.0);
        assert_eq!(auc(&[0.4, 0.3, 0.2, 0.1], &[0, 0, 1, 1]), 0.0);
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[0, 1, 0, 1]), 0.5);
        assert_eq!(auc(&[0.1, 0.5, 0.5, 0.9], &[0, 0, 1, 1]), 0.875);
    }

    #[test]
    fn logistic_fit_recovers_a_known_model() {
        // Labels drawn from p = σ(2 a − b + 0.5): the fit lands near the truth.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let a: f64 = rng.random_range(-2.0..2.0);
            let b: f64 = rng.random_range(-2.0..2.0);
            let p = 1.0 / (1.0 + (-(2.0 * a - b + 0.5)).exp());
            x.push([a, b, 0.0, rng.random_range(-1.0..1.0)]);
            y.push(u8::from(rng.random_range(0.0..1.0) < p));
        }
        let w = fit_logistic(&x, &y);
        assert!(
            (w[0] - 2.0).abs() < 0.25 && (w[1] + 1.0).abs() < 0.2,
            "{w:?}"
        );
    }
}
