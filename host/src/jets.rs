//! The jets file format (DESIGN §5): JSONL, one jet per line, or a `.json` array of the same
//! objects (the reference file is one). Unknown fields are ignored; every error names the file,
//! the line and the field.

use anyhow::{bail, Context, Result};
use jettrellis_core::fixed::{quantize_jet, Design, FixedJet};
use jettrellis_core::{ginkgo::mass2, GinkgoParams, Momentum};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The truth a generator attaches to a jet.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    /// The generating tree, as nested two-element arrays of leaf indices.
    pub tree: serde_json::Value,
    /// Its log-likelihood under the jet's own parameters.
    pub llh: f64,
}

/// One jet as stored in a jets file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Jet {
    /// The jet's identifier (any JSON value); outputs use the 0-based index when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// Leaf four-momenta `[E, px, py, pz]` in GeV.
    pub leaves: Vec<Momentum>,
    /// λ for this jet (overrides the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// λ at the root for this jet (overrides the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_root: Option<f64>,
    /// t_cut for this jet (overrides the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_cut: Option<f64>,
    /// Generator truth, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<Truth>,
}

/// A jet with where it came from, for error messages.
#[derive(Clone, Debug)]
pub struct SourcedJet {
    /// The jet.
    pub jet: Jet,
    /// 0-based position in the file.
    pub index: usize,
    /// 1-based line on which the jet starts.
    pub line: usize,
}

impl SourcedJet {
    /// The identifier to write in outputs: the jet's `id`, else its index.
    pub fn output_id(&self) -> serde_json::Value {
        self.jet.id.clone().unwrap_or_else(|| self.index.into())
    }

    /// The likelihood parameters: the jet's own where given, else `defaults`.
    pub fn params(&self, defaults: &GinkgoParams) -> GinkgoParams {
        GinkgoParams {
            lambda: self.jet.lambda.unwrap_or(defaults.lambda),
            lambda_root: self.jet.lambda_root.unwrap_or(defaults.lambda_root),
            t_cut: self.jet.t_cut.unwrap_or(defaults.t_cut),
        }
    }
}

/// The Ginkgo likelihood flags shared by every command that scores trees; a jet's own
/// `lambda`, `lambda_root` and `t_cut` override them.
#[derive(Clone, Debug, clap::Args)]
pub struct LikelihoodArgs {
    /// λ of every split below the root (a jet's own `lambda` overrides it).
    #[arg(long, default_value_t = 1.5)]
    pub lambda: f64,
    /// λ of the root split (a jet's own `lambda_root` overrides it).
    #[arg(long, default_value_t = 1.5)]
    pub lambda_root: f64,
    /// Mass² cut in GeV² (a jet's own `t_cut` overrides it).
    #[arg(long, default_value_t = 16.0)]
    pub t_cut: f64,
}

impl LikelihoodArgs {
    /// The parameters, checked.
    pub fn params(&self) -> Result<GinkgoParams> {
        let p = GinkgoParams {
            lambda: self.lambda,
            lambda_root: self.lambda_root,
            t_cut: self.t_cut,
        };
        p.validate()
            .map_err(|e| anyhow::anyhow!("command line: {e}"))?;
        Ok(p)
    }
}

/// How far below zero `E² − |p|²` may fall, relative to `E²`, before a leaf is called
/// unphysical: float rounding of a massless leaf stays far inside it.
pub const MASS_TOLERANCE: f64 = 1e-9;

/// Reads a jets file (JSONL, or a JSON array when the name ends in `.json` or the content starts
/// with `[`), checking every leaf.
pub fn read_jets(path: &Path) -> Result<Vec<SourcedJet>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let trimmed = text.trim_start();
    let jets = if trimmed.starts_with('[') {
        parse_array(&name, &text)?
    } else {
        parse_lines(&name, &text)?
    };
    for j in &jets {
        check_jet(&name, j)?;
    }
    Ok(jets)
}

