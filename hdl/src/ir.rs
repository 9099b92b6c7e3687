//! A word-level netlist of registers and operators: the form the datapath generator builds, and
//! the one thing both the Verilog emitter ([`crate::emit`]) and the cycle-accurate evaluator
//! ([`crate::eval`]) read.
//!
//! Why not rust-hdl blocks all the way down: rust-hdl fixes every width at compile time
//! (`Bits<N>`, `Signed<N>`), while a design file chooses widths, table sizes and N at run time.
//! The netlist carries widths as data; the primitives of this crate are its reference cells.
//!
//! Semantics (shared by the emitter and the evaluator): every node is a `width`-bit two's-
//! complement word (at most [`MAX_WIDTH`] bits) with a signedness. An operator first extends or
//! truncates each operand to the node's width by the *operand's* signedness, then computes modulo
//! `2^width`. Comparisons extend both operands to a common width (signed iff both are signed).
//!
//! Pipelining is by construction: the [`Builder`] knows the cycle at which each value is valid
//! and its combinational depth since the last register; an operator aligns its operands (adding
//! delay registers to the earlier ones) and registers them first when its depth would exceed the
//! budget set from the target clock.

use std::collections::HashMap;

/// Widest word the netlist carries.
pub const MAX_WIDTH: u32 = 128;

/// A node of the netlist.
pub type Id = u32;

/// The type of a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ty {
    /// Bits (1..=128).
    pub width: u32,
    /// Two's complement or unsigned.
    pub signed: bool,
}

impl Ty {
    /// Unsigned, `width` bits.
    pub const fn u(width: u32) -> Ty {
        Ty {
            width,
            signed: false,
        }
    }
    /// Signed, `width` bits.
    pub const fn s(width: u32) -> Ty {
        Ty {
            width,
            signed: true,
        }
    }

    /// Whether every value of `inner` is a value of `self`.
    pub const fn holds(self, inner: Ty) -> bool {
        match (self.signed, inner.signed) {
            (false, true) => false,
            (true, false) => inner.width < self.width,
            _ => inner.width <= self.width,
        }
    }

    /// Whether `self` holds the value `x`.
    pub fn holds_value(self, x: i128) -> bool {
        if self.signed {
            self.width == 128 || matches!(x >> (self.width - 1), -1 | 0)
        } else {
            x >= 0 && x as u128 <= mask(self.width)
        }
    }
}

/// A read-only table: entries are raw words of `width` bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Name in the Verilog (a module `<top>_rom_<name>`).
    pub name: String,
    /// Word width.
    pub width: u32,
    /// Address width.
    pub addr_bits: u32,
    /// Entries (raw words); addresses beyond the end read 0.
    pub words: Vec<u128>,
}

/// An operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Top-level input port `k`.
    Input(u32),
    /// A constant (raw bits).
    Const(u128),
    /// A register; its input is set when the node is created or later by [`Builder::connect`].
    Reg(Id),
    /// A register that loads its input when `en` is 1 and holds otherwise.
    RegEn(Id, Id),
    /// The value of `a` `d` cycles ago (`d ≥ 2`; 0 before the first `d` cycles): a delay line
    /// held in a memory that all taps of `a` share (written every cycle, read through a
    /// registered port), so that a long delay costs one write and one read per cycle instead of
    /// `d` registers.
    Delay(Id, u32),
    /// `a + b`.
    Add(Id, Id),
    /// `a − b`.
    Sub(Id, Id),
    /// `a · b` (operands extended to the node width first: exact when the width suffices).
    Mul(Id, Id),
    /// `a << k`.
    Shl(Id, u32),
    /// `a >> k` (arithmetic when `a` is signed).
    Shr(Id, u32),
    /// `a` extended or truncated to the node type.
    Resize(Id),
    /// `a << s` for a run-time `s` (unsigned).
    VarShl(Id, Id),
    /// `a >> s` for a run-time `s` (arithmetic when `a` is signed).
    VarShr(Id, Id),
    /// 1 iff `a < b`.
    Lt(Id, Id),
    /// 1 iff `a == b`.
    Eq(Id, Id),
    /// `sel ? a : b` (`sel` is 1 bit).
    Mux(Id, Id, Id),
    /// Bitwise and.
    And(Id, Id),
    /// Bitwise or.
    Or(Id, Id),
    /// Bitwise xor.
    Xor(Id, Id),
    /// Bitwise not.
    Not(Id),
    /// Table `t` read at address `a`, registered: the word appears one cycle after its address
    /// (a synchronous ROM, what block RAMs implement).
    Rom(u32, Id),
    /// Bits `k .. k + width` of `a`.
    Slice(Id, u32),
    /// `{a, b}`: `a` in the high bits.
    Cat(Id, Id),
    /// An instance of `Netlist::modules[m]` with its inputs (this node has no value).
    Inst(u32, Vec<Id>),
    /// Output `k` of instance `inst`.
    InstOut(Id, u32),
}

/// A node: an operator and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What it computes.
    pub op: Op,
    /// Its word type.
    pub ty: Ty,
}

/// A top-level port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Name in the Verilog.
    pub name: String,
    /// Type.
    pub ty: Ty,
}

/// A finished netlist: one synchronous module with a single clock `clk`.
#[derive(Clone, Debug, Default)]
pub struct Netlist {
    /// Nodes; every combinational node refers only to nodes created before it.
    pub nodes: Vec<Node>,
    /// Tables read by `Op::Rom`.
    pub tables: Vec<Table>,
    /// Input ports (`Op::Input(k)` is `inputs[k]`).
    pub inputs: Vec<Port>,
    /// Output ports and the node driving each.
    pub outputs: Vec<(Port, Id)>,
    /// Optional human names of nodes (kept in the Verilog for readers and waveforms).
    pub names: HashMap<Id, String>,
    /// Modules instantiated by `Op::Inst` (one level: modules hold no instances).
    pub modules: Vec<Module>,
}

