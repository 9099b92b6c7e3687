//! jettrellis-core: the allocation-free numerics of jettrellis.
//!
//! Everything here is `#![no_std]` and allocates nothing: callers pass work buffers. The float
//! reference (Ginkgo likelihood, exact cluster trellis, tree scoring, posterior sampling) lives
//! here, and so will the bit-exact fixed-point models that the generated hardware must match.
#![no_std]
#![deny(missing_docs)]

pub mod apfixed;
pub mod brute;
pub mod fixed;
pub mod ginkgo;
pub mod mask;
pub mod math;
pub mod nn;
pub mod recurrence;
pub mod sample;
pub mod tree;
pub mod trellis;

pub use ginkgo::{GinkgoParams, Momentum};
pub use mask::Mask;
pub use trellis::{Cell, GinkgoTrellis, TrellisResult};
