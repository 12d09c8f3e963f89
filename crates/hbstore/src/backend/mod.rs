//! The backends: each implements [`crate::Store`] and passes the same
//! conformance suite (`crates/hbstore/tests/store/conformance.rs`).

pub(crate) mod memory;
pub(crate) mod rocks;
