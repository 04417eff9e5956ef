//! Two versions of `TokenRewriter` (this tree's and an older commit's) and bare lol_html, timed
//! in one process on the same pages, as ratios to bare lol_html with no handlers. Built and
//! run by `scripts/compare-rewriters/run <commit>`; see BENCHMARKS.md.

#[path = "../../benches/support/page.rs"]
mod page;

use std::{hint::black_box, time::Instant};

const PAGE_URL: &str = "https://example.com/survey/step/1";
const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWpr";
const CHUNK: usize = 16 * 1024;

fn bare(page: &[u8]) -> usize {
    let mut out = Vec::with_capacity(page.len());
    let mut rewriter =
        lol_html::HtmlRewriter::new(lol_html::Settings::new(), |c: &[u8]| out.extend_from_slice(c));
    for piece in page.chunks(CHUNK) {
        rewriter.write(piece).expect("lol_html");
    }
    rewriter.end().expect("lol_html");
    out.len()
}

macro_rules! streamed {
    ($krate:ident, $page:expr, $use_get:expr) => {{
        let policy = $krate::rewrite::LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).unwrap();
        let mut rewriter =
            $krate::rewrite::TokenRewriter::new(policy.with_use_get($use_get), encoding_rs::UTF_8).unwrap();
        let mut len = 0;
        for piece in $page.chunks(CHUNK) {
            len += rewriter.write(piece).len();
        }
        len + rewriter.end().len()
    }};
}

fn whole(page: &[u8], use_get: bool) -> usize {
    use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
    let policy = LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).unwrap();
    let mut rewriter = TokenRewriter::for_document(policy.with_use_get(use_get), encoding_rs::UTF_8, page).unwrap();
    let mut len = 0;
    for piece in page.chunks(CHUNK) {
        len += rewriter.write(piece).len();
    }
    len + rewriter.end().len()
}

type Run = fn(&[u8]) -> usize;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: compare-rewriters CORPUS_DIR");
    let mut pages = vec![("generated".to_owned(), page::generated(256 * 1024).into_bytes())];
    let mut corpus: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    corpus.sort();
    for path in corpus {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        pages.push((name, std::fs::read(&path).expect("page")));
    }
    let runs: [(&str, Run); 7] = [
        ("bare", bare),
        ("old forms", |p| streamed!(old, p, false)),
        ("new forms", |p| streamed!(actix_cookieless, p, false)),
        ("new forms, whole", |p| whole(p, false)),
        ("old forms+links", |p| streamed!(old, p, true)),
        ("new forms+links", |p| streamed!(actix_cookieless, p, true)),
        ("new forms+links, whole", |p| whole(p, true)),
    ];
    println!("| page | mode | old | new, streamed | new / old | new, whole | whole / old |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (name, page) in &pages {
        // Best of 7 rounds, interleaved, so that a noisy moment hurts every run alike.
        let mut best = [f64::MAX; 7];
        let iterations = (20_000_000 / page.len()).max(3);
        for _ in 0..7 {
            for (i, (_, run)) in runs.iter().enumerate() {
                let start = Instant::now();
                for _ in 0..iterations {
                    black_box(run(black_box(page)));
                }
                best[i] = best[i].min(start.elapsed().as_secs_f64() / iterations as f64);
            }
        }
        let ratio = |i: usize| best[0] / best[i];
        for (mode, old) in [("forms", 1), ("forms+links", 4)] {
            println!(
                "| {name} | {mode} | {:.3} | {:.3} | {:.2} | {:.3} | {:.2} |",
                ratio(old),
                ratio(old + 1),
                ratio(old + 1) / ratio(old),
                ratio(old + 2),
                ratio(old + 2) / ratio(old),
            );
        }
    }
}
