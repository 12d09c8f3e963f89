//! Copying one hbstore store into another (embedded to cluster, cluster to
//! embedded, or any pair): the source walked from the root, links not
//! followed, every group, value and link made again in the destination
//! through the importer's batches. Parents come before their children in
//! the walk, so each batch applies in order; re-running gives the same
//! store.

use hbstore::{ChildKind, Op, Store, StorePath};

use super::Importer;
use crate::error::CliResult;

pub(super) fn copy(source: &impl Store, importer: &mut Importer<'_>) -> CliResult {
    let mut failure = None;
    let walked = hbstore::walk(source, &StorePath::root(), |path, kind| {
        let path = StorePath::parse(path)?;
        let op = match kind {
            ChildKind::Group => Op::MakeGroup { path },
            ChildKind::Value { .. } => {
                // `path` has no link on the way (a walk is physical), so
                // this reads the value itself; a value removed meanwhile is
                // skipped, as a walk of a live store would.
                let Some(value) = source.read_at(&path)? else {
                    return Ok(());
                };
                Op::Write { path, value }
            }
            ChildKind::Link { target } => Op::MakeLink {
                existing: StorePath::parse(target)?,
                new: path,
            },
        };
        // The importer's own error is kept aside; the walk only needs
        // to stop.
        importer.push(op).map_err(|e| {
            let stop = hbstore::Error::Remote {
                context: "copying".into(),
                source: e.to_string().into(),
            };
            failure = Some(e);
            stop
        })
    });
    match (failure, walked) {
        (Some(e), _) => Err(e),
        (None, walked) => Ok(walked?),
    }
}
