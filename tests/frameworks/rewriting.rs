//! The rewriting suite, once for both frameworks: what a page gets, what passes through,
//! charsets, redirects, exclusions, the rewrite cache and the script client.

use actix_cookieless::{MemoryStore, Settings};

use super::{
    apps::{App, Framework, REWRITE_PAGE, Req, Res},
    common::SECRET,
};

/// Each scenario as a test per framework.
macro_rules! in_both {
    ($($scenario:ident)*) => {$(
        mod $scenario {
            #[actix_rt::test]
            async fn actix() {
                super::$scenario::<super::super::apps::Actix>().await;
            }

            #[cfg(feature = "tower")]
            #[actix_rt::test]
            async fn axum() {
                super::$scenario::<super::super::apps::Axum>().await;
            }
        }
    )*};
}

in_both! {
    a_page_gets_the_token_in_its_form_and_same_site_links_only
    already_encoded_bodies_pass_through
    non_html_204_and_304_pass_through
    windows_1252_and_shift_jis_are_rewritten_byte_exact
    utf16_passes_through_untouched
    a_page_without_a_header_charset_gets_the_one_a_browser_would_use
    redirects_to_this_site_carry_the_token
    excluded_paths_fresh_sessions_and_manual_mode_are_not_rewritten
    a_page_served_again_carries_each_visitors_own_token
    the_script_client_is_served_and_each_page_gets_it_with_its_own_token
    the_handlers_referrer_policies_end_as_one_that_leaks_nothing
}

fn settings() -> Settings {
    let mut s = Settings::new(SECRET);
    s.exclude = vec!["/s/admin".into()];
    s
}

async fn serve<F: Framework>(settings: Settings) -> impl App {
    F::app(MemoryStore::default(), settings).await
}

fn get(uri: &str) -> Req {
    Req::get(uri).header("host", "site.example")
}

fn token_of(res: &Res) -> String {
    res.token().expect("the page's session has a token")
}

async fn a_page_gets_the_token_in_its_form_and_same_site_links_only<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/page")).await;
    let token = token_of(&res);
    let html = res.body;
    let hidden = format!(
        r#"<form method="post" action="/s/next"><input type="hidden" name="sessionid" value="{token}" /><input name="a">"#
    );
    assert!(html.contains(&hidden), "{html}");
    let next = format!(r#"<a href="/s/next?x=1&amp;sessionid={token}">next</a>"#);
    assert!(html.contains(&next), "{html}");
    assert!(html.contains(r#"<a href="https://other.example/">away</a>"#));
    assert!(
        html.contains(r#"<title><a href="/x"></title>"#)
            && html.contains(r#"var s = '<a href="/x">';"#)
    );
}

async fn already_encoded_bodies_pass_through<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/page?pregzipped")).await;
    assert!(res.token().is_some());
    assert_eq!(res.body, REWRITE_PAGE);
}

async fn non_html_204_and_304_pass_through<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/page?json")).await;
    assert!(res.token().is_some());
    assert_eq!(res.body, REWRITE_PAGE);
    for uri in ["/s/page?status=204", "/s/page?status=304"] {
        assert!(!app.send(get(uri)).await.body.contains("hidden"), "{uri}");
    }
}

async fn windows_1252_and_shift_jis_are_rewritten_byte_exact<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/charset/1252")).await;
    let token = token_of(&res);
    let expected =
        format!("<p>caf\u{e9}</p><a title=\"caf\u{e9}\" href=\"/s/n?sessionid={token}\">x</a>");
    let (expected, _, _) = encoding_rs::WINDOWS_1252.encode(&expected);
    assert_eq!(res.bytes, &expected[..]);

    let res = app.send(get("/s/charset/sjis")).await;
    let token = token_of(&res);
    let mut expected = b"<p>\x83\x5c</p><a title=\"\x83\x5c\" href=\"/s/n?sessionid=".to_vec();
    expected.extend_from_slice(token.as_bytes());
    expected.extend_from_slice(
        b"\">x</a><form method=post><input type=\"hidden\" name=\"sessionid\" value=\"",
    );
    expected.extend_from_slice(token.as_bytes());
    expected.extend_from_slice(b"\" />\x82\xa0</form>");
    assert_eq!(res.bytes, expected);
}

async fn utf16_passes_through_untouched<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/charset/utf16")).await;
    assert!(res.token().is_some(), "the header still carries the token");
    let original: Vec<u8> = "<a href=\"/s/n\">x</a>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(res.bytes, original);
}

