//! The cluster backend in use: clients racing on the same paths, several
//! clients and namespaces on one cluster, batches spanning slots, hostile
//! input (addresses, namespaces, data under hbstore's keys).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hbstore::{Batch, Error, Store};
use hbstore_cluster::{Address, ClusterStore, Cmd, Options};
use hbstore_testkit::Rng;

use crate::common::{cluster, namespace, store, TestStore};

#[test]
fn racing_clients_keep_every_ancestor_a_group() {
    let shared = Arc::new(store());
    let names = ["a", "b", "c"];
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            let s = shared.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(t + 1);
                let started = Instant::now();
                let mut done = 0;
                while started.elapsed() < Duration::from_secs(3) {
                    let depth = 1 + rng.below(3);
                    let path: Vec<&str> = (0..depth).map(|_| names[rng.below(3)]).collect();
                    let path = path.join("/");
                    // Errors are the contract's answers to a race
                    // (NotAGroup, IsGroup, NotEmpty, AlreadyExists);
                    // what matters is the state left behind.
                    let _ = match rng.below(6) {
                        0 | 1 => s.write(path.as_str(), b"v"),
                        2 => s.make_group(path.as_str()),
                        3 => s.delete_recursive(path.as_str()).map(drop),
                        4 => s.delete(path.as_str()).map(drop),
                        _ => s.make_link(names[rng.below(3)], path.as_str()),
                    };
                    done += 1;
                }
                done
            })
        })
        .collect();
    let done: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    let report = shared.check().expect("check");
    assert!(
        report.is_sound(),
        "after {done} racing operations: {:?}",
        report.problems
    );
    // What is there reads back consistently: a walk of the whole tree.
    let _ = hbstore_testkit::dump(&**shared);
}

#[test]
fn a_group_created_and_deleted_at_once_never_strands_a_child() {
    let shared = Arc::new(store());
    let creator = {
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut written = 0;
            for i in 0..400 {
                if s.write(format!("g/sub/x{}", i % 5).as_str(), b"1").is_ok() {
                    written += 1;
                }
            }
            written
        })
    };
    let deleter = {
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut deleted = 0;
            for _ in 0..400 {
                if s.delete_recursive("g").unwrap_or(false) {
                    deleted += 1;
                }
            }
            deleted
        })
    };
    let (written, deleted) = (creator.join().unwrap(), deleter.join().unwrap());
    assert!(
        written > 0 && deleted > 0,
        "both sides ran: {written} writes, {deleted} deletions"
    );
    let report = shared.check().expect("check");
    assert!(report.is_sound(), "{:?}", report.problems);
}

#[test]
fn two_clients_see_each_others_writes_and_namespaces_do_not_meet() {
    let ns = namespace();
    let address = cluster().address();
    let one = TestStore(ClusterStore::open(&address, Options::default().namespace(&ns)).unwrap());
    let two = ClusterStore::open(&format!("{address}/{ns}"), Options::default()).unwrap();
    let other = store();
    one.write("m/id/body", b"hello").unwrap();
    two.make_link("m/id", "latest").unwrap();
    assert_eq!(one.read("latest/body").unwrap(), Some(b"hello".to_vec()));
    assert_eq!(other.read("m/id/body").unwrap(), None);
    assert_eq!(other.list("").unwrap(), Some(vec![]));
    other.reset().unwrap();
    assert_eq!(two.read("m/id/body").unwrap(), Some(b"hello".to_vec()));
}

