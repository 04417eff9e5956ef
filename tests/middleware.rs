//! The middleware end to end, in-process: transports, failures, headers, store errors.

mod common;

use std::{net::SocketAddr, time::Duration};

use actix_cookieless::MemoryStore;
use actix_web::{
    http::{StatusCode, header},
    test::{self, TestRequest},
};
use common::*;

fn peer(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40000)
}

#[actix_rt::test]
async fn header_transport_keeps_a_session_over_three_requests() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let mut token = token_of(&res).expect("a written session gets a token");
    for (name, expected) in [("b", "a=\"1\";b=\"2\""), ("c", "a=\"1\";b=\"2\";c=\"3\"")] {
        let value = if name == "b" { "2" } else { "3" };
        let req = TestRequest::get()
            .uri(&format!("/s/write/{name}/{value}"))
            .insert_header(("X-Session-ID", token.clone()))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK);
        let next = token_of(&res).unwrap();
        assert_ne!(next, token, "every response seals a fresh token");
        token = next;
        assert_eq!(body(res).await, expected);
    }
}

#[actix_rt::test]
async fn form_post_urlencoded_keeps_a_session_over_three_requests() {
    let app = app().await;
    let res = test::call_service(
        &app,
        TestRequest::post()
            .uri("/s/form")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload("step1=alpha")
            .to_request(),
    )
    .await;
    let mut token = token_of(&res).unwrap();
    for (step, expected) in [
        (2, "step1=\"alpha\";step2=\"beta\""),
        (3, "step1=\"alpha\";step2=\"beta\";step3=\"gamma\""),
    ] {
        let value = if step == 2 { "beta" } else { "gamma" };
        let req = TestRequest::post()
            .uri("/s/form")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(format!("sessionid={token}&step{step}={value}"))
            .to_request();
        let res = test::call_service(&app, req).await;
        token = token_of(&res).unwrap();
        assert_eq!(
            body(res).await,
            expected,
            "the handler still reads the whole form"
        );
    }
}

fn multipart(token: &str, field: &str, value: &str) -> String {
    format!(
        "--B0undary\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\n{token}\r\n\
         --B0undary\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n--B0undary--\r\n"
    )
}

#[actix_rt::test]
async fn form_post_multipart_keeps_a_session_over_three_requests() {
    let app = app().await;
    let res = test::call_service(
        &app,
        TestRequest::get().uri("/s/write/step1/x").to_request(),
    )
    .await;
    let mut token = token_of(&res).unwrap();
    for step in 2..=3 {
        let req = TestRequest::post()
            .uri(&format!("/s/write/step{step}/x"))
            .insert_header((
                header::CONTENT_TYPE,
                "multipart/form-data; boundary=B0undary",
            ))
            .set_payload(multipart(&token, "ignored", "y"))
            .to_request();
        let res = test::call_service(&app, req).await;
        token = token_of(&res).unwrap();
        let entries = body(res).await;
        assert_eq!(entries.matches("=\"x\"").count(), step, "{entries}");
    }
    let req = TestRequest::post()
        .uri("/s/transport")
        .insert_header((
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=B0undary",
        ))
        .set_payload(multipart(&token, "a", "b"))
        .to_request();
    assert_eq!(body(test::call_service(&app, req).await).await, "FormField");
}

#[actix_rt::test]
async fn query_transport_keeps_a_session_over_three_requests() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/q1/x").to_request()).await;
    let mut token = token_of(&res).unwrap();
    for step in 2..=3 {
        let req = TestRequest::get()
            .uri(&format!("/s/write/q{step}/x?sessionid={token}"))
            .to_request();
        let res = test::call_service(&app, req).await;
        token = token_of(&res).unwrap();
        assert_eq!(body(res).await.matches("=\"x\"").count(), step);
    }
}

#[actix_rt::test]
async fn query_tokens_are_ignored_without_use_get() {
    let mut settings = settings();
    settings.use_get = false;
    let app = app_with(MemoryStore::default(), settings).await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let token = token_of(&res).unwrap();
    let req = TestRequest::get()
        .uri(&format!("/s/read?sessionid={token}"))
        .to_request();
    assert_eq!(body(test::call_service(&app, req).await).await, "");
}