async fn a_page_without_a_header_charset_gets_the_one_a_browser_would_use<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let content_type = |res: &Res| res.header("content-type").unwrap().to_owned();

    // <meta charset=iso-2022-jp>: lol_html cannot follow it, so the page passes through.
    let res = app.send(get("/s/undeclared/2022")).await;
    assert_eq!(content_type(&res), "text/html");
    assert!(
        res.bytes
            .starts_with(b"<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/other")
    );
    assert!(!res.body.contains("sessionid"));

    // <meta charset=shift_jis>: declared in the header, rewritten in Shift_JIS; a streamed page
    // (in 5-byte chunks) is read as a browser reads it, from its first bytes, alike.
    for page in ["/s/undeclared/sjis", "/s/undeclared/sjis-streamed"] {
        let res = app.send(get(page)).await;
        assert_eq!(content_type(&res), "text/html; charset=Shift_JIS", "{page}");
        let token = token_of(&res);
        let expected = format!(
            "<meta charset=shift_jis><p>\u{30bd}</p><a href=\"/s/n?sessionid={token}\">x</a>"
        );
        let (expected, _, _) = encoding_rs::SHIFT_JIS.encode(&expected);
        assert_eq!(res.bytes, &expected[..], "{page}");
    }

    // XHTML is XML: its <meta> names no encoding, so UTF-8 is declared.
    let res = app.send(get("/s/undeclared/xhtml")).await;
    assert_eq!(content_type(&res), "application/xhtml+xml; charset=UTF-8");

    // Nothing named: UTF-8, declared.
    let res = app.send(get("/s/undeclared/plain")).await;
    assert_eq!(content_type(&res), "text/html; charset=UTF-8");
    assert!(res.body.contains("/s/n?sessionid="));

    // Streamed too: ISO-2022-JP named in its first bytes passes through untouched.
    let res = app.send(get("/s/undeclared/2022-streamed")).await;
    assert_eq!(content_type(&res), "text/html");
    assert!(
        res.bytes
            .starts_with(b"<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/other")
    );
    assert!(!res.body.contains("sessionid"));
}

async fn redirects_to_this_site_carry_the_token<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/page?redirect=own")).await;
    assert_eq!(res.status, 302);
    let token = token_of(&res);
    assert_eq!(
        res.header("location"),
        Some(format!("/s/next?a=1&sessionid={token}#frag").as_str())
    );
    let res = app.send(get("/s/page?redirect=other")).await;
    assert_eq!(res.header("location"), Some("https://other.example/x"));

    let mut no_get = settings();
    no_get.use_get = false;
    let app = serve::<F>(no_get).await;
    let res = app.send(get("/s/page?redirect=own")).await;
    assert_eq!(res.header("location"), Some("/s/next?a=1#frag"));
}

async fn excluded_paths_fresh_sessions_and_manual_mode_are_not_rewritten<F: Framework>() {
    let app = serve::<F>(settings()).await;
    let res = app.send(get("/s/admin/page")).await;
    assert!(res.token().is_some());
    assert_eq!(res.body, REWRITE_PAGE);
    let res = app.send(get("/s/lazy")).await;
    assert!(res.token().is_none());
    assert_eq!(res.body, REWRITE_PAGE);

    let mut manual = settings();
    manual.rewrite = false;
    let app = serve::<F>(manual).await;
    let res = app.send(get("/s/page?redirect=own")).await;
    assert_eq!(res.header("location"), Some("/s/next?a=1#frag"));
    let res = app.send(get("/s/page")).await;
    assert!(res.token().is_some());
    assert_eq!(res.body, REWRITE_PAGE);
}

