//! What keeps a large store quick to use: a clean close leaves nothing for
//! the next open to replay, and the estimate `stats` gives at once stays
//! close to the exact count.

use hbstore::{Batch, Compression, Options, RocksStore, Store};

use crate::common::TempRocks;

/// The bytes of the store's write-ahead logs.
fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
fn a_clean_close_leaves_nothing_to_replay() {
    let t = TempRocks::new();
    let dir = t.db_path();
    for i in 0..5_000 {
        t.store
            .write(format!("m{i}/body").as_str(), b"text")
            .unwrap();
    }
    assert!(wal_bytes(&dir) > 0, "writes go to the log first");
    drop(t.store);
    assert_eq!(wal_bytes(&dir), 0);
    let reader = RocksStore::open_read_only(&dir).unwrap();
    assert_eq!(
        reader.read("m4999/body").unwrap().as_deref(),
        Some(&b"text"[..])
    );
    assert_eq!(reader.list("").unwrap().unwrap().len(), 5_000);
    // A read-only handle has nothing to flush, and closes as it is.
    drop(reader);
    assert_eq!(wal_bytes(&dir), 0);
}

/// `n` messages of 4 values, each message with a link to a shared value.
fn fill(store: &RocksStore, n: usize) {
    store.write("data/shared", b"shared value").unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let mut batch = Batch::new();
        for i in chunk {
            for field in ["a", "b", "c", "d"] {
                batch
                    .write(format!("msg{i:07}/{field}").as_str(), &[b'x'; 60][..])
                    .unwrap();
            }
            batch
                .make_link("data/shared", format!("msg{i:07}/owner").as_str())
                .unwrap();
        }
        store.apply(&batch).unwrap();
    }
}

fn within(estimate: u64, exact: u64, tolerance: f64) -> bool {
    (estimate as f64 - exact as f64).abs() <= exact as f64 * tolerance
}

#[test]
fn the_estimate_is_close_to_the_exact_count() {
    // Small enough to fit in memory only, and then in files, compacted;
    // uncompressed, so that the values' level is large enough in its files
    // to be sampled rather than walked.
    let t = TempRocks::with_options(Options::default().compression(Compression::None));
    fill(&t.store, 40_000);
    for stage in ["in memory", "flushed", "compacted"] {
        match stage {
            "flushed" => t.store.flush().unwrap(),
            "compacted" => t.store.compact().unwrap(),
            _ => {}
        }
        let exact = t.store.check(|_| {}).unwrap();
        let estimate = t.store.estimate().unwrap();
        assert!(estimate.sampled > 0, "{stage}: {estimate:?}");
        let tolerance = if stage == "in memory" { 0.0 } else { 0.05 };
        if stage != "in memory" {
            assert!(
                estimate.sampled < exact.entries() / 2,
                "{stage}: sampled {estimate:?}"
            );
        }
        for (what, e, x) in [
            ("values", estimate.values, exact.values),
            ("groups", estimate.groups, exact.groups),
            ("links", estimate.links, exact.links),
            ("value bytes", estimate.value_bytes, exact.value_bytes),
        ] {
            assert!(
                within(e, x, tolerance),
                "{stage}: {what} estimated {e}, exactly {x}"
            );
        }
    }
}

#[test]
fn a_small_store_is_counted_exactly_by_the_estimate() {
    let t = TempRocks::new();
    t.store.write("a/b/c", b"12345").unwrap();
    t.store.make_link("a/b/c", "l").unwrap();
    t.store.flush().unwrap();
    let estimate = t.store.estimate().unwrap();
    assert_eq!(
        (
            estimate.values,
            estimate.groups,
            estimate.links,
            estimate.value_bytes
        ),
        (1, 2, 1, 5)
    );
    let empty = TempRocks::new().store.estimate().unwrap();
    assert_eq!((empty.values, empty.groups, empty.links), (0, 0, 0));
}

#[test]
fn options_report_their_memory_budget() {
    let options = Options::default()
        .block_cache_bytes(100 << 20)
        .entry_cache_bytes(50 << 20)
        .group_cache_bytes(1 << 20)
        .link_cache_bytes(1 << 20);
    // The caches and RocksDB's two memtables of 64 MiB.
    assert_eq!(
        options.memory_budget().total(),
        (100 + 50 + 1 + 1 + 128) << 20
    );
    // A budget is split: the memtables and the small caches first, then
    // one fifth of the rest to the block cache and four to the entries.
    let budget = Options::default()
        .memory_budget_bytes(1 << 30)
        .group_cache_bytes(16 << 20)
        .link_cache_bytes(16 << 20)
        .memory_budget();
    let rest = (1 << 30) - (128 << 20) - (32 << 20);
    assert_eq!(budget.block_cache, rest / 5);
    assert_eq!(budget.entry_cache, rest / 5 * 4);
    assert!(budget.total() <= 1 << 30);
    // The block cache never gets less than 64 MiB.
    let small = Options::default().memory_budget_bytes(0).memory_budget();
    assert_eq!(small.block_cache, 64 << 20);
    assert_eq!(small.entry_cache, 0);
}

#[test]
fn the_entry_cache_stays_within_its_budget_and_a_read_only_open_has_none() {
    let t = TempRocks::with_options(Options::default().entry_cache_bytes(1 << 20));
    for chunk in 0..20 {
        let mut batch = hbstore::Batch::new();
        for i in 0..1_000 {
            batch.write(format!("m{chunk}/f{i}"), &[7u8; 100]).unwrap();
        }
        t.store.apply(&batch).unwrap();
    }
    assert!(
        t.store.entry_cache_usage() <= 1 << 20,
        "{}",
        t.store.entry_cache_usage()
    );
    assert!(
        t.store.entry_cache_len() > 1_000,
        "it caches: {}",
        t.store.entry_cache_len()
    );
    let reader = hbstore::RocksStore::open_read_only(t.db_path()).unwrap();
    assert_eq!(reader.read("m3/f5").unwrap(), Some(vec![7u8; 100]));
    assert_eq!(reader.entry_cache_len(), 0);
    assert_eq!(reader.memory_budget().entry_cache, 0);
}
