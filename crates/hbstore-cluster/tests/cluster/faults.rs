//! Faults, on clusters of their own: a primary killed under concurrent
//! writes, slots migrated under load, a cluster that is down or a node
//! that never answers. Acknowledged writes must survive what the options
//! promise, the layout must stay sound, and nothing may hang.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hbstore::Store;
use hbstore_cluster::{ClusterStore, Options};
use hbstore_testkit::LocalCluster;

fn open(cluster: &LocalCluster, options: Options) -> Arc<ClusterStore> {
    Arc::new(ClusterStore::open(&cluster.address(), options).expect("open"))
}

/// What one writer thread did: the (path, value) of every acknowledged
/// write, and how many writes failed.
type Written = (Vec<(String, Vec<u8>)>, usize);

/// Writers on `threads` threads, each into groups of its own, until
/// `stop`; returns every (path, value) whose write was acknowledged, and
/// how many writes failed.
fn write_until(
    store: &Arc<ClusterStore>,
    threads: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Written>> {
    (0..threads)
        .map(|t| {
            let store = store.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut failed = 0;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // New messages (a group each) and fields into them.
                    let path = format!("w{t}/m{}/f{}", i / 4, i % 4);
                    let value = format!("{t}:{i}").into_bytes();
                    match store.write(path.as_str(), &value) {
                        Ok(()) => acknowledged.push((path, value)),
                        Err(_) => failed += 1,
                    }
                    i += 1;
                }
                (acknowledged, failed)
            })
        })
        .collect()
}

/// The writers' acknowledged writes, all together, and their failures.
fn joined(writers: Vec<std::thread::JoinHandle<Written>>) -> Written {
    let mut acknowledged = Vec::new();
    let mut failed = 0;
    for writer in writers {
        let (a, f) = writer.join().expect("writer thread");
        acknowledged.extend(a);
        failed += f;
    }
    (acknowledged, failed)
}

#[test]
fn a_killed_primary_loses_no_write_that_waited_for_its_replica() {
    let cluster = LocalCluster::start().expect("a local cluster");
    let store = open(
        &cluster,
        Options::default()
            .replicas(1)
            .deadline(Duration::from_secs(30)),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers = write_until(&store, 4, &stop);
    std::thread::sleep(Duration::from_millis(1500));

    // The primary of the group the first writer fills.
    let victim = cluster
        .primary_of(&hbstore_cluster::Layout::new("hb").entries("w0"))
        .expect("who serves w0");
    cluster.kill(victim).expect("kill -9 a primary");
    let killed_at = Instant::now();
    cluster
        .wait_healthy(Duration::from_secs(30))
        .expect("the replica takes over");
    let failover = killed_at.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);

    let (acknowledged, failed) = joined(writers);
    eprintln!(
        "failover in {failover:?}: {} writes acknowledged, {failed} failed, {:?}",
        acknowledged.len(),
        store.redirects()
    );
    assert!(
        acknowledged.len() > 100,
        "writes went on: {}",
        acknowledged.len()
    );
    assert!(store.redirects().retries > 0, "the client met the failover");
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|(path, value)| store.read(path.as_str()).ok().flatten().as_ref() != Some(value))
        .map(|(path, _)| path)
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let report = store.check().expect("check after the failover");
    assert!(report.is_sound(), "{:?}", report.problems);
}

