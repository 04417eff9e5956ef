//! Hostile pages of 1 MB each: how long the crate's rewriter takes on input built to be slow
//! (stray end tags, deep nesting, a tag with thousands of attributes, unclosed comments and
//! tags, thousands of forms), with links and without, streamed in 16 KiB chunks, against bare
//! lol_html on the same bytes in the same run; and held whole (`TokenRewriter::rewrite_document`:
//! the plain path, which hands the page to lol_html where it is not plain, at worst after reading
//! it all).
//!
//! ```text
//! cargo bench --bench hostile
//! ```

use std::{hint::black_box, time::Duration};

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZE: usize = 1_000_000;
const CHUNK: usize = 16 * 1024;

fn repeat(piece: &str) -> Vec<u8> {
    piece.repeat(SIZE / piece.len() + 1).into_bytes()[..SIZE].to_vec()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut attributes = String::from("<a href=/x ");
    let mut i = 0;
    while attributes.len() < SIZE - 1 {
        attributes.push_str(&format!("a{i}=1 "));
        i += 1;
    }
    attributes.push('>');
    vec![
        ("stray end tags", repeat("</div></p></form></span></a>")),
        ("deep nesting", repeat("<div><span><b>")),
        (
            "nested forms",
            repeat("<form method=post action=/x><div><select><template>"),
        ),
        (
            "forms and submitters",
            repeat(
                "<form method=post action=/x><button formaction=//evil.example>x</button></form>",
            ),
        ),
        (
            "links",
            repeat("<a href=/a?b=1&amp;c=2 ping=/p referrerpolicy=unsafe-url>x</a>"),
        ),
        ("thousands of attributes", attributes.into_bytes()),
        // Whole pieces, so that a page held whole takes the plain path (which once searched the
        // rest of the page at every comment).
        (
            "many comments",
            "<!--c--><a href=/x>x</a>".repeat(SIZE / 24).into_bytes(),
        ),
        (
            "unclosed comment",
            [b"<!--".as_slice(), &repeat("<a href=/x>")].concat(),
        ),
        (
            "unclosed tag",
            [b"<a href='".as_slice(), &repeat("x")].concat(),
        ),
        (
            "plain up to its last tag",
            [
                repeat("<p><a href=/a?b=1>x</a></p>").as_slice(),
                b"<svg><a href=/x></svg>",
            ]
            .concat(),
        ),
        ("unclosed svg elements", repeat("<svg>x")),
        ("unclosed scripts", repeat("<script>x")),
    ]
}

fn cookieless(page: &[u8], use_get: bool) -> usize {
    let policy = LinkPolicy::new("https://example.com/p", &[], "sessionid", "TOKEN").unwrap();
    let mut rewriter =
        TokenRewriter::new(policy.with_use_get(use_get), encoding_rs::UTF_8).unwrap();
    let mut len = 0;
    for piece in page.chunks(CHUNK) {
        len += rewriter.write(piece).len();
    }
    len + rewriter.end().len()
}

fn cookieless_whole(page: &[u8], use_get: bool) -> usize {
    let policy = LinkPolicy::new("https://example.com/p", &[], "sessionid", "TOKEN").unwrap();
    TokenRewriter::rewrite_document(policy.with_use_get(use_get), encoding_rs::UTF_8, page)
        .unwrap()
        .len()
}

fn bare(page: &[u8]) -> usize {
    let mut len = 0;
    let mut rewriter =
        lol_html::HtmlRewriter::new(lol_html::Settings::new(), |c: &[u8]| len += c.len());
    for piece in page.chunks(CHUNK) {
        // Bare lol_html may refuse what the crate's rewriter passes through: time it anyway.
        if rewriter.write(piece).is_err() {
            break;
        }
    }
    let _ = rewriter.end();
    len
}

fn hostile(c: &mut Criterion) {
    let mut group = c.benchmark_group("hostile");
    group.throughput(Throughput::BytesDecimal(SIZE as u64));
    for (name, page) in inputs() {
        let page = page.as_slice();
        group.bench_with_input(
            BenchmarkId::new("lol_html no handlers", name),
            page,
            |b, p| b.iter(|| bare(black_box(p))),
        );
        group.bench_with_input(BenchmarkId::new("cookieless forms", name), page, |b, p| {
            b.iter(|| cookieless(black_box(p), false));
        });
        group.bench_with_input(
            BenchmarkId::new("cookieless forms+links", name),
            page,
            |b, p| b.iter(|| cookieless(black_box(p), true)),
        );
        group.bench_with_input(
            BenchmarkId::new("cookieless whole forms+links", name),
            page,
            |b, p| b.iter(|| cookieless_whole(black_box(p), true)),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = hostile
}
criterion_main!(benches);
