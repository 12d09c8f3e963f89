//! What an acknowledged write survives when its process is killed
//! (SIGKILL), hbstore beside LMDB opened as HyperBEAM opens it (`no_sync`,
//! `no_mem_init`), both as HyperBEAM's LMDB store writes (buffered, a
//! transaction per 5,000 writes) and with a transaction per write.
//!
//! A child process (this test binary, running `child_writer`, ignored in
//! normal runs) writes keys and prints each one's number once the store
//! has acknowledged it; the test kills it, reopens the store and looks for
//! every acknowledged key. Power loss cannot be tested here: hbstore
//! promises it only with `sync` (an fsync per write), LMDB with `no_sync`
//! not at all until it syncs.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use hbstore::{Options, RocksStore, Store};
use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions};

const DIR_VAR: &str = "HBSTORE_DURABILITY_DIR";
const MODE_VAR: &str = "HBSTORE_DURABILITY_MODE";
/// Acknowledged writes before the kill: fewer than one buffered LMDB
/// transaction holds.
const ACKNOWLEDGED: u64 = 3_000;
const BUFFERED: u64 = 5_000;

fn key(i: u64) -> String {
    format!("k/{i:08}")
}

fn open_lmdb(dir: &Path) -> (Env, Database<Bytes, Bytes>) {
    std::fs::create_dir_all(dir).expect("LMDB directory");
    let mut options = EnvOpenOptions::new();
    options.map_size(256 << 20);
    // SAFETY: a test environment only this test and its child open.
    let env = unsafe {
        options.flags(EnvFlags::NO_SYNC | EnvFlags::NO_MEM_INIT);
        options.open(dir).expect("open LMDB")
    };
    let mut txn = env.write_txn().expect("write txn");
    let db = env.create_database(&mut txn, None).expect("database");
    txn.commit().expect("commit");
    (env, db)
}

/// The writer the test kills: writes `ACKNOWLEDGED` keys, printing each
/// number once acknowledged, then waits to be killed (as a node idle
/// between writes would be).
#[test]
#[ignore = "run by the durability tests as their child process"]
fn child_writer() {
    let (Ok(dir), Ok(mode)) = (std::env::var(DIR_VAR), std::env::var(MODE_VAR)) else {
        return;
    };
    let dir = Path::new(&dir);
    let mut out = std::io::stdout().lock();
    let mut ack = |i: u64| {
        use std::io::Write;
        writeln!(out, "{i}").expect("report");
        out.flush().expect("report");
    };
    match mode.as_str() {
        "hbstore" => {
            let store = RocksStore::open(dir, Options::default()).expect("open");
            for i in 0..ACKNOWLEDGED {
                store.write(key(i), b"value").expect("write");
                ack(i);
            }
        }
        "lmdb-each" | "lmdb-buffered" => {
            let every = if mode == "lmdb-each" { 1 } else { BUFFERED };
            let (env, db) = open_lmdb(dir);
            let mut txn = env.write_txn().expect("write txn");
            for i in 0..ACKNOWLEDGED {
                db.put(&mut txn, key(i).as_bytes(), b"value").expect("put");
                if (i + 1) % every == 0 {
                    txn.commit().expect("commit");
                    txn = env.write_txn().expect("write txn");
                }
                ack(i);
            }
        }
        other => panic!("unknown mode {other}"),
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// Starts the child in `mode`, kills it once `ACKNOWLEDGED` writes were
/// acknowledged, and returns how many it acknowledged in all.
fn write_then_kill(dir: &Path, mode: &str) -> u64 {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "child_writer", "--nocapture", "-q"])
        .env(DIR_VAR, dir)
        .env(MODE_VAR, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the writer");
    let stdout = child.stdout.take().expect("piped");
    let mut last = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the writer");
        if let Ok(i) = line.trim().parse::<u64>() {
            last = Some(i);
            if i + 1 >= ACKNOWLEDGED {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the writer");
    child.wait().expect("reap the writer");
    last.map_or(0, |i| i + 1)
}

/// How many of the first `acknowledged` keys are missing.
fn missing(acknowledged: u64, present: impl Fn(&str) -> bool) -> u64 {
    (0..acknowledged).filter(|&i| !present(&key(i))).count() as u64
}

#[test]
fn hbstore_keeps_every_acknowledged_write_through_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let acknowledged = write_then_kill(&dir, "hbstore");
    assert_eq!(acknowledged, ACKNOWLEDGED);
    let store = RocksStore::open(&dir, Options::default()).unwrap();
    assert_eq!(
        missing(acknowledged, |k| store.read(k).unwrap().is_some()),
        0
    );
    assert!(store.check(|_| {}).unwrap().is_sound());
}

#[test]
fn lmdb_keeps_a_kill_only_what_it_committed() {
    for (mode, expect_lost) in [("lmdb-each", false), ("lmdb-buffered", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lmdb");
        let acknowledged = write_then_kill(&dir, mode);
        assert_eq!(acknowledged, ACKNOWLEDGED);
        let (env, db) = open_lmdb(&dir);
        let txn = env.read_txn().unwrap();
        let lost = missing(acknowledged, |k| {
            db.get(&txn, k.as_bytes()).unwrap().is_some()
        });
        if expect_lost {
            // HyperBEAM's way: nothing of the open transaction survives.
            assert_eq!(lost, acknowledged, "{mode}: every buffered write is lost");
        } else {
            assert_eq!(lost, 0, "{mode}: committed transactions survive a kill");
        }
    }
}
