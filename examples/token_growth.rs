//! How much a page grows when its links carry the token, with the old 135-character tokens and
//! the 67-character tokens of a `MemoryStore` session now (`use_get`, every same-site link).
//!
//! ```text
//! cargo run --release --example token_growth -- ../shared/corpus/*.html
//! ```

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};

fn rewritten_len(page: &[u8], token: &str) -> usize {
    let policy = LinkPolicy::new("https://example.com/survey/step/1", &[], "sessionid", token)
        .expect("a valid page URL");
    let mut rewriter =
        TokenRewriter::for_document(policy.with_use_get(true), encoding_rs::UTF_8, page)
            .expect("UTF-8 is rewritable");
    rewriter.write(page).len() + rewriter.end().len()
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    assert!(!paths.is_empty(), "usage: token_growth PAGE.html...");
    println!("| page | bytes | with 135-character tokens | with 67-character tokens |");
    println!("|---|---:|---:|---:|");
    for path in paths {
        let page = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let grown = |len: usize| {
            let after = rewritten_len(&page, &"T".repeat(len));
            format!(
                "{after} (+{:.0}%)",
                (after as f64 / page.len() as f64 - 1.0) * 100.0
            )
        };
        let name = std::path::Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy();
        println!(
            "| {name} | {} | {} | {} |",
            page.len(),
            grown(135),
            grown(67)
        );
    }
}
