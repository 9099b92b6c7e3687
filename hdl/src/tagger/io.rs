//! A tagger's ports as values: a row of input mantissas as input words, and output words as
//! output mantissas, so every simulator compares like with like.

use super::port;
use crate::ir::{mask, sign_extend, Netlist};

/// The input words of a row of mantissas `x` (in the order of `net.inputs`), with `in_valid`
/// = `strobe`.
pub fn inputs(net: &Netlist, x: &[i128], strobe: bool) -> Vec<u128> {
    net.inputs
        .iter()
        .map(|p| match p.name.as_str() {
            port::IN_VALID => strobe as u128,
            name => {
                let i: usize = name
                    .strip_prefix("x_")
                    .and_then(|k| k.parse().ok())
                    .unwrap_or_else(|| panic!("unknown input port {name}"));
                (x[i] as u128) & mask(p.ty.width)
            }
        })
        .collect()
}

/// Index of the input strobe.
pub fn in_valid(net: &Netlist) -> usize {
    net.inputs
        .iter()
        .position(|p| p.name == port::IN_VALID)
        .expect("in_valid port")
}

/// Index of the output strobe.
pub fn out_valid(net: &Netlist) -> usize {
    net.outputs
        .iter()
        .position(|(p, _)| p.name == port::OUT_VALID)
        .expect("out_valid port")
}

/// The output mantissas `y_0 …` in output words (in the order of `net.outputs`).
pub fn decode(net: &Netlist, words: &[u128]) -> Vec<i128> {
    net.outputs
        .iter()
        .zip(words)
        .filter(|((p, _), _)| p.name.starts_with("y_"))
        .map(|((p, _), &w)| sign_extend(w, p.ty))
        .collect()
}
