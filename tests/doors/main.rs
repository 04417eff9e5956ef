//! Every promise on every door: each scenario runs on the wire against the actix middleware,
//! the tower layer (an axum router; feature `tower`) and `cookieless-proxy` in front of a cookie
//! app (feature `proxy`), the same requests and the same assertions. Pages are read with
//! html5ever, not with the rewriter's parser.

mod client;
#[path = "../common/mod.rs"]
mod common;
#[path = "../support/dom.rs"]
mod dom;
mod servers;

use std::net::SocketAddr;

use actix_cookieless::{MemoryStore, Settings};
use client::{Req, Res, send};
use servers::Kind;

const SECRET: &str = "doors-test-secret-0123456789abcdef-0123";

/// A door of `kind` with settings tuned by `tune`, and a session started on it from the
/// default client.
struct Door {
    addr: SocketAddr,
    kind: Kind,
}

impl Door {
    fn open(kind: Kind, tune: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::new(SECRET);
        tune(&mut settings);
        let addr = servers::start(kind, MemoryStore::default(), settings);
        Self { addr, kind }
    }

    async fn send(&self, req: Req) -> Res {
        send(self.addr, req).await
    }

    /// Starts a session from the default client: its token.
    async fn start(&self) -> String {
        let res = self.send(Req::get("/d/start")).await;
        assert_eq!(res.status, 200, "{:?}: {res:?}", self.kind);
        res.token().expect("a started session has a token")
    }

    /// Whether `req` opens the started session.
    async fn opens(&self, req: Req) -> bool {
        let res = self.send(req).await;
        assert!(res.status < 500, "{:?}: {res:?}", self.kind);
        res.body == "started=1"
    }
}

/// Each scenario as a test per door: `scenario::actix`, `scenario::axum`, `scenario::proxy`.
macro_rules! three_doors {
    ($($scenario:ident($tune:expr);)*) => {$(
        mod $scenario {
            use super::*;

            #[actix_rt::test]
            async fn actix() {
                super::$scenario(Door::open(Kind::Actix, $tune)).await;
            }

            #[cfg(feature = "tower")]
            #[actix_rt::test]
            async fn axum() {
                super::$scenario(Door::open(Kind::Axum, $tune)).await;
            }

            #[cfg(feature = "proxy")]
            #[actix_rt::test]
            async fn proxy() {
                super::$scenario(Door::open(Kind::Proxy, $tune)).await;
            }
        }
    )*};
}

three_doors! {
    token_responses_are_private_keep_their_referrer_and_set_no_cookie(|_| {});
    a_cross_site_post_opens_no_session(|_| {});
    reject_cross_site_answers_403_with_no_store(|s| s.reject_cross_site = true);
    a_flood_of_new_sessions_gets_429_with_no_store(|s| s.new_sessions_per_minute = 2);
    delete_cookies_expires_what_the_client_sent_and_nothing_else(|s| s.delete_cookies = true);
    head_announces_the_length_get_sends(|_| {});
    url_specific_tokens_open_only_where_they_point(|s| s.url_specific = true);
    forwarding_headers_from_a_client_change_no_origin(|_| {});
    trusted_proxies_name_the_client(|s| s.trusted_proxies = vec!["127.0.0.0/8".to_owned()]);
    a_redirect_after_a_post_carries_a_token_for_that_get_only(|s| s.use_get = false);
    redirects_to_other_sites_carry_no_token(|_| {});
    a_streamed_page_gives_a_cross_site_button_after_a_form_no_form(|_| {});
    // From the two-framework suites (`tests/frameworks`), where they apply to any backend.
    every_carrier_keeps_the_session(|_| {});
    query_tokens_open_nothing_without_use_get(|s| s.use_get = false);
    a_token_tampered_with_or_from_another_client_opens_nothing(|_| {});
    // `cookie = "auto"`: the cookie where the browser keeps it, the token where it does not.
    auto_the_cookie_carries_the_session_and_its_pages_are_not_rewritten(|s| s.cookie = "auto".into());
    auto_a_token_wins_over_the_cookie_and_refreshes_it(|s| s.cookie = "auto".into());
    auto_another_sites_request_leaves_the_cookie_alone(|s| s.cookie = "auto".into());
    auto_a_cookie_that_opens_nothing_is_removed(|s| s.cookie = "auto".into());
    auto_delete_cookies_spares_the_session_cookie(|s| { s.cookie = "auto".into(); s.delete_cookies = true; });
    auto_no_cookie_where_the_page_is_not_secure(|s| s.cookie = "auto".into());
    auto_a_token_link_where_the_cookie_works_is_served_clean(|s| s.cookie = "auto".into());
}

