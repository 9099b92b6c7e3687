//! `jettrellis simulate` and `jettrellis testbench` on the N = 4 default design: every backend
//! bit-exact with the golden model, a corrupted model output or expected vector is caught, and
//! bad input gives a clear error and a non-zero exit.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const DESIGN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/default.toml");
const N4: &str = "max_leaves=4";

fn jettrellis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jettrellis"));
    // The Verilator build cache shared with the other tests (`target/verilator-cache`), so an
    // unchanged design is built once.
    let target = Path::new(env!("CARGO_BIN_EXE_jettrellis"))
        .ancestors()
        .nth(2)
        .expect("target directory");
    c.env("JETTRELLIS_CACHE", target.join("verilator-cache"));
    c
}

/// `n` Ginkgo QCD jets of 2 to 6 leaves.
fn shower(dir: &Path, n: usize) -> PathBuf {
    let p = dir.join(format!("jets{n}.jsonl"));
    let out = jettrellis()
        .args([
            "shower",
            "--jets",
            &n.to_string(),
            "--seed",
            "7",
            "--min-leaves",
            "2",
        ])
        .args(["--max-leaves", "6", "-o"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

/// 300 jets, generated once per test binary.
fn jets() -> &'static Path {
    static JETS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = JETS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = shower(dir.path(), 300);
        (dir, p)
    });
    p
}

fn simulate(backend: &str, jets: &Path, extra: &[&str]) -> Output {
    jettrellis()
        .args([
            "simulate",
            "--design",
            DESIGN,
            "--set",
            N4,
            "--json",
            "--backend",
            backend,
        ])
        .arg("--jets")
        .arg(jets)
        .args(extra)
        .output()
        .unwrap()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs `backend` on `n` jets and checks the report of a clean run.
fn clean_run(backend: &str, jets: &Path, n: usize) -> Value {
    let out = simulate(backend, jets, &["--max-jets", &n.to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{backend}: {stderr}");
    let r = report(&out);
    assert_eq!(r["jets"], n, "{r}");
    assert_eq!(r["mismatches"], 0, "{r}");
    assert_eq!(r["latency_cycles"], r["latency_manifest"], "{r}");
    assert!(r["jets_per_second"].as_f64().unwrap() > 0.0, "{r}");
    let acc = &r["accuracy"];
    assert_eq!(acc["jets"], n, "{r}");
    assert!(
        acc["map_tree_identical_fraction"].as_f64().unwrap() > 0.5,
        "{r}"
    );
    r
}

#[test]
fn eval_backend_is_bit_exact() {
    clean_run("eval", jets(), 300);
}

#[test]
fn rust_hdl_backend_is_bit_exact() {
    clean_run("rust-hdl", jets(), 120);
}

#[test]
fn verilator_backend_is_bit_exact_on_10k_jets() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = clean_run("verilator", &shower(dir.path(), 10_000), 10_000);
    for key in [
        "jets",
        "mismatches",
        "latency_cycles",
        "jets_per_second",
        "cycles_per_second",
    ] {
        assert!(r.get(key).is_some(), "{key} missing in {r}");
    }
    assert!(r["build"]["cached"].is_boolean(), "{r}");
    // N = 4 is below `verilator::HIERARCHICAL_MIN_NODES`: a flat build.
    assert_eq!(r["build"]["hierarchical"], false, "{r}");
}

fn write_testbench(dir: &Path, n: usize) {
    let out = jettrellis()
        .args([
            "testbench",
            "--design",
            DESIGN,
            "--set",
            N4,
            "--max-jets",
            &n.to_string(),
        ])
        .arg("--jets")
        .arg(jets())
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("run_icarus.sh"), "{stderr}");
}

/// The exported testbench passes in Icarus; flipping one expected output bit makes it fail.
#[test]
fn icarus_testbench_passes_and_a_corrupted_vector_fails() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_testbench(dir.path(), 220);
    let v = jettrellis_sim::icarus::run(dir.path()).unwrap();
    assert!(v.passed(), "{}", v.log);
    assert!(v.checked >= 220, "{} cycles checked", v.checked);

    // Cycle 0 expects out_valid (outputs[0], the leftmost value field) low: expect it high.
    let path = dir.path().join(jettrellis_sim::testbench::EXPECTED_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.lines().find(|l| !l.starts_with("//")).unwrap();
    assert!(first.starts_with("00000000"), "cycle 0 first: {first}");
    let checked_lines = text.lines().filter(|l| !l.starts_with("//")).count();
    assert!(checked_lines > 220);
    let corrupted = corrupt_out_valid(first, &text);
    std::fs::write(&path, text.replacen(first, &corrupted, 1)).unwrap();
    let v = jettrellis_sim::icarus::run(dir.path()).unwrap();
    assert!(!v.passed(), "{}", v.log);
    assert_eq!(v.failed, 1, "{}", v.log);
    assert_eq!(v.mismatches[0].cycle, 0);
    assert_eq!(v.mismatches[0].port, "out_valid");
}

/// `line` of `text` (expected.hex) with the out_valid field flipped: the field right after the
/// 8-digit cycle and the check mask, whose width the file's layout comment states (`mask[K]`,
/// padded to whole hex digits).
fn corrupt_out_valid(line: &str, text: &str) -> String {
    let layout = text.lines().next().unwrap();
    let k: usize = layout
        .split("mask[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no mask width in {layout}"));
    assert!(
        layout.contains("output ports, leftmost first: out_valid[1]"),
        "{layout}"
    );
    let at = 8 + k.div_ceil(4);
    let digit = u8::from_str_radix(&line[at..at + 1], 16).unwrap() ^ 1;
    format!("{}{digit:x}{}", &line[..at], &line[at + 1..])
}

