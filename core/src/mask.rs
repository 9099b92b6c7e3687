//! Leaf subsets as bitmasks, and the canonical enumeration of a subset's splits.
//!
//! The order in which [`splits`] visits the splits of a subset is part of the bit-exact
//! specification: the argmax of the MAP tree breaks ties towards the lower split index, in
//! software and hardware alike.

/// A set of leaves: bit `i` set means leaf `i` belongs to the set.
pub type Mask = u32;

/// Lowest leaf of a non-empty subset, as a one-bit mask.
#[inline]
pub fn lowest(s: Mask) -> Mask {
    s & s.wrapping_neg()
}

/// Number of leaves in a subset.
#[inline]
pub fn size(s: Mask) -> u32 {
    s.count_ones()
}

/// Mask of all `n` leaves.
#[inline]
pub fn full(n: usize) -> Mask {
    debug_assert!(n <= 32);
    if n == 32 {
        Mask::MAX
    } else {
        (1 << n) - 1
    }
}

/// Number of splits of a subset of `k ≥ 2` leaves: `2^(k−1) − 1`.
#[inline]
pub fn split_count(k: u32) -> u64 {
    (1u64 << (k - 1)) - 1
}

/// Total number of split evaluations in a trellis over `n` leaves: `(3^n + 1)/2 − 2^n`.
pub fn total_splits(n: u32) -> u64 {
    3u64.pow(n).div_ceil(2) - (1u64 << n)
}

/// The splits `A` of `s` (with `B = s ∖ A`): `A` always holds the lowest leaf of `s`, `A ≠ s`,
/// and the rest of `A` runs over the proper submasks of `s ∖ lowest(s)` in increasing numeric
/// order. The first split is therefore `{lowest}` alone, split p is `{lowest}` plus the p-th
/// submask, and the split index is the position in this sequence.
#[inline]
pub fn splits(s: Mask) -> Splits {
    let low = lowest(s);
    Splits {
        low,
        rest: s ^ low,
        sub: 0,
        stop: s ^ low,
        done: s == low || s == 0,
    }
}

/// Part `p` of the `2^bits` runs of consecutive splits into which the `bits` highest leaves of
/// `s ∖ lowest(s)` cut [`splits`]`(s)`: the splits whose `A` holds exactly the ones of those
/// leaves that the bits of `p` select (bit 0 of `p` for the lowest of them). Part 0 begins with
/// split 0; every part has `2^(size(s) − 1 − bits)` splits but the last, which lacks `A = s`.
/// Needs `bits < size(s)` and `p < 2^bits`.
pub fn splits_part(s: Mask, bits: u32, p: u32) -> Splits {
    let low = lowest(s);
    let rest = s ^ low;
    debug_assert!(bits < size(s) && p < 1 << bits);
    let mut high = rest;
    for _ in 0..size(rest) - bits {
        high &= high - 1;
    }
    let mut fixed = low;
    for (j, leaf) in leaves(high).enumerate() {
        if p >> j & 1 != 0 {
            fixed |= 1 << leaf;
        }
    }
    let whole = 1u64 << (size(rest) - bits);
    let last = p + 1 == 1 << bits;
    Splits {
        low: fixed,
        rest: rest ^ high,
        sub: 0,
        // A non-last run ends on the last submask (`sub` wraps to 0 after it), the last one
        // before it (the whole of `s`).
        stop: if last { rest ^ high } else { 0 },
        done: last && whole == 1,
    }
}

/// Iterator returned by [`splits`] and [`splits_part`]; yields `A` (the part holding the lowest
/// leaf): the leaves [`Splits::fixed`] that every `A` of the run holds, and each submask of
/// [`Splits::varying`] in increasing numeric order.
#[derive(Clone, Debug)]
pub struct Splits {
    low: Mask,
    rest: Mask,
    sub: Mask,
    /// The `sub` after the run's last one.
    stop: Mask,
    done: bool,
}

impl Splits {
    /// The leaves every `A` of the run holds: the lowest of `s`, and in a part the high leaves
    /// that select it.
    #[inline]
    pub fn fixed(&self) -> Mask {
        self.low
    }

    /// The leaves whose submasks the run's `A`s add to [`Self::fixed`], in increasing numeric
    /// order from the empty one.
    #[inline]
    pub fn varying(&self) -> Mask {
        self.rest
    }

    /// Number of splits in the run (before any has been taken).
    #[inline]
    pub fn total(&self) -> u64 {
        if self.done {
            0
        } else {
            (1u64 << size(self.rest)) - (self.stop == self.rest && self.rest != 0) as u64
        }
    }
}

impl Iterator for Splits {
    type Item = Mask;

    #[inline]
    fn next(&mut self) -> Option<Mask> {
        if self.done {
            return None;
        }
        let a = self.low | self.sub;
        self.sub = self.sub.wrapping_sub(self.rest) & self.rest;
        self.done = self.sub == self.stop;
        Some(a)
    }
}

/// Iterator over the indices of the leaves in a mask, lowest first.
#[inline]
pub fn leaves(s: Mask) -> Leaves {
    Leaves(s)
}

/// Iterator returned by [`leaves`].
#[derive(Clone, Debug)]
pub struct Leaves(Mask);

impl Iterator for Leaves {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_of_three_leaves_in_canonical_order() {
        let v: [Mask; 3] = [0b001, 0b011, 0b101];
        let mut it = splits(0b111);
        for want in v {
            assert_eq!(it.next(), Some(want));
        }
        assert_eq!(it.next(), None);
    }

    #[test]
    fn the_parts_of_the_splits_are_consecutive_runs_in_order() {
        for s in 1u32..(1 << 9) {
            for bits in 0..size(s) {
                let parts = (0..1 << bits).flat_map(|p| {
                    let part = splits_part(s, bits, p);
                    assert_eq!(part.total(), part.clone().count() as u64);
                    part
                });
                assert!(parts.eq(splits(s)), "s={s:b} bits={bits}");
            }
        }
    }

    #[test]
    fn split_counts_match_formula() {
        for s in 1u32..(1 << 10) {
            let k = size(s);
            let n = splits(s).count() as u64;
            if k < 2 {
                assert_eq!(n, 0);
            } else {
                assert_eq!(n, split_count(k));
            }
            for a in splits(s) {
                assert_eq!(a & lowest(s), lowest(s));
                assert_ne!(a, s);
                assert_eq!(a & !s, 0);
            }
        }
        let total: u64 = (1u32..(1 << 9))
            .filter(|s| size(*s) >= 2)
            .map(|s| splits(s).count() as u64)
            .sum();
        assert_eq!(total, total_splits(9));
        assert_eq!(total_splits(9), 9330);
    }

    #[test]
    fn leaves_iterates_set_bits() {
        let mut it = leaves(0b1010_0001);
        assert_eq!(it.next(), Some(0));
        assert_eq!(it.next(), Some(5));
        assert_eq!(it.next(), Some(7));
        assert_eq!(it.next(), None);
    }
}
