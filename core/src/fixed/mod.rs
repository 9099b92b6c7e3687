//! The bit-exact fixed-point golden model of the clustering datapath (see `docs/datapath.md`).
//!
//! - [`design`]: the design parameters and the one definition of every number format;
//! - [`tables`]: the one function computing every lookup table and constant of a design;
//! - [`units`]: the integer arithmetic units (ln, exp ratio, leaf term, max*, saturation);
//! - [`input`]: the hardware input and the quantization of float jets into it;
//! - [`model`]: the pipeline and the trellis recurrence over it;
//! - [`features`]: the tagger's input features from a solved jet.

pub mod design;
pub mod features;
pub mod input;
pub mod model;
pub mod tables;
pub mod units;

pub use design::{Design, DesignError, Quantity, MAX_FIXED_LEAVES};
pub use input::{quantize_jet, FixedJet, Quantized};
pub use model::{FixedResult, FixedTrellis, FxCell};
pub use tables::Tables;
pub use units::{LogVal, Overflows, Stage};

#[cfg(test)]
mod tests;
