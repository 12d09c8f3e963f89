//! RocksDB's errors as hbstore's: what the backend was doing, and RocksDB's
//! own error boxed so that its binding stays out of hbstore's API; or, in
//! a call that must not wait, RocksDB's refusal to (`nowait.rs`).

use super::nowait;
use crate::error::Error;

impl Error {
    /// Like [`Error::rocks`], with a context that is formatted only when
    /// there is an error (these calls sit on the hottest paths).
    pub(crate) fn rocks_lazy(
        context: impl FnOnce() -> String,
    ) -> impl FnOnce(rocksdb::Error) -> Self {
        move |source| Error::from_rocks(context(), source)
    }

    pub(crate) fn rocks(context: &'static str) -> impl FnOnce(rocksdb::Error) -> Self {
        move |source| Error::from_rocks(context.to_owned(), source)
    }

    fn from_rocks(context: String, source: rocksdb::Error) -> Self {
        if nowait::is_refusal(&source) {
            return Error::WouldWait { operation: context };
        }
        Error::RocksDb {
            context,
            source: source.into(),
        }
    }
}
