//! Import from a directory tree written by HyperBEAM's `hb_store_fs`:
//! directories are groups, regular files values, symbolic links links.
//!
//! `hb_store_fs` writes link targets as file-system paths that include the
//! store's own directory (`cache/data/x` for the store `cache`), absolute or
//! relative; hbstore's own export writes them relative to the link. Both are
//! turned back into store paths. A target outside the tree is reported and
//! not imported; a dangling target inside it is kept.

use std::path::{Component, Path, PathBuf};

use hbstore::{Op, StorePath};

use super::{store_path, Importer};
use crate::error::{CliError, CliResult};
use crate::output::short_path;

pub(super) fn import(dir: &Path, importer: &mut Importer<'_>) -> CliResult {
    let meta = std::fs::metadata(dir)
        .map_err(|e| CliError::Invalid(format!("{}: {e}", short_path(dir))))?;
    if !meta.is_dir() {
        return Err(CliError::Invalid(format!(
            "{} is not a directory",
            short_path(dir)
        )));
    }
    let root = dir
        .canonicalize()
        .map_err(|e| CliError::Failed(format!("{}: {e}", short_path(dir))))?;
    // Directories are walked in sorted order, with an explicit stack. What
    // cannot be read (a path longer than the operating system allows, a
    // file removed meanwhile, no permission) is reported and left out; the
    // rest is imported.
    let mut stack = vec![(root.clone(), StorePath::root())];
    while let Some((fs_dir, group)) = stack.pop() {
        let entries = std::fs::read_dir(&fs_dir).and_then(|rd| rd.collect::<Result<Vec<_>, _>>());
        let mut entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                importer.summary.warn(format!(
                    "{}: its contents skipped, unreadable: {e}",
                    short_path(&fs_dir)
                ));
                continue;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        for entry in entries.into_iter().rev() {
            let fs_path = entry.path();
            match import_entry(&root, &fs_dir, &group, &entry) {
                Ok(op) => {
                    if let Op::MakeGroup { path } = &op {
                        stack.push((fs_path, path.clone()));
                    }
                    importer.push(op)?;
                }
                Err(warning) => importer.summary.warn(warning),
            }
        }
    }
    Ok(())
}

/// The operation that brings one directory entry in (the caller walks
/// into a group's directory itself), or the warning that says why it is
/// skipped.
fn import_entry(
    root: &Path,
    fs_dir: &Path,
    group: &StorePath,
    entry: &std::fs::DirEntry,
) -> Result<Op, String> {
    let fs_path = entry.path();
    let skip =
        |reason: &dyn std::fmt::Display| format!("{}: skipped: {reason}", short_path(&fs_path));
    let name = entry
        .file_name()
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| skip(&"the name is not UTF-8"))?;
    let path = store_path(&name)
        .and_then(|n| group.join(&n).map_err(|e| e.to_string()))
        .map_err(|reason| skip(&reason))?;
    let kind = entry.file_type().map_err(|e| skip(&e))?;
    if kind.is_symlink() {
        let target = std::fs::read_link(&fs_path).map_err(|e| skip(&e))?;
        match link_target(root, fs_dir, &target) {
            Some(existing) => Ok(Op::MakeLink {
                existing,
                new: path,
            }),
            None => Err(format!(
                "{path}: link to {} skipped: it points outside {}",
                short_path(&target),
                short_path(root)
            )),
        }
    } else if kind.is_dir() {
        Ok(Op::MakeGroup { path })
    } else if kind.is_file() {
        let value = std::fs::read(&fs_path).map_err(|e| skip(&format!("unreadable: {e}")))?;
        Ok(Op::Write { path, value })
    } else {
        Err(skip(&"not a file, directory or link"))
    }
}

/// The store path a symbolic link's target names, or `None` when it lies
/// outside the tree.
fn link_target(root: &Path, link_dir: &Path, target: &Path) -> Option<StorePath> {
    let candidates: Vec<PathBuf> = if target.is_absolute() {
        vec![target.to_path_buf()]
    } else {
        // hb_store_fs: relative to the node's directory, starting with the
        // store's own directory name; otherwise relative to the link, as
        // the file system reads it.
        let mut c = Vec::new();
        if let (Some(store_name), Some(first)) = (root.file_name(), target.components().next()) {
            if first.as_os_str() == store_name {
                c.push(root.parent().unwrap_or(Path::new("/")).join(target));
            }
        }
        c.push(link_dir.join(target));
        c
    };
    candidates.into_iter().find_map(|c| {
        let inside = normalize(&c).strip_prefix(root).ok()?.to_path_buf();
        let text = inside.to_str()?;
        StorePath::parse(text).ok()
    })
}

/// `..` and `.` removed lexically (the target may not exist, so it cannot
/// be canonicalized).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_become_store_paths() {
        let root = Path::new("/srv/cache");
        let dir = Path::new("/srv/cache/a/b");
        let p = |s: &str| link_target(root, dir, Path::new(s)).map(|p| p.into_string());
        assert_eq!(p("/srv/cache/data/x").as_deref(), Some("data/x"));
        assert_eq!(p("cache/data/x").as_deref(), Some("data/x"));
        assert_eq!(p("../../data/x").as_deref(), Some("data/x"));
        assert_eq!(p("../c").as_deref(), Some("a/c"));
        assert_eq!(p("../..").as_deref(), Some(""));
        assert_eq!(p("/etc/passwd"), None);
        assert_eq!(p("../../../elsewhere"), None);
    }
}
