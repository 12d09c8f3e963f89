//! Reclaiming space: removing the values under a prefix that no link
//! targets any more (HyperBEAM's content-addressed `data/<hash>` values
//! outlive the messages that linked to them).
//!
//! Whether anything links to a path is one seek in the link index (its
//! keys start with the target), so the sweep reads the values under the
//! prefix and nothing else: no walk over every link in the store.
//!
//! A value is kept when a link targets it or any of its ancestors. That is
//! exactly the set of values some link reaches: resolving a path replaces
//! a link by its target and walks on, so the last link followed on the way
//! to a value has as its target the value itself or one of its ancestors.
//!
//! The sweep runs beside writers. It finds candidates without locks, then
//! removes each batch of them alone (as a large [`Batch`](crate::Batch) runs),
//! checking every candidate again there: a link committed before the batch
//! is seen, and one committed after finds the value gone, as it would
//! after any deletion. So no value a committed link targets is ever
//! removed.
//!
//! Nor is a value written lately, linked or not (`recent.rs`): a writer
//! that puts a value and links to it afterwards (HyperBEAM's order) finds
//! it still there, however a sweep falls between the two, as long as it
//! links within the grace period ([`Options::gc_grace`]).
//!
//! [`Options::gc_grace`]: super::Options::gc_grace

use std::collections::HashMap;

use rocksdb::DB;

use super::scan;
use super::txn::Txn;
use super::RocksStore;
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::{prefixes, StorePath};

/// Candidates removed per batch (each batch holds every writer off while
/// it re-checks and removes them: a few hundred look-ups at most).
const BATCH: usize = 256;

/// What [`RocksStore::gc`] found and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Values under the prefix that were examined.
    pub examined: u64,
    /// Values removed (with `dry_run`, that would be removed).
    pub removed: u64,
    /// Bytes of the removed values (their stored size, as the store
    /// holds them before compression).
    pub bytes: u64,
}

/// Whether any link targets `target`: one seek in the link index.
fn is_targeted(db: &DB, target: &str) -> Result<bool> {
    let (start, end) = codec::link_index_target_range(target);
    let mut iter = scan::bounded(db, None, None, end);
    iter.seek(&start);
    let found = iter.valid();
    iter.status().map_err(Error::rocks_lazy(|| {
        format!("looking up links to {target:?}")
    }))?;
    Ok(found)
}

/// Whether a link reaches the value at `path`: one targets the path or one
/// of its ancestors, the root among them (a link to the root reaches every
/// value). `ancestors` remembers the answers for groups, which many values
/// share.
fn is_reached(db: &DB, path: &str, ancestors: &mut HashMap<String, bool>) -> Result<bool> {
    if is_targeted(db, path)? {
        return Ok(true);
    }
    let root = std::iter::once("");
    for ancestor in root.chain(prefixes(path).filter(|a| a.len() < path.len())) {
        let reached = match ancestors.get(ancestor) {
            Some(&known) => known,
            None => {
                let known = is_targeted(db, ancestor)?;
                ancestors.insert(ancestor.to_owned(), known);
                known
            }
        };
        if reached {
            return Ok(true);
        }
    }
    Ok(false)
}

impl RocksStore {
    /// Removes the values under `prefix` (its descendants at any depth)
    /// that no link reaches any more, in batches, beside running writers;
    /// then compacts the key ranges it freed. With `dry_run`, only counts
    /// them. `progress` is told how many values were examined so far.
    ///
    /// Groups are left in place, empty or not: only values take space.
    /// The root is refused as a prefix (every value not reached by a link
    /// would go); `prefix` itself is followed if it is a link.
    pub fn gc(
        &self,
        prefix: impl crate::IntoStorePath,
        dry_run: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<GcReport> {
        let prefix = prefix.into_store_path()?;
        if !dry_run {
            self.writable("collect garbage")?;
        }
        if prefix.is_root() {
            return Err(Error::root("swept by gc"));
        }
        let prefix = crate::Store::resolve_at(self, &prefix)?;
        let mut report = GcReport::default();
        let mut ancestors = HashMap::new();
        let mut candidates: Vec<(String, u64)> = Vec::new();
        let mut freed_levels = Vec::new();
        for levels in 1.. {
            let (start, end) = codec::level_range(prefix.as_str(), levels);
            let mut any = false;
            let mut removed_here = false;
            let mut iter = scan::bounded(&self.db, None, None, end);
            iter.seek(&start);
            while let (Some(key), Some(bytes)) = (iter.key(), iter.value()) {
                any = true;
                let path = codec::decode_key(key)?;
                if let Entry::Value(value) = codec::decode_entry(path, bytes)? {
                    report.examined += 1;
                    if !self.caches.recent.is_recent(path)
                        && !is_reached(&self.db, path, &mut ancestors)?
                    {
                        candidates.push((path.to_owned(), value.len() as u64));
                    }
                }
                if candidates.len() >= BATCH {
                    removed_here |= self.sweep(&mut candidates, dry_run, &mut report)?;
                    progress(report.examined);
                }
                iter.next();
            }
            iter.status()
                .map_err(Error::rocks("scanning values for gc"))?;
            removed_here |= self.sweep(&mut candidates, dry_run, &mut report)?;
            progress(report.examined);
            if removed_here {
                freed_levels.push((start, codec::level_range(prefix.as_str(), levels).1));
            }
            if !any {
                break;
            }
        }
        for (start, end) in freed_levels {
            self.db.compact_range(Some(start), Some(end));
        }
        if !dry_run {
            self.gc_totals.add(&report);
        }
        Ok(report)
    }

    /// Removes the candidates no link reaches now, checked again while
    /// every writer is held off; returns whether it removed any.
    fn sweep(
        &self,
        candidates: &mut Vec<(String, u64)>,
        dry_run: bool,
        report: &mut GcReport,
    ) -> Result<bool> {
        if candidates.is_empty() {
            return Ok(false);
        }
        if dry_run {
            report.removed += candidates.len() as u64;
            report.bytes += candidates.iter().map(|(_, n)| n).sum::<u64>();
            candidates.clear();
            return Ok(true);
        }
        let _alone = self.locks.lock_all();
        // Links made since the scan are in the index now; remembered
        // answers about ancestors may be stale, so none are reused.
        let mut ancestors = HashMap::new();
        let mut txn = Txn::new(&self.db, &self.caches);
        let mut removed = 0;
        let mut bytes = 0;
        for (path, _) in candidates.drain(..) {
            if self.caches.recent.is_recent(&path) || is_reached(&self.db, &path, &mut ancestors)? {
                continue;
            }
            let key = codec::entry_key(&path);
            let stored = self
                .db
                .get_pinned(&key)
                .map_err(Error::rocks_lazy(|| format!("reading {path:?}")))?;
            let Some(stored) = stored else { continue };
            let Entry::Value(value) = codec::decode_entry(&path, &stored)? else {
                continue;
            };
            bytes += value.len() as u64;
            drop(stored);
            txn.delete(&StorePath::from_canonical(path), false)?;
            removed += 1;
        }
        txn.commit(&self.write_options)?;
        report.removed += removed;
        report.bytes += bytes;
        Ok(removed > 0)
    }
}
