//! Throughput of the fixed-point golden model at N = 8 on jets that all have eight leaves, the
//! worst case for that design: the scalar model, and the AVX-512 lane model (sixteen jets at
//! once) where the CPU has it. Run: `cargo bench -p jettrellis-core --bench golden`. The issue's
//! target (≥ 100k jets/s per core) is measured on its Ginkgo jets of 4–8 leaves with
//! `jettrellis bench --golden --jets FILE` (docs/golden-notes.md).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jettrellis_core::fixed::{
    Design, FixedJet, FixedTrellis, FxCell, LaneCell, LaneTrellis, Tables, LANES,
};
use rand::{Rng, SeedableRng};

/// Collimated 8-constituent jets: pT 5–200 GeV, |Δη|, |Δφ| < 0.25 rad around a random axis.
fn jets(count: usize) -> Vec<FixedJet> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    (0..count)
        .map(|_| {
            let mut j = FixedJet::default();
            let (e0, p0) = (rng.random_range(-400..400), rng.random_range(-600..600));
            for k in 0..8 {
                j.pt[k] = rng.random_range(20..800);
                j.eta[k] = e0 + rng.random_range(-57..57);
                j.phi[k] = p0 + rng.random_range(-57..57);
            }
            j.valid = 0xff;
            j
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let tables = Box::new(Tables::new(&Design::default()).expect("default design"));
    let mut cells = vec![FxCell::default(); 256];
    let js = jets(256);
    let mut g = c.benchmark_group("golden");
    g.throughput(Throughput::Elements(js.len() as u64));
    g.bench_function("solve_n8_x256", |b| {
        let mut m = FixedTrellis::new(&tables, &mut cells).expect("cells");
        b.iter(|| {
            let mut acc = 0i64;
            for j in &js {
                acc ^= m.solve(j).log_z.unwrap_or(0);
            }
            acc
        })
    });
    if jettrellis_core::lane_model_available!() {
        let mut lane_cells = vec![LaneCell::default(); 256];
        g.bench_function("lanes_avx512_n8_x256", |b| {
            // SAFETY: the CPU was checked above.
            let mut m = unsafe { LaneTrellis::new(&tables, &mut lane_cells) }.expect("cells");
            b.iter(|| {
                let mut acc = 0i64;
                for batch in js.chunks_exact(LANES) {
                    let r = m.solve(std::array::from_fn(|l| &batch[l])).expect("same n");
                    acc ^= r[0].log_z.unwrap_or(0);
                }
                acc
            })
        });
    } else {
        eprintln!("no AVX-512 on this CPU: the lane model is not measured");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
