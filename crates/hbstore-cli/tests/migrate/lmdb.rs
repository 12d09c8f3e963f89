//! `import --from hb-lmdb`: environments built here byte by byte in
//! `hb_store_lmdb`'s layout, imported, and the store compared answer by
//! answer with what `hb_store_lmdb` answers for the same data (a model of
//! its `read`, `list` and `type` below, working from the records written,
//! not from LMDB).

use std::collections::BTreeMap;
use std::path::Path;

use hbstore::{EntryType, RocksStore, Store};
use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions};

use super::{dump, hbstore, import};

type Records = BTreeMap<Vec<u8>, Vec<u8>>;

/// An environment opened as HyperBEAM opens it.
fn open_env(dir: &Path) -> (Env, Database<Bytes, Bytes>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut options = EnvOpenOptions::new();
    options.map_size(64 << 20);
    // SAFETY: test environments in fresh temporary directories.
    let env = unsafe {
        options.flags(EnvFlags::NO_SYNC | EnvFlags::NO_MEM_INIT);
        options.open(dir).unwrap()
    };
    let mut txn = env.write_txn().unwrap();
    let db = env.create_database(&mut txn, None).unwrap();
    txn.commit().unwrap();
    (env, db)
}

fn write_env(dir: &Path, records: &Records) {
    let (env, db) = open_env(dir);
    let mut txn = env.write_txn().unwrap();
    for (k, v) in records {
        db.put(&mut txn, k, v).unwrap();
    }
    txn.commit().unwrap();
    env.force_sync().unwrap();
}

fn link(target: &str) -> Vec<u8> {
    format!("link:{target}").into_bytes()
}

/// What a node's cache holds, and the oddities `hb_store_lmdb` lets in.
fn node_records() -> Records {
    let mut r = Records::new();
    let mut put = |k: &[u8], v: &[u8]| {
        r.insert(k.to_vec(), v.to_vec());
    };
    for m in 0..20 {
        let id = format!("Msg{m:040}");
        put(id.as_bytes(), b"group");
        for (field, value) in [
            ("process", format!("proc-{}", m % 3)),
            ("slot", m.to_string()),
            ("body", "text ".repeat(m * 50)),
        ] {
            let data = format!("data/{field}-{}", value.len() * 31 + m % 3);
            put(data.as_bytes(), value.as_bytes());
            put(format!("{id}/{field}").as_bytes(), &link(&data));
        }
    }
    put(
        b"Msg0000000000000000000000000000000000000001/commitments",
        b"group",
    );
    put(
        b"Msg0000000000000000000000000000000000000001/commitments/c1/signature",
        &[0, 1, 2, 255, 254],
    );
    // A value whose ancestors have no records (`write` makes none).
    put(b"loose/a/b", b"implied groups");
    // A link in an intermediate segment, and a chain of links.
    put(
        b"latest",
        &link("Msg0000000000000000000000000000000000000002"),
    );
    put(b"alias", &link("latest"));
    // Values that only look special: `link:` with nothing after it, and
    // empty bytes.
    put(b"odd/bare-prefix", b"link:");
    put(b"odd/empty", b"");
    put(b"odd/big", &vec![7u8; 100_000]);
    // A link nothing is at.
    put(b"dangling", &link("nowhere/at/all"));
    r
}

/// Records hbstore cannot hold, each with what the warning names.
fn hostile_records() -> Vec<(Vec<u8>, Vec<u8>, &'static str)> {
    vec![
        (b"v".to_vec(), b"a value".to_vec(), ""),
        // A value below a value.
        (b"v/x".to_vec(), b"under a value".to_vec(), "v/x"),
        // Keys that are not paths.
        (b"bad\xffkey".to_vec(), b"1".to_vec(), "bad"),
        (b"nul\0key".to_vec(), b"1".to_vec(), "nul"),
        // Link targets that are not paths.
        (b"badlink".to_vec(), b"link:a\0b".to_vec(), "badlink"),
        (b"badlink2".to_vec(), b"link:\xff\xfe".to_vec(), "badlink2"),
    ]
}

/// `hb_store_lmdb`'s answers, computed from the records.
mod model {
    use super::Records;

    const MAX_REDIRECTS: usize = 1000;

    fn as_link(v: &[u8]) -> Option<&[u8]> {
        v.strip_prefix(b"link:").filter(|t| !t.is_empty())
    }

