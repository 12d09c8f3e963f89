//! The shared cluster, and a store per test in a namespace of its own.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use hbstore::Store;
use hbstore_cluster::{ClusterStore, Options};
use hbstore_testkit::LocalCluster;

/// The cluster every test of this binary shares, started on first use; its
/// servers stop when the test process ends.
pub fn cluster() -> &'static LocalCluster {
    static CLUSTER: OnceLock<LocalCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        LocalCluster::start()
            .expect("a local Redis cluster (redis-server and redis-cli, which ./dev test installs)")
    })
}

/// A namespace no other test uses.
pub fn namespace() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store in a namespace of its own on the shared cluster, emptied when
/// dropped.
pub struct TestStore(pub ClusterStore);

impl std::ops::Deref for TestStore {
    type Target = ClusterStore;

    fn deref(&self) -> &ClusterStore {
        &self.0
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let _ = self.0.reset();
    }
}

pub fn store() -> TestStore {
    store_with(Options::default())
}

pub fn store_with(options: Options) -> TestStore {
    let options = options.namespace(namespace());
    TestStore(ClusterStore::open(&cluster().address(), options).expect("open a cluster store"))
}
