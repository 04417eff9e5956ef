//! Rewrite throughput (MB/s) of the crate's `TokenRewriter` against bare lol_html on the same
//! pages, in 1 KiB and 16 KiB chunks, all in one run so the ratios hold on a noisy machine:
//!
//! - `lol_html/no handlers`: the tokenizer alone, the floor no rewriter can beat;
//! - `lol_html/no-op <mode>`: the same selectors as the crate's rewriter, handlers doing
//!   nothing, the engine limit;
//! - `cookieless/<mode>`: the crate's rewriter, `forms` (the default: POST forms) or
//!   `forms+links` (`use_get`: links, GET forms, frames and refreshes too), streamed;
//! - `cookieless whole/<mode>`: the same, on a page the middleware holds whole
//!   (`TokenRewriter::for_document`: the page is scanned first, and lol_html watches only the
//!   elements it has);
//! - `cookieless plain/<mode>`: `TokenRewriter::rewrite_document`, what the middleware runs on
//!   a page held whole: the plain path (no lol_html) when the page is plain, else the above.
//!
//! Pages: a generated page (`benches/support/page.rs`), the 5 KB page of
//! `scripts/compare-sessions` (`benches/support/small_page.rs`), plus every `*.html` in the directory
//! named by `BENCH_CORPUS_DIR` (e.g. `BENCH_CORPUS_DIR=../shared/corpus cargo bench --bench rewrite`).

#[path = "support/page.rs"]
mod page;
#[path = "support/small_page.rs"]
mod small_page;

use std::{borrow::Cow, hint::black_box, time::Duration};

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};

const PAGE_URL: &str = "https://example.com/survey/step/1";
/// As long as a real token (a sealed 64-character session key).
const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWpr";

fn pages() -> Vec<(String, Vec<u8>)> {
    let mut pages = vec![
        (
            "generated".to_owned(),
            page::generated(256 * 1024).into_bytes(),
        ),
        // The 5 KB page of `scripts/compare-sessions`: where a fixed cost per page shows.
        ("small".to_owned(), small_page::small_page().into_bytes()),
    ];
    let Ok(dir) = std::env::var("BENCH_CORPUS_DIR") else {
        eprintln!("BENCH_CORPUS_DIR is not set: benching the generated page only");
        return pages;
    };
    let mut corpus: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("BENCH_CORPUS_DIR={dir}: {e}"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "html"))
        .collect();
    corpus.sort();
    assert!(!corpus.is_empty(), "BENCH_CORPUS_DIR={dir} has no *.html");
    for path in corpus {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        pages.push((name.unwrap_or_default(), bytes));
    }
    pages
}

fn cookieless(page: &[u8], chunk: usize, use_get: bool) -> usize {
    let policy = LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).expect("page URL");
    let rewriter =
        TokenRewriter::new(policy.with_use_get(use_get), encoding_rs::UTF_8).expect("UTF-8");
    feed(rewriter, page, chunk)
}

fn cookieless_whole(page: &[u8], chunk: usize, use_get: bool) -> usize {
    let policy = LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).expect("page URL");
    let rewriter =
        TokenRewriter::for_document(policy.with_use_get(use_get), encoding_rs::UTF_8, page)
            .expect("UTF-8");
    feed(rewriter, page, chunk)
}

fn cookieless_document(page: &[u8], use_get: bool) -> usize {
    let policy = LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).expect("page URL");
    TokenRewriter::rewrite_document(policy.with_use_get(use_get), encoding_rs::UTF_8, page)
        .expect("UTF-8")
        .len()
}

fn feed(mut rewriter: TokenRewriter, page: &[u8], chunk: usize) -> usize {
    let mut len = 0;
    for piece in page.chunks(chunk) {
        len += rewriter.write(piece).len();
    }
    len + rewriter.end().len()
}

fn bare(page: &[u8], chunk: usize, selectors: &[Selector]) -> usize {
    let mut out = Vec::with_capacity(page.len());
    let mut settings = Settings::new();
    for selector in selectors {
        settings = settings.append_element_content_handler((
            Cow::Borrowed(selector),
            ElementContentHandlers::default().element(
                |el: &mut lol_html::html_content::Element<'_, '_>| {
                    black_box(el);
                    Ok(())
                },
            ),
        ));
    }
    let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
    for piece in page.chunks(chunk) {
        rewriter.write(piece).expect("lol_html write");
    }
    rewriter.end().expect("lol_html end");
    out.len()
}

fn parse(selectors: &[&str]) -> Vec<Selector> {
    selectors
        .iter()
        .map(|s| s.parse().expect("selector"))
        .collect()
}

fn rewrite(c: &mut Criterion) {
    let forms = parse(TokenRewriter::selectors(false));
    let links = parse(TokenRewriter::selectors(true));
    for (name, page) in pages() {
        // Sanity: the crate's rewriter really rewrites (or the bench would flatter it).
        let grown = cookieless(&page, 16 * 1024, true);
        eprintln!("{name}: {} bytes, {} bytes rewritten", page.len(), grown);

        let mut group = c.benchmark_group(format!("rewrite/{name}"));
        group.throughput(Throughput::BytesDecimal(page.len() as u64));
        for chunk in [1024, 16 * 1024] {
            let kib = format!("{}KiB", chunk / 1024);
            let page = page.as_slice();
            group.bench_with_input(
                BenchmarkId::new("lol_html no handlers", &kib),
                &chunk,
                |b, &n| b.iter(|| bare(black_box(page), n, &[])),
            );
            group.bench_with_input(
                BenchmarkId::new("lol_html no-op forms", &kib),
                &chunk,
                |b, &n| b.iter(|| bare(black_box(page), n, &forms)),
            );
            group.bench_with_input(
                BenchmarkId::new("cookieless forms", &kib),
                &chunk,
                |b, &n| b.iter(|| cookieless(black_box(page), n, false)),
            );
            group.bench_with_input(
                BenchmarkId::new("cookieless whole forms", &kib),
                &chunk,
                |b, &n| b.iter(|| cookieless_whole(black_box(page), n, false)),
            );
            group.bench_with_input(
                BenchmarkId::new("lol_html no-op forms+links", &kib),
                &chunk,
                |b, &n| b.iter(|| bare(black_box(page), n, &links)),
            );
            group.bench_with_input(
                BenchmarkId::new("cookieless forms+links", &kib),
                &chunk,
                |b, &n| b.iter(|| cookieless(black_box(page), n, true)),
            );
            group.bench_with_input(
                BenchmarkId::new("cookieless whole forms+links", &kib),
                &chunk,
                |b, &n| b.iter(|| cookieless_whole(black_box(page), n, true)),
            );
        }
        // A page held whole is not chunked.
        for (mode, use_get) in [("forms", false), ("forms+links", true)] {
            group.bench_with_input(
                BenchmarkId::new(format!("cookieless plain {mode}"), "whole"),
                &use_get,
                |b, &use_get| b.iter(|| cookieless_document(black_box(&page), use_get)),
            );
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = rewrite
}
criterion_main!(benches);
