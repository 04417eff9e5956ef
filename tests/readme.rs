//! The README's Quick start is `examples/quickstart.rs` (which `cargo test` compiles), word for
//! word, and its `[dependencies]` name everything that code uses.

const README: &str = include_str!("../README.md");
const EXAMPLE: &str = include_str!("../examples/quickstart.rs");

/// The first fenced block of `lang` after `heading`.
fn block<'a>(heading: &str, lang: &str) -> &'a str {
    let section = &README[README.find(heading).unwrap_or_else(|| panic!("{heading}"))..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).unwrap_or_else(|| panic!("{fence}")) + fence.len();
    let len = section[start..].find("```").expect("a closing fence");
    // `README` is 'static; the slice borrows it.
    &README[README.len() - section.len() + start..][..len]
}

#[test]
fn the_quick_start_is_the_example_that_compiles() {
    assert_eq!(
        block("## Quick start", "rust"),
        EXAMPLE,
        "README's Quick start and examples/quickstart.rs differ"
    );
}

#[test]
fn the_quick_start_lists_its_dependencies() {
    let toml = block("## Quick start", "toml");
    for krate in ["actix-cookieless", "actix-web"] {
        assert!(
            toml.lines().any(|l| l.starts_with(&format!("{krate} = "))),
            "the Quick start's [dependencies] lack {krate}:\n{toml}"
        );
    }
    for used in EXAMPLE.lines().filter_map(|l| l.strip_prefix("use ")) {
        let krate = used.split("::").next().unwrap().replace('_', "-");
        assert!(
            toml.contains(&format!("{krate} = ")),
            "examples/quickstart.rs uses {krate}, not in the Quick start's [dependencies]"
        );
    }
}
