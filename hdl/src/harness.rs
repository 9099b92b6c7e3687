//! Differential test harness: drives one block with the same input vectors through rust-hdl's
//! simulator and through a Verilator build of its generated Verilog, and compares both with a
//! Rust model, bit for bit.
//!
//! Ports are carried as raw two's-complement bit patterns in `u64` (every primitive port is at
//! most 64 bits wide), so one driver serves every primitive. Each vector is one clock cycle:
//! inputs are set and settled, the clock rises, and the outputs are sampled after the edge.

use rust_hdl::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One top-level port of a block under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// The port name as rust-hdl emits it (array elements come out as `x$0`, `x$1`, …).
    pub name: String,
    /// Width in bits (1..=64).
    pub bits: usize,
}

impl Port {
    /// A port of `bits` bits.
    pub fn new(name: impl Into<String>, bits: usize) -> Port {
        assert!((1..=64).contains(&bits), "ports are 1..=64 bits wide");
        Port {
            name: name.into(),
            bits,
        }
    }

    /// The mask of the port's bits.
    pub fn mask(&self) -> u64 {
        mask(self.bits)
    }
}

/// The low `bits` bits set.
pub fn mask(bits: usize) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The raw `bits`-bit pattern of a signed value (wraps: callers pass in-range values).
pub fn to_raw(x: i64, bits: usize) -> u64 {
    x as u64 & mask(bits)
}

/// The signed value of a raw `bits`-bit pattern.
pub fn from_raw(x: u64, bits: usize) -> i64 {
    let s = 64 - bits as u32;
    ((x << s) as i64) >> s
}

/// A clocked block whose ports the harness can drive by raw bit patterns.
pub trait Dut: Block {
    /// Input ports, in the order of [`Dut::set_inputs`]'s slice (the clock excluded).
    fn inputs(&self) -> Vec<Port>;
    /// Output ports, in the order of [`Dut::outputs`]'s vector.
    fn outputs(&self) -> Vec<Port>;
    /// Sets the `next` value of every input from raw bit patterns.
    fn set_inputs(&mut self, v: &[u64]);
    /// The current value of every output as raw bit patterns.
    fn get_outputs(&self) -> Vec<u64>;
    /// The clock input (named `clock` in the Verilog).
    fn clock(&mut self) -> &mut Signal<In, Clock>;
    /// Verilator `-Wall` warnings this primitive waives on top of [`LINT_WAIVERS`], as
    /// `(warning, reason)`; none by default.
    fn lint_waivers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// Raw bits of a `Signed<N>` (no BigInt, no `signed_bit_cast`: safe on the most negative value).
pub fn signed_raw<const N: usize>(x: Signed<N>) -> u64 {
    unsigned_cast(x).to_u64()
}

/// The values of a row of signed input ports, for a model in `update()`.
pub fn signed_values<const N: usize>(ports: &[Signal<In, Signed<N>>]) -> Vec<i64> {
    ports
        .iter()
        .map(|s| from_raw(signed_raw(s.val()), N))
        .collect()
}

/// A `Signed<N>` from raw bits.
pub fn signed_from_raw<const N: usize>(x: u64) -> Signed<N> {
    signed_cast(Bits::<N>::from(x))
}

/// Steps the block in rust-hdl's simulator over `vectors` (one per cycle) and returns the
/// outputs sampled after each rising edge. Steps the block directly (`simulate`), which is
/// orders of magnitude faster than the threaded `Simulation` API.
pub fn run_rust_hdl<D: Dut>(dut: &mut D, vectors: &[Vec<u64>]) -> Vec<Vec<u64>> {
    dut.connect_all();
    let mut out = Vec::with_capacity(vectors.len());
    dut.clock().next = Clock::from(false);
    assert!(simulate(dut, 1000), "the block does not settle");
    for v in vectors {
        dut.set_inputs(v);
        assert!(simulate(dut, 1000), "the block does not settle");
        dut.clock().next = Clock::from(true);
        assert!(simulate(dut, 1000), "the block does not settle");
        out.push(dut.get_outputs());
        dut.clock().next = Clock::from(false);
        assert!(simulate(dut, 1000), "the block does not settle");
    }
    out
}

/// Why Verilator could not be used.
#[derive(Debug)]
pub enum VerilatorError {
    /// `verilator` is not on the PATH.
    Missing,
    /// A build or run failed (the text has the command's output).
    Failed(String),
}

impl std::fmt::Display for VerilatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerilatorError::Missing => f.write_str(
                "verilator is not installed (Debian package `verilator`: apt-get install -y verilator)",
            ),
            VerilatorError::Failed(s) => f.write_str(s),
        }
    }
}

