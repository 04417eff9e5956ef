//! SECURITY.md says which tests show each defence: every test it names exists, in the file it
//! names when it names one (`tests/abuse.rs` (`name`, `..._suffix`), `transport.rs`: `name`),
//! and every file it cites is there. A test renamed or moved makes this fail, so the document
//! cannot go on citing what is gone.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The code spans of `text` (between single backticks), each with the text that follows it
/// up to the next code span.
fn code_spans(text: &str) -> Vec<(&str, &str)> {
    let parts: Vec<&str> = text.split('`').collect();
    // Odd parts are inside backticks.
    (1..parts.len())
        .step_by(2)
        .map(|i| (parts[i], parts.get(i + 1).copied().unwrap_or("")))
        .collect()
}

fn is_identifier(span: &str) -> bool {
    span.contains('_')
        && span
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// The source files a cited path names: `tests/x.rs` and `src/...` as written; a bare
/// `token.rs` or `store/memory.rs`, the file under `src/` (or its `mod.rs`) ending so.
fn resolve(cited: &str, sources: &[PathBuf]) -> Vec<PathBuf> {
    let exact = root().join(cited);
    if exact.is_file() {
        return vec![exact];
    }
    let as_module = cited.trim_end_matches(".rs").to_owned() + "/mod.rs";
    sources
        .iter()
        .filter(|path| {
            let path = path.to_string_lossy();
            path.ends_with(&format!("/{cited}")) || path.ends_with(&format!("/{as_module}"))
        })
        .cloned()
        .collect()
}

/// Whether `file` defines a function `name`, or one ending in `suffix` for a `..._suffix`.
fn defines(file: &Path, name: &str) -> bool {
    let code = std::fs::read_to_string(file).unwrap_or_default();
    match name.strip_prefix("...") {
        Some(suffix) => code.lines().any(|line| {
            line.trim_start()
                .strip_prefix("async fn ")
                .or_else(|| line.trim_start().strip_prefix("fn "))
                .and_then(|rest| rest.split(['(', '<']).next())
                .is_some_and(|f| f.ends_with(suffix))
        }),
        None => code.contains(&format!("fn {name}(")) || code.contains(&format!("fn {name}<")),
    }
}

#[test]
fn every_test_security_md_cites_exists_where_it_says() {
    let doc = std::fs::read_to_string(root().join("SECURITY.md")).expect("SECURITY.md");
    let mut sources = Vec::new();
    rust_files(&root().join("src"), &mut sources);
    rust_files(&root().join("tests"), &mut sources);
    let everything: String = sources
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    // A name cited without its file (a test, a setting, a function) is somewhere.
    let all_names = |name: &str| name.starts_with("...") || everything.contains(name);

    let spans = code_spans(&doc);
    let mut cited_in_files = 0;
    let mut problems = Vec::new();
    for (i, &(span, after)) in spans.iter().enumerate() {
        if span.ends_with(".rs") || span.starts_with("tests/") || span.starts_with("src/") {
            let files = resolve(span, &sources);
            let is_dir = root().join(span).is_dir();
            if files.is_empty() && !is_dir {
                problems.push(format!("`{span}` does not exist"));
                continue;
            }
            // The names cited with it: `file` (`a`, `b`) or `file`: `a`, `b`.
            if !matches!(after.trim(), "(" | ":") {
                continue;
            }
            for &(name, next) in &spans[i + 1..] {
                if !is_identifier(name) && !name.starts_with("...") {
                    break;
                }
                if !files.is_empty() && !files.iter().any(|f| defines(f, name)) {
                    problems.push(format!("`{name}` is not in `{span}`"));
                }
                cited_in_files += 1;
                if next.trim() != "," {
                    break;
                }
            }
        } else if is_identifier(span) && !all_names(span) {
            problems.push(format!("`{span}` names nothing in src/ or tests/"));
        }
    }
    assert!(problems.is_empty(), "SECURITY.md: {problems:#?}");
    assert!(
        cited_in_files >= 8,
        "only {cited_in_files} tests cited with their file: the parser lost them"
    );
}
