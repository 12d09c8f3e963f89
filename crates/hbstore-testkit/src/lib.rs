//! Test support for hbstore, in one place: what the library's suites, the
//! command-line tests, the fuzz targets and the benchmark would otherwise
//! each write again.
//!
//! - [`dump`]: a store's whole observable tree, for comparing two stores;
//! - [`Rng`]: a small deterministic generator, so a failing run replays;
//! - [`ops`]: random operations on a store and their answers as text, for
//!   the model-based property test and the differential fuzz target (with
//!   proptest strategies behind the `proptest` feature);
//! - [`fuzz`]: what the fuzz targets check, replayed by a regular test;
//! - [`conformance`]: the conformance suite, for every backend;
//! - `local_cluster`: a real Redis cluster on 127.0.0.1 for the cluster
//!   backend's tests and the benchmark (the `cluster` feature).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conformance;
mod dump;
pub mod exposition;
pub mod fuzz;
#[cfg(feature = "cluster")]
pub mod local_cluster;
pub mod ops;
mod rng;

pub use dump::{dump, Dumped};
#[cfg(feature = "cluster")]
pub use local_cluster::LocalCluster;
pub use rng::Rng;
