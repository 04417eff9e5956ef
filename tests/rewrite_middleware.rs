//! HTML rewriting through the real middleware stack: what is rewritten, what passes through.

mod common;

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{
    App, HttpRequest, HttpResponse,
    http::{StatusCode, header},
    middleware::Compress,
    test::{self, TestRequest},
    web,
};
use common::{SECRET, body, token_of, wire};
use std::io::Read as _;

const PAGE: &str = r#"<html><head><title><a href="/x"></title></head><body>
<form method="post" action="/s/next"><input name="a"></form>
<a href="/s/next?x=1">next</a> <a href="https://other.example/">away</a>
<script>var s = '<a href="/x">';</script></body></html>"#;

/// Writes to the session (so it has a token) and answers with the body and content type the
/// query asks for.
async fn page(session: Session, req: HttpRequest) -> actix_web::Result<HttpResponse> {
    session.insert("seen", true)?;
    let query = req.query_string();
    let mut res = match query {
        q if q.contains("status=204") => HttpResponse::NoContent(),
        q if q.contains("status=304") => HttpResponse::NotModified(),
        q if q.contains("redirect=own") => {
            let mut r = HttpResponse::Found();
            r.insert_header((header::LOCATION, "/s/next?a=1#frag"));
            r
        }
        q if q.contains("redirect=other") => {
            let mut r = HttpResponse::SeeOther();
            r.insert_header((header::LOCATION, "https://other.example/x"));
            r
        }
        _ => HttpResponse::Ok(),
    };
    let content_type = if query.contains("json") {
        "application/json"
    } else {
        "text/html; charset=utf-8"
    };
    res.content_type(content_type);
    if query.contains("length") {
        // A streamed body with a length: actix then turns chunking off for this response.
        res.insert_header((header::CONTENT_LENGTH, PAGE.len().to_string()));
        let chunks = futures_util::stream::iter([Ok::<_, actix_web::Error>(
            web::Bytes::from_static(PAGE.as_bytes()),
        )]);
        return Ok(res.streaming(chunks));
    }
    if query.contains("pregzipped") {
        res.insert_header((header::CONTENT_ENCODING, "br"));
    }
    Ok(res.body(PAGE))
}

/// Writes nothing: a fresh session has no token and its page is left alone.
async fn lazy() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html").body(PAGE)
}

/// A page in the charset the path names, with that charset's own bytes in it.
async fn charset(session: Session, path: web::Path<String>) -> actix_web::Result<HttpResponse> {
    session.insert("seen", true)?;
    let (label, bytes): (&str, Vec<u8>) = match path.as_str() {
        // "café" in windows-1252, and in a link's title
        "1252" => ("windows-1252", b"<p>caf\xe9</p><a title=\"caf\xe9\" href=\"/s/n\">x</a>".to_vec()),
        // Shift_JIS: "ソ" is 0x83 0x5C, whose second byte is '\'
        "sjis" => ("Shift_JIS", b"<p>\x83\x5c</p><a title=\"\x83\x5c\" href=\"/s/n\">x</a><form method=post>\x82\xa0</form>".to_vec()),
        _ => ("utf-16le", "<a href=\"/s/n\">x</a>".encode_utf16().flat_map(u16::to_le_bytes).collect()),
    };
    Ok(HttpResponse::Ok()
        .content_type(format!("text/html; charset={label}"))
        .body(bytes))
}

fn settings() -> Settings {
    let mut s = Settings::new(SECRET);
    s.exclude = vec!["/s/admin".into()];
    s
}

/// A page whose `Content-Type` names no charset; `<meta>` in it may name one.
async fn undeclared(session: Session, path: web::Path<String>) -> actix_web::Result<HttpResponse> {
    session.insert("seen", true)?;
    let page: &'static [u8] = match path.as_str() {
        // Decoded as ISO-2022-JP, "/ESC(J/other.example/x" is "//other.example/x".
        "2022" | "2022-streamed" => {
            b"<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/other.example/x\">x</a><form method=post></form>"
        }
        "sjis" | "xhtml" => b"<meta charset=shift_jis><p>\x83\x5c</p><a href=\"/s/n\">x</a>",
        _ => b"<a href=\"/s/n\">x</a>",
    };
    let mut res = HttpResponse::Ok();
    let essence = if path.as_str() == "xhtml" {
        "application/xhtml+xml"
    } else {
        "text/html"
    };
    res.insert_header((header::CONTENT_TYPE, essence));
    if path.ends_with("streamed") {
        let chunks =
            futures_util::stream::iter([Ok::<_, actix_web::Error>(web::Bytes::from_static(page))]);
        return Ok(res.streaming(chunks));
    }
    Ok(res.body(page))
}

