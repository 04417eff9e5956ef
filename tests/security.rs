//! The security policies through the middleware: cross-site refusal, URL-bound tokens, cookie
//! deletion, exclusions, client IPs behind proxies, secret rotation and the session event hook.

mod common;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use actix_cookieless::{CookielessSession, MemoryStore, SessionEvent, Settings};
use actix_web::{
    App, HttpResponse,
    http::{StatusCode, header},
    test::{self, TestRequest},
    web,
};
use common::*;

const HOST: &str = "shop.example";

fn peer(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40000)
}

/// A request from the usual test client (one IP, one User-Agent) to `HOST`.
fn from_client(req: TestRequest) -> TestRequest {
    req.peer_addr(peer("203.0.113.7"))
        .insert_header((header::HOST, HOST))
        .insert_header((header::USER_AGENT, UA))
}

async fn started_session(app: &impl TestApp) -> String {
    let res = test::call_service(
        app,
        from_client(TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    token_of(&res).expect("a token")
}

fn form_post(token: &str, extra: &[(&'static str, &str)]) -> TestRequest {
    let mut req = from_client(TestRequest::post().uri("/s/form"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(format!("sessionid={token}&answer=yes"));
    for (name, value) in extra {
        req = req.insert_header((*name, *value));
    }
    req
}

#[actix_rt::test]
async fn cross_site_posts_do_not_ride_the_visitors_token() {
    let mut settings = settings();
    settings.hosts = vec!["pay.example".to_owned()];
    let app = app_with(MemoryStore::default(), settings).await;
    let token = started_session(&app).await;

    let own = [
        ("origin", "https://shop.example"),
        ("origin", "https://pay.example"),
        ("referer", "https://shop.example/s/step"),
        ("sec-fetch-site", "same-origin"),
    ];
    for (name, value) in own {
        let res = test::call_service(&app, form_post(&token, &[(name, value)]).to_request()).await;
        assert_eq!(
            body(res).await,
            r#"answer="yes";step="1""#,
            "{name}: {value} is this site"
        );
    }
    let cross = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("referer", "https://evil.example/forged"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (name, value) in cross {
        let res = test::call_service(&app, form_post(&token, &[(name, value)]).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            body(res).await,
            r#"answer="yes""#,
            "{name}: {value} gets an empty session"
        );
    }
    // The header transport too, and the visitor's session was never touched.
    let req = from_client(TestRequest::post().uri("/s/write/x/1"))
        .insert_header(("x-session-id", token.clone()))
        .insert_header((header::ORIGIN, "https://evil.example"));
    assert_eq!(
        body(test::call_service(&app, req.to_request()).await).await,
        r#"x="1""#
    );
    let req = from_client(TestRequest::get().uri("/s/read")).insert_header(("x-session-id", token));
    assert_eq!(
        body(test::call_service(&app, req.to_request()).await).await,
        r#"answer="yes";step="1""#
    );
}

#[actix_rt::test]
async fn reject_cross_site_answers_403_and_no_header_value_gives_a_500() {
    let mut settings = settings();
    settings.reject_cross_site = true;
    let app = app_with(MemoryStore::default(), settings).await;
    let token = started_session(&app).await;

    let res = test::call_service(
        &app,
        form_post(&token, &[("origin", "https://evil.example")]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(token_of(&res).is_none());
    assert_eq!(body(res).await, "Forbidden");

    // Without a token there is nothing to protect: a cross-site post is served.
    let req = from_client(TestRequest::post().uri("/s/write/a/1"))
        .insert_header((header::ORIGIN, "https://evil.example"));
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        StatusCode::OK
    );

    let odd: [&[u8]; 6] = [
        b"\xff\xfe",
        b"https://",
        b"http://[::1",
        b"   ",
        b"file:///etc",
        b"\x80",
    ];
    for value in odd {
        for name in ["origin", "referer", "sec-fetch-site"] {
            let req = form_post(&token, &[])
                .insert_header((name, header::HeaderValue::from_bytes(value).unwrap()));
            let status = test::call_service(&app, req.to_request()).await.status();
            assert!(
                status == StatusCode::FORBIDDEN,
                "{name}: {value:?} gave {status}, not a refusal"
            );
        }
    }
}

async fn linked_page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html").body(
        r#"<form method="post" action="/s/form"><input name="answer"></form>
<a id="read" href="/s/read">read</a> <a id="write" href="/s/write/b/2">write</a>"#,
    )
}

async fn redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/s/read"))
        .finish()
}

/// The value of `name=` that follows `after` in `page`.
fn token_after(page: &str, after: &str) -> String {
    let rest = &page[page
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {page}"))..];
    let start = [rest.find("sessionid="), rest.find("value=\"")]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
    rest[start..]
        .trim_start_matches("sessionid=")
        .trim_start_matches("value=\"")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[actix_rt::test]
async fn url_specific_tokens_open_only_where_they_point() {
    let mut settings = settings();
    settings.url_specific = true;
    let app = app_with_routes(MemoryStore::default(), settings, |cfg| {
        cfg.route("/page", web::get().to(linked_page))
            .route("/redirect", web::get().to(redirect));
    })
    .await;
    let token = started_session(&app).await;
    let get = |uri: &str| from_client(TestRequest::get().uri(uri)).to_request();
    let page = body(
        test::call_service(
            &app,
            from_client(TestRequest::get().uri("/s/page"))
                .insert_header(("x-session-id", token.clone()))
                .to_request(),
        )
        .await,
    )
    .await;
    let (form, read, write) = (
        token_after(&page, "<form"),
        token_after(&page, "id=\"read\""),
        token_after(&page, "id=\"write\""),
    );
    assert!(
        form != read && read != write && form != write,
        "one token per path: {page}"
    );

    // Each token opens the session at its own URL...
    let res = test::call_service(&app, get(&format!("/s/read?sessionid={read}"))).await;
    assert_eq!(body(res).await, r#"step="1""#);
    let res = test::call_service(&app, get(&format!("/s/write/b/2?sessionid={write}"))).await;
    assert_eq!(body(res).await, r#"b="2";step="1""#);
    let res = test::call_service(&app, form_post(&form, &[]).to_request()).await;
    assert_eq!(body(res).await, r#"answer="yes";b="2";step="1""#);

    // ...and nowhere else.
    let res = test::call_service(&app, get(&format!("/s/write/c/3?sessionid={read}"))).await;
    assert_eq!(
        body(res).await,
        r#"c="3""#,
        "a read token copied to another URL"
    );
    let res = test::call_service(&app, form_post(&read, &[]).to_request()).await;
    assert_eq!(
        body(res).await,
        r#"answer="yes""#,
        "a link token copied into a form"
    );
    // The response header's token is for scripts: it opens by header, not in a URL.
    let res = test::call_service(&app, get(&format!("/s/read?sessionid={token}"))).await;
    assert_eq!(body(res).await, "");

    // Redirects are bound to where they point.
    let res = test::call_service(
        &app,
        from_client(TestRequest::get().uri("/s/redirect"))
            .insert_header(("x-session-id", token.clone()))
            .to_request(),
    )
    .await;
    let location = res
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let res = test::call_service(&app, get(&location)).await;
    assert_eq!(
        body(res).await,
        r#"answer="yes";b="2";step="1""#,
        "{location}"
    );
}

#[actix_rt::test]
async fn manual_tokens_for_a_path_work_with_url_specific() {
    async fn manual(session: actix_cookieless::Session) -> actix_web::Result<String> {
        session.insert("m", 1)?;
        let token = session.token_for("/s/read").await?;
        Ok(token.url("/s/read"))
    }
    let mut settings = settings();
    settings.url_specific = true;
    let app = app_with_routes(MemoryStore::default(), settings, |cfg| {
        cfg.route("/manual", web::get().to(manual));
    })
    .await;
    let get = |uri: &str| from_client(TestRequest::get().uri(uri)).to_request();
    let url = body(test::call_service(&app, get("/s/manual")).await).await;
    assert_eq!(body(test::call_service(&app, get(&url)).await).await, "m=1");
    let elsewhere = url.replace("/s/read", "/s/write/z/1");
    assert_eq!(
        body(test::call_service(&app, get(&elsewhere)).await).await,
        r#"z="1""#
    );
}

#[actix_rt::test]
async fn delete_cookies_expires_every_cookie_the_client_sent() {
    let mut settings = settings();
    settings.delete_cookies = true;
    let app = app_with(MemoryStore::default(), settings).await;
    let req = from_client(TestRequest::get().uri("/s/cookie"))
        .insert_header((header::COOKIE, "tracker=1; sessionid=abc"));
    let res = test::call_service(&app, req.to_request()).await;
    let set: Vec<_> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(set[0].starts_with("tracker=; Path=/; Max-Age=0"), "{set:?}");
    assert!(
        set[1].starts_with("sessionid=; Path=/; Max-Age=0"),
        "{set:?}"
    );
    // The handler's own cookie is still dropped.
    assert!(!set.iter().any(|c| c.contains("tracker=1")));

    // Off (the default), a client's cookies are left alone.
    let app = common::app().await;
    let req = from_client(TestRequest::get().uri("/s/read")).insert_header((header::COOKIE, "a=1"));
    let res = test::call_service(&app, req.to_request()).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
}

#[actix_rt::test]
async fn exclusions_are_segment_aware() {
    let mut settings = settings();
    settings.exclude = vec!["/s/admin".to_owned()];
    let app = app_with_routes(MemoryStore::default(), settings, |cfg| {
        cfg.route("/admin/page", web::get().to(linked_page))
            .route("/administrator/page", web::get().to(linked_page));
    })
    .await;
    let token = started_session(&app).await;
    let page = |uri: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            let req =
                from_client(TestRequest::get().uri(uri)).insert_header(("x-session-id", token));
            body(test::call_service(app, req.to_request()).await).await
        }
    };
    assert!(!page("/s/admin/page").await.contains("sessionid"));
    assert!(page("/s/administrator/page").await.contains("sessionid"));
}

#[actix_rt::test]
async fn client_ips_come_from_trusted_proxies_only() {
    let mut settings = settings();
    settings.trusted_proxies = vec!["10.0.0.0/8".to_owned()];
    let app = app_with(MemoryStore::default(), settings).await;
    let call = |peer_ip: &str, xff: Option<&str>, token: Option<&str>, uri: &str| {
        let mut req = TestRequest::get()
            .uri(uri)
            .peer_addr(peer(peer_ip))
            .insert_header((header::USER_AGENT, UA));
        if let Some(xff) = xff {
            req = req.insert_header(("x-forwarded-for", xff));
        }
        if let Some(token) = token {
            req = req.insert_header(("x-session-id", token));
        }
        test::call_service(&app, req.to_request())
    };
    // A visitor behind the proxy: bound to its own address, not the proxy's.
    let res = call("10.1.1.1", Some("198.51.100.9"), None, "/s/write/a/1").await;
    let token = token_of(&res).unwrap();
    let res = call("10.2.2.2", Some("198.51.100.9"), Some(&token), "/s/read").await;
    assert_eq!(body(res).await, r#"a="1""#, "another proxy, same client");
    let res = call("10.1.1.1", Some("198.51.100.10"), Some(&token), "/s/read").await;
    assert_eq!(body(res).await, "", "another client behind the same proxy");

    // An untrusted peer that claims the visitor's address in a header is not believed.
    let res = call("192.0.2.66", Some("198.51.100.9"), Some(&token), "/s/read").await;
    assert_eq!(body(res).await, "", "spoofed X-Forwarded-For");
    let req = TestRequest::get()
        .uri("/s/read")
        .peer_addr(peer("192.0.2.66"))
        .insert_header((header::USER_AGENT, UA))
        .insert_header(("forwarded", "for=198.51.100.9"))
        .insert_header(("x-session-id", token.clone()));
    assert_eq!(
        body(test::call_service(&app, req.to_request()).await).await,
        "",
        "spoofed Forwarded"
    );
}

#[actix_rt::test]
async fn ip_prefixes_set_how_much_of_the_address_binds() {
    let mut settings = settings();
    settings.ipv4_prefix = 24;
    let app = app_with(MemoryStore::default(), settings).await;
    let call = |ip: &str, token: Option<String>, uri: &str| {
        let mut req = TestRequest::get()
            .uri(uri)
            .peer_addr(peer(ip))
            .insert_header((header::USER_AGENT, UA));
        if let Some(token) = token {
            req = req.insert_header(("x-session-id", token));
        }
        test::call_service(&app, req.to_request())
    };
    let v4 = token_of(&call("198.51.100.9", None, "/s/write/a/1").await).unwrap();
    assert_eq!(
        body(call("198.51.100.200", Some(v4.clone()), "/s/read").await).await,
        r#"a="1""#
    );
    assert_eq!(
        body(call("198.51.101.9", Some(v4), "/s/read").await).await,
        ""
    );
    // IPv6 binds to the /64 by default: privacy addresses rotate below it.
    let v6 = token_of(&call("2001:db8:1:2::1", None, "/s/write/a/1").await).unwrap();
    assert_eq!(
        body(call("2001:db8:1:2:aaaa::7", Some(v6.clone()), "/s/read").await).await,
        r#"a="1""#
    );
    assert_eq!(
        body(call("2001:db8:1:3::1", Some(v6), "/s/read").await).await,
        ""
    );
}

#[actix_rt::test]
async fn rotation_opens_old_tokens_and_reseals_under_the_new_secret() {
    const NEW: &str = "the-new-secret-after-rotation-0123456789";
    let store = MemoryStore::default();
    let before = app_with(store.clone(), settings()).await;
    let old_token = started_session(&before).await;

    let mut rotated = Settings::new(NEW);
    rotated.previous_secrets = vec![SECRET.to_owned()];
    let during = app_with(store.clone(), rotated).await;
    let req = from_client(TestRequest::get().uri("/s/read"))
        .insert_header(("x-session-id", old_token.clone()));
    let res = test::call_service(&during, req.to_request()).await;
    let resealed = token_of(&res).expect("an unchanged session still gets a fresh token");
    assert_eq!(body(res).await, r#"step="1""#, "the old secret still opens");

    // Once the old secret is retired, the re-sealed token still works; the old one does not.
    let after = app_with(store, Settings::new(NEW)).await;
    let read = |token: String| {
        from_client(TestRequest::get().uri("/s/read"))
            .insert_header(("x-session-id", token))
            .to_request()
    };
    assert_eq!(
        body(test::call_service(&after, read(resealed)).await).await,
        r#"step="1""#
    );
    assert_eq!(
        body(test::call_service(&after, read(old_token)).await).await,
        ""
    );
}

#[actix_rt::test]
async fn purge_retires_the_token_for_good() {
    let app = app().await;
    let token = started_session(&app).await;
    let req = from_client(TestRequest::get().uri("/s/purge"))
        .insert_header(("x-session-id", token.clone()));
    let res = test::call_service(&app, req.to_request()).await;
    assert!(token_of(&res).is_none());
    let req = from_client(TestRequest::get().uri("/s/read")).insert_header(("x-session-id", token));
    assert_eq!(
        body(test::call_service(&app, req.to_request()).await).await,
        ""
    );
}

#[actix_rt::test]
async fn the_event_hook_hears_created_updated_renewed_and_purged() {
    let events: Arc<Mutex<Vec<(String, SessionEvent)>>> = Arc::default();
    let heard = Arc::clone(&events);
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings())
        .on_session_event(move |req, event| {
            heard.lock().unwrap().push((req.path().to_owned(), event));
        })
        .build()
        .unwrap();
    let app =
        test::init_service(App::new().service(web::scope("/s").wrap(cookieless).configure(routes)))
            .await;
    let call = |uri: &str, token: Option<String>| {
        let mut req = from_client(TestRequest::get().uri(uri));
        if let Some(token) = token {
            req = req.insert_header(("x-session-id", token));
        }
        test::call_service(&app, req.to_request())
    };
    assert!(token_of(&call("/s/read", None).await).is_none());
    let t = token_of(&call("/s/write/a/1", None).await).unwrap();
    let t = token_of(&call("/s/write/b/2", Some(t)).await).unwrap();
    let t = token_of(&call("/s/read", Some(t)).await).unwrap();
    let t = token_of(&call("/s/renew", Some(t)).await).unwrap();
    assert_eq!(call("/s/purge", Some(t)).await.status(), StatusCode::OK);
    assert_eq!(
        *events.lock().unwrap(),
        [
            ("/s/write/a/1".to_owned(), SessionEvent::Created),
            ("/s/write/b/2".to_owned(), SessionEvent::Updated),
            ("/s/renew".to_owned(), SessionEvent::Renewed),
            ("/s/purge".to_owned(), SessionEvent::Purged),
        ]
    );
}

/// Session fixation with unbound tokens: refused at start-up with URL tokens; without them, a
/// victim sent an attacker's token in a link writes into a session of its own.
#[actix_rt::test]
async fn an_attackers_unbound_token_cannot_be_planted_on_a_victim() {
    let mut unbound = settings();
    unbound.client_id = false;
    let refused = CookielessSession::builder(MemoryStore::default(), unbound.clone()).build();
    let Err(err) = refused else {
        panic!("client_id = false with use_get is refused")
    };
    assert_eq!(err.setting(), "client_id");

    unbound.use_get = false;
    let app = app_with(MemoryStore::default(), unbound).await;
    let attacker = |req: TestRequest| {
        req.peer_addr(peer("198.51.100.66"))
            .insert_header((header::HOST, HOST))
            .insert_header((header::USER_AGENT, "attacker"))
    };
    let res = test::call_service(
        &app,
        attacker(TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    let planted = token_of(&res).expect("the attacker's token");

    // The victim follows a link carrying it, then answers the form on that page (whose URL
    // still carries it), as a browser would send it: same-origin.
    let victim = TestRequest::post()
        .uri(&format!("/s/form?sessionid={planted}"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header(("origin", "http://shop.example"))
        .set_payload("answer=secret");
    let res = test::call_service(&app, from_client(victim).to_request()).await;
    let victims_own = token_of(&res).expect("the victim gets a session");
    assert_ne!(victims_own, planted);
    assert_eq!(body(res).await, r#"answer="secret""#, "a fresh session");

    let res = test::call_service(
        &app,
        attacker(TestRequest::get().uri("/s/read"))
            .insert_header(("x-session-id", planted.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(
        body(res).await,
        r#"step="1""#,
        "the attacker's session holds only what the attacker wrote"
    );
}

async fn see_other(session: actix_cookieless::Session) -> actix_web::Result<HttpResponse> {
    session.insert("answer", "kept")?;
    Ok(session.see_other("/s/read?after=post").await?)
}

/// A redirect token stands for the session's token: with a `token_max_age` shorter than
/// `redirect_token_max_age`, it opens nothing past `token_max_age`.
#[actix_rt::test]
async fn a_redirect_token_never_outlives_token_max_age() {
    let mut settings = settings();
    settings.token_max_age = std::time::Duration::from_secs(60);
    settings.redirect_token_max_age = std::time::Duration::from_secs(600);
    let clock = actix_cookieless::Clock::manual();
    let app = common::app_timed(MemoryStore::default(), settings, clock.clone(), |cfg| {
        cfg.route("/see-other", web::post().to(see_other));
    })
    .await;
    let res = test::call_service(
        &app,
        from_client(TestRequest::post().uri("/s/see-other")).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let read =
        |req: TestRequest| async { body(test::call_service(&app, req.to_request()).await).await };
    assert_eq!(
        read(from_client(TestRequest::get().uri(&location))).await,
        r#"answer="kept""#,
        "within token_max_age"
    );
    clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(
        read(from_client(TestRequest::get().uri(&location))).await,
        "",
        "past token_max_age, within redirect_token_max_age"
    );
}

/// The token in a `see_other` Location opens a GET of that path only, from that client, for
/// `redirect_token_max_age`, with use_get off too; never a post, another path, or as an
/// ordinary token.
#[actix_rt::test]
async fn a_redirect_token_opens_only_the_get_it_was_made_for() {
    for use_get in [false, true] {
        let mut settings = settings();
        settings.use_get = use_get;
        settings.redirect_token_max_age = std::time::Duration::from_secs(600);
        let clock = actix_cookieless::Clock::manual();
        let app = common::app_timed(MemoryStore::default(), settings, clock.clone(), |cfg| {
            cfg.route("/see-other", web::post().to(see_other));
        })
        .await;
        let res = test::call_service(
            &app,
            from_client(TestRequest::post().uri("/s/see-other")).to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            location.starts_with("/s/read?after=post&sessionid="),
            "{location}"
        );
        let token = location.rsplit('=').next().unwrap().to_owned();

        let read = |req: TestRequest| async {
            body(test::call_service(&app, req.to_request()).await).await
        };
        assert_eq!(
            read(from_client(TestRequest::get().uri(&location))).await,
            r#"answer="kept""#,
            "the GET it was made for"
        );
        for (what, req) in [
            (
                "another path",
                from_client(TestRequest::get().uri(&format!("/s/write/probe/1?sessionid={token}"))),
            ),
            ("a post", from_client(TestRequest::post().uri(&location))),
            ("a form field", form_post(&token, &[])),
            (
                "a header",
                from_client(TestRequest::get().uri("/s/read"))
                    .insert_header(("x-session-id", token.as_str())),
            ),
            (
                "another client",
                TestRequest::get()
                    .uri(&location)
                    .peer_addr(peer("198.51.100.9"))
                    .insert_header((header::HOST, HOST))
                    .insert_header((header::USER_AGENT, UA)),
            ),
        ] {
            let page = read(req).await;
            assert!(
                !page.contains("kept"),
                "use_get={use_get}: {what} opened the session: {page}"
            );
        }
        clock.advance(std::time::Duration::from_secs(600));
        assert!(
            read(from_client(TestRequest::get().uri(&location)))
                .await
                .contains("kept"),
            "use_get={use_get}: at redirect_token_max_age"
        );
        clock.advance(std::time::Duration::from_secs(1));
        assert_eq!(
            read(from_client(TestRequest::get().uri(&location))).await,
            "",
            "past redirect_token_max_age"
        );
    }
}