/// A module: a netlist whose outputs are not registered, with the timing of each output
/// relative to its inputs (all inputs enter at one cycle, each with at most the combinational
/// depth its port allows).
#[derive(Clone, Debug)]
pub struct Module {
    /// Name (the Verilog module is `<top>_<name>`).
    pub name: String,
    /// Its netlist.
    pub net: Netlist,
    /// Per output: (cycles after the inputs, combinational depth left at the output).
    pub timing: Vec<(u32, u32)>,
    /// Per input: the combinational depth an operand may arrive with (0: straight from a
    /// register), already counted inside the module.
    pub input_depth: Vec<u32>,
}

impl Netlist {
    /// Number of register bits, instances included (a delay tap's output register counts; its
    /// memory is [`Netlist::delay_memory_bits`]).
    pub fn register_bits(&self) -> u64 {
        let inner: Vec<u64> = self.modules.iter().map(|m| m.net.register_bits()).collect();
        self.nodes
            .iter()
            .map(|n| match n.op {
                Op::Reg(_) | Op::RegEn(..) | Op::Delay(..) => n.ty.width as u64,
                Op::Inst(m, _) => inner[m as usize],
                _ => 0,
            })
            .sum()
    }

    /// The delay memories of this netlist (not its instances'): per delayed node, its depth (a
    /// power of two, at least the longest tap) and its taps in node order.
    pub fn delay_memories(&self) -> Vec<DelayMemory> {
        let mut mems: Vec<DelayMemory> = Vec::new();
        let mut at: HashMap<Id, usize> = HashMap::new();
        for (k, n) in self.nodes.iter().enumerate() {
            if let Op::Delay(src, d) = n.op {
                let m = *at.entry(src).or_insert_with(|| {
                    mems.push(DelayMemory {
                        src,
                        depth: 0,
                        taps: Vec::new(),
                    });
                    mems.len() - 1
                });
                mems[m].taps.push((k as Id, d));
                mems[m].depth = mems[m].depth.max(d.next_power_of_two());
            }
        }
        mems
    }

    /// Bits held in delay memories, instances included.
    pub fn delay_memory_bits(&self) -> u64 {
        let inner: Vec<u64> = self
            .modules
            .iter()
            .map(|m| m.net.delay_memory_bits())
            .collect();
        let own: u64 = self
            .delay_memories()
            .iter()
            .map(|m| m.depth as u64 * self.nodes[m.src as usize].ty.width as u64)
            .sum();
        own + self
            .nodes
            .iter()
            .map(|n| match n.op {
                Op::Inst(m, _) => inner[m as usize],
                _ => 0,
            })
            .sum::<u64>()
    }

    /// How many times this netlist instantiates each of its modules.
    pub fn instance_counts(&self) -> Vec<u64> {
        let mut uses = vec![0u64; self.modules.len()];
        for n in &self.nodes {
            if let Op::Inst(m, _) = n.op {
                uses[m as usize] += 1;
            }
        }
        uses
    }

    /// Number of nodes, instances expanded.
    pub fn flat_nodes(&self) -> u64 {
        let inner: Vec<u64> = self.modules.iter().map(|m| m.net.flat_nodes()).collect();
        self.nodes
            .iter()
            .map(|n| match n.op {
                Op::Inst(m, _) => inner[m as usize],
                _ => 1,
            })
            .sum()
    }
}

/// The memory behind the delay taps of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelayMemory {
    /// The delayed node.
    pub src: Id,
    /// Words (a power of two, at least the longest tap's delay).
    pub depth: u32,
    /// The taps: node and delay in cycles.
    pub taps: Vec<(Id, u32)>,
}

/// Delays shorter than this stay register chains ([`Builder::delay_to`]); longer ones become
/// memory taps. Measured in docs/report.md: against register chains the memories halve Yosys's
/// time and keep the LUT count, at 20–33 % more flip-flops; a threshold of 17 gave back some
/// flip-flops for 4.6 % more LUTs, the scarcer resource.
pub const MEMORY_DELAY_MIN: u32 = 4;

/// A value under construction: a node plus when it is valid and how deep its logic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V {
    /// The node.
    pub id: Id,
    /// Its type.
    pub ty: Ty,
    /// Cycle (after the input registers capture) at which the value is valid.
    pub cycle: u32,
    /// Combinational depth since the last register, in the builder's cost units.
    pub depth: u32,
}

/// Builds a [`Netlist`] with automatic alignment and pipelining.
#[derive(Debug)]
pub struct Builder {
    net: Netlist,
    timing: Vec<(u32, u32)>,
    input_depth: Vec<u32>,
    /// Delayed copies by (origin, cycles after it).
    delays: HashMap<(Id, u32), Id>,
    /// Per delayed copy: its origin, the delay, and the registers since the last memory tap.
    origin: HashMap<Id, (Id, u32, u32)>,
    consts: HashMap<(u128, Ty), Id>,
    /// Widening wiring rebuilt after a delay ([`Builder::delay_wiring`]) by (node, cycle).
    wired: HashMap<(Id, u32), V>,
    budget: u32,
}

/// Cost units of the depth model: roughly one LUT level each.
pub mod cost {
    /// Wiring only (slices, constant shifts, extension).
    pub const WIRE: u32 = 0;
    /// One LUT level (bitwise logic, a 2:1 mux).
    pub const LUT: u32 = 1;
    /// An adder, subtractor or comparator (carry chain).
    pub const ADD: u32 = 2;
    /// A barrel shifter or leading-zero count.
    pub const SHIFT: u32 = 3;
}

