//! `hbstore_nif`: the NIF behind the Erlang module `hb_store_hbstore`
//! (`erlang/` in the repository). It turns Erlang terms into hbstore engine
//! calls and results into terms, and nothing else: every rule lives in the
//! engine, once.
//!
//! # Schedulers
//!
//! A NIF on a normal scheduler must return within about a millisecond, or
//! it stalls every Erlang process queued behind it. So a call on a normal
//! scheduler does bounded work and never waits: it runs under
//! `RocksStore::without_waiting`, where a lock another writer holds (a
//! batch, `reset`), a read that would go to disk (RocksDB's cache-only read
//! tier), a write stall (`no_slowdown`) or a value over 64 KiB to copy make
//! it answer `busy` at once, having changed nothing; the Erlang module then
//! makes the same call on a dirty I/O scheduler. What runs there:
//!
//! - `read` (a value, or a group of at most 64 children, a HyperBEAM
//!   message, with its linked values up to the inline size; a larger
//!   group answers `large_group` and is read by `read_group`), `type`,
//!   `resolve`, `list` of a page of at most 64 names (a larger page
//!   answers `busy` and is read by `list_dirty`);
//! - `write` and `link` of one entry (the Erlang module sends anything
//!   larger to `write_dirty`/`link_dirty`), to a store that neither fsyncs
//!   every write nor is on a cluster: the NIF decides that from the store
//!   it holds, not from the caller's message.
//!
//! Everything else runs on a dirty I/O scheduler: batches, scans of larger
//! groups (`list_dirty`, `read_group`), `match`, `group`, `delete`,
//! `reset`, `open` and `close`.
//! A store on a Redis cluster waits on the network in every call, so the
//! normal-scheduler functions answer `remote` for it, and the Erlang module
//! calls the dirty variant.
//!
//! Measured with `./dev bench-erlang` (each normal-scheduler NIF called
//! directly 100,000 times, the store in memory, OTP 25 with two
//! schedulers on this project's 2-core machine; microseconds, `busy` the
//! share answered so):
//!
//! | call | median | p99 | p99.9 | max | busy |
//! |---|---|---|---|---|---|
//! | read (one key) | 1.1 | 6.0 | 47.3 | 3200.1 | 0.0% |
//! | type | 1.0 | 5.8 | 10.4 | 11525.0 | 0.0% |
//! | resolve | 1.0 | 6.0 | 9.1 | 4827.6 | 0.0% |
//! | write (one key, 43 B) | 6.6 | 19.2 | 171.9 | 18141.3 | 0.0% |
//! | list (a group of 10) | 1.9 | 11.0 | 137.2 | 2713.5 | 0.0% |
//! | link | 11.9 | 56.7 | 198.1 | 36888.4 | 0.0% |
//! | read (one key), beside a batch writer | 1.2 | 7.1 | 169.1 | 6319.3 | 0.0% |
//! | type, beside a batch writer | 1.1 | 6.9 | 107.7 | 5200.8 | 0.0% |
//! | resolve, beside a batch writer | 1.2 | 7.4 | 134.0 | 40583.7 | 0.0% |
//! | write (one key, 43 B), beside a batch writer | 0.6 | 16.9 | 123.5 | 11017.9 | 86.8% |
//! | list (a group of 10), beside a batch writer | 2.3 | 20.5 | 226.6 | 4774.1 | 0.0% |
//! | link, beside a batch writer | 0.8 | 28.3 | 209.5 | 7184.4 | 87.0% |
//!
//! (The batch writer applies batches of 500 writes back to back from
//! another process, so a write mostly finds the store's gate held and
//! answers `busy` in under a microsecond.) On a quiet store `type` and
//! `resolve` stay near 10 us at p99.9 and reads under 50 us; writes,
//! `list`, and calls beside the batch writer reached 100-230 us on the
//! loaded afternoon of this run, as the build before did in the same hour
//! (an earlier run of that build: under 100 us): the scheduler thread
//! descheduled by the OS on a shared 2-core machine running the batch
//! writer's dirty thread beside it, not a wait (the maxima, milliseconds,
//! are as long for quiet reads): no call waits on a lock or on I/O.
//!
//! Stores are named by their directory in every call and kept open in a
//! registry (`registry.rs`, which says why no handle lives in an Erlang
//! term). A Rust panic becomes `{failure, {panic, Message}}`; it never
//! unwinds into the VM.

