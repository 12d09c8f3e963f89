//! `hbstore --cluster`: every command on a store in a real local Redis
//! cluster (six `redis-server` processes on 127.0.0.1, started here), the
//! same answers as on an embedded store, copies both ways, a copy killed
//! mid-way, and hostile addresses.

use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use hbstore_testkit::LocalCluster;

mod support;

use support::{command, run_on, Run};

fn cluster() -> &'static LocalCluster {
    static CLUSTER: OnceLock<LocalCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        LocalCluster::start().expect("a local Redis cluster (./dev test installs redis-server)")
    })
}

/// The address of a namespace of its own on the shared cluster.
fn address(name: &str) -> String {
    format!("{}/{name}-{}", cluster().address(), std::process::id())
}

/// `hbstore --cluster ADDRESS ARGS`.
fn on_cluster(address: &str, args: &[&str]) -> Run {
    run_on(&["--cluster", address], args, None)
}

/// `hbstore --db DB ARGS`.
fn on_db(db: &Path, args: &[&str]) -> Run {
    support::run(db, args, None)
}

fn ok(run: Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    run.text()
}

/// Commands that end the same on any store, as (args, expected exit code).
const SCRIPT: &[(&[&str], i32)] = &[
    (&["put", "messages/m1/body", "hello"], 0),
    (&["put", "messages/m1/slot", "1"], 0),
    (&["put", "messages/m2/body", "world"], 0),
    (&["mkgroup", "empty/group"], 0),
    (&["link", "messages/m1", "latest"], 0),
    (&["link", "data/h1", "messages/m1/ref"], 0),
    (&["link", "data/h1", "messages/m2/ref"], 0),
    (&["put", "data/h1", "content"], 0),
    (&["get", "latest/body"], 0),
    (&["get", "messages/m1/ref"], 0),
    (&["get", "nothing/here"], 1),
    (&["get", "messages"], 1),
    (&["type", "latest"], 0),
    (&["type", "latest/body", "--json"], 0),
    (&["resolve", "latest/slot"], 0),
    (&["ls"], 0),
    (&["ls", "-l", "messages/m1"], 0),
    (&["ls", "messages", "--from", "m2", "--json"], 0),
    (&["ls", "messages", "--reverse", "--limit", "1"], 0),
    (&["ls", "messages/m1/body"], 3),
    (&["tree"], 0),
    (&["tree", "messages", "--depth", "1", "--json"], 0),
    (&["match", "ref=data/h1"], 0),
    (&["match", "ref=data/h1", "body=x"], 1),
    (&["put", "messages/m1/body/below", "x"], 3),
    (&["put", "messages", "x"], 3),
    (&["link", "x", "messages/m1"], 3),
    (&["link", "data/h1", "messages/m2/body"], 0),
    (&["get", "messages/m2/body"], 0),
    (&["link", "latest", "messages/m2/ref"], 0),
    (&["resolve", "messages/m2/ref"], 0),
    (&["put", "messages/m2/ref", "inline now"], 0),
    (&["get", "messages/m2/ref"], 0),
    (&["rm", "messages/m1"], 3),
    (&["rm", "latest"], 0),
    (&["rm", "-r", "messages/m2"], 0),
    (&["get", "bad/../path"], 2),
    (&["tree"], 0),
];

#[test]
fn every_contract_command_answers_on_a_cluster_as_on_an_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let url = address("script");
    for (args, code) in SCRIPT {
        let embedded = on_db(&db, args);
        let clustered = on_cluster(&url, args);
        assert_eq!(
            embedded.code, *code,
            "{args:?} on --db: {}",
            embedded.stderr
        );
        assert_eq!(
            clustered.code, *code,
            "{args:?} on --cluster: {}",
            clustered.stderr
        );
        assert_eq!(
            clustered.text(),
            embedded.text(),
            "{args:?}: the same output"
        );
        assert_eq!(
            clustered.stderr.is_empty(),
            embedded.stderr.is_empty(),
            "{args:?}"
        );
    }
    // Values from standard input, bytes exact.
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(
        run_on(&["--cluster", &url], &["put", "bin"], Some(&bytes)).code,
        0
    );
    assert_eq!(on_cluster(&url, &["get", "bin"]).stdout, bytes);

    let check = ok(on_cluster(&url, &["check"]), "check");
    assert!(check.contains("0 problems"), "{check}");
    let stats = on_cluster(&url, &["stats", "--json"]).json();
    assert_eq!(stats["values"], 4, "{stats}");
    assert_eq!(stats["exact"], true);
    let prometheus = ok(
        on_cluster(&url, &["stats", "--prometheus"]),
        "stats --prometheus",
    );
    let parsed = hbstore_testkit::exposition::parse_exposition(&prometheus)
        .unwrap_or_else(|e| panic!("{e}\n{prometheus}"));
    assert_eq!(
        hbstore_testkit::exposition::sample(&parsed, "hbstore_entries", &[("kind", "value")]),
        Some(4.0),
        "{prometheus}"
    );
    let demo = ok(on_cluster(&url, &["demo"]), "demo");
    assert!(
        demo.contains(&format!("hbstore --cluster {url} ls -l demo")),
        "{demo}"
    );
    assert!(demo.contains("5 groups, 9 values, 6 links"), "{demo}");
}

