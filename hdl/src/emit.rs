//! Verilog-2005 text of a [`Netlist`]: one module for the top and one per table.
//!
//! Every wire is declared unsigned with its exact width and every operand is extended to the
//! operator's width explicitly, so Verilog's context-width and mixed-signedness rules never
//! decide a value (the class of bug rust-hdl's literal compares fall into). Registers start at 0
//! (an FPGA power-up value), so simulators agree from the first cycle.

use crate::ir::{Id, Module, Netlist, Node, Op, Table, Ty};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Register assignments per `always` block.
const REGS_PER_ALWAYS: usize = 64;

/// Name of the module holding table `name` under top `top`.
pub fn rom_module(top: &str, name: &str) -> String {
    format!("{top}_rom_{name}")
}

fn wire(id: Id) -> String {
    format!("n{id}")
}

/// `expr` (of `from`'s width and signedness, its sign bit `msb`) extended or cut to `w` bits.
fn ext_expr(expr: &str, msb: &str, from: Ty, w: u32) -> String {
    use std::cmp::Ordering::*;
    match from.width.cmp(&w) {
        Equal => expr.to_string(),
        Greater if w == 1 => format!("{expr}[0]"),
        Greater => format!("{expr}[{}:0]", w - 1),
        Less => {
            let pad = w - from.width;
            if from.signed {
                format!("{{{{{pad}{{{msb}}}}}, {expr}}}")
            } else {
                format!("{{{pad}'d0, {expr}}}")
            }
        }
    }
}

struct Emitter<'a> {
    net: &'a Netlist,
}

