//! The one error type of the crate.
//!
//! Every variant names the path (or directory, or key) it is about and the
//! rule that was broken, so that a message read in a log is enough to act on.

use std::path::PathBuf;

/// The result type of every fallible hbstore operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in hbstore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path breaks a rule of the path syntax (see the `path` module).
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },

    /// Something on the way to `path` is a value, so it cannot have children
    /// (or, for `list` and `make_group`, `path` itself is a value).
    #[error("{path:?}: {value_at:?} is a value, not a group")]
    NotAGroup { path: String, value_at: String },

    /// `write` resolved `path` to a group, and a group is never overwritten
    /// by a value.
    #[error("{path:?} is a group; a value cannot replace it")]
    IsGroup { path: String },

    /// `make_link` found an entry at `path` other than a link to the same
    /// target.
    #[error("{path:?} already exists as {existing}")]
    AlreadyExists { path: String, existing: String },

    /// Resolving `path` followed more than [`crate::MAX_LINK_HOPS`] links.
    #[error("{path:?}: more than {max} link hops (a link loop?)")]
    LinkLoop { path: String, max: u32 },

    /// A non-recursive delete of a group that still has children.
    #[error("{path:?} is a group that is not empty; delete it recursively")]
    NotEmpty { path: String },

    /// Bytes on disk that this version cannot decode. Only `key` is
    /// affected; the rest of the store stays readable.
    #[error("corrupt entry at key {key}: {reason}")]
    Corrupt { key: String, reason: String },

    /// Another writer holds the store directory.
    #[error("store {dir:?} is locked by another writer (open it read-only to read alongside)")]
    Locked { dir: PathBuf },

    /// The directory holds something that is not an hbstore store.
    #[error("{dir:?} is not an hbstore store: {reason}")]
    NotAStore { dir: PathBuf, reason: String },

    /// The store was written by a newer or unknown format version.
    #[error("store {dir:?} has format version {found}; this hbstore reads version {supported}")]
    UnsupportedFormat {
        dir: PathBuf,
        found: String,
        supported: u32,
    },

    /// A write was attempted on a store opened read-only.
    #[error("store {dir:?} is open read-only; cannot {operation}")]
    ReadOnly { dir: PathBuf, operation: String },

    /// An error from RocksDB itself, with what hbstore was doing.
    #[error("RocksDB error while {context}: {source}")]
    RocksDb {
        context: String,
        #[source]
        source: rocksdb::Error,
    },

    /// A file-system error outside RocksDB (checking or creating a store
    /// directory, writing a backup).
    #[error("{context} {path:?}: {source}")]
    Io {
        context: String,
        path: PathBuf,
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

    /// The root is implicit: it is never written, linked or deleted.
    pub(crate) fn root(action: &str) -> Self {
        Error::invalid_path("", format!("the root cannot be {action}"))
    }

    /// Like [`Error::rocks`], with a context that is formatted only when
    /// there is an error (these calls sit on the hottest paths).
    pub(crate) fn rocks_lazy(
        context: impl FnOnce() -> String,
    ) -> impl FnOnce(rocksdb::Error) -> Self {
        move |source| Error::RocksDb {
            context: context(),
            source,
        }
    }

    pub(crate) fn rocks(context: &'static str) -> impl FnOnce(rocksdb::Error) -> Self {
        move |source| Error::RocksDb {
            context: context.to_owned(),
            source,
        }
    }
}
