//! `jettrellis bench --golden`: the golden model's throughput rows, and its argument errors.

use std::process::Command;

fn jettrellis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jettrellis"))
}

/// The JSON that `jettrellis bench --golden --seconds 0 --json ARGS` prints (it must succeed).
fn golden_json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = jettrellis()
        .args(["bench", "--golden", "--seconds", "0", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A row's scalar rates, and its lane rates or the reason they are absent: rates are positive
/// and ordered min ≤ median ≤ max.
fn assert_rates(row: &serde_json::Value) {
    let mut models = vec![&row["scalar_jets_per_s"]];
    if jettrellis_core::lane_model_available!() {
        models.push(&row["lanes_jets_per_s"]);
        assert!(row["lanes_absent"].is_null(), "{row}");
    } else {
        assert!(row["lanes_jets_per_s"].is_null());
        assert_eq!(row["lanes_absent"], "no AVX-512 on this CPU");
    }
    for m in models {
        let r: Vec<f64> = m
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(0.0 < r[0] && r[0] <= r[1] && r[1] <= r[2], "{row}");
    }
}

#[test]
fn golden_rows_have_rates_for_every_n() {
    let rows = golden_json(&[
        "--min-leaves".as_ref(),
        "3".as_ref(),
        "--max-leaves".as_ref(),
        "4".as_ref(),
    ]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (n, splits)) in rows.iter().zip([(3, 6), (4, 25)]) {
        assert_eq!(row["leaves"], n);
        assert_eq!(row["splits"], splits);
        assert_eq!(row["jets"], 256);
        assert!(row["runs"].as_u64().unwrap() >= 3);
        assert_rates(row);
    }
}

#[test]
fn a_design_the_lane_model_cannot_hold_is_measured_without_it() {
    let dir = std::env::temp_dir().join(format!("jt-bench-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let design = dir.join("wide.toml");
    std::fs::write(&design, "[internal]\nscore_bits = 32\n").unwrap();
    let rows = golden_json(&[
        "--min-leaves".as_ref(),
        "3".as_ref(),
        "--max-leaves".as_ref(),
        "3".as_ref(),
        "--design".as_ref(),
        design.as_os_str(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let row = &rows[0];
    assert!(row["scalar_jets_per_s"].is_array(), "{row}");
    assert!(row["lanes_jets_per_s"].is_null(), "{row}");
    let why = row["lanes_absent"].as_str().unwrap();
    let expected = if jettrellis_core::lane_model_available!() {
        "internal.score_bits = 32"
    } else {
        "no AVX-512"
    };
    assert!(why.contains(expected), "{why}");
}

#[test]
fn golden_arguments_are_checked() {
    let run = |args: &[&str]| {
        let out = jettrellis().arg("bench").args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--golden", "--max-leaves", "13"]);
    assert!(e.contains("<= 12 with --golden"), "{e}");
    let e = run(&["--design", "configs/default.toml"]);
    assert!(e.contains("--golden"), "{e}");
    let e = run(&["--golden", "--design", "no/such/design.toml"]);
    assert!(e.contains("no/such/design.toml"), "{e}");
    let e = run(&["--golden", "--jets", "jets.jsonl", "--max-leaves", "5"]);
    assert!(e.contains("cannot be used with"), "{e}");
    let e = run(&["--jets", "jets.jsonl"]);
    assert!(e.contains("--golden"), "{e}");
    let e = run(&["--golden", "--jets", "no/such/jets.jsonl"]);
    assert!(e.contains("no/such/jets.jsonl"), "{e}");
}

#[test]
fn golden_rates_on_a_jets_file_count_its_jets_by_leaves() {
    let dir = std::env::temp_dir().join(format!("jt-bench-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jets = dir.join("jets.jsonl");
    let made = jettrellis()
        .args(["shower", "--kind", "qcd", "--jets", "40", "--seed", "3"])
        .args(["--min-leaves", "2", "--max-leaves", "10", "-o"])
        .arg(&jets)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let r = golden_json(&["--jets".as_ref(), jets.as_os_str()]);
    // Line 2: a leaf with E < |p|.
    let bad_path = dir.join("bad.jsonl");
    std::fs::write(
        &bad_path,
        "{\"leaves\":[[5,3,4,0],[5,0,3,4]]}\n{\"leaves\":[[5,3,4,0],[1,0,3,4]]}\n",
    )
    .unwrap();
    let refused = jettrellis()
        .args(["bench", "--golden", "--seconds", "0", "--jets"])
        .arg(&bad_path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(r["jets"], 40);
    assert_eq!(r["max_leaves"], 8);
    let by: Vec<(u32, u64)> = r["jets_by_leaves"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, k)| (n.parse().unwrap(), k.as_u64().unwrap()))
        .collect();
    assert_eq!(by.iter().map(|&(_, k)| k).sum::<u64>(), 40);
    // Jets above N = 8 keep their eight hardest constituents.
    assert!(by.iter().all(|&(n, _)| (2..=8).contains(&n)), "{by:?}");
    assert!(by.iter().any(|&(n, _)| n == 8), "{by:?}");
    let splits: u64 = by
        .iter()
        .map(|&(n, k)| jettrellis_core::mask::total_splits(n) * k)
        .sum();
    assert_eq!(r["mean_splits"].as_f64().unwrap(), splits as f64 / 40.0);
    assert_rates(&r);
    assert!(!refused.status.success());
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(e.contains("bad.jsonl:2"), "{e}");
}
