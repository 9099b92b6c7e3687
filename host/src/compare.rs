//! `jettrellis compare`: one table over every clustering algorithm and the generator truth:
//! mean and median log-likelihood, how often each finds the MAP tree, and the mean gap to it.

use crate::baselines::{self, canonical, score, Nodes, Options};
use crate::cluster::{self, Algo};
use crate::jets::read_jets;
use crate::{io, trees};
use anyhow::{Context, Result};
use jettrellis_core::Mask;
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `jettrellis compare`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  jettrellis shower --kind qcd --jets 1000 --seed 1 --min-leaves 5 --max-leaves 9 -o qcd.jsonl\n  jettrellis compare --jets qcd.jsonl --beam-width 10"
)]
pub struct Args {
    /// Jets file: JSONL (one jet per line) or a JSON array.
    #[arg(long)]
    pub jets: PathBuf,
    /// Beam width of the beam search.
    #[arg(long, default_value_t = baselines::DEFAULT_BEAM_WIDTH)]
    pub beam_width: usize,
    /// Radius R of kt, C/A and anti-kt.
    #[arg(long, default_value_t = baselines::DEFAULT_RADIUS)]
    pub radius: f64,
    /// Likelihood parameters.
    #[command(flatten)]
    pub likelihood: crate::jets::LikelihoodArgs,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON table to this file (atomically).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// One row of the table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// `map` (the trellis), `truth`, or a baseline's name.
    pub algo: String,
    /// Jets scored (truth: jets that carry one).
    pub jets: usize,
    /// Jets whose tree has log-likelihood −∞ (left out of the means and medians).
    pub infinite: usize,
    /// Mean log-likelihood over finite trees.
    pub mean_llh: Option<f64>,
    /// Median log-likelihood over finite trees.
    pub median_llh: Option<f64>,
    /// Fraction of jets whose tree is the MAP tree (same clusters; child order ignored).
    pub frac_map: f64,
    /// Mean of `MAP − llh` over jets with a finite MAP and tree.
    pub mean_gap: Option<f64>,
}

/// Per jet: the log-likelihood of an algorithm's tree and whether it is the MAP tree.
struct Scored {
    llh: f64,
    is_map: bool,
    gap: Option<f64>,
}

fn row(algo: &str, v: &[Scored]) -> Row {
    let mut finite: Vec<f64> = v.iter().map(|s| s.llh).filter(|x| x.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    let gaps: Vec<f64> = v.iter().filter_map(|s| s.gap).collect();
    let mean = |x: &[f64]| (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64);
    let median = (!finite.is_empty()).then(|| {
        let m = finite.len() / 2;
        if finite.len() % 2 == 1 {
            finite[m]
        } else {
            0.5 * (finite[m - 1] + finite[m])
        }
    });
    Row {
        algo: algo.to_string(),
        jets: v.len(),
        infinite: v.len() - finite.len(),
        mean_llh: mean(&finite),
        median_llh: median,
        frac_map: if v.is_empty() {
            0.0
        } else {
            v.iter().filter(|s| s.is_map).count() as f64 / v.len() as f64
        },
        mean_gap: mean(&gaps),
    }
}

/// Computes the table for a jets file.
pub fn compare(args: &Args) -> Result<Vec<Row>> {
    let defaults = args.likelihood.params()?;
    let opts = Options::new(args.beam_width, args.radius)?;
    let jets = read_jets(&args.jets)?;
    let name = args.jets.display().to_string();
    let map = cluster::solve_all(&jets, &defaults, 0, 0)?;
    // MAP tree (canonical nodes) and value per jet.
    let map_trees: Vec<(Option<Nodes>, f64)> = jets
        .iter()
        .zip(&map)
        .map(|(j, r)| {
            let n = j.jet.leaves.len();
            let nodes = match &r.tree {
                serde_json::Value::Null => None,
                t => Some(canonical(trees::from_nested(t, n)?)),
            };
            Ok((nodes, r.map_llh.unwrap_or(f64::NEG_INFINITY)))
        })
        .collect::<Result<_>>()?;
    let judge = |i: usize, nodes: &[(Mask, Mask)], llh: f64| {
        let (t, m) = &map_trees[i];
        Scored {
            llh,
            is_map: t.as_deref() == Some(nodes),
            gap: (m.is_finite() && llh.is_finite()).then(|| m - llh),
        }
    };
    let mut rows = Vec::new();
    let map_scored: Vec<Scored> = (0..jets.len())
        .map(|i| match &map_trees[i].0 {
            Some(t) => judge(i, t, map_trees[i].1),
            None => Scored {
                llh: f64::NEG_INFINITY,
                is_map: false,
                gap: None,
            },
        })
        .collect();
    rows.push(row("map", &map_scored));
    let mut truth = Vec::new();
    for (i, j) in jets.iter().enumerate() {
        if let Some(t) = &j.jet.truth {
            let nodes = trees::from_nested(&t.tree, j.jet.leaves.len())
                .with_context(|| format!("{name}:{}: field `truth.tree`", j.line))?;
            let nodes = canonical(nodes);
            let llh = score(&j.jet.leaves, &j.params(&defaults), &nodes);
            truth.push(judge(i, &nodes, llh));
        }
    }
    if !truth.is_empty() {
        rows.push(row("truth", &truth));
    }
    for algo in [Algo::Beam, Algo::Greedy, Algo::Kt, Algo::Ca, Algo::Antikt] {
        let res = baselines::solve_all(&jets, &defaults, algo, &opts)?;
        let v: Vec<Scored> = res
            .iter()
            .enumerate()
            .map(|(i, (r, nodes))| judge(i, nodes, r.llh.unwrap_or(f64::NEG_INFINITY)))
            .collect();
        rows.push(row(baselines::algo_name(algo), &v));
    }
    Ok(rows)
}

fn fmt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// Runs `jettrellis compare`.
pub fn run(args: &Args) -> Result<()> {
    let rows = compare(args)?;
    if let Some(p) = &args.output {
        io::write_atomic(p, |w| {
            serde_json::to_writer_pretty(&mut *w, &rows)?;
            writeln!(w)?;
            Ok(())
        })?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "| algorithm | jets | llh = -inf | mean llh | median llh | = MAP tree | mean gap to MAP |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1}% | {} |",
            r.algo,
            r.jets,
            r.infinite,
            fmt(r.mean_llh),
            fmt(r.median_llh),
            100.0 * r.frac_map,
            fmt(r.mean_gap)
        );
    }
    Ok(())
}
