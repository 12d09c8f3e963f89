//! Counters of operations by kind and outcome, and their latencies.
//!
//! Everything is a relaxed atomic add: the figures are for a person or a
//! scraper reading them seconds later, so no ordering between counters is
//! promised, and a call pays two clock reads and three uncontended adds
//! (a read answered from the entry cache by `RocksStore::read_cached`,
//! whose whole cost is a few hundred nanoseconds, is timed one call in
//! 16: see [`OperationMetrics::observe_sampled`]).
//! The counters are kept per thread ([`Striped`]) and added up for a
//! report, so that calls on several cores never bounce a line between
//! them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::striped::Striped;
use super::MetricsReport;
use crate::error::{Error, Result};

/// The upper bounds of the latency histograms' buckets, in seconds: from a
/// microsecond (an entry cache hit) to ten seconds (a cluster call that
/// timed out), about three to a decade, so that a quantile read from them
/// is within a factor of about two of the truth.
pub const LATENCY_BUCKETS_SECONDS: [f64; 22] = [
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
];

/// The same bounds in nanoseconds, for the hot path's comparison.
const BUCKET_NANOS: [u64; 22] = {
    let mut nanos = [0u64; 22];
    let mut i = 0;
    while i < 22 {
        nanos[i] = (LATENCY_BUCKETS_SECONDS[i] * 1e9 + 0.5) as u64;
        i += 1;
    }
    nanos
};

/// An operation of the contract, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `read` of a value (and `read_up_to`).
    Read,
    /// `type`.
    Type,
    /// `resolve`.
    Resolve,
    /// `list` of a group (whole or a page).
    List,
    /// `read_entry` and `read_message`: an entry with its children.
    ReadEntry,
    /// `match`.
    Match,
    /// `write` of a value.
    Write,
    /// `make_group`.
    Group,
    /// `make_link`.
    Link,
    /// `delete`, recursive or not.
    Delete,
    /// A batch applied as one.
    Batch,
    /// `reset`.
    Reset,
}

impl Operation {
    /// Every operation, in the order reports list them.
    pub const ALL: [Operation; 12] = [
        Operation::Read,
        Operation::Type,
        Operation::Resolve,
        Operation::List,
        Operation::ReadEntry,
        Operation::Match,
        Operation::Write,
        Operation::Group,
        Operation::Link,
        Operation::Delete,
        Operation::Batch,
        Operation::Reset,
    ];

    /// The label value reports give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Type => "type",
            Operation::Resolve => "resolve",
            Operation::List => "list",
            Operation::ReadEntry => "read_entry",
            Operation::Match => "match",
            Operation::Write => "write",
            Operation::Group => "group",
            Operation::Link => "link",
            Operation::Delete => "delete",
            Operation::Batch => "batch",
            Operation::Reset => "reset",
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A read found what it asked for.
    Found,
    /// A read found nothing there (or a delete had nothing to delete).
    Absent,
    /// A change was made.
    Done,
    /// The contract said no: an invalid path, a group where a value was
    /// to go, a loop, a read-only store. The caller's doing, not the
    /// store's.
    Refused,
    /// A call asked not to wait would have waited
    /// ([`crate::RocksStore::without_waiting`]); the caller makes it again
    /// where it may wait, so each of these is followed by another count.
    Busy,
    /// The store could not answer: RocksDB's or the disk's error, a
    /// damaged entry, a cluster unreachable. What to alert on.
    Failed,
}

impl Outcome {
    /// Every outcome, in the order reports list them.
    pub const ALL: [Outcome; 6] = [
        Outcome::Found,
        Outcome::Absent,
        Outcome::Done,
        Outcome::Refused,
        Outcome::Busy,
        Outcome::Failed,
    ];

    /// The label value reports give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::Absent => "absent",
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Busy => "busy",
            Outcome::Failed => "failed",
        }
    }

    /// The outcome of a call that failed with `error`.
    pub fn of_error(error: &Error) -> Outcome {
        match error {
            Error::WouldWait { .. } => Outcome::Busy,
            Error::Corrupt { .. }
            | Error::RocksDb { .. }
            | Error::Remote { .. }
            | Error::Io { .. } => Outcome::Failed,
            Error::InvalidPath { .. }
            | Error::NotAGroup { .. }
            | Error::IsGroup { .. }
            | Error::AlreadyExists { .. }
            | Error::LinkLoop { .. }
            | Error::NotEmpty { .. }
            | Error::Locked { .. }
            | Error::NotAStore { .. }
            | Error::UnsupportedFormat { .. }
            | Error::NeedsUpgrade { .. }
            | Error::ReadOnly { .. } => Outcome::Refused,
        }
    }
}