#[test]
fn file_commands_say_they_need_an_embedded_store() {
    let url = address("files");
    for args in [
        &["backup", "/tmp/x"][..],
        &["compact"],
        &["gc"],
        &["upgrade"],
    ] {
        let run = on_cluster(&url, args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(
            run.stderr.contains("embedded store"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn copies_go_both_ways_and_come_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    for args in [
        &["demo"][..],
        &["put", "a/b/c", "deep"],
        &["mkgroup", "empty"],
        &["link", "a/b", "a/alias"],
        &["link", "nowhere", "dangling"],
    ] {
        ok(on_db(&db, args), "fill");
    }
    let tree = ok(on_db(&db, &["tree", "--json"]), "tree");

    // Embedded to cluster, with `import --from hbstore`.
    let url = address("copy");
    let db_text = db.to_str().unwrap();
    let imported = on_cluster(&url, &["import", "--from", "hbstore", db_text, "--json"]).json();
    assert_eq!(
        imported["warnings"].as_array().map(Vec::len),
        Some(0),
        "{imported}"
    );
    assert_eq!(ok(on_cluster(&url, &["tree", "--json"]), "tree"), tree);

    // Cluster to embedded, with `export --to hbstore` and `import --from cluster`.
    let back = dir.path().join("back");
    ok(
        on_cluster(&url, &["export", "--to", "hbstore", back.to_str().unwrap()]),
        "export",
    );
    assert_eq!(ok(on_db(&back, &["tree", "--json"]), "tree"), tree);
    let again = dir.path().join("again");
    ok(
        on_db(&again, &["import", "--from", "cluster", &url]),
        "import --from cluster",
    );
    assert_eq!(ok(on_db(&again, &["tree", "--json"]), "tree"), tree);

    // Embedded to another namespace, with `export --to cluster`.
    let other = address("copy-other");
    ok(
        on_db(&db, &["export", "--to", "cluster", &other]),
        "export --to cluster",
    );
    assert_eq!(ok(on_cluster(&other, &["tree", "--json"]), "tree"), tree);
    // Again: the same store, nothing new.
    ok(
        on_db(&db, &["export", "--to", "cluster", &other]),
        "export again",
    );
    assert_eq!(ok(on_cluster(&other, &["tree", "--json"]), "tree"), tree);
}

#[test]
fn a_copy_killed_mid_way_leaves_a_sound_store_and_finishes_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    {
        let store = hbstore::RocksStore::open(&db, hbstore::Options::default()).unwrap();
        // Enough that an import takes seconds on a fast machine, so that
        // the kills below land mid-way.
        let mut batch = hbstore::Batch::new();
        for m in 0..15_000 {
            for f in 0..4 {
                batch
                    .write(format!("m{m}/f{f}"), format!("{m}.{f}").as_bytes())
                    .unwrap();
            }
            batch.make_link(format!("m{m}"), format!("by/{m}")).unwrap();
        }
        hbstore::Store::apply(&store, &batch).unwrap();
    }
    let url = address("killed");
    let mut partial = Vec::new();
    for delay in [200, 500, 1000] {
        let mut child = command(None)
            .args([
                "--cluster",
                &url,
                "import",
                "--from",
                "hbstore",
                db.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let check = on_cluster(&url, &["check", "--json"]).json();
        assert_eq!(check["sound"], true, "after a kill at {delay} ms: {check}");
        eprintln!("killed at {delay} ms: {} values so far", check["values"]);
        partial.push(check["values"].as_u64().unwrap_or(0));
    }
    // Killed mid-way: some of it had landed, not all of it.
    assert!(partial.iter().any(|&v| v > 0 && v < 60_000), "{partial:?}");
    ok(
        on_cluster(&url, &["import", "--from", "hbstore", db.to_str().unwrap()]),
        "import",
    );
    assert_eq!(
        ok(on_cluster(&url, &["tree", "--json"]), "tree"),
        ok(on_db(&db, &["tree", "--json"]), "tree")
    );
}

#[test]
fn hostile_cluster_addresses_are_usage_errors_and_silence_is_a_failure() {
    for bad in [
        "",
        "local",
        "redis://",
        "http://127.0.0.1:7000",
        "127.0.0.1:99999",
        "h:1/bad{ns}",
    ] {
        let run = run_on(&["--cluster", bad], &["ls"], None);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("cluster address"),
            "{bad:?}: {}",
            run.stderr
        );
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let started = std::time::Instant::now();
    let run = run_on(
        &["--cluster", &format!("127.0.0.1:{port}"), "--deadline", "1"],
        &["ls"],
        None,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("no answer from the cluster"),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let run = run_on(&["--replicas", "1"], &["ls"], None);
    assert_eq!(run.code, 2, "--replicas needs --cluster: {}", run.stderr);
}
