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
//! Two locks, for two jobs, so that a call on an open store never waits
//! for another store's open or close:
//! - the **name map** is only looked up, and changed by inserting or
//!   removing one entry: nothing slow ever runs under it (not an open, not
//!   a close), so a lookup waits at most for one map operation;
//! - each name has a **lifecycle lock**, held for the whole of that name's
//!   open or close (a WAL replay, a format upgrade, a cluster connect that
//!   waits out its deadline, a memtable flush at close). Opens and closes
//!   of one name are serialised by it, so a store being closed is closed
//!   before it is opened again (RocksDB allows one handle per directory in
//!   a process); other names go on meanwhile.
//!
//! A call holds its store through an `Arc` for its length; `close` removes
//! the name first (later calls find it closed), then waits, on its own
//! dirty scheduler, for the calls in flight to let go before it drops the
//! store. No call ever waits for `close`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use hbstore::{Options, RocksStore};
use hbstore_cluster::ClusterStore;

use crate::any::AnyStore;

/// One open store, shared by the calls in flight on it.
pub struct Shared {
    store: AnyStore,
    opened_with: Settings,
}

/// What a store was opened with, as the Erlang store message gave it: a
/// second open of the same name must ask for the same, or be refused (the
/// first opener's options would otherwise win, silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settings {
    /// An embedded store.
    Embedded {
        /// Opened without the writer's lock.
        read_only: bool,
        /// What an acknowledged write survives.
        durability: hbstore::Durability,
        /// The compression, by name.
        compression: &'static str,
        /// The block cache asked for (`None`: its share of the budget).
        block_cache_bytes: Option<u64>,
        /// The memory budget asked for (`None`: the default).
        memory_budget: Option<u64>,
    },
    /// A store on a Redis cluster.
    Cluster {
        /// The address as given (with its password: compared, never shown).
        address: String,
        /// Replicas each write waits for.
        replicas: u32,
        /// The deadline asked for, in milliseconds (`None`: the default).
        deadline_ms: Option<u64>,
    },
}

impl Settings {
    /// The settings in which `self` and `other` differ, in words (a
    /// cluster's address is never spelled out: it may hold a password).
    pub fn differences(&self, other: &Settings) -> Vec<String> {
        use Settings::{Cluster, Embedded};
        let mut found = Vec::new();
        let differ = |found: &mut Vec<String>, name: &str, a: String, b: String| {
            if a != b {
                found.push(format!("{name}: open with {a}, asked for {b}"));
            }
        };
        match (self, other) {
            (
                Embedded {
                    read_only,
                    durability,
                    compression,
                    block_cache_bytes,
                    memory_budget,
                },
                Embedded {
                    read_only: r,
                    durability: s,
                    compression: c,
                    block_cache_bytes: b,
                    memory_budget: m,
                },
            ) => {
                differ(
                    &mut found,
                    "read-only",
                    read_only.to_string(),
                    r.to_string(),
                );
                differ(&mut found, "durability", describe(durability), describe(s));
                differ(
                    &mut found,
                    "compression",
                    compression.to_string(),
                    c.to_string(),
                );
                differ(
                    &mut found,
                    "block-cache-bytes",
                    format!("{block_cache_bytes:?}"),
                    format!("{b:?}"),
                );
                differ(
                    &mut found,
                    "memory-budget",
                    format!("{memory_budget:?}"),
                    format!("{m:?}"),
                );
            }
            (
                Cluster {
                    address,
                    replicas,
                    deadline_ms,
                },
                Cluster {
                    address: a,
                    replicas: r,
                    deadline_ms: d,
                },
            ) => {
                if address != a {
                    found.push("cluster: open on another address".to_owned());
                }
                differ(&mut found, "replicas", replicas.to_string(), r.to_string());
                differ(
                    &mut found,
                    "deadline-ms",
                    format!("{deadline_ms:?}"),
                    format!("{d:?}"),
                );
            }
            (Embedded { .. }, Cluster { .. }) => {
                found.push("open as a directory, asked for a cluster".to_owned())
            }
            (Cluster { .. }, Embedded { .. }) => {
                found.push("open on a cluster, asked for a directory".to_owned())
            }
        }
        found
    }

    /// Whether every write to a store opened so waits for a disk's fsync.
    fn syncs(&self) -> bool {
        matches!(
            self,
            Settings::Embedded {
                durability: hbstore::Durability::Sync,
                ..
            }
        )
    }
}

