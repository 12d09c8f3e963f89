//! A store's whole tree, walked from the root without following links.

use hbstore::{ChildKind, Store, StorePath};

/// What a dump records at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dumped {
    /// A group.
    Group,
    /// A value, with its bytes.
    Value(Vec<u8>),
    /// A link, with its target (not followed).
    Link(String),
}

/// Every path in the store with what is there, in walk order (depth first,
/// siblings in byte order): the full observable state, for comparisons.
/// Panics if the store cannot be walked, which no sound store does.
pub fn dump<S: Store>(store: &S) -> Vec<(String, Dumped)> {
    let mut out = Vec::new();
    hbstore::walk(store, &StorePath::root(), |path, kind| {
        let what = match kind {
            ChildKind::Group => Dumped::Group,
            // `path` has no link on the way, so this reads the value itself.
            ChildKind::Value { .. } => Dumped::Value(store.read(path)?.unwrap_or_default()),
            ChildKind::Link { target } => Dumped::Link(target.clone()),
        };
        out.push((path.to_owned(), what));
        Ok(())
    })
    .expect("walking a sound store");
    out
}
