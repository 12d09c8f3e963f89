//! `stats` at once on a store of any size. Counting exactly is a walk of
//! every entry ([`check`](super::check)), minutes on a node's cache. The
//! estimate splits the key space into the regions the layout gives it (the
//! link index, and each depth of the tree: entry keys start with their
//! depth), and in each region reads runs of entries from evenly spread
//! points. A run tells what its entries are (values, groups, links, how
//! big) and, asked of RocksDB, how many bytes of its files they take; the
//! region's own bytes then give its number of entries, compression
//! included. A region of a few megabytes is counted exactly. The scaled
//! counts are then fitted to the total RocksDB records for its files and
//! memtables, so no region's guess can run away. A store with nothing in
//! its files yet is walked: it is all in memory, and small.

use rocksdb::{Direction, IteratorMode, DB};

use super::scan;

use crate::codec::{self, TAG_GROUP, TAG_LINK, TAG_VALUE};
use crate::error::{Error, Result};

/// Runs read in each region, and entries in a run: a run's bytes in the
/// files must span many blocks for RocksDB's size of it to be close.
const RUNS_PER_REGION: usize = 8;
const RUN_ENTRIES: usize = 4_096;
/// A region of at most this many bytes in files is walked, not sampled:
/// it is quick, and its runs would span too few blocks to be measured.
const WALKED_REGION_BYTES: u64 = 4 << 20;

/// What [`RocksStore::estimate`](super::RocksStore::estimate) found: counts
/// scaled up from samples, so approximate (entries overwritten or deleted
/// but not yet compacted away count, as in RocksDB's own
/// `estimate-num-keys`, and regions are assumed to compress alike).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Estimate {
    /// Values, about.
    pub values: u64,
    /// Groups, about (the root not counted).
    pub groups: u64,
    /// Links, about.
    pub links: u64,
    /// The bytes of all values, about.
    pub value_bytes: u64,
    /// How many entries the estimate was scaled up from.
    pub sampled: u64,
}

/// What a region's sample held.
#[derive(Default)]
struct Tally {
    values: u64,
    groups: u64,
    links: u64,
    other: u64,
    value_bytes: u64,
}

impl Tally {
    fn entries(&self) -> u64 {
        self.values + self.groups + self.links + self.other
    }

    fn add(&mut self, key: &[u8], bytes: &[u8]) {
        if codec::is_metadata_key(key) {
            self.other += 1;
            return;
        }
        match bytes.first() {
            Some(&TAG_VALUE) => {
                self.values += 1;
                self.value_bytes += bytes.len() as u64 - 1;
            }
            Some(&TAG_GROUP) => self.groups += 1,
            Some(&TAG_LINK) => self.links += 1,
            _ => self.other += 1,
        }
    }
}

/// Tallies the entries of `[from, end)`, at most `most` of them; returns
/// the key after the last one tallied when it stopped short of `end`.
fn tally_range(
    db: &DB,
    from: &[u8],
    end: &[u8],
    most: usize,
    tally: &mut Tally,
) -> Result<Option<Vec<u8>>> {
    let mut taken = 0;
    let mut stopped_at = None;
    scan::each_in_range(db, from, end.to_vec(), |key, bytes| {
        if taken == most {
            stopped_at = Some(key.to_vec());
            return Ok(false);
        }
        tally.add(key, bytes);
        taken += 1;
        Ok(true)
    })?;
    Ok(stopped_at)
}

/// The last key below `end` (and at or above `start`).
fn last_key(db: &DB, start: &[u8], end: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut iter = db.raw_iterator();
    iter.seek_for_prev(end);
    if iter.key() == Some(end) {
        iter.prev();
    }
    iter.status().map_err(Error::rocks("sampling entries"))?;
    Ok(iter.key().filter(|k| *k >= start).map(<[u8]>::to_vec))
}

/// `n` keys spread evenly between `low` and `high` (read as numbers from
/// their first differing byte on).
fn spread_points(low: &[u8], high: &[u8], n: usize) -> Vec<Vec<u8>> {
    let common = low.iter().zip(high).take_while(|(a, b)| a == b).count();
    let number = |key: &[u8]| {
        (0..8).fold(0u128, |n, i| {
            n << 8 | u128::from(key.get(common + i).copied().unwrap_or(0))
        })
    };
    let (a, b) = (number(low), number(high).max(number(low)));
    (0..n)
        .map(|i| {
            let x = a + (b - a) * i as u128 / n as u128;
            let mut key = low[..common].to_vec();
            key.extend_from_slice(&x.to_be_bytes()[8..]);
            key
        })
        .collect()
}

