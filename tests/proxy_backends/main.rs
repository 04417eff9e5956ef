//! `cookieless-proxy` in front of real apps that keep their sessions in cookies: a PHP app
//! (`session_start()`, a three-step form, a login that regenerates the session id), a Flask
//! app (signed cookie session, CSRF cookie) and a Django app under gunicorn (`django.rs`). The visitor sends no cookie and no session header;
//! the apps must work all the same, and no `Set-Cookie` may reach the visitor.
//! Needs `php` (Debian's php-cli) and a Python with Flask, Django and gunicorn;
//! ./scripts/test-all installs them.

mod backends;
mod django;
#[path = "../support/dom.rs"]
mod dom;
#[path = "../support/proxy.rs"]
mod proxy_support;
mod visitor;

use std::time::Duration;

use actix_cookieless::Settings;
use proxy_support::{serve_proxy, serve_proxy_with};
use visitor::Visitor;

const SECRET: &str = "proxy-backends-secret-0123456789abcdef";

fn settings(use_get: bool) -> Settings {
    let mut settings = Settings::new(SECRET);
    settings.use_get = use_get;
    settings
}

/// `version`: the HTTP version spoken to PHP. Over 1.1 `php -S` ends its bodies by closing the
/// connection, which the proxy reads to the end.
async fn php_form_and_login(use_get: bool, version: &str) {
    let php = backends::php();
    let mut to_php = proxy_support::to(&php.url(), Duration::from_secs(10));
    version.clone_into(&mut to_php.upstream_version);
    let (proxy, _server) = serve_proxy_with(to_php, settings(use_get));
    let mut ada = Visitor::new(proxy);
    let mut bob = Visitor::new(proxy);

    ada.get("/").await;
    assert_eq!(ada.heading(), "Step 1");
    ada.submit(&[("name", "Ada")]).await;
    assert_eq!(
        (ada.status, ada.heading().as_str()),
        (200, "Hello, Ada"),
        "{}",
        ada.html
    );

    // Another visitor in between keeps a session of its own.
    bob.get("/").await;
    bob.submit(&[("name", "Bob")]).await;
    assert_eq!(bob.heading(), "Hello, Bob");

    ada.submit(&[("colour", "green")]).await;
    assert_eq!(ada.heading(), "Thank you", "{}", ada.html);
    assert!(ada.html.contains("Ada likes green"), "{}", ada.html);
    bob.submit(&[("colour", "blue")]).await;
    assert!(bob.html.contains("Bob likes blue"), "{}", bob.html);

    // A login that regenerates PHP's session id: the jar takes the new cookie.
    ada.get("/login").await;
    ada.submit(&[("user", "ada"), ("password", "secret")]).await;
    assert_eq!(ada.heading(), "Welcome, ada", "{}", ada.html);
    // The page's links keep the session with use_get; without, a fresh GET is a new visitor.
    let mut stranger = Visitor::new(proxy);
    stranger.get("/account").await;
    assert_eq!(
        (stranger.status, stranger.heading().as_str()),
        (403, "Please log in")
    );

    for visitor in [&ada, &bob, &stranger] {
        assert!(
            visitor.cookies_seen.is_empty(),
            "a cookie reached the visitor: {:?}",
            visitor.cookies_seen
        );
    }
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_with_tokens_in_links() {
    php_form_and_login(true, "1.1").await;
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_with_tokens_in_forms_only() {
    php_form_and_login(false, "1.1").await;
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_over_http_1_0() {
    php_form_and_login(true, "1.0").await;
}

#[actix_web::test]
async fn a_flask_app_with_a_cookie_session_and_a_csrf_cookie_works_through_the_proxy() {
    let flask = backends::flask();
    let (proxy, _server) = serve_proxy(&flask.url(), settings(false), Duration::from_secs(10));
    let mut visitor = Visitor::new(proxy);
    visitor.get("/").await;
    let form = visitor.form().expect("the CSRF form");
    let csrf = form
        .fields
        .iter()
        .find(|(name, _)| name == "csrfmiddlewaretoken")
        .map(|(_, value)| value.clone())
        .expect("a CSRF field");
    visitor.submit(&[("name", "Grace")]).await;
    assert_eq!(
        (visitor.status, visitor.heading().as_str()),
        (200, "Hello, Grace"),
        "{}",
        visitor.html
    );
    assert!(
        visitor.cookies_seen.is_empty(),
        "{:?}",
        visitor.cookies_seen
    );

    // The CSRF cookie is the visitor's own: a post that copies the field but carries no
    // session (so no jar, no cookie) is refused by the app.
    let mut forger = Visitor::new(proxy);
    forger.get("/").await;
    let forged = forger.form().unwrap();
    assert_ne!(
        forged
            .fields
            .iter()
            .find(|(n, _)| n == "csrfmiddlewaretoken")
            .unwrap()
            .1,
        csrf
    );
    forger.html = forger.html.replace(
        &forged
            .fields
            .iter()
            .find(|(n, _)| n == "sessionid")
            .unwrap()
            .1,
        "not-a-token",
    );
    forger.html = forger.html.replace(
        &forged
            .fields
            .iter()
            .find(|(n, _)| n == "csrfmiddlewaretoken")
            .unwrap()
            .1,
        &csrf,
    );
    forger.submit(&[("name", "Mallory")]).await;
    assert_eq!(forger.status, 403, "{}", forger.html);
}

/// What PHP made of one request to `/seen`.
async fn seen_by_php(
    proxy: std::net::SocketAddr,
    content_type: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
    chunked: bool,
) -> serde_json::Value {
    let client = awc::Client::builder()
        .disable_redirects()
        .no_default_headers()
        .finish();
    let method = if body.is_empty() && content_type.is_none() {
        awc::http::Method::GET
    } else {
        awc::http::Method::POST
    };
    let mut req = client
        .request(method, format!("http://{proxy}/seen"))
        .insert_header(("user-agent", visitor::UA));
    if let Some(content_type) = content_type {
        req = req.insert_header(("content-type", content_type));
    }
    for header in headers {
        req = req.insert_header(*header);
    }
    let mut res = if chunked {
        let chunks = body
            .chunks(7)
            .map(|c| Ok::<_, std::io::Error>(actix_web::web::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>();
        req.send_stream(futures_util::stream::iter(chunks))
            .await
            .unwrap()
    } else {
        req.send_body(body).await.unwrap()
    };
    assert_eq!(res.status(), 200);
    serde_json::from_slice(&res.body().limit(1 << 20).await.unwrap()).unwrap()
}

/// The token opens the visitor's jar from every place a form can put it, and PHP never sees it:
/// not as a field (alone, between others, twice, after a 100 KB field), not in its raw body
/// (`text/plain`, chunked), not among uploads, not in `Referer`.
#[actix_web::test]
async fn php_never_sees_the_token_in_a_body_or_a_referer() {
    let php = backends::php();
    let (proxy, _server) = serve_proxy(&php.url(), settings(true), Duration::from_secs(10));
    let mut visitor = Visitor::new(proxy);
    visitor.get("/").await;
    let form = visitor.form().expect("the first page's form");
    let token = form
        .fields
        .iter()
        .find(|(name, _)| name == "sessionid")
        .map(|(_, value)| value.clone())
        .expect("the token field");
    let url = "application/x-www-form-urlencoded";
    let big = "x".repeat(100 * 1024);
    let boundary = "----formdata-XyZ";
    let part = |name: &str, file: &str, value: &str| {
        let file = if file.is_empty() {
            String::new()
        } else {
            format!("; filename=\"{file}\"\r\nContent-Type: text/plain")
        };
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n{value}\r\n"
        )
    };
    let multipart = [
        part("a", "", "1"),
        part("upload", "u.txt", "file content"),
        part("sessionid", "", &token),
        part("b", "", "2"),
    ]
    .concat()
        + &format!("--{boundary}--\r\n");
    let multipart_type = format!("multipart/form-data; boundary={boundary}");
    let cases: Vec<(&str, &str, String, bool)> = vec![
        (
            "the token alone (a logout button)",
            url,
            format!("sessionid={token}"),
            false,
        ),
        (
            "between fields",
            url,
            format!("a=1&sessionid={token}&b=2"),
            false,
        ),
        (
            "twice, last",
            url,
            format!("a=1&b=2&sessionid={token}&sessionid={token}"),
            false,
        ),
        ("chunked", url, format!("a=1&sessionid={token}&b=2"), true),
        (
            "after 100 KB",
            url,
            format!("big={big}&a=1&sessionid={token}&b=2"),
            false,
        ),
        (
            "after 100 KB, chunked",
            url,
            format!("big={big}&a=1&sessionid={token}&b=2"),
            true,
        ),
        (
            "text/plain",
            "text/plain",
            format!("a=1\r\nsessionid={token}\r\nb=2\r\n"),
            false,
        ),
        ("multipart", &multipart_type, multipart, false),
    ];
    for (case, content_type, body, chunked) in cases {
        let has_fields = !case.contains("alone");
        let seen = seen_by_php(proxy, Some(content_type), body.into_bytes(), &[], chunked).await;
        let text = seen.to_string();
        assert!(!text.contains(&token), "{case}: PHP saw the token: {text}");
        assert!(seen["post"].get("sessionid").is_none(), "{case}: {text}");
        if case.contains("100 KB") {
            // Past the read-ahead, a body of announced length gets the token masked.
            assert_eq!(
                seen["post"]["big"].as_str().map(str::len),
                Some(big.len()),
                "{case}"
            );
        }
        if content_type == "text/plain" {
            assert_eq!(seen["raw"], "a=1\r\nb=2\r\n", "{case}");
        } else if !has_fields {
            assert_eq!(seen["post"], serde_json::json!({}), "{case}: {text}");
        } else if content_type == url {
            assert_eq!(
                (&seen["post"]["a"], &seen["post"]["b"]),
                (&"1".into(), &"2".into()),
                "{case}: {text}"
            );
        } else {
            assert_eq!(
                seen["files"],
                serde_json::json!(["upload"]),
                "{case}: {text}"
            );
            assert_eq!(
                (&seen["post"]["a"], &seen["post"]["b"]),
                (&"1".into(), &"2".into()),
                "{case}: {text}"
            );
        }
        // The middleware looks for the token in the first `body_scan_limit` bytes (64 KiB).
        if !case.contains("100 KB") {
            assert_eq!(
                seen["jar"], true,
                "{case}: the token opened no session: {text}"
            );
        }
    }
    let referer = format!("http://{proxy}/step?x=1&sessionid={token}");
    let seen = seen_by_php(
        proxy,
        None,
        Vec::new(),
        &[("referer", &referer), ("x-session-id", &token)],
        false,
    )
    .await;
    assert_eq!(seen["referer"], format!("http://{proxy}/step?x=1"));
}
