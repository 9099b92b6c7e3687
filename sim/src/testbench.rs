//! A self-checking Verilog testbench for a generated module, with its vectors in `$readmemh`
//! files, so the same directory runs in Icarus ([`crate::icarus`]) and in a vendor simulator
//! (Vivado xsim, Questa): the testbench is plain Verilog-2005.
//!
//! # Cycle model
//!
//! Cycle `c` (from 0) drives input vector `c`, gives one rising clock edge, and then — if the
//! expected file has a line for cycle `c` — compares the outputs as they are after that edge.
//! This is [`Backend`]'s `set`, `tick`, `get`, so [`reference()`] records expected vectors from any
//! backend (the evaluator is the reference).
//!
//! # File layout
//!
//! Every line of both files is one hexadecimal number made of fixed-width fields, most
//! significant first. Each field is padded with leading zero bits to a multiple of 4 bits, so the
//! fields are whole hex digits and a reader can split a line by eye:
//!
//! - `stimulus.hex`, one line per cycle: the input ports in netlist order, `inputs[0]` leftmost.
//! - `expected.hex`, one line per checked cycle, cycles strictly increasing: the cycle number
//!   (32 bits, 8 digits), then the check mask (one bit per output, `outputs[0]` the most
//!   significant of them; a 0 bit makes that port a don't-care at that cycle), then the output
//!   values in netlist order.
//!
//! A `//` comment line at the top of each file restates its layout (comments are part of the
//! `$readmemh` file syntax in IEEE 1364-2005 §17.2.9).
//!
//! # Verdict
//!
//! The testbench prints one line per mismatching port (the first [`Options::max_reported`]):
//! `MISMATCH cycle <c> port <name> expected <hex> actual <hex>`, then exactly one of
//! `PASS <checked>` or `FAIL <failed> of <checked>` (counting checked cycles) and calls
//! `$finish`. A vectors file shorter than the testbench expects, or expected lines out of order,
//! print an `ERROR` line and no verdict.
//!
//! The `$readmemh` paths are relative: a vendor simulator must run with the testbench directory
//! as its working directory (or be given the `.hex` files as simulation sources).

use crate::backend::Backend;
use jettrellis_hdl::emit;
use jettrellis_hdl::ir::{mask, Netlist, Port};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// File name of the input vectors.
pub const STIMULUS_FILE: &str = "stimulus.hex";
/// File name of the expected output vectors.
pub const EXPECTED_FILE: &str = "expected.hex";
/// File name of the shell script that runs the testbench in Icarus.
pub const RUN_SCRIPT: &str = "run_icarus.sh";
/// Width of the cycle field of an expected line; cycles must be below `2^CYCLE_BITS`.
pub const CYCLE_BITS: u32 = 32;

/// One checked cycle: the outputs expected after the clock edge of `cycle`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The cycle (index into the stimulus).
    pub cycle: u64,
    /// Raw bits of every output port, in netlist order.
    pub values: Vec<u128>,
    /// Per output port: compare it (`true`) or treat it as don't-care (`false`).
    pub mask: Vec<bool>,
}

/// Options of [`write()`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Mismatch lines printed before the testbench stays quiet (the count goes on).
    pub max_reported: u32,
    /// Text placed as `//` comments at the top of the testbench and the run script (what
    /// design, which configuration, which tool wrote it).
    pub header: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_reported: 20,
            header: String::new(),
        }
    }
}

/// Why a testbench could not be written.
#[derive(Debug)]
pub enum Error {
    /// The ports, vectors or names given are not consistent.
    Invalid(String),
    /// Writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) => write!(f, "testbench: {m}"),
            Error::Io { path, source } => write!(f, "writing {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Invalid(_) => None,
            Error::Io { source, .. } => Some(source),
        }
    }
}

fn invalid(m: impl Into<String>) -> Error {
    Error::Invalid(m.into())
}

/// `w` rounded up to whole hex digits.
fn pad4(w: u32) -> u32 {
    w.div_ceil(4) * 4
}

