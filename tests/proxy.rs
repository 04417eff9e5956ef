//! `cookieless-proxy` in front of a real upstream (an actix app on loopback that echoes what it
//! received): cookies kept in the jar and never shown to the browser, hop-by-hop and forwarding
//! headers, `Location` rewriting, upstream failures, compression and the script client.

mod common;
#[path = "support/proxy.rs"]
mod proxy_support;
// Shared with tests/redis.rs, which stops and restarts its nodes too.
#[cfg(feature = "redis")]
#[path = "support/redis_cluster.rs"]
#[allow(dead_code)]
mod redis_cluster;

use std::{
    net::{SocketAddr, TcpListener},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use actix_cookieless::Settings;
use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::ServerHandle,
    http::header,
    web::{self, Bytes},
};
use common::{SECRET, UA};
use futures_util::StreamExt;
use proxy_support::serve_proxy;
use serde_json::{Value, json};

/// What the upstream received, as JSON: method, path and query, headers (lowercased names,
/// every value), body length.
async fn echo(req: HttpRequest, body: Bytes) -> HttpResponse {
    let mut headers = serde_json::Map::new();
    for (name, value) in req.headers() {
        let entry = headers
            .entry(name.as_str().to_owned())
            .or_insert_with(|| json!([]));
        entry
            .as_array_mut()
            .unwrap()
            .push(json!(value.to_str().unwrap_or("<binary>")));
    }
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "uri": req.uri().to_string(),
        "headers": headers,
        "body": body.len(),
        "text": String::from_utf8_lossy(&body[..body.len().min(1000)]),
    }))
}

const PAGE: &str = r#"<!DOCTYPE html><html><head><title>t</title></head><body>
<form method="post" action="/echo"><input name="a" value="1"></form>
<a href="/echo?x=1">own</a> <a href="https://other.example/">other</a></body></html>"#;

/// The queries of the requests to `/slow` the upstream has begun to answer.
static SLOW_STARTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Requests to `/held` in the upstream now, and the most there were at once.
static HELD_NOW: AtomicUsize = AtomicUsize::new(0);
static HELD_MOST: AtomicUsize = AtomicUsize::new(0);

/// Lets the rest of `/stalls` go.
static STALL: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// A page whose charset only its `<meta>` names, as older PHP apps serve them: "café" and
/// "résumé" in that charset's own bytes, a link and a form to this site, longer than the 1024
/// bytes a browser prescans.
fn legacy_page(name: &str) -> Vec<u8> {
    let (meta, e_acute): (&[u8], &[u8]) = match name {
        "1252" => (b"<meta charset=windows-1252>", b"\xe9"),
        "latin1" => (
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">",
            b"\xe9",
        ),
        "sjis" => (b"<meta charset=Shift_JIS>", b"\x83\x5c"),
        _ => (b"", "\u{e9}".as_bytes()),
    };
    let mut page = b"<html><head>".to_vec();
    page.extend_from_slice(meta);
    page.extend_from_slice(b"<title>caf");
    page.extend_from_slice(e_acute);
    page.extend_from_slice(b"</title></head><body><a href=\"/echo?x=1\">own</a>");
    for _ in 0..200 {
        page.extend_from_slice(b"<p>r");
        page.extend_from_slice(e_acute);
        page.extend_from_slice(b"sum");
        page.extend_from_slice(e_acute);
        page.extend_from_slice(b"</p>");
    }
    page.extend_from_slice(b"<form method=post action=/echo></form></body></html>");
    page
}

