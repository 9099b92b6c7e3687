//! The trellis recurrence over leaf subsets, written once and shared by every model.
//!
//! For each subset `S` of two or more leaves, visited so that every proper subset comes first,
//! a model starts an accumulator, folds in every split `(A, S ∖ A)` in the canonical order of
//! [`crate::mask::splits`], and stores the result. What the accumulator holds (float log Z,
//! MAP value and argmax, tree count, or their fixed-point versions) is the model's business.

use crate::mask::{splits, Mask};

/// A quantity computed over a trellis by the recurrence.
///
/// `begin` and `split` read only values of subsets smaller than `s`, which the recurrence has
/// already stored; that is what lets a caller evaluate all subsets of one size in parallel
/// (see [`eval`]) and store them afterwards.
pub trait Recurrence {
    /// The per-subset accumulator.
    type Acc;
    /// Starts the accumulator of subset `s`.
    fn begin(&self, s: Mask) -> Self::Acc;
    /// Whether the splits of `s` can be skipped because the subset is impossible (for
    /// example below the mass cut). The stored result must be the same as if they were visited.
    fn skip(&self, _acc: &Self::Acc) -> bool {
        false
    }
    /// Folds split number `index` of `s`, `a` (holding the lowest leaf of `s`) and `b = s ∖ a`.
    fn split(&self, acc: &mut Self::Acc, s: Mask, a: Mask, b: Mask, index: u32);
    /// Folds every split of `s` in the canonical order. A model may override this to work on
    /// batches of splits, provided the result equals calling [`Recurrence::split`] in order.
    #[inline]
    fn fold_splits(&self, acc: &mut Self::Acc, s: Mask) {
        for (index, a) in splits(s).enumerate() {
            self.split(acc, s, a, s ^ a, index as u32);
        }
    }
    /// Stores the finished accumulator of `s`.
    fn store(&mut self, s: Mask, acc: Self::Acc);
}

/// Evaluates subset `s` (its proper subsets must be stored already) without storing it.
#[inline]
pub fn eval<R: Recurrence + ?Sized>(r: &R, s: Mask) -> R::Acc {
    let mut acc = r.begin(s);
    if !r.skip(&acc) {
        r.fold_splits(&mut acc, s);
    }
    acc
}

/// Runs the recurrence over all subsets of `n` leaves with two or more leaves, in increasing
/// numeric order (every proper subset of `S` is numerically smaller than `S`).
pub fn run<R: Recurrence + ?Sized>(r: &mut R, n: usize) {
    for s in 1..=crate::mask::full(n) {
        if s.count_ones() >= 2 {
            let acc = eval(r, s);
            r.store(s, acc);
        }
    }
}

/// The subsets of `n` leaves with exactly `k` leaves, in increasing numeric order (Gosper's
/// hack). Subsets of one size depend only on smaller ones, so a caller may evaluate them in
/// parallel.
pub fn subsets_of_size(n: usize, k: u32) -> SubsetsOfSize {
    let first = if k == 0 || k as usize > n {
        None
    } else {
        Some(crate::mask::full(k as usize))
    };
    SubsetsOfSize {
        next: first,
        limit: crate::mask::full(n),
    }
}

/// Iterator returned by [`subsets_of_size`].
#[derive(Clone, Debug)]
pub struct SubsetsOfSize {
    next: Option<Mask>,
    limit: Mask,
}

impl Iterator for SubsetsOfSize {
    type Item = Mask;

    fn next(&mut self) -> Option<Mask> {
        let v = self.next?;
        let c = v & v.wrapping_neg();
        let r = v.wrapping_add(c);
        self.next = if r == 0 || c == 0 {
            None
        } else {
            let nxt = (((r ^ v) >> 2) / c) | r;
            (nxt <= self.limit && nxt > v).then_some(nxt)
        };
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_of_size_enumerates_binomial_counts() {
        for n in 1..=12usize {
            for k in 1..=n as u32 {
                let mut count = 0u64;
                let mut prev = 0;
                for s in subsets_of_size(n, k) {
                    assert_eq!(s.count_ones(), k);
                    assert!(s > prev);
                    assert!(s <= crate::mask::full(n));
                    prev = s;
                    count += 1;
                }
                let want = (1..=k as u64).fold(1u64, |acc, i| acc * (n as u64 + 1 - i) / i);
                assert_eq!(count, want, "n={n} k={k}");
            }
        }
        assert_eq!(subsets_of_size(32, 32).count(), 1);
    }

    /// Counting all trees is the simplest recurrence: N(S) = Σ N(A) N(B) = (2|S| − 3)!!.
    struct Count([u64; 256]);
    impl Recurrence for Count {
        type Acc = u64;
        fn begin(&self, _s: Mask) -> u64 {
            0
        }
        fn split(&self, acc: &mut u64, _s: Mask, a: Mask, b: Mask, _i: u32) {
            *acc += self.0[a as usize] * self.0[b as usize];
        }
        fn store(&mut self, s: Mask, acc: u64) {
            self.0[s as usize] = acc;
        }
    }

    #[test]
    fn counts_all_trees() {
        let mut c = Count([0; 256]);
        for i in 0..8 {
            c.0[1 << i] = 1;
        }
        run(&mut c, 8);
        assert_eq!(c.0[255], 13 * 11 * 9 * 7 * 5 * 3);
        assert_eq!(c.0[0b111], 3);
    }
}
