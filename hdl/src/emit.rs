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

/// Shape of a delay memory: word width, address bits, taps.
type DelayShape = (u32, u32, usize);

/// The delay memory module of shape `(w, aw, reads)` under top `top`.
fn delay_module(top: &str, (w, aw, reads): DelayShape) -> String {
    format!("{top}_delay_w{w}_a{aw}_r{reads}")
}

/// The shape of each of `net`'s own delay memories, in [`Netlist::delay_memories`] order.
fn delay_shapes(net: &Netlist) -> Vec<DelayShape> {
    net.delay_memories()
        .iter()
        .map(|m| {
            let w = net.nodes[m.src as usize].ty.width;
            (w, m.depth.trailing_zeros(), m.taps.len())
        })
        .collect()
}

/// The delay memory modules the Verilog of `net` (top `top`) holds, with how many instances of
/// each the whole design has (sub-modules' memories counted once per instance of their module).
pub fn delay_modules(net: &Netlist, top: &str) -> Vec<(String, u64)> {
    let mut count: Vec<(DelayShape, u64)> = Vec::new();
    let inner = net
        .modules
        .iter()
        .map(|m| &m.net)
        .zip(net.instance_counts());
    for (n, k) in std::iter::once((net, 1)).chain(inner) {
        for shape in delay_shapes(n) {
            match count.iter_mut().find(|(s, _)| *s == shape) {
                Some((_, c)) => *c += k,
                None => count.push((shape, k)),
            }
        }
    }
    count
        .into_iter()
        .map(|(shape, c)| (delay_module(top, shape), c))
        .collect()
}

/// A delay memory: written at `wa` every cycle, each tap `q<i>` read at `ra<i>` through an output
/// register. Every memory of the design is an instance of one of these, so that synthesis can
/// map each shape once (N = 8's top holds 7,680 memories; 63 shapes occur more than once).
fn delay_module_text(v: &mut String, top: &str, shape: DelayShape) {
    let (w, aw, reads) = shape;
    let mut ports = vec![
        "  input wire clk".to_string(),
        format!("  input wire [{}:0] wa", aw - 1),
        format!("  input wire [{}:0] d", w - 1),
    ];
    let mut reads_text = String::new();
    for r in 0..reads {
        ports.push(format!("  input wire [{}:0] ra{r}", aw - 1));
        ports.push(format!("  output reg [{}:0] q{r} = 0", w - 1));
        let _ = writeln!(reads_text, "    q{r} <= m[ra{r}];");
    }
    // The simulators start the memory at zero. Synthesis skips the loop (Yosys defines
    // SYNTHESIS): LUT RAM and block RAM power up at zero without it, and unrolling the loops
    // cost Yosys 45 s at N = 6 and minutes at N = 8.
    let _ = writeln!(
        v,
        "module {} (\n{}\n);\n  reg [{}:0] m [0:{}];\n`ifndef SYNTHESIS\n  initial begin : zero\n    \
         integer i;\n    for (i = 0; i < {}; i = i + 1) m[i] = 0;\n  end\n`endif\n  \
         always @(posedge clk) begin\n    m[wa] <= d;\n{reads_text}  end\nendmodule\n",
        delay_module(top, shape),
        ports.join(",\n"),
        w - 1,
        (1u32 << aw) - 1,
        1u32 << aw
    );
}

/// One module: ports `clk`, the inputs, the outputs; `top` prefixes the names of the ROM,
/// delay memory and sub-modules it instantiates.
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
        for (m, shape) in mems.iter().zip(delay_shapes(net)) {
            let (w, aw, _) = shape;
            let mut conns = vec![
                ".clk(clk)".to_string(),
                format!(".wa(jt_dptr[{}:0])", aw - 1),
                format!(".d(n{})", m.src),
            ];
            for (r, &(tap, d)) in m.taps.iter().enumerate() {
                let _ = writeln!(v, "  wire [{}:0] n{tap};", w - 1);
                conns.push(format!(".ra{r}(jt_dra{d}[{}:0])", aw - 1));
                conns.push(format!(".q{r}(n{tap})"));
            }
            let _ = writeln!(
                v,
                "  {} u_dm{} ({});",
                delay_module(top, shape),
                m.src,
                conns.join(", ")
            );
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
            Op::InstOut(..) | Op::Delay(..) => {}
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
    let mut shapes: Vec<DelayShape> = std::iter::once(net)
        .chain(net.modules.iter().map(|m| &m.net))
        .flat_map(delay_shapes)
        .collect();
    shapes.sort_unstable();
    shapes.dedup();
    for shape in shapes {
        delay_module_text(&mut v, top, shape);
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
    /// most `REGS_PER_ALWAYS`, none is lost, and the memory is an instance of a delay module
    /// whose zero start is hidden from synthesis.
    #[test]
    fn registers_spread_over_short_always_blocks_and_memories_are_delay_modules() {
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
        let top = &text[..text.find("endmodule").unwrap()];
        let blocks: Vec<&str> = top.split("always @(posedge clk) begin\n").skip(1).collect();
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
            .filter(|n| matches!(n.op, Op::Reg(_) | Op::RegEn(..)))
            .count();
        // Every register and the memories' write pointer.
        assert_eq!(assigned, regs + 1);
        assert_eq!(
            delay_modules(&net, "t"),
            vec![("t_delay_w8_a8_r1".into(), 1)]
        );
        assert!(top.contains("t_delay_w8_a8_r1 u_dm"));
        assert!(text.contains("module t_delay_w8_a8_r1 ("));
        let init = text.find("initial begin : zero").expect("zero start");
        let guard = text[..init].rfind("`ifndef SYNTHESIS").expect("guarded");
        assert!(!text[guard..init].contains("`endif"));
        assert!(text[init..].find("`endif").unwrap() < text[init..].find("always").unwrap());
    }
}
