//! The session suite, once for both frameworks: transports, tokens that must not open,
//! expiry, laziness, headers, purge and renew, sessions of others, a failing store.

use std::time::Duration;

use actix_cookieless::{Clock, MemoryStore, Settings, store::SessionStore};

use super::{
    apps::{self, App, Framework, Req, UA},
    common::{self, SECRET},
    settings,
};

both_frameworks! {
    the_header_keeps_a_session_over_three_requests(MemoryStore::default(), |_| {});
    an_urlencoded_form_keeps_a_session_over_three_requests(MemoryStore::default(), |_| {});
    a_multipart_form_keeps_a_session_over_three_requests(MemoryStore::default(), |_| {});
    the_query_keeps_a_session_over_three_requests(MemoryStore::default(), |_| {});
    query_tokens_are_ignored_without_use_get(MemoryStore::default(), |s| s.use_get = false);
    the_transport_is_reported(MemoryStore::default(), |_| {});
    garbage_tokens_give_a_fresh_session(MemoryStore::default(), |_| {});
    a_token_from_another_ip_gives_a_fresh_session_and_the_same_client_keeps_it(MemoryStore::default(), |_| {});
    a_session_expired_in_the_store_gives_a_fresh_session(MemoryStore::default(), |s| s.session_ttl = Duration::from_secs(1));
    lazy_sessions_store_nothing(MemoryStore::default(), |_| {});
    no_response_ever_sets_a_cookie(MemoryStore::default(), |_| {});
    purge_deletes_the_session_and_sends_no_token(MemoryStore::default(), |_| {});
    renew_moves_the_data_and_retires_the_old_token(MemoryStore::default(), |_| {});
    sessions_created_by_others_are_not_opened(MemoryStore::default(), |_| {});
    a_failing_store_gives_an_opaque_503_on_save(common::FlakyStore::default(), |_| {});
    auto_the_cookie_follows_the_session_through_renew_and_purge(MemoryStore::default(), |s| s.cookie = "auto".into());
    auto_a_cookie_from_another_client_opens_nothing(MemoryStore::default(), |s| s.cookie = "auto".into());
}

/// `cookie = "auto"`: the session cookie `res` sets (its value; empty when it removes it).
fn session_cookie(res: &super::apps::Res) -> Option<String> {
    res.all("set-cookie").into_iter().find_map(|line| {
        let value = line.strip_prefix("__Host-sessionid=")?;
        Some(value.split(';').next().unwrap_or("").to_owned())
    })
}

fn with_cookie(path: &str, cookie: &str) -> Req {
    Req::get(path)
        .header("host", "localhost")
        .header("cookie", format!("__Host-sessionid={cookie}"))
}