/// A field of a vector line: its bit range in the line's word.
#[derive(Clone, Copy, Debug)]
struct Field {
    lo: u32,
    width: u32,
}

impl Field {
    fn select(self) -> String {
        format!("[{}:{}]", self.lo + self.width - 1, self.lo)
    }
}

/// Lays out fields of the given widths, first one leftmost, each padded to whole hex digits;
/// returns them and the total width of the word.
fn layout(widths: impl Iterator<Item = u32> + Clone) -> (Vec<Field>, u32) {
    let total: u32 = widths.clone().map(pad4).sum();
    let mut hi = total;
    let fields = widths
        .map(|w| {
            hi -= pad4(w);
            Field { lo: hi, width: w }
        })
        .collect();
    (fields, total)
}

/// Appends `x` as `pad4(width) / 4` hex digits.
fn push_hex(line: &mut String, x: u128, width: u32) {
    let digits = (pad4(width) / 4) as usize;
    let _ = write!(line, "{x:0digits$x}");
}

fn check_ports(kind: &str, ports: &[Port]) -> Result<(), Error> {
    for (k, p) in ports.iter().enumerate() {
        if !is_identifier(&p.name) {
            return Err(invalid(format!(
                "{kind} port {k} name {:?} is not a plain Verilog identifier",
                p.name
            )));
        }
        if p.name == "clk" {
            return Err(invalid(format!(
                "{kind} port {k} is named `clk`, the name of the clock port"
            )));
        }
        if !(1..=128).contains(&p.ty.width) {
            return Err(invalid(format!(
                "{kind} port {} has width {} (1..=128 supported)",
                p.name, p.ty.width
            )));
        }
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '$')
}

fn fits(x: u128, width: u32) -> bool {
    x & !mask(width) == 0
}

/// The text of `stimulus.hex`: one line per cycle, `stimulus[c][k]` the raw bits of input port
/// `k` at cycle `c`. A value wider than its port is an error (it would be cut silently).
pub fn stimulus_hex(inputs: &[Port], stimulus: &[Vec<u128>]) -> Result<String, Error> {
    check_ports("input", inputs)?;
    let mut s = String::from("// input ports, one field each, leftmost first:");
    for p in inputs {
        let _ = write!(s, " {}[{}]", p.name, p.ty.width);
    }
    if inputs.is_empty() {
        // The word cannot be empty in Verilog: one zero digit per cycle keeps the cycle count.
        s.push_str(" (none: a placeholder digit)");
    }
    s.push('\n');
    for (c, row) in stimulus.iter().enumerate() {
        if row.len() != inputs.len() {
            return Err(invalid(format!(
                "stimulus cycle {c} has {} values for {} input ports",
                row.len(),
                inputs.len()
            )));
        }
        for (p, &x) in inputs.iter().zip(row) {
            if !fits(x, p.ty.width) {
                return Err(invalid(format!(
                    "stimulus cycle {c}: value {x:#x} does not fit input {} ({} bits)",
                    p.name, p.ty.width
                )));
            }
            push_hex(&mut s, x, p.ty.width);
        }
        if inputs.is_empty() {
            s.push('0');
        }
        s.push('\n');
    }
    Ok(s)
}

