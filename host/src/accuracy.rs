//! `jettrellis accuracy`: the fixed-point golden model against the float trellis on the same
//! quantized massless inputs, plus the effect of the massless approximation itself.

use crate::jets::{read_jets, SourcedJet};
use crate::{design, io};
use anyhow::{anyhow, bail, Result};
use jettrellis_core::fixed::model::to_f64;
use jettrellis_core::fixed::{
    input::QuantReport, quantize_jet, Design, FixedTrellis, FxCell, Overflows, Stage, Tables,
};
use jettrellis_core::trellis::{Cell, GinkgoTrellis};
use jettrellis_core::{tree, GinkgoParams, Mask, Momentum};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Arguments of `jettrellis accuracy`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis accuracy --design configs/default.toml --jets data/ginkgo_reference.json -o summary.json --plots plots/ --sweep internal.log_frac=10..18"
)]
pub struct Args {
    /// Design file (TOML).
    #[arg(long)]
    pub design: PathBuf,
    /// Jets file: JSONL (one jet per line) or a JSON array.
    #[arg(long)]
    pub jets: PathBuf,
    /// Summary JSON (default: stdout). Written atomically.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Directory for SVG plots (histograms of Δ log Z and Δ MAP; accuracy vs the swept key).
    #[arg(long)]
    pub plots: Option<PathBuf>,
    /// Sweep an integer design key over an inclusive range, e.g. `internal.log_frac=10..18`.
    #[arg(long)]
    pub sweep: Option<String>,
}

/// The comparison of one jet.
#[derive(Clone, Debug, Default)]
pub struct JetAccuracy {
    /// Valid leaves after quantization.
    pub n: usize,
    /// Fixed log Z − float log Z (None when either is −∞).
    pub dlogz: Option<f64>,
    /// Fixed MAP value − float MAP value (None when either is −∞).
    pub dmap: Option<f64>,
    /// Whether both MAP trees are the same (also true when neither exists).
    pub same_tree: bool,
    /// Float MAP value minus the float llh of the fixed MAP tree (≥ 0; 0 when identical; +∞
    /// when the fixed tree has a cluster that the float model puts below t_cut).
    pub llh_gap: f64,
    /// Whether the tree counts agree.
    pub same_count: bool,
    /// Saturations of the fixed model.
    pub overflows: Overflows,
    /// Quantization saturations and drops.
    pub quant: QuantReport,
    /// Float on the quantized massless leaves minus float on the original leaves: (Δ log Z,
    /// Δ MAP, same tree), when no leaf was dropped.
    pub massless: Option<(f64, f64, bool)>,
    /// Float on the unquantized massless leaves minus float on the original leaves (the
    /// massless approximation alone), same layout.
    pub massless_exact: Option<(f64, f64, bool)>,
}

/// log Z, MAP value, tree count and MAP tree (inner nodes, sorted) of the float trellis.
type FloatSolution = (f64, f64, u128, Vec<(Mask, Mask)>);

fn solve_float(
    leaves: &[Momentum],
    params: GinkgoParams,
    cells: &mut Vec<Cell>,
) -> Result<FloatSolution> {
    let n = leaves.len();
    if cells.len() < (1 << n) {
        cells.resize(1 << n, Cell::default());
    }
    let mut tr = GinkgoTrellis::new(leaves, params, cells).map_err(|e| anyhow!("{e}"))?;
    tr.solve();
    let r = tr.result();
    let mut nodes = vec![(0, 0); n.saturating_sub(1)];
    let k = tr.map_tree(&mut nodes).unwrap_or(0);
    nodes.truncate(k);
    nodes.sort_unstable();
    Ok((r.log_z, r.map_llh, r.n_trees, nodes))
}

/// The massless four-momentum with the same three-momentum.
fn massless_of(p: &Momentum) -> Momentum {
    [
        (p[1] * p[1] + p[2] * p[2] + p[3] * p[3]).sqrt(),
        p[1],
        p[2],
        p[3],
    ]
}

fn diff(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite()).then_some(a - b)
}

