//! Input vectors shared by the differential tests: every edge case of a format plus random values.

use jettrellis_hdl::harness::to_raw;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random vectors per configuration (on top of the edge cases).
pub const RANDOM: usize = 3000;

/// The edge values of a `bits`-bit signed format: most negative, its neighbour, −1, 0, 1, the
/// largest and its neighbour.
pub fn signed_edges(bits: usize) -> Vec<i64> {
    let max = i64::MAX >> (64 - bits);
    let min = -max - 1;
    vec![min, min + 1, -1, 0, 1, max - 1, max]
}

/// A seeded generator (the same vectors every run).
pub fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(6)
}

/// A uniform random `bits`-bit signed value.
pub fn random_signed(r: &mut ChaCha8Rng, bits: usize) -> i64 {
    let max = i64::MAX >> (64 - bits);
    r.random_range(-max - 1..=max)
}

/// Raw vectors from signed rows.
pub fn raw(rows: &[Vec<i64>], bits: &[usize]) -> Vec<Vec<u64>> {
    rows.iter()
        .map(|r| r.iter().zip(bits).map(|(&x, &b)| to_raw(x, b)).collect())
        .collect()
}

/// The model's outputs as sampled from a block of `latency` registers: outputs are sampled
/// right after the rising edge that captures cycle i's inputs, so a 1-register block shows
/// cycle i's result at cycle i, and each further register delays it by a cycle; the first rows
/// are the reset value `reset`.
pub fn delayed(rows: Vec<Vec<u64>>, latency: usize, reset: Vec<u64>) -> Vec<Vec<u64>> {
    let n = rows.len();
    std::iter::repeat_n(reset, latency - 1)
        .chain(rows)
        .take(n)
        .collect()
}