async fn auto_the_cookie_follows_the_session_through_renew_and_purge(
    app: impl App,
    store: MemoryStore,
) {
    let first = app
        .send(Req::get("/s/write/a/1").header("host", "localhost"))
        .await;
    let c1 = session_cookie(&first).expect("the session cookie");
    assert_eq!(
        app.send(with_cookie("/s/transport", &c1)).await.body,
        "Cookie"
    );
    let renewed = app.send(with_cookie("/s/renew", &c1)).await;
    let c2 = session_cookie(&renewed).expect("renew replaces the cookie");
    assert_ne!(c1, c2);
    assert_eq!(app.send(with_cookie("/s/read", &c2)).await.body, r#"a="1""#);
    let retired = app.send(with_cookie("/s/read", &c1)).await;
    assert_eq!(retired.body, "");
    assert_eq!(
        session_cookie(&retired).as_deref(),
        Some(""),
        "the old cookie is removed"
    );
    let purged = app.send(with_cookie("/s/purge", &c2)).await;
    assert_eq!(
        session_cookie(&purged).as_deref(),
        Some(""),
        "purge removes the cookie"
    );
    assert!(purged.token().is_none());
    assert!(store.is_empty());
}

async fn auto_a_cookie_from_another_client_opens_nothing(app: impl App, _: MemoryStore) {
    let first = app
        .send(Req::get("/s/write/a/1").header("host", "localhost"))
        .await;
    let cookie = session_cookie(&first).unwrap();
    let other = with_cookie("/read", &cookie).header("user-agent", "another browser/1.0");
    assert_eq!(app.send(other).await.body, "Some(NotOpened)|");
    assert_eq!(app.send(with_cookie("/read", &cookie)).await.body, "None|");
}

async fn token_of(app: &impl App, req: Req) -> String {
    app.send(req)
        .await
        .token()
        .expect("a written session gets a token")
}

async fn the_header_keeps_a_session_over_three_requests(app: impl App, _: impl SessionStore) {
    let mut token = token_of(&app, Req::get("/s/write/a/1")).await;
    for (name, expected) in [("b", r#"a="1";b="2""#), ("c", r#"a="1";b="2";c="3""#)] {
        let value = if name == "b" { "2" } else { "3" };
        let res = app
            .send(Req::get(format!("/s/write/{name}/{value}")).token(&token))
            .await;
        assert_eq!(res.status, 200);
        let next = res.token().unwrap();
        // Sealed within the minute, the request's own token answers again.
        assert_eq!(next, token, "a fresh token is sent back as it came");
        token = next;
        assert_eq!(res.body, expected);
    }
}

async fn an_urlencoded_form_keeps_a_session_over_three_requests(
    app: impl App,
    _: impl SessionStore,
) {
    let mut token = token_of(&app, Req::post("/s/form").form("step1=alpha")).await;
    for (step, expected) in [
        (2, r#"step1="alpha";step2="beta""#),
        (3, r#"step1="alpha";step2="beta";step3="gamma""#),
    ] {
        let value = if step == 2 { "beta" } else { "gamma" };
        let res = app
            .send(Req::post("/s/form").form(format!("sessionid={token}&step{step}={value}")))
            .await;
        token = res.token().unwrap();
        assert_eq!(res.body, expected, "the handler still reads the whole form");
    }
}

fn multipart(token: &str, field: &str, value: &str) -> String {
    format!(
        "--B0undary\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\n{token}\r\n\
         --B0undary\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n--B0undary--\r\n"
    )
}

async fn a_multipart_form_keeps_a_session_over_three_requests(app: impl App, _: impl SessionStore) {
    const MULTIPART: &str = "multipart/form-data; boundary=B0undary";
    let mut token = token_of(&app, Req::get("/s/write/step1/x")).await;
    for step in 2..=3 {
        let req = Req::post(format!("/s/write/step{step}/x"))
            .body(MULTIPART, multipart(&token, "ignored", "y"));
        let res = app.send(req).await;
        token = res.token().unwrap();
        assert_eq!(res.body.matches("=\"x\"").count(), step, "{}", res.body);
    }
    let req = Req::post("/s/transport").body(MULTIPART, multipart(&token, "a", "b"));
    assert_eq!(app.send(req).await.body, "FormField");
}

async fn the_query_keeps_a_session_over_three_requests(app: impl App, _: impl SessionStore) {
    let mut token = token_of(&app, Req::get("/s/write/q1/x")).await;
    for step in 2..=3 {
        let res = app
            .send(Req::get(format!("/s/write/q{step}/x?sessionid={token}")))
            .await;
        token = res.token().unwrap();
        assert_eq!(res.body.matches("=\"x\"").count(), step);
    }
}

async fn query_tokens_are_ignored_without_use_get(app: impl App, _: impl SessionStore) {
    let token = token_of(&app, Req::get("/s/write/a/1")).await;
    let res = app
        .send(Req::get(format!("/s/read?sessionid={token}")))
        .await;
    assert_eq!(res.body, "");
}

async fn the_transport_is_reported(app: impl App, _: impl SessionStore) {
    let token = token_of(&app, Req::get("/s/write/a/1")).await;
    for (req, expected) in [
        (Req::get("/s/transport").token(&token), "Header"),
        (Req::get(format!("/s/transport?sessionid={token}")), "Query"),
        (Req::get("/s/transport"), "None"),
    ] {
        assert_eq!(app.send(req).await.body, expected);
    }
}

async fn garbage_tokens_give_a_fresh_session(app: impl App, _: impl SessionStore) {
    for token in ["x", "!!!", &"A".repeat(20_000), "AQ", "%FF%FE"] {
        let res = app.send(Req::get("/s/read").token(token)).await;
        assert_eq!((res.status, res.body.as_str()), (200, ""), "{token:?}");
        assert!(res.token().is_none());
    }
}

async fn a_token_from_another_ip_gives_a_fresh_session_and_the_same_client_keeps_it(
    app: impl App,
    _: impl SessionStore,
) {
    let token = token_of(&app, Req::get("/s/write/k/v").from("192.0.2.10")).await;
    let same = app
        .send(Req::get("/s/read").from("192.0.2.10").token(&token))
        .await;
    assert_eq!(same.body, r#"k="v""#);
    let other = app
        .send(Req::get("/s/read").from("198.51.100.20").token(&token))
        .await;
    assert_eq!((other.status, other.body.as_str()), (200, ""));
    let other_browser = Req::get("/s/read")
        .from("192.0.2.10")
        .token(&token)
        .header("user-agent", "curl/8.0");
    assert_eq!(app.send(other_browser).await.body, "");
    assert_ne!(UA, "curl/8.0");
}

/// On a clock the test moves: a token opens up to `token_max_age` after it was sealed, and
/// not a second later.
async fn an_expired_token_gives_a_fresh_session<F: Framework>() {
    let clock = Clock::manual();
    let mut settings = Settings::new(SECRET);
    settings.token_max_age = Duration::from_secs(60);
    let app = F::timed(MemoryStore::default(), settings, clock.clone()).await;
    let token = token_of(&app, Req::get("/s/write/k/v")).await;
    let again = || Req::get("/s/read").token(&token);
    clock.advance(Duration::from_secs(60));
    let res = app.send(again()).await;
    assert_eq!(res.body, r#"k="v""#, "at token_max_age");
    clock.advance(Duration::from_secs(1));
    let res = app.send(again()).await;
    assert_eq!(
        (res.status, res.body.as_str()),
        (200, ""),
        "a second past it"
    );
}

mod an_expired_token_gives_a_fresh_session {
    #[actix_rt::test]
    async fn actix() {
        super::an_expired_token_gives_a_fresh_session::<super::super::apps::Actix>().await;
    }

    #[cfg(feature = "tower")]
    #[actix_rt::test]
    async fn axum() {
        super::an_expired_token_gives_a_fresh_session::<super::super::apps::Axum>().await;
    }
}

async fn a_session_expired_in_the_store_gives_a_fresh_session(app: impl App, _: impl SessionStore) {
    let token = token_of(&app, Req::get("/s/write/k/v")).await;
    actix_web::rt::time::sleep(Duration::from_millis(1300)).await;
    let res = app.send(Req::get("/s/read").token(&token)).await;
    assert_eq!((res.status, res.body.as_str()), (200, ""));
}

async fn lazy_sessions_store_nothing(app: impl App, store: MemoryStore) {
    for _ in 0..5 {
        let res = app.send(Req::get("/s/read")).await;
        assert!(res.token().is_none());
        assert!(res.header("cache-control").is_none());
    }
    assert!(store.is_empty());
    app.send(Req::get("/s/write/a/b")).await;
    assert_eq!(store.len(), 1);
}

async fn no_response_ever_sets_a_cookie(app: impl App, _: impl SessionStore) {
    let res = app.send(Req::get("/s/cookie")).await;
    assert_eq!(res.status, 200);
    assert!(res.header("set-cookie").is_none());
    assert!(res.token().is_some());
    for uri in [
        "/s/read",
        "/s/write/a/1",
        "/s/purge",
        "/s/renew",
        "/s/transport",
    ] {
        assert!(
            app.send(Req::get(uri)).await.header("set-cookie").is_none(),
            "{uri}"
        );
    }
}

async fn purge_deletes_the_session_and_sends_no_token(app: impl App, store: MemoryStore) {
    let token = token_of(&app, Req::get("/s/write/a/1")).await;
    let res = app.send(Req::get("/s/purge").token(&token)).await;
    assert!(res.token().is_none());
    assert!(store.is_empty());
    assert_eq!(app.send(Req::get("/s/read").token(&token)).await.body, "");
}

async fn renew_moves_the_data_and_retires_the_old_token(app: impl App, _: impl SessionStore) {
    let old = token_of(&app, Req::get("/s/write/a/1")).await;
    let new = token_of(&app, Req::get("/s/renew").token(&old)).await;
    assert_eq!(
        app.send(Req::get("/s/read").token(&new)).await.body,
        r#"a="1""#
    );
    assert_eq!(app.send(Req::get("/s/read").token(&old)).await.body, "");
}

async fn sessions_created_by_others_are_not_opened(app: impl App, store: MemoryStore) {
    // A cookie session in a shared store: same key space, no marker.
    let foreign = store
        .save(
            [("role".to_owned(), "\"admin\"".to_owned())].into(),
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    let peer = apps::PEER.split(':').next().unwrap().parse().ok();
    let token = actix_cookieless::token::Keyring::new(
        common::SECRET.as_bytes(),
        &[],
        Duration::from_secs(60),
    )
    .client(&actix_cookieless::token::ClientBinding::new(
        peer,
        UA.as_bytes(),
    ))
    .seal(&foreign, None)
    .unwrap();
    // The control: a session of ours, under a token sealed the same way, opens.
    let ours = token_of(&app, Req::get("/s/write/a/1")).await;
    assert_eq!(
        app.send(Req::get("/s/read").token(&ours)).await.body,
        r#"a="1""#
    );
    assert_eq!(app.send(Req::get("/s/read").token(&token)).await.body, "");
}

async fn a_failing_store_gives_an_opaque_503_on_save(app: impl App, store: common::FlakyStore) {
    store.set_down(true);
    let res = app.send(Req::get("/s/write/a/1")).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.body, "Service Unavailable");
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(res.token().is_none(), "no token claims a save that failed");
    store.set_down(false);
    assert_eq!(app.send(Req::get("/s/write/a/1")).await.status, 200);
}

/// `cookie = "auto"` on a clock the test moves: the cookie's token is re-sealed under a new
/// secret (the old one only opens), and past `token_max_age` it opens nothing and goes.
async fn auto_the_cookie_follows_a_key_rotation_and_expires_as_a_token<F: Framework>() {
    let clock = Clock::manual();
    let store = MemoryStore::default();
    let mut old = Settings::new(SECRET);
    old.cookie = "auto".into();
    old.token_max_age = Duration::from_secs(600);
    let mut rotated = old.clone();
    rotated.secret = "a-new-secret-of-at-least-32-bytes-0123".into();
    rotated.previous_secrets = vec![SECRET.to_owned()];
    let before = F::timed(store.clone(), old, clock.clone()).await;
    let after = F::timed(store, rotated, clock.clone()).await;

    let first = before
        .send(Req::get("/s/write/k/v").header("host", "localhost"))
        .await;
    let c1 = session_cookie(&first).unwrap();
    let res = after.send(with_cookie("/s/read", &c1)).await;
    assert_eq!(res.body, r#"k="v""#, "the previous secret still opens it");
    let c2 = session_cookie(&res).expect("re-sealed");
    assert_ne!(c1, c2, "sealed again under the new secret");
    assert_eq!(before.send(with_cookie("/s/read", &c2)).await.body, "");

    // The cookie is set again only when the response's token changes: a fresh one answers
    // again (within the reuse window, here 600 s / 16), an older one is re-sealed.
    let res = after.send(with_cookie("/s/read", &c2)).await;
    assert_eq!(res.token().as_deref(), Some(c2.as_str()));
    assert_eq!(
        session_cookie(&res),
        None,
        "the cookie holds that token already"
    );
    clock.advance(Duration::from_secs(40));
    let res = after.send(with_cookie("/s/read", &c2)).await;
    let c3 = session_cookie(&res).expect("re-sealed past the reuse window");
    assert_ne!(c3, c2);
    assert_eq!(res.token(), Some(c3));

    clock.advance(Duration::from_secs(561));
    let res = after.send(with_cookie("/read", &c2)).await;
    assert_eq!(res.body, "Some(Expired)|");
    assert_eq!(
        session_cookie(&res).as_deref(),
        Some(""),
        "the expired cookie goes"
    );
}

mod auto_the_cookie_follows_a_key_rotation_and_expires_as_a_token {
    #[actix_rt::test]
    async fn actix() {
        super::auto_the_cookie_follows_a_key_rotation_and_expires_as_a_token::<
            super::super::apps::Actix,
        >()
        .await;
    }

    #[cfg(feature = "tower")]
    #[actix_rt::test]
    async fn axum() {
        super::auto_the_cookie_follows_a_key_rotation_and_expires_as_a_token::<
            super::super::apps::Axum,
        >()
        .await;
    }
}