/// Whether `verilator` runs.
pub fn verilator_available() -> bool {
    Command::new("verilator")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The Verilator-based checks of a test are skipped when Verilator is missing, except in CI
/// (`CI=true`), where the test fails naming the package to install. Returns whether to run them.
pub fn require_verilator(test: &str) -> bool {
    let ci = std::env::var("CI").ok();
    match verilator_policy(verilator_available(), ci.as_deref()) {
        Ok(run) => run,
        Err(e) => panic!("{test}: {e}"),
    }
}

/// The decision of [`require_verilator`]: run (`Ok(true)`), skip with a message on stderr
/// (`Ok(false)`), or fail (`Err`, in CI).
pub fn verilator_policy(available: bool, ci: Option<&str>) -> Result<bool, VerilatorError> {
    if available {
        Ok(true)
    } else if ci == Some("true") {
        Err(VerilatorError::Missing)
    } else {
        eprintln!("SKIPPED the Verilator checks: {}", VerilatorError::Missing);
        Ok(false)
    }
}

/// Lint warnings waived for every generated block: rust-hdl writes every sub-block (each DFF,
/// each ROM) as its own module (`top$flag`, …) into one file, so module and file names cannot
/// match (`DECLFILENAME`). A primitive adds its own waivers with [`Dut::lint_waivers`]; nothing
/// else is waived (measured: no other `-Wall` warning fires on any primitive).
pub const LINT_WAIVERS: [&str; 1] = ["DECLFILENAME"];

/// Where built simulators are cached: `target/verilator-cache/<hash of the Verilog and driver>`.
fn cache_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("verilator-cache")
}

/// FNV-1a, 64 bits: a stable cache key (std's hasher is not stable across releases).
fn fnv64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The C++ name Verilator gives a port (`$` is escaped as `__024`).
fn cpp_name(p: &Port) -> String {
    p.name.replace('$', "__024")
}

/// A C++ driver that reads one line of hex input words per cycle from `argv[1]` and writes one
/// line of hex output words per cycle to `argv[2]`, with the cycle convention of
/// [`run_rust_hdl`].
fn driver(inputs: &[Port], outputs: &[Port]) -> String {
    let mut s = String::from(
        "#include \"Vtop.h\"\n#include \"verilated.h\"\n#include <cinttypes>\n#include <cstdio>\n\
         int main(int argc, char** argv) {\n  if (argc != 3) return 2;\n  Vtop* t = new Vtop;\n\
         FILE* in = fopen(argv[1], \"r\");\n  FILE* out = fopen(argv[2], \"w\");\n\
         if (!in || !out) return 3;\n  t->clock = 0;\n  t->eval();\n",
    );
    let _ = writeln!(s, "  uint64_t v[{}];", inputs.len());
    let _ = writeln!(s, "  while (fscanf(in, \"%\" SCNx64, &v[0]) == 1) {{");
    for i in 1..inputs.len() {
        let _ = writeln!(
            s,
            "    if (fscanf(in, \"%\" SCNx64, &v[{i}]) != 1) return 4;"
        );
    }
    for (i, p) in inputs.iter().enumerate() {
        let _ = writeln!(s, "    t->{} = v[{i}];", cpp_name(p));
    }
    s.push_str("    t->eval();\n    t->clock = 1;\n    t->eval();\n");
    for (k, p) in outputs.iter().enumerate() {
        let sep = if k + 1 == outputs.len() { "\\n" } else { " " };
        let _ = writeln!(
            s,
            "    fprintf(out, \"%\" PRIx64 \"{sep}\", (uint64_t)t->{} & UINT64_C({:#x}));",
            cpp_name(p),
            p.mask()
        );
    }
    s.push_str("    t->clock = 0;\n    t->eval();\n  }\n  fclose(out);\n  t->final();\n  delete t;\n  return 0;\n}\n");
    s
}

