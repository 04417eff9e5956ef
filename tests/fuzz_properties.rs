//! A short proptest pass of the properties the fuzz targets in `fuzz/` check at length (see
//! `tests/properties/mod.rs`): run on every `./scripts/test-all`.

mod properties;

use proptest::prelude::*;

/// HTML made of the pieces that matter to the rewriter, in any order and nesting.
fn html_piece() -> impl Strategy<Value = String> {
    let url = prop_oneof![
        Just("/next"),
        Just(""),
        Just("#top"),
        Just("?q=1&amp;r=2"),
        Just("//evil.example/x"),
        Just("https://shop.example/p"),
        Just("http://shop.example/p"),
        Just("https://pay.example/"),
        Just("https://cdn.example:8443/"),
        Just("https://cdn.example/"),
        Just("javascript:alert(1)"),
        Just("https://me@shop.example/"),
        Just("/\\evil.example"),
        Just(" /sp "),
        Just("data:,x"),
        Just("HTTPS://SHOP.EXAMPLE/"),
        Just("https://evil.example/?sessionid=1"),
        Just("https&colon;//evil.example/"),
        Just("&sol;&sol;evil.example/"),
        Just("https&#58//evil.example/"),
        Just("/&bsol;evil.example/"),
        Just("/&Tab;/evil.example/"),
        Just("x&amp;y"),
    ];
    let quote = prop_oneof![Just("\""), Just("'"), Just("")];
    (0..14usize, url, quote, "[a-z<>&\"' =/]{0,12}").prop_map(|(kind, url, q, text)| match kind {
        0 => format!("<a href={q}{url}{q}>{text}</a>"),
        1 => format!("<form method=post action={q}{url}{q}>"),
        2 => "<form method=get>".to_owned(),
        3 => "</form>".to_owned(),
        4 => format!("<button formaction={q}{url}{q}>go</button>"),
        5 => format!("<base href={q}{url}{q}>"),
        6 => format!("<script>var a = '<a href=\"{url}\">{text}';</script>"),
        7 => format!("<!-- <a href=\"{url}\"> {text} -->"),
        8 => format!("<iframe src={q}{url}{q}></iframe>"),
        9 => format!("<meta http-equiv=refresh content=\"0; url={url}\">"),
        10 => format!("<textarea><form method=post>{text}</textarea>"),
        11 => format!("<img src={q}{url}{q}>"),
        12 => format!("<area href={q}{url}{q}>"),
        _ => text,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn rewriting_structured_html_keeps_text_and_the_rules(
        pieces in proptest::collection::vec(html_piece(), 0..24),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        use_get in any::<bool>(),
    ) {
        properties::check_rewrite(pieces.concat().as_bytes(), &cuts, use_get);
    }

    #[test]
    fn rewriting_random_bytes_never_panics(
        html in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        properties::check_rewrite(&html, &cuts, true);
    }

    #[test]
    fn the_url_policy_keeps_tokens_on_the_site(url in "[a-zA-Z:/\\\\.@#?&=%\\- ]{0,40}") {
        properties::check_url_policy(&url);
    }

    #[test]
    fn the_url_policy_on_urls_near_the_site(
        scheme in prop_oneof![Just("https://"), Just("http://"), Just("//"), Just(""), Just("/\\")],
        host in prop_oneof![Just("shop.example"), Just("pay.example"), Just("cdn.example:8443"), Just("evil.example"), Just("shop.example.evil"), Just("user@shop.example")],
        path in "[a-z/?#&=.]{0,12}",
    ) {
        properties::check_url_policy(&format!("{scheme}{host}{path}"));
    }

    #[test]
    fn tokens_open_nothing_they_should_not(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        properties::check_token(&bytes);
    }
}

/// Found by the property above: a browser ignores a `<form>` inside an open form, so a token put
/// into the inner one would be sent by the outer one, here to another site.
#[test]
fn no_token_in_a_form_nested_in_a_form_that_posts_elsewhere() {
    let html = br#"<form action="https://evil.example/c"><form method=post action="/x"><input name=a></form></form>"#;
    for use_get in [false, true] {
        properties::check_rewrite(html, &[], use_get);
        let out = properties::rewrite_in_chunks(html, &[], use_get);
        assert!(!String::from_utf8(out).unwrap().contains(properties::TOKEN));
    }
}

/// Every input the fuzzer once failed on (`fuzz/regressions/rewrite_html-*.bin`) passes now.
#[test]
fn fuzz_regressions_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("rewrite_html-") && name.ends_with(".bin") {
            properties::check_rewrite_bytes(&std::fs::read(&path).expect("a regression input"));
            replayed += 1;
        }
    }
    assert!(
        replayed >= 2,
        "only {replayed} regression inputs in {}",
        dir.display()
    );
}