#[test]
fn slots_migrating_under_load_are_followed_and_nothing_is_lost() {
    let cluster = LocalCluster::start_with(3, 0).expect("a local cluster");
    let store = open(&cluster, Options::default());
    let stop = Arc::new(AtomicBool::new(false));
    let writers = write_until(&store, 3, &stop);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (store, stop, errors) = (store.clone(), stop.clone(), errors.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for t in 0..3 {
                    if let Err(e) = store.list(format!("w{t}").as_str()) {
                        errors.lock().unwrap().push(e.to_string());
                    }
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let ports = cluster.ports().to_vec();
    // A third of the slots go from one primary to another, then back half.
    cluster.reshard(ports[0], ports[1], 2000).expect("reshard");
    cluster
        .reshard(ports[1], ports[2], 1000)
        .expect("reshard back");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, failed) = joined(writers);
    reader.join().expect("reader");
    let redirects = store.redirects();
    eprintln!(
        "{} writes during resharding, {redirects:?}",
        acknowledged.len()
    );
    assert_eq!(failed, 0, "no write fails while slots move");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    assert!(
        redirects.moved > 0,
        "the client followed MOVED: {redirects:?}"
    );
    for (path, value) in &acknowledged {
        assert_eq!(
            store.read(path.as_str()).unwrap().as_ref(),
            Some(value),
            "{path}"
        );
    }
    let report = store.check().expect("check");
    assert!(report.is_sound(), "{:?}", report.problems);
}

#[test]
fn a_cluster_that_is_down_is_an_error_within_the_deadline() {
    let cluster = LocalCluster::start_with(3, 0).expect("a local cluster");
    let deadline = Duration::from_secs(2);
    let store = open(&cluster, Options::default().deadline(deadline));
    store.write("a/b", b"1").unwrap();
    for &port in cluster.ports() {
        cluster.kill(port).expect("kill");
    }
    for attempt in [
        Box::new(|| store.read("a/b").map(drop)) as Box<dyn Fn() -> hbstore::Result<()>>,
        Box::new(|| store.write("a/c", b"2")),
        Box::new(|| store.list("a").map(drop)),
    ] {
        let started = Instant::now();
        let error = attempt().expect_err("a dead cluster answers nothing");
        let took = started.elapsed();
        assert!(
            took < deadline + Duration::from_secs(3),
            "gave up after {took:?}"
        );
        let message = error.to_string();
        assert!(message.contains("no answer from the cluster"), "{message}");
    }
}

#[test]
fn nobody_listening_or_a_node_that_never_answers_is_an_error_not_a_hang() {
    // Nothing on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut options = Options::default().deadline(Duration::from_secs(1));
    options.timeouts.reply = Duration::from_millis(300);
    let started = Instant::now();
    let e = ClusterStore::open(&format!("redis://127.0.0.1:{port}"), options.clone()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains(&port.to_string()), "{e}");

    // A socket that accepts and then says nothing.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = Instant::now();
    let e = ClusterStore::open(&format!("127.0.0.1:{port}"), options).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains("no answer"), "{e}");
    drop(silent);
}

#[test]
fn a_cluster_asking_for_a_password_gets_it_and_a_wrong_one_is_refused_at_once() {
    let cluster =
        LocalCluster::start_with_password(3, "s3cret:with@signs").expect("a local cluster");
    let address = cluster.address();
    assert!(address.contains(":s3cret:with@signs@"), "{address}");
    let store = ClusterStore::open(&address, Options::default()).expect("open with the password");
    store.write("m/id/body", b"hello").unwrap();
    store.make_link("m/id", "latest").unwrap();
    assert_eq!(store.read("latest/body").unwrap(), Some(b"hello".to_vec()));
    assert!(store.check().unwrap().is_sound());
    // redis-cli authenticates too: slots move, and the data follows.
    let ports = cluster.ports().to_vec();
    cluster
        .reshard(ports[0], ports[1], 100)
        .expect("reshard with the password");
    assert_eq!(store.read("latest/body").unwrap(), Some(b"hello".to_vec()));

    let hosts = address
        .rsplit_once('@')
        .map(|(_, hosts)| hosts.to_owned())
        .unwrap();
    for (wrong, says) in [
        (format!("redis://:nope@{hosts}"), "authentication refused"),
        (format!("redis://{hosts}"), "NOAUTH"),
    ] {
        let started = Instant::now();
        let e = ClusterStore::open(&wrong, Options::default())
            .expect_err(&wrong)
            .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(e.contains(says), "{e}");
        assert!(
            !e.contains("nope") && !e.contains("s3cret"),
            "no password in {e}"
        );
    }
    assert_eq!(
        hbstore_cluster::redacted(&address),
        format!("redis://:***@{hosts}")
    );
}

