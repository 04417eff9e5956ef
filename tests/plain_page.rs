//! The plain path (`src/rewrite/plain/`) against the full rewriter: on every page the plain
//! path accepts, its output must be lol_html's, byte for byte; what the plain path refuses goes
//! to lol_html anyway. And against a browser's tree builder, which shares neither's view: the
//! plain path's output on the same generated pages is read by html5ever in every reading (no
//! leak, text and links kept), and on clean pages every navigation to this site carries the
//! token (a path that placed none would pass the other checks).

use std::sync::Arc;

use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
use proptest::prelude::*;

#[path = "../benches/support/page.rs"]
mod bench_page;
#[path = "properties/mod.rs"]
mod properties;
#[path = "../benches/support/small_page.rs"]
mod small;
use small::small_page;

const PAGE: &str = "https://shop.example/a/page?x=1";

fn policy(bound: bool) -> LinkPolicy {
    let policy = LinkPolicy::new(PAGE, &["pay.example".into()], "sessionid", "TOKEN").unwrap();
    if bound {
        policy.bound_to_paths(Arc::new(|path: &str| Some(format!("T{}", path.len()))))
    } else {
        policy
    }
}

/// The plain path's output, after checking it against the full rewriter's; `None` when the
/// plain path left the page to lol_html. What the middleware runs on a page held whole
/// (`rewrite_document`: a page without forms passes as it is without `use_get`, else the plain
/// path, else lol_html) must be lol_html's output in any case.
fn plain_checked(page: &[u8], use_get: bool, bound: bool) -> Option<Vec<u8>> {
    let full = TokenRewriter::rewrite_document_with_lol_html(
        policy(bound).with_use_get(use_get),
        encoding_rs::UTF_8,
        page,
    )
    .unwrap();
    let served = TokenRewriter::rewrite_document(
        policy(bound).with_use_get(use_get),
        encoding_rs::UTF_8,
        page,
    )
    .unwrap();
    assert!(served == full, "rewrite_document differs from lol_html");
    let plain = TokenRewriter::rewrite_plain_document(&policy(bound).with_use_get(use_get), page)?;
    assert_eq!(
        String::from_utf8_lossy(&plain),
        String::from_utf8_lossy(&full),
        "use_get {use_get}, bound {bound}, page {:?}",
        String::from_utf8_lossy(page)
    );
    Some(plain)
}

#[test]
fn plain_pages_take_the_plain_path_and_match_lol_html() {
    // The bench's page: 256 KiB, forms all through it.
    let generated = bench_page::generated(256 * 1024);
    for page in [small_page(), generated] {
        for use_get in [true, false] {
            for bound in [false, true] {
                let out = plain_checked(page.as_bytes(), use_get, bound)
                    .unwrap_or_else(|| panic!("not plain: {}", &page[..80]));
                assert!(out.len() > page.len(), "no token placed");
            }
        }
    }
}