#[test]
fn a_failed_batch_across_slots_leaves_nothing_and_others_survive_its_undo() {
    let s = store();
    s.write("kept/value", b"before").unwrap();
    s.write("v", b"a value").unwrap();
    let mut batch = Batch::new();
    batch
        .write("new/one/a", b"1")
        .unwrap()
        .write("kept/value", b"after")
        .unwrap()
        .make_link("kept", "alias")
        .unwrap()
        .delete("kept/value")
        .unwrap()
        .make_group("x/y/z")
        .unwrap()
        .write("v/under", b"fails")
        .unwrap();
    assert!(matches!(s.apply(&batch), Err(Error::NotAGroup { .. })));
    assert_eq!(s.list("").unwrap(), Some(vec!["kept".into(), "v".into()]));
    assert_eq!(s.read("kept/value").unwrap(), Some(b"before".to_vec()));
    let report = s.check().unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    // The undone link left its index member, which match ignores.
    assert_eq!(
        s.match_links(&[("alias", "kept")], None).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn hostile_addresses_and_namespaces_are_refused_with_the_reason() {
    for (address, reason) in [
        ("", "no port"),
        ("redis://", "no port"),
        ("rediss://127.0.0.1:7000", "scheme"),
        ("http://127.0.0.1:7000", "scheme"),
        ("127.0.0.1", "no port"),
        ("127.0.0.1:0", "not a port"),
        ("127.0.0.1:70000", "not a port"),
        ("127.0.0.1:x", "not a port"),
        ("user@127.0.0.1:7000", "needs a password"),
        ("redis://:@127.0.0.1:7000", "password is empty"),
        (":7000", "host"),
        ("127.0.0.1:7000/bad:ns", "namespace"),
        ("127.0.0.1:7000/{ns}", "namespace"),
    ] {
        let e = Address::parse(address).expect_err(address).to_string();
        assert!(e.contains(reason), "{address:?}: {e}");
        let e = ClusterStore::open(address, Options::default()).expect_err(address);
        assert!(e.to_string().contains("opening cluster"), "{e}");
    }
    let e =
        ClusterStore::open(&cluster().address(), Options::default().namespace("a*b")).unwrap_err();
    assert!(e.to_string().contains("namespace"), "{e}");
    assert_eq!(
        Address::parse("redis://h1:1,h2:2/ns").unwrap(),
        Address {
            seeds: vec!["h1:1".into(), "h2:2".into()],
            credentials: None,
            namespace: Some("ns".into())
        }
    );
    let with = Address::parse("redis://admin:p@ss:w/rd@h1:1/ns").unwrap();
    assert_eq!(
        with.credentials,
        Some(hbstore_cluster::Credentials {
            user: Some("admin".into()),
            password: "p@ss:w/rd".into()
        })
    );
    assert_eq!(with.namespace.as_deref(), Some("ns"));
    assert!(!format!("{:?}", with.credentials).contains("p@ss"));
    let e = Address::parse("redis://:secret@h1")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("secret"), "{e}");
}

#[test]
fn foreign_bytes_under_hbstores_keys_are_corrupt_not_a_panic() {
    let s = store();
    s.write("g/ok", b"fine").unwrap();
    let layout = hbstore_cluster::Layout::new(s.namespace());
    let port = cluster().primary_of(&layout.entries("g")).unwrap();
    let reply = hbstore_testkit::local_cluster::ask(
        port,
        &Cmd::new("HSET")
            .arg(layout.entries("g"))
            .arg("bad")
            .arg("\x07junk"),
    )
    .unwrap();
    assert_eq!(reply, hbstore_cluster::Reply::Int(1));
    hbstore_testkit::local_cluster::ask(
        port,
        &Cmd::new("ZADD").arg(layout.names("g")).arg("0").arg("bad"),
    )
    .unwrap();
    assert!(matches!(s.read("g/bad"), Err(Error::Corrupt { .. })));
    assert_eq!(s.read("g/ok").unwrap(), Some(b"fine".to_vec()));
    // What an operator alerts on: the damaged entry counted as a failure.
    let metrics = s.metrics();
    let count = |operation, outcome| {
        metrics
            .value(
                "hbstore_operations_total",
                &[("operation", operation), ("outcome", outcome)],
            )
            .unwrap()
    };
    assert_eq!(count("read", "failed"), 1.0);
    assert_eq!(count("read", "found"), 1.0);
    assert_eq!(count("write", "done"), 1.0);
    let text = metrics.prometheus_text();
    hbstore_testkit::exposition::parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(text.contains("hbstore_info{backend=\"cluster\""), "{text}");
    let report = s.check().unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("g/bad"),
        "{:?}",
        report.problems
    );
    // A key of the namespace holding the wrong type is an error too.
    hbstore_testkit::local_cluster::ask(
        cluster().primary_of(&layout.entries("h")).unwrap(),
        &Cmd::new("SET").arg(layout.entries("h")).arg("x"),
    )
    .unwrap();
    let e = s.write("h/x", b"1").unwrap_err().to_string();
    assert!(e.contains("WRONGTYPE") || e.contains("wrong kind"), "{e}");
}