// The `enif_*` symbols come from the Erlang VM that loads the library, so
// a test binary of this crate cannot link them. `test = false` keeps it out
// of a plain `cargo test`, but cargo still builds it for `cargo test NAME`;
// compiled as a test, the crate is empty, so that build links (and runs no
// test: this crate's tests are the eunit suite in `erlang/test`).
#![cfg(not(test))]

mod any;
mod metrics;
mod registry;
mod terms;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use hbstore::{
    Batch, Compression, Direction, Durability, EntryRead, EntryType, Options, Page, Store,
};
use rustler::{Atom, Binary, Encoder, Env, Term};

use registry::Unusable;
use terms::{binary, Refusal};

type Answer<'a> = Result<Term<'a>, Refusal<'a>>;

/// Runs a NIF's body, turning a refusal into its term and a panic into
/// `{failure, {panic, _}}`.
fn answer<'a>(env: Env<'a>, body: impl FnOnce() -> Answer<'a>) -> Term<'a> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(term)) => term,
        Ok(Err(refusal)) => terms::refusal(env, refusal),
        Err(payload) => terms::panicked(env, payload.as_ref()),
    }
}

fn unusable<'a>(unusable: Unusable) -> Refusal<'a> {
    match unusable {
        Unusable::NotOpen(dir) => Refusal::NotOpen(dir),
        Unusable::Open(e) => Refusal::Store(e),
        Unusable::OtherSettings(dir, differences) => Refusal::OtherSettings(dir, differences),
    }
}

/// Runs a call's body as its scheduler allows: without waiting on a normal
/// one (see `without_waiting`), as it comes on a dirty one.
fn on_scheduler<'a>(
    env: Env<'a>,
    store: &any::AnyStore,
    normal: bool,
    body: impl FnOnce(&any::AnyStore) -> Answer<'a>,
) -> Answer<'a> {
    if normal {
        without_waiting(env, store, body)
    } else {
        body(store)
    }
}

/// Runs the body of a call made on a normal scheduler so that it never
/// waits (see `RocksStore::without_waiting`): `busy` when it would have
/// waited, `remote` for a store on a cluster (every call of which waits on
/// the network). The caller then makes the dirty variant of the call.
fn without_waiting<'a>(
    env: Env<'a>,
    store: &any::AnyStore,
    body: impl FnOnce(&any::AnyStore) -> Answer<'a>,
) -> Answer<'a> {
    let any::AnyStore::Embedded(rocks) = store else {
        return Ok(atoms::remote().encode(env));
    };
    match rocks.without_waiting(|_| body(store)) {
        Err(Refusal::Store(hbstore::Error::WouldWait { .. })) => Ok(atoms::busy().encode(env)),
        answered => answered,
    }
}

/// The directory a store's name stands for.
fn dir<'a>(name: &Binary<'a>) -> Result<PathBuf, Refusal<'a>> {
    std::str::from_utf8(name.as_slice())
        .map(PathBuf::from)
        .map_err(|_| Refusal::BadArg("the store's name is not valid UTF-8"))
}

/// The open store named `name`; `{error, {not_open, Dir}}` when there is
/// none (the Erlang module then opens it and calls again). Every call
/// makes this lookup, so it borrows the name rather than copy it.
fn shared<'a>(name: &Binary<'a>) -> Result<registry::Held, Refusal<'a>> {
    let text = std::str::from_utf8(name.as_slice())
        .map_err(|_| Refusal::BadArg("the store's name is not valid UTF-8"))?;
    registry::find(std::path::Path::new(text)).map_err(unusable)
}

