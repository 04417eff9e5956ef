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

// How the old commit's rewriter is made: written by `run` for that commit's API (before
// issue 28, `use_get` was an argument of `TokenRewriter::new`, not part of the policy).
include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/old_api.rs"));

/// Fed in chunks, as a stream; `scanned`: made for the document held whole
/// (`for_document`: the prescan narrows what lol_html watches).
macro_rules! lol {
    ($krate:ident, $page:expr, $use_get:expr, $scanned:expr) => {{
        let policy = $krate::rewrite::LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).unwrap();
        let mut rewriter = if $scanned {
            rewriter!($krate, for_document, policy, $use_get, $page)
        } else {
            rewriter!($krate, new, policy, $use_get)
        };
        let mut len = 0;
        for piece in $page.chunks(CHUNK) {
            len += rewriter.write(piece).len();
        }
        len + rewriter.end().len()
    }};
}

/// Held whole, as the middleware rewrites a page: the plain path, lol_html where it declines.
macro_rules! whole {
    ($krate:ident, $page:expr, $use_get:expr) => {{
        let policy = $krate::rewrite::LinkPolicy::new(PAGE_URL, &[], "sessionid", TOKEN).unwrap();
        rewriter!($krate, rewrite_document, policy, $use_get, $page).len()
    }};
}

type Run = fn(&[u8]) -> usize;

/// Per mode, each version's: streamed, scanned, whole.
const RUNS: usize = 1 + 2 * 2 * 3;

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
    let runs: [Run; RUNS] = [
        bare,
        |p| lol!(old, p, false, false),
        |p| lol!(old, p, false, true),
        |p| whole!(old, p, false),
        |p| lol!(actix_cookieless, p, false, false),
        |p| lol!(actix_cookieless, p, false, true),
        |p| whole!(actix_cookieless, p, false),
        |p| lol!(old, p, true, false),
        |p| lol!(old, p, true, true),
        |p| whole!(old, p, true),
        |p| lol!(actix_cookieless, p, true, false),
        |p| lol!(actix_cookieless, p, true, true),
        |p| whole!(actix_cookieless, p, true),
    ];
    println!("Throughput as a ratio to bare lol_html, old → new (new / old):\n");
    println!("| page | mode | streamed | scanned (`for_document`) | whole (`rewrite_document`) |");
    println!("|---|---|---|---|---|");
    for (name, page) in &pages {
        // Best of 7 rounds, interleaved, so that a noisy moment hurts every run alike.
        let mut best = [f64::MAX; RUNS];
        let iterations = (20_000_000 / page.len()).max(3);
        for _ in 0..7 {
            for (i, run) in runs.iter().enumerate() {
                let start = Instant::now();
                for _ in 0..iterations {
                    black_box(run(black_box(page)));
                }
                best[i] = best[i].min(start.elapsed().as_secs_f64() / iterations as f64);
            }
        }
        let ratio = |i: usize| best[0] / best[i];
        let cell = |old: usize| {
            let (old, new) = (ratio(old), ratio(old + 3));
            format!("{old:.3} → {new:.3} ({:.2})", new / old)
        };
        for (mode, first) in [("forms", 1), ("forms+links", 7)] {
            println!(
                "| {name} | {mode} | {} | {} | {} |",
                cell(first),
                cell(first + 1),
                cell(first + 2)
            );
        }
    }
}
