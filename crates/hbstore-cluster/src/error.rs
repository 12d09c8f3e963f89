//! The one error type of the crate: what can go wrong talking to a cluster
//! or starting a local one. Store operations carry it inside
//! `hbstore::Error::Remote`, with the path they were working on.

use std::time::Duration;

/// Everything that can go wrong between hbstore and a Redis cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The cluster address does not parse.
    #[error("bad cluster address {url:?}: {reason}")]
    BadAddress {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No node answered, or the slot's owner kept failing, until the
    /// operation's deadline: the cluster is down, unreachable or failing
    /// over for longer than the deadline.
    #[error("no answer from the cluster within {waited:?} ({command}): {last}")]
    Unavailable {
        /// The command that could not be served.
        command: String,
        /// How long hbstore kept trying.
        waited: Duration,
        /// The last thing that went wrong.
        last: String,
    },

    /// A node answered with an error that is not a redirect or a transient
    /// state (a script error, out of memory, a wrong type).
    #[error("{addr} refused {command}: {message}")]
    Refused {
        /// The node.
        addr: String,
        /// The command.
        command: String,
        /// The node's message.
        message: String,
    },

    /// A reply hbstore cannot have asked for: a node that does not speak
    /// the protocol, or data not written by hbstore under its keys.
    #[error("unexpected reply from the cluster to {command}: {reply}")]
    Unexpected {
        /// The command.
        command: String,
        /// The reply, shortened.
        reply: String,
    },

    /// The write landed on its primary, but fewer replicas than asked for
    /// acknowledged it in time: it may be lost if that primary fails now.
    #[error(
        "written, but only {acknowledged} of {wanted} replicas acknowledged it within {timeout:?}"
    )]
    NotReplicated {
        /// How many replicas were asked for.
        wanted: u32,
        /// How many acknowledged.
        acknowledged: i64,
        /// How long the write waited.
        timeout: Duration,
    },

    /// A local cluster (for tests, the benchmark and development) could not
    /// be started.
    #[error("cannot start a local cluster: {reason}")]
    Launch {
        /// Why.
        reason: String,
    },
}

impl ClusterError {
    /// Wraps the error into the store's error, naming what was being done.
    pub fn into_store_error(self, context: impl Into<String>) -> hbstore::Error {
        hbstore::Error::Remote {
            context: context.into(),
            source: Box::new(self),
        }
    }
}