impl Emitter<'_> {
    fn ty(&self, id: Id) -> Ty {
        self.net.nodes[id as usize].ty
    }

    /// Node `id` extended to `w` bits by its own signedness.
    fn ext(&self, id: Id, w: u32) -> String {
        let t = self.ty(id);
        let msb = if t.width == 1 {
            wire(id)
        } else {
            format!("{}[{}]", wire(id), t.width - 1)
        };
        ext_expr(&wire(id), &msb, t, w)
    }

    /// Node `id` as a signed Verilog operand of its exact value (an unsigned one widened by a 0
    /// sign bit).
    fn signed_operand(&self, id: Id) -> String {
        if self.ty(id).signed {
            format!("$signed({})", wire(id))
        } else {
            format!("$signed({{1'b0, {}}})", wire(id))
        }
    }

    /// A common width for comparing `a` and `b` as mathematical values, and whether the compare
    /// is signed.
    fn cmp_width(&self, a: Id, b: Id) -> (u32, bool) {
        let (ta, tb) = (self.ty(a), self.ty(b));
        let w = ta.width.max(tb.width);
        if ta.signed == tb.signed {
            (w, ta.signed)
        } else {
            (w + 1, true)
        }
    }

    fn lit(ty: Ty, x: u128) -> String {
        format!("{}'h{:x}", ty.width, x)
    }

    fn comb(&self, id: Id, n: &Node) -> Option<String> {
        let w = n.ty.width;
        let e = |x: Id| self.ext(x, w);
        let s = match &n.op {
            Op::Input(k) => self.net.inputs[*k as usize].name.clone(),
            Op::Const(x) => Self::lit(n.ty, *x),
            Op::Reg(_)
            | Op::RegEn(..)
            | Op::Delay(..)
            | Op::Rom(..)
            | Op::Inst(..)
            | Op::InstOut(..) => return None,
            Op::Add(a, b) => format!("{} + {}", e(*a), e(*b)),
            Op::Sub(a, b) => format!("{} - {}", e(*a), e(*b)),
            // Operands at their own widths, both signed (an unsigned one gets a 0 sign bit):
            // Verilog then extends them to the result width by sign, the same value as
            // extending first, and synthesis sees the narrow product a DSP block holds.
            Op::Mul(a, b) => format!("{} * {}", self.signed_operand(*a), self.signed_operand(*b)),
            Op::Shl(a, k) => {
                if *k >= w {
                    Self::lit(n.ty, 0)
                } else if *k == 0 {
                    e(*a)
                } else {
                    format!("{{{}, {k}'d0}}", self.ext(*a, w - k))
                }
            }
            Op::Shr(a, k) => {
                let t = self.ty(*a);
                let msb = format!("{}[{}]", wire(*a), t.width - 1);
                if *k >= t.width {
                    if t.signed {
                        format!("{{{w}{{{msb}}}}}")
                    } else {
                        Self::lit(n.ty, 0)
                    }
                } else if w <= t.width - k {
                    // Truncating: one part-select (a select of a select is not Verilog-2005).
                    if w == 1 {
                        format!("{}[{k}]", wire(*a))
                    } else {
                        format!("{}[{}:{k}]", wire(*a), k + w - 1)
                    }
                } else {
                    let hi = t.width - 1;
                    let sl = if hi == *k {
                        format!("{}[{hi}]", wire(*a))
                    } else {
                        format!("{}[{hi}:{k}]", wire(*a))
                    };
                    let from = Ty {
                        width: t.width - k,
                        signed: t.signed,
                    };
                    ext_expr(&sl, &msb, from, w)
                }
            }
            Op::Resize(a) => e(*a),
            Op::VarShl(a, s) => format!("{} << {}", e(*a), wire(*s)),
            Op::VarShr(a, s) => {
                if self.ty(*a).signed {
                    format!("$signed({}) >>> {}", e(*a), wire(*s))
                } else {
                    format!("{} >> {}", e(*a), wire(*s))
                }
            }
            Op::Lt(a, b) | Op::Eq(a, b) => {
                let (cw, signed) = self.cmp_width(*a, *b);
                let op = if matches!(n.op, Op::Lt(..)) {
                    "<"
                } else {
                    "=="
                };
                if signed {
                    format!(
                        "$signed({}) {op} $signed({})",
                        self.ext(*a, cw),
                        self.ext(*b, cw)
                    )
                } else {
                    format!("{} {op} {}", self.ext(*a, cw), self.ext(*b, cw))
                }
            }
            Op::Mux(c, a, b) => format!("{} ? {} : {}", wire(*c), e(*a), e(*b)),
            Op::And(a, b) => format!("{} & {}", e(*a), e(*b)),
            Op::Or(a, b) => format!("{} | {}", e(*a), e(*b)),
            Op::Xor(a, b) => format!("{} ^ {}", e(*a), e(*b)),
            Op::Not(a) => format!("~{}", e(*a)),
            Op::Slice(a, lo) => {
                if w == 1 {
                    format!("{}[{lo}]", wire(*a))
                } else {
                    format!("{}[{}:{lo}]", wire(*a), lo + w - 1)
                }
            }
            Op::Cat(a, b) => format!("{{{}, {}}}", wire(*a), wire(*b)),
        };
        Some(format!("  wire [{}:0] {} = {};\n", w - 1, wire(id), s))
    }
}

/// Sub-module `m` of top `top`.
pub fn sub_module(top: &str, m: &str) -> String {
    format!("{top}_{m}")
}

