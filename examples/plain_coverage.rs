//! How much of a corpus of real pages the plain path takes (issue 31): every `*.html` under
//! the directories given, rewritten as a page held whole is (without `use_get`, and with it),
//! counted by pages and by bytes, with what the pages it leaves to lol_html hold.
//!
//! ```text
//! cargo run --release --features testing --example plain_coverage -- [--list] [--check] \
//!     ~/.rustup/toolchains/*/share/doc/rust/html /usr/share/doc/python3/html
//! ```
//!
//! A page without a form is not rewritten at all without `use_get` (it passes as it is),
//! counted apart. What a declined page holds is read from its bytes (a tag name, a `<!--` in
//! a script), not from the plain path itself: it says what is common on pages left to lol_html,
//! not which rule declined each.

use std::{collections::BTreeMap, path::Path};

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};

/// Pages larger than this are left out (the middleware holds at most 256 KiB by default).
const MAX_PAGE: u64 = 1024 * 1024;

#[derive(Default)]
struct Count {
    pages: u64,
    bytes: u64,
}

impl Count {
    fn add(&mut self, len: usize) {
        self.pages += 1;
        self.bytes += len as u64;
    }
}

#[derive(Default)]
struct Tally {
    all: Count,
    /// Passed as they are (no form, without `use_get`): neither path runs.
    passed: Count,
    /// Rewritten by the plain path.
    taken: Count,
    /// What declined pages hold, by feature.
    held: BTreeMap<&'static str, Count>,
}

/// What a page holds that the plain path may decline it for (any case, as tags are read).
fn features(page: &[u8]) -> Vec<&'static str> {
    let lower = page.to_ascii_lowercase();
    let has = |needle: &str| memchr::memmem::find(&lower, needle.as_bytes()).is_some();
    let mut found: Vec<&'static str> = [
        ("<svg", "inline <svg>"),
        ("<math", "<math>"),
        ("<template", "<template>"),
        ("<base", "<base>"),
        ("<iframe", "<iframe>"),
        ("<frame", "<frame>"),
        ("http-equiv", "<meta http-equiv>"),
        ("name=\"referrer\"", "<meta name=referrer>"),
        ("referrerpolicy", "referrerpolicy"),
        ("ping=", "ping"),
        ("<noscript", "<noscript>"),
        ("<select", "<select>"),
        ("<textarea", "<textarea>"),
        ("formaction", "formaction/formmethod"),
        ("<![cdata[", "CDATA"),
    ]
    .into_iter()
    .filter(|(needle, _)| has(needle))
    .map(|(_, name)| name)
    .collect();
    if std::str::from_utf8(page).is_err() {
        found.push("not UTF-8");
    }
    if has_script_comment(&lower) {
        found.push("<!-- in a script");
    }
    if found.is_empty() {
        found.push("none of these");
    }
    found
}

fn has_script_comment(lower: &[u8]) -> bool {
    let mut rest = lower;
    while let Some(at) = memchr::memmem::find(rest, b"<script") {
        rest = &rest[at..];
        let end = memchr::memmem::find(rest, b"</script").unwrap_or(rest.len());
        if memchr::memmem::find(&rest[..end], b"<!--").is_some() {
            return true;
        }
        rest = &rest[end..];
    }
    false
}

fn visit(dir: &Path, pages: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("{}: not a readable directory", dir.display());
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            visit(&path, pages);
        } else if path.extension().is_some_and(|e| e == "html") && meta.len() <= MAX_PAGE {
            pages.push(path);
        }
    }
}

fn main() {
    let mut dirs: Vec<String> = std::env::args().skip(1).collect();
    // `--list`: also names each page left to lol_html (with `use_get`); `--check`: holds the
    // plain path's output to lol_html's, byte for byte, on every page it takes.
    let list = dirs.iter().any(|d| d == "--list");
    let check = dirs.iter().any(|d| d == "--check");
    dirs.retain(|d| d != "--list" && d != "--check");
    assert!(
        !dirs.is_empty(),
        "usage: plain_coverage [--list] [--check] DIR..."
    );
    let mut differ = 0;
    let mut pages = Vec::new();
    for dir in &dirs {
        visit(Path::new(dir), &mut pages);
    }
    let policy = LinkPolicy::new(
        "https://docs.example/page.html",
        &[],
        "sessionid",
        "TOKEN0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_012",
    )
    .expect("a policy");
    let mut tallies = [Tally::default(), Tally::default()];
    for path in &pages {
        let Ok(page) = std::fs::read(path) else {
            continue;
        };
        let has_form = memchr::memmem::find(&page.to_ascii_lowercase(), b"<form").is_some();
        for (tally, use_get) in tallies.iter_mut().zip([false, true]) {
            let policy = policy.clone().with_use_get(use_get);
            tally.all.add(page.len());
            // Without `use_get` a page without a form passes as it is, before the plain path.
            if !use_get && !has_form {
                tally.passed.add(page.len());
            } else if let Some(plain) = TokenRewriter::rewrite_plain_document(&policy, &page) {
                tally.taken.add(page.len());
                if check
                    && TokenRewriter::rewrite_document_with_lol_html(
                        policy,
                        encoding_rs::UTF_8,
                        &page,
                    )
                    .is_none_or(|full| full != plain)
                {
                    differ += 1;
                    println!(
                        "differs from lol_html (use_get {use_get}): {}",
                        path.display()
                    );
                }
            } else {
                if list && use_get {
                    println!("left to lol_html: {}", path.display());
                }
                for feature in features(&page) {
                    tally.held.entry(feature).or_default().add(page.len());
                }
            }
        }
    }
    println!("{} pages under {}\n", pages.len(), dirs.join(", "));
    if check {
        println!("plain path against lol_html: {differ} outputs differ\n");
    }
    let share = |part: u64, all: u64| 100.0 * part as f64 / all.max(1) as f64;
    for (tally, mode) in tallies.iter().zip(["without use_get", "with use_get"]) {
        let lol = tally.all.pages - tally.passed.pages - tally.taken.pages;
        let lol_bytes = tally.all.bytes - tally.passed.bytes - tally.taken.bytes;
        println!(
            "{mode}: {:.1}% of pages ({} of {}) and {:.1}% of bytes go to lol_html; \
             the plain path rewrites {} pages, {} pass as they are (no form)",
            share(lol, tally.all.pages),
            lol,
            tally.all.pages,
            share(lol_bytes, tally.all.bytes),
            tally.taken.pages,
            tally.passed.pages,
        );
        println!("  pages left to lol_html hold (a page may hold several):");
        let mut held: Vec<_> = tally.held.iter().collect();
        held.sort_by_key(|(_, count)| std::cmp::Reverse(count.pages));
        for (feature, count) in held {
            println!(
                "    {feature}: {} pages ({:.1}% of all)",
                count.pages,
                share(count.pages, tally.all.pages)
            );
        }
        println!();
    }
}