/// The upstream app: cookies set and expired, redirects to its own address, a slow answer, a
/// page to rewrite.
fn serve_upstream() -> (SocketAddr, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .route("/echo", web::to(echo))
            .route(
                "/login",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header((
                            header::SET_COOKIE,
                            "sid=abc; Path=/; HttpOnly; SameSite=Lax",
                        ))
                        .append_header((header::SET_COOKIE, "admin=1; Path=/admin"))
                        .content_type("text/html")
                        .body(PAGE)
                }),
            )
            .route(
                "/policies",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .append_header((header::REFERRER_POLICY, "no-referrer"))
                        .append_header((header::REFERRER_POLICY, "unsafe-url"))
                        .body(r#"<a href="/echo">next</a>"#)
                }),
            )
            .route(
                "/logout",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header((header::SET_COOKIE, "sid=; Path=/; Max-Age=0"))
                        .body("bye")
                }),
            )
            .route(
                "/redirect",
                web::get().to(move || async move {
                    HttpResponse::SeeOther()
                        .append_header((
                            header::LOCATION,
                            format!("http://{addr}/echo?from=redirect"),
                        ))
                        .append_header((header::CONTENT_LOCATION, format!("http://{addr}/here")))
                        .finish()
                }),
            )
            .route(
                "/slow",
                web::get().to(|req: HttpRequest| async move {
                    SLOW_STARTED
                        .lock()
                        .unwrap()
                        .push(req.query_string().to_owned());
                    actix_web::rt::time::sleep(Duration::from_secs(5)).await;
                    HttpResponse::Ok().body("late")
                }),
            )
            .route(
                "/secure",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header((header::SET_COOKIE, "tls=1; Secure; Path=/"))
                        .append_header((header::SET_COOKIE, "plain=1; Path=/"))
                        .body("set")
                }),
            )
            .route(
                "/fat",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header((
                            header::SET_COOKIE,
                            format!("fat={}; Path=/", "x".repeat(3_000)),
                        ))
                        .append_header((
                            header::SET_COOKIE,
                            format!("fatter={}; Path=/", "y".repeat(3_000)),
                        ))
                        .body("fat")
                }),
            )
            .route(
                "/set/{name}",
                web::get().to(|name: web::Path<String>| async move {
                    // Long enough that every request of a burst is in flight at once.
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                    HttpResponse::Ok()
                        .append_header((header::SET_COOKIE, format!("{name}=1; Path=/")))
                        .body("set")
                }),
            )
            .route(
                "/held",
                web::get().to(|| async {
                    let now = HELD_NOW.fetch_add(1, Ordering::SeqCst) + 1;
                    HELD_MOST.fetch_max(now, Ordering::SeqCst);
                    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
                    HELD_NOW.fetch_sub(1, Ordering::SeqCst);
                    HttpResponse::Ok().body("held")
                }),
            )
            .route(
                "/page",
                web::get().to(|| async { HttpResponse::Ok().content_type("text/html").body(PAGE) }),
            )
            .route(
                "/legacy/{name}",
                web::get().to(|name: web::Path<String>| async move {
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .body(legacy_page(&name))
                }),
            )
            .route(
                "/legacy-chunked/{name}",
                web::get().to(|name: web::Path<String>| async move {
                    // Chunked, in 100-byte pieces: cut inside tags and characters.
                    let chunks: Vec<_> = legacy_page(&name)
                        .chunks(100)
                        .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                        .collect();
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .streaming(futures_util::stream::iter(chunks))
                }),
            )
            .route(
                "/stalls",
                web::get().to(|| async {
                    // Its start, then nothing until the test lets the rest go.
                    let start = Bytes::from_static(b"<meta charset=windows-1252><p>caf\xe9</p>");
                    let rest = futures_util::stream::once(async {
                        STALL.notified().await;
                        Ok::<_, std::io::Error>(Bytes::from_static(b"<a href=\"/echo\">x</a>"))
                    });
                    let body = futures_util::stream::once(async { Ok(start) }).chain(rest);
                    HttpResponse::Ok().content_type("text/html").streaming(body)
                }),
            )
            .route(
                "/compressed",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/html")
                        .insert_header((header::CONTENT_ENCODING, "gzip"))
                        .body(Bytes::from_static(b"\x1f\x8b not really gzip"))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

/// The upstream, and the proxy in front of it (with both servers' handles).
fn proxied(settings: Settings, timeout: Duration) -> (SocketAddr, [ServerHandle; 2]) {
    let (up, upstream) = serve_upstream();
    let (proxy, proxy_server) = serve_proxy(&format!("http://{up}"), settings, timeout);
    (proxy, [upstream, proxy_server])
}

/// A browser without cookies: only the headers given.
fn browser() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .no_default_headers()
        .timeout(Duration::from_secs(30))
        .finish()
}

struct Got {
    status: u16,
    headers: actix_web::http::header::HeaderMap,
    body: Bytes,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not the echo: {} {}", self.status, self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = browser()
        .get(format!("http://{addr}{path}"))
        .insert_header((header::USER_AGENT, UA));
    for (name, value) in headers {
        req = req.append_header((*name, *value));
    }
    let mut res = req.send().await.expect("the proxy answers");
    let body = res.body().limit(16 << 20).await.unwrap();
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body,
    }
}

fn upstream_header(echo: &Value, name: &str) -> Option<Vec<String>> {
    echo["headers"][name].as_array().map(|values| {
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    })
}

/// The app's `Referrer-Policy` lines `no-referrer` then `unsafe-url` (a browser applies the
/// last, and sends token URLs in `Referer`) end as one that leaks nothing, with `no-store`.
#[actix_web::test]
async fn the_apps_referrer_policy_lines_end_as_one_that_leaks_nothing() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").expect("a session").to_owned();
    let page = get(proxy, "/policies", &[("x-session-id", &token)]).await;
    assert_eq!(page.status, 200);
    assert!(page.header("x-session-id").is_some());
    let policies: Vec<&str> = page
        .headers
        .get_all(header::REFERRER_POLICY)
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(policies, ["same-origin"]);
    assert_eq!(page.header("cache-control"), Some("private, no-store"));
}

