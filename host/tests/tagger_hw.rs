//! The generated tagger against core's `nn` layers on the shipped hls4ml models: the netlist
//! evaluator on every model for R = 1 … 4, rust-hdl on 100+ rows, Verilator on 10,000+ rows of
//! the 16→64→32→32→5 models at R = 1 and R > 1, and the manifest's Verilator `-Wall` check with the
//! datapath's waivers. Verilator tests fail (not skip) under CI=true when it is missing.

use jettrellis::tag::Model;
use jettrellis::tagger_hw::{golden, load, quantize_rows};
use jettrellis_core::apfixed::Format;
use jettrellis_hdl::tagger::{self, Tagger};
use jettrellis_hdl::{datapath, emit};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::rusthdl::RustHdlBackend;
use jettrellis_sim::tagger::stream;
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn model_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/data/hls4ml/{name}/model.json"))
}

fn model(name: &str) -> Model {
    load(&model_path(name)).unwrap().model
}

/// The model's own rows (as `tag` quantizes them), the edge rows (all zero, all most negative,
/// all largest, alternating) and `n` rows of uniform random mantissas over the input format.
fn rows(name: &str, m: &Model, n: usize) -> Vec<Vec<i128>> {
    let f: Format = m.input;
    let n_in = m.n_in.unwrap();
    let path = model_path(name).with_file_name("inputs.json");
    let file = jettrellis::tag::read_rows(&path, m.n_in).unwrap();
    let mut out = quantize_rows(&f, &file).unwrap();
    for v in [0, f.min_mant(), f.max_mant()] {
        out.push(vec![v; n_in]);
    }
    out.push(
        (0..n_in)
            .map(|i| {
                if i % 2 == 0 {
                    f.min_mant()
                } else {
                    f.max_mant()
                }
            })
            .collect(),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64 + n_in as u64);
    out.extend((0..n).map(|_| {
        (0..n_in)
            .map(|_| rng.random_range(f.min_mant()..=f.max_mant()))
            .collect()
    }));
    out
}

fn gen(m: &Model, reuse: u32, name: &str) -> Tagger {
    let layers = m.layers();
    tagger::generate(m.input, &layers, m.n_in.unwrap(), reuse, 200.0, name).unwrap()
}

/// Streams `rows` through `be` and asserts every output and latency.
fn check(t: &Tagger, m: &Model, be: &mut dyn Backend, rows: &[Vec<i128>], what: &str) {
    let want = golden(&m.layers(), rows);
    let s = stream(t, be, rows).unwrap();
    for (k, (got, want)) in s.results.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "{what}: row {k}: {:?}", rows[k]);
    }
    assert_eq!(s.results.len(), rows.len());
    assert!(
        s.latencies.iter().all(|&l| l == t.latency as u64),
        "{what}: latency differs from {}",
        t.latency
    );
}

#[test]
fn eval_matches_core_on_every_model() {
    for name in [
        "jet_default",
        "jet_perlayer",
        "jet_rndsat",
        "sig_default",
        "sig_perlayer",
    ] {
        let m = model(name);
        let rows = rows(name, &m, 200);
        for reuse in [1, 2, 3, 4] {
            let t = gen(&m, reuse, "tagger");
            check(
                &t,
                &m,
                &mut EvalBackend::new(&t.net),
                &rows,
                &format!("{name} R={reuse}"),
            );
        }
    }
}

/// The 16→64→32→32→5 model at ap_fixed<16,6> meets its latency goal: below hls4ml's 23 clocks
/// at 200 MHz with R = 1.
#[test]
fn jet_default_latency_is_below_hls4ml() {
    let t = gen(&model("jet_default"), 1, "tagger");
    assert!(t.latency < 23, "latency {}", t.latency);
    assert_eq!(t.ii, 1);
}

#[test]
fn rust_hdl_matches_core_on_100_rows() {
    for (name, reuse) in [("jet_default", 1), ("sig_perlayer", 2)] {
        let m = model(name);
        let rows: Vec<_> = rows(name, &m, 100).into_iter().skip(200).collect();
        assert!(rows.len() >= 100);
        let t = gen(&m, reuse, "tagger");
        let mut be = RustHdlBackend::new(&t.net, "tagger");
        check(
            &t,
            &m,
            &mut be,
            &rows,
            &format!("rust-hdl {name} R={reuse}"),
        );
    }
}

fn verilator_10k(name: &str, reuse: u32) {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let m = model(name);
    let rows = rows(name, &m, 10_000);
    let top = format!("tagger_{name}_r{reuse}");
    let t = gen(&m, reuse, &top);
    let (mut be, info) = VerilatorBackend::from_netlist(&t.net, &top, &BuildOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{name} R={reuse}: verilator {} in {:.1} s",
        if info.cached { "cached" } else { "built" },
        info.seconds
    );
    let t0 = Instant::now();
    check(
        &t,
        &m,
        &mut be,
        &rows,
        &format!("verilator {name} R={reuse}"),
    );
    println!("{} rows in {:.2} s", rows.len(), t0.elapsed().as_secs_f64());
}

#[test]
fn verilator_jet_default_r1_10k_rows() {
    verilator_10k("jet_default", 1);
}

#[test]
fn verilator_jet_default_r4_10k_rows() {
    verilator_10k("jet_default", 4);
}

#[test]
fn verilator_jet_perlayer_r1_10k_rows() {
    verilator_10k("jet_perlayer", 1);
}

#[test]
fn verilator_jet_perlayer_r3_10k_rows() {
    verilator_10k("jet_perlayer", 3);
}

/// The manifest's Verilator `-Wall` check (`datapath::lint_args`) with the datapath's waivers
/// (and nothing else) passes without a message.
#[test]
fn lint_clean_with_the_datapath_waivers() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    for (name, reuse) in [("jet_default", 1), ("jet_perlayer", 2), ("sig_perlayer", 3)] {
        let top = format!("lint_{name}_r{reuse}");
        let t = gen(&model(name), reuse, &top);
        let dir = tempfile::tempdir().unwrap();
        let file = format!("{top}.v");
        std::fs::write(
            dir.path().join(&file),
            emit::verilog(&t.net, &top, "lint test"),
        )
        .unwrap();
        let out = Command::new("verilator")
            .current_dir(dir.path())
            .args(datapath::lint_args(&top, &file, "lint"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !text.lines().any(|l| l.starts_with('%')),
            "{top}: {text}"
        );
    }
}

/// A saturating accumulator shared over R cycles needs its add-and-saturate loop within one
/// clock: too fast a clock is refused with the reason, not built wrong.
#[test]
fn too_fast_a_clock_for_a_shared_saturating_accumulator_is_refused() {
    let m = model("jet_rndsat");
    let layers = m.layers();
    let e = tagger::generate(m.input, &layers, 16, 2, 400.0, "t").unwrap_err();
    assert_eq!(e.layer, Some(0), "{e}");
    assert!(e.to_string().contains("lower the clock"), "{e}");
    // Wrapping accumulators have a one-adder loop: any clock works.
    let m = model("jet_default");
    let t = tagger::generate(m.input, &m.layers(), 16, 2, 400.0, "t").unwrap();
    assert_eq!(t.ii, 2);
}