#[test]
fn pages_with_what_needs_care_go_to_lol_html() {
    let cases = [
        "<svg/>",
        "<svg><svg></svg></svg>",
        "<svg><math></math></svg>",
        "<svg><foreignObject></foreignObject></svg>",
        "<svg><style>path{}</style></svg>",
        "<svg><title>a <b>b</b></title></svg>",
        "<svg><g></svg>",
        "<div><svg></div>",
        "<svg><!--[CDATA[x]]--></svg>",
        "<svg><![CDATA[x]]></svg>",
        "<svg><p>out</p></svg>",
        "<select></select><svg></svg>",
        "<div><template></div>",
        "<script>\"<!--\" + \"<SCRIPT>\"</script>",
        "<script><!-- <script/></script>",
        "<select><template></template></select>",
        "<template><form></form></template>",
        "<iframe src=/x></iframe>",
        "<math></math>",
        "<template><form method=post></form></template>",
        "<base href=https://other.example/>",
        "<meta name=referrer content=unsafe-url>",
        "<meta name=\"r&#101;ferrer\" content=unsafe-url>",
        "<meta http-equiv=\"Referrer-Policy\" content=unsafe-url>",
        "<a href=/x ping=https://other.example/>x</a>",
        "<img src=x referrerpolicy=unsafe-url>",
        "<form method=post><button formaction=https://other.example/>x</button></form>",
        "<form method=post></form><button form=f>x</button>",
        "<form method=post><button formmethod=get>x</button></form>",
        "<script><!-- <script> </script> --></script><a href=/x>x</a>",
        "<script>unclosed",
        "<a href=/x",
        "<a href=\"/x>",
        "<a =x href=/x>",
        "<a href=/x\"y>",
        "<a href=>x</a>",
        "<!-->",
        "<!--->",
        "<!-- a --!> <a href=/x>",
        "<![CDATA[x]]>",
        "</>",
        "</ a>",
        "<!x>",
        "\u{feff}<a href=/x>x</a>",
        "<a href=/x>\0</a>",
        "<plaintext><a href=/x>",
        "<noscript><a href=/x ping=/p></noscript>",
        "<noscript><button form = f>b</button></noscript>",
        "<form method=\"post\"/>",
        // Text some browser reads as markup, that would act there (rules.rs).
        "<noscript><form action=https://other.example/></noscript>",
        "<noscript><!--</noscript><a href=/x>x</a>-->",
        "<noscript><select></noscript>",
        "<select><style><base href=//other.example/></style></select>",
        "<select><title></select><form></title>",
        "<select><xmp><!--</xmp></select>",
        // A select lol_html closes at an ancestor's end tag: the full rewriter writes
        // `</select>` in.
        "<div><select></div>",
    ];
    for case in cases {
        assert!(
            TokenRewriter::rewrite_plain_document(
                &policy(false).with_use_get(true),
                case.as_bytes()
            )
            .is_none(),
            "taken as plain: {case}"
        );
    }
    let not_utf8 = b"<a href=/x>\xff</a>";
    assert!(
        TokenRewriter::rewrite_plain_document(&policy(false).with_use_get(true), not_utf8)
            .is_none()
    );
}

/// A start tag lol_html misreads (`<title a=>`: it reads the title's text as markup) is
/// followed by lol_html's path wherever it stands, even where a browser reads no tag (a
/// comment, a script, a value), and stops the tokens there. The plain path reads those places
/// as browsers do, and once gave the form after such a comment its token: the two paths
/// differed (found by a sweep). It now asks the same of every `<` it does not read as a tag,
/// and leaves such a page to lol_html; a tag lol_html reads right there stays plain.
#[test]
fn tags_lol_html_misreads_anywhere_send_the_page_to_lol_html() {
    let places = [
        "<!--{}-->",
        "<!--<!--{}-->",
        "<!doctype html{}",
        "<?xml {}",
        "<script>{}</script>",
        "<script>if (a<b) x = '{}';</script>",
        "<style>{}</style>",
        "<title>{}</title>",
        "<textarea>{}</textarea>",
        "<xmp>{}</xmp>",
        "<noembed>{}</noembed>",
        "<noframes>{}</noframes>",
        "<iframe>{}</iframe>",
        "<a title=\"{}\">x</a>",
        "<a title='{}' href=/y>x</a>",
        "<p title=\"x\" data-y=\"{}\">",
        "<p></p title=\"{}\">",
        "<svg><!--{}--></svg>",
        "<svg><path d=\"{}\"/></svg>",
        "<svg><g></g data-x='{}'></svg>",
    ];
    let misread = [
        "<title a=>",
        "<script src=>",
        "<TEXTAREA x = \t>",
        "<xmp/a=>",
        "<style a='' b=>",
        "<iframe src=>",
        "<plaintext p=>",
    ];
    let read_right = ["<title a=b>", "<script src=x>", "<style>", "<p a=>"];
    for place in places {
        for (tag, misread) in misread
            .iter()
            .map(|tag| (tag, true))
            .chain(read_right.iter().map(|tag| (tag, false)))
        {
            let page = format!(
                "<a href=/x>x</a>{}<form method=post action=/p><input name=pw></form><a href=/z>z</a>",
                place.replace("{}", tag)
            );
            for use_get in [false, true] {
                // A frame is judged with `use_get`: not plain, whatever it holds.
                let plain_place =
                    plain_checked(page.replace(tag, "x").as_bytes(), use_get, false).is_some();
                assert!(
                    plain_place || use_get && place.starts_with("<iframe"),
                    "{page}"
                );
                let plain = plain_checked(page.as_bytes(), use_get, false);
                assert_eq!(
                    plain.is_none(),
                    misread || !plain_place,
                    "use_get {use_get}: {page}, plain: {:?}",
                    plain.map(String::from_utf8)
                );
                properties::check_rewrite(page.as_bytes(), &[], use_get);
            }
        }
    }
}