fn ok(env: Env<'_>) -> Term<'_> {
    terms::ok().encode(env)
}

fn not_found(env: Env<'_>) -> Term<'_> {
    (terms::error(), terms::not_found()).encode(env)
}

/// `open(Dir, ReadOnly, Durability, Compression, BlockCacheBytes,
/// MemoryBudget)`: opens the store in `Dir`, under that name, unless it is
/// open already (with the same settings; others are refused).
/// `Durability` is `process`, `sync` or `{buffered, FlushMs}`.
#[rustler::nif(schedule = "DirtyIo")]
fn open<'a>(
    env: Env<'a>,
    dir: Binary<'a>,
    read_only: bool,
    durability: Term<'a>,
    compression: Atom,
    block_cache_bytes: Option<u64>,
    memory_budget: Option<u64>,
) -> Term<'a> {
    answer(env, || {
        let dir = self::dir(&dir)?;
        let compression = match compression {
            c if c == atoms::none() => Compression::None,
            c if c == atoms::lz4() => Compression::Lz4,
            c if c == atoms::zstd() => Compression::Zstd,
            c if c == atoms::tiered() => Compression::Tiered,
            _ => return Err(Refusal::BadArg("compression is none, lz4, zstd or tiered")),
        };
        let durability = self::durability(durability)?;
        let mut options = Options::default()
            .read_only(read_only)
            .durability(durability)
            .compression(compression);
        if let Some(bytes) = block_cache_bytes {
            options = options.block_cache_bytes(usize::try_from(bytes).unwrap_or(usize::MAX));
        }
        if let Some(bytes) = memory_budget {
            options = options.memory_budget_bytes(usize::try_from(bytes).unwrap_or(usize::MAX));
        }
        let settings = registry::Settings::Embedded {
            read_only,
            durability,
            compression: compression_name(compression),
            block_cache_bytes,
            memory_budget,
        };
        registry::open(&dir, options, settings).map_err(unusable)?;
        Ok(ok(env))
    })
}

/// `open_cluster(Name, Address, Replicas, DeadlineMs)`: opens the store
/// on the Redis cluster at `Address` (`redis://HOST:PORT[,...][/NAMESPACE]`)
/// under `Name`, unless a store of that name is open already. Each write
/// waits for `Replicas` replicas; no call waits on the cluster longer than
/// `DeadlineMs` (`nil`: 20 s).
#[rustler::nif(schedule = "DirtyIo")]
fn open_cluster<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    address: Binary<'a>,
    replicas: u32,
    deadline_ms: Option<u64>,
) -> Term<'a> {
    answer(env, || {
        let name = self::dir(&name)?;
        let address = std::str::from_utf8(address.as_slice())
            .map_err(|_| Refusal::BadArg("the cluster address is not valid UTF-8"))?;
        let mut options = hbstore_cluster::Options::default().replicas(replicas);
        if let Some(ms) = deadline_ms {
            options = options.deadline(std::time::Duration::from_millis(ms.max(1)));
        }
        let settings = registry::Settings::Cluster {
            address: address.to_owned(),
            replicas,
            deadline_ms,
        };
        registry::open_cluster(&name, address, options, settings).map_err(unusable)?;
        Ok(ok(env))
    })
}

mod atoms {
    rustler::atoms! {
        none, lz4, zstd, tiered, asc, desc, all, large_group, remote, busy,
        process, sync, buffered,
    }
}

/// `process`, `sync` or `{buffered, FlushMs}` (`FlushMs` from 1).
fn durability(term: Term<'_>) -> Result<Durability, Refusal<'_>> {
    const WHAT: &str = "durability is process, sync or {buffered, FlushMs}";
    if let Ok(atom) = term.decode::<Atom>() {
        return match atom {
            a if a == atoms::process() => Ok(Durability::Process),
            a if a == atoms::sync() => Ok(Durability::Sync),
            _ => Err(Refusal::BadArg(WHAT)),
        };
    }
    match term.decode::<(Atom, u64)>() {
        Ok((tag, ms)) if tag == atoms::buffered() && ms >= 1 => Ok(Durability::Buffered {
            flush_every: std::time::Duration::from_millis(ms),
        }),
        _ => Err(Refusal::BadArg(WHAT)),
    }
}

fn compression_name(compression: Compression) -> &'static str {
    match compression {
        Compression::None => "none",
        Compression::Lz4 => "lz4",
        Compression::Zstd => "zstd",
        _ => "tiered",
    }
}

/// `close(Name)`: closes the store, after the calls in flight on it.
#[rustler::nif(schedule = "DirtyIo")]
fn close<'a>(env: Env<'a>, name: Binary<'a>) -> Term<'a> {
    answer(env, || {
        registry::close(&dir(&name)?);
        Ok(ok(env))
    })
}

/// Children a group may have for `read` to scan it on a normal scheduler:
/// the scan and the reads of its linked values stay far under a
/// millisecond (a HyperBEAM message has a handful of fields).
const SMALL_GROUP: usize = 64;

