//! The values written lately, so that `gc` leaves them alone for a grace
//! period ([`Options::gc_grace`](super::Options::gc_grace)).
//!
//! HyperBEAM writes a message's value (`data/<hash>`) first and links to
//! it afterwards; between the two, no link reaches the value, and a sweep
//! running then would remove an acknowledged write. So every value a
//! writer puts is recorded here before its write lands, and `gc` keeps
//! every value recorded within the grace period, checked when it scans and
//! again under the writers' lock when it removes.
//!
//! The record is a few Bloom filters, each with the time of its newest
//! write (bounded memory, whatever the write rate): a value is recent when
//! a filter written to within the grace period may hold its path. A false
//! positive only keeps garbage for a later sweep. Writers add to one
//! filter for a share of the grace period, then move to the next, which is
//! cleared first, and only once its newest write is older than the grace
//! period (until then they stay where they are). Writes made before this
//! handle opened the store are not recorded: the process that made them,
//! and whatever link it was about to make, are gone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::hash::{hash_path, PathHashing};
use crate::sync;

/// Filters kept, and the bits of each (512 KiB).
const FILTERS: usize = 4;
const BITS: u64 = 1 << 22;

struct Filter {
    bits: Box<[AtomicU64]>,
    /// When it was last written to, in nanoseconds since the record began.
    newest: AtomicU64,
}

impl Filter {
    fn new() -> Self {
        Filter {
            bits: (0..BITS / 64).map(|_| AtomicU64::new(0)).collect(),
            newest: AtomicU64::new(0),
        }
    }

    /// The two bits of a path, from its hash.
    fn positions(hash: u64) -> [(usize, u64); 2] {
        [hash % BITS, hash.rotate_left(32) % BITS]
            .map(|bit| ((bit / 64) as usize, 1u64 << (bit % 64)))
    }

    fn insert(&self, hash: u64, at: u64) {
        self.newest.fetch_max(at, Ordering::Release);
        for (word, mask) in Self::positions(hash) {
            self.bits[word].fetch_or(mask, Ordering::Release);
        }
    }

    fn may_hold(&self, hash: u64) -> bool {
        Self::positions(hash)
            .iter()
            .all(|&(word, mask)| self.bits[word].load(Ordering::Acquire) & mask != 0)
    }

    fn clear(&self) {
        for word in self.bits.iter() {
            word.store(0, Ordering::Relaxed);
        }
    }
}

/// Which filter writers add to, and since when.
struct Rotation {
    current: usize,
    since: u64,
}

pub(crate) struct RecentWrites {
    grace: Duration,
    began: Instant,
    filters: Vec<Filter>,
    hashing: PathHashing,
    /// Writers hold it shared while they add a path, so a filter is never
    /// cleared under a writer that chose it.
    rotation: RwLock<Rotation>,
}

impl RecentWrites {
    /// A record kept for `grace`; zero records nothing.
    pub(crate) fn new(grace: Duration) -> Self {
        RecentWrites {
            grace,
            began: Instant::now(),
            filters: if grace.is_zero() {
                Vec::new()
            } else {
                (0..FILTERS).map(|_| Filter::new()).collect()
            },
            hashing: PathHashing::default(),
            rotation: RwLock::new(Rotation {
                current: 0,
                since: 0,
            }),
        }
    }

    /// Nanoseconds since the record began (never 0 for a write: 0 means
    /// "never written").
    fn now(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn grace_nanos(&self) -> u64 {
        u64::try_from(self.grace.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records a value written at `path` (before its write lands).
    pub(crate) fn record(&self, path: &str) {
        if self.filters.is_empty() {
            return;
        }
        let now = self.now();
        let hash = hash_path(&self.hashing, path);
        let span = self.grace_nanos() / (FILTERS as u64 - 1);
        let current = {
            let rotation = sync::read(&self.rotation);
            if now.saturating_sub(rotation.since) < span {
                self.filters[rotation.current].insert(hash, now);
                return;
            }
            rotation.current
        };
        self.rotate(current, now);
        let rotation = sync::read(&self.rotation);
        self.filters[rotation.current].insert(hash, now);
    }

    /// Whether a value at `path` may have been written within the grace
    /// period.
    pub(crate) fn is_recent(&self, path: &str) -> bool {
        let _no_clearing = sync::read(&self.rotation);
        let since = self.now().saturating_sub(self.grace_nanos());
        let hash = hash_path(&self.hashing, path);
        self.filters
            .iter()
            .any(|f| f.newest.load(Ordering::Acquire) >= since.max(1) && f.may_hold(hash))
    }

    /// Moves writers from filter `from` to the next one, if they are still
    /// on it and the next one's newest write is older than the grace period.
    fn rotate(&self, from: usize, now: u64) {
        let mut rotation = sync::write(&self.rotation);
        let next = (from + 1) % FILTERS;
        let newest = self.filters[next].newest.load(Ordering::Acquire);
        if rotation.current != from || now.saturating_sub(newest) < self.grace_nanos() {
            return;
        }
        self.filters[next].clear();
        self.filters[next].newest.store(0, Ordering::Release);
        rotation.current = next;
        rotation.since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_path_is_recent_and_others_mostly_not() {
        let recent = RecentWrites::new(Duration::from_secs(60));
        recent.record("data/abc");
        assert!(recent.is_recent("data/abc"));
        let strangers = (0..1000)
            .filter(|i| recent.is_recent(&format!("data/{i}")))
            .count();
        assert_eq!(strangers, 0);
    }

    #[test]
    fn no_grace_records_nothing() {
        let recent = RecentWrites::new(Duration::ZERO);
        recent.record("data/abc");
        assert!(!recent.is_recent("data/abc"));
    }

    #[test]
    fn a_path_stays_recent_for_the_grace_period_and_then_goes() {
        let grace = Duration::from_millis(300);
        let recent = RecentWrites::new(grace);
        recent.record("data/old");
        let started = Instant::now();
        // Writers keep writing (which turns the filters over); the first
        // path is recent as long as the grace period runs.
        let mut i = 0u64;
        while started.elapsed() < grace * 2 {
            let within = started.elapsed() < grace;
            recent.record(&format!("data/{i}"));
            i += 1;
            // At a writer's pace, not flat out: millions of paths in a
            // filter would make a stranger look recent (a Bloom filter's
            // false positives), which is not what this checks.
            std::thread::sleep(Duration::from_micros(50));
            if within {
                assert!(
                    recent.is_recent("data/old"),
                    "after {:?}",
                    started.elapsed()
                );
            }
        }
        assert!(
            !recent.is_recent("data/old"),
            "forgotten after the grace period"
        );
    }

    #[test]
    fn an_idle_record_forgets_after_the_grace_period() {
        let grace = Duration::from_millis(100);
        let recent = RecentWrites::new(grace);
        recent.record("data/old");
        assert!(recent.is_recent("data/old"));
        std::thread::sleep(grace + Duration::from_millis(20));
        assert!(!recent.is_recent("data/old"));
    }
}
