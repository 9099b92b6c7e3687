//! Fixed-point values in the netlist and the one cast every layer uses: the hardware form of
//! `Format::cast` (quantize by a shift with the format's rounding mode, then its overflow mode).
//!
//! A value carries the static range of its mantissa, so a cast emits saturation logic only
//! where the range says it can saturate, and words are no wider than the range needs.

use crate::ir::{bits_for, Builder, Ty, V};
use jettrellis_core::apfixed::{Format, Overflow, Rounding};

/// An exact fixed-point value: the word `v` holds the integer mantissa m (by `v`'s
/// signedness), meaning m·2^−`frac`, with m known to lie in `lo..=hi`.
#[derive(Clone, Copy, Debug)]
pub struct Fx {
    /// The word.
    pub v: V,
    /// Fractional bits of the mantissa.
    pub frac: i32,
    /// Smallest possible mantissa.
    pub lo: i128,
    /// Largest possible mantissa.
    pub hi: i128,
}

impl Fx {
    /// A word holding any mantissa of `f`.
    pub fn of(v: V, f: &Format) -> Fx {
        Fx {
            v,
            frac: f.frac_bits(),
            lo: f.min_mant(),
            hi: f.max_mant(),
        }
    }

    /// The constant mantissa `m` with `frac` fractional bits.
    pub fn constant(b: &mut Builder, m: i128, frac: i32) -> Fx {
        Fx {
            v: b.constant(m, word(m, m)),
            frac,
            lo: m,
            hi: m,
        }
    }
}

/// The word type of a format's mantissa.
pub fn ty_of(f: &Format) -> Ty {
    Ty {
        width: f.width(),
        signed: f.signed(),
    }
}

/// The narrowest word holding every integer in `lo..=hi`: unsigned when `lo ≥ 0`.
pub fn word(lo: i128, hi: i128) -> Ty {
    if lo >= 0 {
        Ty::u(bits_for(hi as u128))
    } else {
        let m = lo.unsigned_abs().max(hi.unsigned_abs() + 1);
        Ty::s(bits_for(m - 1) + 1)
    }
}

/// Smallest mantissa a cast into `f` can produce (`-max` under AP_SAT_SYM).
pub fn lowest(f: &Format) -> i128 {
    if f.overflow() == Overflow::SatSym && f.signed() {
        -f.max_mant()
    } else {
        f.min_mant()
    }
}

/// Bounds of `to.cast(m · 2^−frac)` over `m` in `lo..=hi`, as [`cast`] tracks them: rounding
/// is monotone; the overflow step keeps the bounds when nothing can overflow, clamps them when
/// saturating, and otherwise gives the whole format.
pub fn cast_range(lo: i128, hi: i128, frac: i32, to: &Format) -> (i128, i128) {
    let s = frac - to.frac_bits();
    let (lo, hi) = if s > 0 {
        let up = (to.rounding() != Rounding::Trn) as i128;
        (lo >> s, (hi >> s) + up)
    } else {
        let k = (-s as u32).min(to.width() + 1);
        (lo << k, hi << k)
    };
    let (tlo, thi) = (lowest(to), to.max_mant());
    if lo >= tlo && hi <= thi {
        return (lo, hi);
    }
    match to.overflow() {
        Overflow::Wrap => (to.min_mant(), thi),
        Overflow::SatZero => (lo.clamp(tlo, 0), hi.clamp(0, thi)),
        Overflow::Sat | Overflow::SatSym => (lo.clamp(tlo, thi), hi.clamp(tlo, thi)),
    }
}

/// The exact product `x · y` (its range from the four corner products).
pub fn mul(b: &mut Builder, x: Fx, y: Fx) -> Fx {
    let c = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi];
    let (lo, hi) = (*c.iter().min().unwrap(), *c.iter().max().unwrap());
    Fx {
        v: b.mul(x.v, y.v, word(lo, hi)),
        frac: x.frac + y.frac,
        lo,
        hi,
    }
}

/// `to.cast(x)` in hardware: the mantissa of `x` in format `to`, bit for bit.
pub fn cast(b: &mut Builder, x: Fx, to: &Format) -> Fx {
    let s = x.frac - to.frac_bits();
    let q = if s > 0 {
        round(b, x, s as u32, to.rounding())
    } else if s < 0 {
        // Shifting beyond W + 1 bits only moves bits the overflow step drops (wrap) or decides
        // on by sign and zero-ness (saturation), so the shift is capped to keep words short;
        // the mantissa bounds below are those of the capped word, which is all that step reads.
        let k = (-s as u32).min(to.width() + 1);
        let ty = Ty {
            width: x.v.ty.width + k,
            signed: x.v.ty.signed,
        };
        Fx {
            v: b.shl(x.v, k, ty),
            frac: to.frac_bits(),
            lo: x.lo << k,
            hi: x.hi << k,
        }
    } else {
        x
    };
    overflow(b, q, to)
}

