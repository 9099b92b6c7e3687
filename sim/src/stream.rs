//! Streams jets through a generated clustering datapath on any backend, at its initiation
//! interval, and collects the outputs with the observed latency.

use crate::backend::Backend;
use jettrellis_core::fixed::FixedJet;
use jettrellis_hdl::datapath::io::{self, HwResult};
use jettrellis_hdl::datapath::{port, Datapath};

/// What came out of a stream.
#[derive(Clone, Debug)]
pub struct Streamed {
    /// One result per jet, in input order.
    pub results: Vec<HwResult>,
    /// Clock edges from a jet's sampling edge to its output edge, per jet.
    pub latencies: Vec<u64>,
    /// Clock edges simulated.
    pub cycles: u64,
}

/// Drives `jets` into `be` one every `dp.ii` cycles (`in_valid` high for one cycle), then clocks
/// until every jet's `out_valid` has been seen. An output missing after the generator's latency
/// plus slack, or one before any jet was sent, is an error: a hung or mistimed design fails.
pub fn stream(dp: &Datapath, be: &mut dyn Backend, jets: &[FixedJet]) -> Result<Streamed, String> {
    let net = &dp.net;
    let ov = io::output(net, port::OUT_VALID).expect("out_valid port");
    let strobe = io::in_valid(net);
    let mut sent = Vec::with_capacity(jets.len());
    let mut results = Vec::with_capacity(jets.len());
    let mut latencies = Vec::with_capacity(jets.len());
    let mut cycle: u64 = 0;
    let limit = (dp.ii as u64) * jets.len() as u64 + dp.latency as u64 * 2 + 16;
    let mut words = vec![0u128; net.outputs.len()];
    while results.len() < jets.len() {
        if cycle > limit {
            return Err(format!(
                "{} of {} outputs missing after {cycle} cycles",
                jets.len() - results.len(),
                jets.len()
            ));
        }
        let k = sent.len();
        let send = k < jets.len() && cycle % dp.ii as u64 == 0;
        if send {
            for (p, w) in io::inputs(net, &jets[k], true).into_iter().enumerate() {
                be.set(p, w);
            }
            sent.push(cycle);
        } else {
            // The last jet's words stay on the ports with the strobe low: ignored by the design.
            be.set(strobe, 0);
        }
        be.tick();
        cycle += 1;
        if be.get(ov) == 1 {
            for (k, w) in words.iter_mut().enumerate() {
                *w = be.get(k);
            }
            let j = results.len();
            if j >= sent.len() {
                return Err(format!("out_valid at cycle {cycle} with no jet in flight"));
            }
            latencies.push(cycle - sent[j]);
            results.push(io::decode(net, &words));
        }
    }
    Ok(Streamed {
        results,
        latencies,
        cycles: cycle,
    })
}
