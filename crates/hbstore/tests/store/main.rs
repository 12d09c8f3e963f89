//! Integration tests of the library, in one test binary (each binary links
//! RocksDB, so fewer binaries build faster).
//!
//! `conformance` and `hyperbeam` are written once against the `Store`
//! trait and run on every backend through `for_every_backend!`.

mod bounds;
mod common;
mod concurrency;
mod conformance;
mod crash;
mod fuzz_corpus;
mod gc;
mod hostile;
mod hyperbeam;
mod model;
mod persistence;
mod queries;
mod scale;
