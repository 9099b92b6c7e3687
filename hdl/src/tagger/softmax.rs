//! Core's stable `Softmax::forward`: the maximum, each wrapping difference to it in
//! `inp_norm_t`, the exp ROM read by its top bits, the sum as `nnet::reduce` does it (each
//! partial sum cast to `accum_t`), its cast to `inv_inp_t`, the inverse ROM read by its top bits,
//! and each product cast to the result type.

use super::fx::{cast, mul, ty_of, word, Fx};
use super::Ctx;
use crate::ir::{Table, Ty};
use jettrellis_core::apfixed::Format;
use jettrellis_core::nn::Softmax;

/// A ROM holding `table` (mantissas of `fmt`) and the value it reads at `addr`.
fn lookup(ctx: &mut Ctx, name: String, table: &[i128], fmt: &Format, addr: crate::ir::V) -> Fx {
    let w = fmt.width();
    let t = ctx.b.table(Table {
        name,
        width: w,
        addr_bits: table.len().trailing_zeros(),
        words: table
            .iter()
            .map(|&m| (m as u128) & crate::ir::mask(w))
            .collect(),
    });
    let raw = ctx.b.rom(t, addr);
    Fx {
        v: ctx.b.resize(raw, ty_of(fmt)),
        frac: fmt.frac_bits(),
        lo: table.iter().copied().min().unwrap_or(0),
        hi: table.iter().copied().max().unwrap_or(0),
    }
}

/// The top `bits` bits of the `w`-bit word of `x`, unsigned.
fn top_bits(ctx: &mut Ctx, x: Fx, w: u32, bits: u32) -> crate::ir::V {
    let word = ctx.b.resize(x.v, Ty::u(w));
    ctx.b.slice(word, w - bits, bits)
}

/// The maximum of `x`, as a pairwise tree.
fn max_tree(ctx: &mut Ctx, x: &[Fx]) -> Fx {
    if x.len() == 1 {
        return x[0];
    }
    let (l, r) = x.split_at(x.len() / 2);
    let (a, b) = (max_tree(ctx, l), max_tree(ctx, r));
    let (lo, hi) = (a.lo.max(b.lo), a.hi.max(b.hi));
    let ty = word(a.lo.min(b.lo), hi);
    let less = ctx.b.lt(a.v, b.v);
    let bv = ctx.b.resize(b.v, ty);
    let av = ctx.b.resize(a.v, ty);
    Fx {
        v: ctx.b.mux(less, bv, av),
        frac: a.frac,
        lo,
        hi,
    }
}

/// `nnet::reduce` with `Op_add<accum_t>`: split at the largest power of two below n, cast
/// every partial sum.
fn reduce(ctx: &mut Ctx, accum: &Format, x: &[Fx]) -> Fx {
    match x.len() {
        1 => x[0],
        n => {
            let left = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let a = reduce(ctx, accum, &x[..left]);
            let b = reduce(ctx, accum, &x[left..]);
            let (lo, hi) = (a.lo + b.lo, a.hi + b.hi);
            let v = ctx.b.add(a.v, b.v, word(lo, hi));
            cast(ctx.b, Fx { v, lo, hi, ..a }, accum)
        }
    }
}

/// The softmax of `x` (layer `name` names its ROMs).
pub fn softmax(ctx: &mut Ctx, sm: &Softmax, name: &str, x: &[Fx]) -> Vec<Fx> {
    let f = &sm.formats;
    let norm = f.norm();
    let xmax = max_tree(ctx, x);
    let exp_bits = sm.exp_table.len().trailing_zeros();
    let o: Vec<Fx> = x
        .iter()
        .map(|&xi| {
            let (lo, hi) = (xmax.lo - xi.hi, xmax.hi - xi.lo);
            let v = ctx.b.sub(xmax.v, xi.v, word(lo, hi));
            let d = cast(ctx.b, Fx { v, lo, hi, ..xi }, &norm);
            let addr = top_bits(ctx, d, norm.width(), exp_bits);
            let e = lookup(ctx, format!("{name}_exp"), sm.exp_table, &f.exp_table, addr);
            cast(ctx.b, e, &f.accum)
        })
        .collect();
    let sum = reduce(ctx, &f.accum, &o);
    let s = cast(ctx.b, sum, &f.inv_input);
    let inv_bits = sm.inv_table.len().trailing_zeros();
    let addr = top_bits(ctx, s, f.inv_input.width(), inv_bits);
    let inv = lookup(ctx, format!("{name}_inv"), sm.inv_table, &f.inv_table, addr);
    o.iter()
        .map(|&oi| {
            let p = mul(ctx.b, oi, inv);
            cast(ctx.b, p, &f.result)
        })
        .collect()
}
