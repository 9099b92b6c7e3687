//! `verilator --lint-only -Wall` on generated datapaths reports nothing but the warnings of
//! `datapath::LINT_WAIVERS` (each with its reason), for N = 2 … 6, fold 1 and fold > 1.

mod common;

use common::{design, narrow_design};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::{datapath, emit};
use std::collections::BTreeSet;
use std::process::Command;

fn lint(n: u32, fold: u32, lambda_root: f64) {
    lint_design(&design(n, fold, lambda_root), &format!("lint_n{n}_f{fold}"));
}

fn lint_design(d: &Design, name: &str) {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.v"));
    std::fs::write(&file, emit::verilog(&dp.net, name, "lint test")).unwrap();
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", name])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let mut seen = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with('%')) {
        if let Some(w) = line.strip_prefix("%Warning-") {
            seen.insert(w.split(':').next().unwrap().to_string());
        } else {
            assert!(
                line.starts_with("%Error: Exiting due to"),
                "{name}: a lint error: {line}"
            );
        }
    }
    let waived: BTreeSet<String> = datapath::LINT_WAIVERS
        .iter()
        .map(|(w, _)| w.to_string())
        .collect();
    let extra: Vec<_> = seen.difference(&waived).collect();
    assert!(
        extra.is_empty(),
        "{name}: warnings not waived: {extra:?}\n{text}"
    );
    // With the waivers, the lint passes outright.
    let mut cmd = Command::new("verilator");
    cmd.args(["--lint-only", "-Wall", "--top-module", name]);
    for (w, _) in datapath::LINT_WAIVERS {
        cmd.arg(format!("-Wno-{w}"));
    }
    let st = cmd.arg(&file).output().unwrap();
    assert!(
        st.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn n2_n3_n4_lint_clean() {
    lint(2, 1, 1.5);
    lint(3, 2, 2.0);
    lint(4, 1, 1.5);
    lint(4, 4, 2.5);
}

#[test]
fn narrow_formats_lint_clean() {
    lint_design(&narrow_design(4, 2), "lint_narrow");
}

#[test]
fn n5_lint_clean() {
    lint(5, 2, 1.5);
}

#[test]
fn n6_lint_clean() {
    lint(6, 1, 1.5);
}
