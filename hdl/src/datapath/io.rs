//! The datapath's ports as values: a jet as input words, output words as a result, and the
//! golden model's result in the same form, so every simulator compares like with like.

use super::{port, Datapath};
use crate::ir::{mask, sign_extend, Netlist};
use jettrellis_core::fixed::{FixedJet, FixedResult, FixedTrellis, FxCell, LogVal, Stage, Tables};
use jettrellis_core::mask::Mask;

/// What the hardware outputs for one jet, with don't-care bits cleared (a −∞ value, tree
/// entries of a jet without a finite MAP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HwResult {
    /// Valid leaves.
    pub n: u32,
    /// MAP value (`None` = −∞), when the design outputs it.
    pub map: Option<LogVal>,
    /// log Z, when the design outputs it.
    pub log_z: Option<LogVal>,
    /// Pre-order (S, A) masks over compacted leaves (empty without a finite MAP).
    pub tree: Vec<(Mask, Mask)>,
    /// Overflow flag per `Stage` (bit k = `Stage::ALL[k]`).
    pub overflow: u8,
    /// The outputs of a stage behind the datapath ([`super::Tail`]): every output port that is
    /// not one of the datapath's, in port order, sign-extended by its type.
    pub tail: Vec<i128>,
}

/// Whether output `name` is one of the clustering datapath's own ports.
fn datapath_port(name: &str) -> bool {
    [
        port::OUT_VALID,
        port::N_LEAVES,
        port::MAP_VALUE,
        port::MAP_NINF,
        port::LOG_Z,
        port::LOG_Z_NINF,
        port::OVERFLOW,
    ]
    .contains(&name)
        || name.starts_with("tree_s_")
        || name.starts_with("tree_a_")
}

/// The golden model of a tail: its output values from the solved trellis and the jet's result.
pub type TailModel<'a> = &'a dyn Fn(&FixedTrellis<'_>, &FixedResult) -> Vec<i128>;

fn port_index(net: &Netlist, name: &str) -> Option<usize> {
    net.inputs.iter().position(|p| p.name == name)
}

/// The input words of `jet` (in the order of `net.inputs`), with `in_valid` = `strobe`.
pub fn inputs(net: &Netlist, jet: &FixedJet, strobe: bool) -> Vec<u128> {
    net.inputs
        .iter()
        .map(|p| {
            let raw = |x: i64| (x as i128 as u128) & mask(p.ty.width);
            match p.name.as_str() {
                port::IN_VALID => strobe as u128,
                port::VALID => raw(jet.valid as i64),
                name => {
                    let (field, k) = name.split_once('_').expect("port name");
                    let k: usize = k.parse().expect("slot index");
                    match field {
                        "pt" => raw(jet.pt[k] as i64),
                        "eta" => raw(jet.eta[k] as i64),
                        "phi" => raw(jet.phi[k] as i64),
                        _ => panic!("unknown input port {name}"),
                    }
                }
            }
        })
        .collect()
}

/// Index of the input strobe.
pub fn in_valid(net: &Netlist) -> usize {
    port_index(net, port::IN_VALID).expect("in_valid port")
}

/// Index of output `name`.
pub fn output(net: &Netlist, name: &str) -> Option<usize> {
    net.outputs.iter().position(|(p, _)| p.name == name)
}

/// Decodes output words (in the order of `net.outputs`).
pub fn decode(net: &Netlist, words: &[u128]) -> HwResult {
    let get = |name: &str| output(net, name).map(|k| words[k]);
    let signed =
        |name: &str| output(net, name).map(|k| sign_extend(words[k], net.outputs[k].0.ty) as i64);
    let log =
        |v: &str, f: &str| signed(v).map(|x| if get(f).unwrap() == 1 { None } else { Some(x) });
    let map = log(port::MAP_VALUE, port::MAP_NINF);
    let mut tree = Vec::new();
    if let Some(Some(_)) = map {
        let mut j = 0;
        while let (Some(s), Some(a)) = (get(&format!("tree_s_{j}")), get(&format!("tree_a_{j}"))) {
            if s != 0 {
                tree.push((s as Mask, a as Mask));
            }
            j += 1;
        }
    }
    HwResult {
        n: get(port::N_LEAVES).unwrap() as u32,
        map,
        log_z: log(port::LOG_Z, port::LOG_Z_NINF),
        tree,
        overflow: get(port::OVERFLOW).unwrap() as u8,
        tail: net
            .outputs
            .iter()
            .zip(words)
            .filter(|((p, _), _)| !datapath_port(&p.name))
            .map(|((p, _), &w)| sign_extend(w, p.ty))
            .collect(),
    }
}

/// The golden model's result for `jet`, in the form [`decode`] gives for `dp`.
pub fn expected(dp: &Datapath, tab: &Tables, cells: &mut [FxCell], jet: &FixedJet) -> HwResult {
    expected_with(dp, tab, cells, jet, None)
}

/// [`expected`] for a datapath with a tail, whose golden model is `tail`.
pub fn expected_with(
    dp: &Datapath,
    tab: &Tables,
    cells: &mut [FxCell],
    jet: &FixedJet,
    tail: Option<TailModel<'_>>,
) -> HwResult {
    let mut fx = FixedTrellis::new(tab, cells).expect("work buffer");
    let r = fx.solve(jet);
    let has = |name: &str| output(&dp.net, name).is_some();
    let mut tree = vec![(0, 0); 32];
    let len = fx.map_tree(&mut tree).unwrap_or(0);
    tree.truncate(len);
    let overflow = Stage::ALL
        .iter()
        .enumerate()
        .map(|(k, &s)| ((r.overflows.get(s) > 0) as u8) << k)
        .sum();
    HwResult {
        n: r.n as u32,
        map: has(port::MAP_VALUE).then_some(r.map),
        log_z: has(port::LOG_Z).then_some(r.log_z),
        tree: if has(port::MAP_VALUE) {
            tree
        } else {
            Vec::new()
        },
        overflow,
        tail: tail.map_or_else(Vec::new, |t| t(&fx, &r)),
    }
}