/// `read(Name, Path, InlineUpTo)`: `{ok, Bytes}` for a value, `{composite,
/// Children}` for a group of at most 64 children (see `read_group`),
/// `large_group` for a larger one (the caller asks `read_group`, on a
/// dirty scheduler), `{error, not_found}`. A value the entry cache holds
/// (`RocksStore::read_cached`) is copied once, from the cache's record
/// into the answer's binary, before the path is even parsed: a node's
/// most frequent call, 1.42 -> 1.89 million a second from Erlang.
#[rustler::nif]
fn read<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>, inline_up_to: Option<u64>) -> Term<'a> {
    answer(env, || {
        let shared = shared(&name)?;
        // A node's most common read: a value the entry cache holds, copied
        // once, straight into the answer's binary.
        if let (any::AnyStore::Embedded(rocks), Ok(bytes)) =
            (shared.store(), path.decode::<Binary<'a>>())
        {
            if let Some(value) = rocks.read_cached(bytes.as_slice(), |v| binary(env, v)) {
                return Ok((terms::ok(), value).encode(env));
            }
        }
        let path = terms::path(path)?;
        without_waiting(env, shared.store(), |store| {
            // A message whose listing the entry cache holds: read whole,
            // without asking first whether it is a value, or how large.
            if let (any::AnyStore::Embedded(rocks), Some(n)) = (store, inline_up_to) {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if let Some(read) = rocks.read_message_cached(&path, n)? {
                    return entry_answer(env, Some(read), inline_up_to);
                }
            }
            if let Some(bytes) = store.read_at(&path)? {
                return Ok((terms::ok(), binary(env, &bytes)).encode(env));
            }
            let first = Page {
                limit: Some(SMALL_GROUP + 1),
                ..Page::default()
            };
            match store.list_range_at(&path, &first) {
                Ok(Some(children)) if children.len() <= SMALL_GROUP => {
                    group_read(env, store, &path, inline_up_to)
                }
                Ok(Some(_)) => Ok(atoms::large_group().encode(env)),
                Ok(None) | Err(hbstore::Error::NotAGroup { .. }) => Ok(not_found(env)),
                Err(e) => Err(e.into()),
            }
        })
    })
}

/// `read_group(Name, Path, InlineUpTo)`: `{ok, Bytes}` for a value,
/// `{composite, Children}` for a group, `{error, not_found}`. With
/// `InlineUpTo` an integer, a child whose value (its own, or through its
/// link) is at most that long comes as `{Name, Bytes}`, read in the same
/// call; others (and all, with `nil`) as `Name`.
#[rustler::nif(schedule = "DirtyIo")]
fn read_group<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    path: Term<'a>,
    inline_up_to: Option<u64>,
) -> Term<'a> {
    answer(env, || {
        let path = terms::path(path)?;
        let shared = shared(&name)?;
        group_read(env, shared.store(), &path, inline_up_to)
    })
}

fn group_read<'a>(
    env: Env<'a>,
    store: &any::AnyStore,
    path: &hbstore::StorePath,
    inline_up_to: Option<u64>,
) -> Answer<'a> {
    let read = match inline_up_to {
        // Names only: one scan.
        None => store.read_entry_at(path, 0)?,
        // A whole message: its small values and its links' small targets,
        // read together (see `Store::read_message_at`).
        Some(n) => store.read_message_at(path, usize::try_from(n).unwrap_or(usize::MAX))?,
    };
    entry_answer(env, read, inline_up_to)
}

/// The term for an entry read: `{ok, Bytes}`, `{composite, Children}`
/// (see `read_group`) or `{error, not_found}`.
fn entry_answer<'a>(
    env: Env<'a>,
    read: Option<EntryRead>,
    inline_up_to: Option<u64>,
) -> Answer<'a> {
    match read {
        None => Ok(not_found(env)),
        Some(EntryRead::Value(bytes)) => Ok((terms::ok(), binary(env, &bytes)).encode(env)),
        Some(EntryRead::Group(children)) => {
            let mut out = Vec::with_capacity(children.len());
            for child in children {
                let name = binary(env, child.name.as_bytes());
                out.push(match (inline_up_to, child.bytes) {
                    (Some(_), Some(bytes)) => (name, binary(env, &bytes)).encode(env),
                    _ => name,
                });
            }
            Ok((terms::composite(), out).encode(env))
        }
    }
}

