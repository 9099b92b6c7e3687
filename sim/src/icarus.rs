//! Runs a testbench directory written by [`crate::testbench::write`] in Icarus Verilog
//! (`iverilog` to compile, `vvp` to simulate) and reads its verdict.

use crate::testbench::iverilog_args;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Lines of the log kept in errors.
const LOG_TAIL_LINES: usize = 30;

/// One mismatch line of the testbench.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Cycle of the check.
    pub cycle: u64,
    /// Output port name.
    pub port: String,
    /// Expected value, hex as printed (padding digits included).
    pub expected: String,
    /// Actual value, hex as printed (may contain `x` or `z`).
    pub actual: String,
}

/// What a testbench run said.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Cycles checked.
    pub checked: u64,
    /// Checked cycles where at least one port differed.
    pub failed: u64,
    /// The mismatch lines printed (the testbench stops printing after its limit).
    pub mismatches: Vec<Mismatch>,
    /// The simulator's output.
    pub log: String,
    /// Time `iverilog` took.
    pub compile_time: Duration,
    /// Time `vvp` took.
    pub sim_time: Duration,
}

impl Verdict {
    /// True iff every checked cycle matched.
    pub fn passed(&self) -> bool {
        self.failed == 0
    }
}

/// Why a run gave no verdict.
#[derive(Debug)]
pub enum Error {
    /// A tool is not installed (not found on the search path).
    NotInstalled {
        /// The program looked for.
        program: &'static str,
    },
    /// The directory holds no testbench, or several.
    NoTestbench(String),
    /// Starting a tool failed for another reason.
    Io {
        /// The program.
        program: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// `iverilog` rejected the sources.
    Compile {
        /// The end of its output.
        log_tail: String,
    },
    /// `vvp` failed, or ended without a `PASS` / `FAIL` line.
    Sim {
        /// What went wrong.
        reason: String,
        /// The end of its output.
        log_tail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotInstalled { program } => write!(
                f,
                "`{program}` not found: Icarus Verilog is not installed \
                 (install the Debian package `iverilog`: apt-get install -y iverilog)"
            ),
            Error::NoTestbench(m) => write!(f, "{m}"),
            Error::Io { program, source } => write!(f, "running `{program}`: {source}"),
            Error::Compile { log_tail } => {
                write!(f, "iverilog failed to compile the testbench:\n{log_tail}")
            }
            Error::Sim { reason, log_tail } => write!(f, "vvp: {reason}:\n{log_tail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The Icarus tools, found on the process's `PATH` or on a search path given instead (so a
/// caller or a test can point at another installation, or at none, without touching the
/// process environment).
#[derive(Clone, Debug, Default)]
pub struct Icarus {
    search_path: Option<OsString>,
}

impl Icarus {
    /// The tools on the process's `PATH`.
    pub fn new() -> Icarus {
        Icarus::default()
    }

    /// The tools on `path` (a `PATH`-style list of directories) instead.
    pub fn with_search_path(path: impl Into<OsString>) -> Icarus {
        Icarus {
            search_path: Some(path.into()),
        }
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir);
        if let Some(p) = &self.search_path {
            // Setting PATH on the command also makes it the path the program is looked up on.
            c.env("PATH", p);
        }
        c
    }

    fn output(&self, program: &'static str, args: &[String], dir: &Path) -> Result<Output, Error> {
        self.command(program, dir)
            .args(args)
            .output()
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => Error::NotInstalled { program },
                _ => Error::Io { program, source },
            })
    }

    /// True iff `iverilog` and `vvp` can be started.
    pub fn available(&self) -> bool {
        let dir = std::env::temp_dir();
        ["iverilog", "vvp"].iter().all(|p| {
            self.command(p, &dir)
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    }

    /// Compiles and runs the testbench in `dir` (the only `tb_<top>.v` there, with `<top>.v`)
    /// and parses its verdict. The compiled simulation `sim` is left in `dir`.
    pub fn run(&self, dir: &Path) -> Result<Verdict, Error> {
        let top = find_top(dir)?;
        let t0 = Instant::now();
        let out = self.output("iverilog", &iverilog_args(&top), dir)?;
        let compile_time = t0.elapsed();
        if !out.status.success() {
            return Err(Error::Compile {
                log_tail: tail(&combined(&out)),
            });
        }
        let t0 = Instant::now();
        let out = self.output("vvp", &["-n".into(), "sim".into()], dir)?;
        let sim_time = t0.elapsed();
        let log = combined(&out);
        if !out.status.success() {
            return Err(Error::Sim {
                reason: format!("exited with {}", out.status),
                log_tail: tail(&log),
            });
        }
        let mut v = parse(&log).map_err(|reason| Error::Sim {
            reason,
            log_tail: tail(&log),
        })?;
        v.compile_time = compile_time;
        v.sim_time = sim_time;
        Ok(v)
    }
}

/// [`Icarus::run`] with the tools on the process's `PATH`.
pub fn run(dir: &Path) -> Result<Verdict, Error> {
    Icarus::new().run(dir)
}

fn find_top(dir: &Path) -> Result<String, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::NoTestbench(format!("reading {}: {e}", dir.display())))?;
    let mut tops: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some(name.strip_prefix("tb_")?.strip_suffix(".v")?.to_string())
        })
        .collect();
    tops.sort();
    match tops.as_slice() {
        [top] => {
            let design: PathBuf = dir.join(format!("{top}.v"));
            if design.is_file() {
                Ok(top.clone())
            } else {
                Err(Error::NoTestbench(format!(
                    "{} has tb_{top}.v but not the design {top}.v",
                    dir.display()
                )))
            }
        }
        [] => Err(Error::NoTestbench(format!(
            "no testbench tb_<top>.v in {}",
            dir.display()
        ))),
        _ => Err(Error::NoTestbench(format!(
            "several testbenches in {}: {}",
            dir.display(),
            tops.iter()
                .map(|t| format!("tb_{t}.v"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn combined(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Reads the mismatch lines and the one verdict line of a testbench log.
fn parse(log: &str) -> Result<Verdict, String> {
    let mut mismatches = Vec::new();
    let mut verdict = None;
    for line in log.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let num = |s: &str| s.parse::<u64>().map_err(|_| format!("bad line {line:?}"));
        match w.as_slice() {
            ["MISMATCH", "cycle", c, "port", p, "expected", e, "actual", a] => {
                mismatches.push(Mismatch {
                    cycle: num(c)?,
                    port: p.to_string(),
                    expected: e.to_string(),
                    actual: a.to_string(),
                })
            }
            ["PASS", n] => verdict = Some((num(n)?, 0)),
            ["FAIL", f, "of", n] => verdict = Some((num(n)?, num(f)?)),
            _ => {}
        }
    }
    let (checked, failed) = verdict.ok_or("no PASS or FAIL line in the output")?;
    Ok(Verdict {
        checked,
        failed,
        mismatches,
        log: log.to_string(),
        compile_time: Duration::ZERO,
        sim_time: Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verdicts() {
        let v = parse("MISMATCH cycle 12 port y expected 0a actual 0b\nFAIL 1 of 200\ntb.v:9: $finish called at 1 (1s)\n").unwrap();
        assert_eq!((v.checked, v.failed), (200, 1));
        assert_eq!(
            v.mismatches,
            [Mismatch {
                cycle: 12,
                port: "y".into(),
                expected: "0a".into(),
                actual: "0b".into()
            }]
        );
        let v = parse("PASS 5\n").unwrap();
        assert!(v.passed() && v.checked == 5);
        let e = parse("ERROR expected.hex has fewer than 3 vectors\n").unwrap_err();
        assert!(e.contains("no PASS or FAIL"));
    }
}
