//! The Verilator backend: the emitted Verilog is verilated into a shared library together with a
//! generated `extern "C"` shim, kept in a content-addressed cache, and driven through FFI.
//!
//! Why a shared library and not a stdin/stdout harness: lockstep through a pipe costs
//! microseconds per cycle, the FFI path tens of nanoseconds (see `notes/toolchain.md`).
//!
//! The cache entry is keyed by a SHA-256 of everything that decides the binary: the Verilog, the
//! shim, the verilator command line (with the trace flag and the optimization level) and
//! `verilator --version`. An entry is built in a temporary directory
//! and renamed into place, so an interrupted build never leaves a half entry behind.

use jettrellis_hdl::emit;
use jettrellis_hdl::ir::{mask, Netlist, Port};
use sha2::{Digest, Sha256};
use std::ffi::{CString, OsString};
use std::fmt::{self, Write as _};
use std::fs;
use std::io;
use std::os::raw::{c_char, c_void};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Environment variable naming the cache directory when `BuildOptions::cache_dir` is unset.
pub const CACHE_ENV: &str = "JETTRELLIS_CACHE";

/// Cache directory used when neither `BuildOptions::cache_dir`, [`CACHE_ENV`] nor
/// `CARGO_TARGET_DIR` is set: the workspace's `target/`, wherever the process runs (tests run
/// in their crate's directory).
pub const DEFAULT_CACHE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/verilator-cache");

/// Name of the library inside a cache entry.
const LIB: &str = "libdut.so";

/// Lines of a failing tool's log quoted in the error.
const TAIL_LINES: usize = 40;

/// Everything that can go wrong building or loading a Verilated model.
#[derive(Debug)]
pub enum Error {
    /// The `verilator` program could not be started.
    NoVerilator(io::Error),
    /// A file-system operation failed.
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Verilator (or the make and g++ it runs) failed.
    Tool {
        /// Its exit status.
        status: ExitStatus,
        /// The full log.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// The built library could not be loaded or lacks a shim function.
    Load {
        /// The library.
        path: PathBuf,
        /// The loader's error.
        source: libloading::Error,
    },
    /// A port the shim cannot carry, or a VCD path C cannot take.
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoVerilator(e) => write!(
                f,
                "cannot run `verilator` ({e}): install it with `apt-get install verilator` \
                 (Debian package `verilator`)"
            ),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
            Error::Tool { status, log, tail } => write!(
                f,
                "verilator failed ({status}); log {}; last lines:\n{tail}",
                log.display()
            ),
            Error::Load { path, source } => write!(f, "loading {}: {source}", path.display()),
            Error::Invalid(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::NoVerilator(e) | Error::Io { source: e, .. } => Some(e),
            Error::Load { source, .. } => Some(source),
            Error::Tool { .. } | Error::Invalid(_) => None,
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// How to build a model.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Cache directory; `None` reads [`CACHE_ENV`], then `$CARGO_TARGET_DIR/verilator-cache`
    /// (the directory the hdl harness caches its builds in), then [`DEFAULT_CACHE`].
    pub cache_dir: Option<PathBuf>,
    /// Write a VCD of every port and signal to this file (builds with `--trace`).
    pub vcd: Option<PathBuf>,
    /// `PATH` for the tools (verilator, make, g++); `None` inherits the process's. Lets a caller
    /// point at another toolchain without touching the process environment.
    pub path: Option<OsString>,
    /// Compile the per-cycle code without optimization (g++ -O0 instead of -O1): for large designs
    /// whose build would outlast the simulation. At N = 6 on two cores the build takes 3 min
    /// instead of 4.5 and the model simulates 3k instead of 7k jets/s (docs/hardware.md).
    pub quick_build: bool,
    /// Verilate and compile each sub-module the emitter marks `hier_block` once (Verilator
    /// `--hierarchical`) instead of copying it into every instance. At N = 6 the build takes
    /// 92 s and 0.43 GB instead of 364 s and 4.2 GB at the same speed; N = 8 builds only this
    /// way; small designs simulate slower (N = 4: half the rate), because every instance is a
    /// call into a model of its own. [`BuildOptions::sized_for`] chooses by size. Not with
    /// [`BuildOptions::vcd`]: Verilator 5.006's hierarchical model crashes when traced.
    pub hierarchical: bool,
}

/// Netlists of at least this many nodes (instances expanded) are built hierarchically by
/// [`BuildOptions::sized_for`]: from there on it costs no speed (docs/hardware.md).
pub const HIERARCHICAL_MIN_NODES: u64 = 100_000;

impl BuildOptions {
    /// These options with [`BuildOptions::hierarchical`] set for `net`'s size (never with a
    /// VCD trace).
    pub fn sized_for(self, net: &Netlist) -> Self {
        BuildOptions {
            hierarchical: self.vcd.is_none() && net.flat_nodes() >= HIERARCHICAL_MIN_NODES,
            ..self
        }
    }

    fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .or_else(|| std::env::var_os(CACHE_ENV).map(PathBuf::from))
            .or_else(|| {
                std::env::var_os("CARGO_TARGET_DIR")
                    .map(|t| PathBuf::from(t).join("verilator-cache"))
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE))
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        if let Some(p) = &self.path {
            // Command searches the child's PATH when it is set here.
            c.env("PATH", p);
        }
        c.stdin(Stdio::null());
        c
    }
}

/// What a build did.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// The library came from the cache (no verilator or compiler run).
    pub cached: bool,
    /// Wall time of the build or cache lookup, seconds.
    pub seconds: f64,
    /// The cache entry.
    pub dir: PathBuf,
}

type NewFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type SetFn = unsafe extern "C" fn(*mut c_void, u32, *const u64);
type GetFn = unsafe extern "C" fn(*mut c_void, u32, *mut u64);
type TickFn = unsafe extern "C" fn(*mut c_void);

/// A Verilated model of one module, loaded from the cache. Not `Send`: a Verilated model is
/// driven from the thread that made it.
pub struct VerilatorBackend {
    handle: *mut c_void,
    free: FreeFn,
    set: SetFn,
    get: GetFn,
    tick: TickFn,
    in_mask: Vec<u128>,
    n_out: usize,
    // Keeps the code behind the function pointers mapped; `drop` frees the model before it goes.
    _lib: libloading::Library,
}

impl VerilatorBackend {
    /// Emits `net` as module `top` and builds it (see [`VerilatorBackend::build`]).
    pub fn from_netlist(
        net: &Netlist,
        top: &str,
        opts: &BuildOptions,
    ) -> Result<(Self, BuildInfo), Error> {
        let v = emit::verilog(net, top, "jettrellis-sim Verilator backend");
        let outs: Vec<Port> = net.outputs.iter().map(|(p, _)| p.clone()).collect();
        Self::build(&v, top, &net.inputs, &outs, opts)
    }

    /// Builds (or finds in the cache) the model of module `top` in `verilog`, whose ports besides
    /// `clk` are `inputs` then `outputs`, and loads it.
    pub fn build(
        verilog: &str,
        top: &str,
        inputs: &[Port],
        outputs: &[Port],
        opts: &BuildOptions,
    ) -> Result<(Self, BuildInfo), Error> {
        let t0 = Instant::now();
        for p in inputs.iter().chain(outputs) {
            if !(1..=128).contains(&p.ty.width) {
                return Err(Error::Invalid(format!(
                    "port {} is {} bits wide; the shim carries 1..=128",
                    p.name, p.ty.width
                )));
            }
        }
        let trace = opts.vcd.is_some();
        if trace && opts.hierarchical {
            return Err(Error::Invalid(
                "a VCD trace needs a flat build: Verilator 5.006's hierarchical model crashes \
                 when traced (leave `hierarchical` off)"
                    .into(),
            ));
        }
        let version = verilator_version(opts)?;
        let shim = shim(inputs, outputs, trace);
        let mut h = Sha256::new();
        for part in [
            "jettrellis-verilator-1",
            verilog,
            &verilator_args(top, opts).join(" "),
            &shim,
            &version,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let key: String = h.finalize()[..16].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let cache = opts.cache_dir();
        let dir = cache.join(&key);
        let cached = dir.join(LIB).is_file();
        if !cached {
            build_entry(&cache, &dir, &key, verilog, top, &shim, opts)?;
        }
        let info = BuildInfo {
            cached,
            seconds: t0.elapsed().as_secs_f64(),
            dir: dir.clone(),
        };
        let backend = Self::load(&dir.join(LIB), inputs, outputs, opts.vcd.as_deref())?;
        Ok((backend, info))
    }

    fn load(
        lib: &Path,
        inputs: &[Port],
        outputs: &[Port],
        vcd: Option<&Path>,
    ) -> Result<Self, Error> {
        let load_err = |source| Error::Load {
            path: lib.to_path_buf(),
            source,
        };
        // SAFETY: the library is one this module built from its own shim; its initialisers are
        // Verilator's runtime and the model's static data.
        let lib_h = unsafe { libloading::Library::new(lib) }.map_err(load_err)?;
        // SAFETY: the symbol types match the shim's `extern "C"` signatures, generated below.
        let (new, free, set, get, tick) = unsafe {
            (
                *lib_h.get::<NewFn>(b"jt_new\0").map_err(load_err)?,
                *lib_h.get::<FreeFn>(b"jt_free\0").map_err(load_err)?,
                *lib_h.get::<SetFn>(b"jt_set\0").map_err(load_err)?,
                *lib_h.get::<GetFn>(b"jt_get\0").map_err(load_err)?,
                *lib_h.get::<TickFn>(b"jt_tick\0").map_err(load_err)?,
            )
        };
        let vcd_c = vcd
            .map(|p| {
                CString::new(p.as_os_str().as_encoded_bytes())
                    .map_err(|_| Error::Invalid(format!("VCD path {} has a NUL", p.display())))
            })
            .transpose()?;
        // SAFETY: `jt_new` takes a NUL-terminated path or null, and copies what it needs.
        let handle = unsafe { new(vcd_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())) };
        Ok(VerilatorBackend {
            handle,
            free,
            set,
            get,
            tick,
            in_mask: inputs.iter().map(|p| mask(p.ty.width)).collect(),
            n_out: outputs.len(),
            _lib: lib_h,
        })
    }
}

