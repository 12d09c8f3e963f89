//! The backends: each implements [`crate::Store`] and passes the same
//! conformance suite (`crates/hbstore-testkit/src/conformance/`).

pub(crate) mod memory;
pub(crate) mod rocks;
