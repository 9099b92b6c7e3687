//! The bit-exact fixed-point golden model of the clustering datapath (see `docs/datapath.md`).
//!
//! - [`design`]: the design parameters and the one definition of every number format;
//! - [`tables`]: the one function computing every lookup table and constant of a design;
//! - [`units`]: the integer arithmetic units (ln, exp ratio, leaf term, max*, saturation);
//! - [`input`]: the hardware input and the quantization of float jets into it;
//! - [`model`]: the pipeline and the trellis recurrence over it;
//! - `lanes`: the same model on sixteen jets at once (x86-64 with AVX-512);
//! - [`features`]: the tagger's input features from a solved jet.

pub mod design;
pub mod features;
pub mod input;
#[cfg(target_arch = "x86_64")]
pub mod lanes;
pub mod model;
pub mod tables;
pub mod units;

pub use design::{Design, DesignError, Quantity, MAX_FIXED_LEAVES};
pub use input::{quantize_jet, FixedJet, Quantized};
#[cfg(target_arch = "x86_64")]
pub use lanes::{LaneCell, LaneTrellis, LANES};
pub use model::{FixedResult, FixedTrellis, FxCell};
pub use tables::Tables;
pub use units::{LogVal, Overflows, Stage};

#[cfg(test)]
mod tests;
