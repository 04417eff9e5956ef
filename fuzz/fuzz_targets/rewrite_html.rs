//! Arbitrary HTML in arbitrary chunks: the rewriter never panics, text and comments come out
//! unchanged, and the token lands only where the rules allow.
#![no_main]

#[path = "../../tests/properties/mod.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first bytes choose the chunk cuts and the use_get switch; the rest is the page.
    properties::check_rewrite_bytes(data);
});
