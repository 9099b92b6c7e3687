//! Cross-crate integration tests of jettrellis live in `tests/`; this library is empty.