fn run(cmd: &mut Command) -> Result<(), VerilatorError> {
    let o = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => VerilatorError::Missing,
        _ => VerilatorError::Failed(format!("{cmd:?}: {e}")),
    })?;
    if o.status.success() {
        Ok(())
    } else {
        Err(VerilatorError::Failed(format!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )))
    }
}

/// A Verilator build of one block: an executable that runs vector files.
pub struct Verilated {
    dir: PathBuf,
    outputs: Vec<Port>,
}

impl Verilated {
    /// Emits the block's Verilog and builds it with Verilator (cached by the hash of the
    /// Verilog and the driver, so an unchanged primitive is built once).
    pub fn build<D: Dut>(dut: &mut D) -> Result<Verilated, VerilatorError> {
        dut.connect_all();
        let verilog = generate_verilog(dut);
        let (inputs, outputs) = (dut.inputs(), dut.outputs());
        let cpp = driver(&inputs, &outputs);
        let dir = cache_root().join(format!("{:016x}", fnv64(&(verilog.clone() + &cpp))));
        let exe = dir.join("obj/sim");
        if !exe.exists() {
            std::fs::create_dir_all(&dir).map_err(|e| VerilatorError::Failed(e.to_string()))?;
            std::fs::write(dir.join("top.v"), &verilog)
                .and_then(|_| std::fs::write(dir.join("main.cpp"), &cpp))
                .map_err(|e| VerilatorError::Failed(e.to_string()))?;
            // -O1 and no tracing: these models are tiny, build time dominates run time.
            run(Command::new("verilator")
                .current_dir(&dir)
                .args(["--cc", "--exe", "--build", "-O1", "-j", "2", "-Wno-fatal"])
                .args(["--top-module", "top", "--Mdir", "obj", "-o", "sim"])
                .args(["top.v", "main.cpp"]))?;
        }
        Ok(Verilated { dir, outputs })
    }

