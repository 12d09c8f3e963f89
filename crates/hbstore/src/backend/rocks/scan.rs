//! Range scans over the database: the one place that sets up an iterator
//! bounded above, so that every scan stops at its range instead of reading
//! on into the next one.

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
    let mut opts = nowait::read_options();
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
