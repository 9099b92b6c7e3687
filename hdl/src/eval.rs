//! Cycle-accurate evaluation of a [`Netlist`] with the semantics stated in [`crate::ir`]: the
//! reference the emitted Verilog is checked against, and the engine behind the rust-hdl backend.

use crate::ir::{flatten, mask, sign_extend, Id, Netlist, Op, Ty};
use std::borrow::Cow;
use std::cmp::Ordering;

/// A running netlist: register state plus the values of the last evaluation.
#[derive(Clone, Debug)]
pub struct Sim<'a> {
    net: Cow<'a, Netlist>,
    vals: Vec<u128>,
    inputs: Vec<u128>,
    regs: Vec<(Id, Id, Option<Id>)>,
    next: Vec<u128>,
    /// Per delay memory: its source and its words (`depth` of them, a power of two), written
    /// at `cycles mod depth`.
    mems: Vec<(Id, Vec<u128>)>,
    cycles: u64,
}

impl<'a> Sim<'a> {
    /// A simulation of `net` with every register at 0.
    pub fn new(net: &'a Netlist) -> Sim<'a> {
        let net = if net.modules.is_empty() {
            Cow::Borrowed(net)
        } else {
            Cow::Owned(flatten(net))
        };
        let regs: Vec<(Id, Id, Option<Id>)> = net
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(k, n)| match n.op {
                Op::Reg(x) => Some((k as Id, x, None)),
                Op::RegEn(x, en) => Some((k as Id, x, Some(en))),
                Op::Rom(..) | Op::Delay(..) => Some((k as Id, k as Id, None)),
                _ => None,
            })
            .collect();
        let mut mem_of = vec![usize::MAX; net.nodes.len()];
        let mems = net
            .delay_memories()
            .into_iter()
            .enumerate()
            .map(|(m, d)| {
                for (tap, _) in d.taps {
                    mem_of[tap as usize] = m;
                }
                (d.src, vec![0; d.depth as usize])
            })
            .collect();
        Sim {
            vals: vec![0; net.nodes.len()],
            inputs: vec![0; net.inputs.len()],
            next: vec![0; regs.len()],
            regs: regs
                .into_iter()
                .map(|(dst, src, en)| match net.nodes[dst as usize].op {
                    // A delay tap names its memory in place of a source.
                    Op::Delay(..) => (dst, mem_of[dst as usize] as Id, None),
                    _ => (dst, src, en),
                })
                .collect(),
            mems,
            cycles: 0,
            net,
        }
    }

    /// Sets input port `k` (raw bits; cut to the port width).
    pub fn set(&mut self, k: usize, raw: u128) {
        self.inputs[k] = raw & mask(self.net.inputs[k].ty.width);
    }

    /// Output port `k` after the last clock edge (outputs are registers).
    pub fn get(&self, k: usize) -> u128 {
        self.vals[self.net.outputs[k].1 as usize]
    }