/// A `<meta http-equiv=refresh>` (the whole of most redirect pages) takes the plain path: with
/// `use_get` a refresh to this site gets the token, as lol_html gives it, in every spelling.
#[test]
fn refreshes_take_the_plain_path() {
    let cases = [
        ("<meta http-equiv=refresh content=\"0; /x\">", true),
        ("<meta http-equiv=\"r&#101;fresh\" content=\"0; /x\">", true),
        ("<meta http-equiv=\"&#x52;EFRESH\" content=\"0; /x\">", true),
        (
            "<META HTTP-EQUIV=\"Refresh\" CONTENT=\"5;URL='../b?q=1&amp;r=2'\"/>",
            true,
        ),
        ("<meta content=\"0;url=/next\" http-equiv=refresh>", true),
        (
            "<meta http-equiv=refresh content=\"0; url=https://other.example/\">",
            false,
        ),
        ("<meta http-equiv=refresh content=\"0\">", false),
        ("<meta http-equiv=refresh content=\"x; /y\">", false),
    ];
    for (page, gets_token) in cases {
        let page = format!("<!DOCTYPE html><title>Moved</title>{page}<p>Moved.</p>");
        for use_get in [false, true] {
            let out = plain_checked(page.as_bytes(), use_get, false)
                .unwrap_or_else(|| panic!("left to lol_html: {page}"));
            let has_token = String::from_utf8_lossy(&out).contains("sessionid=TOKEN");
            assert_eq!(
                has_token,
                use_get && gets_token,
                "use_get {use_get}: {page}"
            );
        }
    }
}

/// Inline SVG icons and drawings (paths, groups, gradients, a `<title>`, links) take the plain
/// path, in a form and beside links, as lol_html rewrites them.
#[test]
fn inline_svg_drawings_take_the_plain_path() {
    let icon = concat!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 512 512\" aria-hidden=true>",
        "<!--! Font Awesome Free 6.2.0 --><title>Search</title>",
        "<defs><linearGradient id=g><stop offset=0 /></linearGradient></defs>",
        "<g fill=\"url(#g)\"><path d=\"M416 208c0 45.9z\"/><circle cx=1 cy=2 r=3></circle></g>",
        "</svg>",
    );
    let page = format!(
        "<!DOCTYPE html><a href=/home>{icon}home</a>\
         <form method=post action=/search>{icon}<input name=q><button>{icon}Go</button></form>\
         <p>{icon}<a href=/next>next</a></p>\
         <svg viewBox=\"0 0 9 9\"><a class=link xlink:href=\"paths.html#grammar\">\
         <text x=1 y=2>SimplePath</text></a><rect/></svg>"
    );
    for use_get in [false, true] {
        let out = plain_checked(page.as_bytes(), use_get, false)
            .unwrap_or_else(|| panic!("left to lol_html, use_get {use_get}"));
        assert!(out.len() > page.len(), "no token placed");
        // A railroad diagram's link, as in the Rust Reference.
        let diagram_link = "xlink:href=\"paths.html?sessionid=TOKEN#grammar\"";
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.contains(diagram_link), use_get, "{out}");
    }
}

/// A script with `<!--` in its data (mdBook's icons are SVG strings with comments) is plain
/// where no `<script` start can take the tokenizer into the double-escaped state.
#[test]
fn scripts_with_comment_openers_take_the_plain_path() {
    for script in [
        "<script>var s = \"<svg><!--! icon --></svg>\";</script>",
        "<script><!-- hide from old browsers\nvar a = 1; // --></script>",
        "<script><!-- <scripts> --></script>",
    ] {
        let page = format!("{script}<a href=/x>x</a><form method=post></form>");
        for use_get in [false, true] {
            assert!(
                plain_checked(page.as_bytes(), use_get, false).is_some(),
                "left to lol_html: {script}"
            );
        }
    }
}

/// Templates (mdBook keeps its icons in them) take the plain path when closed by their own end
/// tag, with no form inside; their links get the token with `use_get`, as lol_html gives it.
#[test]
fn templates_take_the_plain_path() {
    let page = concat!(
        "<!DOCTYPE html><template id=fa-eye><span class=fa-svg><svg viewBox=\"0 0 8 8\">",
        "<path d=\"M0 0\"/></svg></span></template><template id=row><a href=/row>row</a>",
        "</template><form method=post><input name=a></form>",
    );
    for use_get in [false, true] {
        let out = plain_checked(page.as_bytes(), use_get, false)
            .unwrap_or_else(|| panic!("left to lol_html, use_get {use_get}"));
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.contains("/row?sessionid=TOKEN"), use_get, "{out}");
    }
}

