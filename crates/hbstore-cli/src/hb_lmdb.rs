//! HyperBEAM's LMDB store (`hb_store_lmdb`) as it lays out its data, for
//! `import --from hb-lmdb` and for the benchmark's LMDB column.
//!
//! One unnamed database. The key is the full path joined with `/`; the
//! value is the raw bytes of a value, the literal bytes `group` for a
//! group, and `link:` followed by the target path for a link. `list` is a
//! prefix scan of `Path/` keeping the immediate children; reads follow
//! `link:` values, in intermediate segments too. `write` is a plain put
//! (no groups made on the way); `make_link` first writes `group` at each
//! missing ancestor of the new path. The node opens the environment with
//! `no_sync` and `no_mem_init`.

use std::collections::BTreeSet;
use std::path::Path;

use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions, RoTxn, RwTxn, WithTls};

use crate::error::{CliError, CliResult};

/// The value that marks a group.
pub const GROUP: &[u8] = b"group";
/// What a link's value starts with; the target path follows.
pub const LINK_PREFIX: &[u8] = b"link:";
/// How many links a read follows before it gives up (`hb_store_lmdb`'s
/// `MAX_REDIRECTS`).
const MAX_REDIRECTS: usize = 1_000;

/// What a stored value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    Group,
    /// A link, with its target's bytes (not checked to be a path).
    Link(&'a [u8]),
    Value(&'a [u8]),
}

impl<'a> Record<'a> {
    /// Reads a stored value as `hb_store_lmdb` does: `link:` with at least
    /// one byte after it is a link, the exact bytes `group` a group.
    pub fn of(bytes: &'a [u8]) -> Record<'a> {
        match bytes.strip_prefix(LINK_PREFIX) {
            Some(target) if !target.is_empty() => Record::Link(target),
            _ if bytes == GROUP => Record::Group,
            _ => Record::Value(bytes),
        }
    }
}

/// How the bench's LMDB writer makes writes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// A transaction per acknowledged write: it survives a process kill
    /// once acknowledged (as hbstore's default does); a power loss too if
    /// the environment was created `synced`.
    EachWrite,
    /// HyperBEAM's way: this many writes buffered in one transaction, none
    /// durable until it commits.
    Every(usize),
}

fn failed(what: impl std::fmt::Display) -> impl FnOnce(heed::Error) -> CliError {
    move |e| CliError::Failed(format!("LMDB: {what}: {e}"))
}

/// An LMDB environment in `hb_store_lmdb`'s layout.
pub struct HbLmdb {
    env: Env,
    db: Database<Bytes, Bytes>,
}

impl HbLmdb {
    /// Opens an existing environment for reading only. It is never
    /// modified (LMDB registers the reader in its lock file, which is how
    /// it coexists with a node that has the environment open).
    pub fn open_read_only(dir: &Path) -> CliResult<HbLmdb> {
        if !dir.join("data.mdb").is_file() {
            return Err(CliError::Invalid(format!(
                "{}: no LMDB environment here (no data.mdb)",
                dir.display()
            )));
        }
        let mut options = EnvOpenOptions::new();
        // SAFETY: READ_ONLY only stops this process writing; the map is
        // opened read-only, so nothing here can change the file.
        unsafe { options.flags(EnvFlags::READ_ONLY) };
        // SAFETY: heed's condition is that the file is not modified in a
        // way LMDB does not expect (truncated, or written by hand) while
        // it is mapped; a node writing through LMDB is expected.
        let env = unsafe { options.open(dir) }.map_err(failed(dir.display()))?;
        let txn = env.read_txn().map_err(failed("starting a read"))?;
        let db = env
            .open_database(&txn, None)
            .map_err(failed("opening the unnamed database"))?
            .ok_or_else(|| CliError::Failed("LMDB: the unnamed database is missing".into()))?;
        txn.commit().map_err(failed("ending a read"))?;
        Ok(HbLmdb { env, db })
    }

    /// Creates an environment in an empty directory, opened as HyperBEAM
    /// opens it (`no_sync` unless `synced`, `no_mem_init`), with a map of
    /// `map_bytes` (the most it can ever hold).
    pub fn create(dir: &Path, map_bytes: usize, synced: bool) -> CliResult<HbLmdb> {
        std::fs::create_dir_all(dir)?;
        let mut flags = EnvFlags::NO_MEM_INIT;
        if !synced {
            flags |= EnvFlags::NO_SYNC;
        }
        let mut options = EnvOpenOptions::new();
        options.map_size(map_bytes);
        // SAFETY: NO_SYNC trades durability on power loss for speed (that
        // is what the bench measures); it cannot corrupt memory.
        unsafe { options.flags(flags) };
        // SAFETY: the directory is new and only this process maps it.
        let env = unsafe { options.open(dir) }.map_err(failed(dir.display()))?;
        let mut txn = env.write_txn().map_err(failed("starting a write"))?;
        let db = env
            .create_database(&mut txn, None)
            .map_err(failed("creating the unnamed database"))?;
        txn.commit().map_err(failed("committing"))?;
        Ok(HbLmdb { env, db })
    }

    /// A read transaction (`hb_store_lmdb` takes one per call).
    pub fn reading(&self) -> CliResult<Reader<'_>> {
        Ok(Reader {
            txn: self.env.read_txn().map_err(failed("starting a read"))?,
            db: self.db,
        })
    }

    /// A writer that commits as `commit` says; call [`Writer::finish`] to
    /// commit the rest.
    pub fn writer(&self, commit: Commit) -> Writer<'_> {
        Writer {
            env: &self.env,
            db: self.db,
            txn: None,
            pending: 0,
            every: match commit {
                Commit::Every(n) => n.max(1),
                Commit::EachWrite => 1,
            },
        }
    }

    /// Every key and value, in key order, from one consistent snapshot.
    pub fn each(&self, mut visit: impl FnMut(&[u8], &[u8]) -> CliResult) -> CliResult {
        let txn = self.env.read_txn().map_err(failed("starting a read"))?;
        for item in self.db.iter(&txn).map_err(failed("scanning"))? {
            let (key, value) = item.map_err(failed("scanning"))?;
            visit(key, value)?;
        }
        Ok(())
    }

    /// The data file's size on disk, and the bytes of the pages in use
    /// (the file never shrinks; freed pages are reused).
    pub fn disk_bytes(&self) -> CliResult<(u64, u64)> {
        let file = self.env.real_disk_size().map_err(failed("file size"))?;
        let used = self
            .env
            .non_free_pages_size()
            .map_err(failed("pages in use"))?;
        Ok((file, used))
    }
}