#[actix_rt::test]
async fn transport_is_reported() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let token = token_of(&res).unwrap();
    let via_header = TestRequest::get()
        .uri("/s/transport")
        .insert_header(("x-session-id", token.clone()));
    let via_query = TestRequest::get().uri(&format!("/s/transport?sessionid={token}"));
    let fresh = TestRequest::get().uri("/s/transport");
    for (req, expected) in [
        (via_header, "Header"),
        (via_query, "Query"),
        (fresh, "None"),
    ] {
        assert_eq!(
            body(test::call_service(&app, req.to_request()).await).await,
            expected
        );
    }
}

/// A token in a response, then the same request made by someone else: an empty session, 200.
async fn replay_gives_empty(original: TestRequest, replay: impl Fn(&str) -> TestRequest) {
    let app = app().await;
    let res = test::call_service(&app, original.uri("/s/write/secret/1").to_request()).await;
    let token = token_of(&res).unwrap();
    let res = test::call_service(&app, replay(&token).uri("/s/read").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        token_of(&res).is_none(),
        "an untouched fresh session gets no token"
    );
    assert_eq!(
        body(res).await,
        "",
        "nothing of the original session is visible"
    );
}

#[actix_rt::test]
async fn tampered_token_gives_a_fresh_session() {
    replay_gives_empty(TestRequest::get(), |token| {
        let mut bytes = token.as_bytes().to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        TestRequest::get().insert_header(("x-session-id", String::from_utf8(bytes).unwrap()))
    })
    .await;
}

#[actix_rt::test]
async fn garbage_tokens_give_a_fresh_session() {
    let app = app().await;
    for token in ["", "x", "!!!", &"A".repeat(20_000), "AQ", "\u{1F600}"] {
        let req = TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{token:?}");
    }
    let req = TestRequest::get()
        .uri("/s/read")
        .insert_header((
            "x-session-id",
            header::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        ))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
}

#[actix_rt::test]
async fn token_replayed_with_another_user_agent_gives_a_fresh_session() {
    replay_gives_empty(
        TestRequest::get().insert_header((header::USER_AGENT, UA)),
        |token| {
            TestRequest::get()
                .insert_header((header::USER_AGENT, "curl/8.0"))
                .insert_header(("x-session-id", token))
        },
    )
    .await;
}

#[actix_rt::test]
async fn token_replayed_from_another_ip_gives_a_fresh_session() {
    replay_gives_empty(TestRequest::get().peer_addr(peer("192.0.2.10")), |token| {
        TestRequest::get()
            .peer_addr(peer("198.51.100.20"))
            .insert_header(("x-session-id", token))
    })
    .await;
}

#[actix_rt::test]
async fn the_same_client_keeps_its_session() {
    // The control for the two tests above: same IP and User-Agent, the session opens.
    let app = app().await;
    let make = || {
        TestRequest::get()
            .peer_addr(peer("192.0.2.10"))
            .insert_header((header::USER_AGENT, UA))
    };
    let res = test::call_service(&app, make().uri("/s/write/k/v").to_request()).await;
    let token = token_of(&res).unwrap();
    let res = test::call_service(
        &app,
        make()
            .uri("/s/read")
            .insert_header(("x-session-id", token))
            .to_request(),
    )
    .await;
    assert_eq!(body(res).await, "k=\"v\"");
}

#[actix_rt::test]
async fn expired_token_gives_a_fresh_session() {
    let mut settings = settings();
    settings.token_max_age = Duration::from_secs(1);
    let app = app_with(MemoryStore::default(), settings).await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/k/v").to_request()).await;
    let token = token_of(&res).unwrap();
    let again = || {
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token.clone()))
            .to_request()
    };
    assert_eq!(
        body(test::call_service(&app, again()).await).await,
        "k=\"v\""
    );
    std::thread::sleep(Duration::from_millis(2100));
    let res = test::call_service(&app, again()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "");
}

