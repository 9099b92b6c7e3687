//! The clustering datapath generator: from a design, a pipelined netlist computing exactly what
//! `jettrellis_core::fixed::FixedTrellis` computes (docs/datapath.md), with fold factor F.
//!
//! Stages (cycles are set by the builder's depth budget from the target clock):
//! 1. input registers (hold registers loaded by `in_valid` when F > 1);
//! 2. compaction: leaf i ← the i-th valid slot (prefix counts and one-hot muxes);
//! 3. pair invariants s_ij for the N(N−1)/2 leaf pairs (angle ROMs, two multipliers each);
//! 4. subset terms for all 2^N subsets: exact t by size level (t(S) = t(S∖h) + Σ s_hj),
//!    saturation, √t (digit by digit), ln t;
//! 5. ψ of every split of every subset, all in parallel (ψ does not depend on the recursion);
//!    with F > 1 one ψ unit serves F consecutive splits of one subset, one per cycle;
//! 6. the recursion by subset size: m = ψ + m_A + m_B, z = ψ + z_A + z_B (saturating), an
//!    argmax tree (ties → lower split index) and the pairwise max* tree of §5.2 per subset, as
//!    one `combine_k` module per subset size k, instantiated per subset;
//! 7. the result for the root full(n) (λ_root variant when it differs), the MAP tree by a
//!    pipelined pre-order walk over the argmax table, and the per-stage overflow flags.

mod features;
pub mod io;
pub mod units;

use crate::ir::{bits_for, Builder, Netlist, Ty, V};
use jettrellis_core::fixed::features::FEATURES;
use jettrellis_core::fixed::{Design, Quantity, Stage, Tables};
use jettrellis_core::mask::{self, Mask};
use std::collections::HashMap;
use units::{Log, LutRom, Psi, Terms, Units};

/// Largest N the generator accepts (the argmax table and ψ units grow as 3^N).
pub const MAX_HW_LEAVES: u32 = 10;

/// Why a design cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenError {
    /// The design key at fault.
    pub key: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for GenError {}

/// A generated datapath.
#[derive(Clone, Debug)]
pub struct Datapath {
    /// The netlist.
    pub net: Netlist,
    /// Clock edges from the one that samples `in_valid` to the one after which `out_valid`
    /// and the outputs are visible (that edge included).
    pub latency: u32,
    /// Initiation interval: cycles between two jets (= fold).
    pub ii: u32,
    /// ψ units instantiated.
    pub psi_units: usize,
    /// Splits evaluated per jet.
    pub splits: u64,
    /// Depth budget used between registers (builder cost units).
    pub depth_budget: u32,
    /// Cycle (after the sampling edge) at which each stage's last result is valid, in order.
    pub stages: Vec<(String, u32)>,
}

/// Names of the ports, for drivers: inputs `in_valid`, `valid`, `pt_k`, `eta_k`, `phi_k`;
/// outputs `out_valid`, `n_leaves`, `map_value`, `map_ninf`, `log_z`, `log_z_ninf`,
/// `tree_s_j`, `tree_a_j` (j < N − 1), `overflow` (one bit per `Stage`, in `Stage::ALL` order).
pub mod port {
    /// Input strobe.
    pub const IN_VALID: &str = "in_valid";
    /// Valid bit per slot.
    pub const VALID: &str = "valid";
    /// Output strobe.
    pub const OUT_VALID: &str = "out_valid";
    /// Number of valid leaves.
    pub const N_LEAVES: &str = "n_leaves";
    /// MAP value (score format).
    pub const MAP_VALUE: &str = "map_value";
    /// MAP is −∞.
    pub const MAP_NINF: &str = "map_ninf";
    /// log Z (score format).
    pub const LOG_Z: &str = "log_z";
    /// log Z is −∞.
    pub const LOG_Z_NINF: &str = "log_z_ninf";
    /// Overflow flags.
    pub const OVERFLOW: &str = "overflow";
}

/// Verilator `-Wall` warnings the generated Verilog waives, with the reason for each; nothing
/// else may appear (checked by a test for N = 2 … 8).
pub const LINT_WAIVERS: [(&str, &str); 2] = [
    (
        "DECLFILENAME",
        "one file holds the top, its sub-modules and its ROMs, so not every module name can \
         match the file name",
    ),
    (
        "UNUSEDSIGNAL",
        "the generator keeps only the bits it needs of wider words (dropped low product bits, \
         slices) and connects every port of a shared module, some of which an instance does not \
         use; synthesis removes those bits",
    ),
];

/// The Verilator `-Wall` check of the generated Verilog `file` (top module `top`) with the
/// waivers of [`LINT_WAIVERS`]: a hierarchical verilation into `mdir`, C++ only, nothing
/// compiled. Each sub-module (`hier_block`) is checked once with the same flags and the top
/// against their ports; `--lint-only` would copy every sub-module into each of its instances
/// (over 23 GB at N = 8, against 1.8 GB this way). Exit status 0 means clean.
pub fn lint_args(top: &str, file: &str, mdir: &str) -> Vec<String> {
    let mut a: Vec<String> = ["--cc", "--hierarchical", "-Wall"]
        .map(String::from)
        .to_vec();
    a.extend(lint_waiver_flags());
    a.extend(["--top-module", top, "--Mdir", mdir, file].map(String::from));
    a
}

/// The Verilator flags of [`LINT_WAIVERS`] (`-Wno-NAME`).
pub fn lint_waiver_flags() -> impl Iterator<Item = String> {
    LINT_WAIVERS.iter().map(|(w, _)| format!("-Wno-{w}"))
}

/// Cost-unit budget between registers for a target clock: about 0.5 ns per unit after 1 ns of
/// clock-to-out, setup and skew (an estimate; the report measures real logic depth).
pub fn depth_budget(clock_mhz: f64) -> u32 {
    let period_ns = 1000.0 / clock_mhz;
    (((period_ns - 1.0) / 0.5).floor() as u32).max(3)
}