#[test]
fn a_messages_fields_put_in_one_step_answer_like_the_model() {
    use hbstore::MemoryStore;
    use hbstore_testkit::ops::{run, Action};
    let s = store();
    let model = MemoryStore::new();
    let v = |b: &str| b.as_bytes().to_vec();
    let cases: Vec<Action> = vec![
        // A new message: its group created, values and links in one step.
        Action::Batch(vec![
            Action::Write(vec!["m1", "a"], v("1")),
            Action::Write(vec!["m1", "b"], v("2")),
            Action::MakeLink(vec!["data", "h1"], vec!["m1", "c"]),
            Action::MakeLink(vec!["data", "h2"], vec!["m1", "d"]),
        ]),
        // Into the same group again: values replaced, the same links kept.
        Action::Batch(vec![
            Action::Write(vec!["m1", "a"], v("one")),
            Action::MakeLink(vec!["data", "h1"], vec!["m1", "c"]),
            Action::Write(vec!["m1", "e"], v("5")),
        ]),
        // A clash (a link over a value): the batch fails, nothing stays.
        Action::Batch(vec![
            Action::Write(vec!["m2", "a"], v("x")),
            Action::Write(vec!["m1", "f"], v("6")),
            Action::MakeLink(vec!["data", "h3"], vec!["m1", "a"]),
        ]),
        // A group among the children: IsGroup, nothing stays.
        Action::MakeGroup(vec!["m1", "g"]),
        Action::Batch(vec![
            Action::Write(vec!["m1", "h"], v("7")),
            Action::Write(vec!["m1", "g"], v("8")),
        ]),
        // Through a link to the group, and under a value.
        Action::MakeLink(vec!["m1"], vec!["alias"]),
        Action::Batch(vec![
            Action::Write(vec!["alias", "i"], v("9")),
            Action::Write(vec!["alias", "j"], v("10")),
        ]),
        Action::Batch(vec![
            Action::Write(vec!["m1", "a", "x"], v("11")),
            Action::Write(vec!["m1", "a", "y"], v("12")),
        ]),
        // The same name twice in one step: the last one stays.
        Action::Batch(vec![
            Action::Write(vec!["m3", "a"], v("first")),
            Action::Write(vec!["m3", "a"], v("second")),
        ]),
    ];
    for (step, action) in cases.iter().enumerate() {
        assert_eq!(
            run(&*s, action),
            run(&model, action),
            "step {step}: {action:?}"
        );
        assert_eq!(
            hbstore_testkit::dump(&*s),
            hbstore_testkit::dump(&model),
            "step {step}"
        );
    }
    assert_eq!(
        s.match_links(&[("c", "data/h1"), ("d", "data/h2")], None)
            .unwrap(),
        vec!["m1".to_owned()]
    );
    let report = s.check().unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
}