/// The text of `expected.hex` for a stimulus of `cycles` cycles: one line per check, checks in
/// strictly increasing cycle order. Values of don't-care ports are written as given (they must
/// still fit their port).
pub fn expected_hex(outputs: &[Port], checks: &[Check], cycles: u64) -> Result<String, Error> {
    check_ports("output", outputs)?;
    let mut s = format!(
        "// cycle[{CYCLE_BITS}] mask[{}] (1 = compared; leftmost bit = first port), then output ports, leftmost first:",
        outputs.len()
    );
    for p in outputs {
        let _ = write!(s, " {}[{}]", p.name, p.ty.width);
    }
    s.push('\n');
    let mut prev: Option<u64> = None;
    for (j, ch) in checks.iter().enumerate() {
        if ch.cycle >= cycles {
            return Err(invalid(format!(
                "check {j} is at cycle {} but the stimulus has {cycles} cycles",
                ch.cycle
            )));
        }
        if prev.is_some_and(|p| ch.cycle <= p) {
            return Err(invalid(format!(
                "check {j} (cycle {}) does not come after the previous check (cycle {}): \
                 checks must be in strictly increasing cycle order",
                ch.cycle,
                prev.unwrap_or(0)
            )));
        }
        prev = Some(ch.cycle);
        if ch.values.len() != outputs.len() || ch.mask.len() != outputs.len() {
            return Err(invalid(format!(
                "check {j} (cycle {}) has {} values and {} mask bits for {} output ports",
                ch.cycle,
                ch.values.len(),
                ch.mask.len(),
                outputs.len()
            )));
        }
        push_hex(&mut s, ch.cycle as u128, CYCLE_BITS);
        let m = ch.mask.iter().fold(0u128, |m, &b| (m << 1) | b as u128);
        push_hex(&mut s, m, outputs.len() as u32);
        for (p, &x) in outputs.iter().zip(&ch.values) {
            if !fits(x, p.ty.width) {
                return Err(invalid(format!(
                    "check {j} (cycle {}): value {x:#x} does not fit output {} ({} bits)",
                    ch.cycle, p.name, p.ty.width
                )));
            }
            push_hex(&mut s, x, p.ty.width);
        }
        s.push('\n');
    }
    Ok(s)
}

/// Runs `backend` over `stimulus` (set every input, one edge, read `n_outputs` outputs per
/// cycle) and records a [`Check`] at every cycle where `select(cycle, outputs)` returns a mask.
/// With the evaluator as `backend` this gives the expected vectors of a testbench.
pub fn reference(
    backend: &mut dyn Backend,
    n_outputs: usize,
    stimulus: &[Vec<u128>],
    mut select: impl FnMut(u64, &[u128]) -> Option<Vec<bool>>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for (c, row) in stimulus.iter().enumerate() {
        for (k, &x) in row.iter().enumerate() {
            backend.set(k, x);
        }
        backend.tick();
        let values: Vec<u128> = (0..n_outputs).map(|k| backend.get(k)).collect();
        if let Some(mask) = select(c as u64, &values) {
            checks.push(Check {
                cycle: c as u64,
                values,
                mask,
            });
        }
    }
    checks
}

/// The `iverilog` arguments that compile the testbench of `top` (shared by the run script and
/// [`crate::icarus`], so both run the same thing).
pub fn iverilog_args(top: &str) -> Vec<String> {
    [
        "-g2012",
        "-Wall",
        "-s",
        &format!("tb_{top}"),
        "-o",
        "sim",
        &format!("tb_{top}.v"),
        &format!("{top}.v"),
    ]
    .map(String::from)
    .to_vec()
}

fn comment_lines(out: &mut String, prefix: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{prefix} {line}");
    }
}

