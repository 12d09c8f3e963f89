//! The backends: each implements [`crate::Store`] and passes the same
//! conformance suite (`tests/conformance.rs`).

pub mod memory;
pub mod rocks;
