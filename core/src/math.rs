//! Elementary functions for the float reference, always from `libm`.
//!
//! A `#![no_std]` crate sees std's float methods whenever std is linked somewhere in the build
//! (a test build is enough), so calling `x.exp()` would give different functions, and possibly
//! different last bits, in different builds. Calling `libm` by name gives the same bits
//! everywhere.

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// e^x − 1, accurate near 0.
#[inline]
pub fn exp_m1(x: f64) -> f64 {
    libm::expm1(x)
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// Square root (correctly rounded).
#[inline]
pub fn sqrt(x: f64) -> f64 {
    libm::sqrt(x)
}
