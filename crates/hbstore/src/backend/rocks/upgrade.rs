//! The in-place upgrade from format 1 to the current format: format 1 had
//! no link index, so the upgrade reads every entry once and writes an index
//! record for each link; `open.rs` then writes the new version record.
//!
//! It is safe to interrupt: the version record is written last, so a store
//! whose upgrade was cut short is still format 1, and the next writable
//! open starts again from an empty index.

use std::path::Path;

use rocksdb::{WriteBatch, DB};

use super::scan;
use crate::codec::{self, Entry};
use crate::error::{Error, Result};

/// Index records per write batch.
const RECORDS_PER_BATCH: usize = 10_000;
/// How often, in entries read, `progress` hears from the upgrade.
const PROGRESS_EVERY: u64 = 10_000;

pub(super) fn to_current(db: &DB, dir: &Path, progress: &mut dyn FnMut(u64)) -> Result<()> {
    let failed = |what: &'static str| {
        let dir = dir.to_path_buf();
        move |source: rocksdb::Error| Error::RocksDb {
            context: format!("upgrading {dir:?}: {what}"),
            source: source.into(),
        }
    };
    let mut batch = WriteBatch::default();
    batch.delete_range(codec::LINK_INDEX_START, codec::LINK_INDEX_END);
    let mut seen = 0u64;
    scan::each_in_range(
        db,
        codec::ENTRIES_START,
        codec::ENTRIES_END.to_vec(),
        |key, bytes| {
            seen += 1;
            if seen.is_multiple_of(PROGRESS_EVERY) {
                progress(seen);
            }
            // Damaged entries stay as they are, for `check` to report.
            let Ok(path) = codec::decode_key(key) else {
                return Ok(true);
            };
            if let Ok(Entry::Link(target)) = codec::decode_entry(path, bytes) {
                batch.put(codec::link_index_key(path, target), []);
                if batch.len() >= RECORDS_PER_BATCH {
                    db.write(std::mem::take(&mut batch))
                        .map_err(failed("writing the link index"))?;
                }
            }
            Ok(true)
        },
    )?;
    db.write(batch).map_err(failed("writing the link index"))?;
    progress(seen);
    Ok(())
}
