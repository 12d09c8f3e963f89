//! Assertions the cases share.

use std::fmt::Debug;

use hbstore::Error;

/// The error of a call that must fail.
pub fn fails<T: Debug>(result: hbstore::Result<T>) -> Error {
    match result {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

/// `Some(bytes)` of a string, as `read` answers.
pub fn bytes(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// `Some(names)`, as `list` answers.
pub fn names(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| s.to_string()).collect())
}