#[test]
fn names_with_braces_spaces_and_any_unicode_live_in_their_own_groups() {
    let s = store();
    let names = [
        "{",
        "}",
        "{x}",
        "a}b{c",
        "with space",
        "ünï",
        "日本",
        "#",
        ":",
        "*",
        "[a]",
        "\\",
    ];
    for outer in names {
        for inner in names {
            s.write([outer, inner], format!("{outer}/{inner}").as_bytes())
                .unwrap();
        }
    }
    for outer in names {
        let mut listed = s.list([outer]).unwrap().unwrap();
        listed.sort();
        let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        listed.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(listed, expected, "{outer}");
        for inner in names {
            assert_eq!(
                s.read([outer, inner]).unwrap(),
                Some(format!("{outer}/{inner}").into_bytes())
            );
        }
    }
    s.make_link(["{x}"], ["}", "link"]).unwrap();
    assert_eq!(
        s.read(["}", "link", "日本"]).unwrap(),
        Some(b"{x}/\xe6\x97\xa5\xe6\x9c\xac".to_vec())
    );
    assert_eq!(
        s.match_links(&[("link", "{x}")], None).unwrap(),
        vec!["}".to_owned()]
    );
    s.delete_recursive(["{"]).unwrap();
    assert_eq!(s.read(["{", "}"]).unwrap(), None);
    assert_eq!(s.read(["{x}", "}"]).unwrap(), Some(b"{x}/}".to_vec()));
    let report = s.check().unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
}

/// A failing batch's undo puts back only what is still its own: another
/// client's write, before or after the batch's, is what stays.
#[test]
fn a_failing_batch_racing_another_writer_never_undoes_its_writes() {
    let shared = Arc::new(store());
    shared.write("v", b"a value").unwrap();
    let batcher = {
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut failed = 0;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(2) {
                let mut batch = Batch::new();
                batch.write("shared/x", b"batch").unwrap();
                batch.write("other/y", b"batch").unwrap();
                // Steps between the writes and the failure, so the other
                // writer often comes in between.
                for p in 0..6 {
                    batch.write(format!("pad{p}/p"), b"pad").unwrap();
                }
                batch.write("v/under", b"fails").unwrap();
                assert!(matches!(s.apply(&batch), Err(Error::NotAGroup { .. })));
                failed += 1;
            }
            failed
        })
    };
    let writer = {
        let s = shared.clone();
        std::thread::spawn(move || {
            let mut last = [None, None];
            let mut clobbered = 0;
            let mut i = 0u64;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(2) {
                let (slot, path) = if i.is_multiple_of(2) {
                    (0, "shared/x")
                } else {
                    (1, "other/y")
                };
                let value = format!("writer {i}");
                s.write(path, value.as_bytes()).unwrap();
                // Read back: this write, or the batch's over it; never an
                // older write of this client put back by an undo.
                let seen = s.read(path).unwrap();
                if seen.as_deref() != Some(value.as_bytes()) && seen.as_deref() != Some(b"batch") {
                    clobbered += 1;
                }
                last[slot] = Some(value.into_bytes());
                i += 1;
            }
            (last, clobbered)
        })
    };
    let failed = batcher.join().unwrap();
    let ([x, y], clobbered) = writer.join().unwrap();
    assert_eq!(
        clobbered, 0,
        "an undo put back an older write over a newer one"
    );
    assert!(failed > 10, "the batch ran: {failed} times");
    assert_eq!(
        shared.read("shared/x").unwrap(),
        x,
        "the writer's last write stays"
    );
    assert_eq!(
        shared.read("other/y").unwrap(),
        y,
        "the writer's last write stays"
    );
    let report = shared.check().unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
}

#[test]
fn a_tree_thousands_of_levels_deep_is_deleted_whole() {
    // A path of 2,000 levels (4 KiB). Deleting it recursively must
    // not take a stack frame per level (a dirty scheduler's stack is
    // small), nor give up because the tree is large.
    let s = store();
    let depth = 2_000;
    let deep = vec!["d"; depth].join("/");
    s.write(deep.as_str(), b"bottom").unwrap();
    s.write("d/side/value", b"beside").unwrap();
    let deleted = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn_scoped(scope, || s.delete_recursive("d"))
            .unwrap()
            .join()
            .expect("no stack overflow")
    });
    assert!(deleted.unwrap());
    assert_eq!(s.list("").unwrap(), Some(Vec::new()));
    assert!(s.check().expect("check").is_sound());
}