/// A page whose charset only its `<meta>` names is declared in that charset, as a browser
/// reads it, and rewritten in it: held with a length or chunked, the text reads the same
/// decoded in the charset the header names, with only the tokens added.
#[actix_web::test]
async fn a_page_naming_its_charset_only_in_meta_is_declared_and_rewritten_in_it() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let token = get(proxy, "/login", &[])
        .await
        .header("x-session-id")
        .expect("a session")
        .to_owned();
    let cases = [
        ("1252", "windows-1252", "é"),
        ("latin1", "windows-1252", "é"),
        ("sjis", "Shift_JIS", "ソ"),
        ("utf8", "UTF-8", "é"),
    ];
    for (name, charset, e_acute) in cases {
        for route in ["legacy", "legacy-chunked"] {
            let page = get(
                proxy,
                &format!("/{route}/{name}"),
                &[("x-session-id", &token)],
            )
            .await;
            let content_type = page.header("content-type").unwrap_or_default();
            assert_eq!(
                content_type,
                format!("text/html; charset={charset}"),
                "/{route}/{name}"
            );
            let encoding = encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap();
            let (text, _, malformed) = encoding.decode(&page.body);
            assert!(!malformed, "/{route}/{name}: {text}");
            let original = legacy_page(name);
            let (original, _, _) = encoding.decode(&original);
            let expected = original
                .replace("x=1\"", &format!("x=1&amp;sessionid={token}\""))
                .replace(
                    "action=/echo>",
                    &format!(
                        "action=/echo><input type=\"hidden\" name=\"sessionid\" value=\"{token}\" />"
                    ),
                );
            assert_eq!(text, expected, "/{route}/{name}");
            assert_eq!(
                text.matches(&format!("r{e_acute}sum{e_acute}")).count(),
                200
            );
        }
    }
}

/// A streamed page that names no charset in its header goes out once its first 1024 bytes
/// came or it stalls: a page that stalls sooner is not held back until it ends.
#[actix_web::test]
async fn a_page_that_stalls_early_is_answered_before_it_ends() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(30));
    let token = get(proxy, "/login", &[])
        .await
        .header("x-session-id")
        .expect("a session")
        .to_owned();
    let sent = browser()
        .get(format!("http://{proxy}/stalls"))
        .insert_header((header::USER_AGENT, UA))
        .insert_header(("x-session-id", token.as_str()))
        .send();
    let mut res = tokio::time::timeout(Duration::from_secs(10), sent)
        .await
        .expect("the head came while the page stalled")
        .unwrap();
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "text/html; charset=windows-1252"
    );
    STALL.notify_one();
    let body = res.body().await.unwrap();
    assert_eq!(
        body,
        format!(
            "<meta charset=windows-1252><p>caf\u{e9}</p><a href=\"/echo?sessionid={token}\">x</a>"
        )
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect::<Vec<u8>>()
    );
}

#[actix_web::test]
async fn upstream_cookies_stay_in_the_session_and_never_reach_the_browser() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));

    let login = get(proxy, "/login", &[]).await;
    assert_eq!(login.status, 200);
    assert!(
        login.header("set-cookie").is_none(),
        "a cookie reached the browser"
    );
    let token = login
        .header("x-session-id")
        .expect("the jar started a session")
        .to_owned();
    let page = login.text();
    assert!(
        page.contains(&format!(r#"name="sessionid" value="{token}""#)),
        "{page}"
    );

    // With the token, the upstream gets its cookies back, by path; the browser's own never.
    let echo = get(
        proxy,
        "/echo",
        &[("x-session-id", &token), ("cookie", "planted=1")],
    )
    .await;
    assert!(echo.header("set-cookie").is_none());
    assert_eq!(
        upstream_header(&echo.json(), "cookie"),
        Some(vec!["sid=abc".to_owned()])
    );
    let admin = get(proxy, "/admin/echo", &[("x-session-id", &token)]).await;
    assert_eq!(admin.status, 404);
    let echo = get(proxy, "/echo?sessionid=x", &[("x-session-id", &token)]).await;
    assert_eq!(
        echo.json()["uri"],
        "/echo",
        "the query token must not reach the upstream"
    );

    // Without the token: a new visitor, no cookies.
    let stranger = get(proxy, "/echo", &[("cookie", "sid=abc")]).await;
    assert_eq!(upstream_header(&stranger.json(), "cookie"), None);

    // The upstream expires its cookie: the jar forgets it.
    let bye = get(proxy, "/logout", &[("x-session-id", &token)]).await;
    assert!(bye.header("set-cookie").is_none());
    let echo = get(proxy, "/echo", &[("x-session-id", &token)]).await;
    assert_eq!(upstream_header(&echo.json(), "cookie"), None);
}

async fn post(addr: SocketAddr, path: &str, content_type: &str, body: String) -> Got {
    let mut res = browser()
        .post(format!("http://{addr}{path}"))
        .insert_header((header::USER_AGENT, UA))
        .insert_header((header::CONTENT_TYPE, content_type))
        .send_body(body)
        .await
        .expect("the proxy answers");
    let body = res.body().limit(16 << 20).await.unwrap();
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body,
    }
}

