//! hbstore on a Redis Cluster: [`ClusterStore`] implements hbstore's
//! `Store` contract on any engine that speaks the Redis Cluster protocol
//! with Lua scripts (Redis 7, Valkey, and disk-based ones such as Kvrocks),
//! so several HyperBEAM nodes on several machines share one store.
//!
//! ```no_run
//! use hbstore::Store;
//! use hbstore_cluster::{ClusterStore, Options};
//!
//! # fn main() -> hbstore::Result<()> {
//! let store = ClusterStore::open("redis://10.0.0.1:7000,10.0.0.2:7000/hb", Options::default())?;
//! store.write("messages/id1/body", b"hello")?;
//! store.make_link("messages/id1", "latest")?;
//! assert_eq!(store.read("latest/body")?, Some(b"hello".to_vec()));
//! # Ok(())
//! # }
//! ```
//!
//! # The design, and why it keeps the contract
//!
//! Redis Cluster runs a command, or a Lua script, atomically, but only on
//! keys of one hash slot; nothing spans slots. So the layout
//! ([`layout`](crate::layout)) gives each *group* a slot: its children's
//! entries (a hash), their names in order (a sorted set) and the group's
//! own *marker* all share the group's hash tag. Every change is a sequence
//! of steps, each one script on one group's keys (`scripts.rs`).
//!
//! **The invariant** (every ancestor of an entry is a group) is kept at
//! every moment, whatever clients do concurrently and wherever one dies:
//!
//! - A group exists twice: as an entry `g<token>` in its parent, and as its
//!   marker's live token in its own slot. A child is only ever added by a
//!   script that first checks the group's marker is live, and a marker is
//!   only killed by a script that finds the group without children. So
//!   "has a child" implies "marker live", atomically in one slot.
//! - **Created top down**: the parent's entry first (checked against the
//!   parent's own marker), then the group's marker with the same token.
//!   A client dying in between leaves an empty group whose marker the next
//!   writer sets.
//! - **Deleted bottom up**, in three steps any client can finish: the
//!   parent's entry becomes `d<token>:<attempt>`; the group's slot decides
//!   the attempt once (`deleted` when it has no child: the marker dies and
//!   the token is recorded dead; `refused` otherwise, recorded too); the
//!   parent's entry is then removed or restored. A client that meets a `d`
//!   entry finishes that deletion before going on, so a client dying
//!   mid-deletion blocks nothing. Tokens are random and never revived: a
//!   marker step for a dead token answers `stale`, so a slow creator can
//!   never bring back a group another client deleted.
//! - So a live marker implies its parent's entry is that group, and by
//!   induction the whole path to it is groups: **a step that finds a
//!   group's marker live has proved that the group's path is physical**
//!   (no link on it). That is what lets the common operations take one
//!   round trip: `write`, `read`, `type` and `list` of `G/name` go straight
//!   to `G`'s slot, and only when `G` is not alive (absent, a link on the
//!   way, a value) is the path resolved segment by segment from the root.
//!   The entry itself proves it too (a group with children is alive), so a
//!   read that finds its entry is a plain `HGET`, without a script.
//!
//! **Atomic and linearizable**: each step. An operation that takes one
//! step (the common case: a read, or a write into an existing group, not
//! through a link) is linearizable. One that takes several (creating
//! missing ancestors, following links, deleting a group) is a sequence of
//! linearizable steps, like a path walk in a file system: each step sees
//! the latest state, the whole is not isolated. A client that dies
//! mid-operation can leave the groups it created, empty; never half an
//! entry, never an entry under a non-group.
//!
//! **A batch across slots** applies its operations in order, each as
//! above, recording every step. When an operation fails (`NotAGroup`,
//! `AlreadyExists`, a timeout...), the recorded steps are undone in reverse
//! (each only if what it wrote is still there, so an undo never overwrites
//! another client's write) and the error returned: a batch that fails
//! leaves nothing of itself behind unless another client wrote over it
//! meanwhile, or the cluster fails the undo too (it stops at the first
//! step it cannot take back, and the error then says the batch may be
//! partly applied). The batch, undo included, keeps to one deadline. What it does *not* give: isolation (other clients can see
//! the first operations of a batch before the last, and can see an undone
//! one), and all-or-nothing across a client's crash (a client that dies
//! mid-batch leaves the operations it had finished). The embedded backends
//! give both; a cluster cannot without a transaction spanning slots.
//!
//! **`list_range`** reads the group's sorted set with `ZRANGEBYLEX` from
//! the page's name, in either direction, at most 1,000 names a step; it
//! costs the page, not the group. **`match`** reads the link index of its
//! first pair (a sorted set per child name and target, listing the groups
//! that have such a link child) and checks each group it names, all pairs
//! at once, in the group's own slot. A link is indexed *before* it is
//! stored, and the index is never trimmed on delete, re-pointing or
//! replacing, so the index always holds every link that exists (`match`
//! never misses one) and may name groups whose link has gone or points
//! elsewhere now (the check drops them; `check` counts them). No operation scans
//! the cluster; only `reset` and `check` do.
//!
//! **Durability**: a write returns once its primary has it, as Redis does;
//! with [`Options::replicas`] it also waits (`WAIT`) until that many
//! replicas have it, which makes the loss of an acknowledged write on a
//! failover unlikely (Redis promotes a replica on a best-effort basis, so
//! not impossible; the fault test covers one replica per primary).
//! Redirects (`MOVED`, `ASK`, slots migrating) are followed; a failover is
//! waited out; no operation runs past [`Timeouts::deadline`] from its
//! start, whatever it does inside (steps, connects, name look-ups, the
//! slot map read again, a batch's undo: `deadline.rs`), except the two
//! whose work grows with the data, `reset` and a recursive delete, whose
//! steps each keep that deadline.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod check;
mod client;
mod deadline;
mod delete;
mod error;
mod journal;
mod layout;
mod mutate;
mod read;
mod resolve;
mod resp;
mod scripts;
mod slot;
mod steps;
mod store;

pub use address::{redacted, Address};
pub use check::ClusterCheck;
pub use client::{Credentials, Redirects, Timeouts};
pub use error::ClusterError;
pub use layout::Layout;
pub use resp::{read as read_reply, Cmd, Reply};
pub use store::{ClusterStore, Options};

/// The hash slot of a key, as the cluster computes it.
pub fn key_slot(key: &[u8]) -> u16 {
    slot::of(key)
}
