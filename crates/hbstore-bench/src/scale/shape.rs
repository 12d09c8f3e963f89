//! The messages of the scale run, the same in every worker process
//! without being passed around: message `i`'s id, its fields' names and
//! values all follow from `i`.

use hbstore_testkit::Rng;

use crate::workloads::hyperbeam::address;
use crate::workloads::node::{text, vocabulary};

/// Every message's fields (HyperBEAM's message shape: `ID/field`).
pub const FIELDS: [&str; 4] = ["data", "owner", "signature", "target"];
/// Each field's value, in bytes.
pub const VALUE_BYTES: usize = 100;

/// Generates the store's content from message numbers.
pub struct Shape {
    words: Vec<String>,
}

impl Shape {
    pub fn new() -> Shape {
        Shape {
            words: vocabulary(&mut Rng::new(11)),
        }
    }

    /// Message `i`'s id: 43 characters, a content address as HyperBEAM's
    /// are (so consecutive messages land far apart in key order).
    pub fn id(i: u64) -> String {
        address(&i.to_le_bytes())
    }

    /// The path of field `field` of message `i`.
    pub fn field_path(i: u64, field: usize) -> String {
        format!("{}/{}", Shape::id(i), FIELDS[field])
    }

    /// Message `i`'s field values, text-like (see `node.rs`).
    pub fn values(&self, i: u64) -> [Vec<u8>; 4] {
        let mut rng = Rng::new(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        std::array::from_fn(|_| text(&mut rng, &self.words, VALUE_BYTES))
    }
}
