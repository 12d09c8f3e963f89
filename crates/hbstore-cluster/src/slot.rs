//! Which of the cluster's 16,384 hash slots a key lives in: CRC16 (XMODEM)
//! of the key, or of its hash tag (the part between the first `{` and the
//! next `}`, when not empty), as every Redis Cluster node computes it.

/// The number of hash slots of a Redis cluster.
pub const SLOTS: u16 = 16_384;

/// The slot of `key`.
pub fn of(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOTS
}

fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_agree_with_redis() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(of(b"foo"), 12182);
        assert_eq!(of(b"bar"), 5061);
        assert_eq!(of(b"123456789"), 12739);
    }

    #[test]
    fn a_hash_tag_decides_the_slot() {
        assert_eq!(of(b"{user1000}.following"), of(b"user1000"));
        assert_eq!(of(b"{user1000}.followers"), of(b"{user1000}x"));
        // An empty tag is no tag: the whole key is hashed.
        assert_eq!(of(b"foo{}{bar}"), crc16(b"foo{}{bar}") % SLOTS);
        // Only the first `{`...`}` counts.
        assert_eq!(of(b"foo{{bar}}zap"), of(b"{bar"));
    }
}
