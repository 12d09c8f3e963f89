//! `lmdb_bench_nif`: the LMDB column of `./dev bench-erlang`.
//!
//! A HyperBEAM node's default store is `hb_store_lmdb`, Erlang code over
//! an LMDB NIF (`elmdb`) that offers four primitives: `get` (one read
//! transaction per call), `put` (gathered into write transactions, the
//! environment opened `no_sync`), `list` (a cursor over a key prefix,
//! answering the immediate children) and `flush`. This NIF offers the same
//! four over the same LMDB (the `heed` binding), so that the benchmark can
//! run `hb_store_lmdb`'s logic (`erlang/bench/lmdb_bench_store.erl`) beside
//! `hb_store_hbstore` on the same workloads, in the same VM, and give each
//! Erlang row a ratio to what a node runs today.
//!
//! Pending writes are visible to `get` at once (a node reads what it has
//! just written), from a map beside the transaction that will commit them;
//! `list` sees committed writes, as a cursor does.
//!
//! It is a benchmark baseline, not a store: it holds no locks beyond
//! LMDB's own and the pending writes' mutex, and keeps no promises after a
//! crash (neither does `no_sync`).

// As in `hbstore-nif`: the `enif_*` symbols come from the VM, so the crate
// compiled as a test (which `cargo test NAME` builds) is empty, and links.
#![cfg(not(test))]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use heed::types::Bytes;
use heed::{Database, Env as LmdbEnv, EnvFlags, EnvOpenOptions};
use rustler::{Atom, Binary, Encoder, Env, NewBinary, NifResult, ResourceArc, Term};

mod atoms {
    rustler::atoms! { ok, not_found }
}

/// Writes per transaction: HyperBEAM's LMDB NIF commits its pending
/// writes in transactions of this many.
const TXN_WRITES: usize = 5_000;

type Pending = HashMap<Vec<u8>, Vec<u8>>;

/// One open environment and the writes not yet committed.
struct Lmdb {
    env: LmdbEnv,
    db: Database<Bytes, Bytes>,
    pending: Mutex<Pending>,
}

#[rustler::resource_impl]
impl rustler::Resource for Lmdb {}

impl Lmdb {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding it left whole entries or none: go on.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits `pending` in one write transaction.
    fn commit(&self, pending: &mut Pending) -> NifResult<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let mut txn = self.env.write_txn().map_err(failed)?;
        for (key, value) in pending.drain() {
            self.db.put(&mut txn, &key, &value).map_err(failed)?;
        }
        txn.commit().map_err(failed)
    }

    /// The bytes at `key`: a pending write's, or from a read transaction
    /// of their own, copied into a binary (the map's pages are not the
    /// VM's).
    fn get<'a>(&self, env: Env<'a>, key: &[u8]) -> NifResult<Option<Binary<'a>>> {
        if let Some(bytes) = self.pending().get(key) {
            return Ok(Some(NewBinary::from_slice(env, bytes).into()));
        }
        let txn = self.env.read_txn().map_err(failed)?;
        let found = self.db.get(&txn, key).map_err(failed)?;
        Ok(found.map(|bytes| NewBinary::from_slice(env, bytes).into()))
    }
}

impl Drop for Lmdb {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut *self.pending());
        // Nothing to report to at this point; the environment's own close
        // follows.
        let _ = self.commit(&mut pending);
    }
}

fn failed(e: heed::Error) -> rustler::Error {
    rustler::Error::Term(Box::new(format!("lmdb: {e}")))
}

/// Opens (creating) the environment in `dir`, as `hb_store_lmdb` opens it:
/// a map of `map_bytes`, `no_sync`, `no_mem_init`: `{ok, Db}`.
#[rustler::nif(schedule = "DirtyIo")]
fn open(dir: String, map_bytes: u64) -> NifResult<(Atom, ResourceArc<Lmdb>)> {
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).map_err(|e| rustler::Error::Term(Box::new(e.to_string())))?;
    let mut options = EnvOpenOptions::new();
    options.map_size(usize::try_from(map_bytes).map_err(|_| rustler::Error::BadArg)?);
    // SAFETY: NO_SYNC gives up durability on power loss, which is the
    // trade HyperBEAM makes and the benchmark measures; NO_MEM_INIT only
    // skips zeroing unused parts of pages. Neither touches memory safety.
    unsafe { options.flags(EnvFlags::NO_SYNC | EnvFlags::NO_MEM_INIT) };
    // SAFETY: the directory is the benchmark's own; nothing else maps or
    // modifies the file while it is open.
    let env = unsafe { options.open(&dir) }.map_err(failed)?;
    let mut txn = env.write_txn().map_err(failed)?;
    let db = env.create_database(&mut txn, None).map_err(failed)?;
    txn.commit().map_err(failed)?;
    let lmdb = ResourceArc::new(Lmdb {
        env,
        db,
        pending: Mutex::new(Pending::with_capacity(TXN_WRITES)),
    });
    Ok((atoms::ok(), lmdb))
}

/// `elmdb:put`: the write joins the pending transaction, committed when
/// it holds `TXN_WRITES` writes (or on `flush`).
#[rustler::nif]
fn put(lmdb: ResourceArc<Lmdb>, key: Binary, value: Binary) -> NifResult<Atom> {
    let mut pending = lmdb.pending();
    pending.insert(key.to_vec(), value.to_vec());
    if pending.len() >= TXN_WRITES {
        lmdb.commit(&mut pending)?;
    }
    Ok(atoms::ok())
}

/// `elmdb:get`: `{ok, Bytes}` or `not_found`.
#[rustler::nif]
fn get<'a>(env: Env<'a>, lmdb: ResourceArc<Lmdb>, key: Binary) -> NifResult<Term<'a>> {
    Ok(match lmdb.get(env, &key)? {
        Some(bytes) => (atoms::ok(), bytes).encode(env),
        None => atoms::not_found().encode(env),
    })
}

/// `elmdb:list`: the names of the immediate children under `prefix`
/// (which ends in `/`, or is empty for the top level), by a cursor over
/// every key that starts with it: `{ok, Names}`.
#[rustler::nif]
fn list<'a>(env: Env<'a>, lmdb: ResourceArc<Lmdb>, prefix: Binary) -> NifResult<Term<'a>> {
    let txn = lmdb.env.read_txn().map_err(failed)?;
    let mut names = BTreeSet::new();
    // LMDB refuses an empty key to seek to: the top level is every key.
    type Items<'t> = Box<dyn Iterator<Item = heed::Result<(&'t [u8], &'t [u8])>> + 't>;
    let items: Items<'_> = if prefix.is_empty() {
        Box::new(lmdb.db.iter(&txn).map_err(failed)?)
    } else {
        Box::new(lmdb.db.prefix_iter(&txn, &prefix).map_err(failed)?)
    };
    for item in items {
        let (key, _) = item.map_err(failed)?;
        let rest = &key[prefix.len()..];
        let name = rest.split(|&b| b == b'/').next().unwrap_or(rest);
        if !name.is_empty() {
            names.insert(name);
        }
    }
    let names: Vec<Binary<'a>> = names
        .into_iter()
        .map(|name| NewBinary::from_slice(env, name).into())
        .collect();
    Ok((atoms::ok(), names).encode(env))
}

/// `elmdb:flush`: commits the pending writes.
#[rustler::nif(schedule = "DirtyIo")]
fn flush(lmdb: ResourceArc<Lmdb>) -> NifResult<Atom> {
    let mut pending = lmdb.pending();
    lmdb.commit(&mut pending)?;
    Ok(atoms::ok())
}

rustler::init!("lmdb_bench_nif");
