//! Element-wise layers: ReLU and Linear (casts) and the sigmoid (a ROM of core's table).

use super::fx::{cast, ty_of, word, Fx};
use super::Ctx;
use crate::ir::{Table, Ty};
use jettrellis_core::apfixed::Format;
use jettrellis_core::nn::Sigmoid;

/// Core's `relu`: `x > 0 ? result(x) : 0`.
pub fn relu(ctx: &mut Ctx, x: Fx, result: &Format) -> Fx {
    let c = cast(ctx.b, x, result);
    if x.lo > 0 {
        return c;
    }
    let ty = ty_of(result);
    if x.hi <= 0 {
        return Fx::constant(ctx.b, 0, result.frac_bits());
    }
    let zero = ctx.b.constant(0, x.v.ty);
    let pos = ctx.b.lt(zero, x.v);
    let z = ctx.b.constant(0, ty);
    Fx {
        v: ctx.b.mux(pos, c.v, z),
        frac: c.frac,
        lo: c.lo.min(0),
        hi: c.hi.max(0),
    }
}

/// The table of `s` as a ROM (raw words of the table format).
fn sigmoid_rom(ctx: &mut Ctx, s: &Sigmoid, name: &str) -> u32 {
    let w = s.table_fmt.width();
    ctx.b.table(Table {
        name: name.to_string(),
        width: w,
        addr_bits: s.table.len().trailing_zeros(),
        words: s
            .table
            .iter()
            .map(|&m| (m as u128) & crate::ir::mask(w))
            .collect(),
    })
}

/// Core's `Sigmoid::forward` on one value: the index `(int)(x·N/16)` (truncated toward zero,
/// kept to 32 bits as the C++ `int` does) plus N/2, clamped to the table, then the table entry
/// cast to the result type.
pub fn sigmoid(ctx: &mut Ctx, s: &Sigmoid, name: &str, x: Fx) -> Fx {
    let n = s.table.len() as i128;
    let log_n = s.table.len().trailing_zeros();
    let k = log_n as i32 - 4 - s.input.frac_bits();
    let b = &mut *ctx.b;
    // |x| exactly (one bit more than x for the most negative value).
    let neg = if x.v.ty.signed {
        b.bit(x.v, x.v.ty.width - 1)
    } else {
        b.constant(0, Ty::u(1))
    };
    let mag_max = x.lo.unsigned_abs().max(x.hi.unsigned_abs());
    let mag_ty = word(0, mag_max as i128);
    let zero = b.constant(0, x.v.ty);
    let minus = b.sub(zero, x.v, mag_ty);
    let plain = b.resize(x.v, mag_ty);
    let mag = b.mux(neg, minus, plain);
    // |x|·N/16 truncated: a shift either way.
    let (t, t_max) = if k >= 0 {
        let k = k as u32;
        let ty = Ty::u(mag_ty.width + k);
        // Past 31 bits of shift the 32-bit wrap below decides, not this bound.
        (
            b.shl(mag, k, ty),
            if k < 64 { mag_max << k } else { u128::MAX },
        )
    } else {
        let k = (-k) as u32;
        let w = mag_ty.width.saturating_sub(k).max(1);
        (b.shr(mag, k, Ty::u(w)), mag_max.checked_shr(k).unwrap_or(0))
    };
    // The C++ keeps the low 32 bits in an `int`.
    let (t, t_signed) = if t.ty.width >= 32 {
        (b.resize(t, Ty::s(32)), true)
    } else {
        (t, false)
    };
    let tw = t.ty.width;
    let signed_ty = if t_signed { Ty::s(32) } else { Ty::s(tw + 1) };
    let zero_t = b.constant(0, t.ty);
    let negated = b.sub(zero_t, t, signed_ty);
    let t_s = b.resize(t, signed_ty);
    let data_round = b.mux(neg, negated, t_s);
    let wide = Ty::s(signed_ty.width.max(log_n + 1) + 1);
    let half = b.constant(n / 2, wide);
    let idx = b.add(data_round, half, wide);
    // Clamp to 0 … N−1 (only the sides that can be reached).
    let reach_lo = if t_signed {
        true
    } else {
        t_max as i128 > n / 2
    };
    let reach_hi = if t_signed {
        true
    } else {
        t_max as i128 >= n / 2
    };
    let mut idx_c = b.resize(idx, Ty::u(log_n));
    if reach_hi {
        let top = b.constant(n - 1, wide);
        let over = b.lt(top, idx);
        let c = b.constant(n - 1, Ty::u(log_n));
        idx_c = b.mux(over, c, idx_c);
    }
    if reach_lo {
        let z = b.constant(0, wide);
        let under = b.lt(idx, z);
        let c = b.constant(0, Ty::u(log_n));
        idx_c = b.mux(under, c, idx_c);
    }
    // One table per layer: `Builder::table` returns the existing one for the other outputs.
    let t = sigmoid_rom(ctx, s, name);
    let word = ctx.b.rom(t, idx_c);
    let entry = ctx.b.resize(word, ty_of(&s.table_fmt));
    let (lo, hi) = (
        *s.table.iter().min().unwrap_or(&0),
        *s.table.iter().max().unwrap_or(&0),
    );
    let e = Fx {
        v: entry,
        frac: s.table_fmt.frac_bits(),
        lo,
        hi,
    };
    cast(ctx.b, e, &s.result)
}
