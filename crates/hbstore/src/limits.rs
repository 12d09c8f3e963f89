//! The contract's two limits (`docs/contract.md`), below every other
//! module: paths are checked against one, resolution stops at the other,
//! and errors name both.

/// The longest canonical path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 8 * 1024;

/// Resolution gives up after this many link hops with
/// [`Error::LinkLoop`](crate::Error::LinkLoop), so a cycle never hangs.
pub const MAX_LINK_HOPS: u32 = 40;