    /// Runs the vectors (one per cycle) and returns the outputs sampled after each rising edge.
    pub fn run(&self, vectors: &[Vec<u64>]) -> Result<Vec<Vec<u64>>, VerilatorError> {
        let io = |e: std::io::Error| VerilatorError::Failed(e.to_string());
        // One directory per run: tests run in parallel, possibly on the same build.
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!("run-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(io)?;
        let mut text = String::new();
        for v in vectors {
            for x in v {
                let _ = write!(text, "{x:x} ");
            }
            text.push('\n');
        }
        let (fin, fout) = (tmp.join("in.txt"), tmp.join("out.txt"));
        std::fs::write(&fin, text).map_err(io)?;
        run(Command::new(self.dir.join("obj/sim")).arg(&fin).arg(&fout))?;
        let got = std::fs::read_to_string(&fout).map_err(io)?;
        let _ = std::fs::remove_dir_all(&tmp);
        let rows: Vec<Vec<u64>> = got
            .lines()
            .map(|l| {
                l.split_whitespace()
                    .map(|w| u64::from_str_radix(w, 16).expect("hex from the driver"))
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), vectors.len(), "one output line per cycle");
        assert!(rows.iter().all(|r| r.len() == self.outputs.len()));
        Ok(rows)
    }
}

/// `verilator --lint-only -Wall` on the block's Verilog with [`LINT_WAIVERS`] and the block's
/// own [`Dut::lint_waivers`]; the error has every remaining warning.
pub fn lint<D: Dut>(dut: &mut D) -> Result<(), VerilatorError> {
    dut.connect_all();
    let verilog = generate_verilog(dut);
    let dir = cache_root().join(format!("lint-{:016x}", fnv64(&verilog)));
    std::fs::create_dir_all(&dir).map_err(|e| VerilatorError::Failed(e.to_string()))?;
    std::fs::write(dir.join("top.v"), &verilog)
        .map_err(|e| VerilatorError::Failed(e.to_string()))?;
    let mut cmd = Command::new("verilator");
    cmd.current_dir(&dir)
        .args(["--lint-only", "-Wall", "--top-module", "top"]);
    for w in LINT_WAIVERS
        .into_iter()
        .chain(dut.lint_waivers().iter().map(|(w, _)| *w))
    {
        cmd.arg(format!("-Wno-{w}"));
    }
    run(cmd.arg("top.v"))
}

/// The first cycle at which `got` differs from `want`, with both rows, or `None`.
pub fn first_mismatch(want: &[Vec<u64>], got: &[Vec<u64>]) -> Option<(usize, Vec<u64>, Vec<u64>)> {
    assert_eq!(want.len(), got.len(), "same number of cycles");
    want.iter()
        .zip(got)
        .enumerate()
        .find(|(_, (w, g))| w != g)
        .map(|(i, (w, g))| (i, w.clone(), g.clone()))
}

/// The whole differential check of one block: the expected outputs `want` (from the Rust
/// model, one row per cycle, already delayed by the block's latency) against rust-hdl's
/// simulator and, when available, Verilator (built from `make()`, a fresh copy of the block),
/// plus the lint. Panics naming the first differing cycle, its inputs and both outputs.
pub fn check<D: Dut>(name: &str, make: impl Fn() -> D, vectors: &[Vec<u64>], want: &[Vec<u64>]) {
    let got = run_rust_hdl(&mut make(), vectors);
    if let Some((i, w, g)) = first_mismatch(want, &got) {
        panic!("{name}: rust-hdl differs from the model at cycle {i} (inputs {:x?}): model {w:x?}, rust-hdl {g:x?}", vectors[i]);
    }
    if !require_verilator(name) {
        return;
    }
    if let Err(e) = lint(&mut make()) {
        panic!("{name}: verilator lint: {e}");
    }
    let sim = Verilated::build(&mut make()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = sim.run(vectors).unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Some((i, w, g)) = first_mismatch(want, &got) {
        panic!("{name}: Verilator differs from the model at cycle {i} (inputs {:x?}): model {w:x?}, Verilator {g:x?}", vectors[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trips_the_edges() {
        for bits in [1, 8, 12, 32, 63, 64] {
            let max = i64::MAX >> (64 - bits);
            for x in [-max - 1, -1, 0, max] {
                assert_eq!(from_raw(to_raw(x, bits), bits), x, "{x} in {bits} bits");
            }
        }
        assert_eq!(to_raw(-1, 12), 0xfff);
        assert_eq!(from_raw(0x800, 12), -2048);
    }

    #[test]
    fn mismatches_are_found_at_the_first_cycle() {
        let want = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        assert_eq!(first_mismatch(&want, &want), None);
        let got = vec![vec![1, 2], vec![3, 5], vec![0, 0]];
        assert_eq!(
            first_mismatch(&want, &got),
            Some((1, vec![3, 4], vec![3, 5]))
        );
    }

    #[test]
    fn missing_verilator_fails_only_in_ci() {
        assert!(verilator_policy(true, Some("true")).unwrap());
        assert!(!verilator_policy(false, None).unwrap());
        assert!(!verilator_policy(false, Some("false")).unwrap());
        let e = verilator_policy(false, Some("true")).unwrap_err();
        assert!(e.to_string().contains("apt-get install -y verilator"));
    }

    #[test]
    fn the_driver_names_escaped_ports() {
        let cpp = driver(&[Port::new("x$1", 8)], &[Port::new("q", 64)]);
        assert!(cpp.contains("t->x__0241 = v[0];"));
        assert!(cpp.contains("(uint64_t)t->q & UINT64_C(0xffffffffffffffff)"));
    }
}
