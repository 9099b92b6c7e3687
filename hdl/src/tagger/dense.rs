//! Dense layers with hls4ml's latency-strategy semantics (core's `Dense::forward_exact`): each
//! product cast to `accum_t`, the bias first, then the inputs in increasing order with every
//! partial sum cast to `accum_t`, then one cast to the result type.
//!
//! Additions need not follow that order when no partial sum can leave `accum_t`'s range, or
//! when `accum_t` wraps (every step is then arithmetic modulo 2^W, which is associative): those
//! sums become balanced adder trees. A saturating accumulator that can saturate keeps the exact
//! order, as a chain.
//!
//! A zero weight is skipped: its product casts to 0, and adding 0 to an accumulator value
//! (already in `accum_t`'s range, so no cast of it moves) changes nothing, saturating or not.

use super::fx::{cast, cast_range, lowest, mul, ty_of, word, Fx};
use super::{Ctx, GenError};
use crate::ir::{Ty, V};
use jettrellis_core::apfixed::{Format, Overflow};
use jettrellis_core::nn::Dense;

/// The range every prefix of `bias + Σ terms` stays in, and whether that range fits `accum`
/// (then no cast of a partial sum can change it).
fn sum_range(accum: &Format, bias: i128, terms: &[(i128, i128)]) -> (i128, i128, bool) {
    let lo = bias + terms.iter().map(|t| t.0.min(0)).sum::<i128>();
    let hi = bias + terms.iter().map(|t| t.1.max(0)).sum::<i128>();
    let fits = lo >= lowest(accum) && hi <= accum.max_mant();
    (lo, hi, fits)
}

/// Whether partial sums may be added in any order: `accum_t` wraps, or cannot be left.
fn reorderable(accum: &Format, fits: bool) -> bool {
    fits || accum.overflow() == Overflow::Wrap
}

/// `x · w` for a constant weight mantissa `w` (a shift for a positive power of two).
fn product(ctx: &mut Ctx, x: Fx, w: i64, w_frac: i32) -> Fx {
    let w = w as i128;
    let (a, c) = (x.lo * w, x.hi * w);
    let (lo, hi) = (a.min(c), a.max(c));
    let frac = x.frac + w_frac;
    let v = if w > 0 && w.count_ones() == 1 {
        let k = w.trailing_zeros();
        let ty = Ty {
            width: x.v.ty.width + k,
            signed: x.v.ty.signed,
        };
        ctx.b.shl(x.v, k, ty)
    } else {
        let wc = ctx.b.constant(w, word(w, w));
        ctx.b.mul(x.v, wc, word(lo, hi))
    };
    Fx { v, frac, lo, hi }
}

/// Sum of `terms` modulo 2^W in `accum`'s word, as a balanced tree.
fn tree(ctx: &mut Ctx, ty: Ty, terms: &[V]) -> V {
    match terms.len() {
        0 => ctx.b.constant(0, ty),
        1 => ctx.b.resize(terms[0], ty),
        n => {
            let (l, r) = terms.split_at(n / 2);
            let l = tree(ctx, ty, l);
            let r = tree(ctx, ty, r);
            ctx.b.add(l, r, ty)
        }
    }
}

/// One addition step of the accumulator: `accum(acc + t)`.
fn step(ctx: &mut Ctx, accum: &Format, acc: Fx, t: Fx) -> Fx {
    let (lo, hi) = (acc.lo + t.lo, acc.hi + t.hi);
    let v = ctx.b.add(acc.v, t.v, word(lo, hi));
    cast(ctx.b, Fx { v, lo, hi, ..acc }, accum)
}

