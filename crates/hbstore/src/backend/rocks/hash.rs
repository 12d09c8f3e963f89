//! FNV-1a, the hash of the lock stripes, the cache shards, the caches' maps
//! and the link filter. Paths are short, and nobody gains from making two
//! collide (a collision costs a wait or a slower lookup, never a wrong
//! answer), so a fast hash beats SipHash: with SipHash, `hbstore-bench
//! --only 1`'s key write row loses several percent.

use std::hash::{BuildHasherDefault, Hasher};

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

/// A [`Hasher`] for the caches' maps.
pub(crate) struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(FNV_OFFSET)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv(bytes, self.0);
    }
}

pub(crate) type FnvBuild = BuildHasherDefault<FnvHasher>;