/// Compares the fixed model and the float trellis on one jet.
pub fn evaluate_jet(
    leaves: &[Momentum],
    tables: &Tables,
    cells: &mut [FxCell],
    fcells: &mut Vec<Cell>,
) -> Result<JetAccuracy> {
    let d = &tables.design;
    let q = quantize_jet(leaves, d).map_err(|e| anyhow!("{e}"))?;
    let mut fx = FixedTrellis::new(tables, cells).map_err(|e| anyhow!("{e}"))?;
    let r = fx.solve(&q.jet);
    let g = d.internal.log_frac;
    let params = GinkgoParams {
        lambda: d.lambda,
        lambda_root: d.lambda_root,
        t_cut: d.t_cut,
    };
    let mut acc = JetAccuracy {
        n: r.n,
        overflows: r.overflows,
        quant: q.report,
        same_tree: true,
        same_count: true,
        ..JetAccuracy::default()
    };
    if r.n == 0 {
        return Ok(acc);
    }
    // Compacted slot k is input slot k (quantize_jet fills slots 0..n in order).
    let massless: Vec<Momentum> = (0..q.n).map(|k| q.jet.momentum(k, d)).collect();
    let (lz, map, count, ftree) = solve_float(&massless, params, fcells)?;
    let mut xtree = vec![(0, 0); r.n.saturating_sub(1)];
    let k = fx.map_tree(&mut xtree).unwrap_or(0);
    xtree.truncate(k);
    xtree.sort_unstable();
    acc.dlogz = diff(to_f64(r.log_z, g), lz);
    acc.dmap = diff(to_f64(r.map, g), map);
    acc.same_count = r.count as u128 == count;
    acc.same_tree = xtree == ftree;
    if !acc.same_tree && !xtree.is_empty() && map.is_finite() {
        acc.llh_gap = map - tree::llh(&massless, &params, &xtree);
    }
    if q.report.dropped_excess == 0 && q.report.dropped_zero_pt == 0 && leaves.len() > 1 {
        let (olz, omap, _, otree) = solve_float(leaves, params, fcells)?;
        // Both massless trees are over slots; map them back to original leaf indices.
        let expand =
            |m: Mask| jettrellis_core::mask::leaves(m).fold(0 as Mask, |a, s| a | 1 << q.source[s]);
        let in_original = |t: &[(Mask, Mask)]| {
            let mut t: Vec<(Mask, Mask)> = t.iter().map(|x| (expand(x.0), expand(x.1))).collect();
            t.sort_unstable();
            t
        };
        acc.massless = Some((
            diff(lz, olz).unwrap_or(0.0),
            diff(map, omap).unwrap_or(0.0),
            in_original(&ftree) == otree,
        ));
        let exact: Vec<Momentum> = (0..q.n)
            .map(|k| massless_of(&leaves[q.source[k]]))
            .collect();
        let (elz, emap, _, etree) = solve_float(&exact, params, fcells)?;
        acc.massless_exact = Some((
            diff(elz, olz).unwrap_or(0.0),
            diff(emap, omap).unwrap_or(0.0),
            in_original(&etree) == otree,
        ));
    }
    Ok(acc)
}

/// Evaluates every jet in parallel, in input order.
pub fn evaluate_all(jets: &[SourcedJet], tables: &Tables) -> Result<Vec<JetAccuracy>> {
    let cells_needed = FixedTrellis::cells_needed(tables.design.max_leaves);
    let pb = io::progress(jets.len() as u64, "accuracy");
    let out: Result<Vec<_>> = jets
        .par_iter()
        .map_init(
            || (vec![FxCell::default(); cells_needed], Vec::new()),
            |(cells, fcells), j| {
                let r = evaluate_jet(&j.jet.leaves, tables, cells, fcells)
                    .map_err(|e| anyhow!("jet {} (line {}): {e:#}", j.output_id(), j.line));
                pb.inc(1);
                r
            },
        )
        .collect();
    pb.finish_and_clear();
    out
}

/// The `q`-quantile (nearest rank) of `v`, 0 for an empty list.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let k = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    s[k]
}

fn abs_stats(prefix: &str, v: &[f64], out: &mut serde_json::Map<String, Value>) {
    let a: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    out.insert(format!("{prefix}_p50"), json!(quantile(&a, 0.5)));
    out.insert(format!("{prefix}_p99"), json!(quantile(&a, 0.99)));
    out.insert(
        format!("{prefix}_max"),
        json!(a.iter().cloned().fold(0.0, f64::max)),
    );
}

