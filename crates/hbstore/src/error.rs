//! The one error type of the crate.
//!
//! Every variant names the path (or directory, or key) it is about and the
//! rule that was broken, so that a message read in a log is enough to act on.

use std::path::PathBuf;

/// How much of an offending path an error message quotes.
const QUOTED_PATH_CHARS: usize = 200;

/// Cuts a hostile path down to something an error message can carry.
pub(crate) fn quote(raw: &str) -> String {
    if raw.chars().count() <= QUOTED_PATH_CHARS {
        raw.to_owned()
    } else {
        let head: String = raw.chars().take(QUOTED_PATH_CHARS).collect();
        format!("{head}… ({} bytes)", raw.len())
    }
}

/// The result type of every fallible hbstore operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in hbstore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path breaks a rule of the path syntax (see the `path` module).
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given (shortened when very long).
        path: String,
        /// The rule it breaks.
        reason: String,
    },

    /// Something on the way to `path` is a value, so it cannot have children
    /// (or, for `list` and `make_group`, `path` itself is a value).
    #[error("{path:?}: {value_at:?} is a value, not a group")]
    NotAGroup {
        /// The path of the operation.
        path: String,
        /// The physical path where a value stands.
        value_at: String,
    },

    /// `write` resolved `path` to a group, and a group is never overwritten
    /// by a value.
    #[error("{path:?} is a group; a value cannot replace it")]
    IsGroup {
        /// The path of the write.
        path: String,
    },

    /// `make_link` found a group at `path` (a link there is re-pointed and
    /// a value replaced, but a group is never replaced).
    #[error("{path:?} already exists as {existing}")]
    AlreadyExists {
        /// The path of the new link.
        path: String,
        /// What is there instead, in words (`a group`).
        existing: String,
    },

    /// Resolving `path` followed more than [`crate::MAX_LINK_HOPS`] links.
    #[error("{path:?}: more than {max} link hops (a link loop?)")]
    LinkLoop {
        /// The path being resolved.
        path: String,
        /// The hop limit.
        max: u32,
    },

    /// A non-recursive delete of a group that still has children.
    #[error("{path:?} is a group that is not empty; delete it recursively")]
    NotEmpty {
        /// The group.
        path: String,
    },

    /// Bytes on disk that this version cannot decode. Only `key` is
    /// affected; the rest of the store stays readable.
    #[error("corrupt entry at key {key}: {reason}")]
    Corrupt {
        /// The damaged key, as a path when it decodes, else in hex.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Another writer holds the store directory.
    #[error("store {dir:?} is locked by another writer (open it read-only to read alongside)")]
    Locked {
        /// The store directory.
        dir: PathBuf,
    },

    /// The directory holds something that is not an hbstore store.
    #[error("{dir:?} is not an hbstore store: {reason}")]
    NotAStore {
        /// The directory.
        dir: PathBuf,
        /// What is there instead.
        reason: String,
    },

    /// The store was written by a newer or unknown format version.
    #[error("store {dir:?} has format version {found}; this hbstore reads version {supported}")]
    UnsupportedFormat {
        /// The store directory.
        dir: PathBuf,
        /// The version found (or what was found instead of one).
        found: String,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// The store was written by an older format that this build upgrades
    /// in place, which needs a writable open.
    #[error(
        "store {dir:?} has format version {found}; open it for writing once (`hbstore upgrade`) \
         to upgrade it in place"
    )]
    NeedsUpgrade {
        /// The store directory.
        dir: PathBuf,
        /// The version found.
        found: u32,
    },

    /// A write was attempted on a store opened read-only.
    #[error("store {dir:?} is open read-only; cannot {operation}")]
    ReadOnly {
        /// The store directory.
        dir: PathBuf,
        /// What was attempted.
        operation: String,
    },

    /// A call made with
    /// [`RocksStore::without_waiting`](crate::RocksStore::without_waiting)
    /// would have waited (for a lock another writer holds, for disk I/O,
    /// for a RocksDB write stall, or to copy a large value). Nothing was
    /// changed; make the same call where waiting is allowed.
    #[error("{operation} would have waited, and was asked not to")]
    WouldWait {
        /// What hbstore was doing.
        operation: String,
    },

    /// An error from RocksDB itself, with what hbstore was doing. The
    /// source is boxed so that RocksDB's binding stays out of hbstore's API.
    #[error("RocksDB error while {context}: {source}")]
    RocksDb {
        /// What hbstore was doing.
        context: String,
        /// RocksDB's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// An error from the engine a remote backend keeps its data in (the
    /// cluster backend's Redis Cluster: a node unreachable, a timeout, the
    /// cluster down, a reply it did not expect), with what hbstore was
    /// doing. Part of the operation may have happened: a step whose reply
    /// was lost may have run (a batch that could not be undone says so in
    /// its context).
    #[error("{context}: {source}")]
    Remote {
        /// What hbstore was doing, naming the path.
        context: String,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A file-system error outside RocksDB (checking or creating a store
    /// directory, writing a backup).
    #[error("{context} {path:?}: {source}")]
    Io {
        /// What hbstore was doing.
        context: String,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn invalid_path(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidPath {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// `LinkLoop` for resolving `origin` (a canonical path): backends
    /// other than this crate's give up after [`crate::MAX_LINK_HOPS`] hops
    /// with the same error.
    pub fn link_loop(origin: &str) -> Self {
        Error::LinkLoop {
            path: quote(origin),
            max: crate::limits::MAX_LINK_HOPS,
        }
    }

    /// The root is implicit: it is never written, linked or deleted. Public
    /// so that every backend refuses it in the same words.
    pub fn root(action: &str) -> Self {
        Error::invalid_path("", format!("the root cannot be {action}"))
    }

    /// [`Error::WouldWait`] for `operation`.
    pub(crate) fn would_wait(operation: impl Into<String>) -> Self {
        Error::WouldWait {
            operation: operation.into(),
        }
    }
}
