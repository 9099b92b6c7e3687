//! Every cast mode against a straightforward i128 reference (division, remainder, clamp), and the
//! Dense fast path against the one-cast-at-a-time evaluation.

use jettrellis_core::apfixed::{Exact, Format, Overflow, Rounding};
use jettrellis_core::nn::{Dense, DenseFormats};
use proptest::prelude::*;

/// Rounds `mant * 2^-frac` to `f`'s grid and applies `f`'s overflow mode, written from the mode
/// definitions: pick the lower or upper neighbour, then clamp or wrap.
fn reference(f: &Format, mant: i128, frac: i32) -> i128 {
    let s = frac - f.frac_bits();
    let q = if s <= 0 {
        mant * (1i128 << -s)
    } else {
        let d = 1i128 << s;
        let (lo, r) = (mant.div_euclid(d), mant.rem_euclid(d));
        let hi = lo + 1;
        let (below, tie) = (2 * r < d, 2 * r == d);
        let positive = mant > 0;
        if r == 0 {
            lo
        } else {
            match f.rounding() {
                Rounding::Trn => lo,
                Rounding::TrnZero => {
                    if positive {
                        lo
                    } else {
                        hi
                    }
                }
                _ if below => lo,
                _ if !tie => hi,
                Rounding::Rnd => hi,
                Rounding::RndMinInf => lo,
                Rounding::RndZero => {
                    if positive {
                        lo
                    } else {
                        hi
                    }
                }
                Rounding::RndInf => {
                    if positive {
                        hi
                    } else {
                        lo
                    }
                }
                Rounding::RndConv => {
                    if lo % 2 == 0 {
                        lo
                    } else {
                        hi
                    }
                }
            }
        }
    };
    let w = f.width();
    let (min, max) = if f.signed() {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    };
    let sym_min = if f.signed() && f.overflow() == Overflow::SatSym {
        -max
    } else {
        min
    };
    match f.overflow() {
        Overflow::Wrap => {
            let m = q.rem_euclid(1i128 << w);
            if f.signed() && m > max {
                m - (1i128 << w)
            } else {
                m
            }
        }
        Overflow::Sat | Overflow::SatSym => q.clamp(sym_min, max),
        Overflow::SatZero => {
            if q < min || q > max {
                0
            } else {
                q
            }
        }
    }
}

fn format() -> impl Strategy<Value = Format> {
    (any::<bool>(), 1u32..=64, -20i32..=70, 0usize..7, 0usize..4).prop_map(|(s, w, i, q, o)| {
        Format::new(s, w, i, Rounding::ALL[q], Overflow::ALL[o]).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn cast_matches_reference(f in format(), mant in -(1i128 << 100)..(1i128 << 100), ds in -20i32..=120,
                              small in -5000i128..5000, use_small in any::<bool>()) {
        let mant = if use_small { small } else { mant };
        let frac = f.frac_bits() + ds;
        prop_assert_eq!(f.cast(Exact { mant, frac }), reference(&f, mant, frac), "{} {} {}", f, mant, frac);
    }

    #[test]
    fn doubles_cast_by_their_exact_value(f in format(), x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let e = Exact::from_f64(x).unwrap();
        prop_assert_eq!(e.to_f64(), x);
        // The reference needs the shift to fit in i128: compare where it does.
        let s = e.frac - f.frac_bits();
        if (-20..=120).contains(&s) {
            prop_assert_eq!(f.from_f64(x).unwrap(), reference(&f, e.mant, e.frac));
        }
    }

    #[test]
    fn tie_and_neighbours_round_as_the_mode_says(f in format(), k in -1000i128..1000) {
        // (k + 1/2) LSB and one unit of the next 60 bits either side.
        for delta in [-1i128, 0, 1] {
            let mant = (2 * k + 1) * (1i128 << 59) + delta;
            let frac = f.frac_bits() + 60;
            prop_assert_eq!(f.cast(Exact { mant, frac }), reference(&f, mant, frac));
        }
    }
}

fn dense_case() -> impl Strategy<Value = (DenseFormats, Vec<i64>, Vec<i64>, Vec<i128>, usize)> {
    let fmts = (
        (any::<bool>(), 2u32..=24, -4i32..=12),
        (2u32..=24, -4i32..=8),
        (2u32..=24, -4i32..=8),
        (2u32..=40, -4i32..=20, 0usize..7, 0usize..4),
        (2u32..=24, -4i32..=12, 0usize..7, 0usize..4),
    );
    (fmts, 1usize..=70, 1usize..=9).prop_flat_map(|((inp, wt, bs, acc, res), n_out, n_in)| {
        let input = Format::new(inp.0, inp.1, inp.2, Rounding::Trn, Overflow::Wrap).unwrap();
        let weight = Format::fixed(wt.0, wt.1);
        let bias = Format::fixed(bs.0, bs.1);
        // AP_TRN and AP_RND accumulators take the fast path, the other modes the exact one.
        let accum = Format::new(
            true,
            acc.0,
            acc.1,
            Rounding::ALL[acc.2],
            Overflow::ALL[acc.3],
        )
        .unwrap();
        let result = Format::new(
            true,
            res.0,
            res.1,
            Rounding::ALL[res.2],
            Overflow::ALL[res.3],
        )
        .unwrap();
        let f = DenseFormats {
            input,
            weight,
            bias,
            accum,
            result,
        };
        (
            Just(f),
            proptest::collection::vec(
                weight.min_mant() as i64..=weight.max_mant() as i64,
                n_in * n_out,
            ),
            proptest::collection::vec(bias.min_mant() as i64..=bias.max_mant() as i64, n_out),
            proptest::collection::vec(input.min_mant()..=input.max_mant(), n_in),
            Just(n_out),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn dense_fast_path_equals_exact_evaluation((formats, weights, bias, x, n_out) in dense_case()) {
        let narrow: Vec<i32> = weights.iter().map(|&w| w as i32).collect();
        let d = Dense { n_in: x.len(), n_out, weights: &weights, weights_i32: &[], bias: &bias, formats };
        let (mut a, mut b, mut c) = (vec![0i128; n_out], vec![0i128; n_out], vec![0i128; n_out]);
        d.forward(&x, &mut a);
        d.forward_exact(&x, &mut b);
        Dense { weights_i32: &narrow, ..d }.forward(&x, &mut c);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&c, &b);
    }
}
