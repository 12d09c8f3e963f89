//! Memory stays bounded however many groups and links are written: the
//! group, link and entry caches hold at most what
//! `Options::group_cache_bytes`, `Options::link_cache_bytes` and
//! `Options::entry_cache_bytes` allow.

use hbstore::{Options, Store};

use crate::common::TempRocks;

/// The resident memory of this process, from /proc (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn a_million_distinct_groups_keep_memory_bounded() {
    let cache_bound = 1 << 20;
    // The entry cache is bounded by its own budget (a quarter of the
    // machine by default, where a million groups and their listings fit
    // whole); a small one keeps this test about the group cache.
    let t = TempRocks::with_options(
        Options::default()
            .group_cache_bytes(cache_bound)
            .entry_cache_bytes(32 << 20),
    );
    // Warm RocksDB's own buffers (memtable, block cache) first, so that the
    // measurement below sees hbstore's growth, not theirs.
    for i in 0..100_000 {
        t.store.make_group(format!("warm/g{i}")).unwrap();
    }
    let before = resident_bytes();
    let mut peak_cache = 0;
    for i in 0..1_000_000u32 {
        t.store
            .make_group(format!("groups/{:03}/g{i}", i % 997))
            .unwrap();
        if i % 50_000 == 0 {
            peak_cache = peak_cache.max(t.store.group_cache_usage());
        }
    }
    peak_cache = peak_cache.max(t.store.group_cache_usage());
    // One entry per cache shard may go over; paths here are ~20 bytes.
    assert!(
        peak_cache <= cache_bound + 64 * 64,
        "cache held {peak_cache} bytes"
    );
    assert!(
        peak_cache > cache_bound / 4,
        "the cache was used: {peak_cache}"
    );
    if let (Some(before), Some(after)) = (before, resident_bytes()) {
        // A million cached paths would be ~60 MB on their own; RocksDB's
        // memtables are bounded by its write buffers (64 MiB each, two at
        // most before a flush stalls writes).
        let grown = after.saturating_sub(before);
        assert!(
            grown < 200 << 20,
            "resident memory grew by {} MiB",
            grown >> 20
        );
    }
    assert_eq!(
        t.store.list("groups/000").unwrap().map(|l| l.len()),
        Some(1_004)
    );
}

#[test]
fn many_distinct_links_keep_the_link_cache_within_its_bound() {
    let cache_bound = 256 << 10;
    let t = TempRocks::with_options(Options::default().link_cache_bytes(cache_bound));
    let mut peak = 0;
    for i in 0..200_000u32 {
        t.store
            .make_link(
                format!("targets/t{i}"),
                format!("links/{:03}/l{i}", i % 997),
            )
            .unwrap();
        if i % 10_000 == 0 {
            peak = peak.max(t.store.link_cache_usage());
        }
    }
    peak = peak.max(t.store.link_cache_usage());
    // The usage counts the cache's fixed 128 KiB filter beside the bound;
    // one entry per cache shard may go over, and paths and targets here are
    // under 40 bytes each.
    let filter = 128 << 10;
    assert!(
        peak <= filter + cache_bound + 64 * 112,
        "link cache held {peak} bytes"
    );
    assert!(
        peak > filter + cache_bound / 4,
        "the link cache was used: {peak}"
    );
    assert_eq!(
        t.store.resolve("links/000/l0").unwrap(),
        "targets/t0",
        "an evicted link still resolves, from the database"
    );
}