/// The layer with one multiplier per nonzero weight (reuse factor 1).
pub fn parallel(ctx: &mut Ctx, d: &Dense, x: &[Fx]) -> Vec<Fx> {
    let f = &d.formats;
    let acc_ty = ty_of(&f.accum);
    let acc_frac = f.accum.frac_bits();
    (0..d.n_out)
        .map(|j| {
            let bias = f.accum.convert(&f.bias, d.bias[j] as i128);
            let nonzero: Vec<usize> = (0..d.n_in)
                .filter(|&i| d.weights[i * d.n_out + j] != 0)
                .collect();
            let term = |ctx: &mut Ctx, i: usize, xi: Fx| {
                let p = product(ctx, xi, d.weights[i * d.n_out + j], f.weight.frac_bits());
                cast(ctx.b, p, &f.accum)
            };
            let ranges: Vec<(i128, i128)> = nonzero
                .iter()
                .map(|&i| {
                    let w = d.weights[i * d.n_out + j] as i128;
                    let (a, b) = (x[i].lo * w, x[i].hi * w);
                    cast_range(
                        a.min(b),
                        a.max(b),
                        x[i].frac + f.weight.frac_bits(),
                        &f.accum,
                    )
                })
                .collect();
            let (lo, hi, fits) = sum_range(&f.accum, bias, &ranges);
            let acc = if reorderable(&f.accum, fits) {
                let mut vs = vec![ctx.b.constant(bias, acc_ty)];
                vs.extend(nonzero.iter().map(|&i| term(ctx, i, x[i]).v));
                let v = tree(ctx, acc_ty, &vs);
                let (lo, hi) = if fits {
                    (lo, hi)
                } else {
                    (f.accum.min_mant(), f.accum.max_mant())
                };
                Fx {
                    v,
                    frac: acc_frac,
                    lo,
                    hi,
                }
            } else {
                let mut acc = Fx::constant(ctx.b, bias, acc_frac);
                for &i in &nonzero {
                    // Each product is made just before the chain reaches it, from a delayed
                    // input: input delay lines are shared by all neurons, products are not.
                    // The trial at the input's cycle measures the product's latency (unused
                    // nodes are dropped by `Builder::finish`).
                    let trial = term(ctx, i, x[i]);
                    let lat = trial.v.cycle - x[i].v.cycle;
                    let at = acc.v.cycle.saturating_sub(lat).max(x[i].v.cycle);
                    let t = if at == x[i].v.cycle {
                        trial
                    } else {
                        let late = Fx {
                            v: ctx.b.delay_to(x[i].v, at),
                            ..x[i]
                        };
                        term(ctx, i, late)
                    };
                    acc = step(ctx, &f.accum, acc, t);
                }
                acc
            };
            cast(ctx.b, acc, &f.result)
        })
        .collect()
}

/// `vals[phase]` as one word holding all of them (a mux tree on the phase bits; phases past the
/// end read the last entry).
fn pick(ctx: &mut Ctx, phase: V, vals: &[Fx]) -> Fx {
    let lo = vals.iter().map(|v| v.lo).min().unwrap();
    let hi = vals.iter().map(|v| v.hi).max().unwrap();
    let ty = word(lo, hi);
    let vs: Vec<V> = vals.iter().map(|v| ctx.b.resize(v.v, ty)).collect();
    Fx {
        v: ctx.b.select(phase, &vs),
        frac: vals[0].frac,
        lo,
        hi,
    }
}

/// One shared multiplier of neuron `j`: at phase p it takes input k·R + p (inputs held from
/// `cycle` on) and that input's weight, and casts the product to `accum_t`.
fn shared_product(ctx: &mut Ctx, d: &Dense, x: &[Fx], j: usize, k: usize, cycle: u32) -> Fx {
    let f = &d.formats;
    let r = ctx.reuse as usize;
    let ph = ctx.phase_at(cycle);
    let mut xs = Vec::with_capacity(r);
    let mut ws = Vec::with_capacity(r);
    for p in 0..r {
        // Past the last input the weight is 0: the product, and so its cast, is 0.
        let i = (k * r + p).min(d.n_in - 1);
        let w = if k * r + p < d.n_in {
            d.weights[i * d.n_out + j]
        } else {
            0
        };
        xs.push(Fx {
            v: ctx.b.delay_to(x[i].v, cycle),
            ..x[i]
        });
        ws.push(Fx::constant(ctx.b, w as i128, f.weight.frac_bits()));
    }
    let xs = pick(ctx, ph, &xs);
    let w = pick(ctx, ph, &ws);
    let p = mul(ctx.b, xs, w);
    cast(ctx.b, p, &f.accum)
}

