//! Range scans over the database: the one place that sets up an iterator
//! bounded above, so that every scan stops at its range instead of reading
//! on into the next one.
//!
//! The database is opened with prefix seeks opt-in only (see
//! `Options::rocksdb_options`), so every iterator reads in total order
//! unless it asks for the children prefix filter, and only [`children`]
//! asks: a scan of one group's children, which is exactly one prefix of
//! `codec::children_prefix`.

use rocksdb::{DBRawIterator, Snapshot, DB};

use super::nowait;

use crate::error::{Error, Result};

/// A raw iterator over `[start, end)` (`[.., end)` without a `start`), on
/// `snapshot` when given, positioned nowhere yet (the caller seeks). The
/// snapshot must outlive the iterator.
pub(crate) fn bounded<'a>(
    db: &'a DB,
    snapshot: Option<&Snapshot<'a>>,
    start: Option<&[u8]>,
    end: Vec<u8>,
) -> DBRawIterator<'a> {
    iterator(db, snapshot, start, end, false)
}

/// [`bounded`] for a scan of one group's children (`codec::children_range`,
/// both bounds inside the children's prefix): each seek consults only the
/// files whose prefix filter may hold the prefix of the key sought, and the
/// iterator ends where that prefix does.
/// A later seek to a key of another prefix (a group's own key, read on the
/// same view) is a seek within that prefix, filtered the same way.
pub(crate) fn children<'a>(
    db: &'a DB,
    snapshot: Option<&Snapshot<'a>>,
    start: Option<&[u8]>,
    end: Vec<u8>,
) -> DBRawIterator<'a> {
    iterator(db, snapshot, start, end, true)
}

fn iterator<'a>(
    db: &'a DB,
    snapshot: Option<&Snapshot<'a>>,
    start: Option<&[u8]>,
    end: Vec<u8>,
    within_prefix: bool,
) -> DBRawIterator<'a> {
    let mut opts = nowait::read_options();
    opts.set_prefix_same_as_start(within_prefix);
    if let Some(s) = snapshot {
        opts.set_snapshot(s);
    }
    if let Some(start) = start {
        opts.set_iterate_lower_bound(start.to_vec());
    }
    opts.set_iterate_upper_bound(end);
    db.raw_iterator_opt(opts)
}

/// Every key and value in `[start, end)`, in order, handed to `visit` as
/// borrowed slices (nothing is copied); `visit` returns `false` to stop.
pub(crate) fn each_in_range(
    db: &DB,
    start: &[u8],
    end: Vec<u8>,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool>,
) -> Result<()> {
    let mut iter = bounded(db, None, None, end);
    iter.seek(start);
    while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
        if !visit(key, value)? {
            return Ok(());
        }
        iter.next();
    }
    iter.status().map_err(Error::rocks("scanning a range"))
}