/// Checks that `d` can be generated.
pub fn check(d: &Design) -> Result<(), GenError> {
    if !(2..=MAX_HW_LEAVES).contains(&d.max_leaves) {
        return Err(GenError {
            key: "max_leaves",
            problem: format!(
                "the hardware generator supports 2..={MAX_HW_LEAVES} leaves, not {}",
                d.max_leaves
            ),
        });
    }
    if d.outputs.count {
        return Err(GenError {
            key: "outputs.count",
            problem: "the tree count is not implemented in hardware yet (software computes it); \
                      set outputs.count = false"
                .into(),
        });
    }
    if !d.outputs.map && !d.outputs.log_z {
        return Err(GenError {
            key: "outputs",
            problem: "at least one of outputs.map and outputs.log_z must be true".into(),
        });
    }
    if !d.fold.is_power_of_two() {
        return Err(GenError {
            key: "fold",
            problem: format!("fold must be a power of two, not {}", d.fold),
        });
    }
    Ok(())
}

/// Values of one subset after the subset stage.
#[derive(Clone, Copy)]
struct Sub {
    t: V,
    sqrt: V,
    ln: V,
    can_split: V,
}

/// Recursion values of one subset.
#[derive(Clone, Copy)]
struct Cell {
    map: Log,
    z: Log,
    /// The winning split as a pattern over the subset's leaves (see [`Gen::spread`]).
    best: V,
}

/// The operands of one split: its two children and their leaf flags.
type Operands = (Sub, Sub, V, V);

/// One bit of a word that is a constant or a 1-bit value. The argmax carries the winning
/// split pattern bit by bit, so that a bit all candidates of a subtree share stays a constant:
/// as a word it went through the pipeline registers, and Yosys found such constant registers
/// one `opt` round per stage.
#[derive(Clone, Copy)]
enum Bit {
    Const(bool),
    Var(V),
}

impl Bit {
    fn value(self, b: &mut Builder) -> V {
        match self {
            Bit::Const(k) => b.constant(k as i128, Ty::u(1)),
            Bit::Var(v) => v,
        }
    }
}

/// `sel ? a : c` bit by bit (equal constants stay constants).
fn mux_bits(b: &mut Builder, sel: V, a: &[Bit], c: &[Bit]) -> Vec<Bit> {
    a.iter()
        .zip(c)
        .map(|(&x, &y)| match (x, y) {
            (Bit::Const(p), Bit::Const(q)) if p == q => x,
            _ => {
                let (x, y) = (x.value(b), y.value(b));
                Bit::Var(b.mux(sel, x, y))
            }
        })
        .collect()
}

/// The word of `bits` (bit 0 first).
fn word(b: &mut Builder, bits: &[Bit]) -> V {
    let mut w = bits[0].value(b);
    for x in &bits[1..] {
        let hi = x.value(b);
        w = b.cat(hi, w);
    }
    w
}

struct Gen<'t> {
    b: Builder,
    u: Units<'t>,
    tab: &'t Tables,
    n: usize,
    fold: u32,
    strobe: V,
    phases: HashMap<u32, V>,
    ovf: [Vec<V>; 6],
    psi_units: usize,
    modules: HashMap<String, u32>,
}