/// The attribute `name` of the element with `id` in `page`.
fn attr(page: &str, id: &str, name: &str) -> Option<String> {
    let dom = dom::parse(page);
    let mut element = false;
    let mut found = None;
    dom::walk(&dom.document, &mut |node| {
        if dom::attr(node, "id").as_deref() == Some(id) {
            element = true;
            found = dom::attr(node, name);
        }
    });
    assert!(element, "no #{id} in {page}");
    found
}

/// The `href` of the element with `id` in `page`.
fn href(page: &str, id: &str) -> String {
    attr(page, id, "href").unwrap_or_else(|| panic!("#{id} has no href in {page}"))
}

/// The values of the hidden `sessionid` inputs of `page`.
fn hidden_tokens(page: &str) -> Vec<String> {
    let dom = dom::parse(page);
    let mut found = Vec::new();
    dom::walk(&dom.document, &mut |node| {
        if dom::is(node, "input") && dom::attr(node, "name").as_deref() == Some("sessionid") {
            found.push(dom::attr(node, "value").unwrap_or_default());
        }
    });
    found
}

/// The `sessionid` parameter of `url`.
fn param(url: &str) -> Option<String> {
    let url = url::Url::parse("http://site.example/")
        .unwrap()
        .join(url)
        .unwrap();
    url.query_pairs()
        .find(|(name, _)| name == "sessionid")
        .map(|(_, value)| value.into_owned())
}

/// A page streamed (the rewriter cannot read ahead) whose form gets the token and is released
/// at its `</form>`; a browser builds the cross-site button after it into that form (the `<b>`
/// the input makes again inside the form stays open). The button is given no form
/// (`form=""`, as html5ever reads the page), so its click sends the form nowhere.
async fn a_streamed_page_gives_a_cross_site_button_after_a_form_no_form(door: Door) {
    let token = door.start().await;
    let res = door.send(Req::get("/d/streamed").token(&token)).await;
    assert_eq!(res.status, 200, "{:?}: {res:?}", door.kind);
    assert_eq!(
        hidden_tokens(&res.body).len(),
        1,
        "{:?}: the form keeps its token: {}",
        door.kind,
        res.body
    );
    assert_eq!(
        attr(&res.body, "go", "form").as_deref(),
        Some(""),
        "{:?}: {}",
        door.kind,
        res.body
    );
}

async fn token_responses_are_private_keep_their_referrer_and_set_no_cookie(door: Door) {
    let started = door.send(Req::get("/d/start")).await;
    let token = started.token().expect("a token");
    let page = door.send(Req::get("/d/page").token(&token)).await;
    for res in [&started, &page] {
        assert_eq!(
            res.header("cache-control"),
            Some("private, no-store"),
            "{res:?}"
        );
        assert_eq!(res.all("referrer-policy"), ["same-origin"], "{res:?}");
        assert!(res.header("set-cookie").is_none(), "{res:?}");
    }
    assert_eq!(hidden_tokens(&page.body), [page.token().unwrap()]);
    assert!(
        param(&href(&page.body, "who")).is_some(),
        "use_get: own links carry it"
    );
    assert_eq!(href(&page.body, "spoofed"), "https://evil.example/x");
    assert_eq!(href(&page.body, "away"), "https://other.example/");
    // use_get: the page's URL may carry the token, so nothing on it sends that URL elsewhere.
    assert_eq!(attr(&page.body, "pinging", "ping"), None);
    assert_eq!(attr(&page.body, "img", "referrerpolicy"), None);
    assert!(door.opens(Req::get("/d/whoami").token(&token)).await);
}