/// The summary object (keys documented in `docs/datapath.md` §Accuracy).
pub fn summarize(design_path: &Path, acc: &[JetAccuracy]) -> Value {
    let n = acc.len().max(1) as f64;
    let mut m = serde_json::Map::new();
    m.insert("design".into(), json!(design_path.display().to_string()));
    m.insert("jets".into(), json!(acc.len()));
    m.insert(
        "map_tree_identical_fraction".into(),
        json!(acc.iter().filter(|a| a.same_tree).count() as f64 / n),
    );
    m.insert(
        "count_identical_fraction".into(),
        json!(acc.iter().filter(|a| a.same_count).count() as f64 / n),
    );
    let differing: Vec<f64> = acc
        .iter()
        .filter(|a| !a.same_tree)
        .map(|a| a.llh_gap)
        .collect();
    let gaps: Vec<f64> = differing
        .iter()
        .copied()
        .filter(|g| g.is_finite())
        .collect();
    m.insert(
        "map_llh_gap_of_differing_trees".into(),
        json!({"jets": differing.len(), "infinite": differing.len() - gaps.len(),
               "p50": quantile(&gaps, 0.5), "max": gaps.iter().cloned().fold(0.0, f64::max)}),
    );
    let dz: Vec<f64> = acc.iter().filter_map(|a| a.dlogz).collect();
    let dm: Vec<f64> = acc.iter().filter_map(|a| a.dmap).collect();
    abs_stats("abs_dlogz", &dz, &mut m);
    abs_stats("abs_dmap", &dm, &mut m);
    let mut total = Overflows::default();
    for a in acc {
        total.merge(&a.overflows);
    }
    let ovf: serde_json::Map<String, Value> = Stage::ALL
        .iter()
        .map(|s| (s.name().to_string(), json!(total.get(*s))))
        .collect();
    m.insert("overflows".into(), Value::Object(ovf));
    m.insert(
        "jets_with_overflow".into(),
        json!(acc.iter().filter(|a| a.overflows.total() > 0).count()),
    );
    let mut q = QuantReport::default();
    for a in acc {
        q.merge(&a.quant);
    }
    m.insert(
        "quantization".into(),
        json!({"pt_saturated": q.pt_saturated, "eta_saturated": q.eta_saturated,
               "dropped_zero_pt": q.dropped_zero_pt, "dropped_excess": q.dropped_excess}),
    );
    for (key, pick) in [
        ("massless_quantized_vs_original", 0),
        ("massless_unquantized_vs_original", 1),
    ] {
        let ml: Vec<&(f64, f64, bool)> = acc
            .iter()
            .filter_map(|a| {
                if pick == 0 {
                    a.massless.as_ref()
                } else {
                    a.massless_exact.as_ref()
                }
            })
            .collect();
        let mz: Vec<f64> = ml.iter().map(|x| x.0).collect();
        let mm: Vec<f64> = ml.iter().map(|x| x.1).collect();
        let mut mo = serde_json::Map::new();
        mo.insert("jets".into(), json!(ml.len()));
        mo.insert(
            "map_tree_identical_fraction".into(),
            json!(ml.iter().filter(|x| x.2).count() as f64 / ml.len().max(1) as f64),
        );
        abs_stats("abs_dlogz", &mz, &mut mo);
        abs_stats("abs_dmap", &mm, &mut mo);
        m.insert(key.into(), Value::Object(mo));
    }
    let mut by_n = std::collections::BTreeMap::new();
    for a in acc {
        *by_n.entry(a.n).or_insert(0usize) += 1;
    }
    m.insert("jets_by_leaves".into(), json!(by_n));
    Value::Object(m)
}