/// The port of the primary serving `group`'s keys in namespace `ns`
/// (every key of a group shares the hash tag `{NS:GROUP}`).
fn primary_of_group(cluster: &LocalCluster, ns: &str, group: &str) -> u16 {
    cluster
        .primary_of(format!("{{{ns}:{group}}}").as_bytes())
        .expect("the slot's primary")
}

/// Holds every write sent to the node on `port` for `millis`, answering
/// none meanwhile (`CLIENT PAUSE ... WRITE`: every step that changes the
/// store is a script that may write): a node that is up but silent. Reads
/// still answer, so the pause can be lifted early.
fn silence(cluster: &LocalCluster, port: u16, millis: u64) {
    let pause = hbstore_cluster::Cmd::new("CLIENT")
        .arg("PAUSE")
        .arg(millis.to_string())
        .arg("WRITE");
    cluster.ask(port, &pause).expect("CLIENT PAUSE");
}

fn unsilence(cluster: &LocalCluster, port: u16) {
    let unpause = hbstore_cluster::Cmd::new("CLIENT").arg("UNPAUSE");
    cluster.ask(port, &unpause).expect("CLIENT UNPAUSE");
}

#[test]
fn a_batch_on_a_silent_cluster_fails_within_one_deadline() {
    let cluster = LocalCluster::start_with(3, 0).expect("a local cluster");
    let deadline = Duration::from_secs(2);
    let store = open(&cluster, Options::default().deadline(deadline));
    for i in 0..12 {
        store.make_group(format!("g{i}")).unwrap();
    }
    // Every node silent (not down: a socket that accepts and never
    // answers, the way a partitioned host behaves), for longer than the
    // reply timeout (5 s): a call that trusted its own timeouts would wait
    // that out, and again for every step of the undo.
    for &port in cluster.ports() {
        silence(&cluster, port, 15_000);
    }
    let mut batch = hbstore::Batch::new();
    for i in 0..12 {
        batch.write(format!("g{i}/new"), b"v").unwrap();
    }
    let started = Instant::now();
    let e = store
        .apply(&batch)
        .expect_err("a silent cluster answers nothing");
    let took = started.elapsed();
    for &port in cluster.ports() {
        unsilence(&cluster, port);
    }
    assert!(
        took < deadline + Duration::from_millis(500),
        "gave up after {took:?}: {e}"
    );
    for i in 0..12 {
        assert_eq!(store.read(format!("g{i}/new")).unwrap(), None);
    }
    assert!(store.check().expect("check").is_sound());
}

#[test]
fn a_batch_failing_on_one_silent_node_is_undone_within_the_same_deadline() {
    let cluster = LocalCluster::start_with(3, 0).expect("a local cluster");
    let deadline = Duration::from_secs(3);
    let store = open(
        &cluster,
        Options::default().namespace("undo").deadline(deadline),
    );
    // Groups on the node to silence, and on the others.
    let mut quiet = None;
    let mut loud = Vec::new();
    let silent_port = cluster.ports()[0];
    for i in 0..200 {
        let group = format!("g{i}");
        store.make_group(group.as_str()).unwrap();
        if primary_of_group(&cluster, "undo", &group) == silent_port {
            quiet.get_or_insert(group);
        } else if loud.len() < 8 {
            loud.push(group);
        }
    }
    let quiet = quiet.expect("a group on the node to silence");
    // The batch writes into the loud groups first, then the quiet one.
    let mut batch = hbstore::Batch::new();
    for group in &loud {
        batch.write(format!("{group}/new"), b"v").unwrap();
    }
    batch.write(format!("{quiet}/new"), b"v").unwrap();
    silence(&cluster, silent_port, 15_000);
    let started = Instant::now();
    let e = store.apply(&batch).expect_err("one node never answers");
    let took = started.elapsed();
    unsilence(&cluster, silent_port);
    assert!(
        took < deadline + Duration::from_millis(500),
        "gave up after {took:?}: {e}"
    );
    assert!(
        !e.to_string().contains("partly applied"),
        "the undo had time left: {e}"
    );
    for group in loud.iter().chain([&quiet]) {
        assert_eq!(
            store.read(format!("{group}/new")).unwrap(),
            None,
            "{group}/new was undone"
        );
    }
    assert!(store.check().expect("check").is_sound());
}
