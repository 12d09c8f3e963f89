//! One deadline per operation. A store operation on the cluster is many
//! network calls (a step per segment it creates, the slot map read again
//! after a failover, a batch's undo); each call, each connect and each
//! wait for a reply takes only the time the operation has left, so
//! nothing the operation does runs past [`Timeouts::deadline`] from its
//! start.
//!
//! The deadline is a flag of the calling thread, set by [`Operation`] for
//! the length of one operation (the outermost one wins: a batch's
//! operations share the batch's), because every layer below the store
//! (steps, the client, its connections) must see it.
//!
//! [`Timeouts::deadline`]: crate::Timeouts::deadline

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline of the operation running on this thread, for as long as
/// it lives; the one before is put back when it ends.
pub(crate) struct Operation {
    before: Option<Instant>,
}

impl Operation {
    /// An operation allowed `limit` from now, unless one already runs on
    /// this thread (then it keeps its own, earlier or not).
    pub(crate) fn begin(limit: Duration) -> Self {
        let before = DEADLINE.get();
        if before.is_none() {
            DEADLINE.set(Instant::now().checked_add(limit));
        }
        Operation { before }
    }

    /// A part of the running operation that must end by `share` of the
    /// time it has left (a batch keeps the rest for its undo).
    pub(crate) fn part(share: f64) -> Self {
        let before = DEADLINE.get();
        if let Some(end) = before {
            let left = end.saturating_duration_since(Instant::now());
            DEADLINE.set(Some(Instant::now() + left.mul_f64(share)));
        }
        Operation { before }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        DEADLINE.set(self.before);
    }
}

/// When a call started now, allowed `limit` on its own, must end: the
/// earlier of that and the running operation's deadline.
pub(crate) fn for_call(limit: Duration) -> Instant {
    let own = Instant::now() + limit;
    match DEADLINE.get() {
        Some(end) if end < own => end,
        _ => own,
    }
}

/// Time left until `deadline`, but at most `cap` (a socket timeout of zero
/// means none at all, so at least a millisecond).
pub(crate) fn left(deadline: Instant, cap: Duration) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .min(cap)
        .max(Duration::from_millis(1))
}
