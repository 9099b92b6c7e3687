//! The fixed-point golden model against the float trellis on Ginkgo-like toy jets, and the
//! `accuracy` command end to end.

use jettrellis::accuracy::{self, evaluate_jet, summarize};
use jettrellis_core::fixed::{Design, FixedTrellis, FxCell, Tables};
use jettrellis_tests::toy;
use std::path::Path;

#[test]
fn golden_model_matches_float_on_toy_jets() {
    let tables = Box::new(Tables::new(&Design::default()).unwrap());
    let mut cells = vec![FxCell::default(); FixedTrellis::cells_needed(8)];
    let mut fcells = Vec::new();
    let jets = toy::jets(400, 3, 4, 8, &toy::ToyParams::default());
    let acc: Vec<_> = jets
        .iter()
        .map(|j| evaluate_jet(&j.leaves, &tables, &mut cells, &mut fcells).unwrap())
        .collect();
    let s = summarize(Path::new("default"), &acc);
    assert_eq!(s["jets"], 400);
    assert!(
        s["map_tree_identical_fraction"].as_f64().unwrap() >= 0.98,
        "{s}"
    );
    assert!(s["abs_dlogz_p99"].as_f64().unwrap() <= 0.01, "{s}");
    assert!(s["abs_dmap_p99"].as_f64().unwrap() <= 0.01, "{s}");
    assert_eq!(s["jets_with_overflow"], 0, "{s}");
    // A coarse design is measurably worse: the comparison can fail.
    let mut coarse = Design::default();
    coarse.internal.log_frac = 6;
    coarse.internal.score_bits = 20;
    coarse.luts.exp = 64;
    coarse.luts.leaf = 64;
    coarse.luts.corr = 64;
    let tc = Box::new(Tables::new(&coarse).unwrap());
    let acc: Vec<_> = jets
        .iter()
        .map(|j| evaluate_jet(&j.leaves, &tc, &mut cells, &mut fcells).unwrap())
        .collect();
    let sc = summarize(Path::new("coarse"), &acc);
    assert!(
        sc["abs_dlogz_p99"].as_f64().unwrap() > 10.0 * s["abs_dlogz_p99"].as_f64().unwrap(),
        "{sc}"
    );
}

#[test]
fn accuracy_command_writes_summary_plots_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let jets_path = dir.path().join("jets.jsonl");
    let jets = toy::jets(40, 5, 4, 6, &toy::ToyParams::default());
    let text: String = jets
        .iter()
        .map(|j| serde_json::to_string(j).unwrap() + "\n")
        .collect();
    std::fs::write(&jets_path, text).unwrap();
    let out = dir.path().join("summary.json");
    let plots = dir.path().join("plots");
    let design = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/default.toml");
    accuracy::run(&accuracy::Args {
        design,
        jets: jets_path.clone(),
        output: Some(out.clone()),
        plots: Some(plots.clone()),
        sweep: Some("internal.log_frac=10..12".into()),
    })
    .unwrap();
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for key in [
        "jets",
        "map_tree_identical_fraction",
        "abs_dlogz_p99",
        "abs_dmap_p99",
        "overflows",
    ] {
        assert!(s.get(key).is_some(), "missing {key}: {s}");
    }
    assert_eq!(s["jets"], 40);
    assert_eq!(s["formats"]["t"]["frac"], 12);
    assert_eq!(s["roms"]["ln"]["entries"], 1025);
    assert_eq!(s["roms"]["exp_inner"]["entries"], 129);
    assert_eq!(s["sweep"]["points"].as_array().unwrap().len(), 3);
    for f in ["dlogz.svg", "dmap.svg", "sweep.svg"] {
        let svg = std::fs::read_to_string(plots.join(f)).unwrap();
        assert!(svg.starts_with("<svg"), "{f}");
    }
    // Errors name the problem: an unknown sweep key, a bad design file.
    let bad = accuracy::run(&accuracy::Args {
        design: Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/default.toml"),
        jets: jets_path.clone(),
        output: None,
        plots: None,
        sweep: Some("internal.nope=1..2".into()),
    })
    .unwrap_err();
    assert!(format!("{bad:#}").contains("unknown key `internal.nope`"));
    let bad_design = dir.path().join("bad.toml");
    std::fs::write(&bad_design, "[luts]\ncorr = 1000\n").unwrap();
    let bad = accuracy::run(&accuracy::Args {
        design: bad_design,
        jets: jets_path,
        output: None,
        plots: None,
        sweep: None,
    })
    .unwrap_err();
    let msg = format!("{bad:#}");
    assert!(
        msg.contains("bad.toml") && msg.contains("luts.corr"),
        "{msg}"
    );
}