    fn read_with_links(r: &Records, path: &[u8]) -> Option<Vec<u8>> {
        let mut at = path.to_vec();
        for _ in 0..MAX_REDIRECTS {
            let v = r.get(&at)?;
            match as_link(v) {
                Some(t) => at = t.to_vec(),
                None if v == b"group" => return None,
                None => return Some(v.clone()),
            }
        }
        None
    }

    pub fn resolve(r: &Records, path: &[u8]) -> Option<Vec<u8>> {
        let mut parts: Vec<Vec<u8>> = path.split(|&b| b == b'/').map(|s| s.to_vec()).collect();
        'again: for _ in 0..MAX_REDIRECTS {
            if parts[0] == b"data" {
                return Some(parts.join(&b'/'));
            }
            for i in 0..parts.len() - 1 {
                if let Some(t) = r.get(&parts[..=i].join(&b'/')).and_then(|v| as_link(v)) {
                    let mut next: Vec<Vec<u8>> =
                        t.split(|&b| b == b'/').map(|s| s.to_vec()).collect();
                    next.extend(parts.drain(i + 1..));
                    parts = next;
                    continue 'again;
                }
            }
            return Some(parts.join(&b'/'));
        }
        None
    }

    pub fn read(r: &Records, path: &[u8]) -> Option<Vec<u8>> {
        read_with_links(r, path).or_else(|| read_with_links(r, &resolve(r, path)?))
    }

    pub fn list(r: &Records, path: &[u8]) -> Vec<Vec<u8>> {
        let target = r.get(path).and_then(|v| as_link(v)).unwrap_or(path);
        let prefix = [target, b"/"].concat();
        let mut names: Vec<Vec<u8>> = r
            .keys()
            .filter_map(|k| k.strip_prefix(prefix.as_slice()))
            .map(|rest| rest.split(|&b| b == b'/').next().unwrap_or(rest).to_vec())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Where a chain of links from `path` ends (`path` itself when it is
    /// no link).
    pub fn chain_end(r: &Records, path: &[u8]) -> Vec<u8> {
        let mut at = path.to_vec();
        for _ in 0..MAX_REDIRECTS {
            match r.get(&at).and_then(|v| as_link(v)) {
                Some(t) => at = t.to_vec(),
                None => break,
            }
        }
        at
    }

    /// `composite`, `simple` or nothing, links followed.
    pub fn type_of(r: &Records, path: &[u8]) -> Option<&'static str> {
        let mut at = path.to_vec();
        for _ in 0..MAX_REDIRECTS {
            let v = r.get(&at)?;
            match as_link(v) {
                Some(t) => at = t.to_vec(),
                None if v == b"group" => return Some("composite"),
                None => return Some("simple"),
            }
        }
        None
    }
}

/// The paths to ask about: every key, every prefix of one, and paths
/// through the intermediate links.
fn questions(records: &Records) -> Vec<String> {
    let mut paths: Vec<String> = records
        .keys()
        .filter_map(|k| std::str::from_utf8(k).ok())
        .flat_map(|k| {
            k.match_indices('/')
                .map(move |(i, _)| k[..i].to_owned())
                .chain([k.to_owned()])
        })
        .collect();
    paths.extend(["alias/slot", "latest/body", "alias/process", "latest/none"].map(String::from));
    paths.sort();
    paths.dedup();
    paths
}

fn same_answers(store: &RocksStore, records: &Records, skipped: &[&str]) -> usize {
    let mut compared = 0;
    for path in questions(records) {
        if skipped
            .iter()
            .any(|s| path == *s || path.starts_with(&format!("{s}/")))
        {
            continue;
        }
        let bytes = path.as_bytes();
        assert_eq!(
            store.read(path.as_str()).unwrap(),
            model::read(records, bytes),
            "read {path}"
        );
        // Listing a value is an error in hbstore and an empty prefix scan
        // in `hb_store_lmdb`: both say it has no children.
        let listed: Vec<Vec<u8>> = match store.list(path.as_str()) {
            Err(hbstore::Error::NotAGroup { .. }) => Vec::new(),
            other => other.unwrap().unwrap_or_default(),
        }
        .into_iter()
        .map(String::into_bytes)
        .collect();
        // `hb_store_lmdb` follows one link before its prefix scan, so
        // through a chain of two it lists nothing; hbstore follows the
        // chain. Everywhere else the lists are the same.
        let hb_lmdb = model::list(records, bytes);
        let chain_end = model::chain_end(records, bytes);
        if hb_lmdb.is_empty() && records.get(&chain_end).is_some_and(|v| v == b"group") {
            assert_eq!(listed, model::list(records, &chain_end), "list {path}");
        } else {
            assert_eq!(listed, hb_lmdb, "list {path}");
        }
        let kind = store.type_of(path.as_str()).unwrap().map(|t| match t {
            EntryType::Simple => "simple",
            EntryType::Composite => "composite",
        });
        // HyperBEAM's cache asks `type` of the resolved path (its
        // `type` alone does not follow intermediate links).
        let resolved = model::resolve(records, bytes).unwrap_or_else(|| bytes.to_vec());
        match model::type_of(records, &resolved) {
            Some(expected) => assert_eq!(kind, Some(expected), "type {path}"),
            // A group `hb_store_lmdb` only implies (a key below it, no
            // record of its own) is a real group in hbstore.
            None if !model::list(records, bytes).is_empty() => {
                assert_eq!(kind, Some("composite"), "type {path}")
            }
            None => assert_eq!(kind, None, "type {path}"),
        }
        compared += 1;
    }
    compared
}