/// Every quantity's format under `d` (`{name: {bits, signed, frac, lsb}}`).
pub fn formats(d: &Design) -> Value {
    use jettrellis_core::fixed::Quantity;
    Quantity::ALL
        .iter()
        .map(|q| {
            let f = d.format(*q);
            (
                q.name().to_string(),
                json!({"bits": f.bits, "signed": f.signed, "frac": f.frac, "lsb": f.lsb(), "unit": format!("{:?}", f.unit)}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Every ROM's depth (entries) and interpolation step.
pub fn roms(t: &Tables) -> Value {
    let mut m = serde_json::Map::new();
    for (name, l) in t.angle_roms() {
        m.insert(
            name.into(),
            json!({"entries": l.entries().len(), "step_log2": l.step_log2}),
        );
    }
    for (name, l) in t.roms() {
        m.insert(
            name.into(),
            json!({"entries": l.entries().len(), "step_log2": l.step_log2}),
        );
    }
    m.into()
}

/// Parses `KEY=a..b` (inclusive, integers).
pub fn parse_sweep(s: &str) -> Result<(String, Vec<i64>)> {
    let (key, range) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("--sweep {s}: expected KEY=a..b"))?;
    let (a, b) = range
        .split_once("..")
        .ok_or_else(|| anyhow!("--sweep {s}: expected KEY=a..b"))?;
    let a: i64 = a
        .trim()
        .parse()
        .map_err(|_| anyhow!("--sweep {s}: `{a}` is not an integer"))?;
    let b: i64 = b
        .trim()
        .parse()
        .map_err(|_| anyhow!("--sweep {s}: `{b}` is not an integer"))?;
    if b < a || b - a > 64 {
        bail!("--sweep {s}: need a <= b and at most 65 points");
    }
    if !design::keys().contains(&key.trim()) {
        bail!("--sweep {s}: unknown key `{}`", key.trim());
    }
    Ok((key.trim().to_string(), (a..=b).collect()))
}

/// Runs `jettrellis accuracy`.
pub fn run(args: &Args) -> Result<()> {
    let d = design::read(&args.design)?;
    let jets = read_jets(&args.jets)?;
    let tables = Box::new(Tables::new(&d).map_err(|e| anyhow!("{}: {e}", args.design.display()))?);
    let acc = evaluate_all(&jets, &tables)?;
    let mut summary = summarize(&args.design, &acc);
    summary["formats"] = formats(&d);
    summary["roms"] = roms(&tables);
    let mut sweep_points = Vec::new();
    if let Some(s) = &args.sweep {
        let (key, values) = parse_sweep(s)?;
        let mut rows = Vec::new();
        for v in values {
            let mut dv: Design = d;
            design::set_key(&mut dv, &key, &toml::Value::Integer(v))?;
            let t = match Tables::new(&dv) {
                Ok(t) => Box::new(t),
                Err(e) => {
                    rows.push(json!({"value": v, "error": e.to_string()}));
                    continue;
                }
            };
            let a = evaluate_all(&jets, &t)?;
            let s = summarize(&args.design, &a);
            sweep_points.push((
                v,
                s["abs_dlogz_p99"].as_f64().unwrap_or(0.0),
                s["abs_dmap_p99"].as_f64().unwrap_or(0.0),
                s["map_tree_identical_fraction"].as_f64().unwrap_or(0.0),
            ));
            rows.push(json!({"value": v, "abs_dlogz_p99": s["abs_dlogz_p99"], "abs_dmap_p99": s["abs_dmap_p99"],
                "map_tree_identical_fraction": s["map_tree_identical_fraction"], "overflows": s["overflows"]}));
        }
        summary["sweep"] = json!({"key": key, "points": rows});
    }
    if let Some(dir) = &args.plots {
        let dz: Vec<f64> = acc.iter().filter_map(|a| a.dlogz).collect();
        let dm: Vec<f64> = acc.iter().filter_map(|a| a.dmap).collect();
        crate::plots::histogram(&dir.join("dlogz.svg"), "fixed - float log Z", &dz)?;
        crate::plots::histogram(&dir.join("dmap.svg"), "fixed - float MAP llh", &dm)?;
        if let (Some(s), false) = (&args.sweep, sweep_points.is_empty()) {
            let key = s.split('=').next().unwrap_or(s);
            crate::plots::sweep(&dir.join("sweep.svg"), key, &sweep_points)?;
        }
    }
    io::write_output(args.output.as_deref(), |w| {
        serde_json::to_writer_pretty(&mut *w, &summary)?;
        writeln!(w)?;
        Ok(())
    })
}
