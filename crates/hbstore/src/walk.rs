//! Walking a subtree: every entry below a group, links reported and not
//! followed. What `check`-like tools, exports and tests build on.

use crate::error::Result;
use crate::path::{join_str, StorePath};
use crate::store::{ChildKind, Store};

/// Calls `visit` with the path and kind of every entry below `root`, depth
/// first, siblings in byte order (a group before its children). Links are
/// reported, not followed, so a cycle cannot make it loop. `root` itself is
/// resolved (as `list` does); nothing is visited when it is absent.
pub fn walk<S: Store + ?Sized>(
    store: &S,
    root: &StorePath,
    mut visit: impl FnMut(&str, &ChildKind) -> Result<()>,
) -> Result<()> {
    let Some(top) = store.list_at(root)? else {
        return Ok(());
    };
    // An explicit stack, not recursion: paths may be thousands deep.
    let mut stack = vec![(root.as_str().to_owned(), top.into_iter())];
    while let Some((group, children)) = stack.last_mut() {
        let Some(child) = children.next() else {
            stack.pop();
            continue;
        };
        let path = join_str(group, &child.name);
        visit(&path, &child.kind)?;
        if child.kind == ChildKind::Group {
            let below = store
                .list_at(&StorePath::from_canonical(path.clone()))?
                .unwrap_or_default();
            stack.push((path, below.into_iter()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[test]
    fn visits_depth_first_in_byte_order_without_following_links() {
        let s = MemoryStore::new();
        s.write("b/y", b"1").unwrap();
        s.write("a/x/z", b"2").unwrap();
        s.make_link("a", "b/l").unwrap();
        let mut seen = Vec::new();
        walk(&s, &StorePath::root(), |p, k| {
            seen.push(format!("{p} {}", matches!(k, ChildKind::Group)));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                "a true",
                "a/x true",
                "a/x/z false",
                "b true",
                "b/l false",
                "b/y false"
            ]
        );
    }
}
