//! The Verilator backend against the netlist evaluator, bit for bit, plus its cache, its
//! missing-tool error and its VCD output.

mod common;

use jettrellis_hdl::ir::{mask, Builder, Netlist, Op, Table, Ty, V};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

/// The shared cache under the target directory (`target/<profile>/deps/<test>` → `target`), so
/// reruns of unchanged designs skip the build.
fn shared_cache() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("target directory")
        .join("verilator-cache")
}

fn opts() -> BuildOptions {
    BuildOptions {
        cache_dir: Some(shared_cache()),
        ..BuildOptions::default()
    }
}

/// A netlist using every operator over widths 1 to 128, signed, unsigned and mixed.
fn all_ops() -> Netlist {
    let mut b = Builder::new(8);
    let widths = [1u32, 8, 13, 64, 70, 100, 128];
    let mut prev: Option<(V, V)> = None;
    for (i, &w) in widths.iter().enumerate() {
        let sa = b.input(format!("sa{w}"), Ty::s(w));
        let sc = b.input(format!("sc{w}"), Ty::s(w));
        let ub = b.input(format!("ub{w}"), Ty::u(w));
        let ud = b.input(format!("ud{w}"), Ty::u(w));
        let sh = b.input(format!("sh{w}"), Ty::u(8));
        let wide = (w + 5).min(128);
        let narrow = (w / 2).max(1);
        let out = |b: &mut Builder, name: &str, v: V| {
            b.output(format!("{name}_w{w}"), v);
        };
        // Arithmetic, same and mixed signedness, into equal, wider and narrower types.
        let v = b.add(sa, sc, Ty::s(w));
        out(&mut b, "add_ss", v);
        let v = b.add(sa, ub, Ty::u(wide));
        out(&mut b, "add_su_wide", v);
        let v = b.add(sa, sc, Ty::s(narrow));
        out(&mut b, "add_ss_narrow", v);
        let v = b.sub(sa, ub, Ty::s(wide));
        out(&mut b, "sub_su_wide", v);
        let v = b.sub(ub, ud, Ty::u(w));
        out(&mut b, "sub_uu", v);
        let v = b.mul(sa, sc, Ty::s(w));
        out(&mut b, "mul_ss", v);
        let v = b.mul(sa, ub, Ty::s((2 * w).min(128)));
        out(&mut b, "mul_su_full", v);
        let v = b.mul(ub, ud, Ty::u((2 * w).min(128)));
        out(&mut b, "mul_uu_full", v);
        let v = b.mul(sa, ud, Ty::s(narrow));
        out(&mut b, "mul_su_narrow", v);
        // Constant shifts below, at and beyond the width.
        let mut ks = vec![0, 1, w / 2, w - 1, w, w + 3];
        ks.sort_unstable();
        ks.dedup();
        for k in ks {
            let v = b.shl(sa, k, Ty::s(w));
            out(&mut b, &format!("shl{k}_s"), v);
            let v = b.shl(ub, k, Ty::u(wide));
            out(&mut b, &format!("shl{k}_u_wide"), v);
            let v = b.shr(sa, k, Ty::s(w));
            out(&mut b, &format!("shr{k}_s"), v);
            let v = b.shr(sa, k, Ty::u(wide));
            out(&mut b, &format!("shr{k}_s_wide"), v);
            let v = b.shr(ub, k, Ty::u(w));
            out(&mut b, &format!("shr{k}_u"), v);
            let v = b.shr(ub, k, Ty::s(narrow));
            out(&mut b, &format!("shr{k}_u_narrow"), v);
        }
        // Resize: sign extension, zero extension, truncation, sign change.
        let v = b.resize(sa, Ty::s(wide));
        out(&mut b, "resize_sext", v);
        let v = b.resize(sa, Ty::u(wide));
        out(&mut b, "resize_sext_u", v);
        let v = b.resize(ub, Ty::s(wide));
        out(&mut b, "resize_zext", v);
        let v = b.resize(sa, Ty::u(narrow));
        out(&mut b, "resize_trunc", v);
        let v = b.resize(ub, Ty::s(w));
        out(&mut b, "resize_sign", v);
        // Run-time shifts; `sh` (0..=255) covers shifts at and beyond every width.
        let v = b.var_shl(sa, sh, Ty::s(w));
        out(&mut b, "varshl_s", v);
        let v = b.var_shl(ub, sh, Ty::u(wide));
        out(&mut b, "varshl_u_wide", v);
        let v = b.var_shr(sa, sh, Ty::s(w));
        out(&mut b, "varshr_s", v);
        let v = b.var_shr(sa, sh, Ty::s(wide));
        out(&mut b, "varshr_s_wide", v);
        let v = b.var_shr(sa, sh, Ty::u(narrow));
        out(&mut b, "varshr_s_narrow", v);
        let v = b.var_shr(ub, sh, Ty::u(w));
        out(&mut b, "varshr_u", v);
        let v = b.var_shr(ub, sh, Ty::s(wide));
        out(&mut b, "varshr_u_wide", v);
        // Shift amounts as wide as the word (far beyond it when the high bits are set).
        let v = b.var_shl(sa, ud, Ty::s(w));
        out(&mut b, "varshl_by_wide", v);
        let v = b.var_shr(sa, ud, Ty::s(w));
        out(&mut b, "varshr_s_by_wide", v);
        let v = b.var_shr(ub, ud, Ty::u(w));
        out(&mut b, "varshr_u_by_wide", v);
        // Comparisons: signed, unsigned, mixed, and across widths.
        for (name, x, y) in [
            ("ss", sa, sc),
            ("uu", ub, ud),
            ("su", sa, ub),
            ("us", ud, sc),
            ("sa_sa", sa, sa),
        ] {
            let v = b.lt(x, y);
            out(&mut b, &format!("lt_{name}"), v);
            let v = b.eq(x, y);
            out(&mut b, &format!("eq_{name}"), v);
        }
        // Equal raw bits under different signedness (all ones: -1 vs 2^w - 1).
        let v = b.eq(sa, ub);
        out(&mut b, "eq_raw_su", v);
        if let Some((psa, pub_)) = prev {
            for (name, x, y) in [
                ("s_ps", sa, psa),
                ("u_pu", ub, pub_),
                ("s_pu", sa, pub_),
                ("u_ps", ub, psa),
                ("ps_u", psa, ub),
            ] {
                let v = b.lt(x, y);
                out(&mut b, &format!("lt_{name}"), v);
                let v = b.eq(x, y);
                out(&mut b, &format!("eq_{name}"), v);
            }
            // Bitwise and arithmetic with operands of other widths.
            let v = b.add(psa, pub_, Ty::s(w));
            out(&mut b, "add_prev", v);
            let v = b.xor(sa, psa);
            out(&mut b, "xor_prev", v);
        }
        // Logic and selection (a mux's second operand widened to the first's type, never cut).
        let sel = b.bit(ud, 0);
        let v = b.mux(sel, sa, sc);
        out(&mut b, "mux", v);
        let v = b.mux(sel, ub, ud);
        out(&mut b, "mux_u", v);
        if let Some((psa, pub_)) = prev {
            for (name, x) in [("s", psa), ("u", pub_)] {
                let v = b.mux(sel, sa, x);
                out(&mut b, &format!("mux_s_p{name}"), v);
            }
            let v = b.mux(sel, ub, pub_);
            out(&mut b, "mux_u_pu", v);
        }
        let v = b.and(sa, ub);
        out(&mut b, "and", v);
        let v = b.or(ub, sc);
        out(&mut b, "or", v);
        let v = b.xor(sa, sc);
        out(&mut b, "xor", v);
        let v = b.not(sa);
        out(&mut b, "not_s", v);
        let v = b.not(ub);
        out(&mut b, "not_u", v);
        // Slices and concatenation.
        let lo = w / 3;
        let v = b.slice(sa, lo, w - lo);
        out(&mut b, "slice", v);
        let v = b.bit(sa, w - 1);
        out(&mut b, "slice_msb", v);
        if w < 128 {
            let v = b.cat(sa, sel);
            out(&mut b, "cat_bit", v);
            let hi = b.slice(ub, 0, (128 - w).min(w));
            let v = b.cat(hi, sa);
            out(&mut b, "cat", v);
        }
        // Register with enable, and an accumulator through feedback.
        let en = b.bit(sc, 0);
        let v = b.hold(sa, en);
        out(&mut b, "hold", v);
        let acc = b.feedback(Ty::s(w), sa.cycle);
        let next = b.add(acc, sa, Ty::s(w));
        b.connect(acc, next);
        out(&mut b, "acc", next);
        let cnt = b.feedback(Ty::u(w), 0);
        let one = b.constant(1, Ty::u(w));
        let next = b.add(cnt, one, Ty::u(w));
        b.connect(cnt, next);
        out(&mut b, "counter", cnt);
        // Delay lines: register chains, memory taps (one memory per delayed value, zero before
        // its first word), chains behind a tap, and a delayed copy delayed again.
        let x = b.xor(sa, ub);
        let x = b.resize(x, Ty::s(w));
        for d in [1, 2, 3, 5, 8, 9, 12, 31, 40, 63] {
            let v = b.delay_to(x, x.cycle + d);
            out(&mut b, &format!("delay{d}"), v);
        }
        let mid = b.delay_to(sc, sc.cycle + 20);
        let v = b.delay_to(mid, mid.cycle + 7);
        out(&mut b, "delay_of_delay", v);
        if i == widths.len() - 1 {
            // Tables: a partial one (addresses beyond the end read 0) and a full wide one.
            let t = b.table(Table {
                name: "part".into(),
                width: 12,
                addr_bits: 5,
                words: (0..20).map(|k| (k * 977 + 5) % 4096).collect(),
            });
            let a = b.slice(ub, 3, 5);
            let v = b.rom(t, a);
            out(&mut b, "rom_part", v);
            let t = b.table(Table {
                name: "wide".into(),
                width: 100,
                addr_bits: 3,
                words: (0..8u128).map(|k| mask(100) / (k + 1)).collect(),
            });
            let a = b.slice(ud, 0, 3);
            let v = b.rom(t, a);
            out(&mut b, "rom_wide", v);
            // A narrower address extended into the table's address width.
            let a = b.slice(sc, 0, 2);
            let v = b.rom(t, a);
            out(&mut b, "rom_short_addr", v);
            // A signed address is sign-extended into the address width.
            let a = b.slice(sc, 0, 2);
            let a = b.resize(a, Ty::u(2));
            let a = b.resize(a, Ty::s(2));
            let v = b.rom(t, a);
            out(&mut b, "rom_signed_addr", v);
        }
        prev = Some((sa, ub));
    }
    b.finish()
}