#[test]
fn corrupted_model_output_is_a_mismatch() {
    let out = simulate(
        "eval",
        jets(),
        &["--max-jets", "20", "--corrupt-expected", "3"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 mismatch"), "{stderr}");
    let r = report(&out);
    assert_eq!(r["mismatches"], 1);
    let m = &r["first_mismatch"];
    assert_eq!(m["jet"], 3, "{r}");
    for key in ["inputs", "expected", "actual"] {
        assert!(m[key].is_string(), "{key} missing in {m}");
    }
}

#[test]
fn corrupted_model_output_fails_in_icarus() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let out = simulate(
        "icarus",
        jets(),
        &["--max-jets", "10", "--corrupt-expected", "2"],
    );
    assert!(!out.status.success());
    let r = report(&out);
    assert_eq!(r["mismatches"], 1, "{r}");
    assert_eq!(r["first_mismatch"]["jet"], 2, "{r}");
    assert!(r["first_mismatch"]["mismatch"]
        .as_str()
        .unwrap()
        .contains("port n_leaves"));
}

fn fails_with(out: Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a failure: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr {stderr:?} lacks {n:?}");
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = jettrellis()
        .args(["simulate", "--backend", "eval", "--design"])
        .arg(&missing)
        .arg("--jets")
        .arg(jets())
        .output()
        .unwrap();
    fails_with(out, &["nope.toml"]);

    fails_with(
        simulate("eval", jets(), &["--set", "max_leaves"]),
        &["--set max_leaves", "KEY=VALUE"],
    );
    fails_with(
        simulate("eval", jets(), &["--set", "no_such_key=3"]),
        &["no_such_key"],
    );

    let nan = dir.path().join("nan.jsonl");
    std::fs::write(
        &nan,
        "{\"leaves\": [[10.0, 1.0, 2.0, 9.0], [20.0, 3.0, 1.0, 19.0]]}\n{\"leaves\": [[NaN, 0, 0, 0]]}\n",
    )
    .unwrap();
    fails_with(simulate("eval", &nan, &[]), &["nan.jsonl:2:"]);

    fails_with(
        simulate("eval", jets(), &["--vcd", "x.vcd"]),
        &["--vcd needs --backend verilator"],
    );
    fails_with(
        simulate("eval", jets(), &["--quick-build"]),
        &["--quick-build needs --backend verilator"],
    );

    let out = jettrellis()
        .args(["testbench", "--design", DESIGN, "--set", "max_leaves=4"])
        .arg("--jets")
        .arg(&nan)
        .arg("-o")
        .arg(dir.path().join("tb"))
        .output()
        .unwrap();
    fails_with(out, &["nan.jsonl:2:"]);
    assert!(
        !dir.path().join("tb").exists(),
        "no testbench after an error"
    );
}

/// A missing simulator is named with its package, with a non-zero exit.
#[test]
fn missing_tools_name_the_package() {
    for (backend, package) in [("verilator", "verilator"), ("icarus", "iverilog")] {
        let out = jettrellis()
            .env("PATH", "/nonexistent")
            .args([
                "simulate",
                "--design",
                DESIGN,
                "--set",
                N4,
                "--backend",
                backend,
            ])
            .arg("--jets")
            .arg(jets())
            .args(["--max-jets", "2"])
            .output()
            .unwrap();
        fails_with(out, &[package, "apt-get install"]);
    }
}