#[actix_web::test]
async fn the_token_field_of_a_form_stays_with_the_proxy() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let token = get(proxy, "/login", &[])
        .await
        .header("x-session-id")
        .unwrap()
        .to_owned();

    let form = post(
        proxy,
        "/echo",
        "application/x-www-form-urlencoded",
        format!("sessionid={token}&name=Ada&x=%26"),
    )
    .await
    .json();
    assert_eq!(form["text"], "name=Ada&x=%26");
    assert_eq!(
        upstream_header(&form, "content-length"),
        Some(vec!["14".to_owned()])
    );
    // The field opened the session all the same: the app got its cookie.
    assert_eq!(
        upstream_header(&form, "cookie"),
        Some(vec!["sid=abc".to_owned()])
    );

    let part = |name: &str, value: &str| {
        format!("--B0und\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let rest = format!("{}--B0und--\r\n", part("name", "Ada"));
    let multipart = post(
        proxy,
        "/echo",
        "multipart/form-data; boundary=B0und",
        format!("{}{rest}", part("sessionid", &token)),
    )
    .await
    .json();
    assert_eq!(multipart["text"], rest.as_str());
    assert_eq!(
        upstream_header(&multipart, "cookie"),
        Some(vec!["sid=abc".to_owned()])
    );

    // A field of that name anywhere in the body stays with the proxy too.
    let later = post(
        proxy,
        "/echo",
        "application/x-www-form-urlencoded",
        "name=Ada&sessionid=mine".to_owned(),
    )
    .await
    .json();
    assert_eq!(later["text"], "name=Ada");
    assert_eq!(
        upstream_header(&later, "content-length"),
        Some(vec!["8".to_owned()])
    );
}

#[actix_web::test]
async fn hop_by_hop_and_spoofed_forwarding_headers_stop_at_the_proxy() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    // Raw bytes on the wire: an HTTP client would not send a `Connection` header it was given.
    let echo = common::wire(
        proxy,
        "GET",
        "/echo?a=1",
        &[
            ("connection", "x-hop"),
            ("x-hop", "secret"),
            ("te", "trailers"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "for=6.6.6.6;host=evil.example"),
            ("accept-encoding", "br"), // asked for, but not what the upstream gets
            ("x-session-id", "not-a-token"),
            ("x-custom", "kept"),
        ],
        "",
    )
    .await;
    let echo: Value = serde_json::from_str(&echo.body).expect("the upstream's echo");
    let h = |name| upstream_header(&echo, name);
    assert_eq!(echo["uri"], "/echo?a=1");
    for gone in ["x-hop", "te", "x-session-id"] {
        assert_eq!(h(gone), None, "{gone} reached the upstream");
    }
    assert_eq!(h("x-custom"), Some(vec!["kept".to_owned()]));
    assert_eq!(h("x-forwarded-for"), Some(vec!["127.0.0.1".to_owned()]));
    assert_eq!(h("x-forwarded-host"), Some(vec![proxy.to_string()]));
    assert_eq!(h("x-forwarded-proto"), Some(vec!["http".to_owned()]));
    assert_eq!(
        h("forwarded"),
        Some(vec![format!("for=127.0.0.1;proto=http;host=\"{proxy}\"")])
    );
    assert_eq!(h("host"), Some(vec![proxy.to_string()]), "preserve_host");
    assert_eq!(h("accept-encoding"), Some(vec!["identity".to_owned()]));
    assert_eq!(h("user-agent"), Some(vec![UA.to_owned()]));
}

/// No header in which a client could name its own address reaches the app, in any spelling
/// (`X_Forwarded_For` is `HTTP_X_FORWARDED_FOR` to PHP); the proxy's own judgement does.
#[actix_web::test]
async fn no_client_address_header_from_the_browser_reaches_the_app() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let spoofed = [
        "x-real-ip",
        "true-client-ip",
        "x-client-ip",
        "client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "x-cluster-client-ip",
        "x-original-forwarded-for",
        "x-forwarded",
        "x_forwarded_for",
        "x_real_ip",
        "X_Forwarded_Host",
    ];
    let headers: Vec<(&str, &str)> = spoofed.iter().map(|name| (*name, "6.6.6.6")).collect();
    let echo = common::wire(proxy, "GET", "/echo", &headers, "").await;
    let echo: Value = serde_json::from_str(&echo.body).expect("the upstream's echo");
    for name in spoofed {
        let got = upstream_header(&echo, &name.to_ascii_lowercase());
        assert!(
            got.is_none() || got == Some(vec!["127.0.0.1".to_owned()]),
            "{name} reached the upstream: {got:?}"
        );
    }
    let text = echo.to_string();
    assert!(!text.contains("6.6.6.6"), "{text}");
    assert_eq!(
        upstream_header(&echo, "x-real-ip"),
        Some(vec!["127.0.0.1".to_owned()])
    );
}

