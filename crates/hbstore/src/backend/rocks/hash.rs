//! FNV-1a: the hash of the lock stripes and of the group cache's sets.
//! Paths are short, and nobody gains from making two collide (a collision
//! costs a wait or a slower lookup, never a wrong answer), so a fast hash
//! beats SipHash, which showed in a write's cost.

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

#[derive(Default)]
pub(crate) struct FnvHasher(Option<u64>);

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0.unwrap_or(FNV_OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = Some(fnv(bytes, self.finish()));
    }
}

pub(crate) type FnvBuild = BuildHasherDefault<FnvHasher>;
