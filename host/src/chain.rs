//! The end-to-end design: constituents → clustering datapath → jet features
//! (`jettrellis_core::fixed::features`) → cast to the tagger's input format → tagger → scores,
//! in one Verilog top; and its golden model, the same chain in core.
//!
//! The tagger runs with reuse factor 1 behind the datapath (a new jet every F cycles is at most
//! one row per cycle). Its outputs are the ports `score_0 …` (mantissas of the last layer's
//! result format), valid with the datapath's other outputs.

use crate::tag::Model;
use anyhow::{anyhow, bail, Result};
use jettrellis_core::apfixed::Format;
use jettrellis_core::fixed::features::{self, feature_format, FEATURES};
use jettrellis_core::fixed::{Design, FixedResult, FixedTrellis};
use jettrellis_core::nn::{self, Layer};
use jettrellis_hdl::ir::{Builder, V};
use jettrellis_hdl::tagger::{self, fx};

/// Name of score output `j`.
pub fn score_port(j: usize) -> String {
    format!("score_{j}")
}

/// Checks that `model` takes the features as its inputs and can be generated.
pub fn check(model: &Model, layers: &[Layer<'_>]) -> Result<()> {
    if let Some(n) = model.n_in {
        if n != FEATURES {
            bail!(
                "the tagger takes {n} inputs, the clustering features are {FEATURES} ({})",
                features::FEATURE_NAMES.join(", ")
            );
        }
    }
    tagger::check(&model.input, layers, FEATURES, 1).map_err(|e| anyhow!("tagger: {e}"))
}

/// The hardware tail: cast the features to the model's input format and run the tagger.
/// Errors of the tagger generator land in `err` (the datapath generator's tail cannot fail);
/// [`check`] first makes them impossible.
pub fn tail_hw<'m>(
    d: &Design,
    input: Format,
    layers: &'m [Layer<'m>],
    err: &'m mut Option<String>,
) -> impl FnMut(&mut Builder, [V; FEATURES], V) -> Vec<(String, V)> + 'm {
    let from = feature_format(d);
    let lo = features::floor_raw(d.internal.log_frac) as i128;
    move |b, f, strobe| {
        let x: Vec<V> = f
            .iter()
            .map(|&v| {
                let mut fx = fx::Fx::of(v, &from);
                fx.lo = lo;
                fx::cast(b, fx, &input).v
            })
            .collect();
        match tagger::build(b, input, layers, 1, &x, strobe) {
            Ok(t) => {
                t.y.iter()
                    .enumerate()
                    .map(|(j, &y)| (score_port(j), y))
                    .collect()
            }
            Err(e) => {
                *err = Some(e.to_string());
                Vec::new()
            }
        }
    }
}

/// The golden tail: the tagger's output mantissas for a solved jet.
pub fn tail_model(
    tr: &FixedTrellis<'_>,
    r: &FixedResult,
    input: &Format,
    layers: &[Layer<'_>],
    width: usize,
) -> Vec<i128> {
    let d = &tr.tables().design;
    let x = features::tagger_inputs(&features::features(tr, r), d, input);
    let (mut a, mut b) = (vec![0i128; width], vec![0i128; width]);
    a[..FEATURES].copy_from_slice(&x);
    nn::forward_raw(layers, FEATURES, &mut a, &mut b).to_vec()
}