/// The full rewriter holds a token-bearing form's output until its clean `</form>` (or the
/// end, for a form with an `id` or closed untidily) and takes the token back out of a form held
/// over 256 KiB: the plain path must know which pages that happens to.
#[test]
fn forms_held_past_the_full_rewriters_hold_limit_are_judged_alike() {
    let filler = "<p>filler</p>".repeat(300 * 1024 / 13);
    let cases = [
        // Released at its clean `</form>`: the token stays.
        (format!("<form method=post></form>{filler}"), true),
        (format!("<form method=post>{filler}</form>"), true),
        (format!("{filler}<form method=post id=f></form>"), true),
        // Held to the end: the full rewriter strips the token.
        (format!("<form method=post id=f></form>{filler}"), false),
        (format!("<div><form method=post></div>{filler}"), false),
        (format!("<form method=post><p>open</form>{filler}"), false),
        (
            format!("<form method=post><form></form></form>{filler}"),
            false,
        ),
        (format!("<form method=post>{filler}"), false),
    ];
    for (page, plain) in cases {
        let out = plain_checked(page.as_bytes(), false, false);
        assert_eq!(out.is_some(), plain, "{}", &page[..60]);
    }
}

/// Pieces of HTML: plain markup in every spelling the tokenizer allows, and markup the plain
/// path must refuse or must read exactly (comments, raw text, quoting, implicit closes).
fn piece() -> impl Strategy<Value = String> {
    let url = prop_oneof![
        Just("/x"),
        Just("x"),
        Just("?p=2"),
        Just("#top"),
        Just(" #sp"),
        Just("&#35;top"),
        Just(""),
        Just(" /sp "),
        Just("https://shop.example/y"),
        Just("HTTPS://SHOP.EXAMPLE/z"),
        Just("https://pay.example/p"),
        Just("http://pay.example/p"),
        Just("https://other.example/"),
        Just("//other.example/z"),
        Just("/\\\\other.example/"),
        Just("mailto:a@b.example"),
        Just("javascript:go()"),
        Just("/a?b=1&amp;c=2"),
        Just("/a?b=1&c=2"),
        Just("&#47;&#47;other.example/"),
        Just("/q?sessionid=old&amp;y=1"),
        Just("https&colon;//other.example/"),
        Just("/&quot;q"),
        Just("/caf\u{e9}?q=\u{65e5}"),
    ];
    let quote = prop_oneof![Just("\""), Just("'"), Just("")];
    let extra = prop_oneof![
        Just(""),
        Just(" class=x"),
        Just(" TITLE=\"a > b\""),
        Just(" data-q='\"'"),
        Just("/"),
        Just(" / "),
        Just(" disabled"),
        Just(" HREF=/second"),
        Just("  id = \"sp\" "),
        Just(" target=_blank"),
        Just("\n\tlang=en"),
        Just(" a=b\"c"),
    ];
    let method = prop_oneof![
        Just(""),
        Just(" method=post"),
        Just(" METHOD=\"POST\""),
        Just(" method=get"),
        Just(" method=\" post \""),
        Just(" method=\"p&#111;st\""),
        Just(" method=dialog"),
        Just(" method=\"&bogus;\""),
    ];
    let fixed = prop_oneof![
        Just("<div>"),
        Just("</div>"),
        Just("<p>"),
        Just("</p>"),
        Just("<span/>"),
        Just("<div/>"),
        Just("<br/>"),
        Just("<br>"),
        Just("<table><tr><td>"),
        Just("</table>"),
        Just("<img src=/i.png>"),
        Just("<input name=a>"),
        Just("<select name=s><option>a"),
        Just("</select>"),
        Just("<input type=submit>"),
        Just("<button>go</button>"),
        Just("</form>"),
        Just("</FORM data-x=\"a>b\">"),
        Just("</form/>"),
        Just("a < b"),
        Just("<3"),
        Just("x & y"),
        Just("caf\u{e9} \u{65e5}\u{672c}"),
        Just("<!-- c -->"),
        Just("<!-- <a href=/x> -->"),
        Just("<!---->"),
        Just("<!-- a -- b --->"),
        Just("<!DOCTYPE html>"),
        Just("<!doctype html PUBLIC \"a>b\">"),
        Just("<script>var a = \"<a href=/x>\";</script>"),
        Just("<SCRIPT>if (a</b) {}</SCRIPT >"),
        Just("<script>x</scripty></script>"),
        Just("<style>a{b:c}</style>"),
        Just("<script>"),
        Just("</script>"),
        Just("<style>"),
        Just("<title>"),
        Just("</title>"),
        Just("<textarea>"),
        Just("<!--"),
        Just("-->"),
        Just("<title><a href=/x></title>"),
        Just("<textarea><form method=post></textarea/>"),
        Just("<meta charset=utf-8>"),
        Just("<meta name=viewport content=\"width=device-width\">"),
        Just("<meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">"),
        Just("<meta http-equiv=Content-Type content=\"text/html; charset=utf-8\">"),
        Just("<meta http-equiv=\" Refresh \" content=\"0; /x\">"),
        Just("<meta http-equiv=\"refr&#101;sh\" content=\"0; /x\">"),
        Just("<meta http-equiv=refresh content=\"0;URL='/n?a=1&amp;b=2'\" />"),
        Just("<META CONTENT=\"3; url=https://other.example/\" HTTP-EQUIV=Refresh>"),
        Just("<meta http-equiv=refresh content=0>"),
        Just("<meta http-equiv=refresh content=\"0; /a\" content=\"0; /b\">"),
        Just("<meta name=\"&rfr;\" content=origin>"),
        Just("<head>"),
        Just("<body>"),
        Just("<area href=/map>"),
        Just("<a name=anchor>"),
        Just("</a>"),
        Just("<A HREF=/up>UP</A>"),
        // Refused (the page goes to lol_html): these keep the refusals exercised.
        Just("<svg class=map height='0'></svg>"),
        Just("<svg><path d=x></svg>"),
        Just("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 8 8\">"),
        Just("</svg>"),
        Just("<path d=\"M0 0h8\"/>"),
        Just("<g fill=none>"),
        Just("</g>"),
        Just("<title>An icon</title>"),
        Just("<title>a <b>b</b></title>"),
        Just("<!--[CDATA[x]]-->"),
        Just("<![CDATA[<a href=/x>]]>"),
        Just("<SVG><LinearGradient id=g><stop/></LinearGradient><Rect/></SVG>"),
        Just("<svg><foreignObject><a href=/x>x</a></foreignObject></svg>"),
        Just("<svg><p>out</svg>"),
        Just("<svg><use href=\"#i\"/></svg>"),
        Just("<svg><a xlink:href=\"/x?a=1&amp;b\"><text>x</text></a></svg>"),
        Just("<svg><A HREF=/y XLINK:HREF=/z>y</A></svg>"),
        Just("<svg><a xlink:href=https://other.example/>o</a></svg>"),
        Just("<script>var s = \"<svg><!--! icon --></svg>\";</script>"),
        Just("<script><!-- x --></script>"),
        Just("<script><!-- <scriptx> --></script>"),
        Just("<script>\"<!--\" + \"<SCRIPT>\"</script>"),
        Just("<script><!-- <script> </script>"),
        Just("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        Just("<?php echo '<a href=/x>'; ?>"),
        Just("<?"),
        Just("<template id=t>"),
        Just("</template>"),
        Just("<template><a href=/t>t</a><svg><path/></svg></template>"),
        Just("<noscript><iframe src=/x></iframe><a href=/y></noscript>"),
        Just("<noscript><a href=/y><form method=post></noscript>"),
        Just("<noscript><meta name=\"r&#101;ferrer\" content=origin></noscript>"),
        Just("<noscript><p>shipping and mapping</noscript>"),
        Just("<xmp><a href=/x><form method=post></xmp>"),
        Just("<iframe src=/f><a href=/x><form method=post></iframe>"),
        Just("<noembed>"),
        Just("<base href=/b/>"),
        Just("<!-->"),
    ];
    prop_oneof![
        3 => (url.clone(), quote.clone(), extra.clone()).prop_map(|(u, q, e)| format!("<a href={q}{u}{q}{e}>link</a>")),
        1 => (url.clone(), quote.clone(), extra).prop_map(|(u, q, e)| format!("<area{e} href={q}{u}{q}>")),
        2 => (url, quote, method, prop_oneof![Just(""), Just(" id=f"), Just(" id=\"&#102;\"")])
            .prop_map(|(u, q, m, id)| format!("<form{m} action={q}{u}{q}{id}>")),
        6 => fixed.prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_plain_path_writes_what_lol_html_writes(
        pieces in proptest::collection::vec(piece(), 0..24),
        use_get in any::<bool>(),
        bound in any::<bool>(),
    ) {
        plain_checked(pieces.concat().as_bytes(), use_get, bound);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The same pages, judged by html5ever: `check_rewrite` reads the plain path's output
    /// (when it takes the page) in the four readings.
    #[test]
    fn the_plain_paths_pages_leak_nothing_to_a_tree_builder(
        pieces in proptest::collection::vec(piece(), 0..24),
        use_get in any::<bool>(),
    ) {
        properties::check_rewrite(pieces.concat().as_bytes(), &[], use_get);
    }

    /// On pages of links and forms to this site and others, everything the plain path takes
    /// sends the token on every navigation to this site a browser finds.
    #[test]
    fn every_same_site_navigation_of_a_clean_plain_page_carries_the_token(
        pieces in proptest::collection::vec(clean_piece(), 0..12),
        use_get in any::<bool>(),
    ) {
        let page = format!("<!doctype html><html><body>{}</body></html>", pieces.concat());
        let plain = TokenRewriter::rewrite_plain_document(&properties::policy().with_use_get(use_get), page.as_bytes());
        prop_assume!(plain.is_some());
        properties::check_complete_output(&plain.unwrap(), use_get);
    }
}

/// A link, a post form (with a submitter), a get form or text, to this site or a listed one.
fn clean_piece() -> impl Strategy<Value = String> {
    let url = prop_oneof![
        Just("/next"),
        Just("next"),
        Just("?q=1"),
        Just("../up"),
        Just("https://shop.example/p"),
        Just("https://pay.example/x"),
        Just("https://other.example/away"),
    ];
    (0..5usize, url, "[a-z ]{0,8}").prop_map(|(kind, url, text)| match kind {
        0 => format!("<a href=\"{url}\">{text}</a>"),
        1 => format!("<form method=post action=\"{url}\"><input name=a><button>go</button></form>"),
        2 => format!("<form action=\"{url}\"><input name=q></form>"),
        3 => format!("<div><form method=post><p>{text}</p></form></div>"),
        _ => format!("<p>{text}</p>"),
    })
}

/// A check that can fail: the plain path takes such pages, and places tokens on them.
#[test]
fn clean_plain_pages_are_taken_and_tokenised() {
    let page = r#"<a href="/next">n</a><form method=post action="/f"><button>go</button></form>"#;
    let plain = TokenRewriter::rewrite_plain_document(
        &properties::policy().with_use_get(true),
        page.as_bytes(),
    )
    .expect("the plain path takes it");
    properties::check_complete_output(&plain, true);
    assert!(
        std::panic::catch_unwind(|| properties::check_complete_output(page.as_bytes(), true))
            .is_err(),
        "the page without tokens passes the completeness check"
    );
}

/// A few structural pieces, densely combined: where forms, selects and scripts open and close
/// decides which forms get the token, and how far a script runs.
fn structure() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("<div>"),
        Just("</div>"),
        Just("<p>"),
        Just("</p>"),
        Just("<select>"),
        Just("</select>"),
        Just("<form method=post>"),
        Just("</form>"),
        Just("<script>"),
        Just("</script>"),
        Just("<!--"),
        Just("-->"),
        Just("<a href=/x>"),
        Just("<input>"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_plain_path_follows_forms_selects_and_scripts_as_lol_html_does(
        pieces in proptest::collection::vec(structure(), 0..10),
        use_get in any::<bool>(),
    ) {
        plain_checked(pieces.concat().as_bytes(), use_get, false);
    }
}

/// Enough generated pages are plain that the property above tests the plain path, not only
/// its refusals.
#[test]
fn most_generated_pages_take_the_plain_path() {
    use proptest::{strategy::ValueTree, test_runner::TestRunner};
    let mut runner = TestRunner::deterministic();
    let pages = proptest::collection::vec(piece(), 0..12);
    let mut plain = 0;
    for _ in 0..500 {
        let page = pages.new_tree(&mut runner).unwrap().current().concat();
        if plain_checked(page.as_bytes(), true, false).is_some() {
            plain += 1;
        }
    }
    assert!(plain > 150, "only {plain} of 500 pages were plain");
}