/// floor(m / 2^s) plus the rounding increment of `mode` (core's `cast_general` table).
fn round(b: &mut Builder, x: Fx, s: u32, mode: Rounding) -> Fx {
    let signed = x.v.ty.signed;
    // The dropped bits, the half bit and the sign must all be in the word.
    let w = x.v.ty.width.max(s + 1);
    let xv = b.resize(x.v, Ty { width: w, signed });
    let (qlo, qhi) = (x.lo >> s, x.hi >> s);
    let q = b.shr(xv, s, word(qlo, qhi));
    if mode == Rounding::Trn {
        return Fx {
            v: q,
            frac: x.frac - s as i32,
            lo: qlo,
            hi: qhi,
        };
    }
    let half = b.bit(xv, s - 1);
    let rest = if s >= 2 {
        let low = b.slice(xv, 0, s - 1);
        let zero = b.constant(0, low.ty);
        let z = b.eq(low, zero);
        b.not(z)
    } else {
        b.constant(0, Ty::u(1))
    };
    let neg = if signed {
        b.bit(xv, w - 1)
    } else {
        b.constant(0, Ty::u(1))
    };
    let up = match mode {
        Rounding::Trn => unreachable!("handled above"),
        Rounding::Rnd => half,
        Rounding::TrnZero => {
            let nz = b.or(half, rest);
            b.and(neg, nz)
        }
        Rounding::RndZero => {
            let t = b.or(rest, neg);
            b.and(half, t)
        }
        Rounding::RndMinInf => b.and(half, rest),
        Rounding::RndInf => {
            let pos = b.not(neg);
            let t = b.or(rest, pos);
            b.and(half, t)
        }
        Rounding::RndConv => {
            let odd = b.bit(xv, s.min(w - 1));
            let t = b.or(rest, odd);
            b.and(half, t)
        }
    };
    let hi = qhi + 1;
    Fx {
        v: b.add(q, up, word(qlo, hi)),
        frac: x.frac - s as i32,
        lo: qlo,
        hi,
    }
}

