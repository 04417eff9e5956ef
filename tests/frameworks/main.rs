//! One test body, two frameworks: every scenario here runs against the actix middleware and
//! against the tower layer (as an axum router), with the same routes and handler logic
//! (`apps.rs`), and reads pages with html5ever (`html.rs`). `sessions.rs` is the session suite
//! (it was actix's `tests/middleware.rs`), `rewriting.rs` the rewriting suite (from actix's
//! `tests/rewrite_middleware.rs`); `survey.rs` walks the axum survey example. Feature
//! `tower` (without it, the actix half runs).

mod apps;
#[path = "../common/mod.rs"]
mod common;
#[path = "../support/dom.rs"]
mod dom;
mod html;

use actix_cookieless::{MemoryStore, Settings, store::SessionStore};
use apps::{App, Req};

fn settings(tune: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::new(common::SECRET);
    tune(&mut settings);
    settings
}

/// Each scenario as a test per framework: `scenario::actix` and `scenario::axum`.
macro_rules! both_frameworks {
    ($($scenario:ident($store:expr, $tune:expr);)*) => {$(
        mod $scenario {
            use super::*;

            #[actix_rt::test]
            async fn actix() {
                let store = $store;
                let app = apps::with_actix::app(store.clone(), settings($tune)).await;
                super::$scenario(app, store).await;
            }

            #[cfg(feature = "tower")]
            #[actix_rt::test]
            async fn axum() {
                let store = $store;
                let app = apps::with_axum::app(store.clone(), settings($tune)).await;
                super::$scenario(app, store).await;
            }
        }
    )*};
}

mod rewriting;
mod sessions;
#[cfg(feature = "tower")]
mod survey;

both_frameworks! {
    header_sessions_count_and_carry_the_safe_headers(MemoryStore::default(), |_| {});
    a_form_keeps_its_session_from_step_to_step(MemoryStore::default(), |_| {});
    links_to_this_site_get_the_token_and_other_hosts_never_do(MemoryStore::default(), |s| s.use_get = true);
    a_token_from_another_client_or_tampered_with_opens_nothing(MemoryStore::default(), |_| {});
    a_cross_site_post_gets_a_fresh_session(MemoryStore::default(), |_| {});
    a_store_that_is_down_answers_an_opaque_503(common::FlakyStore::default(), |_| {});
    lazy_sessions_store_nothing_and_send_no_token(MemoryStore::default(), |_| {});
}

async fn header_sessions_count_and_carry_the_safe_headers(app: impl App, _: impl SessionStore) {
    let first = app.send(Req::post("/count")).await;
    assert_eq!((first.status, first.body.as_str()), (200, "1"));
    assert_eq!(first.header("cache-control"), Some("private, no-store"));
    assert_eq!(first.header("referrer-policy"), Some("same-origin"));
    assert!(first.header("set-cookie").is_none());
    let mut token = first.token().expect("a token for the new session");
    assert!(token.len() <= 80, "a {}-character token", token.len());
    for n in 2..=3 {
        let res = app
            .send(Req::post("/count").header("x-session-id", &token))
            .await;
        assert_eq!(res.body, n.to_string());
        token = res.token().unwrap();
    }
}

async fn a_form_keeps_its_session_from_step_to_step(app: impl App, _: impl SessionStore) {
    let start = app.send(Req::get("/start")).await;
    assert_eq!(start.status, 200);
    let field = html::form_field(&start.body, "sessionid")
        .expect("the form carries the token in a hidden field");
    let answered = app
        .send(Req::post("/answer").form(format!("sessionid={field}&answer=blue")))
        .await;
    assert_eq!(answered.body, "None", "the form's token opened the session");
    let read = app
        .send(Req::get("/read").header("x-session-id", answered.token().unwrap()))
        .await;
    assert_eq!(read.body, "None|blue");
}

async fn links_to_this_site_get_the_token_and_other_hosts_never_do(
    app: impl App,
    _: impl SessionStore,
) {
    let start = app.send(Req::get("/start")).await;
    let here = html::link(&start.body, "here").unwrap();
    let away = html::link(&start.body, "away").unwrap();
    assert!(here.starts_with("/read?sessionid="), "{here}");
    assert_eq!(away, "https://other.example/x", "no token to another host");
    assert_eq!(
        start.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let read = app.send(Req::get(here)).await;
    assert_eq!(read.body, "None|", "the link's token opened the session");
}

async fn a_token_from_another_client_or_tampered_with_opens_nothing(
    app: impl App,
    _: impl SessionStore,
) {
    let token = app.send(Req::post("/count")).await.token().unwrap();
    let other_browser = Req::get("/read")
        .header("x-session-id", &token)
        .header("user-agent", "Another/2.0");
    assert_eq!(app.send(other_browser).await.body, "Some(NotOpened)|");
    let mut tampered = token.into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let res = app
        .send(Req::get("/read").header("x-session-id", tampered))
        .await;
    assert_eq!((res.status, res.body.as_str()), (200, "Some(NotOpened)|"));
}

async fn a_cross_site_post_gets_a_fresh_session(app: impl App, _: impl SessionStore) {
    let start = app.send(Req::get("/start")).await;
    let field = html::form_field(&start.body, "sessionid").unwrap();
    let forged = Req::post("/answer")
        .form(format!("sessionid={field}&answer=evil"))
        .header("origin", "https://evil.example");
    assert_eq!(app.send(forged).await.body, "Some(CrossSite)");
    let same_site = Req::post("/answer")
        .form(format!("sessionid={field}&answer=blue"))
        .header("origin", "http://localhost:8080")
        .header("host", "localhost:8080");
    assert_eq!(app.send(same_site).await.body, "None");
}

async fn a_store_that_is_down_answers_an_opaque_503(app: impl App, store: common::FlakyStore) {
    let token = app.send(Req::post("/count")).await.token().unwrap();
    store.set_down(true);
    let res = app
        .send(Req::post("/count").header("x-session-id", &token))
        .await;
    assert_eq!(res.status, 503);
    assert_eq!(res.body, "Service Unavailable");
    assert_eq!(res.header("retry-after"), Some("5"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(!res.body.contains("10.9.8.7"), "the cause stays in the log");
    store.set_down(false);
    let res = app
        .send(Req::post("/count").header("x-session-id", &token))
        .await;
    assert_eq!(res.body, "2", "the session carries on");
}

async fn lazy_sessions_store_nothing_and_send_no_token(app: impl App, _: impl SessionStore) {
    let res = app.send(Req::get("/read")).await;
    assert_eq!(res.body, "Some(NoToken)|");
    assert!(res.token().is_none(), "nothing written, no token");
    assert!(res.header("cache-control").is_none());
}
