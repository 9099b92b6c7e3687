//! kt / C/A / anti-kt clustering of one 16-particle jet (the target is FastJet C++'s
//! 4–7 µs for this size).

use criterion::{criterion_group, criterion_main, Criterion};
use jettrellis::bench::synthetic_jet;
use jettrellis::kt::{cluster, KtAlgo};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let jet = synthetic_jet(16, 16);
    for (name, algo) in [
        ("kt", KtAlgo::Kt),
        ("ca", KtAlgo::Ca),
        ("antikt", KtAlgo::AntiKt),
    ] {
        c.bench_function(&format!("{name}_16_particles_R0.4"), |b| {
            b.iter(|| cluster(black_box(&jet), algo, 0.4))
        });
        c.bench_function(&format!("{name}_16_particles_R1000"), |b| {
            b.iter(|| cluster(black_box(&jet), algo, 1000.0))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
