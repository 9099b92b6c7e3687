//! SVG plots (plotters): histograms of signed differences and accuracy versus a swept key.

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use std::path::Path;

fn prepare(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// A 60-bin histogram of `values` (symmetric range around 0, set by the largest |value|).
pub fn histogram(path: &Path, title: &str, values: &[f64]) -> Result<()> {
    prepare(path)?;
    let bins = 60usize;
    let span = values.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9) * 1.05;
    let width = 2.0 * span / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in values {
        let k = (((v + span) / width) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    let e = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title} ({} jets)", values.len()),
            ("sans-serif", 22),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-span..span, 0u32..top + top / 10 + 1)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc(title)
        .y_desc("jets")
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .draw_series(counts.iter().enumerate().map(|(k, &c)| {
            let x0 = -span + k as f64 * width;
            Rectangle::new([(x0, 0), (x0 + width, c)], BLUE.filled())
        }))
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// Accuracy versus the swept key: p99 |Δ log Z|, p99 |Δ MAP| (log scale) and the identical-tree
/// fraction, from `(value, dlogz_p99, dmap_p99, identical)` points.
pub fn sweep(path: &Path, key: &str, points: &[(i64, f64, f64, f64)]) -> Result<()> {
    prepare(path)?;
    let e = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    let x0 = points.iter().map(|p| p.0).min().unwrap_or(0);
    let x1 = points.iter().map(|p| p.0).max().unwrap_or(1).max(x0 + 1);
    let ys = points.iter().flat_map(|p| [p.1, p.2]).filter(|y| *y > 0.0);
    let lo = ys.clone().fold(f64::INFINITY, f64::min).min(1e-3) / 2.0;
    let hi = ys.fold(0.0f64, f64::max).max(1.0) * 2.0;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("accuracy vs {key}"), ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .right_y_label_area_size(60)
        .build_cartesian_2d(x0..x1, (lo..hi).log_scale())
        .map_err(|x| e(&x))?
        .set_secondary_coord(x0..x1, 0.0..1.05);
    chart
        .configure_mesh()
        .x_desc(key)
        .y_desc("p99 |difference| (nats)")
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .configure_secondary_axes()
        .y_desc("identical MAP trees")
        .draw()
        .map_err(|x| e(&x))?;
    let clamp = |y: f64| y.max(lo);
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, clamp(p.1))),
            &RED,
        ))
        .map_err(|x| e(&x))?
        .label("p99 |dlogZ|")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, clamp(p.2))),
            &BLUE,
        ))
        .map_err(|x| e(&x))?
        .label("p99 |dMAP|")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_secondary_series(LineSeries::new(points.iter().map(|p| (p.0, p.3)), &BLACK))
        .map_err(|x| e(&x))?
        .label("identical fraction (right)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .configure_series_labels()
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// ROC curves (background efficiency against signal efficiency), one per `(label, scores,
/// labels)` with labels 1 = signal; the legend carries each curve's AUC.
pub fn roc(path: &Path, title: &str, curves: &[(&str, &[f64], &[u8], f64)]) -> Result<()> {
    prepare(path)?;
    let e = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    let root = SVGBackend::new(path, (700, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("signal efficiency")
        .y_desc("background efficiency")
        .draw()
        .map_err(|x| e(&x))?;
    let colors = [RED, BLUE, BLACK, GREEN];
    for (k, (label, scores, labels, auc)) in curves.iter().enumerate() {
        let c = colors[k % colors.len()];
        chart
            .draw_series(LineSeries::new(roc_points(scores, labels), c))
            .map_err(|x| e(&x))?
            .label(format!("{label} (AUC {auc:.4})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// `(signal efficiency, background efficiency)` for every threshold, at most ~200 points.
fn roc_points(scores: &[f64], labels: &[u8]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = labels.iter().filter(|&&l| l == 1).count().max(1) as f64;
    let neg = (labels.len() as f64 - pos).max(1.0);
    let step = (idx.len() / 200).max(1);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (k, &i) in idx.iter().enumerate() {
        if labels[i] == 1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        if k % step == 0 || k + 1 == idx.len() {
            out.push((tp / pos, fp / neg));
        }
    }
    out
}