#[actix_rt::test]
async fn expired_session_in_the_store_gives_a_fresh_session() {
    let mut settings = settings();
    settings.session_ttl = Duration::from_secs(1);
    let app = app_with(MemoryStore::default(), settings).await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/k/v").to_request()).await;
    let token = token_of(&res).unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "");
}

#[actix_rt::test]
async fn lazy_sessions_store_nothing_and_send_no_token() {
    let store = MemoryStore::default();
    let app = app_with(store.clone(), settings()).await;
    for _ in 0..5 {
        let res = test::call_service(&app, TestRequest::get().uri("/s/read").to_request()).await;
        assert!(token_of(&res).is_none());
        assert!(res.headers().get(header::CACHE_CONTROL).is_none());
    }
    assert!(store.is_empty());
    test::call_service(&app, TestRequest::get().uri("/s/write/a/b").to_request()).await;
    assert_eq!(store.len(), 1);
}

#[actix_rt::test]
async fn token_responses_are_private_and_keep_referrers_home() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "private, no-store"
    );
    assert_eq!(
        res.headers().get(header::REFERRER_POLICY).unwrap(),
        "same-origin"
    );
}

#[actix_rt::test]
async fn no_response_ever_sets_a_cookie() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/cookie").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert!(token_of(&res).is_some());
    for uri in [
        "/s/read",
        "/s/write/a/1",
        "/s/purge",
        "/s/renew",
        "/s/transport",
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert!(res.headers().get(header::SET_COOKIE).is_none(), "{uri}");
    }
}

#[actix_rt::test]
async fn purge_deletes_the_session_and_sends_no_token() {
    let store = MemoryStore::default();
    let app = app_with(store.clone(), settings()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let token = token_of(&res).unwrap();
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/s/purge")
            .insert_header(("x-session-id", token.clone()))
            .to_request(),
    )
    .await;
    assert!(token_of(&res).is_none());
    assert!(store.is_empty());
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token))
            .to_request(),
    )
    .await;
    assert_eq!(body(res).await, "");
}

#[actix_rt::test]
async fn renew_moves_the_data_and_retires_the_old_token() {
    let app = app().await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let old = token_of(&res).unwrap();
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/s/renew")
            .insert_header(("x-session-id", old.clone()))
            .to_request(),
    )
    .await;
    let new = token_of(&res).unwrap();
    let read = |t: String| {
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", t))
            .to_request()
    };
    assert_eq!(
        body(test::call_service(&app, read(new)).await).await,
        "a=\"1\""
    );
    assert_eq!(body(test::call_service(&app, read(old)).await).await, "");
}

#[actix_rt::test]
async fn sessions_created_by_others_are_not_opened() {
    use actix_cookieless::store::SessionStore;
    // A cookie session in a shared store: same key space, no marker.
    let store = MemoryStore::default();
    let foreign = store
        .save(
            [("role".to_owned(), "\"admin\"".to_owned())].into(),
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    let token =
        actix_cookieless::token::Keyring::new(SECRET.as_bytes(), &[], Duration::from_secs(60))
            .client(&actix_cookieless::token::ClientBinding::new(None, b""))
            .seal(&foreign, None)
            .unwrap();
    let read = || {
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token.clone()))
            .to_request()
    };

    let app = app_with(store.clone(), settings()).await;
    assert_eq!(body(test::call_service(&app, read()).await).await, "");

    let mut lax = settings();
    lax.no_cookie_persist = false;
    let app = app_with(store, lax).await;
    assert_eq!(
        body(test::call_service(&app, read()).await).await,
        "role=\"admin\""
    );
}

#[actix_rt::test]
async fn a_failing_store_gives_an_opaque_503_on_save() {
    let store = FlakyStore::default();
    let app = app_with(store.clone(), settings()).await;
    store.set_down(true);
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        token_of(&res).is_none(),
        "a failed save never reports success"
    );
    let text = body(res).await;
    assert_eq!(text, "Service Unavailable");
}

