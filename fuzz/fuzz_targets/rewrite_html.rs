//! Arbitrary HTML in arbitrary chunks: the rewriter never panics, text and comments come out
//! unchanged, and the token lands only where the rules allow.
#![no_main]

#[path = "../../tests/properties/mod.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first bytes choose the chunk cuts and the use_get switch; the rest is the page.
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let cut_count = usize::from(head & 0x07).min(rest.len() / 2);
    let (cut_bytes, html) = rest.split_at(cut_count * 2);
    let cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    properties::check_rewrite(html, &cuts, head & 0x80 != 0);
});