#[test]
fn a_node_cache_imports_and_answers_as_hb_store_lmdb_did() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("lmdb");
    let records = node_records();
    write_env(&source, &records);
    let before = std::fs::read(source.join("data.mdb")).unwrap();
    let db = tmp.path().join("db");
    let summary = import(&db, "hb-lmdb", &source);
    assert_eq!(summary["warnings"], serde_json::json!([]), "{summary}");
    let links = records
        .values()
        .filter(|v| v.starts_with(b"link:") && v.len() > 5);
    assert_eq!(summary["links"], links.count() as u64);
    assert_eq!(
        std::fs::read(source.join("data.mdb")).unwrap(),
        before,
        "the source is never modified"
    );
    let store = RocksStore::open_read_only(&db).unwrap();
    let compared = same_answers(&store, &records, &[]);
    assert!(compared > 100, "{compared} paths compared");
    let first = dump(&store);
    drop(store);
    let again = import(&db, "hb-lmdb", &source);
    assert_eq!(again, summary, "importing again lands the same operations");
    assert_eq!(dump(&RocksStore::open_read_only(&db).unwrap()), first);
}

#[test]
fn what_hbstore_cannot_hold_is_reported_and_the_rest_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("lmdb");
    let mut records = node_records();
    let hostile = hostile_records();
    for (k, v, _) in &hostile {
        records.insert(k.clone(), v.clone());
    }
    write_env(&source, &records);
    let db = tmp.path().join("db");
    let summary = import(&db, "hb-lmdb", &source);
    let warnings: Vec<String> = summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    let named: Vec<&str> = hostile
        .iter()
        .map(|h| h.2)
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(warnings.len(), named.len(), "{warnings:#?}");
    for name in named {
        assert!(
            warnings.iter().any(|w| w.contains(name)),
            "a warning names {name}: {warnings:#?}"
        );
    }
    let store = RocksStore::open_read_only(&db).unwrap();
    for (k, _, _) in &hostile {
        records.remove(k);
    }
    records.insert(b"v".to_vec(), b"a value".to_vec());
    same_answers(&store, &records, &[]);
    assert!(store.check(|_| {}).unwrap().is_sound());
}

#[test]
fn an_environment_in_use_by_a_writer_imports_what_it_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("lmdb");
    let records = node_records();
    write_env(&source, &records);
    // The node keeps the environment open, in the middle of a write.
    let (env, db) = open_env(&source);
    let mut txn = env.write_txn().unwrap();
    db.put(&mut txn, b"uncommitted", b"not yet").unwrap();
    let store_dir = tmp.path().join("db");
    let summary = import(&store_dir, "hb-lmdb", &source);
    assert_eq!(summary["warnings"], serde_json::json!([]), "{summary}");
    txn.commit().unwrap();
    let store = RocksStore::open_read_only(&store_dir).unwrap();
    assert_eq!(store.read("uncommitted").unwrap(), None);
    same_answers(&store, &records, &[]);
}

#[test]
fn what_is_not_an_lmdb_environment_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let missing = tmp.path().join("missing");
    let (code, _, err) = hbstore(
        &db,
        &["import", "--from", "hb-lmdb", missing.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no LMDB environment"), "{err}");
    let garbage = tmp.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("data.mdb"), vec![0x5a; 70_000]).unwrap();
    let (code, _, err) = hbstore(
        &db,
        &["import", "--from", "hb-lmdb", garbage.to_str().unwrap()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("LMDB"), "{err}");
}
