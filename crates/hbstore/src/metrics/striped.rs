//! Counters kept per thread (nearly): every thread that counts adds to a
//! stripe of its own, on cache lines of its own, and a report adds the
//! stripes up. A counter shared by every thread costs each of their adds
//! the cache line moving from the core that added last; on the read path
//! (a handful of adds per call) that was the difference between reads that
//! grow with threads and reads that do not.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stripes per counter set: more than the cores a node's store is called
/// from at once, so that two threads rarely share one.
pub(crate) const STRIPES: usize = 16;

/// A value alone on its cache lines (two: a neighbouring line is fetched
/// with it): one stripe here, one shard of the entry cache's table.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub(crate) T);

/// `T` once per stripe (on the heap: a store's handle stays small).
pub(crate) struct Striped<T> {
    stripes: Box<[Padded<T>]>,
}

impl<T: Default> Default for Striped<T> {
    fn default() -> Self {
        Striped {
            stripes: (0..STRIPES).map(|_| Padded::default()).collect(),
        }
    }
}

impl<T> Striped<T> {
    /// The calling thread's stripe.
    #[inline]
    pub(crate) fn local(&self) -> &T {
        &self.stripes[stripe()].0
    }

    /// The sum over every stripe of the counter `field` picks, wrapping as
    /// the counters' own adds do.
    pub(crate) fn total(&self, field: impl Fn(&T) -> &AtomicU64) -> u64 {
        self.stripes.iter().fold(0u64, |sum, padded| {
            sum.wrapping_add(field(&padded.0).load(Ordering::Relaxed))
        })
    }
}

/// The calling thread's stripe: threads take them in turn as they first
/// count.
#[inline]
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_count_on_stripes_that_add_up() {
        let counter: Striped<AtomicU64> = Striped::default();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        counter.local().fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(counter.total(|c| c), 8000);
        let used = counter
            .stripes
            .iter()
            .filter(|c| c.0.load(Ordering::Relaxed) > 0)
            .count();
        assert!(used > 1, "threads counted on {used} stripe(s)");
    }
}