macro_rules! app {
    ($settings:expr) => {{
        let cookieless = CookielessSession::builder(MemoryStore::default(), $settings)
            .build()
            .unwrap();
        test::init_service(
            App::new().wrap(Compress::default()).service(
                web::scope("/s")
                    .wrap(cookieless)
                    .route("/page", web::to(page))
                    .route("/admin/page", web::to(page))
                    .route("/lazy", web::to(lazy))
                    .route("/charset/{name}", web::get().to(charset))
                    .route("/undeclared/{name}", web::get().to(undeclared)),
            ),
        )
        .await
    }};
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header((header::HOST, "site.example"))
}

#[actix_rt::test]
async fn a_page_gets_the_token_in_its_form_and_same_site_links_only() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/page").to_request()).await;
    let token = token_of(&res).unwrap();
    let html = body(res).await;
    let hidden = format!(
        r#"<form method="post" action="/s/next"><input type="hidden" name="sessionid" value="{token}" /><input name="a">"#
    );
    assert!(html.contains(&hidden), "{html}");
    assert!(
        html.contains(&format!(
            r#"<a href="/s/next?x=1&amp;sessionid={token}">next</a>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"<a href="https://other.example/">away</a>"#));
    assert!(
        html.contains(r#"<title><a href="/x"></title>"#)
            && html.contains(r#"var s = '<a href="/x">';"#)
    );
}

#[actix_rt::test]
async fn gzip_outside_compresses_the_rewritten_page() {
    let app = app!(settings());
    let res = test::call_service(
        &app,
        get("/s/page")
            .insert_header((header::ACCEPT_ENCODING, "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
    let token = token_of(&res).unwrap();
    let compressed = test::read_body(res).await;
    let mut html = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
}

#[actix_rt::test]
async fn already_encoded_bodies_pass_through() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/page?pregzipped").to_request()).await;
    assert!(token_of(&res).is_some());
    assert_eq!(body(res).await, PAGE);
}

#[actix_rt::test]
async fn non_html_204_304_pass_through() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/page?json").to_request()).await;
    assert!(token_of(&res).is_some());
    assert_eq!(body(res).await, PAGE);
    for uri in ["/s/page?status=204", "/s/page?status=304"] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert!(!body(res).await.contains("hidden"), "{uri}");
    }
}

#[actix_rt::test]
async fn windows_1252_and_shift_jis_are_rewritten_byte_exact() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/charset/1252").to_request()).await;
    let token = token_of(&res).unwrap();
    let bytes = test::read_body(res).await;
    let expected =
        format!("<p>caf\u{e9}</p><a title=\"caf\u{e9}\" href=\"/s/n?sessionid={token}\">x</a>");
    let (expected, _, _) = encoding_rs::WINDOWS_1252.encode(&expected);
    assert_eq!(&bytes[..], &expected[..]);

    let res = test::call_service(&app, get("/s/charset/sjis").to_request()).await;
    let token = token_of(&res).unwrap();
    let bytes = test::read_body(res).await;
    let mut expected = b"<p>\x83\x5c</p><a title=\"\x83\x5c\" href=\"/s/n?sessionid=".to_vec();
    expected.extend_from_slice(token.as_bytes());
    expected.extend_from_slice(
        b"\">x</a><form method=post><input type=\"hidden\" name=\"sessionid\" value=\"",
    );
    expected.extend_from_slice(token.as_bytes());
    expected.extend_from_slice(b"\" />\x82\xa0</form>");
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(&bytes[..], &expected[..]);
}

#[actix_rt::test]
async fn utf16_passes_through_untouched() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/charset/utf16").to_request()).await;
    assert!(
        token_of(&res).is_some(),
        "the header still carries the token"
    );
    let bytes = test::read_body(res).await;
    let original: Vec<u8> = "<a href=\"/s/n\">x</a>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(&bytes[..], &original[..]);
}

#[actix_rt::test]
async fn a_page_without_a_header_charset_gets_the_one_a_browser_would_use() {
    let app = app!(settings());
    let content_type = |res: &actix_web::dev::ServiceResponse<_>| {
        res.headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };

    // <meta charset=iso-2022-jp>: lol_html cannot follow it, so the page passes through.
    let res = test::call_service(&app, get("/s/undeclared/2022").to_request()).await;
    assert_eq!(content_type(&res), "text/html");
    let bytes = test::read_body(res).await;
    assert!(bytes.starts_with(b"<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/other"));
    assert!(!String::from_utf8_lossy(&bytes).contains("sessionid"));

    // <meta charset=shift_jis>: declared in the header, rewritten in Shift_JIS.
    let res = test::call_service(&app, get("/s/undeclared/sjis").to_request()).await;
    assert_eq!(content_type(&res), "text/html; charset=Shift_JIS");
    let token = token_of(&res).unwrap();
    let bytes = test::read_body(res).await;
    let expected =
        format!("<meta charset=shift_jis><p>\u{30bd}</p><a href=\"/s/n?sessionid={token}\">x</a>");
    let (expected, _, _) = encoding_rs::SHIFT_JIS.encode(&expected);
    assert_eq!(&bytes[..], &expected[..]);

    // XHTML is XML: its <meta> names no encoding, so UTF-8 is declared.
    let res = test::call_service(&app, get("/s/undeclared/xhtml").to_request()).await;
    assert_eq!(content_type(&res), "application/xhtml+xml; charset=UTF-8");

    // Nothing named: UTF-8, declared.
    let res = test::call_service(&app, get("/s/undeclared/plain").to_request()).await;
    assert_eq!(content_type(&res), "text/html; charset=UTF-8");
    assert!(body(res).await.contains("/s/n?sessionid="));

    // A streamed page cannot be prescanned before its head goes out: UTF-8, declared, which
    // the browser then prefers to the page's <meta>, and reads the link as the rewriter did.
    let res = test::call_service(&app, get("/s/undeclared/2022-streamed").to_request()).await;
    assert_eq!(content_type(&res), "text/html; charset=UTF-8");
    assert!(body(res).await.contains("sessionid="));
}

#[actix_rt::test]
async fn redirects_to_this_site_carry_the_token() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/page?redirect=own").to_request()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let token = token_of(&res).unwrap();
    let location = res
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(location, format!("/s/next?a=1&sessionid={token}#frag"));
    let res = test::call_service(&app, get("/s/page?redirect=other").to_request()).await;
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "https://other.example/x"
    );

    let mut no_get = settings();
    no_get.use_get = false;
    let app = app!(no_get);
    let res = test::call_service(&app, get("/s/page?redirect=own").to_request()).await;
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/s/next?a=1#frag"
    );
}