/// `type(Name, Path)`: `{ok, simple | composite}` or `{error, not_found}`;
/// `remote` for a store on a cluster (the caller asks `type_dirty`).
#[rustler::nif(name = "type")]
fn type_of<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>) -> Term<'a> {
    answer(env, || type_answer(env, &name, path, true))
}

/// `type` on a dirty I/O scheduler, for a store on a cluster.
#[rustler::nif(schedule = "DirtyIo")]
fn type_dirty<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>) -> Term<'a> {
    answer(env, || type_answer(env, &name, path, false))
}

fn type_answer<'a>(env: Env<'a>, name: &Binary<'a>, path: Term<'a>, normal: bool) -> Answer<'a> {
    let path = terms::path(path)?;
    let shared = shared(name)?;
    let body = |store: &any::AnyStore| {
        Ok(match store.type_at(&path)? {
            Some(EntryType::Simple) => (terms::ok(), terms::simple()).encode(env),
            Some(EntryType::Composite) => (terms::ok(), terms::composite()).encode(env),
            None => not_found(env),
        })
    };
    on_scheduler(env, shared.store(), normal, body)
}

/// `resolve(Name, Path)`: `{ok, PhysicalPath}`; `remote` for a store on a
/// cluster (the caller asks `resolve_dirty`).
#[rustler::nif]
fn resolve<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>) -> Term<'a> {
    answer(env, || resolve_answer(env, &name, path, true))
}

/// `resolve` on a dirty I/O scheduler, for a store on a cluster.
#[rustler::nif(schedule = "DirtyIo")]
fn resolve_dirty<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>) -> Term<'a> {
    answer(env, || resolve_answer(env, &name, path, false))
}

fn resolve_answer<'a>(env: Env<'a>, name: &Binary<'a>, path: Term<'a>, normal: bool) -> Answer<'a> {
    let path = terms::path(path)?;
    let shared = shared(name)?;
    let body = |store: &any::AnyStore| {
        let resolved = store.resolve_at(&path)?;
        Ok((terms::ok(), binary(env, resolved.as_str().as_bytes())).encode(env))
    };
    on_scheduler(env, shared.store(), normal, body)
}

/// `list(Name, Path, From, Limit, Direction)` on a normal scheduler:
/// `{ok, Names}` or `{error, not_found}` for a page of at most
/// `SMALL_GROUP` children (a message's fields, mostly from the entry
/// cache's listing), read without waiting; `busy` for a larger page or one
/// that would wait (the caller then calls `list_dirty`). `From` a name or
/// `nil`, `Limit` an integer or `all`, `Direction` `asc` or `desc`.
#[rustler::nif]
fn list<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    path: Term<'a>,
    from: Option<Binary<'a>>,
    limit: Term<'a>,
    direction: Atom,
) -> Term<'a> {
    answer(env, || {
        let (path, page, shared) = list_request(&name, path, from, limit, direction)?;
        without_waiting(env, shared.store(), |store| {
            // One more than a small page tells a larger one, without
            // reading it.
            let small = Page {
                limit: Some(
                    page.limit
                        .map_or(SMALL_GROUP + 1, |n| n.min(SMALL_GROUP + 1)),
                ),
                ..page.clone()
            };
            match store.list_range_at(&path, &small)? {
                Some(children) if children.len() > SMALL_GROUP => Ok(atoms::busy().encode(env)),
                found => Ok(names(env, found)),
            }
        })
    })
}

/// `list_dirty(Name, Path, From, Limit, Direction)`: `list` of any page,
/// on a dirty scheduler.
#[rustler::nif(schedule = "DirtyIo")]
fn list_dirty<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    path: Term<'a>,
    from: Option<Binary<'a>>,
    limit: Term<'a>,
    direction: Atom,
) -> Term<'a> {
    answer(env, || {
        let (path, page, shared) = list_request(&name, path, from, limit, direction)?;
        Ok(names(env, shared.store().list_range_at(&path, &page)?))
    })
}