/// The same page for visitor after visitor, at whatever URL of the site, comes from the rewrite
/// cache after the first ones: each copy carries its own visitor's token and nobody else's,
/// and the same bytes the middleware gives with the cache off.
async fn a_page_served_again_carries_each_visitors_own_token<F: Framework>() {
    let mut uncached = settings();
    uncached.rewrite_cache_bytes = 0;
    let (cached, plain) = (serve::<F>(settings()).await, serve::<F>(uncached).await);
    let res = plain.send(get("/s/page")).await;
    let expected = res.body.replace(&token_of(&res), "TOKEN");
    assert_eq!(expected.matches("TOKEN").count(), 2, "{expected}");

    let mut tokens = std::collections::HashSet::new();
    for visitor in 0..5 {
        // The same page at other URLs of the site (as links with the token lead to it).
        let res = cached
            .send(get(&format!("/s/page?v={visitor}&sessionid=old")))
            .await;
        let token = token_of(&res);
        assert_eq!(
            res.body.replace(&token, "TOKEN"),
            expected,
            "visitor {visitor}"
        );
        assert!(
            tokens.insert(token),
            "visitor {visitor} got an earlier token"
        );
    }
}

async fn the_script_client_is_served_and_each_page_gets_it_with_its_own_token<F: Framework>() {
    let mut s = settings();
    s.client_script = true;
    s.client_script_path = "/s/session.js".into();
    let app = serve::<F>(s).await;
    let res = app.send(get("/s/session.js")).await;
    assert_eq!(res.status, 200);
    assert!(res.token().is_none(), "the script starts no session");
    assert!(res.body.contains("XMLHttpRequest"));

    // Twice held whole (the second from the rewrite cache, spliced), and once streamed.
    for uri in ["/s/page", "/s/page", "/s/page?length"] {
        let res = app.send(get(uri)).await;
        let token = token_of(&res);
        let tag = format!(
            r#"<head><script src="//site.example/s/session.js" data-cookieless-header="X-Session-ID" data-cookieless-token="{token}"></script><title>"#
        );
        assert!(res.body.contains(&tag), "{uri}: {}", res.body);
        assert_eq!(
            res.body.matches("<script src=").count(),
            1,
            "{uri}: {}",
            res.body
        );
    }
    // Off by default: no script served, none in pages.
    let app = serve::<F>(settings()).await;
    assert!(!app.send(get("/s/page")).await.body.contains("session.js"));
}

/// A handler's `Referrer-Policy` lines end as one: theirs when every policy in them leaks
/// nothing (the last, which a browser applies), else ours. A browser applies the last policy
/// it knows, so `no-referrer` then `unsafe-url` would send token URLs in `Referer`.
async fn the_handlers_referrer_policies_end_as_one_that_leaks_nothing<F: Framework>() {
    let app = serve::<F>(settings()).await;
    for (query, expected) in [
        ("", "same-origin"),
        ("policy=no-referrer", "no-referrer"),
        ("policy=no-referrer&policy=strict-origin", "strict-origin"),
        ("policy=no-referrer&policy=unsafe-url", "same-origin"),
        ("policy=no-referrer,%20unsafe-url", "same-origin"),
        ("policy=unsafe-url&policy=no-referrer", "same-origin"),
        (
            "policy=no-referrer&policy=a-policy-of-tomorrow",
            "same-origin",
        ),
    ] {
        let res = app.send(get(&format!("/s/page?{query}"))).await;
        assert!(res.token().is_some(), "{query}");
        let policies: Vec<&str> = res
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("referrer-policy"))
            .map(|(_, value)| value.as_str())
            .collect();
        assert_eq!(policies, [expected], "{query}");
    }
}