/// The outcome of a call that answered `answer`.
fn outcome_of<T: Answer>(answer: &Result<T>) -> Outcome {
    match answer {
        Ok(value) => value.outcome(),
        Err(error) => Outcome::of_error(error),
    }
}

/// What a successful answer says about the outcome: whether a read found
/// something, whether a delete deleted.
pub trait Answer {
    /// The outcome of a call that answered `self`.
    fn outcome(&self) -> Outcome;
}

impl<T> Answer for Option<T> {
    fn outcome(&self) -> Outcome {
        if self.is_some() {
            Outcome::Found
        } else {
            Outcome::Absent
        }
    }
}

impl Answer for () {
    fn outcome(&self) -> Outcome {
        Outcome::Done
    }
}

/// `delete`'s answer: whether there was anything.
impl Answer for bool {
    fn outcome(&self) -> Outcome {
        if *self {
            Outcome::Done
        } else {
            Outcome::Absent
        }
    }
}

/// `match`'s answer: the paths found (none is still an answer).
impl Answer for Vec<String> {
    fn outcome(&self) -> Outcome {
        Outcome::Found
    }
}

/// `resolve`'s answer: always a path.
impl Answer for crate::StorePath {
    fn outcome(&self) -> Outcome {
        Outcome::Found
    }
}

/// One operation's counters, on cache lines of their own.
#[repr(align(64))]
#[derive(Default)]
struct Counters {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    /// Not cumulative: each call adds to the first bucket it fits.
    buckets: [AtomicU64; LATENCY_BUCKETS_SECONDS.len() + 1],
    nanos: AtomicU64,
}

impl Counters {
    /// Adds `calls` calls of `took` each to the histogram.
    fn time(&self, took: Duration, calls: u64) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKET_NANOS
            .iter()
            .position(|&bound| nanos <= bound)
            .unwrap_or(BUCKET_NANOS.len());
        self.buckets[bucket].fetch_add(calls, Ordering::Relaxed);
        self.nanos
            .fetch_add(nanos.saturating_mul(calls), Ordering::Relaxed);
    }
}

/// The calls of [`OperationMetrics::observe_sampled`] one in which is timed.
pub const SAMPLED_ONE_IN: u32 = 16;

thread_local! {
    /// This thread's calls of [`OperationMetrics::observe_sampled`].
    static SAMPLING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Counters of operations by kind and outcome, and a latency histogram per
/// kind, kept since the store opened. Every backend holds one.
#[derive(Default)]
pub struct OperationMetrics {
    counters: Striped<[Counters; Operation::ALL.len()]>,
}

impl std::fmt::Debug for OperationMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationMetrics").finish_non_exhaustive()
    }
}

impl OperationMetrics {
    /// Runs `call` as `operation`, counting its outcome and its time.
    #[inline]
    pub fn observe<T: Answer>(
        &self,
        operation: Operation,
        call: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let started = Instant::now();
        let answer = call();
        self.record(operation, outcome_of(&answer), started.elapsed());
        answer
    }

    /// [`OperationMetrics::observe`] of a call that may decline to
    /// answer (`None`: a fast path that did not apply), which is then not
    /// counted: the caller asks the usual way, which counts.
    #[inline]
    pub fn observe_answered<T: Answer>(
        &self,
        operation: Operation,
        call: impl FnOnce() -> Option<Result<T>>,
    ) -> Option<Result<T>> {
        let started = Instant::now();
        let answer = call()?;
        self.record(operation, outcome_of(&answer), started.elapsed());
        Some(answer)
    }

    /// Counts one `operation` that ended in `outcome` after `took`.
    pub fn record(&self, operation: Operation, outcome: Outcome, took: Duration) {
        let counters = &self.counters.local()[operation as usize];
        counters.outcomes[outcome as usize].fetch_add(1, Ordering::Relaxed);
        counters.time(took, 1);
    }