async fn a_cross_site_post_opens_no_session(door: Door) {
    let token = door.start().await;
    let same = Req::post("/d/whoami", format!("sessionid={token}"));
    assert!(door.opens(same.clone()).await, "a post from this site");
    let cross = [
        ("origin", "https://evil.example"),
        ("referer", "https://evil.example/page"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "null"),
    ];
    for (name, value) in cross {
        let res = door.send(same.clone().header(name, value)).await;
        assert_eq!(res.status, 200, "{name}: {value}");
        assert_eq!(res.body, "", "{name}: {value} opened the session");
        assert!(res.token().is_none(), "{name}: {value}");
    }
}

async fn reject_cross_site_answers_403_with_no_store(door: Door) {
    let token = door.start().await;
    let cross = Req::post("/d/whoami", format!("sessionid={token}"))
        .header("origin", "https://evil.example");
    let res = door.send(cross).await;
    assert_eq!(res.status, 403);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(res.token().is_none());
    assert!(
        !res.body.contains(&token) && !res.body.contains("started"),
        "{}",
        res.body
    );
    let same = Req::post("/d/whoami", format!("sessionid={token}"))
        .header("origin", "http://site.example");
    assert!(door.opens(same).await);
}

async fn a_flood_of_new_sessions_gets_429_with_no_store(door: Door) {
    for _ in 0..2 {
        door.start().await;
    }
    let res = door.send(Req::get("/d/start")).await;
    assert_eq!(res.status, 429, "{res:?}");
    assert!(res.header("retry-after").is_some());
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(res.token().is_none());
    // Another /24 has its own budget; the same /24 shares this one.
    let elsewhere = door
        .send(Req::get("/d/start").from([198, 51, 100, 9]))
        .await;
    assert_eq!(elsewhere.status, 200);
    let neighbour = door
        .send(Req::get("/d/start").from([203, 0, 113, 99]))
        .await;
    assert_eq!(neighbour.status, 429);
}

async fn delete_cookies_expires_what_the_client_sent_and_nothing_else(door: Door) {
    let started = door
        .send(Req::get("/d/start").header("cookie", "tracker=1; _ga=2"))
        .await;
    let token = started.token().unwrap();
    let page = door
        .send(
            Req::get("/d/page")
                .token(&token)
                .header("cookie", "tracker=1; _ga=2"),
        )
        .await;
    for res in [&started, &page] {
        let mut expired: Vec<&str> = res
            .all("set-cookie")
            .into_iter()
            .map(|c| {
                assert!(c.contains("Max-Age=0") || c.contains("1970"), "{c}");
                c.split('=').next().unwrap()
            })
            .collect();
        expired.sort_unstable();
        assert_eq!(expired, ["_ga", "tracker"], "{res:?}");
    }
    assert!(door.opens(Req::get("/d/whoami").token(&token)).await);
}

/// A `HEAD` announces what its `GET` sends, never the handler's shorter, unrewritten length.
async fn head_announces_the_length_get_sends(door: Door) {
    let token = door.start().await;
    let get = door.send(Req::get("/d/page").token(&token)).await;
    let head = door.send(Req::head("/d/page").token(&token)).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.token(), get.token());
    assert!(head.body.is_empty());
    let length = get.header("content-length");
    if let Some(length) = length {
        assert_eq!(length, get.body.len().to_string());
    }
    // Never a length GET does not send. In process both carry the same one; the proxy holds a
    // page to rewrite it whole, and a HEAD brings no page to measure, so it names none, as
    // RFC 9110 (9.3.2, 8.6) lets a server omit what only making the content tells.
    #[cfg(feature = "proxy")]
    let proxied = matches!(door.kind, Kind::Proxy);
    #[cfg(not(feature = "proxy"))]
    let proxied = false;
    match head.header("content-length") {
        Some(announced) => assert_eq!(Some(announced), length, "GET: {get:?}\nHEAD: {head:?}"),
        None => assert!(length.is_none() || proxied, "GET: {get:?}\nHEAD: {head:?}"),
    }
    if !proxied {
        assert_eq!(
            head.header("transfer-encoding"),
            get.header("transfer-encoding")
        );
    }
}

