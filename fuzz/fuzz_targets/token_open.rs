//! Arbitrary bytes as a token: opening never panics and opens nothing it should not; a token
//! sealed from them opens only at its path.
#![no_main]

#[path = "../../tests/properties/mod.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::check_token(data));