/// Reads in one transaction, answering as `hb_store_lmdb` does.
pub struct Reader<'e> {
    txn: RoTxn<'e, WithTls>,
    db: Database<Bytes, Bytes>,
}

impl Reader<'_> {
    /// The stored bytes at `key`, links not followed.
    pub fn get(&self, key: &[u8]) -> CliResult<Option<&[u8]>> {
        self.db.get(&self.txn, key).map_err(failed("reading"))
    }

    /// `read`: the value at `path`, following links at the path and, when
    /// that finds nothing, in its intermediate segments.
    pub fn read(&self, path: &[u8]) -> CliResult<Option<&[u8]>> {
        if let Some(value) = self.read_with_links(path)? {
            return Ok(Some(value));
        }
        match self.resolve(path)? {
            Some(resolved) => self.read_with_links(&resolved),
            None => Ok(None),
        }
    }

    fn read_with_links(&self, path: &[u8]) -> CliResult<Option<&[u8]>> {
        let mut at = path;
        for _ in 0..MAX_REDIRECTS {
            match self.get(at)?.map(Record::of) {
                Some(Record::Link(target)) => at = target,
                Some(Record::Value(v)) => return Ok(Some(v)),
                Some(Record::Group) | None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// `resolve`: `path` with every intermediate segment that is a link
    /// replaced by its target (the last segment is left as it is); `None`
    /// when the links go round more than `MAX_REDIRECTS` times.
    pub fn resolve(&self, path: &[u8]) -> CliResult<Option<Vec<u8>>> {
        let mut segments: Vec<Vec<u8>> = path.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
        'restart: for _ in 0..=MAX_REDIRECTS {
            // Content-addressed paths are never resolved (as in
            // `hb_store_lmdb`'s `resolve_path_links`).
            if segments.first().is_some_and(|s| s == b"data") {
                return Ok(Some(segments.join(&b'/')));
            }
            for i in 0..segments.len().saturating_sub(1) {
                let prefix = segments[..=i].join(&b'/');
                if let Some(Record::Link(target)) = self.get(&prefix)?.map(Record::of) {
                    let mut next: Vec<Vec<u8>> =
                        target.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
                    next.extend(segments.drain(i + 1..));
                    segments = next;
                    continue 'restart;
                }
            }
            return Ok(Some(segments.join(&b'/')));
        }
        Ok(None)
    }

    /// `list`: the immediate children of `path` (of its target, if it is a
    /// link), by a scan of every key under `path/`.
    pub fn list(&self, path: &[u8]) -> CliResult<Vec<Vec<u8>>> {
        let mut prefix = match self.get(path)?.map(Record::of) {
            Some(Record::Link(target)) => target.to_vec(),
            _ => path.to_vec(),
        };
        if !prefix.is_empty() && prefix.last() != Some(&b'/') {
            prefix.push(b'/');
        }
        let mut children = BTreeSet::new();
        for item in self
            .db
            .prefix_iter(&self.txn, &prefix)
            .map_err(failed("listing"))?
        {
            let (key, _) = item.map_err(failed("listing"))?;
            let rest = &key[prefix.len()..];
            let name = rest.split(|&b| b == b'/').next().unwrap_or(rest);
            if !name.is_empty() {
                children.insert(name.to_vec());
            }
        }
        Ok(children.into_iter().collect())
    }

    /// Up to `limit` keys under `prefix` from `prefix ++ from` on: a page
    /// of a group, by a cursor over the key range. Returns how many.
    pub fn page(&self, prefix: &[u8], from: &[u8], limit: usize) -> CliResult<usize> {
        use std::ops::Bound;
        let start = [prefix, from].concat();
        let range = (Bound::Included(start.as_slice()), Bound::Unbounded);
        let mut n = 0;
        for item in self.db.range(&self.txn, &range).map_err(failed("paging"))? {
            let (key, _) = item.map_err(failed("paging"))?;
            if n == limit || !key.starts_with(prefix) {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    /// `match`: the groups whose child `key` links to `target` for every
    /// pair, by a scan of every record (the store has no index).
    pub fn scan_match(&self, pairs: &[(&str, String)]) -> CliResult<usize> {
        let mut counter = MatchScan::new(pairs);
        for item in self.db.iter(&self.txn).map_err(failed("scanning"))? {
            let (key, value) = item.map_err(failed("scanning"))?;
            counter.visit(key, value);
        }
        Ok(counter.matches())
    }
}

/// `match` answered the way a store in this layout without an index must:
/// every record visited, counting for each group how many of the wanted
/// `key -> link:target` children it has.
pub struct MatchScan {
    /// Each pair as the key suffix `/key` and the value `link:target`.
    wanted: Vec<(Vec<u8>, Vec<u8>)>,
    hits: std::collections::HashMap<Vec<u8>, usize>,
}

impl MatchScan {
    pub fn new(pairs: &[(&str, String)]) -> MatchScan {
        MatchScan {
            wanted: pairs
                .iter()
                .map(|(key, target)| {
                    (
                        format!("/{key}").into_bytes(),
                        [LINK_PREFIX, target.as_bytes()].concat(),
                    )
                })
                .collect(),
            hits: Default::default(),
        }
    }

    pub fn visit(&mut self, key: &[u8], value: &[u8]) {
        for (suffix, link) in &self.wanted {
            if value == link.as_slice() && key.ends_with(suffix) {
                *self
                    .hits
                    .entry(key[..key.len() - suffix.len()].to_vec())
                    .or_default() += 1;
            }
        }
    }

    /// How many groups had every pair.
    pub fn matches(&self) -> usize {
        let all = self.wanted.len();
        self.hits.values().filter(|&&n| n == all).count()
    }
}

/// Writes the way `hb_store_lmdb` does, in transactions of `every`
/// acknowledged writes.
pub struct Writer<'e> {
    env: &'e Env,
    db: Database<Bytes, Bytes>,
    txn: Option<RwTxn<'e>>,
    pending: usize,
    every: usize,
}

impl<'e> Writer<'e> {
    fn txn(&mut self) -> CliResult<&mut RwTxn<'e>> {
        if self.txn.is_none() {
            self.txn = Some(self.env.write_txn().map_err(failed("starting a write"))?);
        }
        self.txn
            .as_mut()
            .ok_or_else(|| CliError::Failed("LMDB: no write transaction".into()))
    }

    /// A plain put (`write`, `make_group`).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> CliResult {
        let db = self.db;
        db.put(self.txn()?, key, value).map_err(failed("writing"))
    }

    /// `make_link`: `group` at each missing ancestor of `new`, then the
    /// link.
    pub fn make_link(&mut self, existing: &[u8], new: &[u8]) -> CliResult {
        let db = self.db;
        let txn = self.txn()?;
        for (cut, _) in new.iter().enumerate().filter(|(_, &b)| b == b'/') {
            let ancestor = &new[..cut];
            if db.get(txn, ancestor).map_err(failed("reading"))?.is_none() {
                db.put(txn, ancestor, GROUP).map_err(failed("writing"))?;
            }
        }
        db.put(txn, new, &[LINK_PREFIX, existing].concat())
            .map_err(failed("writing"))
    }

    /// Ends one acknowledged write: commits when `every` of them are
    /// pending.
    pub fn acknowledge(&mut self) -> CliResult {
        self.pending += 1;
        if self.pending >= self.every {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> CliResult {
        self.pending = 0;
        match self.txn.take() {
            Some(txn) => txn.commit().map_err(failed("committing")),
            None => Ok(()),
        }
    }

    /// Commits what is pending.
    pub fn finish(mut self) -> CliResult {
        self.commit()
    }
}