async fn url_specific_tokens_open_only_where_they_point(door: Door) {
    let token = door.start().await;
    let page = door.send(Req::get("/d/page").token(&token)).await;
    let who = param(&href(&page.body, "who")).expect("a token for /d/whoami");
    let abs = param(&href(&page.body, "abs")).expect("a token for /d/page");
    assert_ne!(who, abs, "each path its own token");
    assert!(
        door.opens(Req::get(format!("/d/whoami?sessionid={who}")))
            .await
    );
    assert!(
        !door
            .opens(Req::get(format!("/d/whoami?sessionid={abs}")))
            .await
    );
}

async fn forwarding_headers_from_a_client_change_no_origin(door: Door) {
    let token = door.start().await;
    let forged = Req::get("/d/page")
        .token(&token)
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("forwarded", "host=evil.example;proto=https");
    let page = door.send(forged).await;
    assert_eq!(href(&page.body, "spoofed"), "https://evil.example/x");
    assert!(
        param(&href(&page.body, "abs")).is_some(),
        "site.example is still this site"
    );
    // Nor do they make a cross-site post look like this site's.
    let post = Req::post("/d/whoami", format!("sessionid={token}"))
        .header("origin", "https://evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https");
    assert!(!door.opens(post).await);
}

async fn trusted_proxies_name_the_client(door: Door) {
    // Every connection comes from loopback, the trusted proxy: the client is who it names.
    let started = door
        .send(Req::get("/d/start").header("x-forwarded-for", "192.0.2.10"))
        .await;
    let token = started.token().unwrap();
    let from = |client: &str, connection: [u8; 4]| {
        Req::get("/d/whoami")
            .token(&token)
            .from(connection)
            .header("x-forwarded-for", client.to_owned())
    };
    assert!(
        door.opens(from("192.0.2.10", [10, 0, 0, 1])).await,
        "same client, other proxy"
    );
    assert!(
        !door.opens(from("192.0.2.11", [203, 0, 113, 7])).await,
        "another client"
    );
}

async fn a_redirect_after_a_post_carries_a_token_for_that_get_only(door: Door) {
    let token = door.start().await;
    let res = door
        .send(Req::post("/d/redirect", format!("sessionid={token}")))
        .await;
    assert_eq!(res.status, 303, "{res:?}");
    let location = res.header("location").expect("a Location").to_owned();
    assert!(
        location.starts_with("/d/page?from=post&sessionid="),
        "{location}"
    );
    let redirect = param(&location).unwrap();
    let followed = door.send(Req::get(&location)).await;
    let next = followed
        .token()
        .expect("the GET it was made for opens the session");
    assert!(door.opens(Req::get("/d/whoami").token(&next)).await);
    // Never for another path, as an ordinary token, or for a post.
    assert!(
        !door
            .opens(Req::get(format!("/d/whoami?sessionid={redirect}")))
            .await
    );
    assert!(!door.opens(Req::get("/d/whoami").token(&redirect)).await);
    assert!(
        !door
            .opens(Req::post("/d/whoami", format!("sessionid={redirect}")))
            .await
    );
    // use_get is off: no other URL carries a token; but the page's own URL does, so nothing on
    // it may send that URL elsewhere, where the page without one keeps them.
    assert!(param(&href(&followed.body, "who")).is_none());
    assert_eq!(attr(&followed.body, "pinging", "ping"), None);
    assert_eq!(attr(&followed.body, "img", "referrerpolicy"), None);
    let plain = door.send(Req::get("/d/page").token(&next)).await;
    assert!(attr(&plain.body, "pinging", "ping").is_some());
    assert!(attr(&plain.body, "img", "referrerpolicy").is_some());
}

async fn redirects_to_other_sites_carry_no_token(door: Door) {
    let token = door.start().await;
    let res = door.send(Req::get("/d/away").token(&token)).await;
    assert_eq!(res.status, 302);
    assert_eq!(res.header("location"), Some("https://other.example/x"));
}

async fn every_carrier_keeps_the_session(door: Door) {
    let token = door.start().await;
    let boundary = "XyZzy";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{boundary}--\r\n"
    );
    let carriers = [
        ("header", Req::get("/d/whoami").token(&token)),
        (
            "form",
            Req::post("/d/whoami", format!("a=1&sessionid={token}&b=2")),
        ),
        (
            "multipart",
            Req::post("/d/whoami", multipart).header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
        ),
        (
            "text/plain",
            Req::post("/d/whoami", format!("a=1\r\nsessionid={token}\r\n"))
                .header("content-type", "text/plain"),
        ),
        ("query", Req::get(format!("/d/whoami?sessionid={token}"))),
    ];
    for (carrier, req) in carriers {
        assert!(door.opens(req).await, "{:?}: the {carrier}", door.kind);
    }
}

