//! Streams rows through a generated tagger on any backend, at its initiation interval, and
//! collects the output mantissas with the observed latency.

use crate::backend::Backend;
use crate::stream::{drive, Ports, Streamed};
use jettrellis_hdl::tagger::{io, Tagger};

/// Drives `rows` (input mantissas) into `be` one every `t.ii` cycles (`in_valid` high for one
/// cycle, the words on the ports then only), then clocks until every row's `out_valid` has been
/// seen; each result is the row's output mantissas. An output missing after the generator's
/// latency plus slack, or one with no row in flight, is an error.
pub fn stream(
    t: &Tagger,
    be: &mut dyn Backend,
    rows: &[Vec<i128>],
) -> Result<Streamed<Vec<i128>>, String> {
    let net = &t.net;
    let ports = Ports {
        strobe: io::in_valid(net),
        out_valid: io::out_valid(net),
        outputs: net.outputs.len(),
    };
    drive(
        be,
        ports,
        (t.ii, t.latency),
        rows.len(),
        |k| io::inputs(net, &rows[k], true),
        |w| io::decode(net, w),
    )
}