    /// Runs `call`, a found-or-not answer from the process's memory (an
    /// entry cache hit: a few hundred nanoseconds, of which two clock reads
    /// would be a tenth), as `operation`: an answer is counted as found,
    /// every one, and one in [`SAMPLED_ONE_IN`] of a thread's calls is
    /// timed and stands in the histogram for that many, so its count and
    /// sum stay estimates of every call's. `None` counts nothing: the
    /// caller then asks the way [`OperationMetrics::observe`] counts.
    #[inline]
    pub fn observe_sampled<T>(
        &self,
        operation: Operation,
        call: impl FnOnce() -> Option<T>,
    ) -> Option<T> {
        let timed = SAMPLING.with(|calls| {
            let n = calls.get().wrapping_add(1);
            calls.set(n);
            n % SAMPLED_ONE_IN == 0
        });
        let started = timed.then(Instant::now);
        let answer = call()?;
        let counters = &self.counters.local()[operation as usize];
        counters.outcomes[Outcome::Found as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(started) = started {
            counters.time(started.elapsed(), u64::from(SAMPLED_ONE_IN));
        }
        Some(answer)
    }

    /// How many `operation`s ended in `outcome` so far.
    pub fn count(&self, operation: Operation, outcome: Outcome) -> u64 {
        self.counters
            .total(|stripe| &stripe[operation as usize].outcomes[outcome as usize])
    }

    /// Adds the counters and histograms to `report`.
    pub fn report_into(&self, report: &mut MetricsReport) {
        let mut counts = Vec::new();
        for operation in Operation::ALL {
            for outcome in Outcome::ALL {
                counts.push((
                    vec![
                        ("operation", operation.as_str().to_owned()),
                        ("outcome", outcome.as_str().to_owned()),
                    ],
                    self.count(operation, outcome) as f64,
                ));
            }
        }
        report.counter(
            "hbstore_operations_total",
            "Operations since the store opened in this process, by operation and outcome \
             (busy: a normal-scheduler call handed to a dirty one; failed: the store could not answer).",
            counts,
        );
        let histograms = Operation::ALL
            .iter()
            .map(|&operation| {
                let op = operation as usize;
                let buckets: Vec<u64> = (0..=LATENCY_BUCKETS_SECONDS.len())
                    .map(|i| self.counters.total(|stripe| &stripe[op].buckets[i]))
                    .collect();
                let seconds = self.counters.total(|stripe| &stripe[op].nanos) as f64 / 1e9;
                (
                    vec![("operation", operation.as_str().to_owned())],
                    buckets,
                    seconds,
                )
            })
            .collect();
        report.histogram(
            "hbstore_operation_duration_seconds",
            "How long operations took, from the call into the store to its answer.",
            &LATENCY_BUCKETS_SECONDS,
            histograms,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_lands_in_the_first_bucket_it_fits() {
        let metrics = OperationMetrics::default();
        metrics.record(Operation::Read, Outcome::Found, Duration::from_nanos(1_000));
        metrics.record(Operation::Read, Outcome::Found, Duration::from_nanos(1_001));
        metrics.record(Operation::Read, Outcome::Failed, Duration::from_secs(60));
        let mut report = MetricsReport::default();
        metrics.report_into(&mut report);
        let bucket = |le: &str| {
            report
                .value(
                    "hbstore_operation_duration_seconds_bucket",
                    &[("operation", "read"), ("le", le)],
                )
                .unwrap()
        };
        assert_eq!(bucket("0.000001"), 1.0);
        assert_eq!(bucket("0.0000025"), 2.0);
        assert_eq!(bucket("10"), 2.0);
        assert_eq!(bucket("+Inf"), 3.0);
        assert_eq!(metrics.count(Operation::Read, Outcome::Failed), 1);
    }

    #[test]
    fn errors_from_the_store_are_failures_and_from_the_caller_refusals() {
        let corrupt = Error::Corrupt {
            key: "a".into(),
            reason: "damaged".into(),
        };
        assert_eq!(Outcome::of_error(&corrupt), Outcome::Failed);
        assert_eq!(
            Outcome::of_error(&Error::invalid_path("a//b", "empty segment")),
            Outcome::Refused
        );
        assert_eq!(Outcome::of_error(&Error::would_wait("read")), Outcome::Busy);
    }
}
