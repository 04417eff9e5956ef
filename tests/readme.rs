//! The README's Quick start is `examples/quickstart.rs` (which `cargo test` compiles), word for
//! word, and its `[dependencies]` name everything that code uses; so is its axum one
//! `examples/axum_quickstart.rs` (compiled with the `tower` feature).

const README: &str = include_str!("../README.md");
const EXAMPLE: &str = include_str!("../examples/quickstart.rs");
const AXUM_EXAMPLE: &str = include_str!("../examples/axum_quickstart.rs");

/// The first fenced block of `lang` after `heading`.
fn block<'a>(heading: &str, lang: &str) -> &'a str {
    let section = &README[README.find(heading).unwrap_or_else(|| panic!("{heading}"))..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).unwrap_or_else(|| panic!("{fence}")) + fence.len();
    let len = section[start..].find("```").expect("a closing fence");
    // `README` is 'static; the slice borrows it.
    &README[README.len() - section.len() + start..][..len]
}

/// The section's code is `example`, and its `[dependencies]` name `crates` and every crate the
/// code uses.
fn check(heading: &str, example: &str, crates: &[&str]) {
    assert_eq!(
        block(heading, "rust"),
        example,
        "README's {heading} and its example differ"
    );
    let toml = block(heading, "toml");
    for krate in crates {
        assert!(
            toml.lines().any(|l| l.starts_with(&format!("{krate} = "))),
            "{heading}'s [dependencies] lack {krate}:\n{toml}"
        );
    }
    let used = example.lines().filter_map(|l| l.strip_prefix("use "));
    let called = example.lines().filter_map(|l| {
        let l = l
            .trim_start()
            .trim_start_matches('#')
            .trim_start_matches('[');
        l.split_once("::").map(|(krate, _)| krate)
    });
    for krate in used.chain(called) {
        let krate = krate.split("::").next().unwrap().replace('_', "-");
        if krate.chars().all(|c| c.is_ascii_lowercase() || c == '-') && krate != "std" {
            assert!(
                toml.contains(&format!("{krate} = ")),
                "{heading}'s example uses {krate}, not in its [dependencies]"
            );
        }
    }
}

#[test]
fn the_quick_start_is_the_example_that_compiles_with_its_dependencies() {
    check(
        "## Quick start",
        EXAMPLE,
        &["actix-cookieless", "actix-web"],
    );
}

#[test]
fn the_axum_start_is_the_example_that_compiles_with_its_dependencies() {
    check(
        "## axum and tower",
        AXUM_EXAMPLE,
        &["actix-cookieless", "axum", "tokio"],
    );
}
