//! Streams jets through a generated clustering datapath on any backend, at its initiation
//! interval, and collects the outputs with the observed latency.

use crate::backend::Backend;
use jettrellis_core::fixed::FixedJet;
use jettrellis_hdl::datapath::io::{self, HwResult};
use jettrellis_hdl::datapath::{port, Datapath};

/// What came out of a stream: one result per item (a jet's [`HwResult`], a tagger row's output
/// mantissas), in input order.
#[derive(Clone, Debug)]
pub struct Streamed<R = HwResult> {
    /// One result per item, in input order.
    pub results: Vec<R>,
    /// Clock edges from an item's sampling edge to its output edge, per item.
    pub latencies: Vec<u64>,
    /// Clock edges simulated.
    pub cycles: u64,
}

/// Drives `jets` into `be` one every `dp.ii` cycles (`in_valid` high for one cycle), then clocks
/// until every jet's `out_valid` has been seen. An output missing after the generator's latency
/// plus slack, or one before any jet was sent, is an error: a hung or mistimed design fails.
pub fn stream(dp: &Datapath, be: &mut dyn Backend, jets: &[FixedJet]) -> Result<Streamed, String> {
    let net = &dp.net;
    let ports = Ports {
        strobe: io::in_valid(net),
        out_valid: io::output(net, port::OUT_VALID).expect("out_valid port"),
        outputs: net.outputs.len(),
    };
    drive(
        be,
        ports,
        (dp.ii, dp.latency),
        jets.len(),
        |k| io::inputs(net, &jets[k], true),
        |w| io::decode(net, w),
    )
}

/// Port indices a stream drives and watches.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    /// Input index of `in_valid`.
    pub strobe: usize,
    /// Output index of `out_valid`.
    pub out_valid: usize,
    /// Number of output ports.
    pub outputs: usize,
}

/// Streams `n` items through `be` at `(ii, latency)`: item k's input words (`inputs(k)`, with
/// the strobe high) every `ii` cycles, the strobe low in between (the last words stay on the
/// ports: the design ignores them); `decode` turns the output words of every `out_valid` cycle
/// into a result. Missing outputs after the latency plus slack, or an output with no item in
/// flight, are errors.
pub fn drive<R>(
    be: &mut dyn Backend,
    ports: Ports,
    (ii, latency): (u32, u32),
    n: usize,
    inputs: impl Fn(usize) -> Vec<u128>,
    decode: impl Fn(&[u128]) -> R,
) -> Result<Streamed<R>, String> {
    let mut sent = Vec::with_capacity(n);
    let mut results = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(n);
    let mut cycle: u64 = 0;
    let limit = ii as u64 * n as u64 + latency as u64 * 2 + 16;
    let mut words = vec![0u128; ports.outputs];
    while results.len() < n {
        if cycle > limit {
            return Err(format!(
                "{} of {n} outputs missing after {cycle} cycles",
                n - results.len()
            ));
        }
        let k = sent.len();
        if k < n && cycle.is_multiple_of(ii as u64) {
            for (p, w) in inputs(k).into_iter().enumerate() {
                be.set(p, w);
            }
            sent.push(cycle);
        } else {
            be.set(ports.strobe, 0);
        }
        be.tick();
        cycle += 1;
        if be.get(ports.out_valid) == 1 {
            for (k, w) in words.iter_mut().enumerate() {
                *w = be.get(k);
            }
            let j = results.len();
            if j >= sent.len() {
                return Err(format!("out_valid at cycle {cycle} with nothing in flight"));
            }
            latencies.push(cycle - sent[j]);
            results.push(decode(&words));
        }
    }
    Ok(Streamed {
        results,
        latencies,
        cycles: cycle,
    })
}