impl<'t> Gen<'t> {
    fn new(tab: &'t Tables, budget: u32, n: usize, fold: u32) -> Gen<'t> {
        let mut b = Builder::new(budget);
        let u = Units::new(&mut b, tab);
        let strobe = b.constant(0, Ty::u(1));
        Gen {
            b,
            u,
            tab,
            n,
            fold,
            strobe,
            phases: HashMap::new(),
            ovf: Default::default(),
            psi_units: 0,
            modules: HashMap::new(),
        }
    }

    /// Module `key`, built by `build` in a fresh builder the first time.
    fn module(&mut self, key: &str, build: impl FnOnce(&mut Gen<'t>)) -> u32 {
        if let Some(&m) = self.modules.get(key) {
            return m;
        }
        let mut sub = Gen::new(self.tab, self.b.budget(), self.n, 1);
        build(&mut sub);
        let m = self.b.add_module(sub.b.module(key));
        self.modules.insert(key.to_string(), m);
        m
    }

    /// √t and ln t of a subset (one module per design, instantiated per subset).
    fn subset_terms(&mut self, t: V) -> (V, V) {
        let tab = self.tab;
        let m = self.module("subset_terms", |g| {
            let t = g.b.raw_input("t", t.ty);
            let shifted =
                g.b.shl(t, tab.sqrt_shift, Ty::u(t.ty.width + tab.sqrt_shift));
            let sqrt = g.u.isqrt(&mut g.b, shifted);
            let ln = g.u.ln(&mut g.b, t, tab.design.internal.t_frac).v;
            g.b.module_output("sqrt_t", sqrt);
            g.b.module_output("ln_t", ln);
        });
        let o = self.b.instance(m, &[t]);
        (o[0], o[1])
    }

    /// The ψ module for λ `root` and child kinds `ka`, `kb` (`l` leaf, `i` inner, `d` chosen at
    /// run time by a flag input), for operands of types `tys`.
    fn psi_module(&mut self, root: bool, ka: &'static str, kb: &'static str, tys: [Ty; 8]) -> u32 {
        let key = format!("psi_{}_{ka}{kb}", if root { "root" } else { "inner" });
        self.module(&key, |g| {
            let names = [
                "s_ln", "s_sqrt", "a_t", "a_sqrt", "a_ln", "b_t", "b_sqrt", "b_ln",
            ];
            let p: Vec<V> = names
                .iter()
                .zip(tys)
                .map(|(n, t)| g.b.raw_input(*n, t))
                .collect();
            let flag = |g: &mut Gen, k: &str, n: &str| match k {
                "l" => g.cu(1, 1),
                "i" => g.cu(0, 1),
                _ => g.b.raw_input(n, Ty::u(1)),
            };
            let al = flag(g, ka, "a_leaf");
            let bl = flag(g, kb, "b_leaf");
            let child = |t, sqrt, ln| Terms { t, sqrt, ln };
            let (sa, sb) = (child(p[2], p[3], p[4]), child(p[5], p[6], p[7]));
            let lam = if root { g.u.root } else { g.u.inner };
            let r = g.u.psi(&mut g.b, &lam, (p[0], p[1]), sa, sb, (al, bl));
            g.b.module_output("psi", r.psi.v);
            g.b.module_output("psi_ninf", r.psi.ninf);
            g.b.module_output("ratio_ovf", r.ratio_ovf);
            g.b.module_output("score_ovf", r.score_ovf);
        })
    }

    /// A ψ unit as an instance of its module.
    fn psi_unit(&mut self, root: bool, s: &Sub, a: &Sub, bb: &Sub, al: V, bl: V) -> Psi {
        let kind = |g: &Self, f: V| match g.b.const_value(f) {
            Some(1) => "l",
            Some(_) => "i",
            None => "d",
        };
        let (ka, kb) = (kind(self, al), kind(self, bl));
        let ins = [s.ln, s.sqrt, a.t, a.sqrt, a.ln, bb.t, bb.sqrt, bb.ln];
        let m = self.psi_module(root, ka, kb, ins.map(|v| v.ty));
        let mut ins = ins.to_vec();
        if ka == "d" {
            ins.push(al);
        }
        if kb == "d" {
            ins.push(bl);
        }
        let o = self.b.instance(m, &ins);
        Psi {
            psi: Log {
                v: o[0],
                ninf: o[1],
            },
            ratio_ovf: o[2],
            score_ovf: o[3],
        }
    }

    /// Cycles from a ψ unit's operands to its results (the generic unit: the slowest kind).
    fn psi_latency(&mut self, like: &Sub) -> u32 {
        let tys = [
            like.ln, like.sqrt, like.t, like.sqrt, like.ln, like.t, like.sqrt, like.ln,
        ];
        let m = self.psi_module(false, "d", "d", tys.map(|v| v.ty));
        let t = &self.b.module_def(m).timing;
        t.iter().map(|t| t.0).max().unwrap()
    }

    fn cu(&mut self, x: u64, w: u32) -> V {
        self.b.constant(x as i128, Ty::u(w))
    }

    fn flag(&mut self, s: Stage, v: V) {
        self.ovf[s as usize].push(v);
    }

    /// A phase counter valid at `cycle`: 0 when the jet's strobe is there, then 1, 2, … up to
    /// `fold` (idle).
    fn phase_at(&mut self, cycle: u32) -> V {
        if let Some(&p) = self.phases.get(&cycle) {
            return p;
        }
        let w = bits_for(self.fold as u128);
        let st = self.b.delay_to(self.strobe, cycle);
        let cnt = self.b.feedback(Ty::u(w), cycle);
        let zero = self.cu(0, w);
        let phase = self.b.mux(st, zero, cnt);
        let f = self.cu(self.fold as u64, w);
        let busy = self.b.lt(phase, f);
        let one = self.cu(1, w);
        let inc = self.b.add(phase, one, Ty::u(w));
        let next = self.b.mux(busy, inc, phase);
        self.b.connect(cnt, next);
        self.phases.insert(cycle, phase);
        phase
    }

    fn compaction(&mut self, slots: &[[V; 3]], valid: V) -> (Vec<[V; 3]>, Vec<V>, V) {
        let n = self.n;
        let wr = bits_for(n as u128);
        let mut rank = vec![self.cu(0, wr)];
        for k in 0..n {
            let v = self.b.bit(valid, k as u32);
            let r = self.b.add(rank[k], v, Ty::u(wr));
            rank.push(r);
        }
        let count = rank[n];
        let mut leaves = Vec::new();
        let mut cvalid = Vec::new();
        for i in 0..n {
            let mut acc: [V; 3] = [0, 1, 2].map(|f| {
                let ty = slots[0][f].ty;
                self.b.constant(0, ty)
            });
            for k in i..n {
                let v = self.b.bit(valid, k as u32);
                let ic = self.cu(i as u64, wr);
                let at = self.b.eq(rank[k], ic);
                let sel = self.b.and(v, at);
                for f in 0..3 {
                    acc[f] = self.b.mux(sel, slots[k][f], acc[f]);
                }
            }
            leaves.push(acc);
            let ic = self.cu(i as u64, wr);
            cvalid.push(self.b.lt(ic, count));
        }
        (leaves, cvalid, count)
    }

    fn pair(&mut self, a: &[V; 3], bb: &[V; 3], active: V, roms: &(LutRom, LutRom)) -> V {
        let d = &self.tab.design;
        let k = d.input.angle_steps_per_pi as i64;
        let eb = d.input.eta_bits;
        let de = self.b.sub(a[1], bb[1], Ty::s(eb + 1));
        let zero = self.b.constant(0, Ty::s(eb + 1));
        let neg = self.b.lt(de, zero);
        let nde = self.b.sub(zero, de, Ty::s(eb + 2));
        let de = self.b.resize(de, Ty::s(eb + 2));
        let ade = self.b.mux(neg, nde, de);
        let last = self.tab.cosh_m1.size as i64 - 1;
        let last_c = self.b.constant(last as i128, Ty::s(eb + 2));
        let clamp = self.b.lt(last_c, ade);
        let de = self.b.mux(clamp, last_c, ade);
        let hit = self.b.and(clamp, active);
        self.flag(Stage::Angle, hit);
        let pb = d.input.phi_bits;
        let period = 2 * k;
        let w = (pb + 1).max(bits_for(period as u128) + 1) + 1;
        let mut r = self.b.sub(a[2], bb[2], Ty::s(w));
        let reach = ((1i64 << pb) - 1 + period - 1) / period;
        let zero = self.b.constant(0, Ty::s(w));
        let per = self.b.constant(period as i128, Ty::s(w));
        for _ in 0..reach {
            let neg = self.b.lt(r, zero);
            let up = self.b.add(r, per, Ty::s(w));
            r = self.b.mux(neg, up, r);
        }
        for _ in 0..reach {
            let over = self.b.ge(r, per);
            let down = self.b.sub(r, per, Ty::s(w));
            r = self.b.mux(over, down, r);
        }
        let other = self.b.sub(per, r, Ty::s(w));
        let less = self.b.lt(other, r);
        let dp = self.b.mux(less, other, r);
        let ab = roms.0.offset_bits();
        let de_u = self.b.resize(de, Ty::u(ab));
        let dp_u = self.b.resize(dp, Ty::u(ab));
        let c = roms.0.read(&mut self.b, de_u);
        let dd = roms.1.read(&mut self.b, dp_u);
        let wa = c.ty.width.max(dd.ty.width) + 1;
        let angle = self.b.add(c, dd, Ty::s(wa));
        let angle = self.b.resize(angle, Ty::u(wa - 1));
        let ptb = d.format(Quantity::Pt).bits;
        let pp = self.b.mul(a[0], bb[0], Ty::u(2 * ptb));
        let wp = 2 * ptb + angle.ty.width;
        let prod = self.b.mul(pp, angle, Ty::u(wp));
        let sh = self.tab.s_shift;
        let s = if sh == 0 {
            prod
        } else {
            let half = self.b.constant(1i128 << (sh - 1), Ty::u(wp + 1));
            let sum = self.b.add(prod, half, Ty::u(wp + 1));
            self.b.shr(sum, sh, Ty::u(wp + 1 - sh))
        };
        let tb = d.format(Quantity::T).bits;
        let tmax = self.b.constant(self.tab.t_max as i128, s.ty);
        let over = self.b.lt(tmax, s);
        // No gate: a leaf past n is all zeros after compaction, so its s_ij is 0.
        self.flag(Stage::Pair, over);
        let s_t = self.b.resize(s, Ty::u(tb));
        let tmax_t = self.b.constant(self.tab.t_max as i128, Ty::u(tb));
        self.b.mux(over, tmax_t, s_t)
    }

    /// The subset stage for every subset of `0..n` with two or more leaves.
    fn subsets(&mut self, s_ij: &HashMap<(usize, usize), V>, cvalid: &[V]) -> Vec<Option<Sub>> {
        let d = self.tab.design;
        let n = self.n;
        let tb = d.format(Quantity::T).bits;
        let wide = Ty::u(tb + bits_for((n * n) as u128));
        let mut exact: Vec<Option<V>> = vec![None; 1 << n];
        let mut row: HashMap<(usize, Mask), V> = HashMap::new();
        let mut out = vec![None; 1 << n];
        for k in 2..=n as u32 {
            for s in (1..(1u32 << n)).filter(|s| s.count_ones() == k) {
                let h = 31 - s.leading_zeros() as usize;
                let rest = s ^ (1 << h);
                // r_h(rest) = Σ_{j ∈ rest} s_hj, built by adding the top leaf of rest.
                let r = {
                    let top = 31 - rest.leading_zeros() as usize;
                    let below = rest ^ (1 << top);
                    let sh = self.b.resize(s_ij[&(top, h)], wide);
                    match row.get(&(h, below)) {
                        Some(&p) => self.b.add(p, sh, wide),
                        None => sh,
                    }
                };
                row.insert((h, rest), r);
                let t = match exact[rest as usize] {
                    Some(tr) => self.b.add(tr, r, wide),
                    None => r,
                };
                exact[s as usize] = Some(t);
                let tmax = self.b.constant(self.tab.t_max as i128, wide);
                let over = self.b.lt(tmax, t);
                let hit = self.b.and(over, cvalid[h]);
                self.flag(Stage::SubsetT, hit);
                let tt = self.b.resize(t, Ty::u(tb));
                let tmax_t = self.b.constant(self.tab.t_max as i128, Ty::u(tb));
                let t = self.b.mux(over, tmax_t, tt);
                let cut = self.b.constant(self.tab.t_cut_raw as i128, Ty::u(tb));
                let zero = self.b.constant(0, Ty::u(tb));
                let below = self.b.lt(t, cut);
                let is_zero = self.b.eq(t, zero);
                let no = self.b.or(below, is_zero);
                let can_split = self.b.not(no);
                let (sqrt, ln) = self.subset_terms(t);
                out[s as usize] = Some(Sub {
                    t,
                    sqrt,
                    ln,
                    can_split,
                });
            }
        }
        out
    }

    /// ψ of every split of `s` (in split-index order), with units shared over `fold` splits.
    /// Operands enter no earlier than `start`, so that results arrive when the recursion needs
    /// them instead of waiting in long delay lines (ψ words outnumber subset words ~12:1).
    fn psis(
        &mut self,
        root: bool,
        s: Mask,
        subs: &[Option<Sub>],
        leaf: &Sub,
        start: u32,
    ) -> Vec<Psi> {
        let splits: Vec<Mask> = mask::splits(s).collect();
        let late = |g: &mut Self, x: &Sub| Sub {
            t: g.b.delay_to(x.t, x.t.cycle.max(start)),
            sqrt: g.b.delay_to(x.sqrt, x.sqrt.cycle.max(start)),
            ln: g.b.delay_to(x.ln, x.ln.cycle.max(start)),
            can_split: x.can_split,
        };
        let sub = |g: &mut Self, m: Mask| {
            if m.count_ones() == 1 {
                *leaf
            } else {
                late(g, subs[m as usize].as_ref().unwrap())
            }
        };
        let parent = sub(self, s);
        let mut out = Vec::with_capacity(splits.len());
        for group in splits.chunks(self.fold as usize) {
            self.psi_units += 1;
            let ops: Vec<Operands> = group
                .iter()
                .map(|&a| {
                    let bm = s ^ a;
                    let al = self.cu((a.count_ones() == 1) as u64, 1);
                    let bl = self.cu((bm.count_ones() == 1) as u64, 1);
                    (sub(self, a), sub(self, bm), al, bl)
                })
                .collect();
            if self.fold == 1 {
                let (a, bb, al, bl) = ops[0];
                out.push(self.psi_unit(root, &parent, &a, &bb, al, bl));
                continue;
            }
            // Operands of split p enter at phase p; the inputs are stable for `fold` cycles.
            let c = ops
                .iter()
                .flat_map(|o| [o.0.t, o.0.sqrt, o.0.ln, o.1.t, o.1.sqrt, o.1.ln])
                .chain([parent.ln, parent.sqrt])
                .map(|v| v.cycle)
                .max()
                .unwrap();
            let phase = self.phase_at(c);
            let pick = |g: &mut Self, f: &dyn Fn(&Operands) -> V| {
                let vals: Vec<V> = ops.iter().map(|o| g.b.delay_to(f(o), c)).collect();
                g.b.select(phase, &vals)
            };
            let a = Sub {
                t: pick(self, &|o| o.0.t),
                sqrt: pick(self, &|o| o.0.sqrt),
                ln: pick(self, &|o| o.0.ln),
                can_split: leaf.can_split,
            };
            let bb = Sub {
                t: pick(self, &|o| o.1.t),
                sqrt: pick(self, &|o| o.1.sqrt),
                ln: pick(self, &|o| o.1.ln),
                can_split: leaf.can_split,
            };
            let al = pick(self, &|o| o.2);
            let bl = pick(self, &|o| o.3);
            let p = self.psi_unit(root, &parent, &a, &bb, al, bl);
            // A unit whose result does not depend on the phase can be ready before it.
            let done = [p.psi.v, p.psi.ninf, p.ratio_ovf, p.score_ovf]
                .iter()
                .map(|v| v.cycle)
                .fold(c, u32::max);
            let ph = self.b.delay_to(phase, done);
            let st = self.b.delay_to(self.strobe, done + self.fold);
            for q in 0..group.len() {
                let qc = self.cu(q as u64, ph.ty.width);
                let en = self.b.eq(ph, qc);
                let keep = |g: &mut Self, v: V| {
                    let slot = g.b.hold(v, en);
                    let slot = V {
                        cycle: done + g.fold,
                        depth: 0,
                        ..slot
                    };
                    g.b.hold(slot, st)
                };
                out.push(Psi {
                    psi: Log {
                        v: keep(self, p.psi.v),
                        ninf: keep(self, p.psi.ninf),
                    },
                    ratio_ovf: keep(self, p.ratio_ovf),
                    score_ovf: keep(self, p.score_ovf),
                });
            }
        }
        out
    }

    /// The recursion step of subset `s` from its splits' ψ and its children's cells: an
    /// instance of the `combine_k` module of its size k (see [`Gen::combine_module`]), so that the
    /// top holds one instance per subset instead of the per-split logic.
    fn combine(
        &mut self,
        s: Mask,
        sub: &Sub,
        psis: &[Psi],
        cells: &[Option<Cell>],
        active: V,
    ) -> Cell {
        let k = s.count_ones();
        let mut ins = vec![active, sub.can_split];
        for (p, a) in mask::splits(s).enumerate() {
            let ps = psis[p];
            ins.extend([ps.psi.v, ps.psi.ninf, ps.ratio_ovf, ps.score_ovf]);
            for m in [a, s ^ a] {
                if m.count_ones() > 1 {
                    let c = cells[m as usize].unwrap();
                    ins.extend([c.map.v, c.map.ninf, c.z.v]);
                }
            }
        }
        // Ports as the first subset of this size has them: the operands that arrive last keep
        // their logic depth (counted inside the module, so the instance registers nothing),
        // the others come out of delay registers.
        let t0 = ins.iter().map(|v| v.cycle).max().unwrap();
        let ports: Vec<(Ty, u32)> = ins
            .iter()
            .map(|v| (v.ty, if v.cycle == t0 { v.depth } else { 0 }))
            .collect();
        let m = self.module(&format!("combine_{k}"), |g| g.combine_module(k, &ports));
        let tys: Vec<Ty> = self
            .b
            .module_def(m)
            .net
            .inputs
            .iter()
            .map(|p| p.ty)
            .collect();
        // The instance resizes its inputs to the ports: a narrower port would cut a value.
        assert!(
            tys.iter().zip(&ins).all(|(t, v)| *t == v.ty),
            "combine_{k}: operand types differ between subsets"
        );
        let o = self.b.instance(m, &ins);
        self.flag(Stage::Ratio, o[5]);
        self.flag(Stage::Score, o[6]);
        Cell {
            map: Log {
                v: o[0],
                ninf: o[1],
            },
            z: Log {
                v: o[2],
                ninf: o[3],
            },
            best: o[4],
        }
    }

    /// The winning split `pattern` of subset `s` as a mask over the leaves: bit j of the
    /// pattern is s's j-th leaf. Spread only where the tree walk reads it, so that the delay
    /// lines before carry the pattern's bits and not the mask's constant zeros.
    fn spread(&mut self, pattern: V, s: Mask) -> V {
        let mut rank = 0;
        let bits: Vec<Bit> = (0..self.n)
            .map(|i| {
                if s >> i & 1 == 0 {
                    return Bit::Const(false);
                }
                rank += 1;
                Bit::Var(self.b.bit(pattern, rank - 1))
            })
            .collect();
        word(&mut self.b, &bits)
    }

    /// The recursion step of a subset of `k` leaves, for operands of (type, depth) `ports` in the
    /// order [`Gen::combine`] passes them: `active`, `can_split`, then per split (in split-index
    /// order) ψ, its −∞ flag and its two overflow bits, then (m, −∞, z) of each child that is
    /// not a leaf. A split's pattern — its part A as a mask over the subset's leaves in
    /// increasing order — is the same for every subset of k leaves, and so is which of its
    /// children are leaves. Outputs: MAP value and −∞, log Z and −∞, the winning pattern (0
    /// without a finite MAP), the ratio and score overflow bits of this subset.
    fn combine_module(&mut self, k: u32, ports: &[(Ty, u32)]) {
        let mut ports = ports.iter().copied();
        let mut port = |g: &mut Self, name: String| {
            let (ty, depth) = ports.next().unwrap();
            g.b.raw_input_at(name, ty, depth)
        };
        let active = port(self, "active".into());
        let can_split = port(self, "can_split".into());
        let leaf_cell = {
            let z = self.b.constant(0, self.u.score_ty());
            let f = self.cu(0, 1);
            Cell {
                map: Log { v: z, ninf: f },
                z: Log { v: z, ninf: f },
                best: self.cu(0, k),
            }
        };
        let gate = self.b.and(active, can_split);
        let w = self.tab.design.internal.score_bits + 2;
        let mut cand: Vec<(Log, Vec<Bit>)> = Vec::new();
        let mut zs: Vec<Log> = Vec::new();
        let full = mask::full(k as usize);
        for (p, a) in mask::splits(full).enumerate() {
            let ps = Psi {
                psi: Log {
                    v: port(self, format!("psi_{p}")),
                    ninf: port(self, format!("psi_ninf_{p}")),
                },
                ratio_ovf: port(self, format!("ratio_ovf_{p}")),
                score_ovf: port(self, format!("score_ovf_{p}")),
            };
            let mut child = |g: &mut Self, m: Mask, side: &str| {
                if m.count_ones() == 1 {
                    return leaf_cell;
                }
                let map = Log {
                    v: port(g, format!("{side}_map_{p}")),
                    ninf: port(g, format!("{side}_map_ninf_{p}")),
                };
                let z = Log {
                    v: port(g, format!("{side}_z_{p}")),
                    ninf: leaf_cell.z.ninf,
                };
                Cell {
                    map,
                    z,
                    best: leaf_cell.best,
                }
            };
            let ca = child(self, a, "a");
            let cb = child(self, full ^ a, "b");
            let kids_inf = self.b.or(ca.map.ninf, cb.map.ninf);
            let kids_fin = self.b.not(kids_inf);
            let eval = self.b.and(gate, kids_fin);
            let r = self.b.and(eval, ps.ratio_ovf);
            self.flag(Stage::Ratio, r);
            let sc = self.b.and(eval, ps.score_ovf);
            self.flag(Stage::Score, sc);
            let inf = self.b.or(kids_inf, ps.psi.ninf);
            let fin = self.b.not(inf);
            let add3 = |g: &mut Self, x: V, y: V| {
                let t = g.b.add(ps.psi.v, x, Ty::s(w));
                let t = g.b.add(t, y, Ty::s(w));
                g.u.sat_score(&mut g.b, t)
            };
            let (m, mo) = add3(self, ca.map.v, cb.map.v);
            let (z, zo) = add3(self, ca.z.v, cb.z.v);
            let o = self.b.or(mo, zo);
            let g2 = self.b.and(gate, fin);
            let o = self.b.and(g2, o);
            self.flag(Stage::Score, o);
            let am = (0..k).map(|i| Bit::Const(a >> i & 1 == 1)).collect();
            cand.push((Log { v: m, ninf: inf }, am));
            zs.push(Log { v: z, ninf: inf });
        }
        // Argmax: the right candidate wins only when strictly greater (ties → lower index).
        while cand.len() > 1 {
            let mut next = Vec::with_capacity(cand.len().div_ceil(2));
            let mut it = cand.into_iter();
            while let Some(l) = it.next() {
                let Some(r) = it.next() else {
                    next.push(l);
                    break;
                };
                let gt = self.b.lt(l.0.v, r.0.v);
                let l_inf_or_gt = self.b.or(l.0.ninf, gt);
                let r_fin = self.b.not(r.0.ninf);
                let take_r = self.b.and(r_fin, l_inf_or_gt);
                let v = self.b.mux(take_r, r.0.v, l.0.v);
                let ninf = self.b.and(l.0.ninf, r.0.ninf);
                let best = mux_bits(&mut self.b, take_r, &r.1, &l.1);
                next.push((Log { v, ninf }, best));
            }
            cand = next;
        }
        // log Z: the pairwise max* tree of §5.2.
        while zs.len() > 1 {
            let mut next = Vec::with_capacity(zs.len().div_ceil(2));
            for c in zs.chunks(2) {
                if c.len() == 1 {
                    next.push(c[0]);
                    continue;
                }
                let (v, o) = self.u.max_star(&mut self.b, c[0], c[1]);
                let o = self.b.and(gate, o);
                self.flag(Stage::Score, o);
                next.push(v);
            }
            zs = next;
        }
        let no = self.b.not(can_split);
        let (m, best) = cand.pop().unwrap();
        let map_inf = self.b.or(no, m.ninf);
        let none = vec![Bit::Const(false); k as usize];
        let best = mux_bits(&mut self.b, map_inf, &none, &best);
        let best = word(&mut self.b, &best);
        let z_inf = self.b.or(no, zs[0].ninf);
        let ratio = std::mem::take(&mut self.ovf[Stage::Ratio as usize]);
        let ratio = self.b.or_all(&ratio);
        let score = std::mem::take(&mut self.ovf[Stage::Score as usize]);
        let score = self.b.or_all(&score);
        for (name, v) in [
            ("map_v", m.v),
            ("map_ninf", map_inf),
            ("log_z", zs[0].v),
            ("log_z_ninf", z_inf),
            ("best", best),
            ("ratio_ovf", ratio),
            ("score_ovf", score),
        ] {
            self.b.module_output(name, v);
        }
    }

    /// The pre-order MAP tree walk: (S_j, A_j) for j < N − 1, zeros past the end.
    fn tree(&mut self, root: V, best: &[V]) -> Vec<(V, V)> {
        let n = self.n;
        let w = n as u32;
        let zero = self.cu(0, w);
        let mut stack = vec![zero; n - 1];
        stack[0] = root;
        let mut out = Vec::new();
        for _ in 0..n - 1 {
            let s = stack[0];
            let a = self.b.select(s, best);
            let bm = self.b.xor(s, a);
            let mut st: Vec<V> = stack[1..].to_vec();
            st.push(zero);
            for m in [bm, a] {
                let one = self.cu(1, w);
                let dec = self.b.sub(m, one, Ty::u(w));
                let and = self.b.and(m, dec);
                let z = self.b.eq(and, zero);
                let push = self.b.not(z);
                let mut pushed = vec![m];
                pushed.extend_from_slice(&st[..n - 2]);
                st = st
                    .iter()
                    .zip(&pushed)
                    .map(|(&keep, &p)| self.b.mux(push, p, keep))
                    .collect();
            }
            out.push((s, a));
            stack = st;
        }
        out
    }
}

/// Generates the datapath of `d` (tables from `tab`, which must be `Tables::new(d)`).
pub fn generate(d: &Design, tab: &Tables) -> Result<Datapath, GenError> {
    generate_with(d, tab, None)
}

/// A stage behind the datapath: given the builder, the tagger features
/// (`jettrellis_core::fixed::features`, feature format) and the jet strobe at their cycle, it
/// builds its logic and returns its output ports. Its outputs leave with the datapath's.
pub type Tail<'a> = &'a mut dyn FnMut(&mut Builder, [V; FEATURES], V) -> Vec<(String, V)>;

/// [`generate`], with `tail` behind the datapath (the end-to-end design puts the tagger there).
/// A tail needs the MAP and log Z outputs.
pub fn generate_with(
    d: &Design,
    tab: &Tables,
    tail: Option<Tail<'_>>,
) -> Result<Datapath, GenError> {
    check(d)?;
    if tail.is_some() && !(d.outputs.map && d.outputs.log_z) {
        return Err(GenError {
            key: "outputs",
            problem: "the features behind the datapath need outputs.map and outputs.log_z".into(),
        });
    }
    let n = d.max_leaves as usize;
    let fold = d.fold;
    let budget = depth_budget(d.clock_mhz);
    let mut g = Gen::new(tab, budget, n, fold);
    let b = &mut g.b;
    let in_valid = b.raw_input(port::IN_VALID, Ty::u(1));
    let valid_raw = b.raw_input(port::VALID, Ty::u(n as u32));
    let fmt = |q: Quantity| {
        let f = d.format(q);
        Ty {
            width: f.bits,
            signed: f.signed,
        }
    };
    let mut raw = Vec::new();
    for k in 0..n {
        raw.push([
            b.raw_input(format!("pt_{k}"), fmt(Quantity::Pt)),
            b.raw_input(format!("eta_{k}"), fmt(Quantity::Eta)),
            b.raw_input(format!("phi_{k}"), fmt(Quantity::Phi)),
        ]);
    }
    // F = 1: plain input registers. F > 1: hold registers, so that every stage up to the ψ
    // units sees the jet for `fold` cycles.
    let capture = |b: &mut Builder, v: V| {
        if fold == 1 {
            b.reg(v)
        } else {
            b.hold(v, in_valid)
        }
    };
    let valid = capture(b, valid_raw);
    let slots: Vec<[V; 3]> = raw.iter().map(|r| r.map(|v| capture(b, v))).collect();
    g.strobe = g.b.reg(in_valid);
    let mut stages = vec![("input registers".to_string(), 1)];
    let (leaves, cvalid, count) = g.compaction(&slots, valid);
    let last = |vs: &mut dyn Iterator<Item = V>| vs.map(|v| v.cycle).max().unwrap_or(0);
    stages.push((
        "compaction".into(),
        last(
            &mut leaves
                .iter()
                .flatten()
                .copied()
                .chain(cvalid.iter().copied()),
        ),
    ));
    let angle = (
        LutRom::new(&mut g.b, "cosh_m1", &tab.cosh_m1),
        LutRom::new(&mut g.b, "one_m_cos", &tab.one_m_cos),
    );
    let mut s_ij = HashMap::new();
    for j in 1..n {
        for i in 0..j {
            let s = g.pair(&leaves[i], &leaves[j], cvalid[j], &angle);
            s_ij.insert((i, j), s);
        }
    }
    stages.push(("pair invariants".into(), last(&mut s_ij.values().copied())));
    let subs = g.subsets(&s_ij, &cvalid);
    stages.push((
        "subset t, sqrt t, ln t".into(),
        last(
            &mut subs
                .iter()
                .flatten()
                .flat_map(|x| [x.t, x.sqrt, x.ln, x.can_split]),
        ),
    ));
    let leaf = {
        let z = |g: &mut Gen, ty: Ty| g.b.constant(0, ty);
        let any = subs[3].unwrap();
        Sub {
            t: z(&mut g, any.t.ty),
            sqrt: z(&mut g, any.sqrt.ty),
            ln: z(&mut g, any.ln.ty),
            can_split: z(&mut g, Ty::u(1)),
        }
    };
    // ψ and the recursion, by subset size; full(k) is the root when n = k (its ψ then uses the
    // root λ, a second set of units when λ_root's tables differ).
    let distinct = g.u.distinct_root;
    let psi_latency = g.psi_latency(&subs[3].unwrap());
    let mut splits = 0u64;
    let wn = count.ty.width;
    let mut cells: Vec<Option<Cell>> = vec![None; 1 << n];
    let mut root_cells: HashMap<Mask, Cell> = HashMap::new();
    let mut ready: u32 = 0;
    for k in 2..=n as u32 {
        let start = ready.saturating_sub(psi_latency);
        let mut level_ready = 0;
        for s in (1..(1u32 << n)).filter(|s| s.count_ones() == k) {
            splits += mask::split_count(k);
            let h = 31 - s.leading_zeros() as usize;
            let sub = subs[s as usize].unwrap();
            let full = s & (s + 1) == 0;
            let mut done = |c: Cell| {
                level_ready = [c.map.v, c.map.ninf, c.z.v, c.z.ninf, c.best]
                    .iter()
                    .map(|v| v.cycle)
                    .fold(level_ready, u32::max);
                c
            };
            if full && distinct {
                let kc = g.cu(k as u64, wn);
                let is_root = g.b.eq(count, kc);
                let act = g.b.and(cvalid[h], is_root);
                let ps = g.psis(true, s, &subs, &leaf, start);
                let c = g.combine(s, &sub, &ps, &cells, act);
                root_cells.insert(s, done(c));
                if s != mask::full(n) {
                    let not_root = g.b.not(is_root);
                    let act = g.b.and(cvalid[h], not_root);
                    let ps = g.psis(false, s, &subs, &leaf, start);
                    let c = g.combine(s, &sub, &ps, &cells, act);
                    cells[s as usize] = Some(done(c));
                }
            } else {
                let ps = g.psis(false, s, &subs, &leaf, start);
                let c = done(g.combine(s, &sub, &ps, &cells, cvalid[h]));
                cells[s as usize] = Some(c);
                if full {
                    root_cells.insert(s, c);
                }
            }
        }
        ready = level_ready;
        stages.push((format!("psi + recursion, subsets of {k} leaves"), ready));
    }
    // The root: full(n) for n ≥ 2; n = 1 gives MAP = log Z = 0; n = 0 gives −∞.
    let st = g.u.score_ty();
    let zero_s = g.b.constant(0, st);
    let one1 = g.cu(1, 1);
    let zero1 = g.cu(0, 1);
    let mut map = Log {
        v: zero_s,
        ninf: one1,
    };
    let mut z = map;
    let mut root_mask = g.cu(0, n as u32);
    let mut patterns: Vec<Option<V>> = cells.iter().map(|c| c.map(|c| c.best)).collect();
    for k in 1..=n as u32 {
        let kc = g.cu(k as u64, wn);
        let here = g.b.eq(count, kc);
        let (m, zz) = if k == 1 {
            let f = Log {
                v: zero_s,
                ninf: zero1,
            };
            (f, f)
        } else {
            let c = root_cells[&mask::full(k as usize)];
            if distinct {
                let s = mask::full(k as usize) as usize;
                let inner = patterns[s].unwrap_or_else(|| g.cu(0, k));
                patterns[s] = Some(g.b.mux(here, c.best, inner));
            }
            (c.map, c.z)
        };
        map = Log {
            v: g.b.mux(here, m.v, map.v),
            ninf: g.b.mux(here, m.ninf, map.ninf),
        };
        z = Log {
            v: g.b.mux(here, zz.v, z.v),
            ninf: g.b.mux(here, zz.ninf, z.ninf),
        };
        if k >= 2 {
            let fm = g.cu(mask::full(k as usize) as u64, n as u32);
            root_mask = g.b.mux(here, fm, root_mask);
        }
    }
    let zero_mask = g.cu(0, n as u32);
    let root_full = root_mask;
    let root_mask = g.b.mux(map.ninf, zero_mask, root_mask);
    let mut outs: Vec<(String, V)> = vec![(port::N_LEAVES.into(), count)];
    if d.outputs.map {
        outs.push((port::MAP_VALUE.into(), map.v));
        outs.push((port::MAP_NINF.into(), map.ninf));
        let at = patterns
            .iter()
            .flatten()
            .map(|p| p.cycle)
            .max()
            .unwrap_or(0);
        let best: Vec<V> = (0..1u32 << n)
            .map(|s| match patterns[s as usize] {
                Some(p) => {
                    let p = g.b.delay_to(p, at);
                    g.spread(p, s)
                }
                None => zero_mask,
            })
            .collect();
        let walk = g.tree(root_mask, &best);
        stages.push((
            "MAP tree walk".into(),
            last(&mut walk.iter().flat_map(|&(s, a)| [s, a])),
        ));
        if let Some(tail) = tail {
            let f = g.features(&subs, root_full, walk[0], map, z);
            let at = f.iter().map(|v| v.cycle).max().unwrap_or(0);
            let strobe = g.b.delay_to(g.strobe, at);
            outs.extend(tail(&mut g.b, f, strobe));
            stages.push((
                "features + tail".into(),
                last(&mut outs.iter().map(|o| o.1)),
            ));
        }
        for (j, (s, a)) in walk.into_iter().enumerate() {
            outs.push((format!("tree_s_{j}"), s));
            outs.push((format!("tree_a_{j}"), a));
        }
    }
    if d.outputs.log_z {
        outs.push((port::LOG_Z.into(), z.v));
        outs.push((port::LOG_Z_NINF.into(), z.ninf));
    }
    let flags: Vec<V> = (0..6)
        .map(|k| {
            let f = std::mem::take(&mut g.ovf[k]);
            g.b.or_all(&f)
        })
        .collect();
    let mut ovf = flags[0];
    for f in &flags[1..] {
        ovf = g.b.cat(*f, ovf);
    }
    outs.push((port::OVERFLOW.into(), ovf));
    // Every output leaves at the same cycle, with the strobe.
    let last = outs.iter().map(|o| o.1.cycle).max().unwrap() + 1;
    let psi_units = g.psi_units;
    let mut b = g.b;
    let ov = b.delay_to(g.strobe, last);
    let latency = b.output(port::OUT_VALID, ov);
    for (name, v) in outs {
        let v = b.delay_to(v, last);
        b.output(name, v);
    }
    Ok(Datapath {
        net: b.finish(),
        latency,
        ii: fold,
        psi_units,
        splits,
        depth_budget: budget,
        stages,
    })
}