impl Builder {
    /// A builder whose operators stay within `budget` cost units between registers.
    pub fn new(budget: u32) -> Builder {
        Builder {
            net: Netlist::default(),
            timing: Vec::new(),
            input_depth: Vec::new(),
            delays: HashMap::new(),
            origin: HashMap::new(),
            consts: HashMap::new(),
            wired: HashMap::new(),
            budget: budget.max(cost::SHIFT),
        }
    }

    /// The depth budget.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    fn push(&mut self, op: Op, ty: Ty) -> Id {
        assert!(
            (1..=MAX_WIDTH).contains(&ty.width),
            "width {} out of range",
            ty.width
        );
        self.net.nodes.push(Node { op, ty });
        (self.net.nodes.len() - 1) as Id
    }

    /// Names a value in the Verilog.
    pub fn name(&mut self, v: V, name: impl Into<String>) -> V {
        self.net.names.insert(v.id, name.into());
        v
    }

    /// A registered input port. Cycle 0 is the port itself, before the clock edge that samples
    /// it; the register makes the value valid at cycle 1.
    pub fn input(&mut self, name: impl Into<String>, ty: Ty) -> V {
        let k = self.net.inputs.len() as u32;
        self.net.inputs.push(Port {
            name: name.into(),
            ty,
        });
        self.input_depth.push(0);
        let raw = self.push(Op::Input(k), ty);
        let id = self.push(Op::Reg(raw), ty);
        V {
            id,
            ty,
            cycle: 1,
            depth: 0,
        }
    }

    /// An input port read as it is, at cycle 0 (no register): for ports that only hold registers
    /// sample.
    pub fn raw_input(&mut self, name: impl Into<String>, ty: Ty) -> V {
        self.raw_input_at(name, ty, 0)
    }

    /// A module input port whose operand arrives through `depth` units of logic after its last
    /// register: the module's own logic counts them, so an instance takes such an operand
    /// without registering it first.
    pub fn raw_input_at(&mut self, name: impl Into<String>, ty: Ty, depth: u32) -> V {
        let k = self.net.inputs.len() as u32;
        self.net.inputs.push(Port {
            name: name.into(),
            ty,
        });
        self.input_depth.push(depth);
        let id = self.push(Op::Input(k), ty);
        V {
            id,
            ty,
            cycle: 0,
            depth,
        }
    }

    /// A registered output port driven by `v`; returns the cycle at which it is valid.
    pub fn output(&mut self, name: impl Into<String>, v: V) -> u32 {
        // Straight from a flip-flop: never widening wiring after one (see `delay_wiring`).
        let r = if self.is_const(v) {
            self.reg(v)
        } else {
            self.delayed(v, v.cycle + 1)
        };
        self.net.outputs.push((
            Port {
                name: name.into(),
                ty: v.ty,
            },
            r.id,
        ));
        r.cycle
    }

    /// An unregistered output of a module under construction (see [`Builder::module`]).
    pub fn module_output(&mut self, name: impl Into<String>, v: V) {
        self.net.outputs.push((
            Port {
                name: name.into(),
                ty: v.ty,
            },
            v.id,
        ));
        self.timing.push((v.cycle, v.depth));
    }

    /// The module this builder holds (inputs from [`Builder::raw_input`], outputs from
    /// [`Builder::module_output`]).
    pub fn module(self, name: impl Into<String>) -> Module {
        let timing = self.timing.clone();
        let input_depth = self.input_depth.clone();
        Module {
            name: name.into(),
            net: self.finish(),
            timing,
            input_depth,
        }
    }

    /// Adds a module definition; returns its index for [`Builder::instance`].
    pub fn add_module(&mut self, m: Module) -> u32 {
        assert!(m.net.modules.is_empty(), "modules hold no instances");
        self.net.modules.push(m);
        (self.net.modules.len() - 1) as u32
    }

    /// The outputs of a module input port's type, for callers.
    pub fn module_def(&self, m: u32) -> &Module {
        &self.net.modules[m as usize]
    }

    /// An instance of module `m` fed by `inputs` (resized to its port types); returns its
    /// outputs with their cycles.
    pub fn instance(&mut self, m: u32, inputs: &[V]) -> Vec<V> {
        let def = &self.net.modules[m as usize];
        assert_eq!(def.net.inputs.len(), inputs.len(), "ports of {}", def.name);
        let tys: Vec<Ty> = def.net.inputs.iter().map(|p| p.ty).collect();
        let depths = def.input_depth.clone();
        let outs: Vec<(Ty, (u32, u32))> = def
            .net
            .outputs
            .iter()
            .map(|o| o.0.ty)
            .zip(def.timing.iter().copied())
            .collect();
        let ins: Vec<V> = inputs
            .iter()
            .zip(&tys)
            .map(|(&v, &t)| self.resize(v, t))
            .collect();
        let mut cycle = ins.iter().map(|v| v.cycle).max().unwrap_or(0);
        let deeper = |(v, &d): (&V, &u32)| v.cycle == cycle && v.depth > d;
        if ins.iter().zip(&depths).any(deeper) {
            cycle += 1;
        }
        let ids: Vec<Id> = ins.iter().map(|&v| self.delay_to(v, cycle).id).collect();
        let inst = self.push(Op::Inst(m, ids), Ty::u(1));
        outs.into_iter()
            .enumerate()
            .map(|(k, (ty, (c, depth)))| V {
                id: self.push(Op::InstOut(inst, k as u32), ty),
                ty,
                cycle: cycle + c,
                depth,
            })
            .collect()
    }

    /// A constant of type `ty` (value wrapped into the width).
    pub fn constant(&mut self, x: i128, ty: Ty) -> V {
        let raw = (x as u128) & mask(ty.width);
        let id = match self.consts.get(&(raw, ty)) {
            Some(&id) => id,
            None => {
                let id = self.push(Op::Const(raw), ty);
                self.consts.insert((raw, ty), id);
                id
            }
        };
        V {
            id,
            ty,
            cycle: 0,
            depth: 0,
        }
    }

    /// The constant value of `v`, if it is one.
    pub fn const_value(&self, v: V) -> Option<u128> {
        match self.net.nodes[v.id as usize].op {
            Op::Const(x) => Some(x),
            _ => None,
        }
    }

    fn is_const(&self, v: V) -> bool {
        self.const_value(v).is_some()
    }

    /// `v` delayed to `cycle` (≥ its own). Delays are counted from the value's origin (the node
    /// a delayed copy was made from), so every consumer of one value shares one chain or one
    /// memory: a short delay is a chain of registers, a long one a memory tap, and a tap a few
    /// cycles past an existing one extends it by registers.
    pub fn delay_to(&mut self, v: V, cycle: u32) -> V {
        assert!(cycle >= v.cycle, "cannot move a value back in time");
        if cycle == v.cycle || self.is_const(v) {
            return V { cycle, ..v };
        }
        if let Some(w) = self.delay_wiring(v, cycle) {
            return w;
        }
        self.delayed(v, cycle)
    }

    /// A non-constant `v` delayed to `cycle` > its own through a register or a memory tap.
    fn delayed(&mut self, v: V, cycle: u32) -> V {
        let (src, base, _) = self.origin.get(&v.id).copied().unwrap_or((v.id, 0, 0));
        let id = self.tap(src, base + (cycle - v.cycle), v.ty);
        V {
            id,
            ty: v.ty,
            cycle,
            depth: 0,
        }
    }

    /// `v` delayed to `cycle` as its operand delayed and then widened, when `v` only widens it:
    /// an extension, a constant left shift, a constant beside it. No register or memory then
    /// holds bits that never change (or copies of a sign bit), which Yosys would otherwise find
    /// one `opt` round per pipeline stage, and the widened value shares its operand's delay line.
    fn delay_wiring(&mut self, v: V, cycle: u32) -> Option<V> {
        if let Some(&w) = self.wired.get(&(v.id, cycle)) {
            return Some(w);
        }
        let node = &self.net.nodes[v.id as usize];
        let (op, ty) = (node.op.clone(), node.ty);
        let width = |id: Id| self.net.nodes[id as usize].ty.width;
        let is_const = |id: Id| matches!(self.net.nodes[id as usize].op, Op::Const(_));
        let widens = match op {
            Op::Resize(a) => ty.width > width(a),
            Op::Shl(a, k) => ty.width >= width(a) + k,
            Op::Cat(a, b) => is_const(a) || is_const(b),
            _ => false,
        };
        if !widens {
            return None;
        }
        // An operand of a wiring node is valid at the node's cycle; it is delayed past it (or is
        // a constant), so its logic depth does not carry over.
        let ins: Vec<V> = operands(&op)
            .into_iter()
            .map(|id| {
                let a = V {
                    id,
                    ty: self.net.nodes[id as usize].ty,
                    cycle: v.cycle,
                    depth: 0,
                };
                self.delay_to(a, cycle)
            })
            .collect();
        let rebuilt = |o: &[V]| {
            let mut op = op.clone();
            let mut next = o.iter();
            remap(&mut op, |_| next.next().expect("one per operand").id);
            op
        };
        let w = self.node(rebuilt, ty, &ins, cost::WIRE);
        debug_assert_eq!((w.cycle, w.depth), (cycle, 0));
        self.wired.insert((v.id, cycle), w);
        Some(w)
    }

    /// `src` delayed by `d ≥ 1` cycles.
    fn tap(&mut self, src: Id, d: u32, ty: Ty) -> Id {
        if let Some(&id) = self.delays.get(&(src, d)) {
            return id;
        }
        let prev = match d {
            1 => Some((src, 0)),
            _ => self
                .delays
                .get(&(src, d - 1))
                .map(|&p| (p, self.origin[&p].2))
                .filter(|&(_, run)| run + 1 < MEMORY_DELAY_MIN),
        };
        let (id, run) = match prev {
            Some((p, run)) => (self.push(Op::Reg(p), ty), run + 1),
            None if d < MEMORY_DELAY_MIN => {
                let p = self.tap(src, d - 1, ty);
                (self.push(Op::Reg(p), ty), self.origin[&p].2 + 1)
            }
            None => (self.push(Op::Delay(src, d), ty), 0),
        };
        self.delays.insert((src, d), id);
        self.origin.insert(id, (src, d, run));
        id
    }

    /// `v` registered once.
    pub fn reg(&mut self, v: V) -> V {
        self.delay_to(v, v.cycle + 1)
    }

    /// Aligns operands to a common cycle so that adding `c` cost units stays in budget.
    fn align(&mut self, ops: &mut [V], c: u32) -> (u32, u32) {
        let cycle = ops.iter().map(|v| v.cycle).max().unwrap_or(0);
        for v in ops.iter_mut() {
            *v = self.delay_to(*v, cycle);
        }
        let depth = ops.iter().map(|v| v.depth).max().unwrap_or(0);
        if depth + c > self.budget {
            for v in ops.iter_mut() {
                *v = self.delay_to(*v, cycle + 1);
            }
            (cycle + 1, c)
        } else {
            (cycle, depth + c)
        }
    }

    fn node(&mut self, op: impl FnOnce(&[V]) -> Op, ty: Ty, ops: &[V], c: u32) -> V {
        let mut ops = ops.to_vec();
        let (cycle, depth) = self.align(&mut ops, c);
        let id = self.push(op(&ops), ty);
        V {
            id,
            ty,
            cycle,
            depth,
        }
    }

    /// `a + b` in `ty`.
    pub fn add(&mut self, a: V, b: V, ty: Ty) -> V {
        self.node(|o| Op::Add(o[0].id, o[1].id), ty, &[a, b], cost::ADD)
    }

    /// `a − b` in `ty`.
    pub fn sub(&mut self, a: V, b: V, ty: Ty) -> V {
        self.node(|o| Op::Sub(o[0].id, o[1].id), ty, &[a, b], cost::ADD)
    }

    /// `a · b` in `ty`, mapped to a DSP multiplier: operands straight from registers (the
    /// DSP's input registers) and the product registered once (its M register).
    pub fn mul(&mut self, a: V, b: V, ty: Ty) -> V {
        let mut cycle = a.cycle.max(b.cycle);
        if [a, b].iter().any(|v| v.depth > 0 && v.cycle == cycle) {
            cycle += 1;
        }
        let a = self.delay_to(a, cycle);
        let b = self.delay_to(b, cycle);
        let id = self.push(Op::Mul(a.id, b.id), ty);
        let p = V {
            id,
            ty,
            cycle,
            depth: self.budget,
        };
        self.reg(p)
    }

    /// `a << k`, in `ty`.
    pub fn shl(&mut self, a: V, k: u32, ty: Ty) -> V {
        self.node(|o| Op::Shl(o[0].id, k), ty, &[a], cost::WIRE)
    }

    /// `a >> k` (arithmetic for signed `a`), in `ty`.
    pub fn shr(&mut self, a: V, k: u32, ty: Ty) -> V {
        self.node(|o| Op::Shr(o[0].id, k), ty, &[a], cost::WIRE)
    }

    /// `a` as `ty` (extension by `a`'s signedness, or truncation).
    pub fn resize(&mut self, a: V, ty: Ty) -> V {
        if a.ty == ty {
            return a;
        }
        if let Some(x) = self.const_value(a) {
            return self.constant(sign_extend(x, a.ty), ty);
        }
        self.node(|o| Op::Resize(o[0].id), ty, &[a], cost::WIRE)
    }

    /// Bits `lo .. lo + width` of `a`, unsigned.
    pub fn slice(&mut self, a: V, lo: u32, width: u32) -> V {
        assert!(lo + width <= a.ty.width, "slice beyond the word");
        self.node(|o| Op::Slice(o[0].id, lo), Ty::u(width), &[a], cost::WIRE)
    }

    /// Bit `k` of `a`.
    pub fn bit(&mut self, a: V, k: u32) -> V {
        self.slice(a, k, 1)
    }

    /// `{a, b}`, unsigned.
    pub fn cat(&mut self, a: V, b: V) -> V {
        let ty = Ty::u(a.ty.width + b.ty.width);
        self.node(|o| Op::Cat(o[0].id, o[1].id), ty, &[a, b], cost::WIRE)
    }

    /// `a << s` for a run-time shift, in `ty`.
    pub fn var_shl(&mut self, a: V, s: V, ty: Ty) -> V {
        self.node(|o| Op::VarShl(o[0].id, o[1].id), ty, &[a, s], cost::SHIFT)
    }

    /// `a >> s` for a run-time shift (arithmetic for signed `a`), in `ty`.
    pub fn var_shr(&mut self, a: V, s: V, ty: Ty) -> V {
        self.node(|o| Op::VarShr(o[0].id, o[1].id), ty, &[a, s], cost::SHIFT)
    }

    /// 1 iff `a < b`.
    pub fn lt(&mut self, a: V, b: V) -> V {
        self.node(|o| Op::Lt(o[0].id, o[1].id), Ty::u(1), &[a, b], cost::ADD)
    }

    /// 1 iff `a ≥ b`.
    pub fn ge(&mut self, a: V, b: V) -> V {
        let l = self.lt(a, b);
        self.not(l)
    }

    /// 1 iff `a == b`.
    pub fn eq(&mut self, a: V, b: V) -> V {
        self.node(|o| Op::Eq(o[0].id, o[1].id), Ty::u(1), &[a, b], cost::ADD)
    }

    /// `sel ? a : b`; folded when `sel` is a constant. The result has `a`'s type, which must
    /// hold every value of `b`: a silently cut `b` once made ψ wrap where the golden model
    /// saturates.
    #[track_caller]
    pub fn mux(&mut self, sel: V, a: V, b: V) -> V {
        let fits = match self.const_value(b) {
            Some(x) => a.ty.holds_value(sign_extend(x, b.ty)),
            None => a.ty.holds(b.ty),
        };
        assert!(fits, "mux: {:?} does not hold {:?}", a.ty, b.ty);
        let b = self.resize(b, a.ty);
        match self.const_value(sel) {
            Some(1) => return a,
            Some(_) => return b,
            None => {}
        }
        if a.id == b.id {
            return a;
        }
        self.node(
            |o| Op::Mux(o[0].id, o[1].id, o[2].id),
            a.ty,
            &[sel, a, b],
            cost::LUT,
        )
    }

    /// Bitwise and (1-bit values are logic and), folded on constants.
    pub fn and(&mut self, a: V, b: V) -> V {
        match (self.const_value(a), self.const_value(b)) {
            (Some(0), _) => return a,
            (_, Some(0)) => return b,
            (Some(x), _) if a.ty.width == 1 && x == 1 => return b,
            (_, Some(x)) if b.ty.width == 1 && x == 1 => return a,
            _ => {}
        }
        self.node(|o| Op::And(o[0].id, o[1].id), a.ty, &[a, b], cost::LUT)
    }

    /// Bitwise or, folded on constants.
    pub fn or(&mut self, a: V, b: V) -> V {
        match (self.const_value(a), self.const_value(b)) {
            (Some(0), _) => return b,
            (_, Some(0)) => return a,
            (Some(1), _) if a.ty.width == 1 => return a,
            (_, Some(1)) if b.ty.width == 1 => return b,
            _ => {}
        }
        self.node(|o| Op::Or(o[0].id, o[1].id), a.ty, &[a, b], cost::LUT)
    }

    /// Bitwise xor.
    pub fn xor(&mut self, a: V, b: V) -> V {
        self.node(|o| Op::Xor(o[0].id, o[1].id), a.ty, &[a, b], cost::LUT)
    }

    /// Bitwise not, folded on constants.
    pub fn not(&mut self, a: V) -> V {
        if let Some(x) = self.const_value(a) {
            return self.constant(!x as i128, a.ty);
        }
        self.node(|o| Op::Not(o[0].id), a.ty, &[a], cost::LUT)
    }

    /// `vals[sel]` by a mux tree on the bits of `sel` (entries past the end repeat the last).
    pub fn select(&mut self, sel: V, vals: &[V]) -> V {
        let mut level: Vec<V> = vals.to_vec();
        let mut bit = 0;
        while level.len() > 1 {
            let s = self.bit(sel, bit);
            level = level
                .chunks(2)
                .map(|c| {
                    if c.len() == 2 {
                        self.mux(s, c[1], c[0])
                    } else {
                        c[0]
                    }
                })
                .collect();
            bit += 1;
        }
        level[0]
    }

    /// Or of many bits (0 when empty), in order of arrival: the bits of one cycle as a balanced
    /// tree, folded into a running result, so that early bits do not wait in delay lines.
    pub fn or_all(&mut self, bits: &[V]) -> V {
        let mut bits = bits.to_vec();
        bits.sort_by_key(|v| v.cycle);
        let mut acc = self.constant(0, Ty::u(1));
        for same in bits.chunk_by(|a, b| a.cycle == b.cycle) {
            let t = self.or_tree(same);
            acc = self.or(acc, t);
        }
        acc
    }

    fn or_tree(&mut self, bits: &[V]) -> V {
        if bits.len() == 1 {
            return bits[0];
        }
        let (l, r) = bits.split_at(bits.len() / 2);
        let l = self.or_tree(l);
        let r = self.or_tree(r);
        self.or(l, r)
    }

    /// Adds a table; returns its index for [`Builder::rom`].
    pub fn table(&mut self, t: Table) -> u32 {
        if let Some(k) = self.net.tables.iter().position(|x| x.name == t.name) {
            assert_eq!(self.net.tables[k], t, "two tables named {}", t.name);
            return k as u32;
        }
        self.net.tables.push(t);
        (self.net.tables.len() - 1) as u32
    }

    /// Table `t` read at `addr`: a synchronous ROM, the word valid one cycle after the address.
    pub fn rom(&mut self, t: u32, addr: V) -> V {
        let tab = &self.net.tables[t as usize];
        let ty = Ty::u(tab.width);
        assert!(
            addr.ty.width <= tab.addr_bits,
            "address wider than table {}",
            tab.name
        );
        let addr = self.resize(addr, Ty::u(tab.addr_bits));
        let id = self.push(Op::Rom(t, addr.id), ty);
        V {
            id,
            ty,
            cycle: addr.cycle + 1,
            depth: 0,
        }
    }

    /// A register loading `v` when `en` is 1: its output is valid one cycle after both.
    pub fn hold(&mut self, v: V, en: V) -> V {
        let mut ops = [v, en];
        let cycle = v.cycle.max(en.cycle);
        for o in ops.iter_mut() {
            *o = self.delay_to(*o, cycle);
        }
        let id = self.push(Op::RegEn(ops[0].id, ops[1].id), v.ty);
        V {
            id,
            ty: v.ty,
            cycle: cycle + 1,
            depth: 0,
        }
    }

    /// A register whose input is connected later (feedback), valid at `cycle`.
    pub fn feedback(&mut self, ty: Ty, cycle: u32) -> V {
        let id = self.push(Op::Reg(Id::MAX), ty);
        V {
            id,
            ty,
            cycle,
            depth: 0,
        }
    }

    /// Connects the input of a [`Builder::feedback`] register to `v`. The caller owns the timing
    /// of the loop (a counter, a running accumulator): no alignment is done.
    pub fn connect(&mut self, r: V, v: V) {
        let v = self.resize(v, r.ty);
        self.net.nodes[r.id as usize].op = Op::Reg(v.id);
    }

    /// The finished netlist, without the nodes no output depends on.
    pub fn finish(self) -> Netlist {
        let mut net = self.net;
        assert!(
            net.nodes.iter().all(|n| !matches!(n.op, Op::Reg(Id::MAX))),
            "an unconnected feedback register"
        );
        let mut live = vec![false; net.nodes.len()];
        let mut stack: Vec<Id> = net.outputs.iter().map(|o| o.1).collect();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut live[id as usize], true) {
                continue;
            }
            stack.extend(operands(&net.nodes[id as usize].op));
        }
        // An instance's output ports are all connected, used or not.
        for k in 0..net.nodes.len() {
            if let Op::InstOut(inst, _) = net.nodes[k].op {
                live[k] |= live[inst as usize];
            }
        }
        let mut new_id = vec![Id::MAX; net.nodes.len()];
        let mut nodes = Vec::with_capacity(live.iter().filter(|&&l| l).count());
        for (k, n) in net.nodes.iter().enumerate() {
            if live[k] {
                new_id[k] = nodes.len() as Id;
                nodes.push(n.clone());
            }
        }
        for n in &mut nodes {
            remap(&mut n.op, |x| new_id[x as usize]);
        }
        for o in &mut net.outputs {
            o.1 = new_id[o.1 as usize];
        }
        // Modules without a live instance go too.
        let mut used: Vec<Option<u32>> = vec![None; net.modules.len()];
        let mut kept = Vec::new();
        for n in &mut nodes {
            if let Op::Inst(m, _) = &mut n.op {
                let k = *m as usize;
                if used[k].is_none() {
                    used[k] = Some(kept.len() as u32);
                    kept.push(net.modules[k].clone());
                }
                *m = used[k].unwrap();
            }
        }
        net.modules = kept;
        net.names = net
            .names
            .into_iter()
            .filter(|(k, _)| live[*k as usize])
            .map(|(k, v)| (new_id[k as usize], v))
            .collect();
        net.nodes = nodes;
        net
    }
}