impl Drop for VerilatorBackend {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `jt_new` of the still loaded library and is freed once.
        unsafe { (self.free)(self.handle) }
    }
}

impl crate::backend::Backend for VerilatorBackend {
    fn set(&mut self, k: usize, raw: u128) {
        // Verilator assumes the bits above a port's width are 0.
        let raw = raw & self.in_mask[k];
        let w = [raw as u64, (raw >> 64) as u64];
        // SAFETY: `k` is a valid port (indexing `in_mask` checked it); the shim reads two words.
        unsafe { (self.set)(self.handle, k as u32, w.as_ptr()) }
    }
    fn tick(&mut self) {
        // SAFETY: a live handle.
        unsafe { (self.tick)(self.handle) }
    }
    fn get(&self, k: usize) -> u128 {
        assert!(k < self.n_out, "output {k} out of range");
        let mut w = [0u64; 2];
        // SAFETY: a valid port; the shim writes two words.
        unsafe { (self.get)(self.handle, k as u32, w.as_mut_ptr()) };
        w[0] as u128 | (w[1] as u128) << 64
    }
    fn name(&self) -> &'static str {
        "verilator"
    }
}

/// The C++ name Verilator gives a Verilog identifier: characters outside `[A-Za-z0-9_]` and the
/// second of two underscores become `__0HH` (hex), as Verilator's name encoding does.
fn cpp_name(name: &str) -> String {
    let mut s = String::new();
    let mut prev_us = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || (c == '_' && !prev_us) {
            s.push(c);
        } else {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                let _ = write!(s, "__0{byte:02X}");
            }
        }
        prev_us = c == '_' && !prev_us;
    }
    s
}

