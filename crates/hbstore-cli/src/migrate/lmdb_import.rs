//! Import from an LMDB environment written by HyperBEAM's `hb_store_lmdb`
//! (its layout is described in `hb_lmdb.rs`), read-only, from one
//! consistent snapshot, so a node may keep running on it meanwhile.
//!
//! `hb_store_lmdb` writes a value without making its ancestors groups, so
//! the ancestors hbstore creates are implied; it also lets a value sit
//! where hbstore's invariant has no room for it (below another value, or
//! below a link). Such entries clash when their batch is applied and are
//! reported one by one by the importer; the rest imports.

use std::path::Path;

use hbstore::Op;

use super::{store_path, Importer};
use crate::error::CliResult;
use crate::hb_lmdb::{HbLmdb, Record};

pub(super) fn import(dir: &Path, importer: &mut Importer<'_>) -> CliResult {
    let source = HbLmdb::open_read_only(dir)?;
    source.each(|key, value| {
        let path = match std::str::from_utf8(key)
            .map_err(|_| "not UTF-8".to_owned())
            .and_then(store_path)
        {
            Ok(p) if !p.is_root() => p,
            Ok(_) => return Ok(()), // the root is implicit in hbstore
            Err(reason) => {
                let shown = String::from_utf8_lossy(key);
                importer
                    .summary
                    .warn(format!("key {shown:?} skipped: {reason}"));
                return Ok(());
            }
        };
        let op = match Record::of(value) {
            Record::Group => Op::MakeGroup { path },
            Record::Value(bytes) => Op::Write {
                path,
                value: bytes.to_vec(),
            },
            Record::Link(target) => {
                match std::str::from_utf8(target)
                    .map_err(|_| "not UTF-8".to_owned())
                    .and_then(store_path)
                {
                    Ok(existing) if !existing.is_root() => Op::MakeLink {
                        existing,
                        new: path,
                    },
                    Ok(_) => {
                        importer
                            .summary
                            .warn(format!("{path}: link skipped, its target is the root"));
                        return Ok(());
                    }
                    Err(reason) => {
                        importer.summary.warn(format!(
                            "{path}: link skipped, its target is invalid: {reason}"
                        ));
                        return Ok(());
                    }
                }
            }
        };
        importer.push(op)
    })
}
