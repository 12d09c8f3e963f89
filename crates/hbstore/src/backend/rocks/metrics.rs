//! The RocksDB store's metrics: the operation counters every backend
//! keeps, and what only this one knows (its files, its log, its caches,
//! RocksDB's compaction debt and write stalls, `gc`).

use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::statistics::Ticker;

use super::{GcReport, RocksStore};
use crate::error::{Error, Result};
use crate::metrics::{by, one, MetricsReport};

/// What `gc` removed since the store opened.
#[derive(Default)]
pub(super) struct GcTotals {
    runs: AtomicU64,
    removed: AtomicU64,
    bytes: AtomicU64,
}

impl GcTotals {
    /// Counts one finished (not dry) run.
    pub(super) fn add(&self, report: &GcReport) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.removed.fetch_add(report.removed, Ordering::Relaxed);
        self.bytes.fetch_add(report.bytes, Ordering::Relaxed);
    }
}

/// Hits over lookups, NaN before the first lookup (Prometheus' 0/0).
fn ratio(hits: u64, misses: u64) -> f64 {
    hits as f64 / (hits + misses) as f64
}

impl RocksStore {
    /// This store's metrics now: the operations it answered since it was
    /// opened in this process (by kind and outcome, with latency
    /// histograms), its size on disk and in entries, its memory budget and
    /// what each cache holds, cache hit ratios, RocksDB's pending
    /// compaction and write stalls, and what `gc` freed. Render them with
    /// [`MetricsReport::prometheus_text`]. Costs a few property reads of
    /// RocksDB, a listing of the store's directory and a sample of entries
    /// for the estimate: meant for a scrape every few seconds, not a loop.
    pub fn metrics(&self) -> Result<MetricsReport> {
        let mut report = MetricsReport::default();
        let mode = if self.options.read_only {
            "read-only"
        } else {
            "read-write"
        };
        report.gauge(
            "hbstore_info",
            "Always 1; the labels say how the store is open.",
            vec![(
                vec![
                    ("backend", "rocksdb".to_owned()),
                    ("mode", mode.to_owned()),
                    ("durability", self.options.durability.name().to_owned()),
                ],
                1.0,
            )],
        );
        self.operations.report_into(&mut report);

        let property = |name: &str| -> Result<f64> { Ok(self.property(name)?.unwrap_or(0) as f64) };
        report.gauge(
            "hbstore_disk_bytes",
            "Bytes the store takes on disk: its table files, and its write-ahead log (replayed after a crash).",
            by(
                "part",
                &[
                    ("files", property("rocksdb.live-sst-files-size")?),
                    ("log", self.log_bytes()? as f64),
                ],
            ),
        );
        let estimate = self.estimate()?;
        report.gauge(
            "hbstore_entries",
            "Entries the store holds, by kind, estimated from RocksDB's file records and a sample (hbstore check counts exactly).",
            by(
                "kind",
                &[
                    ("value", estimate.values as f64),
                    ("group", estimate.groups as f64),
                    ("link", estimate.links as f64),
                ],
            ),
        );
        report.gauge(
            "hbstore_value_bytes",
            "Bytes of the values the store holds, before compression, estimated.",
            one(estimate.value_bytes as f64),
        );

        // Each part of the budget: what it may hold, what it holds now.
        let budget = self.memory_budget();
        let parts = [
            (
                "memtables",
                budget.memtables,
                property("rocksdb.cur-size-all-mem-tables")?,
            ),
            (
                "block_cache",
                budget.block_cache,
                property("rocksdb.block-cache-usage")?,
            ),
            (
                "entry_cache",
                budget.entry_cache,
                self.entry_cache_usage() as f64,
            ),
            (
                "group_cache",
                budget.group_cache,
                self.group_cache_usage() as f64,
            ),
            (
                "link_cache",
                budget.link_cache,
                self.link_cache_usage() as f64,
            ),
        ];
        let bounds: Vec<(&str, f64)> = parts
            .iter()
            .map(|&(p, bound, _)| (p, bound as f64))
            .collect();
        let used: Vec<(&str, f64)> = parts.iter().map(|&(p, _, used)| (p, used)).collect();
        report.gauge(
            "hbstore_memory_budget_bytes",
            "The memory budget (Options::memory_budget_bytes, memory-budget) and its split.",
            by("part", &bounds),
        );
        report.gauge(
            "hbstore_memory_used_bytes",
            "What each part of the memory budget holds now.",
            by("part", &used),
        );
        report.gauge(
            "hbstore_entry_cache_entries",
            "Entries the entry cache holds now.",
            one(self.entry_cache_len() as f64),
        );
        let (entry_hits, entry_misses) = self.entry_cache_hits_and_misses();
        let block_hits = self.rocks_options.get_ticker_count(Ticker::BlockCacheHit);
        let block_misses = self.rocks_options.get_ticker_count(Ticker::BlockCacheMiss);
        report.counter(
            "hbstore_cache_lookups_total",
            "Look-ups of the entry cache (decoded entries) and of RocksDB's block cache, by result.",
            vec![
                (vec![("cache", "entry".to_owned()), ("result", "hit".to_owned())], entry_hits as f64),
                (vec![("cache", "entry".to_owned()), ("result", "miss".to_owned())], entry_misses as f64),
                (vec![("cache", "block".to_owned()), ("result", "hit".to_owned())], block_hits as f64),
                (vec![("cache", "block".to_owned()), ("result", "miss".to_owned())], block_misses as f64),
            ],
        );
        report.gauge(
            "hbstore_cache_hit_ratio",
            "Hits over look-ups since the store opened (NaN before the first); for a recent ratio, divide rates of hbstore_cache_lookups_total.",
            by(
                "cache",
                &[
                    ("entry", ratio(entry_hits, entry_misses)),
                    ("block", ratio(block_hits, block_misses)),
                ],
            ),
        );

        let ticks = |tickers: &[Ticker]| {
            tickers
                .iter()
                .map(|t| self.rocks_options.get_ticker_count(*t))
                .sum::<u64>() as f64
        };
        report.counter(
            "hbstore_scan_files_total",
            "Files a scan of a group's children (list, message reads) sought in, by what the children-prefix filter said: skipped (no child of the group in the file, no block read) or searched.",
            by(
                "filter",
                &[
                    (
                        "skipped",
                        ticks(&[Ticker::LastLevelSeekFiltered, Ticker::NonLastLevelSeekFiltered]),
                    ),
                    (
                        "searched",
                        ticks(&[Ticker::LastLevelSeekFilterMatch, Ticker::NonLastLevelSeekFilterMatch]),
                    ),
                ],
            ),
        );

        report.gauge(
            "hbstore_compaction_pending_bytes",
            "Bytes RocksDB estimates compaction must rewrite to bring every level under its target; growing without end means writes outrun compaction, and stalls follow.",
            one(property("rocksdb.estimate-pending-compaction-bytes")?),
        );
        report.gauge(
            "hbstore_compactions_running",
            "Compactions running now.",
            one(property("rocksdb.num-running-compactions")?),
        );
        report.counter(
            "hbstore_write_stall_seconds_total",
            "Time writers spent held back by RocksDB (slowed down or stopped) since the store opened.",
            one(self.rocks_options.get_ticker_count(Ticker::StallMicros) as f64 / 1e6),
        );
        report.gauge(
            "hbstore_writes_stopped",
            "1 while RocksDB stops every write until compaction catches up.",
            one(property("rocksdb.is-write-stopped")?),
        );
        report.gauge(
            "hbstore_write_rate_limit_bytes_per_second",
            "The rate RocksDB holds writes to while it slows them down; 0 when it does not.",
            one(property("rocksdb.actual-delayed-write-rate")?),
        );

        report.counter(
            "hbstore_log_flush_failures_total",
            "Background flushes of the write-ahead log that failed (buffered durability only; the next one retries, and until one succeeds a kill loses more).",
            one(self.flusher.as_ref().map_or(0, |f| f.failures()) as f64),
        );
        report.counter(
            "hbstore_gc_runs_total",
            "gc runs (not dry) finished since the store opened.",
            one(self.gc_totals.runs.load(Ordering::Relaxed) as f64),
        );
        report.counter(
            "hbstore_gc_removed_values_total",
            "Values gc removed since the store opened.",
            one(self.gc_totals.removed.load(Ordering::Relaxed) as f64),
        );
        report.counter(
            "hbstore_gc_freed_bytes_total",
            "Bytes of the values gc removed (before compression) since the store opened.",
            one(self.gc_totals.bytes.load(Ordering::Relaxed) as f64),
        );
        Ok(report)
    }

    /// The bytes of the write-ahead log's files.
    fn log_bytes(&self) -> Result<u64> {
        let io = |source| Error::Io {
            context: "listing the store's log files in".to_owned(),
            path: self.dir.clone(),
            source,
        };
        let mut total = 0;
        for file in std::fs::read_dir(&self.dir).map_err(io)? {
            let file = file.map_err(io)?;
            if file.file_name().to_string_lossy().ends_with(".log") {
                total += file.metadata().map_err(io)?.len();
            }
        }
        Ok(total)
    }
}