/// The `extern "C"` shim: ports are exchanged as two little-endian u64 words.
fn shim(inputs: &[Port], outputs: &[Port], trace: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by jettrellis-sim: the C interface of a Verilated module.\n\
         #include \"Vdut.h\"\n#include \"verilated.h\"\n#include <cstdint>"
    );
    if trace {
        s.push_str("#include \"verilated_vcd_c.h\"\n");
    }
    s.push_str(
        "struct JtSim {\n  VerilatedContext* ctx;\n  Vdut* m;\n  void* vcd;\n  uint64_t t;\n};\n\
         extern \"C\" {\n",
    );
    s.push_str("void* jt_new(const char* vcd) {\n  JtSim* s = new JtSim();\n  s->ctx = new VerilatedContext;\n");
    if trace {
        s.push_str("  if (vcd) s->ctx->traceEverOn(true);\n");
    }
    s.push_str("  s->m = new Vdut{s->ctx, \"TOP\"};\n");
    if trace {
        s.push_str(
            "  if (vcd) {\n    VerilatedVcdC* v = new VerilatedVcdC;\n    s->m->trace(v, 99);\n    \
             v->open(vcd);\n    s->vcd = v;\n  }\n",
        );
    } else {
        s.push_str("  (void)vcd;\n");
    }
    s.push_str("  s->m->clk = 0;\n  s->m->eval();\n  return s;\n}\n");
    s.push_str("void jt_free(void* h) {\n  JtSim* s = (JtSim*)h;\n  s->m->final();\n");
    if trace {
        s.push_str(
            "  if (s->vcd) {\n    VerilatedVcdC* v = (VerilatedVcdC*)s->vcd;\n    v->flush();\n    \
             v->close();\n    delete v;\n  }\n",
        );
    }
    s.push_str("  delete s->m;\n  delete s->ctx;\n  delete s;\n}\n");
    // One full cycle; the VCD gets a sample after each half.
    s.push_str(
        "void jt_tick(void* h) {\n  JtSim* s = (JtSim*)h;\n  s->m->clk = 0;\n  s->m->eval();\n",
    );
    let dump = |s: &mut String| {
        if trace {
            s.push_str("  if (s->vcd) ((VerilatedVcdC*)s->vcd)->dump(s->t);\n");
        }
        s.push_str("  s->t++;\n");
    };
    dump(&mut s);
    s.push_str("  s->m->clk = 1;\n  s->m->eval();\n");
    dump(&mut s);
    s.push_str("}\n");
    s.push_str("void jt_set(void* h, uint32_t k, const uint64_t* w) {\n  Vdut* m = ((JtSim*)h)->m;\n  switch (k) {\n");
    for (k, p) in inputs.iter().enumerate() {
        let n = cpp_name(&p.name);
        let _ = write!(s, "  case {k}:");
        let w = p.ty.width;
        if w <= 64 {
            let ty = match w {
                0..=8 => "CData",
                9..=16 => "SData",
                17..=32 => "IData",
                _ => "QData",
            };
            let _ = write!(s, " m->{n} = ({ty})w[0];");
        } else {
            for i in 0..w.div_ceil(32) {
                let _ = write!(
                    s,
                    " m->{n}[{i}] = (IData)(w[{}] >> {});",
                    i / 2,
                    32 * (i % 2)
                );
            }
        }
        s.push_str(" break;\n");
    }
    s.push_str("  }\n}\n");
    s.push_str("void jt_get(void* h, uint32_t k, uint64_t* w) {\n  Vdut* m = ((JtSim*)h)->m;\n  switch (k) {\n");
    for (k, p) in outputs.iter().enumerate() {
        let n = cpp_name(&p.name);
        let _ = write!(s, "  case {k}:");
        let w = p.ty.width;
        if w <= 64 {
            let _ = write!(s, " w[0] = (uint64_t)m->{n}; w[1] = 0;");
        } else {
            let words = w.div_ceil(32);
            for j in 0..2 {
                let lo = 2 * j;
                let hi = lo + 1;
                let lo_e = if lo < words {
                    format!("(uint64_t)m->{n}[{lo}]")
                } else {
                    "0".into()
                };
                let hi_e = if hi < words {
                    format!(" | (uint64_t)m->{n}[{hi}] << 32")
                } else {
                    String::new()
                };
                let _ = write!(s, " w[{j}] = {lo_e}{hi_e};");
            }
        }
        s.push_str(" break;\n");
    }
    s.push_str("  }\n}\n}\n");
    s
}