/// One module: ports `clk`, the inputs, the outputs; `top` prefixes the names of the ROM and
/// sub-modules it instantiates.
fn module(v: &mut String, net: &Netlist, modules: &[Module], name: &str, top: &str) {
    let sub = name != top;
    let em = Emitter { net };
    let mut ports = vec!["  input wire clk".to_string()];
    for p in &net.inputs {
        ports.push(format!("  input wire [{}:0] {}", p.ty.width - 1, p.name));
    }
    for (p, _) in &net.outputs {
        ports.push(format!("  output wire [{}:0] {}", p.ty.width - 1, p.name));
    }
    let _ = writeln!(v, "module {name} (\n{}\n);", ports.join(",\n"));
    if sub {
        // Verilator `--hierarchical` verilates a sub-module once instead of copying it into
        // every instance: the N = 8 datapath lints and builds in 1.8 GB instead of > 23 GB.
        let _ = writeln!(v, "  /*verilator hier_block*/");
    }
    let mut inst_outs: HashMap<Id, Vec<(u32, Id)>> = HashMap::new();
    for (k, n) in net.nodes.iter().enumerate() {
        if let Op::InstOut(inst, o) = n.op {
            inst_outs.entry(inst).or_default().push((o, k as Id));
        }
    }
    let mut regs: Vec<String> = Vec::new();
    let mems = net.delay_memories();
    let mut mem_of: HashMap<Id, (Id, u32)> = HashMap::new();
    if let Some(top_depth) = mems.iter().map(|m| m.depth).max() {
        // One free-running write pointer; a tap of delay d reads d − 1 words behind it through
        // its output register (so d ≥ 2 never reads the word being written).
        let pw = top_depth.trailing_zeros();
        let _ = writeln!(v, "  reg [{}:0] jt_dptr = 0;", pw - 1);
        regs.push(format!("    jt_dptr <= jt_dptr + {pw}'d1;"));
        let mut ds: Vec<u32> = mems
            .iter()
            .flat_map(|m| m.taps.iter().map(|t| t.1))
            .collect();
        ds.sort_unstable();
        ds.dedup();
        for d in ds {
            let _ = writeln!(
                v,
                "  wire [{}:0] jt_dra{d} = jt_dptr - {pw}'d{};",
                pw - 1,
                d - 1
            );
        }
        for m in &mems {
            let w = net.nodes[m.src as usize].ty.width;
            let aw = m.depth.trailing_zeros();
            let _ = writeln!(v, "  reg [{}:0] jt_dm{} [0:{}];", w - 1, m.src, m.depth - 1);
            // The simulators start every memory at zero. Synthesis skips the loops (Yosys
            // defines SYNTHESIS): LUT RAM and block RAM power up at zero without them, and
            // unrolling them cost Yosys 45 s at N = 6 and minutes at N = 8. One `initial` per
            // memory: a single block holding them all took 617 s to read at N = 6.
            let _ = writeln!(
                v,
                "`ifndef SYNTHESIS\n  initial begin : jt_z{0}\n    integer i;\n    \
                 for (i = 0; i < {1}; i = i + 1) jt_dm{0}[i] = 0;\n  end\n`endif",
                m.src, m.depth
            );
            regs.push(format!(
                "    jt_dm{}[jt_dptr[{}:0]] <= n{};",
                m.src,
                aw - 1,
                m.src
            ));
            for &(tap, _) in &m.taps {
                mem_of.insert(tap, (m.src, aw));
            }
        }
    }
    for (k, n) in net.nodes.iter().enumerate() {
        let id = k as Id;
        if let Some(name) = net.names.get(&id) {
            let _ = writeln!(v, "  // n{id}: {name}");
        }
        match &n.op {
            Op::Reg(x) => {
                let _ = writeln!(v, "  reg [{}:0] n{id} = 0;", n.ty.width - 1);
                regs.push(format!("    n{id} <= n{x};"));
            }
            Op::RegEn(x, en) => {
                let _ = writeln!(v, "  reg [{}:0] n{id} = 0;", n.ty.width - 1);
                regs.push(format!("    if (n{en}) n{id} <= n{x};"));
            }
            Op::Delay(_, d) => {
                let (src, aw) = mem_of[&id];
                let _ = writeln!(v, "  reg [{}:0] n{id} = 0;", n.ty.width - 1);
                regs.push(format!("    n{id} <= jt_dm{src}[jt_dra{d}[{}:0]];", aw - 1));
            }
            Op::Inst(m, ins) => {
                let def = &modules[*m as usize];
                let mut conns = vec![".clk(clk)".to_string()];
                for (p, x) in def.net.inputs.iter().zip(ins) {
                    conns.push(format!(".{}(n{x})", p.name));
                }
                for &(o, out) in &inst_outs[&id] {
                    let p = &def.net.outputs[o as usize].0;
                    let _ = writeln!(v, "  wire [{}:0] n{out};", p.ty.width - 1);
                    conns.push(format!(".{}(n{out})", p.name));
                }
                let _ = writeln!(
                    v,
                    "  {} u{id} ({});",
                    sub_module(top, &def.name),
                    conns.join(", ")
                );
            }
            Op::Rom(t, a) => {
                let _ = writeln!(
                    v,
                    "  wire [{}:0] n{id};\n  {} u{id} (.clk(clk), .a(n{a}), .q(n{id}));",
                    n.ty.width - 1,
                    rom_module(top, &net.tables[*t as usize].name)
                );
            }
            Op::InstOut(..) => {}
            _ => v.push_str(&em.comb(id, n).expect("combinational node")),
        }
    }
    // Short processes: Yosys turns one `always` block into a process in time quadratic in its
    // assignments (N = 8's top, in one block, had not been read after 10 minutes).
    for chunk in regs.chunks(REGS_PER_ALWAYS) {
        let _ = writeln!(v, "  always @(posedge clk) begin\n{}  end", chunk.concat());
    }
    for (p, id) in &net.outputs {
        let _ = writeln!(v, "  assign {} = n{id};", p.name);
    }
    let _ = writeln!(v, "endmodule\n");
}

