//! Verilator `-Wall` on generated datapaths reports nothing but the warnings of
//! `datapath::LINT_WAIVERS` (each with its reason), for N = 2 … 8, fold 1 and fold > 1, run as
//! the manifest's command (`datapath::lint_args`: hierarchical verilation); the small designs
//! also pass a flat `--lint-only`, and a warning planted in a sub-module fails the check.

mod common;

use common::{design, narrow_design};
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::{datapath, emit};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn lint(n: u32, fold: u32, lambda_root: f64) {
    lint_design(&design(n, fold, lambda_root), &format!("lint_n{n}_f{fold}"));
}

fn verilog(d: &Design, name: &str) -> String {
    let tab = Tables::new(d).unwrap();
    let dp = datapath::generate(d, &tab).unwrap();
    emit::verilog(&dp.net, name, "lint test")
}

/// `verilator` with `args` in `dir`; the messages it printed.
fn run(dir: &Path, args: &[String]) -> (Output, String) {
    let out = Command::new("verilator")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, text)
}

/// The `%Warning-NAME` kinds in `text`; any other message but the ones that stop a failing run
/// fails the test.
fn warnings(name: &str, text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with('%')) {
        if let Some(w) = line.strip_prefix("%Warning-") {
            seen.insert(w.split(':').next().unwrap().to_string());
        } else {
            assert!(
                line.starts_with("%Error: Exiting due to")
                    || line.starts_with("%Error: make ")
                    || line.starts_with("%Error: Command Failed"),
                "{name}: a lint error: {line}"
            );
        }
    }
    seen
}

/// The manifest's check passes outright; with `unwaived`, the same command without the waivers
/// (and not stopping at the first block that warns) reports the waived warnings and no other.
fn check(name: &str, v: &str, unwaived: bool) {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{name}.v");
    std::fs::write(dir.path().join(&file), v).unwrap();
    let (out, text) = run(dir.path(), &datapath::lint_args(name, &file, "lint"));
    assert!(out.status.success(), "{name}: {text}");
    assert!(warnings(name, &text).is_empty(), "{name}: {text}");
    if !unwaived {
        return;
    }
    let waivers: Vec<String> = datapath::lint_waiver_flags().collect();
    let mut all = datapath::lint_args(name, &file, "all");
    all.retain(|a| !waivers.contains(a));
    all.push("-Wno-fatal".into());
    let (_, text) = run(dir.path(), &all);
    let waived: BTreeSet<String> = datapath::LINT_WAIVERS
        .iter()
        .map(|(w, _)| w.to_string())
        .collect();
    let seen = warnings(name, &text);
    // Every file holds ROM modules named unlike the file: the run does see warnings.
    assert!(seen.contains("DECLFILENAME"), "{name}: {text}");
    let extra: Vec<_> = seen.difference(&waived).collect();
    assert!(
        extra.is_empty(),
        "{name}: warnings not waived: {extra:?}\n{text}"
    );
}

fn lint_design(d: &Design, name: &str) {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    // The unwaived run doubles the time; N = 7 and 8 build the same modules at other sizes.
    check(name, &verilog(d, name), d.max_leaves <= 6);
}

/// A flat `--lint-only` (every instance elaborated) with the waivers passes too.
fn lint_flat(n: u32, fold: u32) {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let name = format!("flat_n{n}_f{fold}");
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{name}.v");
    std::fs::write(
        dir.path().join(&file),
        verilog(&design(n, fold, 1.5), &name),
    )
    .unwrap();
    let mut args: Vec<String> = ["--lint-only", "-Wall", "--top-module", &name]
        .map(String::from)
        .to_vec();
    args.extend(datapath::lint_waiver_flags());
    args.push(file);
    let (out, text) = run(dir.path(), &args);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "{name}: {text}"
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
fn small_designs_pass_a_flat_lint_too() {
    lint_flat(3, 1);
    lint_flat(4, 2);
}

#[test]
fn narrow_formats_lint_clean() {
    lint_design(&narrow_design(4, 2), "lint_narrow");
}

#[test]
fn n5_n6_lint_clean() {
    lint(5, 2, 1.5);
    lint(6, 1, 1.5);
}

#[test]
fn n7_lint_clean() {
    lint(7, 4, 1.5);
}

#[test]
fn n8_lint_clean() {
    lint(8, 1, 1.5);
}

/// The check sees inside the sub-modules: a width mismatch planted in the first one fails it.
#[test]
fn a_warning_inside_a_sub_module_fails_the_check() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let name = "lint_planted";
    let v = verilog(&design(3, 1, 1.5), name);
    let at = v.find("/*verilator hier_block*/").expect("a sub-module");
    let bad = format!("{}wire [3:0] jt_bad = 8'hff;\n  {}", &v[..at], &v[at..]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.v"), bad).unwrap();
    let (out, text) = run(dir.path(), &datapath::lint_args(name, "p.v", "lint"));
    assert!(!out.status.success(), "{text}");
    assert!(warnings(name, &text).contains("WIDTH"), "{text}");
}