#[actix_rt::test]
async fn a_failing_store_gives_an_opaque_503_on_load_and_recovers() {
    let store = FlakyStore::default();
    let app = app_with(store.clone(), settings()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/write/a/1").to_request()).await;
    let token = token_of(&res).unwrap();
    let read = || {
        TestRequest::get()
            .uri("/s/read")
            .insert_header(("x-session-id", token.clone()))
            .to_request()
    };
    store.set_down(true);
    let res = test::call_service(&app, read()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body(res).await.contains("10.9.8.7"));
    // Without a token there is nothing to load: the store is not touched, the page works.
    let res = test::call_service(&app, TestRequest::get().uri("/s/read").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    store.set_down(false);
    assert_eq!(
        body(test::call_service(&app, read()).await).await,
        "a=\"1\""
    );
}

#[actix_rt::test]
async fn routes_outside_the_scope_are_untouched() {
    use actix_cookieless::CookielessSession;
    use actix_web::{App, HttpResponse, web};
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .service(web::scope("/s").wrap(cookieless).configure(routes))
            .route(
                "/plain",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .cookie(actix_web::cookie::Cookie::new("keep", "1"))
                        .finish()
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/plain").to_request()).await;
    assert!(res.headers().get(header::SET_COOKIE).is_some());
}

#[actix_rt::test]
async fn a_handler_without_the_middleware_gets_a_clear_500() {
    use actix_cookieless::Session;
    use actix_web::{App, HttpResponse, web};
    let app = test::init_service(App::new().route(
        "/x",
        web::get().to(|_s: Session| async { HttpResponse::Ok().finish() }),
    ))
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/x").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

async fn manual_page(
    session: actix_cookieless::Session,
) -> actix_web::Result<actix_web::HttpResponse> {
    session.insert("started", "yes")?;
    let token = session.token().await?;
    Ok(actix_web::HttpResponse::Ok().body(format!(
        "{}\n{}",
        token.hidden_input(),
        token.url("/s/read?x=1#end")
    )))
}

#[actix_rt::test]
async fn manual_tokens_work_for_a_session_created_in_the_same_request() {
    let store = FlakyStore::default();
    let app = app_with_routes(store.clone(), settings(), |cfg| {
        cfg.route("/manual", actix_web::web::get().to(manual_page));
    })
    .await;
    let page =
        body(test::call_service(&app, TestRequest::get().uri("/s/manual").to_request()).await)
            .await;
    let (input, url) = page.split_once('\n').unwrap();
    let token = input
        .strip_prefix(r#"<input type="hidden" name="sessionid" value=""#)
        .and_then(|rest| rest.strip_suffix(r#"">"#))
        .expect("a hidden input with the token");
    assert_eq!(url, format!("/s/read?x=1&sessionid={token}#end"));

    // The form post carries the token from the page: the session opens with its data.
    let req = TestRequest::post()
        .uri("/s/form")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(format!("sessionid={token}&step=2"))
        .to_request();
    assert_eq!(
        body(test::call_service(&app, req).await).await,
        "started=\"yes\";step=\"2\""
    );
    // And the link works too.
    let link = url.trim_end_matches("#end");
    assert_eq!(
        body(test::call_service(&app, TestRequest::get().uri(link).to_request()).await).await,
        "started=\"yes\";step=\"2\""
    );

    store.set_down(true);
    let res = test::call_service(&app, TestRequest::get().uri("/s/manual").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(res).await, "Service Unavailable");
}

async fn manual_html_page(
    session: actix_cookieless::Session,
) -> actix_web::Result<actix_web::HttpResponse> {
    let token = session.token().await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            r#"<form method="post" action="/s/form">{}<input name="a"></form><a href="/s/read">r</a>"#,
            token.hidden_input()
        )))
}

#[actix_rt::test]
async fn a_handler_that_places_the_token_itself_is_not_rewritten() {
    let app = app_with_routes(MemoryStore::default(), settings(), |cfg| {
        cfg.route("/manual-html", actix_web::web::get().to(manual_html_page));
    })
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/s/manual-html").to_request()).await;
    assert!(token_of(&res).is_some(), "the header still carries a token");
    let page = body(res).await;
    assert_eq!(page.matches("name=\"sessionid\"").count(), 1, "{page}");
    assert!(
        page.ends_with(r#"<a href="/s/read">r</a>"#),
        "links left alone: {page}"
    );
}
