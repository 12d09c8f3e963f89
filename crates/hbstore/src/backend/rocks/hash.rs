//! The hashes of the writers' in-memory tables. Nobody gains from making
//! two paths collide in them (a collision costs a wait or a slower
//! lookup, never a wrong answer), so fast hashes beat SipHash: with
//! SipHash, `hbstore-bench --only 1`'s key write row loses several
//! percent.
//!
//! - FNV-1a for the lock stripes, whose plans hash each prefix of a path
//!   by continuing the hash of the one before (`locks.rs`): FNV continues
//!   byte by byte.
//! - foldhash, keyed per process, for everything that hashes whole paths
//!   (the caches' shards and maps, the link filter, the record of recent
//!   writes): it reads eight bytes a step where FNV's multiply waits on
//!   every byte, so a 45-byte message path costs a few nanoseconds instead
//!   of some fifty, and a write hashes its paths a dozen times.

use std::hash::BuildHasher;

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Continues an FNV-1a hash over `bytes`.
pub(crate) fn fnv(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV's low bits are weak (short inputs differ mostly in the high ones),
/// so a hash is spread with a Fibonacci multiply, keeping the well-mixed
/// high half, before anything takes it modulo a table size.
pub(crate) fn spread(hash: u64) -> u64 {
    hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

/// The keyed hash of whole paths, for maps (`HashMap<_, _, PathHashing>`)
/// and filters.
pub(crate) type PathHashing = foldhash::fast::RandomState;

/// `path`'s hash under `hashing`, as the maps hash a `Box<str>` key.
pub(crate) fn hash_path(hashing: &PathHashing, path: &str) -> u64 {
    hashing.hash_one(path)
}
