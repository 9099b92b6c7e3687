//! `jettrellis flow`, the main job, end to end: 10,000 Ginkgo jets through the end-to-end Verilog
//! (clustering datapath, features, tagger) on Verilator, bit-exact with core; its summary and
//! artefacts; and clear errors for bad inputs, with nothing half-written.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn flow(args: &[&str]) -> Output {
    let target = Path::new(env!("CARGO_BIN_EXE_jettrellis"))
        .ancestors()
        .nth(2)
        .expect("target directory")
        .to_path_buf();
    Command::new(env!("CARGO_BIN_EXE_jettrellis"))
        .current_dir(ROOT)
        .env("JETTRELLIS_CACHE", target.join("verilator-cache"))
        .arg("flow")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn ten_thousand_jets_end_to_end_on_verilator() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = flow(&[
        "--jets",
        "5000",
        "--no-report",
        "--backend",
        "verilator",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["jets"], 10_000);
    assert_eq!(s["mismatches"], 0);
    assert_eq!(s["backend"], "verilator");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("verilog/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(s["latency_cycles"], m["latency_cycles"]);
    assert_eq!(m["kind"], "cluster+tagger");
    // The hardware scores are the fixed-point ones, and the tagger separates the classes.
    let auc = &s["auc"];
    assert_eq!(auc["verilator"], auc["fixed"]);
    let fixed = auc["fixed"].as_f64().unwrap();
    assert!(
        fixed > 0.52 && (fixed - auc["float"].as_f64().unwrap()).abs() < 0.01,
        "{auc}"
    );
    for f in [
        "jets.jsonl",
        "verilog/jettrellis_flow.v",
        "accuracy.json",
        "plots/roc.svg",
        "plots/dlogz.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
        assert!(stdout.contains(f), "{f} not listed in:\n{stdout}");
    }
}

#[test]
fn the_report_step_synthesizes_the_end_to_end_design() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = flow(&[
        "--jets",
        "100",
        "--set",
        "max_leaves=2",
        "--backend",
        "eval",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(
        r["lut"].as_u64().unwrap() > 0 && r["ff"].as_u64().unwrap() > 0,
        "{r}"
    );
    // The tagger's multiplier is there beside the datapath's (N = 2 alone maps to 7 DSPs).
    assert!(r["dsp"].as_u64().unwrap() > 7, "{r}");
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["report"]["lut"], r["lut"]);
    assert_eq!(r["latency_cycles"], s["latency_cycles"]);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = flow(&["--design", "nope.toml", "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("nope.toml"), "{err}");
    let o = flow(&[
        "--model",
        "tests/data/hls4ml/jet_default/model.json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("16 inputs") && err.contains("jet_default"),
        "{err}"
    );
    let o = flow(&["--set", "fold=3", "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("fold"), "{err}");
    let o = flow(&["--jets", "0", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(!out.exists(), "a failed flow left {}", out.display());
}