/// The overflow step of `to` on a mantissa already at `to`'s fractional bits.
fn overflow(b: &mut Builder, x: Fx, to: &Format) -> Fx {
    let ty = ty_of(to);
    let (lo, hi) = (lowest(to), to.max_mant());
    let frac = to.frac_bits();
    if x.lo >= lo && x.hi <= hi {
        return Fx {
            v: b.resize(x.v, ty),
            frac,
            lo: x.lo,
            hi: x.hi,
        };
    }
    let r = b.resize(x.v, ty);
    if to.overflow() == Overflow::Wrap {
        return Fx {
            v: r,
            frac,
            lo: to.min_mant(),
            hi,
        };
    }
    let below = (x.lo < lo).then(|| {
        let c = b.constant(lo, ty);
        b.lt(x.v, c)
    });
    let above = (x.hi > hi).then(|| {
        let c = b.constant(hi, ty);
        b.lt(c, x.v)
    });
    let v = if to.overflow() == Overflow::SatZero {
        let out = match (below, above) {
            (Some(a), Some(c)) => b.or(a, c),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => unreachable!("out of range on some side"),
        };
        let zero = b.constant(0, ty);
        b.mux(out, zero, r)
    } else {
        let mut v = r;
        if let Some(c) = above {
            let k = b.constant(hi, ty);
            v = b.mux(c, k, v);
        }
        if let Some(c) = below {
            let k = b.constant(lo, ty);
            v = b.mux(c, k, v);
        }
        v
    };
    let (rlo, rhi) = if to.overflow() == Overflow::SatZero {
        (x.lo.clamp(lo, 0), x.hi.clamp(0, hi))
    } else {
        (x.lo.clamp(lo, hi), x.hi.clamp(lo, hi))
    };
    Fx {
        v,
        frac,
        lo: rlo,
        hi: rhi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Sim;
    use crate::ir::{mask, sign_extend};
    use jettrellis_core::apfixed::Exact;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Mantissas worth checking in `f`: the ends, zero, ±1, and ties and near-ties at every
    /// shift up to 6 bits, plus random ones.
    fn edge_values(f: &Format, rng: &mut ChaCha8Rng) -> Vec<i128> {
        let (lo, hi) = (f.min_mant(), f.max_mant());
        let mut v = vec![lo, lo + 1, hi, hi - 1, 0, 1, -1];
        for s in 1..7 {
            let h = 1i128 << (s - 1);
            for base in [0i128, 1 << s, -(1 << s), 3 << s, -(3 << s)] {
                v.extend([base + h, base + h - 1, base + h + 1, base - h]);
            }
        }
        v.extend((0..64).map(|_| rng.random_range(lo..=hi)));
        v.retain(|m| (lo..=hi).contains(m));
        v
    }

    fn formats() -> Vec<Format> {
        let mut out = Vec::new();
        for (w, i, s) in [
            (16, 6, true),
            (8, 3, true),
            (12, 5, true),
            (24, 12, true),
            (18, 8, true),
            (15, 5, false),
            (6, 8, true),
            (10, -2, true),
            (8, 0, false),
            (1, 1, false),
        ] {
            for r in Rounding::ALL {
                for o in Overflow::ALL {
                    out.push(Format::new(s, w, i, r, o).unwrap());
                }
            }
        }
        out
    }

    /// The hardware cast equals `Format::convert` for every pair of a set of formats (all seven
    /// rounding and four overflow modes), on the range ends, zero, rounding ties and random
    /// mantissas.
    #[test]
    fn cast_matches_core_convert() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let fs = formats();
        let mut checked = 0u64;
        for from in fs.iter().step_by(3) {
            // One network per source format: one input, one output per target format.
            let mut b = Builder::new(8);
            let x = b.input("x", ty_of(from));
            let lat: Vec<usize> = fs
                .iter()
                .enumerate()
                .map(|(k, to)| {
                    let y = cast(&mut b, Fx::of(x, from), to);
                    assert_eq!(y.v.ty, ty_of(to));
                    b.output(format!("y{k}"), y.v) as usize
                })
                .collect();
            let net = b.finish();
            let vals = edge_values(from, &mut rng);
            // One value per clock: after n edges, output k shows the value sent lat[k] edges
            // earlier.
            let mut sim = Sim::new(&net);
            for n in 1..=vals.len() + lat.iter().max().unwrap() {
                if let Some(&m) = vals.get(n - 1) {
                    sim.set(0, (m as u128) & mask(from.width()));
                }
                sim.tick();
                for (k, to) in fs.iter().enumerate() {
                    let Some(&m) = n.checked_sub(lat[k]).and_then(|i| vals.get(i)) else {
                        continue;
                    };
                    let got = sign_extend(sim.get(k), ty_of(to));
                    assert_eq!(got, to.convert(from, m), "{from} -> {to}: mantissa {m}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    /// Products (wider words with more fractional bits) cast like `Format::cast` of the exact
    /// product.
    #[test]
    fn cast_of_products_matches_core() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let fx = Format::fixed(16, 6);
        for to in formats() {
            let mut b = Builder::new(8);
            let x = b.input("x", Ty::s(16));
            let w = b.input("w", Ty::s(16));
            let p = b.mul(x, w, Ty::s(32));
            let p = Fx {
                v: p,
                frac: 20,
                lo: -(1 << 30) + (1 << 15),
                hi: 1 << 30,
            };
            let y = cast(&mut b, p, &to);
            b.output("y", y.v);
            let net = b.finish();
            for _ in 0..40 {
                let (xm, wm) = match rng.random_range(0..4) {
                    0 => (fx.min_mant(), fx.min_mant()),
                    1 => (fx.min_mant(), fx.max_mant()),
                    _ => (
                        rng.random_range(fx.min_mant()..=fx.max_mant()),
                        rng.random_range(fx.min_mant()..=fx.max_mant()),
                    ),
                };
                let mut sim = Sim::new(&net);
                sim.set(0, (xm as u128) & mask(16));
                sim.set(1, (wm as u128) & mask(16));
                for _ in 0..32 {
                    sim.tick();
                }
                let want = to.cast(Exact {
                    mant: xm * wm,
                    frac: 20,
                });
                assert_eq!(
                    sign_extend(sim.get(0), ty_of(&to)),
                    want,
                    "{xm}*{wm} -> {to}"
                );
            }
        }
    }
}