#[actix_web::test]
async fn redirects_to_the_upstream_come_back_through_the_proxy() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").unwrap().to_owned();
    let moved = get(proxy, "/redirect", &[("x-session-id", &token)]).await;
    assert_eq!(moved.status, 303);
    let location = moved.header("location").unwrap();
    assert!(
        location.starts_with("/echo?from=redirect&sessionid="),
        "{location}"
    );
    assert_eq!(moved.header("content-location"), Some("/here"));
}

#[actix_web::test]
async fn a_missing_or_slow_upstream_gives_502_or_504_with_an_opaque_body() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_millis(500));
    let slow = get(proxy, "/slow", &[]).await;
    assert_eq!(
        (slow.status, slow.text().as_str()),
        (504, "Gateway Timeout")
    );

    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (proxy, _proxy) = serve_proxy(
        &format!("http://{closed}"),
        Settings::new(SECRET),
        Duration::from_secs(5),
    );
    let down = get(proxy, "/", &[]).await;
    assert_eq!((down.status, down.text().as_str()), (502, "Bad Gateway"));
}

#[actix_web::test]
async fn pages_are_compressed_outward_after_rewriting_and_encoded_upstream_pages_pass_untouched() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(5));
    let login = get(proxy, "/login", &[("accept-encoding", "gzip")]).await;
    assert_eq!(login.header("content-encoding"), Some("gzip"));
    let token = login.header("x-session-id").unwrap().to_owned();
    let mut page = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&login.body[..]),
        &mut page,
    )
    .unwrap();
    assert!(page.contains(&format!(r#"value="{token}""#)), "{page}");

    // An upstream that compresses anyway: not rewritten (no token in bytes we cannot read).
    let raw = get(proxy, "/compressed", &[("x-session-id", &token)]).await;
    assert_eq!(raw.header("content-encoding"), Some("gzip"));
    assert_eq!(&raw.body[..], b"\x1f\x8b not really gzip");
}

#[actix_web::test]
async fn the_script_client_is_served_and_put_first_into_the_head() {
    let (up, _upstream) = serve_upstream();
    let mut settings = Settings::new(SECRET);
    settings.client_script = true;
    let (proxy, _proxy) = serve_proxy(&format!("http://{up}"), settings, Duration::from_secs(5));
    let script = get(proxy, "/__cookieless/session.js", &[]).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.text().contains("XMLHttpRequest.prototype.send"));

    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").unwrap();
    let expected = format!(
        r#"<head><script src="//{proxy}/__cookieless/session.js" data-cookieless-header="X-Session-ID" data-cookieless-token="{token}"></script><title>"#
    );
    assert!(login.text().contains(&expected), "{}", login.text());
    // A page of a visitor without a session gets no script (and no token).
    let anonymous = get(proxy, "/page", &[]).await;
    assert!(
        !anonymous.text().contains("<script"),
        "{}",
        anonymous.text()
    );
}

/// The `cookieless-proxy` binary itself, with the environment given (and no settings file).
/// A jar that would grow past `proxy.max_jar_bytes` is not kept: the cookies it had stay, the
/// new one is dropped (and the store holds no more than the bound for the visitor).
/// A `Secure` cookie lives in the jar as in a browser: kept only when the visitor's page was
/// https (here: a trusted proxy's `X-Forwarded-Proto`), and sent to the app only for https.
#[actix_web::test]
async fn a_secure_cookie_is_kept_and_sent_only_over_https() {
    let mut settings = Settings::new(SECRET);
    settings.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    let (proxy, _servers) = proxied(settings, Duration::from_secs(5));
    // A public name: a browser treats http://127.0.0.1 as secure for cookies, as the jar does.
    let host = ("host", "shop.example");
    let https = ("x-forwarded-proto", "https");
    let cookies = |echo: &Got| upstream_header(&echo.json(), "cookie").unwrap_or_default();

    // Set over http: the Secure cookie is dropped, as a browser drops it.
    let set = get(proxy, "/secure", &[host]).await;
    let token = set.header("x-session-id").expect("a session").to_owned();
    let echo = get(proxy, "/echo", &[("x-session-id", &token), host, https]).await;
    assert_eq!(cookies(&echo), ["plain=1"]);

    // Set over https: sent back over https only.
    let set = get(proxy, "/secure", &[host, https]).await;
    let token = set.header("x-session-id").expect("a session").to_owned();
    let echo = get(proxy, "/echo", &[("x-session-id", &token), host, https]).await;
    assert_eq!(cookies(&echo), ["plain=1; tls=1"]);
    let echo = get(proxy, "/echo", &[("x-session-id", &token), host]).await;
    assert_eq!(cookies(&echo), ["plain=1"]);
}

#[actix_web::test]
async fn a_jar_past_max_jar_bytes_keeps_its_old_cookies_only() {
    let (up, _upstream) = serve_upstream();
    let mut proxy_settings = proxy_support::to(&format!("http://{up}"), Duration::from_secs(10));
    proxy_settings.max_jar_bytes = 4096;
    let (proxy, _server) = proxy_support::serve_proxy_with(proxy_settings, Settings::new(SECRET));
    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").expect("a session").to_owned();
    let fat = get(proxy, "/fat", &[("x-session-id", &token)]).await;
    assert_eq!((fat.status, fat.text().as_str()), (200, "fat"));
    let token = fat.header("x-session-id").unwrap_or(&token).to_owned();
    let echo = get(proxy, "/echo", &[("x-session-id", &token)]).await;
    assert_eq!(
        upstream_header(&echo.json(), "cookie"),
        Some(vec!["sid=abc".to_owned()]),
        "the old jar, without the cookie that outgrew the bound"
    );
}

/// Ten requests of one visitor at once, each answered with its own `Set-Cookie`, leave all ten
/// cookies in the jar (with the old cookie), wherever the proxy keeps its sessions.
async fn no_cookie_is_lost_to_concurrent_requests(proxy: SocketAddr) {
    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").expect("a session").to_owned();
    let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
    let answers = futures_util::future::join_all(names.iter().map(|name| {
        let token = token.clone();
        async move {
            let headers = [("x-session-id", token.as_str())];
            get(proxy, &format!("/set/{name}"), &headers).await
        }
    }))
    .await;
    for answer in &answers {
        assert_eq!((answer.status, answer.text().as_str()), (200, "set"));
    }
    let echo = get(proxy, "/echo", &[("x-session-id", &token)]).await;
    let sent = upstream_header(&echo.json(), "cookie").expect("the jar's cookies");
    let mut sent: Vec<&str> = sent[0].split("; ").collect();
    sent.sort_unstable();
    let mut expected: Vec<String> = names.iter().map(|name| format!("{name}=1")).collect();
    expected.push("sid=abc".to_owned());
    expected.sort_unstable();
    assert_eq!(sent, expected, "cookies lost to concurrent requests");
}

#[actix_web::test]
async fn no_cookie_is_lost_to_concurrent_requests_in_memory() {
    let (proxy, _servers) = proxied(Settings::new(SECRET), Duration::from_secs(10));
    no_cookie_is_lost_to_concurrent_requests(proxy).await;
}

#[cfg(feature = "redis")]
#[actix_web::test]
async fn no_cookie_is_lost_to_concurrent_requests_in_redis() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("REDIS_URL is unset: ./scripts/test-all starts a Redis and sets it")
    });
    let (up, _upstream) = serve_upstream();
    let env = [
        ("COOKIELESS_SECRET", SECRET),
        ("COOKIELESS_PROXY__REDIS_URL", redis.as_str()),
    ];
    let (child, proxy) = start_binary(up, &env).await;
    let _child = Reaped(child);
    no_cookie_is_lost_to_concurrent_requests(proxy).await;
}