/// The operator behind an output: the first node past its registers.
fn source_op(net: &Netlist, mut id: u32) -> &Op {
    loop {
        match &net.nodes[id as usize].op {
            Op::Reg(x) => id = *x,
            op => return op,
        }
    }
}

/// Edge values of a `w`-bit port, as raw bits: 0, 1, all ones, most negative, most positive.
fn edges(w: u32) -> [u128; 5] {
    let m = mask(w);
    [0, 1, m, 1u128 << (w - 1), m >> 1]
}

#[test]
fn every_op_matches_the_evaluator() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let net = all_ops();
    assert!(net.nodes.iter().any(|n| matches!(n.op, Op::RegEn(..))));
    assert!(net.delay_memories().iter().any(|m| m.taps.len() > 1));
    let (mut vl, info) =
        VerilatorBackend::from_netlist(&net, "all_ops", &opts()).expect("verilator build");
    println!(
        "{} nodes, {} outputs; build {:.1} s (cached: {})",
        net.nodes.len(),
        net.outputs.len(),
        info.seconds,
        info.cached
    );
    let mut ev = EvalBackend::new(&net);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let cycles = 6_000;
    let mut mismatches = 0;
    for cycle in 0..cycles {
        for (k, p) in net.inputs.iter().enumerate() {
            let w = p.ty.width;
            // The first cycles walk every port through all its edge values together; later
            // cycles pick an edge value a quarter of the time.
            let raw = if cycle < 25 {
                edges(w)[(cycle + k) % 5]
            } else if rng.random_bool(0.25) {
                edges(w)[rng.random_range(0..5)]
            } else {
                rng.random::<u128>() >> rng.random_range(0..128)
            };
            vl.set(k, raw);
            ev.set(k, raw);
        }
        vl.tick();
        ev.tick();
        for (k, (p, id)) in net.outputs.iter().enumerate() {
            let (e, v) = (ev.get(k), vl.get(k));
            if e != v {
                mismatches += 1;
                if mismatches <= 20 {
                    let op = source_op(&net, *id);
                    let operands: Vec<String> = jettrellis_hdl::ir::operands(op)
                        .iter()
                        .map(|&x| format!("n{x}: {:?}", net.nodes[x as usize].ty))
                        .collect();
                    println!(
                        "cycle {cycle}: output {} ({:?}) = {op:?} [{}]: eval {e:#x}, verilator {v:#x}",
                        p.name,
                        p.ty,
                        operands.join(", ")
                    );
                }
            }
        }
    }
    assert_eq!(mismatches, 0, "outputs differ between eval and verilator");
}