/// The operands of an operator.
pub fn operands(op: &Op) -> Vec<Id> {
    let mut out = Vec::new();
    let mut op = op.clone();
    remap(&mut op, |x| {
        out.push(x);
        x
    });
    out
}

/// Replaces every operand `x` of `op` by `f(x)`, in operand order.
fn remap(op: &mut Op, mut f: impl FnMut(Id) -> Id) {
    match op {
        Op::Input(_) | Op::Const(_) => {}
        Op::Inst(_, ins) => ins.iter_mut().for_each(|x| *x = f(*x)),
        Op::InstOut(a, _)
        | Op::Reg(a)
        | Op::Delay(a, _)
        | Op::Shl(a, _)
        | Op::Shr(a, _)
        | Op::Resize(a)
        | Op::Not(a)
        | Op::Rom(_, a)
        | Op::Slice(a, _) => *a = f(*a),
        Op::RegEn(a, b)
        | Op::Add(a, b)
        | Op::Sub(a, b)
        | Op::Mul(a, b)
        | Op::VarShl(a, b)
        | Op::VarShr(a, b)
        | Op::Lt(a, b)
        | Op::Eq(a, b)
        | Op::And(a, b)
        | Op::Or(a, b)
        | Op::Xor(a, b)
        | Op::Cat(a, b) => {
            *a = f(*a);
            *b = f(*b);
        }
        Op::Mux(a, b, c) => {
            *a = f(*a);
            *b = f(*b);
            *c = f(*c);
        }
    }
}

