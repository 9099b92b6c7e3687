//! `jettrellis generate --model` and `jettrellis simulate --model`: the files they write, the
//! outputs equal to `tag`'s, a corrupted expected output caught, and clear errors.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(model: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/data/hls4ml/{model}/{file}"))
}

fn jettrellis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jettrellis"));
    let target = Path::new(env!("CARGO_BIN_EXE_jettrellis"))
        .ancestors()
        .nth(2)
        .expect("target directory");
    c.env("JETTRELLIS_CACHE", target.join("verilator-cache"));
    c
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fails_with(out: Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a failure: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr {stderr:?} lacks {n:?}");
    }
}

fn simulate(model: &str, backend: &str, extra: &[&str]) -> Output {
    jettrellis()
        .args(["simulate", "--backend", backend, "--json", "--model"])
        .arg(data(model, "model.json"))
        .arg("--inputs")
        .arg(data(model, "inputs.json"))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn generate_writes_verilog_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = jettrellis()
        .args([
            "generate",
            "--reuse",
            "2",
            "--clock-mhz",
            "250",
            "--name",
            "tg",
            "--model",
        ])
        .arg(data("jet_perlayer", "model.json"))
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    ok(&out);
    let v = std::fs::read_to_string(dir.path().join("tg.v")).unwrap();
    assert!(v.contains("module tg ("), "no top module");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["kind"], "tagger");
    assert_eq!(m["ii_cycles"], 2);
    assert_eq!(m["reuse_factor"], 2);
    assert_eq!(m["clock_mhz"], 250.0);
    assert!(m["latency_cycles"].as_u64().unwrap() > 2);
    assert_eq!(m["model_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["input_format"], "ap_fixed<16,6>");
    assert_eq!(m["layers"].as_array().unwrap().len(), 8);
    let ports = m["ports"].as_array().unwrap();
    let find = |n: &str| ports.iter().find(|p| p["name"] == n).cloned();
    assert_eq!(find("x_15").unwrap()["width"], 16);
    assert_eq!(find("x_15").unwrap()["signed"], true);
    assert_eq!(find("y_4").unwrap()["width"], 16);
    assert!(find("in_valid").is_some() && find("out_valid").is_some());
    assert!(find("x_16").is_none() && find("y_5").is_none());
}

/// The simulated outputs, written with -o, are byte for byte what `tag` writes.
#[test]
fn simulate_outputs_equal_tag() {
    let dir = tempfile::tempdir().unwrap();
    let sim_out = dir.path().join("sim.json");
    let tag_out = dir.path().join("tag.json");
    let out = simulate(
        "sig_perlayer",
        "eval",
        &["--reuse", "3", "-o", sim_out.to_str().unwrap()],
    );
    ok(&out);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["rows"], 256);
    assert_eq!(r["mismatches"], 0);
    assert_eq!(r["latency_cycles"], r["latency_manifest"]);
    assert_eq!(r["ii_cycles"], 3);
    assert!(r["rows_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(r["jets_per_second"], r["rows_per_second"]);
    let out = jettrellis()
        .args(["tag", "--model"])
        .arg(data("sig_perlayer", "model.json"))
        .arg("--inputs")
        .arg(data("sig_perlayer", "inputs.json"))
        .arg("-o")
        .arg(&tag_out)
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(
        std::fs::read(&sim_out).unwrap(),
        std::fs::read(&tag_out).unwrap()
    );
}

#[test]
fn corrupted_expected_output_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o.json");
    let out = simulate(
        "jet_default",
        "eval",
        &["--corrupt-expected", "7", "-o", o.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 mismatch"), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mismatches"], 1);
    let m = &r["first_mismatch"];
    assert_eq!(m["row"], 7, "{r}");
    for key in ["inputs", "input_mantissas", "expected", "actual"] {
        assert!(m[key].is_array(), "{key} missing in {m}");
    }
    assert!(!o.exists(), "no outputs file after a mismatch");
}

#[test]
fn corrupted_expected_output_fails_in_icarus() {
    if !jettrellis_sim::tools::present_for_test("iverilog") {
        return;
    }
    let out = simulate("sig_perlayer", "icarus", &["--corrupt-expected", "2"]);
    assert!(!out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mismatches"], 1, "{r}");
    assert_eq!(r["first_mismatch"]["row"], 2, "{r}");
    assert!(r["first_mismatch"]["mismatch"]
        .as_str()
        .unwrap()
        .contains("port y_0"));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let text = std::fs::read_to_string(data("jet_default", "model.json"))
        .unwrap()
        .replacen("ap_fixed<16,6>", "ap_fixed<16,6,AP_NOPE>", 1);
    std::fs::write(&bad, text).unwrap();
    let out = jettrellis()
        .args(["generate", "-o"])
        .arg(dir.path().join("o"))
        .arg("--model")
        .arg(&bad)
        .output()
        .unwrap();
    fails_with(out, &["bad.json", "input_precision"]);
    let out = jettrellis()
        .args(["generate", "--design", "configs/default.toml", "-o"])
        .arg(dir.path().join("o"))
        .arg("--model")
        .arg(data("jet_default", "model.json"))
        .output()
        .unwrap();
    fails_with(out, &["--design", "--model"]);
    let out = jettrellis()
        .args(["simulate", "--backend", "eval", "--model"])
        .arg(data("jet_default", "model.json"))
        .output()
        .unwrap();
    fails_with(out, &["--inputs"]);
    let short = dir.path().join("short.json");
    std::fs::write(&short, "{\"inputs\": [[1, 2, 3]]}").unwrap();
    let out = jettrellis()
        .args(["simulate", "--backend", "eval", "--model"])
        .arg(data("jet_default", "model.json"))
        .arg("--inputs")
        .arg(&short)
        .output()
        .unwrap();
    fails_with(out, &["short.json", "inputs[0]", "16 values"]);
    let out = jettrellis()
        .env("PATH", "/nonexistent")
        .args(["simulate", "--backend", "verilator", "--model"])
        .arg(data("jet_default", "model.json"))
        .arg("--inputs")
        .arg(data("jet_default", "inputs.json"))
        .output()
        .unwrap();
    fails_with(out, &["verilator", "apt-get install"]);
}

/// `report --model` on a small model: Yosys resources, latency and logic depth in the JSON.
#[test]
fn report_model_gives_resources_latency_and_depth() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("tiny.json");
    std::fs::write(
        &m,
        r#"{"input_precision": "ap_fixed<8,3>", "layers": [
            {"type": "dense", "precision": {"weight": "ap_fixed<6,2>", "bias": "ap_fixed<6,2>",
             "accum": "ap_fixed<12,5,AP_RND,AP_SAT>", "result": "ap_fixed<8,3>"},
             "weights": [[0.5, -1.25, 0.75], [1.5, 0.25, -0.5]], "bias": [0.25, -0.5, 0.0]},
            {"type": "relu", "precision": {"result": "ap_fixed<8,3>"}},
            {"type": "sigmoid", "table_size": 64, "precision": {"result": "ap_fixed<8,1>"}}]}"#,
    )
    .unwrap();
    let out = jettrellis()
        .args([
            "report", "--target", "xcvu9p", "--reuse", "2", "--json", "--model",
        ])
        .arg(&m)
        .output()
        .unwrap();
    ok(&out);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["reuse_factor"], 2);
    assert_eq!(r["ii_cycles"], 2);
    assert!(r["lut"].as_u64().unwrap() > 0, "{r}");
    assert!(r["latency_cycles"].as_u64().unwrap() > 2, "{r}");
    assert!(r["logic_depth"].as_u64().unwrap() > 0, "{r}");
}