/// What a list call asks: the path, the page, the store.
fn list_request<'a>(
    name: &Binary<'a>,
    path: Term<'a>,
    from: Option<Binary<'a>>,
    limit: Term<'a>,
    direction: Atom,
) -> Result<(hbstore::StorePath, Page, registry::Held), Refusal<'a>> {
    Ok((
        terms::path(path)?,
        page(from, limit, direction)?,
        shared(name)?,
    ))
}

/// `{ok, Names}` for a group's children, `{error, not_found}` for none.
fn names<'a>(env: Env<'a>, children: Option<Vec<hbstore::Child>>) -> Term<'a> {
    match children {
        Some(children) => {
            let names: Vec<Term<'a>> = children
                .iter()
                .map(|c| binary(env, c.name.as_bytes()))
                .collect();
            (terms::ok(), names).encode(env)
        }
        None => not_found(env),
    }
}

/// The page a list call asks for.
fn page<'a>(
    from: Option<Binary<'a>>,
    limit: Term<'a>,
    direction: Atom,
) -> Result<Page, Refusal<'a>> {
    let from = match from {
        None => None,
        Some(bin) => Some(
            std::str::from_utf8(bin.as_slice())
                .map_err(|_| Refusal::BadArg("from is not valid UTF-8"))?
                .to_owned(),
        ),
    };
    let limit = match limit.decode::<u64>() {
        Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        Err(_) if limit.decode::<Atom>().is_ok_and(|a| a == atoms::all()) => None,
        Err(_) => return Err(Refusal::BadArg("limit is a non-negative integer or all")),
    };
    let direction = match direction {
        d if d == atoms::asc() => Direction::Ascending,
        d if d == atoms::desc() => Direction::Descending,
        _ => return Err(Refusal::BadArg("direction is asc or desc")),
    };
    Ok(Page {
        from,
        limit,
        direction,
    })
}

/// The `(Path, Bytes)` pairs of a write request; a value that is not a
/// binary refuses the whole request.
fn writes<'a>(entries: Vec<(Term<'a>, Term<'a>)>) -> Result<Batch, Refusal<'a>> {
    let mut batch = Batch::new();
    for (path, bytes) in entries {
        let path = terms::path(path)?;
        let bytes: Binary<'a> = bytes
            .decode()
            .map_err(|_| Refusal::BadArg("a value to write must be a binary"))?;
        batch.write(path, bytes.as_slice())?;
    }
    Ok(batch)
}

/// The `(New, Existing)` pairs of a link request.
fn links<'a>(entries: Vec<(Term<'a>, Term<'a>)>) -> Result<Batch, Refusal<'a>> {
    let mut batch = Batch::new();
    for (new, existing) in entries {
        batch.make_link(terms::path(existing)?, terms::path(new)?)?;
    }
    Ok(batch)
}

/// Applies a batch: one operation goes through the engine's concurrent
/// path (writers to different paths in parallel), several are applied
/// atomically. On a normal scheduler, only one operation on a store that
/// neither fsyncs nor waits on the network, and only if nothing makes it
/// wait (`busy` otherwise).
fn apply<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    batch: Result<Batch, Refusal<'a>>,
    normal: bool,
) -> Answer<'a> {
    let batch = batch?;
    let shared = shared(&name)?;
    let body = |store: &any::AnyStore| {
        match batch.ops() {
            [] => {}
            [hbstore::Op::Write { path, value }] => store.write_at(path, value)?,
            [hbstore::Op::MakeLink { existing, new }] => store.make_link_at(existing, new)?,
            _ => store.apply(&batch)?,
        }
        Ok(ok(env))
    };
    if !normal {
        return body(shared.store());
    }
    if shared.writes_wait() || batch.len() > 1 {
        let why = match shared.store() {
            any::AnyStore::Cluster(_) => atoms::remote(),
            any::AnyStore::Embedded(_) => atoms::busy(),
        };
        return Ok(why.encode(env));
    }
    without_waiting(env, shared.store(), body)
}

/// `write(Name, [{Path, Bytes}])`: all or none; a normal scheduler's
/// variant, for one small unsynced write (`remote` for a store on a
/// cluster: the caller asks `write_dirty`).
#[rustler::nif]
fn write<'a>(env: Env<'a>, name: Binary<'a>, entries: Vec<(Term<'a>, Term<'a>)>) -> Term<'a> {
    answer(env, || apply(env, name, writes(entries), true))
}

