//! Path parsing never panics, and what it accepts is canonical and stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../shared.rs"]
#[allow(dead_code)]
mod shared;

fuzz_target!(|data: &[u8]| {
    shared::check_path(data);
});
