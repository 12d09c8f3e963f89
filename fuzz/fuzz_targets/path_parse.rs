//! Path parsing never panics, and what it accepts is canonical and stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hbstore_testkit::fuzz::check_path(data);
});
