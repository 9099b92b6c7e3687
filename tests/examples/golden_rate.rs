//! Single-core throughput of the golden model on Ginkgo-like toy jets (quantization excluded):
//! `golden_rate [COUNT] [MIN MAX]`.

use jettrellis_core::fixed::{quantize_jet, Design, FixedTrellis, FxCell, Tables};
use jettrellis_tests::toy;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let count = a.first().copied().unwrap_or(10_000);
    let (min, max) = (
        a.get(1).copied().unwrap_or(4),
        a.get(2).copied().unwrap_or(8),
    );
    let d = Design::default();
    let tables = Box::new(Tables::new(&d).map_err(|e| anyhow::anyhow!("{e}"))?);
    let jets: Vec<_> = toy::jets(count, 11, min, max, &toy::ToyParams::default())
        .iter()
        .map(|j| quantize_jet(&j.leaves, &d).map(|q| q.jet))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut cells = vec![FxCell::default(); FixedTrellis::cells_needed(d.max_leaves)];
    let mut m = FixedTrellis::new(&tables, &mut cells).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut best = f64::INFINITY;
    let mut check = 0i64;
    for _ in 0..5 {
        let t0 = Instant::now();
        for j in &jets {
            check ^= m.solve(j).log_z.unwrap_or(0);
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "{count} jets ({min}-{max} leaves): {:.1} us/jet, {:.0} jets/s on one core (check {check})",
        best / count as f64 * 1e6,
        count as f64 / best
    );
    Ok(())
}
