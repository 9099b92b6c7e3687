//! ROMs filled from core's real tables: every address (plus out-of-range ones) in a shuffled
//! order against `Lut::entries` / `Lut::read`, rust-hdl vs Verilator.

use super::common::*;
use jettrellis_core::fixed::{Design, Tables};
use jettrellis_hdl::harness::{check, to_raw};
use jettrellis_hdl::rom::TableRom;
use rand::seq::SliceRandom;

/// Every entry of the named ROM of the default design, each address twice (in order, then
/// shuffled), plus the addresses past the table (which read 0).
fn run<const A: usize, const V: usize>(name: &str) {
    let tables = Tables::new(&Design::default()).expect("the default design is valid");
    let (_, lut) = tables
        .roms()
        .into_iter()
        .find(|(n, _)| *n == name)
        .expect("a ROM of core");
    let e = lut.entries();
    let mut addr: Vec<u64> = (0..1u64 << A).collect();
    let mut shuffled = addr.clone();
    shuffled.shuffle(&mut rng());
    addr.extend(shuffled);
    let rows: Vec<Vec<u64>> = addr.iter().map(|&a| vec![a]).collect();
    let want = addr
        .iter()
        .map(|&a| {
            // Whole entries are the table at step boundaries: Lut::read(j << step).
            let v = if (a as usize) < e.len() {
                if (a as usize) < lut.size {
                    assert_eq!(lut.read(a << lut.step_log2), e[a as usize] as i64);
                }
                e[a as usize] as i64
            } else {
                0
            };
            vec![to_raw(v, V)]
        })
        .collect();
    check(
        &format!("rom {name}"),
        || TableRom::<A, V>::new(lut),
        &rows,
        &delayed(want, 1, vec![0]),
    );
}

#[test]
fn rom_corr() {
    // 1025 entries (interpolated), values in [0, ln 2 · 2^16].
    run::<11, 18>("corr");
}

#[test]
fn rom_leaf_inner() {
    // 2049 entries, signed values.
    run::<12, 24>("leaf_inner");
}
