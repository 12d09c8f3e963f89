//! [`Durability::Buffered`](super::Durability::Buffered): the thread that
//! hands the write-ahead log to the operating system every interval.
//!
//! RocksDB, opened with `manual_wal_flush`, appends each commit's log
//! record to a buffer in the process instead of writing it to the log
//! file; a commit is then a copy in memory. This thread writes the buffer
//! out (`FlushWAL`, without an fsync) every interval, so a process kill
//! loses at most the commits since the last flush: whole commits, in
//! order, because the buffer holds whole records and recovery replays the
//! log up to its last complete one. The store's close stops the thread and
//! flushes once more.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rocksdb::DB;

use crate::error::{Error, Result};

/// The running flusher; dropping it stops the thread (at once: it waits
/// on the channel, not in a sleep) and joins it.
pub(super) struct Flusher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    failures: Arc<AtomicU64>,
}

impl Flusher {
    /// Starts flushing `db`'s log every `every`.
    pub(super) fn start(db: Arc<DB>, every: Duration, dir: &Path) -> Result<Flusher> {
        let (stop, stopped) = mpsc::channel::<()>();
        let failures = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&failures);
        let thread = std::thread::Builder::new()
            .name("hbstore-log-flush".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    // A failed flush leaves the records in the buffer, and
                    // the next tick tries again; the metrics count it.
                    if db.flush_wal(false).is_err() {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .map_err(|source| Error::Io {
                context: "starting the write-ahead log's flusher for".to_owned(),
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(Flusher {
            stop: Some(stop),
            thread: Some(thread),
            failures,
        })
    }

    /// Flushes that failed since the store opened.
    pub(super) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
