//! The open stores, by name: the registry every NIF call goes through.
//!
//! Erlang names a store by its directory (`name` in the store message; for
//! a store on a cluster, `name` or else the cluster's address) in every
//! call; no handle to a store ever lives in an Erlang term. That is
//! deliberate: `hb_store` keeps each store's instance message in
//! `persistent_term`, and on OTP 25 a NIF resource kept there was freed
//! while still referenced (a handle fetched from `persistent_term`, the
//! entry erased, a garbage collection: then a call on the handle crashed
//! the VM, 3 runs in 8). With the registry here, a store lives from its
//! `open` to its `close` (`stop`), whatever the VM does with terms.
//!
//! Every open and every close goes through the registry's lock, and every
//! close runs on one thread of this library's own, so no two databases are
//! ever opened or closed at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock, RwLockReadGuard};

use hbstore::{Options, RocksStore};
use hbstore_cluster::ClusterStore;

use crate::any::AnyStore;

/// One open store, shared by the calls in flight on it.
pub struct Shared {
    dir: PathBuf,
    store: RwLock<Option<AnyStore>>,
}

/// Why a store could not be used.
pub enum Unusable {
    /// No store of that name is open (never opened, or closed by `stop`).
    NotOpen(PathBuf),
    /// Opening failed.
    Open(hbstore::Error),
}

type Registry = RwLock<HashMap<PathBuf, Arc<Shared>>>;

fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);
    &REGISTRY
}

/// The open store named `dir`.
pub fn find(dir: &Path) -> Result<Arc<Shared>, Unusable> {
    let open = registry().read().unwrap_or_else(PoisonError::into_inner);
    open.get(dir)
        .cloned()
        .ok_or_else(|| Unusable::NotOpen(dir.to_path_buf()))
}

/// Opens the store in `dir` with `options`, unless it is open already
/// (then it stays as it is, whatever `options` say).
pub fn open(dir: &Path, options: Options) -> Result<(), Unusable> {
    open_with(dir, || {
        RocksStore::open(dir, options).map(AnyStore::Embedded)
    })
}

/// Opens the cluster store at `address` under `name`, unless a store of
/// that name is open already.
pub fn open_cluster(
    name: &Path,
    address: &str,
    options: hbstore_cluster::Options,
) -> Result<(), Unusable> {
    open_with(name, || {
        ClusterStore::open(address, options).map(AnyStore::Cluster)
    })
}

fn open_with(
    dir: &Path,
    opener: impl FnOnce() -> hbstore::Result<AnyStore>,
) -> Result<(), Unusable> {
    let mut open = registry().write().unwrap_or_else(PoisonError::into_inner);
    if open.contains_key(dir) {
        return Ok(());
    }
    let store = opener().map_err(Unusable::Open)?;
    open.insert(
        dir.to_path_buf(),
        Arc::new(Shared {
            dir: dir.to_path_buf(),
            store: RwLock::new(Some(store)),
        }),
    );
    Ok(())
}

/// Closes the store named `dir`, after the calls in flight on it; later
/// calls find it closed. Returns once the database is closed.
pub fn close(dir: &Path) {
    let shared = registry()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(dir);
    let Some(shared) = shared else {
        return;
    };
    let taken = shared
        .store
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(store) = taken {
        let (done, closed) = mpsc::channel();
        close_on_lifecycle_thread(store, done);
        let _ = closed.recv();
    }
}

/// A store to close, and whom to tell when it is closed.
type Closing = (AnyStore, Sender<()>);

/// Closes a store on the lifecycle thread, one at a time, under the
/// registry's lock (so that no open runs meanwhile).
fn close_on_lifecycle_thread(store: AnyStore, done: Sender<()>) {
    static LIFECYCLE: LazyLock<Mutex<Option<Sender<Closing>>>> = LazyLock::new(|| {
        let (tx, rx) = mpsc::channel::<Closing>();
        let started = std::thread::Builder::new()
            .name("hbstore-lifecycle".to_owned())
            .spawn(move || {
                for (store, done) in rx {
                    close_now(store);
                    let _ = done.send(());
                }
            });
        Mutex::new(started.ok().map(|_| tx))
    });
    let sender = LIFECYCLE.lock().unwrap_or_else(PoisonError::into_inner);
    let unsent = match sender.as_ref() {
        Some(tx) => tx.send((store, done)).err().map(|e| e.0),
        None => Some((store, done)),
    };
    drop(sender);
    // No lifecycle thread (it could not start): close here instead.
    if let Some((store, done)) = unsent {
        close_now(store);
        let _ = done.send(());
    }
}

fn close_now(store: AnyStore) {
    let _no_open_meanwhile = registry().write().unwrap_or_else(PoisonError::into_inner);
    drop(store);
}

impl Shared {
    /// The open store, for the length of one call; `NotOpen` if it was
    /// closed while this call looked it up.
    pub fn store(&self) -> Result<StoreGuard<'_>, Unusable> {
        let guard = self.store.read().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            return Err(Unusable::NotOpen(self.dir.clone()));
        }
        Ok(StoreGuard(guard))
    }
}

/// An open store, borrowed for one call.
pub struct StoreGuard<'a>(RwLockReadGuard<'a, Option<AnyStore>>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = AnyStore;

    fn deref(&self) -> &AnyStore {
        self.0
            .as_ref()
            .expect("a StoreGuard is only made for an open store")
    }
}