/// The Verilog of `net` as module `top` (ports `clk`, the inputs, the outputs), followed by its
/// sub-modules and one module per table.
pub fn verilog(net: &Netlist, top: &str, header: &str) -> String {
    let mut v = String::with_capacity(net.nodes.len() * 48);
    for line in header.lines() {
        let _ = writeln!(v, "// {line}");
    }
    module(&mut v, net, &net.modules, top, top);
    let mut tables: Vec<&Table> = Vec::new();
    for t in net
        .tables
        .iter()
        .chain(net.modules.iter().flat_map(|m| &m.net.tables))
    {
        if !tables.iter().any(|x| x.name == t.name) {
            tables.push(t);
        }
    }
    for m in &net.modules {
        module(&mut v, &m.net, &[], &sub_module(top, &m.name), top);
    }
    for t in tables {
        // A synchronous ROM: a case in a clocked process, which synthesis maps to block RAM
        // (or LUTs when small) and every simulator starts from the register's initial value.
        let _ = writeln!(
            v,
            "module {} (\n  input wire clk,\n  input wire [{}:0] a,\n  output reg [{}:0] q = 0\n);",
            rom_module(top, &t.name),
            t.addr_bits - 1,
            t.width - 1
        );
        let _ = writeln!(v, "  always @(posedge clk) begin\n    case (a)");
        for (j, w) in t.words.iter().enumerate() {
            let _ = writeln!(
                v,
                "      {}'d{j}: q <= {};",
                t.addr_bits,
                Emitter::lit(Ty::u(t.width), *w)
            );
        }
        if t.words.len() < 1 << t.addr_bits {
            let _ = writeln!(v, "      default: q <= {}'h0;", t.width);
        }
        let _ = writeln!(v, "    endcase\n  end\nendmodule\n");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Builder;

    /// 150 registers and a delay memory: the register assignments are split over blocks of at
    /// most `REGS_PER_ALWAYS`, none is lost, and the memory's zero start is hidden from synthesis.
    #[test]
    fn registers_spread_over_short_always_blocks_and_synthesis_skips_the_zero_start() {
        let mut b = Builder::new(8);
        let x = b.input("x", Ty::u(8));
        let late = b.delay_to(x, 150);
        let one = b.constant(1, Ty::u(8));
        let mut v = x;
        for _ in 0..150 {
            let s = b.add(v, one, Ty::u(8));
            v = b.reg(s);
        }
        b.output("y", v);
        b.output("late", late);
        let net = b.finish();
        assert_eq!(net.delay_memories().len(), 1);
        let text = verilog(&net, "t", "test");
        let blocks: Vec<&str> = text
            .split("always @(posedge clk) begin\n")
            .skip(1)
            .collect();
        assert!(blocks.len() > 2, "{} always blocks", blocks.len());
        let mut assigned = 0;
        for blk in &blocks {
            let n = blk.split("  end").next().unwrap().matches("<=").count();
            assert!(
                (1..=REGS_PER_ALWAYS).contains(&n),
                "{n} assignments in a block"
            );
            assigned += n;
        }
        let regs = net
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Reg(_) | Op::RegEn(..) | Op::Delay(..)))
            .count();
        // Every register and delay tap, the memory's write and its write pointer.
        assert_eq!(assigned, regs + 2);
        let init = text.find("initial begin : jt_z").expect("zero start");
        let guard = text[..init].rfind("`ifndef SYNTHESIS").expect("guarded");
        assert!(!text[guard..init].contains("`endif"));
        assert!(text[init..].find("`endif").unwrap() < text[init..].find("always").unwrap());
    }
}
