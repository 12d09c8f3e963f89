//! What a store has done and how it stands, for a monitoring system.
//!
//! Two halves: [`OperationMetrics`], the counters and latency histograms
//! every backend keeps on its hot path (atomics only: a read adds to three
//! of them and takes nothing locked), and [`MetricsReport`], a snapshot in
//! Prometheus' data model (families of samples) that a backend fills with
//! those counters and its own gauges, rendered as the exposition text by
//! one function ([`MetricsReport::prometheus_text`]) and walked by anyone
//! who wants the figures as data (the Erlang module's `metrics/1`).

mod operations;
mod report;
pub(crate) mod striped;

pub use operations::{Operation, OperationMetrics, Outcome, LATENCY_BUCKETS_SECONDS};
pub use report::{
    by, one, Family, FamilyKind, HistogramSeries, Labels, MetricsReport, Sample, Series,
};