/// A durability as the store message spells it.
fn describe(durability: &hbstore::Durability) -> String {
    match durability {
        hbstore::Durability::Buffered { flush_every } => {
            format!("buffered (flush-ms {})", flush_every.as_millis())
        }
        other => other.name().to_owned(),
    }
}

/// Why a store could not be used.
pub enum Unusable {
    /// No store of that name is open (never opened, or closed by `stop`).
    NotOpen(PathBuf),
    /// Opening failed.
    Open(hbstore::Error),
    /// A store of that name is open with other settings.
    OtherSettings(PathBuf, Vec<String>),
}

/// Open stores by their name's bytes, hashed with foldhash (seeded per
/// process): every call looks its store up, and hashing a `PathBuf`
/// (component by component, with SipHash) cost more than the rest of the
/// look-up.
type Names = RwLock<HashMap<Box<[u8]>, Arc<Shared>, foldhash::fast::RandomState>>;

/// The bytes a store's name is looked up by.
fn key(dir: &Path) -> &[u8] {
    dir.as_os_str().as_encoded_bytes()
}

fn names() -> &'static Names {
    static NAMES: LazyLock<Names> = LazyLock::new(Names::default);
    &NAMES
}

/// The lifecycle lock of `name`, held while it is opened or closed. The
/// map of these locks only grows (one small entry per name ever opened).
fn lifecycle(name: &Path) -> Arc<Mutex<()>> {
    static LOCKS: LazyLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = LazyLock::new(Mutex::default);
    let mut locks = LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    locks.entry(name.to_path_buf()).or_default().clone()
}

fn hold(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The open store named `dir`. Waits for nothing but one map lookup.
pub fn find(dir: &Path) -> Result<Arc<Shared>, Unusable> {
    let open = names().read().unwrap_or_else(PoisonError::into_inner);
    open.get(key(dir))
        .cloned()
        .ok_or_else(|| Unusable::NotOpen(dir.to_path_buf()))
}

/// Opens the store in `dir` with `options`, unless it is open already with
/// the same `settings` (with others: `OtherSettings`).
pub fn open(dir: &Path, options: Options, settings: Settings) -> Result<(), Unusable> {
    open_with(dir, settings, || {
        RocksStore::open(dir, options).map(AnyStore::Embedded)
    })
}

/// Opens the cluster store at `address` under `name`, unless a store of
/// that name is open already with the same `settings`.
pub fn open_cluster(
    name: &Path,
    address: &str,
    options: hbstore_cluster::Options,
    settings: Settings,
) -> Result<(), Unusable> {
    open_with(name, settings, || {
        ClusterStore::open(address, options).map(AnyStore::Cluster)
    })
}

fn open_with(
    dir: &Path,
    settings: Settings,
    opener: impl FnOnce() -> hbstore::Result<AnyStore>,
) -> Result<(), Unusable> {
    let lifecycle = lifecycle(dir);
    let _opening = hold(&lifecycle);
    if let Ok(open) = find(dir) {
        let differences = open.opened_with.differences(&settings);
        if differences.is_empty() {
            return Ok(());
        }
        return Err(Unusable::OtherSettings(dir.to_path_buf(), differences));
    }
    // The slow part, under this name's lifecycle lock only.
    let store = opener().map_err(Unusable::Open)?;
    let shared = Arc::new(Shared {
        store,
        opened_with: settings,
    });
    names()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key(dir).into(), shared);
    Ok(())
}

/// Closes the store named `dir`, after the calls in flight on it; later
/// calls find it closed. Returns once the database is closed.
pub fn close(dir: &Path) {
    let lifecycle = lifecycle(dir);
    let _closing = hold(&lifecycle);
    let removed = names()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(key(dir));
    let Some(mut shared) = removed else {
        return;
    };
    // The calls in flight hold clones; each lets go when it returns.
    loop {
        match Arc::try_unwrap(shared) {
            Ok(last) => {
                drop(last);
                return;
            }
            Err(still_used) => {
                shared = still_used;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

impl Shared {
    /// The open store.
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// Whether a write must go to a dirty scheduler whatever it is: the
    /// store fsyncs every write, or waits on the network.
    pub fn writes_wait(&self) -> bool {
        self.opened_with.syncs() || matches!(self.store, AnyStore::Cluster(_))
    }
}
