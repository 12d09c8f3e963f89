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
//! A call holds its store for its length; `close` empties the name's slot
//! first (later calls find it closed), then waits, on its own dirty
//! scheduler, for the calls in flight to let go before it drops the store.
//! No call ever waits for `close`.
//!
//! # A look-up that writes nothing shared
//!
//! Each name has a slot, made on its first open and kept for the life of
//! the VM (one small entry per name ever opened), holding the open store
//! or nothing. Each scheduler thread keeps the slots it has looked up in a
//! map of its own, so a call finds its slot without a lock; it then loads
//! the store from the slot with `arc-swap`, which records the load in a
//! slot of the calling thread instead of counting a reference in the
//! store's `Arc`. A call on one scheduler thus writes no cache line that
//! a call on another reads: with a lock and a reference count per call
//! (how this registry began), the two schedulers of a 2-core machine took
//! turns on those two lines, and four processes read 1.45-1.56 times what
//! one did (HyperBEAM's LMDB NIF, 1.64-1.67).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use arc_swap::{ArcSwapOption, Guard};
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

/// A name's place in the registry, for the life of the VM.
#[derive(Default)]
struct Slot {
    /// Held for the whole of an open or a close of the name.
    lifecycle: Mutex<()>,
    /// The open store, or nothing.
    store: ArcSwapOption<Shared>,
}

/// Maps of slots by their name's bytes, hashed with foldhash (seeded per
/// process): hashing a `PathBuf` (component by component, with SipHash)
/// cost more than the rest of a look-up.
type Slots = HashMap<Box<[u8]>, Arc<Slot>, foldhash::fast::RandomState>;

/// The bytes a store's name is looked up by.
fn key(dir: &Path) -> &[u8] {
    dir.as_os_str().as_encoded_bytes()
}

/// Every slot: what a thread's own map is filled from, and where an open
/// makes a name's slot.
fn slots() -> &'static RwLock<Slots> {
    static SLOTS: LazyLock<RwLock<Slots>> = LazyLock::new(RwLock::default);
    &SLOTS
}

thread_local! {
    /// The slots this thread has looked up (see the module's docs).
    static NEAR: RefCell<Slots> = RefCell::default();
}

/// The slot of `dir`, if it was ever opened.
fn slot(dir: &Path) -> Option<Arc<Slot>> {
    slots()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key(dir))
        .cloned()
}

/// The slot of `dir`, made if there is none (an open).
fn slot_made(dir: &Path) -> Arc<Slot> {
    let mut all = slots().write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(all.entry(key(dir).into()).or_default())
}

fn hold(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A store held by a call, for the call's length.
pub struct Held(Guard<Option<Arc<Shared>>>);

impl Deref for Held {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        match self.0.as_deref() {
            Some(shared) => shared,
            None => unreachable!("a Held is made only of a slot holding a store"),
        }
    }
}

/// The open store named `dir`. Waits for nothing; the first look-up of a
/// name on a thread takes the registry's read lock once.
pub fn find(dir: &Path) -> Result<Held, Unusable> {
    let near = NEAR.with_borrow(|near| near.get(key(dir)).map(|slot| slot.store.load()));
    let loaded = match near {
        Some(loaded) => loaded,
        None => {
            let Some(slot) = slot(dir) else {
                return Err(Unusable::NotOpen(dir.to_path_buf()));
            };
            let loaded = slot.store.load();
            // A thread's map only grows, like the registry's; a call that
            // could not borrow it (none nests today) just does not add.
            NEAR.with(|near| {
                if let Ok(mut near) = near.try_borrow_mut() {
                    near.insert(key(dir).into(), slot);
                }
            });
            loaded
        }
    };
    if loaded.is_none() {
        return Err(Unusable::NotOpen(dir.to_path_buf()));
    }
    Ok(Held(loaded))
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
    let slot = slot_made(dir);
    let _opening = hold(&slot.lifecycle);
    if let Some(open) = slot.store.load().as_deref() {
        let differences = open.opened_with.differences(&settings);
        if differences.is_empty() {
            return Ok(());
        }
        return Err(Unusable::OtherSettings(dir.to_path_buf(), differences));
    }
    // The slow part, under this name's lifecycle lock only.
    let store = opener().map_err(Unusable::Open)?;
    slot.store.store(Some(Arc::new(Shared {
        store,
        opened_with: settings,
    })));
    Ok(())
}

/// Closes the store named `dir`, after the calls in flight on it; later
/// calls find it closed. Returns once the database is closed.
pub fn close(dir: &Path) {
    let Some(slot) = slot(dir) else {
        return;
    };
    let _closing = hold(&slot.lifecycle);
    let Some(mut shared) = slot.store.swap(None) else {
        return;
    };
    // The calls in flight hold it (`arc-swap` turns each one's load into
    // a reference of its own as the slot empties); each lets go when it
    // returns.
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