/// The binary with `proxy.redis_cluster` (from its environment variable, a list): the jar
/// keeps every cookie on a real three-node Redis Cluster too.
#[cfg(feature = "redis")]
#[actix_web::test]
async fn no_cookie_is_lost_to_concurrent_requests_on_a_redis_cluster() {
    let cluster = actix_web::rt::task::spawn_blocking(redis_cluster::PrivateCluster::start)
        .await
        .unwrap();
    let nodes = cluster.urls().join(",");
    let (up, _upstream) = serve_upstream();
    let env = [
        ("COOKIELESS_SECRET", SECRET),
        ("COOKIELESS_PROXY__REDIS_CLUSTER", nodes.as_str()),
    ];
    let (child, proxy) = start_binary(up, &env).await;
    let _child = Reaped(child);
    no_cookie_is_lost_to_concurrent_requests(proxy).await;
    let stored: usize = (0..3)
        .map(|i| cluster.keys_on(i, "cookieless:*").len())
        .sum();
    assert_eq!(stored, 1, "the visitor's session is on the cluster");
}

/// A request body past `proxy.max_body_bytes` gets 413, announced or chunked, and never reaches
/// the app whole; one within it passes.
#[actix_web::test]
async fn a_body_past_max_body_bytes_gets_413() {
    let (up, _upstream) = serve_upstream();
    let mut proxy_settings = proxy_support::to(&format!("http://{up}"), Duration::from_secs(10));
    proxy_settings.max_body_bytes = 64 * 1024;
    let (proxy, _server) = proxy_support::serve_proxy_with(proxy_settings, Settings::new(SECRET));
    let post = || {
        browser()
            .post(format!("http://{proxy}/echo"))
            .insert_header((header::USER_AGENT, UA))
            .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
    };
    let mut within = post().send_body(vec![b'a'; 60_000]).await.unwrap();
    assert_eq!(within.status().as_u16(), 200);
    let echo: Value = serde_json::from_slice(&within.body().await.unwrap()).unwrap();
    assert_eq!(echo["body"], 60_000);

    let announced = post().send_body(vec![b'a'; 100_000]).await.unwrap();
    assert_eq!(
        announced.status().as_u16(),
        413,
        "a Content-Length past the bound"
    );

    let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 10_000])));
    let chunked = post()
        .send_stream(futures_util::stream::iter(chunks))
        .await
        .unwrap();
    assert_eq!(
        chunked.status().as_u16(),
        413,
        "a chunked body past the bound"
    );
}