/// The testbench module `tb_<top>`.
fn testbench_text(
    top: &str,
    inputs: &[Port],
    outputs: &[Port],
    cycles: usize,
    checks: usize,
    opts: &Options,
) -> String {
    let (in_fields, in_w) = layout(inputs.iter().map(|p| p.ty.width));
    let in_w = in_w.max(4);
    let (out_fields, out_w) = layout(outputs.iter().map(|p| p.ty.width));
    let mask_w = pad4(outputs.len() as u32);
    let exp_w = CYCLE_BITS + mask_w + out_w;
    let mut v = String::new();
    comment_lines(&mut v, "//", &opts.header);
    let _ = writeln!(
        v,
        "// Self-checking testbench of `{top}` (Verilog-2005). Each cycle drives one line of\n\
         // {STIMULUS_FILE}, gives one rising edge of clk, and compares the outputs with the line of\n\
         // {EXPECTED_FILE} for that cycle, if any, on the ports its mask selects. Prints\n\
         // `PASS <checked>` or `FAIL <failed> of <checked>`."
    );
    let _ = writeln!(v, "module tb_{top};");
    let _ = writeln!(v, "  localparam N_CYCLES = {cycles};");
    let _ = writeln!(v, "  localparam N_CHECKS = {checks};");
    let _ = writeln!(v, "  localparam MAX_REPORTED = {};", opts.max_reported);
    let _ = writeln!(v, "  reg tb_clk = 1'b0;");
    let _ = writeln!(v, "  reg [{}:0] tb_stim [0:N_CYCLES-1];", in_w - 1);
    let _ = writeln!(v, "  reg [{}:0] tb_expv [0:N_CHECKS-1];", exp_w - 1);
    let _ = writeln!(v, "  reg [{}:0] tb_in = {in_w}'d0;", in_w - 1);
    let _ = writeln!(v, "  reg [{}:0] tb_exp = {exp_w}'d0;", exp_w - 1);
    let _ = writeln!(
        v,
        "  integer tb_cycle, tb_next, tb_checked, tb_failed, tb_reported;"
    );
    let _ = writeln!(v, "  reg tb_bad;");
    for (p, f) in inputs.iter().zip(&in_fields) {
        let _ = writeln!(
            v,
            "  wire [{}:0] in_{} = tb_in{};",
            p.ty.width - 1,
            p.name,
            f.select()
        );
    }
    for p in outputs {
        let _ = writeln!(v, "  wire [{}:0] out_{};", p.ty.width - 1, p.name);
    }
    let mut conns = vec!["    .clk(tb_clk)".to_string()];
    conns.extend(inputs.iter().map(|p| format!("    .{0}(in_{0})", p.name)));
    conns.extend(outputs.iter().map(|p| format!("    .{0}(out_{0})", p.name)));
    let _ = writeln!(v, "  {top} dut (\n{}\n  );", conns.join(",\n"));
    let _ = writeln!(v, "  initial begin");
    let _ = writeln!(v, "    $readmemh(\"{STIMULUS_FILE}\", tb_stim);");
    let _ = writeln!(v, "    $readmemh(\"{EXPECTED_FILE}\", tb_expv);");
    // A short file leaves the last words X: say so instead of reporting X mismatches.
    for (mem, n, file) in [
        ("tb_stim", "N_CYCLES", STIMULUS_FILE),
        ("tb_expv", "N_CHECKS", EXPECTED_FILE),
    ] {
        let _ = writeln!(
            v,
            "    if (^{mem}[{n}-1] === 1'bx) begin\n      \
             $display(\"ERROR {file} has fewer than %0d vectors\", {n});\n      \
             $finish;\n    end"
        );
    }
    let _ = writeln!(
        v,
        "    tb_next = 0;\n    tb_checked = 0;\n    tb_failed = 0;\n    tb_reported = 0;"
    );
    let _ = writeln!(
        v,
        "    for (tb_cycle = 0; tb_cycle < N_CYCLES; tb_cycle = tb_cycle + 1) begin"
    );
    // Inputs change half a period before the edge and outputs are read 1 time unit after it,
    // after the nonblocking updates: no race with the design's registers.
    let _ = writeln!(
        v,
        "      tb_in = tb_stim[tb_cycle];\n      #5 tb_clk = 1'b1;\n      #1;"
    );
    let _ = writeln!(
        v,
        "      if (tb_next < N_CHECKS && tb_expv[tb_next][{}:{}] == tb_cycle) begin",
        exp_w - 1,
        exp_w - CYCLE_BITS
    );
    let _ = writeln!(
        v,
        "        tb_exp = tb_expv[tb_next];\n        tb_bad = 1'b0;"
    );
    for (k, (p, f)) in outputs.iter().zip(&out_fields).enumerate() {
        let mask_bit = out_w + outputs.len() as u32 - 1 - k as u32;
        // `!==` so that an X or Z output at a checked cycle is a mismatch.
        let _ = writeln!(
            v,
            "        if (tb_exp[{mask_bit}] && out_{name} !== tb_exp{sel}) begin\n          \
             tb_bad = 1'b1;\n          \
             if (tb_reported < MAX_REPORTED)\n            \
             $display(\"MISMATCH cycle %0d port {name} expected %h actual %h\", tb_cycle, tb_exp{sel}, out_{name});\n          \
             tb_reported = tb_reported + 1;\n        end",
            name = p.name,
            sel = f.select()
        );
    }
    let _ = writeln!(
        v,
        "        tb_checked = tb_checked + 1;\n        \
         if (tb_bad) tb_failed = tb_failed + 1;\n        \
         tb_next = tb_next + 1;\n      end"
    );
    let _ = writeln!(v, "      #4 tb_clk = 1'b0;\n    end");
    let _ = writeln!(
        v,
        "    if (tb_next != N_CHECKS) begin\n      \
         $display(\"ERROR {EXPECTED_FILE}: vector %0d names a cycle out of order or beyond cycle %0d\", tb_next, N_CYCLES - 1);\n      \
         $finish;\n    end"
    );
    let _ = writeln!(
        v,
        "    if (tb_failed == 0)\n      $display(\"PASS %0d\", tb_checked);\n    else\n      \
         $display(\"FAIL %0d of %0d\", tb_failed, tb_checked);\n    $finish;\n  end\nendmodule"
    );
    v
}

