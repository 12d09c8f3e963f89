//! `rocksdb_bench_nif`: the floor under `./dev bench-erlang`'s rows.
//!
//! hbstore is built on RocksDB, so nothing it does from Erlang can be
//! faster than RocksDB's own `put` and `get` called through a NIF. This
//! NIF offers exactly those, on a database opened with the options hbstore
//! opens its own with (`Options::rocksdb_options`, `write_options`): no
//! paths, no checks, no caches, no locks. The benchmark times the key
//! workloads through it beside `hb_store_hbstore` and the LMDB column, so
//! that each run shows where the floor is: a target above what RocksDB
//! itself does from Erlang cannot be met by any store built on it.
//!
//! `open` with `buffered` opens the database as `durability => buffered`
//! does (the log kept in memory), without the flusher thread: the floor
//! of that durability, a little lower than a flusher would make it.
//!
//! It is a benchmark baseline, not a store.

// As in `hbstore-nif`: the `enif_*` symbols come from the VM, so the crate
// compiled as a test (which `cargo test NAME` builds) is empty, and links.
#![cfg(not(test))]

use std::time::Duration;

use hbstore::{Durability, Options};
use rocksdb::{WriteOptions, DB};
use rustler::{Atom, Binary, Encoder, Env, NewBinary, NifResult, ResourceArc, Term};

mod atoms {
    rustler::atoms! { ok, not_found }
}

/// One open database and the write options its durability calls for.
struct Database {
    db: DB,
    write: WriteOptions,
}

#[rustler::resource_impl]
impl rustler::Resource for Database {}

fn failed(e: rocksdb::Error) -> rustler::Error {
    rustler::Error::Term(Box::new(format!("rocksdb: {e}")))
}

/// Opens (creating) a database in `dir` with hbstore's options, its log
/// written per write (`process`, hbstore's default) or kept in memory
/// (`buffered`): `{ok, Db}`.
#[rustler::nif(schedule = "DirtyIo")]
fn open(env: Env<'_>, dir: String, buffered: bool) -> NifResult<Term<'_>> {
    let durability = if buffered {
        Durability::Buffered {
            flush_every: Duration::from_millis(100),
        }
    } else {
        Durability::Process
    };
    let options = Options::default().durability(durability);
    let db = DB::open(&options.rocksdb_options(), dir).map_err(failed)?;
    let write = options.write_options();
    // Encoded here: a `DB` is not `RefUnwindSafe`, which a returned
    // resource would have to be.
    Ok((atoms::ok(), ResourceArc::new(Database { db, write })).encode(env))
}

/// A RocksDB `put` of `value` at `key`, on the calling scheduler, as
/// hbstore's single writes run: `ok`.
#[rustler::nif]
fn put(raw: ResourceArc<Database>, key: Binary, value: Binary) -> NifResult<Atom> {
    raw.db
        .put_opt(key.as_slice(), value.as_slice(), &raw.write)
        .map_err(failed)?;
    Ok(atoms::ok())
}

/// A RocksDB `get`, pinned and copied once into the answer:
/// `{ok, Bytes}` or `not_found`.
#[rustler::nif]
fn get<'a>(env: Env<'a>, raw: ResourceArc<Database>, key: Binary) -> NifResult<Term<'a>> {
    Ok(match raw.db.get_pinned(key.as_slice()).map_err(failed)? {
        Some(bytes) => (
            atoms::ok(),
            Binary::from(NewBinary::from_slice(env, &bytes)),
        )
            .encode(env),
        None => atoms::not_found().encode(env),
    })
}

/// Hands a buffered log to the operating system (`FlushWAL`): `ok`.
#[rustler::nif(schedule = "DirtyIo")]
fn flush(raw: ResourceArc<Database>) -> NifResult<Atom> {
    raw.db.flush_wal(false).map_err(failed)?;
    Ok(atoms::ok())
}

rustler::init!("rocksdb_bench_nif");