/// No more than `proxy.max_upstream_connections` requests reach the app at once, all workers
/// together; the rest wait their turn and are answered all the same.
#[actix_web::test]
async fn upstream_connections_stay_within_max_upstream_connections() {
    let (up, _upstream) = serve_upstream();
    let mut proxy_settings = proxy_support::to(&format!("http://{up}"), Duration::from_secs(30));
    proxy_settings.max_upstream_connections = 2;
    let (proxy, _server) = proxy_support::serve_proxy_with(proxy_settings, Settings::new(SECRET));
    let requests = (0..16).map(|_| get(proxy, "/held", &[]));
    let answers = futures_util::future::join_all(requests).await;
    assert!(
        answers
            .iter()
            .all(|got| got.status == 200 && got.text() == "held")
    );
    // Two workers in the test proxy, which share the bound.
    let most = HELD_MOST.load(Ordering::SeqCst);
    eprintln!("16 requests at once: at most {most} at the app");
    assert!((1..=2).contains(&most), "{most} at once at the app");
}

fn binary(args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cookieless-proxy"));
    command
        .args(args)
        .args(["--config", "/nonexistent/cookieless.toml"])
        .env_clear()
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null());
    command
}

/// `--help` names every setting of both tables with its environment variable.
#[test]
fn the_help_lists_every_setting_with_its_environment_name() {
    let help = binary(&["--help"], &[]).output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let fields =
        |value: Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
    let session = fields(serde_json::to_value(Settings::new(SECRET)).unwrap());
    let proxy =
        fields(serde_json::to_value(actix_cookieless::proxy::ProxySettings::default()).unwrap());
    assert!(
        session.len() > 20 && proxy.len() > 10,
        "{session:?} {proxy:?}"
    );
    for key in &session {
        let env = format!("COOKIELESS_{}", key.to_ascii_uppercase());
        assert!(
            help.lines().any(|line| line
                .split_whitespace()
                .take(2)
                .eq([key.as_str(), env.as_str()])),
            "{key} ({env}) missing from --help:\n{help}"
        );
    }
    for key in &proxy {
        let (table_key, env) = (
            format!("proxy.{key}"),
            format!("COOKIELESS_PROXY__{}", key.to_ascii_uppercase()),
        );
        assert!(
            help.lines().any(|line| line
                .split_whitespace()
                .take(2)
                .eq([table_key.as_str(), env.as_str()])),
            "{table_key} ({env}) missing from --help:\n{help}"
        );
    }
}

#[test]
fn the_binary_refuses_a_bad_setting_at_start_up_naming_it() {
    // (flags, environment, the setting the error must name)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        (&["--upstream", "http://127.0.0.1:9"], &[], "secret"),
        (&[], &[("COOKIELESS_SECRET", SECRET)], "proxy.upstream"),
        (
            &["--upstream", "http://127.0.0.1:9", "--listen", "nowhere"],
            &[("COOKIELESS_SECRET", SECRET)],
            "proxy.listen",
        ),
        (
            &["--upstream", "http://127.0.0.1:9"],
            &[
                ("COOKIELESS_SECRET", SECRET),
                ("COOKIELESS_PROXY__UPSTREAM_TIMEOUT", "0"),
            ],
            "proxy.upstream_timeout",
        ),
    ];
    for (args, env, setting) in cases {
        let out = binary(args, env).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started");
        assert!(
            stderr.contains(&format!("cookieless-proxy: {setting}"))
                || stderr.contains(&format!("`{setting}`")),
            "{args:?}: {stderr}"
        );
    }
}

/// How long a stop waits for requests in flight, for the graceful-stop test.
const SHUTDOWN_TIMEOUT: &str = "30s";