async fn query_tokens_open_nothing_without_use_get(door: Door) {
    let token = door.start().await;
    assert!(
        !door
            .opens(Req::get(format!("/d/whoami?sessionid={token}")))
            .await
    );
    assert!(door.opens(Req::get("/d/whoami").token(&token)).await);
}

async fn a_token_tampered_with_or_from_another_client_opens_nothing(door: Door) {
    let token = door.start().await;
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases = [
        ("tampered", Req::get("/d/whoami").token(&tampered)),
        ("garbage", Req::get("/d/whoami").token("not-a-token")),
        ("empty", Req::get("/d/whoami").token("")),
        (
            "another client",
            Req::get("/d/whoami").token(&token).from([198, 51, 100, 9]),
        ),
        (
            "another user agent",
            Req::get("/d/whoami")
                .token(&token)
                .header("user-agent", "other/1.0"),
        ),
    ];
    for (case, req) in cases {
        let res = door.send(req).await;
        assert_eq!(res.status, 200, "{:?}: {case}: {res:?}", door.kind);
        assert_eq!(
            res.body, "",
            "{:?}: a token {case} opened the session",
            door.kind
        );
    }
    assert!(
        door.opens(Req::get("/d/whoami").token(&token)).await,
        "the client keeps it"
    );
}

/// `req` as a browser on this machine sends it: `http://localhost` is a secure context, where
/// the `Secure` session cookie may be set.
fn local(req: Req) -> Req {
    req.header("host", "localhost")
}

/// The session cookie's value in `res`'s `Set-Cookie`, with its attributes; `None` if unset.
fn session_cookie(res: &Res) -> Option<(String, String)> {
    res.all("set-cookie").into_iter().find_map(|line| {
        let rest = line.strip_prefix("__Host-sessionid=")?;
        let (value, attributes) = rest.split_once(';').unwrap_or((rest, ""));
        Some((value.to_owned(), attributes.trim().to_owned()))
    })
}

async fn auto_the_cookie_carries_the_session_and_its_pages_are_not_rewritten(door: Door) {
    let first = door.send(local(Req::get("/d/start"))).await;
    let token = first.token().expect("a token");
    let (cookie, attributes) = session_cookie(&first).expect("the first response sets the cookie");
    assert_eq!(
        cookie, token,
        "the cookie carries the token the response carries"
    );
    assert_eq!(
        attributes,
        "Path=/; Secure; HttpOnly; SameSite=None; Partitioned"
    );
    // The first page does not know yet whether the browser keeps the cookie: tokens too.
    assert_eq!(hidden_tokens(&first.body), std::slice::from_ref(&token));
    assert!(param(&href(&first.body, "who")).is_some());

    let with_cookie =
        |path: &str| local(Req::get(path)).header("cookie", format!("__Host-sessionid={cookie}"));
    let page = door.send(with_cookie("/d/page")).await;
    assert_eq!(page.status, 200);
    assert!(hidden_tokens(&page.body).is_empty(), "{}", page.body);
    assert_eq!(
        href(&page.body, "who"),
        "/d/whoami",
        "the cookie works: links stay clean"
    );
    assert_eq!(page.header("cache-control"), Some("private, no-store"));
    assert_eq!(
        page.token().as_deref(),
        Some(cookie.as_str()),
        "the cookie's token answers again"
    );
    assert_eq!(
        session_cookie(&page),
        None,
        "a cookie that holds the response's token is not set again"
    );
    // The session it carries is the started one (on the proxy: the app never sees it).
    assert!(
        door.opens(with_cookie("/d/whoami")).await,
        "{:?}",
        door.kind
    );
}

