//! Single-core throughput of the bit-exact 16-64-32-32-5 tagger (rows per second).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jettrellis::tag::{self, platform_expf, Model};
use jettrellis_core::nn;
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tagger");
    for name in ["jet_default", "jet_perlayer", "jet_rndsat"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/hls4ml")
            .join(name);
        let model = Model::load(&dir.join("model.json"), false, platform_expf).unwrap();
        let rows = tag::read_rows(&dir.join("inputs.json"), model.n_in).unwrap();
        let layers = model.layers();
        let len = model.buffer_len(16);
        let (mut a, mut b, mut out) = (vec![0; len], vec![0; len], vec![0.0; len]);
        g.throughput(Throughput::Elements(rows.len() as u64));
        g.bench_function(name, |bench| {
            bench.iter(|| {
                for r in &rows {
                    nn::forward(
                        &model.input,
                        &layers,
                        black_box(r),
                        &mut a,
                        &mut b,
                        &mut out,
                    );
                }
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