/// The low `width` bits set.
pub fn mask(width: u32) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

/// The value of raw bits under `ty`, as an i128 (unsigned values of 128 bits wrap).
pub fn sign_extend(raw: u128, ty: Ty) -> i128 {
    if ty.signed && ty.width < 128 {
        let s = 128 - ty.width;
        ((raw << s) as i128) >> s
    } else {
        raw as i128
    }
}

/// Bits needed for the unsigned value `x` (at least 1).
pub fn bits_for(x: u128) -> u32 {
    (128 - x.leading_zeros()).max(1)
}

/// `net` with every instance replaced by a copy of its module (what the evaluator runs).
pub fn flatten(net: &Netlist) -> Netlist {
    let mut out = Netlist {
        inputs: net.inputs.clone(),
        ..Netlist::default()
    };
    let table_ix = |out: &mut Netlist, t: &Table| -> u32 {
        match out.tables.iter().position(|x| x.name == t.name) {
            Some(k) => k as u32,
            None => {
                out.tables.push(t.clone());
                (out.tables.len() - 1) as u32
            }
        }
    };
    // Pass 1: flat ids, in the order pass 2 creates the nodes.
    let mut top = vec![Id::MAX; net.nodes.len()];
    let mut inst_map: HashMap<Id, Vec<Id>> = HashMap::new();
    let mut next: Id = 0;
    for (k, n) in net.nodes.iter().enumerate() {
        if let Op::Inst(m, ins) = &n.op {
            let mn = &net.modules[*m as usize].net;
            let map = mn
                .nodes
                .iter()
                .map(|x| match x.op {
                    Op::Input(p) => top[ins[p as usize] as usize],
                    _ => {
                        next += 1;
                        next - 1
                    }
                })
                .collect();
            inst_map.insert(k as Id, map);
        } else {
            top[k] = next;
            next += 1;
        }
    }
    // Pass 2: the nodes, operands remapped (registers may refer forward: ids are known).
    for (k, n) in net.nodes.iter().enumerate() {
        match &n.op {
            Op::Inst(m, _) => {
                let def = &net.modules[*m as usize].net;
                let map = &inst_map[&(k as Id)];
                for x in &def.nodes {
                    let mut op = x.op.clone();
                    match &mut op {
                        Op::Input(_) => continue,
                        Op::Rom(t, _) => *t = table_ix(&mut out, &def.tables[*t as usize]),
                        _ => {}
                    }
                    remap(&mut op, |i| map[i as usize]);
                    out.nodes.push(Node { op, ty: x.ty });
                }
            }
            Op::InstOut(inst, o) => {
                let Op::Inst(m, _) = net.nodes[*inst as usize].op else {
                    unreachable!("InstOut of a non-instance")
                };
                let src = net.modules[m as usize].net.outputs[*o as usize].1;
                let id = inst_map[inst][src as usize];
                out.nodes.push(Node {
                    op: Op::Resize(id),
                    ty: n.ty,
                });
            }
            op => {
                let mut op = op.clone();
                if let Op::Rom(t, _) = &mut op {
                    *t = table_ix(&mut out, &net.tables[*t as usize]);
                }
                remap(&mut op, |i| top[i as usize]);
                out.nodes.push(Node { op, ty: n.ty });
            }
        }
    }
    out.outputs = net
        .outputs
        .iter()
        .map(|(p, id)| (p.clone(), top[*id as usize]))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_is_range_containment() {
        assert!(Ty::s(8).holds(Ty::s(8)) && Ty::s(8).holds(Ty::u(7)) && Ty::u(8).holds(Ty::u(3)));
        assert!(
            !Ty::s(8).holds(Ty::u(8)) && !Ty::u(64).holds(Ty::s(2)) && !Ty::s(26).holds(Ty::s(34))
        );
        assert!(Ty::s(4).holds_value(-8) && Ty::s(4).holds_value(7));
        assert!(!Ty::s(4).holds_value(-9) && !Ty::s(4).holds_value(8));
        assert!(Ty::u(128).holds_value(i128::MAX) && !Ty::u(3).holds_value(-1));
        assert!(Ty::s(128).holds_value(i128::MIN));
    }

    #[test]
    #[should_panic(expected = "does not hold")]
    fn mux_refuses_to_cut_its_second_operand() {
        let mut b = Builder::new(8);
        let sel = b.input("sel", Ty::u(1));
        let narrow = b.input("narrow", Ty::s(26));
        let wide = b.input("wide", Ty::s(34));
        b.mux(sel, narrow, wide);
    }

    /// A module whose port allows depth 2: an instance takes an operand of depth 2 at its own
    /// cycle, and registers one of depth 4 first (one cycle later); inside, the port's depth
    /// counts, so an adder (depth 2) on a port of depth 5 (budget 6) is registered first.
    #[test]
    fn module_ports_take_the_depth_they_allow() {
        let mut m = Builder::new(6);
        let x = m.raw_input_at("x", Ty::u(8), 2);
        let y = m.raw_input_at("y", Ty::u(8), 5);
        let one = m.constant(1, Ty::u(8));
        let sx = m.add(x, one, Ty::u(8));
        let sy = m.add(y, one, Ty::u(8));
        assert_eq!((sx.cycle, sx.depth), (0, 4));
        assert_eq!((sy.cycle, sy.depth), (1, 2));
        m.module_output("sx", sx);
        let def = m.module("m");
        assert_eq!(def.input_depth, vec![2, 5]);
        let mut b = Builder::new(6);
        let id = b.add_module(def);
        let a = b.input("a", Ty::u(8));
        let c = b.input("c", Ty::u(8));
        let shallow = b.add(a, c, Ty::u(8));
        let deep = b.add(shallow, c, Ty::u(8));
        assert_eq!((shallow.cycle, shallow.depth, deep.depth), (1, 2, 4));
        let o = b.instance(id, &[shallow, c]);
        assert_eq!((o[0].cycle, o[0].depth), (1, 4));
        // Registered first: one cycle later, with the module's timing as it is.
        let o = b.instance(id, &[deep, c]);
        assert_eq!((o[0].cycle, o[0].depth), (2, 4));
    }

    /// Widening wiring is delayed through its operand: the delay lines hold the narrow words
    /// only (shared with the operand's own), the values are unchanged, and an output port is
    /// still driven by a register.
    #[test]
    fn widening_is_applied_after_the_delay() {
        let mut b = Builder::new(8);
        let x = b.input("x", Ty::s(6));
        let wide = b.resize(x, Ty::s(20));
        let zero = b.constant(0, Ty::u(5));
        let shifted = b.shl(x, 3, Ty::s(12));
        let beside = b.cat(zero, x);
        let plain = b.delay_to(x, 9);
        let outs: Vec<V> = [wide, shifted, beside]
            .iter()
            .map(|&v| b.delay_to(v, 9))
            .chain([plain])
            .collect();
        for (k, &v) in outs.iter().enumerate() {
            assert_eq!(v.cycle, 9);
            b.output(format!("o{k}"), v);
        }
        let net = b.finish();
        // One memory of 6-bit words with one tap for all four values; registers: the input and
        // the four outputs at their own widths.
        let mems = net.delay_memories();
        assert_eq!(mems.len(), 1, "{mems:?}");
        assert_eq!(mems[0].taps.len(), 1);
        assert_eq!(net.nodes[mems[0].src as usize].ty.width, 6);
        let held: u64 = net
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Reg(_)))
            .map(|n| n.ty.width as u64)
            .sum();
        assert_eq!(held, 6 + 20 + 12 + 11 + 6);
        for (_, id) in &net.outputs {
            assert!(matches!(net.nodes[*id as usize].op, Op::Reg(_)));
        }
        let mut sim = crate::eval::Sim::new(&net);
        for x in [-32i128, -1, 0, 5, 31] {
            sim.set(0, x as u128 & 63);
            for _ in 0..11 {
                sim.tick();
            }
            let got: Vec<i128> = (0..4)
                .map(|k| sign_extend(sim.get(k), net.outputs[k].0.ty))
                .collect();
            assert_eq!(got, [x, x * 8, x & 63, x], "x = {x}");
        }
    }

    #[test]
    fn mux_takes_a_constant_that_fits() {
        let mut b = Builder::new(8);
        let sel = b.input("sel", Ty::u(1));
        let x = b.input("x", Ty::s(8));
        let c = b.constant(-5, Ty::s(40));
        let m = b.mux(sel, x, c);
        assert_eq!(m.ty, Ty::s(8));
    }
}
