//! Criterion benchmark of the exact trellis: synthetic collimated jets of 8, 12 and 16 leaves
//! (one core, and 16 leaves over all cores), the ten 9-leaf reference jets, and eight of them
//! side by side (`JetLanes`, as `cluster` solves jets of up to 11 leaves; time per batch of 8).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jettrellis::bench::synthetic_jet;
use jettrellis::cluster::{drive_parallel, use_best_simd, use_best_simd_lanes};
use jettrellis::jets::read_jets;
use jettrellis_core::trellis::{Cell, GinkgoTrellis, JetLaneCell, JetLanes, JET_LANES};
use jettrellis_core::{GinkgoParams, Momentum};
use std::time::Duration;

fn solve(leaves: &[Momentum], cells: &mut [Cell], parallel: bool) -> f64 {
    let mut tr = GinkgoTrellis::new(leaves, GinkgoParams::default(), cells).unwrap();
    use_best_simd(&mut tr);
    if parallel {
        tr.solve_with(drive_parallel);
    } else {
        tr.solve();
    }
    tr.result().log_z
}

fn trellis(c: &mut Criterion) {
    let mut g = c.benchmark_group("trellis");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in [8usize, 12, 16] {
        let leaves = synthetic_jet(n, n as u64);
        let mut cells = vec![Cell::default(); 1 << n];
        g.bench_with_input(BenchmarkId::new("one_core", n), &n, |b, _| {
            b.iter(|| solve(&leaves, &mut cells, false))
        });
    }
    let leaves = synthetic_jet(16, 16);
    let mut cells = vec![Cell::default(); 1 << 16];
    g.bench_function(BenchmarkId::new("all_cores", 16), |b| {
        b.iter(|| solve(&leaves, &mut cells, true))
    });
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/ginkgo_reference.json");
    let nine: Vec<Vec<Momentum>> = read_jets(path.as_ref())
        .unwrap()
        .into_iter()
        .map(|j| j.jet.leaves)
        .filter(|l| l.len() == 9)
        .collect();
    let mut cells = vec![Cell::default(); 1 << 9];
    g.bench_function("reference_9_leaves_per_jet", |b| {
        let mut k = 0;
        b.iter(|| {
            k = (k + 1) % nine.len();
            solve(&nine[k], &mut cells, false)
        })
    });
    let lanes: Vec<(&[Momentum], GinkgoParams)> = (0..JET_LANES)
        .map(|k| (nine[k % nine.len()].as_slice(), GinkgoParams::default()))
        .collect();
    let mut cells = vec![JetLaneCell::default(); 1 << 9];
    g.bench_function("reference_9_leaves_8_side_by_side", |b| {
        b.iter(|| {
            let mut tr = JetLanes::new(&lanes, &mut cells).unwrap();
            use_best_simd_lanes(&mut tr);
            tr.solve();
            tr.result(0)
        })
    });
    g.finish();
}

criterion_group!(benches, trellis);
criterion_main!(benches);
