//! kt / C/A / anti-kt clustering of one 16-particle jet. The target is FastJet C++ on the same
//! jet: `scripts/fastjet_bench.sh` times FastJet 3.5.2 on the `shower16` jet below.

use criterion::{criterion_group, criterion_main, Criterion};
use jettrellis::bench::synthetic_jet;
use jettrellis::kt::{cluster, KtAlgo};
use jettrellis::shower::{shower_jet, ShowerParams};
use jettrellis_core::GinkgoParams;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let synthetic = synthetic_jet(16, 16);
    // The jet of `jettrellis shower --kind w --jets 1 --seed 5 --min-leaves 16 --max-leaves 16
    // --max-tries 1000000`, which scripts/fastjet_bench.sh times with FastJet C++.
    let params = ShowerParams {
        m_hard: (80.0, 80.0),
        ginkgo: GinkgoParams {
            lambda: 1.5,
            lambda_root: 3.0,
            t_cut: 16.0,
        },
        momentum: 400.0,
        leaves: (16, 16),
        max_tries: 1_000_000,
    };
    let shower = shower_jet(&params, 5, 0).expect("a 16-leaf jet").leaves;
    for (jet_name, jet) in [("synthetic16", &synthetic), ("shower16", &shower)] {
        for (name, algo) in [
            ("kt", KtAlgo::Kt),
            ("ca", KtAlgo::Ca),
            ("antikt", KtAlgo::AntiKt),
        ] {
            for r in [0.4, 1000.0] {
                c.bench_function(&format!("{name}_{jet_name}_R{r}"), |b| {
                    b.iter(|| cluster(black_box(jet), algo, r))
                });
            }
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
