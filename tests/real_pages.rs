//! Real pages (`tests/pages/`, see its README): the plain path takes each, writes lol_html's
//! output byte for byte, and the same page streamed in random chunks comes out the same.

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};

const PAGES: [&str; 4] = [
    "reference-paths.html",
    "cargo-config.html",
    "rustdoc-redirect.html",
    "postgresql-sql-analyze.html",
];

fn policy(use_get: bool) -> LinkPolicy {
    LinkPolicy::new(
        "https://docs.example/a/page.html",
        &[],
        "sessionid",
        "TOKEN",
    )
    .unwrap()
    .with_use_get(use_get)
}

fn page(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pages")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Cut points for `len` bytes from `seed` (a fixed generator: every run cuts the same).
fn cuts(len: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let count = 1 + next() % 64;
    let mut cuts: Vec<usize> = (0..count).map(|_| (next() as usize) % len).collect();
    cuts.sort_unstable();
    cuts
}

fn streamed(page: &[u8], use_get: bool, cuts: &[usize]) -> Vec<u8> {
    let mut rewriter = TokenRewriter::new(policy(use_get), encoding_rs::UTF_8).unwrap();
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([page.len()].iter()) {
        out.extend(rewriter.write(&page[from..cut]));
        from = cut;
    }
    out.extend(rewriter.end());
    out
}

#[test]
fn real_pages_take_the_plain_path_and_match_lol_html_whole_and_streamed() {
    for name in PAGES {
        let page = page(name);
        for use_get in [false, true] {
            let plain = TokenRewriter::rewrite_plain_document(&policy(use_get), &page)
                .unwrap_or_else(|| panic!("{name}: left to lol_html (use_get {use_get})"));
            let full = TokenRewriter::rewrite_document_with_lol_html(
                policy(use_get),
                encoding_rs::UTF_8,
                &page,
            )
            .unwrap();
            assert!(
                plain == full,
                "{name}: the plain path differs from lol_html"
            );
            if use_get {
                assert!(
                    String::from_utf8_lossy(&plain).contains("sessionid=TOKEN"),
                    "{name}: no link got the token"
                );
            }
            for seed in 0..16 {
                let cuts = cuts(page.len(), seed);
                assert!(
                    streamed(&page, use_get, &cuts) == full,
                    "{name}: streamed in chunks cut at {cuts:?} differs (use_get {use_get})"
                );
            }
        }
    }
}