/// The jets of `path` (read by [`read_jets`]) quantized for `design`; an error names the file,
/// the jet's line and the field.
pub fn quantized(path: &Path, jets: &[SourcedJet], design: &Design) -> Result<Vec<FixedJet>> {
    jets.iter()
        .map(|j| {
            quantize_jet(&j.jet.leaves, design)
                .map(|q| q.jet)
                .map_err(|e| anyhow::anyhow!("{}:{}: field `{e}`", path.display(), j.line))
        })
        .collect()
}

fn parse_lines(name: &str, text: &str) -> Result<Vec<SourcedJet>> {
    let mut out = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let jet = parse_jet(&mut serde_json::Deserializer::from_str(raw))
            .map_err(|e| anyhow::anyhow!("{name}:{}: {e}", k + 1))?;
        out.push(SourcedJet {
            jet,
            index: out.len(),
            line: k + 1,
        });
    }
    Ok(out)
}

fn parse_array(name: &str, text: &str) -> Result<Vec<SourcedJet>> {
    let bytes = text.as_bytes();
    let line_at = |pos: usize| 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count();
    let skip_ws = |mut p: usize| {
        while p < bytes.len() && bytes[p].is_ascii_whitespace() {
            p += 1;
        }
        p
    };
    let mut pos = skip_ws(0) + 1;
    let mut out = Vec::new();
    loop {
        pos = skip_ws(pos);
        match bytes.get(pos) {
            Some(b']') => break,
            None => bail!("{name}:{}: the JSON array is not closed", line_at(pos)),
            _ => {}
        }
        let start_line = line_at(pos);
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<serde_json::Value>();
        let jet = match stream.next() {
            Some(Ok(v)) => parse_jet(v).map_err(|e| anyhow::anyhow!("{name}:{start_line}: {e}"))?,
            Some(Err(e)) => bail!(
                "{name}:{}: {}",
                start_line + e.line().saturating_sub(1),
                without_position(e.to_string())
            ),
            None => bail!("{name}:{start_line}: expected a jet object"),
        };
        pos += stream.byte_offset();
        out.push(SourcedJet {
            jet,
            index: out.len(),
            line: start_line,
        });
        pos = skip_ws(pos);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => break,
            _ => bail!("{name}:{}: expected ',' or ']' after a jet", line_at(pos)),
        }
    }
    Ok(out)
}

/// Deserializes one jet, naming the field (`leaves[1][0]`) of a type error.
fn parse_jet<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Jet, String>
where
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        let msg = without_position(e.into_inner().to_string());
        if path == "." {
            msg
        } else {
            format!("field `{path}`: {msg}")
        }
    })
}

/// serde_json appends " at line L column C"; we print our own file line instead.
fn without_position(msg: String) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Checks a jet's leaves and parameter overrides; errors name file, line and field.
pub fn check_jet(name: &str, j: &SourcedJet) -> Result<()> {
    let at = format!("{name}:{}", j.line);
    if j.jet.leaves.is_empty() {
        bail!("{at}: field `leaves`: the jet has no leaves");
    }
    for (i, p) in j.jet.leaves.iter().enumerate() {
        const NAMES: [&str; 4] = ["E", "px", "py", "pz"];
        for (c, v) in p.iter().enumerate() {
            if !v.is_finite() {
                bail!(
                    "{at}: field `leaves[{i}][{c}]` ({}): {v} is not finite",
                    NAMES[c]
                );
            }
        }
        if p[0] < 0.0 {
            bail!("{at}: field `leaves[{i}]`: negative energy E = {}", p[0]);
        }
        let m2 = mass2(p);
        if m2 < -MASS_TOLERANCE * p[0] * p[0] {
            bail!(
                "{at}: field `leaves[{i}]`: E < |p| (E = {}, E² − |p|² = {m2:e}), beyond rounding",
                p[0]
            );
        }
    }
    for (field, v) in [
        ("lambda", j.jet.lambda),
        ("lambda_root", j.jet.lambda_root),
        ("t_cut", j.jet.t_cut),
    ] {
        if let Some(v) = v {
            let ok = if field == "t_cut" {
                v.is_finite() && v >= 0.0
            } else {
                v.is_finite() && v > 0.0
            };
            if !ok {
                bail!("{at}: field `{field}`: {v} is out of range");
            }
        }
    }
    Ok(())
}
