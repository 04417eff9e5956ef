//! A minimal reproducer, fit for an upstream report, of what lol_html's element-handler path
//! costs over its bare tokenizer: the same page through `HtmlRewriter` with no handlers, with
//! one selector that never matches, with one that matches every `<a>`, with the rewriter's
//! selector sets, and with end-tag handlers, all with handlers that do nothing. Only lol_html
//! runs; the crate only supplies its selector lists.
//!
//! ```text
//! cargo run --release --example lol_html_cost -- ../shared/corpus/cloudflare.com.html
//! ```

use std::{borrow::Cow, hint::black_box, time::Instant};

use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings, html_content::Element};

/// Rewrites `page` (16 KiB chunks) with a no-op handler on each selector; `end_tags` also
/// registers a no-op end-tag handler on every element matched.
fn run(page: &[u8], selectors: &[Selector], end_tags: bool) -> usize {
    let mut out = 0;
    let mut settings = Settings::new();
    for selector in selectors {
        let handlers =
            ElementContentHandlers::default().element(move |el: &mut Element<'_, '_>| {
                if end_tags && el.can_have_content() {
                    el.on_end_tag(Box::new(|_| Ok(())))?;
                }
                black_box(el);
                Ok(())
            });
        settings = settings.append_element_content_handler((Cow::Borrowed(selector), handlers));
    }
    let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| out += c.len());
    for chunk in page.chunks(16 * 1024) {
        rewriter.write(chunk).expect("lol_html");
    }
    rewriter.end().expect("lol_html");
    out
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: lol_html_cost PAGE.html");
    let page = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let parse =
        |list: &[&str]| -> Vec<Selector> { list.iter().map(|s| s.parse().unwrap()).collect() };
    // The rewriter's own lists, so this stays the selectors it really registers.
    let forms = actix_cookieless::rewrite::TokenRewriter::selectors(false);
    let links = actix_cookieless::rewrite::TokenRewriter::selectors(true);
    let cases: Vec<(&str, Vec<Selector>, bool)> = vec![
        ("no handlers", vec![], false),
        (
            "one selector, never matches (`nonexistent`)",
            parse(&["nonexistent"]),
            false,
        ),
        ("one selector, `a`", parse(&["a"]), false),
        (
            "one selector, `a`, with end-tag handlers",
            parse(&["a"]),
            true,
        ),
        ("one selector, `*`", parse(&["*"]), false),
        ("the rewriter's 5 form selectors", parse(forms), false),
        (
            "the rewriter's 9 selectors (with links)",
            parse(links),
            false,
        ),
        ("the 9 selectors, with end-tag handlers", parse(links), true),
    ];
    let iterations = (200_000_000 / page.len()).max(3);
    let mut best = vec![f64::MAX; cases.len()];
    for _ in 0..5 {
        for (i, (_, selectors, end_tags)) in cases.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..iterations {
                black_box(run(black_box(&page), selectors, *end_tags));
            }
            best[i] = best[i].min(started.elapsed().as_secs_f64() / iterations as f64);
        }
    }
    println!(
        "{} ({} bytes), best of 5 rounds, throughput and ratio to no handlers:\n",
        path,
        page.len()
    );
    println!("| handlers | MB/s | ratio |\n|---|---:|---:|");
    for (i, (name, _, _)) in cases.iter().enumerate() {
        println!(
            "| {name} | {:.0} | {:.2}x |",
            page.len() as f64 / best[i] / 1e6,
            best[0] / best[i]
        );
    }
}
