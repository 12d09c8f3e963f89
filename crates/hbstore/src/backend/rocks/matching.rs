//! `match`, answered from the link index (`codec.rs`): for each pair, the
//! groups whose child `key` links to `target` are one sorted range of index
//! keys, and the answer is the intersection of those ranges.
//!
//! The ranges are intersected by leapfrogging: each cursor seeks to the
//! largest group any cursor stands on, and a group is in the answer when
//! all of them stand on it. Every seek either lands on an answer or skips a
//! cursor past groups that cannot be one, so the work is bounded by the
//! smallest range (the rarest pair) times the number of pairs, whatever the
//! size of the store; with a `limit`, it stops once the answer is full.

use rocksdb::{DBRawIterator, DB};

use super::scan;
use crate::codec;
use crate::error::{Error, Result};
use crate::path::StorePath;

/// One pair's range of the index, and where its cursor stands.
struct Cursor<'a> {
    iter: DBRawIterator<'a>,
    /// The index-key prefix of the pair; the group follows it in each key.
    prefix: Vec<u8>,
}

impl Cursor<'_> {
    /// The group the cursor stands on, `None` past its range.
    fn group(&self) -> Option<&[u8]> {
        self.iter.key().map(|k| &k[self.prefix.len()..])
    }

    fn seek(&mut self, group: &[u8]) {
        let mut key = self.prefix.clone();
        key.extend_from_slice(group);
        self.iter.seek(key);
    }
}

pub(crate) fn match_links(
    db: &DB,
    pairs: &[(String, StorePath)],
    limit: Option<usize>,
) -> Result<Vec<String>> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut found = Vec::new();
    if pairs.is_empty() || limit == 0 {
        return Ok(found);
    }
    // One snapshot for every cursor, so the answer is one state's; it is
    // declared first so that it outlives them.
    let snapshot = db.snapshot();
    let mut cursors: Vec<Cursor<'_>> = pairs
        .iter()
        .map(|(key, target)| {
            let (prefix, end) = codec::link_index_range(target.as_str(), key);
            let mut iter = scan::bounded(db, Some(&snapshot), Some(&prefix), end);
            iter.seek(&prefix);
            Cursor { iter, prefix }
        })
        .collect();
    'intersect: loop {
        let mut largest: Option<Vec<u8>> = None;
        for cursor in &cursors {
            match cursor.group() {
                None => break 'intersect,
                Some(g) if largest.as_deref().is_none_or(|l| g > l) => largest = Some(g.to_vec()),
                Some(_) => {}
            }
        }
        let Some(largest) = largest else {
            break;
        };
        let mut agreed = true;
        for cursor in &mut cursors {
            if cursor.group() != Some(largest.as_slice()) {
                agreed = false;
                cursor.seek(&largest);
            }
        }
        if agreed {
            let group = String::from_utf8(largest).map_err(|e| Error::Corrupt {
                key: format!(
                    "link-index key of group {:?}",
                    String::from_utf8_lossy(e.as_bytes())
                ),
                reason: "the group's path is not UTF-8".to_owned(),
            })?;
            found.push(group);
            if found.len() >= limit {
                break;
            }
            cursors[0].iter.next();
        }
    }
    for cursor in &cursors {
        cursor
            .iter
            .status()
            .map_err(Error::rocks("reading the link index"))?;
    }
    Ok(found)
}