#[actix_web::test]
async fn the_binary_stops_gracefully_finishing_requests_in_flight() {
    let (up, _upstream) = serve_upstream();
    let (mut proxy, listen) = start_binary(
        up,
        &[
            ("COOKIELESS_SECRET", SECRET),
            ("COOKIELESS_PROXY__WORKERS", "1"),
            ("COOKIELESS_PROXY__SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUT),
        ],
    )
    .await;
    // /slow answers after 5 s; the stop comes once the upstream has it in hand.
    let in_flight =
        actix_web::rt::spawn(async move { get(listen, "/slow?graceful-stop", &[]).await });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let started = || {
        SLOW_STARTED
            .lock()
            .unwrap()
            .iter()
            .any(|q| q == "graceful-stop")
    };
    while !started() {
        assert!(
            std::time::Instant::now() < deadline,
            "/slow never reached the app"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &proxy.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = in_flight.await.unwrap();
    assert_eq!((answer.status, answer.text().as_str()), (200, "late"));
    let status = actix_web::rt::task::spawn_blocking(move || proxy.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        std::net::TcpStream::connect(listen).is_err(),
        "still accepting after the stop"
    );
}

/// The access log has a line per request: method, path without the token, status, time, and
/// the session as a short hash; neither the token nor the session key is in it.
#[actix_web::test]
async fn the_access_log_has_a_line_per_request_without_the_token() {
    let (up, _upstream) = serve_upstream();
    let log_path =
        std::env::temp_dir().join(format!("cookieless-proxy-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let env = [
        ("COOKIELESS_SECRET", SECRET),
        ("COOKIELESS_PARAM_NAME", "sid_token"),
    ];
    let (child, proxy) = start_binary_logging_to(up, &env, log.into()).await;
    let child = Reaped(child);
    let login = get(proxy, "/login", &[]).await;
    let token = login.header("x-session-id").expect("a session").to_owned();
    let echo = get(proxy, &format!("/echo?x=1&sid_token={token}&y=2"), &[]).await;
    assert_eq!(echo.status, 200);
    let missing = get(proxy, "/nothing-here", &[("x-session-id", &token)]).await;
    drop(child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("cookieless_proxy::access"))
        .collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[0].contains("method=GET path=/login status=200"),
        "{log}"
    );
    assert!(
        lines[0].contains("session=-"),
        "a new session has no key yet: {log}"
    );
    assert!(
        lines[1].contains("method=GET path=/echo?x=1&y=2 status=200"),
        "{log}"
    );
    let hash = lines[2].rsplit("session=").next().unwrap();
    assert!(
        lines[2].contains(&format!(
            "method=GET path=/nothing-here status={}",
            missing.status
        )),
        "{log}"
    );
    assert_eq!(hash.len(), 8, "{log}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{log}");
    assert!(!log.contains(&token), "the token reached the log: {log}");
}

/// `proxy.access_log = false`: no line, the other log lines go on.
#[actix_web::test]
async fn the_access_log_can_be_turned_off() {
    let (up, _upstream) = serve_upstream();
    let log_path =
        std::env::temp_dir().join(format!("cookieless-proxy-off-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let env = [
        ("COOKIELESS_SECRET", SECRET),
        ("COOKIELESS_PROXY__ACCESS_LOG", "false"),
    ];
    let (child, proxy) = start_binary_logging_to(up, &env, log.into()).await;
    let child = Reaped(child);
    assert_eq!(get(proxy, "/login", &[]).await.status, 200);
    drop(child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).unwrap();
    assert!(!log.contains("cookieless_proxy::access"), "{log}");
    assert!(
        log.contains("listening"),
        "the rest of the log goes on: {log}"
    );
}

/// A proxy process, stopped when the test ends, passed or failed (a left-over child would keep
/// the test's output open).
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free port and waits until it listens.
async fn start_binary(
    upstream: SocketAddr,
    env: &[(&str, &str)],
) -> (std::process::Child, SocketAddr) {
    start_binary_logging_to(upstream, env, std::process::Stdio::null()).await
}

/// [`start_binary`], its log going to `log`.
async fn start_binary_logging_to(
    upstream: SocketAddr,
    env: &[(&str, &str)],
    log: std::process::Stdio,
) -> (std::process::Child, SocketAddr) {
    let listen = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = binary(
        &[
            "--upstream",
            &format!("http://{upstream}"),
            "--listen",
            &listen.to_string(),
        ],
        env,
    )
    .stderr(log)
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy did not listen"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    (child, listen)
}

/// Two proxies on one Redis (`proxy.redis_url`) share sessions and their cookie jars: a visitor
/// whose requests alternate between them stays logged in to the app.
#[cfg(feature = "redis")]
#[actix_web::test]
async fn two_proxies_on_one_redis_share_the_jar() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("REDIS_URL is unset: ./scripts/test-all starts a Redis and sets it")
    });
    let (up, _upstream) = serve_upstream();
    let env = [
        ("COOKIELESS_SECRET", SECRET),
        ("COOKIELESS_PROXY__REDIS_URL", redis.as_str()),
    ];
    let (a, at_a) = start_binary(up, &env).await;
    let _a = Reaped(a);
    let (b, at_b) = start_binary(up, &env).await;
    let _b = Reaped(b);

    let login = get(at_a, "/login", &[]).await;
    let token = login.header("x-session-id").expect("a session").to_owned();
    let echo = get(at_b, "/echo", &[("x-session-id", &token)]).await;
    assert_eq!(
        upstream_header(&echo.json(), "cookie"),
        Some(vec!["sid=abc".to_owned()])
    );
    let bye = get(at_b, "/logout", &[("x-session-id", &token)]).await;
    assert_eq!(bye.status, 200);
    let echo = get(at_a, "/echo", &[("x-session-id", &token)]).await;
    assert_eq!(
        upstream_header(&echo.json(), "cookie"),
        None,
        "the logout on B reached A"
    );
}