/// A small design for the cache and VCD tests.
fn small(tag: u32) -> Netlist {
    let mut b = Builder::new(8);
    let x = b.input("x_in", Ty::s(12));
    // `$` and a double underscore are renamed in Verilator's C++: the shim must follow.
    let y = b.input("y$in", Ty::u(70));
    let s = b.add(x, y, Ty::u(70));
    let c = b.constant(tag as i128, Ty::u(70));
    let s = b.xor(s, c);
    b.output("sum__out", s);
    b.finish()
}

#[test]
fn rebuild_hits_the_cache() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = BuildOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..BuildOptions::default()
    };
    let net = small(1);
    let (mut first, a) = VerilatorBackend::from_netlist(&net, "small_top", &opts).expect("build");
    let (mut second, b) =
        VerilatorBackend::from_netlist(&net, "small_top", &opts).expect("rebuild");
    println!("first build {:.2} s, second {:.3} s", a.seconds, b.seconds);
    assert!(!a.cached && b.cached, "{a:?} then {b:?}");
    assert_eq!(a.dir, b.dir);
    assert!(b.seconds < a.seconds / 4.0, "{a:?} then {b:?}");
    // Only the finished entry is left: no temporary build directory.
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
    // Two models from one library keep separate state.
    for m in [&mut first, &mut second] {
        m.set(0, 0xfff);
        m.set(1, 5);
    }
    for _ in 0..3 {
        first.tick();
    }
    // x = -1 (12-bit all ones) plus y = 5 is 4; xor the tag 1 gives 5.
    assert_eq!(first.get(0), 5);
    assert_eq!(second.get(0), 0);
}

