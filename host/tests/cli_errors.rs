//! Bad input to `jettrellis cluster`: a clear error naming file, line and field, a non-zero
//! exit, and no output file left behind (an existing one stays untouched).

use std::path::Path;
use std::process::Command;

fn jettrellis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jettrellis"))
}

const GOOD: &str = r#"{"id": "a", "leaves": [[10.0, 1.0, 2.0, 9.0], [20.0, 3.0, 1.0, 19.0]]}"#;

/// Runs `cluster` on `content` and returns (success, stderr, whether the output was touched).
fn cluster_on(name: &str, content: &str, extra: &[&str]) -> (bool, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, content).unwrap();
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "previous content\n").unwrap();
    let res = jettrellis()
        .args(["cluster", "--algo", "trellis", "--jets"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    let touched = std::fs::read_to_string(&out).unwrap() != "previous content\n";
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 2, "a temporary file was left behind");
    (
        res.status.success(),
        String::from_utf8_lossy(&res.stderr).into_owned(),
        touched,
    )
}

fn assert_fails(name: &str, content: &str, extra: &[&str], needles: &[&str]) {
    let (ok, err, touched) = cluster_on(name, content, extra);
    assert!(!ok, "expected failure for {content:?}");
    assert!(!touched, "the output file was modified");
    for n in needles {
        assert!(err.contains(n), "stderr {err:?} lacks {n:?}");
    }
}

#[test]
fn good_input_writes_the_output() {
    let (ok, err, touched) = cluster_on("j.jsonl", &format!("{GOOD}\n{GOOD}\n"), &[]);
    assert!(ok && touched, "{err}");
}

#[test]
fn malformed_json_names_file_and_line() {
    assert_fails(
        "j.jsonl",
        &format!("{GOOD}\n{{\"leaves\": [[1,2,3\n"),
        &[],
        &["j.jsonl:2:"],
    );
}

#[test]
fn nan_and_infinity_are_rejected() {
    assert_fails(
        "j.jsonl",
        r#"{"leaves": [[NaN, 0, 0, 0]]}"#,
        &[],
        &["j.jsonl:1:"],
    );
    assert_fails(
        "j.jsonl",
        &format!("{GOOD}\n{{\"leaves\": [[1e999, 0, 0, 0]]}}\n"),
        &[],
        &["j.jsonl:2:"],
    );
}

#[test]
fn energy_below_momentum_is_rejected_with_the_field() {
    let bad = r#"{"leaves": [[10.0, 1.0, 2.0, 9.0], [5.0, 3.0, 1.0, 19.0]]}"#;
    assert_fails(
        "j.jsonl",
        &format!("{GOOD}\n\n{bad}\n"),
        &[],
        &["j.jsonl:3:", "leaves[1]", "E < |p|"],
    );
}

#[test]
fn type_errors_name_the_field() {
    let bad = r#"{"id": 1, "leaves": [[10.0, 1.0, 2.0, 9.0]], "lambda": "fast"}"#;
    assert_fails("j.jsonl", bad, &[], &["j.jsonl:1:", "field `lambda`"]);
}

#[test]
fn empty_jet_is_rejected() {
    assert_fails(
        "j.jsonl",
        r#"{"leaves": []}"#,
        &[],
        &["j.jsonl:1:", "no leaves"],
    );
}

#[test]
fn too_many_leaves_says_the_limit() {
    let leaves: Vec<String> = (0..25)
        .map(|i| format!("[{}.0, 1.0, 2.0, 3.0]", 10 + i))
        .collect();
    let jet = format!("{{\"id\": \"big\", \"leaves\": [{}]}}", leaves.join(","));
    assert_fails("j.jsonl", &jet, &[], &["25 leaves", "at most 24", "line 1"]);
}

#[test]
fn json_array_errors_name_the_line() {
    let content = format!("[\n{GOOD},\n{{\"leaves\": [[1, 0, 0, 0], [\"x\", 0, 0, 0]]}}\n]\n");
    assert_fails(
        "j.json",
        &content,
        &[],
        &["j.json:3:", "field `leaves[1][0]`"],
    );
    let bad_param = format!("[\n{GOOD},\n{{\"t_cut\": -1, \"leaves\": [[1, 0, 0, 0]]}}\n]\n");
    assert_fails("j.json", &bad_param, &[], &["j.json:3:", "t_cut"]);
}

#[test]
fn bad_command_line_parameters_are_rejected() {
    assert_fails("j.jsonl", GOOD, &["--lambda=-1"], &["lambda"]);
}

#[test]
fn missing_input_file_is_named() {
    let out = jettrellis()
        .args(["cluster", "--jets", "/nonexistent/jets.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/jets.jsonl"));
    assert!(!Path::new("/nonexistent").exists());
}
