//! Import from a RocksDB database written by HyperBEAM's `hb_store_rocksdb`:
//! plain `/`-joined keys; values tagged 1 (link: the target path), 2 (raw
//! bytes), 3 (group: an Erlang set of member names).
//!
//! The legacy store kept a group's members twice, as a set in the group
//! record and as the members' own keys; nothing kept the two in step. Both
//! disagreements are reported: a member listed whose entry is missing
//! (nothing to import for it), and an entry its parent does not list (it is
//! imported).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use hbstore::Op;
use rocksdb::{IteratorMode, DB};

use super::erlang_sets::decode_members;
use super::{store_path, Importer};
use crate::error::{CliError, CliResult};

pub(super) fn import(dir: &Path, importer: &mut Importer<'_>) -> CliResult {
    if !dir.join("CURRENT").is_file() {
        return Err(CliError::Invalid(format!(
            "{}: no RocksDB database here",
            dir.display()
        )));
    }
    if hbstore::RocksStore::holds_store(dir)? {
        return Err(CliError::Invalid(format!(
            "{} is an hbstore store, not an hb_store_rocksdb database; use `hbstore backup` to copy it",
            dir.display()
        )));
    }
    let legacy = DB::open_for_read_only(&rocksdb::Options::default(), dir, false)
        .map_err(|e| CliError::Failed(format!("opening {} read-only: {e}", dir.display())))?;
    // Members each group lists and that have not been seen yet. Keys are
    // sorted, and a group's key sorts before its members' (it is a prefix),
    // so a member is always checked after its group was recorded.
    let mut unseen: HashMap<String, BTreeSet<String>> = HashMap::new();
    for item in legacy.iterator(IteratorMode::Start) {
        let (key, value) =
            item.map_err(|e| CliError::Failed(format!("reading {}: {e}", dir.display())))?;
        let raw_key = String::from_utf8_lossy(&key).into_owned();
        let path = match std::str::from_utf8(&key)
            .map_err(|_| "not UTF-8".to_owned())
            .and_then(store_path)
        {
            Ok(p) if !p.is_root() => p,
            Ok(_) => continue, // a record for the root, which is implicit here
            Err(reason) => {
                importer
                    .summary
                    .warn(format!("key {raw_key:?} skipped: {reason}"));
                continue;
            }
        };
        if let (Some(parent), Some(name)) = (path.parent(), path.name()) {
            if let Some(members) = unseen.get_mut(parent.as_str()) {
                if !members.remove(name) {
                    importer.summary.warn(format!(
                        "{path}: imported, but its parent group does not list it"
                    ));
                }
            }
        }
        let op = match value.split_first() {
            Some((1, target)) => {
                match std::str::from_utf8(target)
                    .map_err(|_| "not UTF-8".to_owned())
                    .and_then(store_path)
                {
                    Ok(existing) => Op::MakeLink {
                        existing,
                        new: path,
                    },
                    Err(reason) => {
                        importer.summary.warn(format!(
                            "{path}: link skipped, its target is invalid: {reason}"
                        ));
                        continue;
                    }
                }
            }
            Some((2, bytes)) => Op::Write {
                path,
                value: bytes.to_vec(),
            },
            Some((3, set)) => {
                match decode_members(set) {
                    Ok(members) => {
                        unseen.insert(path.to_string(), members.into_iter().collect());
                    }
                    Err(reason) => importer.summary.warn(format!(
                        "{path}: group imported, but its member set is unreadable: {reason}"
                    )),
                }
                Op::MakeGroup { path }
            }
            Some((tag, _)) => {
                importer
                    .summary
                    .warn(format!("{path}: skipped, unknown tag {tag}"));
                continue;
            }
            None => {
                importer
                    .summary
                    .warn(format!("{path}: skipped, empty record"));
                continue;
            }
        };
        importer.push(op)?;
    }
    let mut missing: Vec<String> = unseen
        .into_iter()
        .flat_map(|(group, members)| members.into_iter().map(move |m| format!("{group}/{m}")))
        .collect();
    missing.sort();
    for path in missing {
        importer.summary.warn(format!(
            "{path}: listed by its group, but no entry exists (nothing imported)"
        ));
    }
    Ok(())
}