#[test]
fn quick_build_is_another_cache_entry_with_the_same_outputs() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let net = small(4);
    let mut built = Vec::new();
    for quick_build in [false, true] {
        let opts = BuildOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            quick_build,
            ..BuildOptions::default()
        };
        let (mut m, info) =
            VerilatorBackend::from_netlist(&net, "small_top", &opts).expect("build");
        assert!(!info.cached, "quick_build = {quick_build}: {info:?}");
        m.set(0, 0x800);
        m.set(1, (1u128 << 69) | 7);
        for _ in 0..3 {
            m.tick();
        }
        built.push((info.dir, m.get(0)));
    }
    assert_ne!(built[0].0, built[1].0);
    // x = -2048 sign-extended plus y, wrapped to 70 bits, xor the tag 4.
    let want = (((1u128 << 69) | 7).wrapping_sub(2048) & ((1u128 << 70) - 1)) ^ 4;
    assert_eq!((built[0].1, built[1].1), (want, want));
}

#[test]
fn missing_verilator_names_the_package() {
    let empty = tempfile::tempdir().expect("temp dir");
    let opts = BuildOptions {
        cache_dir: Some(empty.path().join("cache")),
        path: Some(empty.path().as_os_str().to_owned()),
        ..BuildOptions::default()
    };
    let err = match VerilatorBackend::from_netlist(&small(2), "small_top", &opts) {
        Ok(_) => panic!("built without verilator on PATH"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("apt-get install verilator"), "{err}");
}

#[test]
fn bad_verilog_quotes_the_log() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = BuildOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        ..BuildOptions::default()
    };
    let err = match VerilatorBackend::build(
        "module broken (input wire clk);\n  wire x = ;\nendmodule\n",
        "broken",
        &[],
        &[],
        &opts,
    ) {
        Ok(_) => panic!("built broken Verilog"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("verilator failed") && err.contains("design.v:2"),
        "{err}"
    );
}

#[test]
fn vcd_has_the_ports() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let vcd = dir.path().join("small.vcd");
    let opts = BuildOptions {
        vcd: Some(vcd.clone()),
        ..opts()
    };
    let net = small(3);
    {
        let (mut m, _) = VerilatorBackend::from_netlist(&net, "small_top", &opts).expect("build");
        for k in 0..10 {
            m.set(0, k);
            m.set(1, k * 1000);
            m.tick();
        }
    }
    let text = std::fs::read_to_string(&vcd).expect("VCD written");
    for needle in ["$enddefinitions", "x_in", "y$in", "sum__out", "clk"] {
        assert!(text.contains(needle), "VCD lacks {needle}");
    }
}