    /// Clock edges so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    fn ext(&self, id: Id, w: u32) -> u128 {
        let t = self.net.nodes[id as usize].ty;
        (sign_extend(self.vals[id as usize], t) as u128) & mask(w)
    }

    fn value(&self, id: Id) -> i128 {
        sign_extend(self.vals[id as usize], self.net.nodes[id as usize].ty)
    }

    /// Orders the mathematical values of two nodes. Not by `value` alone: a 128-bit unsigned
    /// word at or above 2^127 is no i128.
    fn cmp(&self, a: Id, b: Id) -> Ordering {
        let neg = |id: Id| {
            let t = self.net.nodes[id as usize].ty;
            t.signed && (self.vals[id as usize] >> (t.width - 1)) & 1 == 1
        };
        match (neg(a), neg(b)) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Same sign: two's complement at 128 bits orders like the values.
            _ => (self.value(a) as u128).cmp(&(self.value(b) as u128)),
        }
    }

    /// Evaluates the combinational logic from the inputs and the register state.
    pub fn settle(&mut self) {
        for k in 0..self.net.nodes.len() {
            let n = &self.net.nodes[k];
            let w = n.ty.width;
            let m = mask(w);
            let e = |x: Id| self.ext(x, w);
            let v = match n.op {
                Op::Reg(_) | Op::RegEn(..) | Op::Rom(..) | Op::Delay(..) => continue,
                Op::Inst(..) | Op::InstOut(..) => unreachable!("evaluated flattened"),
                Op::Input(i) => self.inputs[i as usize],
                Op::Const(x) => x,
                Op::Add(a, b) => e(a).wrapping_add(e(b)),
                Op::Sub(a, b) => e(a).wrapping_sub(e(b)),
                Op::Mul(a, b) => e(a).wrapping_mul(e(b)),
                Op::Shl(a, s) => {
                    if s >= w {
                        0
                    } else {
                        e(a) << s
                    }
                }
                Op::Shr(a, s) => {
                    if self.net.nodes[a as usize].ty.signed {
                        (self.value(a) >> s.min(127)) as u128
                    } else {
                        // Not through `value`: a 128-bit unsigned word is not an i128.
                        self.vals[a as usize].checked_shr(s).unwrap_or(0)
                    }
                }
                Op::Resize(a) => e(a),
                Op::VarShl(a, s) => {
                    let s = self.vals[s as usize];
                    if s >= w as u128 {
                        0
                    } else {
                        e(a) << s
                    }
                }
                Op::VarShr(a, s) => {
                    let s = self.vals[s as usize];
                    if self.net.nodes[a as usize].ty.signed {
                        let x = sign_extend(e(a), Ty::s(w));
                        (x >> s.min(w as u128 - 1)) as u128
                    } else if s >= w as u128 {
                        0
                    } else {
                        e(a) >> s
                    }
                }
                Op::Lt(a, b) => self.cmp(a, b).is_lt() as u128,
                Op::Eq(a, b) => self.cmp(a, b).is_eq() as u128,
                Op::Mux(c, a, b) => {
                    if self.vals[c as usize] & 1 == 1 {
                        e(a)
                    } else {
                        e(b)
                    }
                }
                Op::And(a, b) => e(a) & e(b),
                Op::Or(a, b) => e(a) | e(b),
                Op::Xor(a, b) => e(a) ^ e(b),
                Op::Not(a) => !e(a),
                Op::Slice(a, lo) => self.vals[a as usize] >> lo,
                Op::Cat(a, b) => {
                    let wb = self.net.nodes[b as usize].ty.width;
                    (self.vals[a as usize] << wb) | self.vals[b as usize]
                }
            };
            self.vals[k] = v & m;
        }
    }

    /// One rising clock edge: settles, then every register loads.
    pub fn tick(&mut self) {
        self.settle();
        // This cycle's word goes in first: a tap of delay d reads the word of d − 1 cycles
        // before this one, never a later one, so the order inside the edge does not matter.
        let now = self.cycles as usize;
        for (src, words) in &mut self.mems {
            let at = now & (words.len() - 1);
            words[at] = self.vals[*src as usize];
        }
        for (k, &(dst, src, en)) in self.regs.iter().enumerate() {
            self.next[k] = match (&self.net.nodes[dst as usize].op, en) {
                (Op::Delay(_, d), _) => {
                    let words = &self.mems[src as usize].1;
                    words[(now + 1).wrapping_sub(*d as usize) & (words.len() - 1)]
                }
                (Op::Rom(t, a), _) => self.net.tables[*t as usize]
                    .words
                    .get(self.vals[*a as usize] as usize)
                    .copied()
                    .unwrap_or(0),
                (_, Some(en)) if self.vals[en as usize] & 1 == 0 => self.vals[dst as usize],
                _ => self.vals[src as usize],
            };
        }
        for (k, &(dst, _, _)) in self.regs.iter().enumerate() {
            self.vals[dst as usize] = self.next[k];
        }
        self.cycles += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Builder, Ty};

    /// 128-bit unsigned words at or above 2^127 are large positive values, not negative i128s
    /// (found by the Verilator differential test in jettrellis-sim).
    #[test]
    fn unsigned_128_bit_words_are_not_negative() {
        let mut b = Builder::new(8);
        let u = b.input("u", Ty::u(128));
        let s = b.input("s", Ty::s(128));
        let v = b.shr(u, 127, Ty::u(128));
        b.output("shr", v);
        let v = b.lt(u, s);
        b.output("lt", v);
        let v = b.eq(u, s);
        b.output("eq", v);
        let net = b.finish();
        let mut sim = Sim::new(&net);
        sim.set(0, u128::MAX);
        sim.set(1, u128::MAX);
        for _ in 0..4 {
            sim.tick();
        }
        // 2^128 - 1 >> 127 = 1; 2^128 - 1 is not below -1, nor equal to it.
        assert_eq!([sim.get(0), sim.get(1), sim.get(2)], [1, 0, 0]);
    }
}
