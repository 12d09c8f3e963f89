//! Crash safety with real processes: a child process writes a stream of
//! operations and reports each one once it is acknowledged; the test kills
//! it with SIGKILL at a random moment, reopens the store and checks that
//! every acknowledged operation is there, that the one in flight is wholly
//! there or wholly absent, and that the invariant holds.
//!
//! The child is this same test binary, running `child_writer` (ignored in
//! normal runs) with the store directory in `HBSTORE_CRASH_DIR`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use hbstore::{Batch, EntryType, Options, RocksStore, Store};

const DIR_VAR: &str = "HBSTORE_CRASH_DIR";
const START_VAR: &str = "HBSTORE_CRASH_START";
const READY: &str = "hbstore crash writer ready";

/// Operation `i` of the stream. Every one is idempotent, so a restarted
/// writer may repeat the one that was in flight.
fn apply(store: &RocksStore, i: u64) -> hbstore::Result<()> {
    match i % 4 {
        0 => {
            let mut batch = Batch::new();
            batch
                .write(format!("b/{i}/x"), i.to_string().as_bytes())?
                .make_group(format!("b/{i}/g"))?
                .make_link(format!("b/{i}/x"), format!("b/{i}/l"))?;
            store.apply(&batch)
        }
        1 => store.write(format!("v/{i}"), i.to_string().as_bytes()),
        2 => store.make_link(format!("v/{}", i - 1), format!("l/{i}")),
        _ => store.delete(format!("v/{}", i - 2)).map(drop),
    }
}

/// What must be true once operation `i` was acknowledged (`done`) or was
/// not (`!done`); `None` when either is acceptable for it (it was in
/// flight).
fn verify(store: &RocksStore, i: u64, acknowledged: u64) -> Result<(), String> {
    let done = i <= acknowledged;
    let in_flight = i == acknowledged + 1;
    let read = |p: String| store.read(p.as_str()).map_err(|e| e.to_string());
    match i % 4 {
        0 => {
            let x = read(format!("b/{i}/x"))?;
            let l = read(format!("b/{i}/l"))?;
            let g = store
                .type_of(format!("b/{i}/g"))
                .map_err(|e| e.to_string())?;
            let parent = store.type_of(format!("b/{i}")).map_err(|e| e.to_string())?;
            let all = x.is_some() && l.is_some() && g == Some(EntryType::Composite);
            let none = x.is_none() && l.is_none() && g.is_none() && parent.is_none();
            if !(all || none) {
                return Err(format!(
                    "batch {i} is partly there: {x:?} {l:?} {g:?} {parent:?}"
                ));
            }
            if done && !all {
                return Err(format!("acknowledged batch {i} is missing"));
            }
            if !done && !in_flight && !none {
                return Err(format!("batch {i} was never started but is there"));
            }
        }
        1 => {
            let v = read(format!("v/{i}"))?;
            let deleted = i + 2 <= acknowledged;
            let delete_in_flight = i + 2 == acknowledged + 1;
            let expected = i.to_string().into_bytes();
            if done && !deleted && !delete_in_flight && v.as_ref() != Some(&expected) {
                return Err(format!("acknowledged write v/{i} is missing: {v:?}"));
            }
            if deleted && v.is_some() {
                return Err(format!("acknowledged delete of v/{i} did not happen"));
            }
            if !done && !in_flight && v.is_some() {
                return Err(format!("v/{i} was never written but is there"));
            }
        }
        2 => {
            let target = store.resolve(format!("l/{i}")).map_err(|e| e.to_string())?;
            if done && target != format!("v/{}", i - 1) {
                return Err(format!("acknowledged link l/{i} is missing ({target})"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[test]
#[ignore = "the child process of writes_survive_kill_9; run by it"]
fn child_writer() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        panic!("{DIR_VAR} is not set: this runs as the child of writes_survive_kill_9");
    };
    let start: u64 = std::env::var(START_VAR)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let store = RocksStore::open(&dir, Options::default()).expect("child opens the store");
    let mut out = std::io::stdout().lock();
    // The test harness has already printed part of a line; start a new one.
    writeln!(out, "\n{READY}")
        .and_then(|_| out.flush())
        .expect("stdout");
    for i in start.. {
        apply(&store, i).expect("child operation");
        writeln!(out, "ack {i}")
            .and_then(|_| out.flush())
            .expect("stdout");
    }
}

/// Kill points: 50 by default, more with `HBSTORE_CRASH_ROUNDS`.
fn rounds() -> u64 {
    std::env::var("HBSTORE_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

#[test]
fn writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut acknowledged = 0u64;
    let mut seed = 0x9e37_79b9u64;
    for round in 0..rounds() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash::child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, &db)
            .env(START_VAR, (acknowledged + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until the child has the store open, then let it write for a
        // random while (0 to 40 ms) before killing it.
        for line in lines.by_ref() {
            if line.unwrap() == READY {
                break;
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 40_000));
        child.kill().unwrap();
        let before = acknowledged;
        for line in lines.map_while(Result::ok) {
            if let Some(i) = line
                .strip_prefix("ack ")
                .and_then(|n| n.parse::<u64>().ok())
            {
                acknowledged = acknowledged.max(i);
            }
        }
        child.wait().unwrap();

        let store = RocksStore::open(&db, Options::default()).unwrap();
        let report = store.check(|_| {}).unwrap();
        assert!(report.is_sound(), "round {round}: {:?}", report.problems);
        let from = before.saturating_sub(4).max(1);
        for i in from..=acknowledged + 1 {
            if let Err(e) = verify(&store, i, acknowledged) {
                panic!("round {round}, {acknowledged} acknowledged: {e}");
            }
        }
    }
    assert!(
        acknowledged > rounds(),
        "the children did write ({acknowledged} operations)"
    );
}
