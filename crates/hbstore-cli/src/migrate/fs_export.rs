//! Export to a directory tree that `hb_store_fs` reads: groups become
//! directories, values files, links symbolic links. A link's target is
//! written relative to the link itself, so the tree stays valid wherever it
//! is moved; `import --from fs` reads it back.

use std::path::{Path, PathBuf};

use hbstore::{ChildKind, Store, StorePath};

use super::Summary;
use crate::error::{CliError, CliResult};

pub(super) fn export(
    store: &impl Store,
    root: &StorePath,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
) -> CliResult<Summary> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::Invalid(format!(
            "{} exists and is not an empty directory",
            dest.display()
        )));
    }
    std::fs::create_dir_all(dest)
        .map_err(|e| CliError::Failed(format!("{}: {e}", dest.display())))?;
    let mut summary = Summary::default();
    let mut failure = None;
    let mut written_so_far = 0;
    hbstore::walk(store, root, |path, kind| {
        written_so_far += 1;
        progress(written_so_far);
        let fs_path = dest.join(path);
        let written = match kind {
            ChildKind::Group => {
                summary.groups += 1;
                std::fs::create_dir(&fs_path)
            }
            ChildKind::Value { .. } => {
                summary.values += 1;
                let bytes = hbstore::Store::read(store, path)?.unwrap_or_default();
                std::fs::write(&fs_path, bytes)
            }
            ChildKind::Link { target } => {
                summary.links += 1;
                std::os::unix::fs::symlink(relative_target(path, target), &fs_path)
            }
        };
        if let Err(e) = written {
            failure.get_or_insert(format!("writing {}: {e}", fs_path.display()));
        }
        Ok(())
    })?;
    match failure {
        Some(message) => Err(CliError::Failed(message)),
        None => Ok(summary),
    }
}

/// `target` (a store path) as seen from the directory of the link at `link`.
fn relative_target(link: &str, target: &str) -> PathBuf {
    let depth = link.matches('/').count();
    let mut out = PathBuf::new();
    for _ in 0..depth {
        out.push("..");
    }
    if target.is_empty() {
        if depth == 0 {
            out.push(".");
        }
    } else {
        out.push(target);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_relative_to_the_link() {
        assert_eq!(relative_target("l", "data/x"), PathBuf::from("data/x"));
        assert_eq!(
            relative_target("a/b/l", "data/x"),
            PathBuf::from("../../data/x")
        );
        assert_eq!(relative_target("l", ""), PathBuf::from("."));
        assert_eq!(relative_target("a/l", ""), PathBuf::from(".."));
    }
}