#[actix_rt::test]
async fn excluded_paths_fresh_sessions_and_manual_mode_are_not_rewritten() {
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/admin/page").to_request()).await;
    assert!(token_of(&res).is_some());
    assert_eq!(body(res).await, PAGE);
    let res = test::call_service(&app, get("/s/lazy").to_request()).await;
    assert!(token_of(&res).is_none());
    assert_eq!(body(res).await, PAGE);

    let mut manual = settings();
    manual.rewrite = false;
    let app = app!(manual);
    let res = test::call_service(&app, get("/s/page?redirect=own").to_request()).await;
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/s/next?a=1#frag"
    );
    let res = test::call_service(&app, get("/s/page").to_request()).await;
    assert!(token_of(&res).is_some());
    assert_eq!(body(res).await, PAGE);
}

/// The test page's route behind the middleware, served on a free loopback port.
fn serve_page() -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings())
        .build()
        .unwrap();
    let server = actix_web::HttpServer::new(move || {
        App::new().service(
            web::scope("/s")
                .wrap(cookieless.clone())
                .route("/page", web::to(page)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    (addr, handle)
}

/// Over a real socket: a handler that set `Content-Length` still sends a valid response whose
/// length matches what is sent.
#[actix_rt::test]
async fn a_handler_set_content_length_gives_a_valid_response_on_the_wire() {
    let (addr, handle) = serve_page();
    let res = wire(addr, "GET", "/s/page?length", &[], "").await;
    handle.stop(true).await;
    assert_eq!(res.status, 200);
    if let Some(length) = res.header("content-length") {
        assert_eq!(
            length,
            res.body.len().to_string(),
            "the length sent matches the body sent"
        );
    } else {
        assert_eq!(
            res.header("transfer-encoding"),
            Some("chunked"),
            "either chunked or a length"
        );
    }
    assert!(res.body.contains("type=\"hidden\""), "{}", res.body);
    assert!(
        res.body.ends_with("</html>"),
        "the whole page arrived: {}",
        res.body
    );
}

/// Over a real socket: HEAD announces the length GET sends (its token is as long), not the
/// length of the handler's page before the token went in.
#[actix_rt::test]
async fn head_announces_the_length_get_sends() {
    let (addr, handle) = serve_page();
    let get = wire(addr, "GET", "/s/page", &[], "").await;
    let head = wire(addr, "HEAD", "/s/page", &[], "").await;
    handle.stop(true).await;
    assert!(get.body.contains("type=\"hidden\""), "{}", get.body);
    assert_eq!(
        get.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert!(head.body.is_empty(), "HEAD sends no body: {}", head.body);
    assert_eq!(head.header("content-length"), get.header("content-length"));
}

/// The same page for visitor after visitor, at whatever URL of the site, comes from the rewrite
/// cache after the first ones: each copy carries its own visitor's token and nobody else's,
/// and the same bytes the middleware gives with the cache off.
#[actix_rt::test]
async fn a_page_served_again_carries_each_visitors_own_token() {
    let mut uncached = settings();
    uncached.rewrite_cache_bytes = 0;
    let (cached, plain) = (app!(settings()), app!(uncached));
    let res = test::call_service(&plain, get("/s/page").to_request()).await;
    let plain_token = token_of(&res).unwrap();
    let expected = body(res).await.replace(&plain_token, "TOKEN");
    assert_eq!(expected.matches("TOKEN").count(), 2, "{expected}");

    let mut tokens = std::collections::HashSet::new();
    for visitor in 0..5 {
        // The same page at other URLs of the site (as links with the token lead to it).
        let uri = format!("/s/page?v={visitor}&sessionid=old");
        let res = test::call_service(&cached, get(&uri).to_request()).await;
        let token = token_of(&res).unwrap();
        let html = body(res).await;
        assert_eq!(html.replace(&token, "TOKEN"), expected, "visitor {visitor}");
        assert!(
            tokens.insert(token),
            "visitor {visitor} got an earlier token"
        );
    }
}

#[actix_rt::test]
async fn the_script_client_is_served_and_each_page_gets_it_with_its_own_token() {
    let mut s = settings();
    s.client_script = true;
    s.client_script_path = "/s/session.js".into();
    let app = app!(s);
    let res = test::call_service(&app, get("/s/session.js").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(token_of(&res).is_none(), "the script starts no session");
    assert!(body(res).await.contains("XMLHttpRequest"));

    // Twice held whole (the second from the rewrite cache, spliced), and once streamed.
    for uri in ["/s/page", "/s/page", "/s/page?length"] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        let token = token_of(&res).unwrap();
        let html = body(res).await;
        let tag = format!(
            r#"<head><script src="//site.example/s/session.js" data-cookieless-header="X-Session-ID" data-cookieless-token="{token}"></script><title>"#
        );
        assert!(html.contains(&tag), "{uri}: {html}");
        assert_eq!(html.matches("<script src=").count(), 1, "{uri}: {html}");
    }
    // Off by default: no script served, none in pages.
    let app = app!(settings());
    let res = test::call_service(&app, get("/s/page").to_request()).await;
    assert!(!body(res).await.contains("session.js"));
}