/// The key regions: the link index, then each depth present.
fn regions(db: &DB) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut regions = vec![(
        codec::LINK_INDEX_START.to_vec(),
        codec::LINK_INDEX_END.to_vec(),
    )];
    let mut iter = db.iterator(IteratorMode::From(codec::ENTRIES_START, Direction::Forward));
    let mut depth = 1u32;
    while depth <= u32::from(u16::MAX) {
        let start = (depth as u16).to_be_bytes().to_vec();
        iter.set_mode(IteratorMode::From(&start, Direction::Forward));
        let Some(item) = iter.next() else { break };
        let (key, _) = item.map_err(Error::rocks("finding the tree's depths"))?;
        let [high, low, ..] = *key else { break };
        let found = u32::from(u16::from_be_bytes([high, low]));
        let end = (found + 1) as u16;
        regions.push((
            (found as u16).to_be_bytes().to_vec(),
            if found == u32::from(u16::MAX) {
                codec::ENTRIES_END.to_vec()
            } else {
                end.to_be_bytes().to_vec()
            },
        ));
        depth = found + 1;
    }
    Ok(regions)
}

/// A region's tally: exact, or scaled from runs by `factor`.
struct RegionCount {
    tally: Tally,
    factor: f64,
    exact: bool,
}

fn count_region(db: &DB, start: &[u8], end: &[u8]) -> Result<Option<RegionCount>> {
    let Some(last) = last_key(db, start, end)? else {
        return Ok(None);
    };
    let region_bytes = db.get_approximate_sizes(&[rocksdb::Range::new(start, end)])[0];
    let mut tally = Tally::default();
    let exact = |tally| {
        Ok(Some(RegionCount {
            tally,
            factor: 1.0,
            exact: true,
        }))
    };
    if region_bytes <= WALKED_REGION_BYTES {
        tally_range(db, start, end, usize::MAX, &mut tally)?;
        return exact(tally);
    }
    let mut run_bytes = 0;
    for (i, point) in spread_points(start, &last, RUNS_PER_REGION)
        .iter()
        .enumerate()
    {
        let after = tally_range(db, point, end, RUN_ENTRIES, &mut tally)?;
        if i == 0 && after.is_none() {
            // The whole region in one run: counted, not estimated.
            return exact(tally);
        }
        let run = rocksdb::Range::new(point, after.as_deref().unwrap_or(end));
        run_bytes += db.get_approximate_sizes(&[run])[0];
    }
    // The region's entries all in memtables: the fit to the total below
    // decides alone.
    let factor = if run_bytes == 0 || region_bytes == 0 {
        1.0
    } else {
        region_bytes as f64 / run_bytes as f64
    };
    Ok(Some(RegionCount {
        tally,
        factor,
        exact: false,
    }))
}

/// How many entries RocksDB's memtables hold (written, not yet flushed).
pub(super) fn memtable_entries(db: &DB) -> Result<u64> {
    let mut entries = 0;
    for name in [
        "rocksdb.num-entries-active-mem-table",
        "rocksdb.num-entries-imm-mem-tables",
    ] {
        entries += db
            .property_int_value(name)
            .map_err(Error::rocks("reading the memtables' size"))?
            .unwrap_or(0);
    }
    Ok(entries)
}

pub(crate) fn estimate(db: &DB) -> Result<Estimate> {
    let in_files: u64 = db
        .live_files()
        .map_err(Error::rocks("listing the store's files"))?
        .iter()
        .map(|f| f.num_entries.saturating_sub(f.num_deletions))
        .sum();
    let in_memory = memtable_entries(db)?;
    if in_files == 0 {
        // All of it in memtables (at most some hundred thousand entries):
        // the walk is quick, and file sizes would say nothing.
        let mut tally = Tally::default();
        tally_range(db, &[], codec::ENTRIES_END, usize::MAX, &mut tally)?;
        return Ok(Estimate {
            values: tally.values,
            groups: tally.groups,
            links: tally.links,
            value_bytes: tally.value_bytes,
            sampled: tally.entries(),
        });
    }
    let mut counts = Vec::new();
    for (start, end) in regions(db)? {
        counts.extend(count_region(db, &start, &end)?);
    }

    // The scaled regions are fitted to what the exact ones leave of the
    // total (the format record aside).
    let exact: u64 = counts
        .iter()
        .filter(|c| c.exact)
        .map(|c| c.tally.entries())
        .sum();
    let scaled: f64 = counts
        .iter()
        .filter(|c| !c.exact)
        .map(|c| c.tally.entries() as f64 * c.factor)
        .sum();
    let left = (in_files + in_memory).saturating_sub(exact + 1) as f64;
    let fit = if scaled > 0.0 { left / scaled } else { 1.0 };

    let mut estimate = Estimate::default();
    let (mut values, mut groups, mut links, mut value_bytes) = (0f64, 0f64, 0f64, 0f64);
    for c in &counts {
        let per_sampled = if c.exact { 1.0 } else { c.factor * fit };
        estimate.sampled += c.tally.entries();
        values += c.tally.values as f64 * per_sampled;
        groups += c.tally.groups as f64 * per_sampled;
        links += c.tally.links as f64 * per_sampled;
        value_bytes += c.tally.value_bytes as f64 * per_sampled;
    }
    estimate.values = values.round() as u64;
    estimate.groups = groups.round() as u64;
    estimate.links = links.round() as u64;
    estimate.value_bytes = value_bytes.round() as u64;
    Ok(estimate)
}