/// Runs `verilator --version`, returning what it prints.
fn verilator_version(opts: &BuildOptions) -> Result<String, Error> {
    let c = &mut opts.command("verilator");
    c.arg("--version");
    let out = c.output().map_err(Error::NoVerilator)?;
    if !out.status.success() {
        return Err(Error::NoVerilator(io::Error::other(format!(
            "`verilator --version` exited with {}",
            out.status
        ))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs verilator (which runs make and g++) with its output in `log`; a failure quotes the tail.
fn run_verilator(c: &mut Command, log: &Path) -> Result<(), Error> {
    let f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io_err(format!("opening {}", log.display())))?;
    let f2 = f
        .try_clone()
        .map_err(io_err("duplicating the log handle"))?;
    let status = c
        .stdout(f)
        .stderr(f2)
        .status()
        .map_err(Error::NoVerilator)?;
    if status.success() {
        return Ok(());
    }
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    Err(Error::Tool {
        status,
        log: log.to_path_buf(),
        tail,
    })
}

/// Builds the cache entry `dir` in a temporary sibling and renames it into place.
fn build_entry(
    cache: &Path,
    dir: &Path,
    key: &str,
    verilog: &str,
    top: &str,
    shim: &str,
    opts: &BuildOptions,
) -> Result<(), Error> {
    fs::create_dir_all(cache).map_err(io_err(format!("creating {}", cache.display())))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = cache.join(format!("tmp-{key}-{}-{nanos}", std::process::id()));
    let result = build_in(&tmp, verilog, top, shim, opts).and_then(|()| {
        // Only the library, its sources and the log are kept: the object tree is large.
        let _ = fs::remove_dir_all(tmp.join("obj"));
        match fs::rename(&tmp, dir) {
            Ok(()) => Ok(()),
            // Another process finished the same entry first: its copy is as good.
            Err(_) if dir.join(LIB).is_file() => Ok(()),
            Err(e) => Err(Error::Io {
                what: format!("renaming {} to {}", tmp.display(), dir.display()),
                source: e,
            }),
        }
    });
    let result = match result {
        // The log outlives the temporary directory, which must not linger.
        Err(Error::Tool { status, log, tail }) => {
            let kept = cache.join(format!("failed-{key}.log"));
            let log = if fs::rename(&log, &kept).is_ok() {
                kept
            } else {
                log
            };
            Err(Error::Tool { status, log, tail })
        }
        r => r,
    };
    let _ = fs::remove_dir_all(&tmp);
    result
}

/// The verilator command line (part of the cache key: other flags make another binary).
fn verilator_args(top: &str, opts: &BuildOptions) -> Vec<String> {
    let mut a: Vec<String> = [
        "--cc",
        "-O3",
        "--build",
        "-j",
        "2",
        // Width and unused-bit lints are expected in generated code; errors still stop.
        "-Wno-fatal",
        "--top-module",
        top,
        "--prefix",
        "Vdut",
        "--Mdir",
        "obj",
        // The shim is the "main" program, linked as a shared library instead of an executable.
        "--exe",
        "-CFLAGS",
        "-fPIC",
        "-LDFLAGS",
        "-shared",
        // Verilator's default for the model and its runtime is -Os. The run-once code
        // (constructors, initial settle) unoptimized; the runtime library is small.
        "-MAKEFLAGS",
        "OPT_SLOW=-O0",
        "-MAKEFLAGS",
        "OPT_GLOBAL=-O2",
    ]
    .map(String::from)
    .to_vec();
    // The per-cycle code: on the N = 6 model (one core) g++ took 742 s at -O2, 206 s at -O1 and
    // 115 s at -O0; -O1 simulates as fast as -O2 at N = 4.
    let fast = if opts.quick_build { "-O0" } else { "-O1" };
    a.extend(["-MAKEFLAGS".into(), format!("OPT_FAST={fast}")]);
    // Relative to the object directory: the library lands beside it, outside what is deleted.
    a.extend(["-o".into(), format!("../{LIB}")]);
    if opts.vcd.is_some() {
        a.push("--trace".into());
    }
    if opts.hierarchical {
        a.push("--hierarchical".into());
    }
    a
}

fn build_in(
    tmp: &Path,
    verilog: &str,
    top: &str,
    shim: &str,
    opts: &BuildOptions,
) -> Result<(), Error> {
    fs::create_dir_all(tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    let write = |name: &str, text: &str| {
        fs::write(tmp.join(name), text).map_err(io_err(format!("writing {name}")))
    };
    write("design.v", verilog)?;
    write("shim.cpp", shim)?;
    let log = tmp.join("build.log");
    let mut v = opts.command("verilator");
    v.current_dir(tmp).args(verilator_args(top, opts));
    v.args(["design.v", "shim.cpp"]);
    run_verilator(&mut v, &log)
}
