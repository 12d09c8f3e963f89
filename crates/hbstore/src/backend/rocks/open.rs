//! Opening a store directory: refusing what is not an hbstore store,
//! telling a locked directory from other failures, and checking (or, for a
//! new store, writing) the format record.

use std::path::Path;

use rocksdb::{WriteOptions, DB};

use super::options::Options;
use super::upgrade;
use crate::codec;
use crate::error::{Error, Result};

/// Opens the RocksDB database of a store in `dir`, as `options` ask,
/// upgrading an older format in place (`progress` is told the entries read).
/// The RocksDB options it was opened with come back too: they hold the
/// database's statistics, which the store's metrics read.
pub(super) fn open_database(
    dir: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<(DB, rocksdb::Options)> {
    refuse_foreign_directory(dir, options)?;
    let rocks_options = options.rocksdb_options();
    let opened = if options.read_only {
        DB::open_for_read_only(&rocks_options, dir, false)
    } else {
        DB::open(&rocks_options, dir)
    };
    let db = opened.map_err(|source| classify_open_error(dir, source))?;
    check_format(&db, dir, options, progress)?;
    if !options.read_only {
        record_prefix_extractor(&db)?;
    }
    Ok((db, rocks_options))
}

/// Whether `dir` holds an hbstore store (a RocksDB database with hbstore's
/// format record, of any version), without taking the writer's lock. Tools
/// that read other databases ask this before treating one as foreign.
pub(super) fn holds_store(dir: &Path) -> Result<bool> {
    if !dir.join("CURRENT").is_file() {
        return Ok(false);
    }
    let db = DB::open_for_read_only(&rocksdb::Options::default(), dir, false)
        .map_err(|source| classify_open_error(dir, source))?;
    let record = db
        .get_pinned(codec::FORMAT_KEY)
        .map_err(Error::rocks("reading the format record"))?;
    Ok(record.is_some())
}

fn refuse_foreign_directory(dir: &Path, options: &Options) -> Result<()> {
    let not_a_store = |reason: &str| Error::NotAStore {
        dir: dir.to_path_buf(),
        reason: reason.to_owned(),
    };
    if dir.join("CURRENT").is_file() {
        return Ok(());
    }
    if dir.exists() && !dir.is_dir() {
        return Err(not_a_store("it is not a directory"));
    }
    if options.read_only || !options.create_if_missing {
        return Err(not_a_store("no database here"));
    }
    let io = |source| Error::Io {
        context: "reading directory".into(),
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(not_a_store(
            "the directory holds other files; a new store needs an empty or new directory",
        ));
    }
    Ok(())
}

/// RocksDB reports a held lock only in its message: "lock hold by current
/// process" when this process has the directory open already, and "While
/// lock file: .../LOCK: Resource temporarily unavailable" when another
/// process does. Both become `Locked`; anything else stays a RocksDB error.
fn classify_open_error(dir: &Path, source: rocksdb::Error) -> Error {
    let message = source.to_string();
    if message.contains("LOCK") || message.contains("lock hold") {
        Error::Locked {
            dir: dir.to_path_buf(),
        }
    } else {
        Error::RocksDb {
            context: format!("opening {dir:?}"),
            source: source.into(),
        }
    }
}

fn check_format(
    db: &DB,
    dir: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let stored = db
        .get(codec::FORMAT_KEY)
        .map_err(Error::rocks("reading the format record"))?;
    match stored {
        Some(bytes) => match codec::decode_format_version(&bytes) {
            Ok(codec::FORMAT_VERSION) => Ok(()),
            Ok(codec::UPGRADABLE_FORMAT) if options.read_only => Err(Error::NeedsUpgrade {
                dir: dir.to_path_buf(),
                found: codec::UPGRADABLE_FORMAT,
            }),
            // The index first, the format record last (synced): an
            // interrupted upgrade simply runs again.
            Ok(codec::UPGRADABLE_FORMAT) => {
                upgrade::to_current(db, dir, progress)?;
                write_format_record(db)
            }
            found => Err(Error::UnsupportedFormat {
                dir: dir.to_path_buf(),
                found: match found {
                    Ok(v) => v.to_string(),
                    Err(what) => what,
                },
                supported: codec::FORMAT_VERSION,
            }),
        },
        None => {
            let mut any = db.iterator(rocksdb::IteratorMode::Start);
            if any
                .next()
                .transpose()
                .map_err(Error::rocks("scanning"))?
                .is_some()
            {
                return Err(Error::NotAStore {
                    dir: dir.to_path_buf(),
                    reason: "a RocksDB database without hbstore's format record (a HyperBEAM \
                             hb_store_rocksdb cache is imported with `hbstore import`)"
                        .to_owned(),
                });
            }
            if !options.read_only {
                write_format_record(db)?;
            }
            Ok(())
        }
    }
}

/// Records the prefix extractor this build writes files with, if the store
/// names another or none (a store from before it). Nothing else needs
/// doing: the files written before keep their filters (or none), and
/// RocksDB reads each file's prefix filter only when it was built by the
/// extractor the database is open with (the name is in every file).
fn record_prefix_extractor(db: &DB) -> Result<()> {
    let recorded = db
        .get_pinned(codec::PREFIX_EXTRACTOR_KEY)
        .map_err(Error::rocks("reading the prefix extractor's record"))?;
    if recorded.as_deref() == Some(codec::PREFIX_EXTRACTOR.as_bytes()) {
        return Ok(());
    }
    drop(recorded);
    db.put(codec::PREFIX_EXTRACTOR_KEY, codec::PREFIX_EXTRACTOR)
        .map_err(Error::rocks("recording the prefix extractor"))
}

/// Records that the database holds the current format, synced: it is the
/// last step of creating or upgrading a store.
fn write_format_record(db: &DB) -> Result<()> {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    db.put_opt(codec::FORMAT_KEY, codec::encode_format_version(), &w)
        .map_err(Error::rocks("writing the format record"))
}
