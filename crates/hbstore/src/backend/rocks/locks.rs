//! Path locks for writers.
//!
//! The contract's invariant (every ancestor of an entry is a group) spans
//! several keys, so two writers must not both act on what they read: one
//! writing a value at `a` while another writes `a/x`. Writers take
//! hierarchical locks: shared on every path they read or depend on (all the
//! ancestors of what they touch), exclusive on the paths they replace or
//! remove. Two operations conflict exactly when one changes what the other
//! depends on; writes to different leaves of one group share its lock and
//! proceed in parallel, so RocksDB's group commit still batches their
//! synced writes. Readers take no lock: they read the live database and
//! fall back to a snapshot when a write landed meanwhile (`reader.rs`).
//!
//! Paths are hashed onto a fixed table of stripes, so memory stays bounded;
//! a collision only makes two unrelated operations wait for each other.
//! Stripes are always taken in ascending order, each once, which rules out
//! deadlock. A batch of up to 64 operations locks like a single writer,
//! for every path it writes at once. Larger batches, `reset`, and a writer
//! whose optimistic attempts all found they needed more locks than they
//! held, take the gate exclusively instead and run alone. (A recursive delete locks its group exclusively
//! like any other removal: every path below it hashes elsewhere, but nothing
//! can reach them without going through the group's shared lock first.)

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use smallvec::SmallVec;

use super::hash::{fnv, spread, FNV_OFFSET};
use crate::path::{parent_of, prefixes};
use crate::sync;

const STRIPES: usize = 4096;

pub(crate) struct LockTable {
    gate: RwLock<()>,
    stripes: Box<[RwLock<()>]>,
}

/// Which stripes an operation needs, and how: sorted by stripe, each once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct LockPlan {
    /// `(stripe, exclusive)`; inline for the usual few (a heap allocation
    /// per write costs `hbstore-bench --only 1`'s key write row).
    stripes: SmallVec<[(u32, bool); 8]>,
}

fn stripe_of(hash: u64) -> u32 {
    (spread(hash) % STRIPES as u64) as u32
}

impl LockPlan {
    /// Shared on `path` and on every ancestor of it.
    pub(crate) fn shared_with_ancestors(&mut self, path: &str) {
        // Hash incrementally: each prefix continues the previous one's hash.
        let mut hash = FNV_OFFSET;
        let mut done = 0;
        for prefix in prefixes(path) {
            hash = fnv(&prefix.as_bytes()[done..], hash);
            done = prefix.len();
            self.stripes.push((stripe_of(hash), false));
        }
    }

    /// What changing `path` needs when no link is on the way: its parent
    /// and every ancestor shared, the path itself exclusive.
    pub(crate) fn writing(&mut self, path: &str) {
        if let Some(parent) = parent_of(path) {
            self.shared_with_ancestors(parent);
        }
        self.exclusive(path);
    }

    /// Shared on `path` alone (its ancestors are claimed as they are read).
    pub(crate) fn shared(&mut self, path: &str) {
        self.stripes
            .push((stripe_of(fnv(path.as_bytes(), FNV_OFFSET)), false));
    }

    pub(crate) fn exclusive(&mut self, path: &str) {
        self.stripes
            .push((stripe_of(fnv(path.as_bytes(), FNV_OFFSET)), true));
    }

    /// Sorts and merges, an exclusive claim winning over a shared one.
    pub(crate) fn finish(mut self) -> Self {
        self.stripes
            .sort_unstable_by_key(|&(stripe, exclusive)| (stripe, !exclusive));
        self.stripes.dedup_by_key(|&mut (stripe, _)| stripe);
        self
    }

    /// Whether holding `self` gives everything `needed` asks for.
    pub(crate) fn covers(&self, needed: &LockPlan) -> bool {
        needed.stripes.iter().all(|&(stripe, exclusive)| {
            match self.stripes.binary_search_by_key(&stripe, |&(s, _)| s) {
                Ok(i) => self.stripes[i].1 || !exclusive,
                Err(_) => false,
            }
        })
    }
}

/// One lock held, shared or exclusive; it is only ever dropped.
enum Guard<'a> {
    Shared(#[expect(dead_code, reason = "held for its Drop")] RwLockReadGuard<'a, ()>),
    Exclusive(#[expect(dead_code, reason = "held for its Drop")] RwLockWriteGuard<'a, ()>),
}

/// Locks held until dropped.
pub(crate) struct Held<'a> {
    _stripes: SmallVec<[Guard<'a>; 8]>,
    _gate: Guard<'a>,
}

impl LockTable {
    pub(crate) fn new() -> Self {
        LockTable {
            gate: RwLock::new(()),
            stripes: (0..STRIPES).map(|_| RwLock::new(())).collect(),
        }
    }

    /// Takes the stripes of a finished plan, beside other single operations.
    pub(crate) fn lock(&self, plan: &LockPlan) -> Held<'_> {
        let gate = Guard::Shared(sync::read(&self.gate));
        let stripes = plan
            .stripes
            .iter()
            .map(|&(stripe, exclusive)| {
                let lock = &self.stripes[stripe as usize];
                if exclusive {
                    Guard::Exclusive(sync::write(lock))
                } else {
                    Guard::Shared(sync::read(lock))
                }
            })
            .collect();
        Held {
            _stripes: stripes,
            _gate: gate,
        }
    }

    /// The stripes of a finished plan if every one is free now; `None`
    /// (holding nothing) if any is held against it.
    pub(crate) fn try_lock(&self, plan: &LockPlan) -> Option<Held<'_>> {
        let gate = Guard::Shared(sync::try_read(&self.gate)?);
        let mut stripes = SmallVec::new();
        for &(stripe, exclusive) in &plan.stripes {
            let lock = &self.stripes[stripe as usize];
            stripes.push(if exclusive {
                Guard::Exclusive(sync::try_write(lock)?)
            } else {
                Guard::Shared(sync::try_read(lock)?)
            });
        }
        Some(Held {
            _stripes: stripes,
            _gate: gate,
        })
    }

    /// Waits for every other writer to finish and keeps them out.
    pub(crate) fn lock_all(&self) -> Held<'_> {
        Held {
            _stripes: SmallVec::new(),
            _gate: Guard::Exclusive(sync::write(&self.gate)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(f: impl FnOnce(&mut LockPlan)) -> LockPlan {
        let mut p = LockPlan::default();
        f(&mut p);
        p.finish()
    }

    #[test]
    fn exclusive_wins_and_plans_are_deduplicated() {
        let p = plan(|p| {
            p.shared_with_ancestors("a/b");
            p.exclusive("a/b");
            p.shared_with_ancestors("a/b");
        });
        assert_eq!(p.stripes.len(), 2);
        assert!(p.covers(&plan(|q| q.exclusive("a/b"))));
        assert!(p.covers(&plan(|q| q.shared_with_ancestors("a"))));
        assert!(!p.covers(&plan(|q| q.exclusive("a"))));
    }

    #[test]
    fn incremental_prefix_hashes_match_whole_hashes() {
        let p = plan(|p| p.shared_with_ancestors("ab/cd/ef"));
        let q = plan(|q| {
            for s in ["ab", "ab/cd", "ab/cd/ef"] {
                q.stripes
                    .push((stripe_of(fnv(s.as_bytes(), FNV_OFFSET)), false));
            }
        });
        assert_eq!(p, q);
    }
}
