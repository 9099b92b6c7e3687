//! Cross-crate integration tests of jettrellis live in `tests/`; this library holds what they
//! share: a small Ginkgo-like toy shower to make realistic test jets without the `shower`
//! command.
#![deny(missing_docs)]

pub mod toy;
