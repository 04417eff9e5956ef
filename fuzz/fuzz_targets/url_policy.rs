//! Arbitrary text as a URL: the token goes only to this site's URLs, exactly once.
#![no_main]

#[path = "../../tests/properties/mod.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(url) = std::str::from_utf8(data) {
        properties::check_url_policy(url);
    }
});