/// The layer with multipliers shared over R = `ctx.reuse` cycles, about ⌈n_in / R⌉ per neuron.
/// Inputs are held for R cycles from their cycle; the outputs are held for R cycles from theirs.
pub fn shared(ctx: &mut Ctx, d: &Dense, x: &[Fx]) -> Result<Vec<Fx>, GenError> {
    let f = &d.formats;
    let r = ctx.reuse as usize;
    let m = d.n_in.div_ceil(r);
    let c = x.iter().map(|v| v.v.cycle).max().unwrap_or(0);
    let acc_ty = ty_of(&f.accum);
    let acc_frac = f.accum.frac_bits();
    let full = (f.accum.min_mant(), f.accum.max_mant());
    let mut out = Vec::with_capacity(d.n_out);
    for j in 0..d.n_out {
        let bias = f.accum.convert(&f.bias, d.bias[j] as i128);
        let nonzero =
            |k: usize| (k * r..(k * r + r).min(d.n_in)).any(|i| d.weights[i * d.n_out + j] != 0);
        let slots: Vec<usize> = (0..m).filter(|&k| nonzero(k)).collect();
        let ranges: Vec<(i128, i128)> = (0..d.n_in)
            .filter_map(|i| {
                let w = d.weights[i * d.n_out + j] as i128;
                let (a, b) = (x[i].lo * w, x[i].hi * w);
                let frac = x[i].frac + f.weight.frac_bits();
                (w != 0).then(|| cast_range(a.min(b), a.max(b), frac, &f.accum))
            })
            .collect();
        let (lo, hi, fits) = sum_range(&f.accum, bias, &ranges);
        let acc = if reorderable(&f.accum, fits) {
            // Per phase, the products of all multipliers summed by a tree into one running sum.
            let terms: Vec<V> = slots
                .iter()
                .map(|&k| shared_product(ctx, d, x, j, k, c).v)
                .collect();
            let s = tree(ctx, acc_ty, &terms);
            let s = if s.depth > 0 { ctx.b.reg(s) } else { s };
            let t = s.cycle.max(c);
            let s = ctx.b.delay_to(s, t);
            let acc = ctx.b.feedback(acc_ty, t);
            let first = ctx.b.delay_to(ctx.strobe, t);
            let b0 = ctx.b.constant(bias, acc_ty);
            let base = ctx.b.mux(first, b0, acc);
            let next = ctx.b.add(base, s, acc_ty);
            ctx.b.connect(acc, next);
            let (lo, hi) = if fits { (lo, hi) } else { full };
            Fx {
                v: ctx.finish_loop(next, t)?,
                frac: acc_frac,
                lo,
                hi,
            }
        } else {
            // A saturating accumulator that can saturate: stage k adds inputs kR … kR+R−1 in
            // order, one per cycle, starting from stage k−1's total.
            let mut prev = Fx::constant(ctx.b, bias, acc_frac);
            let mut start = c;
            for &k in &slots {
                let p = shared_product(ctx, d, x, j, k, start);
                let p = if p.v.depth > 0 {
                    Fx {
                        v: ctx.b.reg(p.v),
                        ..p
                    }
                } else {
                    p
                };
                // Delaying the product stream shifts all its phases alike.
                let t = p.v.cycle.max(prev.v.cycle);
                let pv = ctx.b.delay_to(p.v, t);
                let acc = ctx.b.feedback(acc_ty, t);
                let first = ctx.b.delay_to(ctx.strobe, t);
                let held = ctx.b.delay_to(prev.v, t);
                let held = ctx.b.resize(held, acc_ty);
                let base = ctx.b.mux(first, held, acc);
                let base = Fx {
                    v: base,
                    frac: acc_frac,
                    lo: prev.lo.min(full.0),
                    hi: prev.hi.max(full.1),
                };
                let sum = step(ctx, &f.accum, base, Fx { v: pv, ..p });
                ctx.b.connect(acc, sum.v);
                let fin = ctx.finish_loop(sum.v, t)?;
                prev = Fx {
                    v: fin,
                    frac: acc_frac,
                    lo: lowest(&f.accum),
                    hi: full.1,
                };
                // The next stage's products should arrive when this total is ready.
                start = (start + fin.cycle).saturating_sub(t).max(c);
            }
            prev
        };
        out.push(cast(ctx.b, acc, &f.result));
    }
    Ok(out)
}
