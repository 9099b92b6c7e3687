//! Ginkgo shower throughput: jets with 5–9 leaves per second (target ≥ 100k/s on one core),
//! with and without the truth log-likelihood and output record.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jettrellis::shower::{record, shower_jet, Kind, ShowerParams};
use jettrellis_core::GinkgoParams;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let params = ShowerParams {
        m_hard: (30.0, 30.0),
        ginkgo: GinkgoParams::default(),
        momentum: 400.0,
        leaves: (5, 9),
        max_tries: 10_000,
    };
    const JETS: usize = 1000;
    let mut g = c.benchmark_group("shower_qcd_5_to_9_leaves");
    g.throughput(Throughput::Elements(JETS as u64));
    g.bench_function("jets", |b| {
        b.iter(|| {
            for i in 0..JETS {
                black_box(shower_jet(&params, 1, i).expect("in range"));
            }
        })
    });
    g.bench_function("records_with_truth_llh", |b| {
        b.iter(|| {
            for i in 0..JETS {
                black_box(record(Kind::Qcd, &params, 1, i).expect("in range"));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