async fn auto_a_token_wins_over_the_cookie_and_refreshes_it(door: Door) {
    let a = door.send(local(Req::get("/d/start"))).await;
    let b = door.send(local(Req::get("/d/start"))).await;
    let (cookie_a, _) = session_cookie(&a).unwrap();
    let token_b = b.token().unwrap();
    assert_ne!(cookie_a, token_b);
    let res = door
        .send(
            local(Req::get("/d/whoami"))
                .token(&token_b)
                .header("cookie", format!("__Host-sessionid={cookie_a}")),
        )
        .await;
    assert_eq!(res.body, "started=1");
    let (cookie, _) = session_cookie(&res).expect("the cookie is refreshed");
    assert_eq!(Some(cookie.as_str()), res.token().as_deref());
    assert_eq!(
        cookie, token_b,
        "the token's session (its fresh token answers again)"
    );
}

async fn auto_another_sites_request_leaves_the_cookie_alone(door: Door) {
    let first = door.send(local(Req::get("/d/start"))).await;
    let (cookie, _) = session_cookie(&first).unwrap();
    let cookie_header = format!("__Host-sessionid={cookie}");
    // SameSite=None: the browser sends the cookie with another site's post too.
    let cross = local(Req::post("/d/whoami", "a=1"))
        .header("cookie", cookie_header.clone())
        .header("origin", "https://evil.example");
    let res = door.send(cross).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "", "another site's post opened the session");
    assert_eq!(
        session_cookie(&res),
        None,
        "another site's post touched the cookie"
    );
    let same = local(Req::get("/d/whoami")).header("cookie", cookie_header);
    assert!(door.opens(same).await, "the visitor keeps the session");
}

async fn auto_a_cookie_that_opens_nothing_is_removed(door: Door) {
    let res = door
        .send(local(Req::get("/d/whoami")).header("cookie", "__Host-sessionid=not-a-token"))
        .await;
    assert_eq!(res.body, "");
    let (value, attributes) = session_cookie(&res).expect("the stale cookie is removed");
    assert_eq!(value, "");
    assert!(attributes.starts_with("Max-Age=0;"), "{attributes}");
    assert!(attributes.ends_with("Path=/; Secure; HttpOnly; SameSite=None; Partitioned"));
}

async fn auto_delete_cookies_spares_the_session_cookie(door: Door) {
    let first = door.send(local(Req::get("/d/start"))).await;
    let (cookie, _) = session_cookie(&first).unwrap();
    let res = door
        .send(
            local(Req::get("/d/whoami"))
                .header("cookie", format!("tracker=1; __Host-sessionid={cookie}")),
        )
        .await;
    assert_eq!(res.body, "started=1");
    let set = res.all("set-cookie");
    assert!(
        set.iter()
            .any(|c| c.starts_with("tracker=; Path=/; Max-Age=0")),
        "{set:?}"
    );
    assert_eq!(
        session_cookie(&res),
        None,
        "the session cookie, which holds the response's token, is neither expired nor set: {set:?}"
    );
    assert_eq!(res.token().as_deref(), Some(cookie.as_str()));
}

async fn auto_no_cookie_where_the_page_is_not_secure(door: Door) {
    // `http://site.example`: a browser would refuse a Secure cookie from it.
    let res = door.send(Req::get("/d/start")).await;
    assert!(res.token().is_some());
    assert_eq!(session_cookie(&res), None);
    assert_eq!(hidden_tokens(&res.body), [res.token().unwrap()]);
}

async fn auto_a_token_link_where_the_cookie_works_is_served_clean(door: Door) {
    let first = door.send(local(Req::get("/d/start"))).await;
    let (cookie, _) = session_cookie(&first).unwrap();
    let link = param(&href(&first.body, "who")).expect("the first page's links carry the token");
    // The link opened in the browser that kept the cookie: both come, naming one session.
    let res = door
        .send(
            local(Req::get(format!("/d/page?sessionid={link}")))
                .header("cookie", format!("__Host-sessionid={cookie}")),
        )
        .await;
    assert!(
        hidden_tokens(&res.body).is_empty(),
        "{:?}: {}",
        door.kind,
        res.body
    );
    assert_eq!(href(&res.body, "who"), "/d/whoami");
    assert_eq!(link, cookie, "one token, in the link and in the cookie");
    assert_eq!(
        session_cookie(&res),
        None,
        "the cookie holds the response's token already"
    );
}
