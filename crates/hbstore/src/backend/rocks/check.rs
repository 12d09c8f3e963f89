//! The full invariant check behind `hbstore check`: every key and entry
//! decodes, every entry's parent is a group, every link resolves, and the
//! link index agrees with the links both ways (a record for every link, a
//! link for every record).

use rocksdb::{IteratorMode, DB};

use super::reader::{self, ReadView};
use super::resolve::{resolve, Lookup, Probe};
use crate::codec::{self, Entry};
use crate::error::{Error, Result};
use crate::path::parent_of;

/// One thing `check` found, about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The path (or, when the key itself is damaged, the key) concerned.
    pub path: String,
    /// What is wrong, or suspicious, there.
    pub message: String,
}

/// What [`RocksStore::check`](super::RocksStore::check) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Values seen.
    pub values: u64,
    /// Groups seen (the root not counted).
    pub groups: u64,
    /// Links seen.
    pub links: u64,
    /// The bytes of all values (not counting RocksDB's own overhead).
    pub value_bytes: u64,
    /// Violations of the invariant or damaged bytes: the store is unsound.
    pub problems: Vec<Finding>,
    /// Legal but suspicious: dangling links, link loops.
    pub warnings: Vec<Finding>,
}

impl CheckReport {
    /// Whether the store satisfies the invariant.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every entry counted: values, groups and links.
    pub fn entries(&self) -> u64 {
        self.values + self.groups + self.links
    }
}

const PROGRESS_EVERY: u64 = 10_000;

pub(crate) fn check(db: &DB, mut progress: impl FnMut(u64)) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let mut view = ReadView::snapshot(db, reader::NOTHING);
    let mut links = Vec::new();
    // Children of one parent are adjacent in key order, so remembering the
    // last parent checked costs one read per group, not per entry.
    let mut last_parent: Option<(String, Option<String>)> = None;
    let mut seen = 0u64;
    for item in view.iterator(IteratorMode::Start) {
        let (key, bytes) = item.map_err(Error::rocks("scanning the store"))?;
        seen += 1;
        if seen.is_multiple_of(PROGRESS_EVERY) {
            progress(seen);
        }
        if codec::is_link_index_key(&key) {
            if let Some(problem) = check_index_record(&mut view, &key) {
                report.problems.push(problem);
            }
            continue;
        }
        if codec::is_metadata_key(&key) {
            if ![codec::FORMAT_KEY, codec::PREFIX_EXTRACTOR_KEY].contains(&&*key) {
                report.problems.push(Finding {
                    path: codec::show_key(&key),
                    message: "unknown metadata key".into(),
                });
            }
            continue;
        }
        let path = match codec::decode_key(&key) {
            Ok(p) => p.to_owned(),
            Err(e) => {
                report.problems.push(finding(codec::show_key(&key), e));
                continue;
            }
        };
        match codec::decode_entry(&path, &bytes) {
            Ok(Entry::Value(v)) => {
                report.values += 1;
                report.value_bytes += v.len() as u64;
            }
            Ok(Entry::Group) => report.groups += 1,
            Ok(Entry::Link(target)) => {
                report.links += 1;
                match view.contains(&codec::link_index_key(&path, target)) {
                    Ok(true) => {}
                    Ok(false) => report.problems.push(Finding {
                        path: path.clone(),
                        message: format!("link to {target:?} is missing from the link index"),
                    }),
                    Err(e) => report.problems.push(finding(path.clone(), e)),
                }
                links.push((path.clone(), target.to_owned()));
            }
            Err(e) => report.problems.push(finding(path.clone(), e)),
        }
        let parent = parent_of(&path).unwrap_or("");
        if parent.is_empty() {
            continue;
        }
        let verdict = match &last_parent {
            Some((p, verdict)) if p == parent => verdict.clone(),
            _ => {
                let verdict = match view.probe(parent) {
                    Ok(Probe::Group) => None,
                    Ok(Probe::Absent) => Some(format!("its parent {parent:?} does not exist")),
                    Ok(Probe::Value) => Some(format!("its parent {parent:?} is a value")),
                    Ok(Probe::Link(_)) => Some(format!("its parent {parent:?} is a link")),
                    Err(e) => Some(format!("its parent {parent:?} is damaged: {e}")),
                };
                last_parent = Some((parent.to_owned(), verdict.clone()));
                verdict
            }
        };
        if let Some(message) = verdict {
            report.problems.push(Finding { path, message });
        }
    }
    progress(seen);
    for (path, target) in links {
        match resolve(&mut view, &path) {
            Ok((_, at)) => {
                if at == Probe::Absent {
                    report.warnings.push(Finding {
                        path,
                        message: format!("dangling link to {target:?}"),
                    });
                }
            }
            Err(Error::LinkLoop { .. }) => report.warnings.push(Finding {
                path,
                message: format!("link loop through {target:?}"),
            }),
            Err(e) => report.warnings.push(finding(path, e)),
        }
    }
    Ok(report)
}

/// A problem with one link-index record: it must decode, and the link it
/// names must be stored with the target it names.
fn check_index_record(view: &mut ReadView<'_>, key: &[u8]) -> Option<Finding> {
    let (path, target) = match codec::decode_link_index_key(key) {
        Ok(found) => found,
        Err(e) => return Some(finding(codec::show_key(key), e)),
    };
    let stored = match view.probe(&path) {
        Ok(Probe::Link(t)) if t == target => return None,
        Ok(Probe::Link(t)) => format!("a link to {t:?}"),
        Ok(Probe::Value) => "a value".to_owned(),
        Ok(Probe::Group) => "a group".to_owned(),
        Ok(Probe::Absent) => "nothing".to_owned(),
        Err(e) => e.to_string(),
    };
    Some(Finding {
        path,
        message: format!(
            "the link index has a link to {target:?} here, but the store has {stored}"
        ),
    })
}

fn finding(path: String, error: Error) -> Finding {
    Finding {
        path,
        message: error.to_string(),
    }
}
