//! `RocksStore::metrics`: every operation counted by outcome and timed,
//! the store's gauges present, and the text valid Prometheus exposition.

use hbstore::{Batch, MetricsReport, Store};
use hbstore_testkit::exposition::{parse_exposition, sample};

use crate::common::TempRocks;

/// How many `operation`s ended in `outcome`, as the report counts them.
pub(crate) fn operations(report: &MetricsReport, operation: &str, outcome: &str) -> f64 {
    report
        .value(
            "hbstore_operations_total",
            &[("operation", operation), ("outcome", outcome)],
        )
        .unwrap_or_else(|| panic!("no count for {operation} {outcome}"))
}

#[test]
fn every_operation_is_counted_by_outcome() {
    let s = TempRocks::new();
    s.write("msg/a", b"1").unwrap();
    s.write("msg/b", b"2").unwrap();
    s.make_link("msg/a", "alias").unwrap();
    s.make_group("g").unwrap();
    assert!(s.read("msg/a").unwrap().is_some());
    assert!(s.read("alias").unwrap().is_some());
    assert!(s.read("nothing").unwrap().is_none());
    s.make_link("loop/b", "loop/a").unwrap();
    s.make_link("loop/a", "loop/b").unwrap();
    assert!(
        s.read("loop/a").is_err(),
        "reading through a loop is refused"
    );
    assert!(
        s.write("msg", b"x").is_err(),
        "writing over a group is refused"
    );
    s.list("msg").unwrap();
    s.type_of("msg").unwrap();
    s.resolve("alias").unwrap();
    assert!(s.delete("msg/b").unwrap());
    assert!(!s.delete("msg/b").unwrap());
    let mut batch = Batch::new();
    batch.write("batch/x", b"1").unwrap();
    s.apply(&batch).unwrap();
    let big = vec![7u8; 1 << 20];
    s.write("big", &big).unwrap();
    assert!(s.without_waiting(|s| s.read("big")).is_err());

    let report = s.metrics().unwrap();
    for (operation, outcome, expected) in [
        ("write", "done", 3.0),
        ("write", "refused", 1.0),
        ("link", "done", 3.0),
        ("group", "done", 1.0),
        ("read", "found", 2.0),
        ("read", "absent", 1.0),
        ("read", "refused", 1.0),
        ("read", "busy", 1.0),
        ("list", "found", 1.0),
        ("type", "found", 1.0),
        ("resolve", "found", 1.0),
        ("delete", "done", 1.0),
        ("delete", "absent", 1.0),
        ("batch", "done", 1.0),
        ("match", "found", 0.0),
        ("read", "failed", 0.0),
    ] {
        assert_eq!(
            operations(&report, operation, outcome),
            expected,
            "{operation} {outcome}"
        );
    }
    let reads = report
        .value(
            "hbstore_operation_duration_seconds_count",
            &[("operation", "read")],
        )
        .unwrap();
    assert_eq!(reads, 5.0, "the histogram counts every outcome");
    let under_ten_seconds = report
        .value(
            "hbstore_operation_duration_seconds_bucket",
            &[("operation", "read"), ("le", "10")],
        )
        .unwrap();
    assert_eq!(under_ten_seconds, 5.0);
    assert!(
        report
            .value(
                "hbstore_operation_duration_seconds_sum",
                &[("operation", "read")]
            )
            .unwrap()
            > 0.0
    );
}

#[test]
fn the_text_is_valid_exposition_with_the_store_gauges() {
    let s = TempRocks::new();
    for i in 0..2_000 {
        s.write(format!("m{}/f{i}", i % 20), format!("value {i}").as_bytes())
            .unwrap();
    }
    for i in 0..2_000 {
        s.read(format!("m{}/f{i}", i % 20)).unwrap();
    }
    s.flush().unwrap();
    let text = s.metrics().unwrap().prometheus_text();
    let parsed = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&parsed, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };
    assert!(value("hbstore_disk_bytes", &[("part", "files")]) > 0.0);
    assert!(value("hbstore_disk_bytes", &[("part", "log")]) >= 0.0);
    assert!(value("hbstore_entries", &[("kind", "value")]) > 0.0);
    assert!(value("hbstore_memory_budget_bytes", &[("part", "entry_cache")]) > 0.0);
    assert!(value("hbstore_memory_used_bytes", &[("part", "entry_cache")]) > 0.0);
    assert!(value("hbstore_entry_cache_entries", &[]) > 0.0);
    let entry_hits = value(
        "hbstore_cache_lookups_total",
        &[("cache", "entry"), ("result", "hit")],
    );
    assert!(
        entry_hits >= 2_000.0,
        "every read after its write hits: {entry_hits}"
    );
    let ratio = value("hbstore_cache_hit_ratio", &[("cache", "entry")]);
    assert!(ratio > 0.0 && ratio <= 1.0);
    value(
        "hbstore_cache_lookups_total",
        &[("cache", "block"), ("result", "miss")],
    );
    value("hbstore_compaction_pending_bytes", &[]);
    value("hbstore_compactions_running", &[]);
    value("hbstore_write_stall_seconds_total", &[]);
    assert_eq!(value("hbstore_writes_stopped", &[]), 0.0);
    value("hbstore_write_rate_limit_bytes_per_second", &[]);
    assert_eq!(
        value(
            "hbstore_info",
            &[
                ("backend", "rocksdb"),
                ("mode", "read-write"),
                ("durability", "process")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            "hbstore_operations_total",
            &[("operation", "write"), ("outcome", "done")]
        ),
        2_000.0
    );
}

#[test]
fn gc_runs_and_what_they_freed_are_counted() {
    let s =
        TempRocks::with_options(hbstore::Options::default().gc_grace(std::time::Duration::ZERO));
    s.write("data/kept", b"kept").unwrap();
    s.write("data/loose", b"12345").unwrap();
    s.make_link("data/kept", "msg/field").unwrap();
    s.gc("data", true, &mut |_| {}).unwrap();
    let dry = s.metrics().unwrap();
    assert_eq!(
        dry.value("hbstore_gc_runs_total", &[]),
        Some(0.0),
        "a dry run frees nothing"
    );
    let report = s.gc("data", false, &mut |_| {}).unwrap();
    assert_eq!(report.removed, 1);
    let after = s.metrics().unwrap();
    assert_eq!(after.value("hbstore_gc_runs_total", &[]), Some(1.0));
    assert_eq!(
        after.value("hbstore_gc_removed_values_total", &[]),
        Some(1.0)
    );
    assert_eq!(after.value("hbstore_gc_freed_bytes_total", &[]), Some(5.0));
}

#[test]
fn a_read_only_open_reports_its_mode_and_no_entry_cache() {
    let s = TempRocks::new();
    s.write("a", b"1").unwrap();
    let reader = hbstore::RocksStore::open_read_only(s.db_path()).unwrap();
    reader.read("a").unwrap();
    let report = reader.metrics().unwrap();
    assert_eq!(
        report.value("hbstore_info", &[("mode", "read-only")]),
        Some(1.0)
    );
    assert_eq!(
        report.value("hbstore_memory_budget_bytes", &[("part", "entry_cache")]),
        Some(0.0)
    );
    assert_eq!(operations(&report, "read", "found"), 1.0);
    assert!(parse_exposition(&report.prometheus_text()).is_ok());
}