/// `write` on a dirty I/O scheduler: synced stores, batches, large values.
#[rustler::nif(schedule = "DirtyIo")]
fn write_dirty<'a>(env: Env<'a>, name: Binary<'a>, entries: Vec<(Term<'a>, Term<'a>)>) -> Term<'a> {
    answer(env, || apply(env, name, writes(entries), false))
}

/// `link(Name, [{New, Existing}])`: all or none; one unsynced link
/// (`remote` for a store on a cluster: the caller asks `link_dirty`).
#[rustler::nif]
fn link<'a>(env: Env<'a>, name: Binary<'a>, entries: Vec<(Term<'a>, Term<'a>)>) -> Term<'a> {
    answer(env, || apply(env, name, links(entries), true))
}

/// `link` on a dirty I/O scheduler.
#[rustler::nif(schedule = "DirtyIo")]
fn link_dirty<'a>(env: Env<'a>, name: Binary<'a>, entries: Vec<(Term<'a>, Term<'a>)>) -> Term<'a> {
    answer(env, || apply(env, name, links(entries), false))
}

/// `group(Name, Path)`: `make_group`.
#[rustler::nif(schedule = "DirtyIo")]
fn group<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>) -> Term<'a> {
    answer(env, || {
        let path = terms::path(path)?;
        shared(&name)?.store().make_group_at(&path)?;
        Ok(ok(env))
    })
}

/// `delete(Name, Path, Recursive)`: `{ok, true | false}` (whether
/// anything was removed).
#[rustler::nif(schedule = "DirtyIo")]
fn delete<'a>(env: Env<'a>, name: Binary<'a>, path: Term<'a>, recursive: bool) -> Term<'a> {
    answer(env, || {
        let path = terms::path(path)?;
        let removed = shared(&name)?.store().delete_at(&path, recursive)?;
        Ok((terms::ok(), removed).encode(env))
    })
}

/// `match(Name, [{Key, Target}], Limit)`: `{ok, Groups}`, `{error,
/// not_found}` when none matches.
#[rustler::nif(name = "match", schedule = "DirtyIo")]
fn match_links<'a>(
    env: Env<'a>,
    name: Binary<'a>,
    pairs: Vec<(Binary<'a>, Term<'a>)>,
    limit: Option<u64>,
) -> Term<'a> {
    answer(env, || {
        let mut checked = Vec::with_capacity(pairs.len());
        for (key, target) in pairs {
            let key = std::str::from_utf8(key.as_slice())
                .map_err(|_| Refusal::BadArg("a match key is not valid UTF-8"))?;
            checked.push((key.to_owned(), terms::path(target)?));
        }
        let limit = limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let found = shared(&name)?.store().match_links(&checked, limit)?;
        if found.is_empty() {
            return Ok(not_found(env));
        }
        let groups: Vec<Term<'a>> = found.iter().map(|g| binary(env, g.as_bytes())).collect();
        Ok((terms::ok(), groups).encode(env))
    })
}

/// `reset(Name)`: empties the store in place.
#[rustler::nif(schedule = "DirtyIo")]
fn reset<'a>(env: Env<'a>, name: Binary<'a>) -> Term<'a> {
    answer(env, || {
        shared(&name)?.store().reset()?;
        Ok(ok(env))
    })
}

/// `metrics(Name)`: `{ok, #{Family => #{type, help, samples}}}` (see
/// `metrics.rs`). On a dirty scheduler: it reads RocksDB's properties and
/// lists the store's directory.
#[rustler::nif(name = "metrics", schedule = "DirtyIo")]
fn metrics_map<'a>(env: Env<'a>, name: Binary<'a>) -> Term<'a> {
    answer(env, || {
        let report = shared(&name)?.store().metrics()?;
        Ok((terms::ok(), metrics::encode(env, &report)).encode(env))
    })
}

/// `metrics_text(Name)`: `{ok, Text}`, the metrics in Prometheus' text
/// exposition format, for a node's `/metrics` handler to append.
#[rustler::nif(schedule = "DirtyIo")]
fn metrics_text<'a>(env: Env<'a>, name: Binary<'a>) -> Term<'a> {
    answer(env, || {
        let text = shared(&name)?.store().metrics()?.prometheus_text();
        Ok((terms::ok(), binary(env, text.as_bytes())).encode(env))
    })
}

rustler::init!("hbstore_nif");
