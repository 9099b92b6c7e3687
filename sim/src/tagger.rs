//! Streams rows through a generated tagger on any backend, at its initiation interval, and
//! collects the output mantissas with the observed latency.

use crate::backend::Backend;
use jettrellis_hdl::tagger::{io, Tagger};

/// What came out of a stream.
#[derive(Clone, Debug)]
pub struct Streamed {
    /// Output mantissas per row, in input order.
    pub outputs: Vec<Vec<i128>>,
    /// Clock edges from a row's sampling edge to its output edge, per row.
    pub latencies: Vec<u64>,
    /// Clock edges simulated.
    pub cycles: u64,
}

/// Drives `rows` (input mantissas) into `be` one every `t.ii` cycles (`in_valid` high for one
/// cycle, the words on the ports then only), then clocks until every row's `out_valid` has been
/// seen. An output missing after the generator's latency plus slack, or one with no row in
/// flight, is an error.
pub fn stream(t: &Tagger, be: &mut dyn Backend, rows: &[Vec<i128>]) -> Result<Streamed, String> {
    let net = &t.net;
    let ov = io::out_valid(net);
    let strobe = io::in_valid(net);
    let n_out = net.outputs.len();
    let mut sent = Vec::with_capacity(rows.len());
    let mut outputs = Vec::with_capacity(rows.len());
    let mut latencies = Vec::with_capacity(rows.len());
    let mut cycle: u64 = 0;
    let limit = t.ii as u64 * rows.len() as u64 + t.latency as u64 * 2 + 16;
    let mut words = vec![0u128; n_out];
    while outputs.len() < rows.len() {
        if cycle > limit {
            return Err(format!(
                "{} of {} outputs missing after {cycle} cycles",
                rows.len() - outputs.len(),
                rows.len()
            ));
        }
        let k = sent.len();
        if k < rows.len() && cycle % t.ii as u64 == 0 {
            for (p, w) in io::inputs(net, &rows[k], true).into_iter().enumerate() {
                be.set(p, w);
            }
            sent.push(cycle);
        } else {
            // The words stay on the ports with the strobe low: the design ignores them.
            be.set(strobe, 0);
        }
        be.tick();
        cycle += 1;
        if be.get(ov) == 1 {
            for (k, w) in words.iter_mut().enumerate() {
                *w = be.get(k);
            }
            let j = outputs.len();
            if j >= sent.len() {
                return Err(format!("out_valid at cycle {cycle} with no row in flight"));
            }
            latencies.push(cycle - sent[j]);
            outputs.push(io::decode(net, &words));
        }
    }
    Ok(Streamed {
        outputs,
        latencies,
        cycles: cycle,
    })
}