fn run_script(top: &str, opts: &Options) -> String {
    let mut s = String::from("#!/bin/sh\n");
    comment_lines(&mut s, "#", &opts.header);
    let _ = writeln!(
        s,
        "# Compiles and runs tb_{top} in Icarus Verilog (Debian package `iverilog`); exits 0\n\
         # only if the testbench printed PASS. The log is kept in sim.log.\n\
         set -e\ncd \"$(dirname \"$0\")\"\niverilog {}\n\
         vvp -n sim > sim.log 2>&1 || {{ cat sim.log; exit 1; }}\n\
         cat sim.log\ngrep -q '^PASS ' sim.log",
        iverilog_args(top).join(" ")
    );
    s
}

/// Writes `path` so that it either keeps its old content or has all of `text`: the text goes to
/// a temporary file in the same directory, renamed into place when complete.
fn write_atomic(path: &Path, text: &str, executable: bool) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{}.tmp{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        #[cfg(unix)]
        if executable {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        }
        #[cfg(not(unix))]
        let _ = executable;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// The module a testbench exercises: its Verilog and its ports in netlist order.
#[derive(Clone, Debug)]
pub struct Design {
    /// Name of the top module (and of the files `<top>.v`, `tb_<top>.v`).
    pub top: String,
    /// Verilog text defining `top` (and any modules it instantiates).
    pub verilog: String,
    /// Input ports, in the order of the stimulus fields.
    pub inputs: Vec<Port>,
    /// Output ports, in the order of the expected fields.
    pub outputs: Vec<Port>,
}

impl Design {
    /// `net` emitted as module `top` by [`jettrellis_hdl::emit::verilog`], with `header` as its
    /// leading comment.
    pub fn from_netlist(net: &Netlist, top: &str, header: &str) -> Design {
        Design {
            top: top.to_string(),
            verilog: emit::verilog(net, top, header),
            inputs: net.inputs.clone(),
            outputs: net.outputs.iter().map(|(p, _)| p.clone()).collect(),
        }
    }
}

/// Writes the testbench of `design` into `dir` (created if missing): the design (`<top>.v`),
/// `tb_<top>.v`, [`STIMULUS_FILE`], [`EXPECTED_FILE`] and [`RUN_SCRIPT`]. `stimulus` has one row
/// per cycle (see [`stimulus_hex`]), `expected` the checked cycles (see [`expected_hex`]).
///
/// Everything is checked and formatted before the first file is written, and each file is
/// replaced atomically.
pub fn write(
    dir: &Path,
    design: &Design,
    stimulus: &[Vec<u128>],
    expected: &[Check],
    opts: &Options,
) -> Result<(), Error> {
    let Design {
        top,
        verilog,
        inputs,
        outputs,
    } = design;
    let top = top.as_str();
    if !is_identifier(top) || top.contains('$') {
        return Err(invalid(format!(
            "top module name {top:?} is not a plain Verilog identifier"
        )));
    }
    if outputs.is_empty() {
        return Err(invalid("the design has no output ports: nothing to check"));
    }
    if stimulus.is_empty() {
        return Err(invalid("the stimulus has no cycles"));
    }
    if expected.is_empty() {
        return Err(invalid(
            "no expected vectors: the testbench would check nothing",
        ));
    }
    let mut names: Vec<&str> = inputs
        .iter()
        .chain(outputs)
        .map(|p| p.name.as_str())
        .collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(invalid(format!("two ports are named {}", w[0])));
    }
    if stimulus.len() as u64 > 1 << CYCLE_BITS {
        return Err(invalid(format!(
            "{} cycles: at most 2^{CYCLE_BITS} fit the cycle field",
            stimulus.len()
        )));
    }
    let stim = stimulus_hex(inputs, stimulus)?;
    let exp = expected_hex(outputs, expected, stimulus.len() as u64)?;
    let tb = testbench_text(top, inputs, outputs, stimulus.len(), expected.len(), opts);
    let script = run_script(top, opts);
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomic(&dir.join(format!("{top}.v")), verilog, false)?;
    write_atomic(&dir.join(STIMULUS_FILE), &stim, false)?;
    write_atomic(&dir.join(EXPECTED_FILE), &exp, false)?;
    write_atomic(&dir.join(format!("tb_{top}.v")), &tb, false)?;
    write_atomic(&dir.join(RUN_SCRIPT), &script, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jettrellis_hdl::ir::Ty;

    fn port(name: &str, ty: Ty) -> Port {
        Port {
            name: name.into(),
            ty,
        }
    }

    #[test]
    fn stimulus_fields_are_whole_hex_digits() {
        let ins = [
            port("a", Ty::u(5)),
            port("b", Ty::s(3)),
            port("w", Ty::u(100)),
        ];
        let s = stimulus_hex(&ins, &[vec![0x1f, 0x4, 1 << 99]]).unwrap();
        let line = s.lines().nth(1).unwrap();
        assert_eq!(line, format!("1f4{:025x}", 1u128 << 99));
    }

    #[test]
    fn expected_line_is_cycle_mask_values() {
        let outs = [port("v", Ty::u(1)), port("y", Ty::u(12))];
        let checks = [Check {
            cycle: 7,
            values: vec![1, 0xabc],
            mask: vec![false, true],
        }];
        let s = expected_hex(&outs, &checks, 8).unwrap();
        assert_eq!(s.lines().nth(1).unwrap(), "0000000711abc");
    }

    #[test]
    fn bad_vectors_are_explained() {
        let outs = [port("y", Ty::u(4))];
        let chk = |cycle, y| Check {
            cycle,
            values: vec![y],
            mask: vec![true],
        };
        let e = expected_hex(&outs, &[chk(3, 1), chk(3, 1)], 8).unwrap_err();
        assert!(e.to_string().contains("strictly increasing"), "{e}");
        let e = expected_hex(&outs, &[chk(8, 1)], 8).unwrap_err();
        assert!(e.to_string().contains("has 8 cycles"), "{e}");
        let e = expected_hex(&outs, &[chk(1, 16)], 8).unwrap_err();
        assert!(e.to_string().contains("does not fit output y"), "{e}");
        let e = stimulus_hex(&outs, &[vec![1, 2]]).unwrap_err();
        assert!(e.to_string().contains("2 values for 1 input"), "{e}");
        let e = stimulus_hex(&[port("clk", Ty::u(1))], &[]).unwrap_err();
        assert!(e.to_string().contains("clock"), "{e}");
    }

    #[test]
    fn invalid_input_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("jt-tb-invalid-{}", std::process::id()));
        let outs = [port("y", Ty::u(4))];
        let bad = [Check {
            cycle: 0,
            values: vec![99],
            mask: vec![true],
        }];
        let opts = Options::default();
        let design = Design {
            top: "top".into(),
            verilog: String::new(),
            inputs: vec![],
            outputs: outs.to_vec(),
        };
        let e = write(&dir, &design, &[vec![]], &bad, &opts).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)));
        assert!(!dir.exists());
    }
}
