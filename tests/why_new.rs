//! Why a session is new (`Session::why_new`), the absolute lifetime, `SessionExt` outside the
//! extractor, and the test helpers users get (`actix_cookieless::testing`).

mod common;

use std::time::Duration;

use actix_cookieless::{
    Clock, MemoryStore, Session, SessionExt,
    testing::{TestRequestExt, token_of},
};
use actix_web::{
    HttpResponse, guard,
    http::{StatusCode, header},
    test::{self, TestRequest},
    web,
};
use common::{TestApp, UA, app_timed, app_with_routes, settings};

/// Writes to the session (so it has a token) and answers why it was new.
async fn why(session: Session) -> actix_web::Result<String> {
    let why = session.why_new();
    session.update_or("visits", 1u32, |n| n + 1)?;
    Ok(format!("{why:?}"))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/why", web::to(why))
        .route(
            "/purge-it",
            web::to(|s: Session| async move {
                s.purge();
                HttpResponse::Ok().finish()
            }),
        )
        // Reached only by a session that has visited (a guard reading the session).
        .service(
            web::resource("/members")
                .guard(guard::fn_guard(|ctx| {
                    ctx.get_session().contains_key("visits")
                }))
                .to(|req: actix_web::HttpRequest| async move {
                    let visits: u32 = req.get_session().get("visits").unwrap().unwrap();
                    format!("member after {visits} visits")
                }),
        );
}

fn from_client(req: TestRequest) -> TestRequest {
    req.peer_addr("203.0.113.7:4000".parse().unwrap())
        .insert_header((header::HOST, "shop.example"))
        .insert_header((header::USER_AGENT, UA))
}

async fn ask(app: &impl TestApp, req: TestRequest) -> (String, Option<String>) {
    let res = test::call_service(app, from_client(req.uri("/s/why")).to_request()).await;
    let token = token_of(&res);
    (common::body(res).await, token)
}

#[actix_rt::test]
async fn a_session_says_why_it_is_new() {
    let app = app_with_routes(MemoryStore::default(), settings(), routes).await;
    let (why, token) = ask(&app, TestRequest::get()).await;
    assert_eq!(why, "Some(NoToken)");
    let token = token.unwrap();

    let (why, _) = ask(&app, TestRequest::get().with_session_token(&token)).await;
    assert_eq!(why, "None", "the token opened its session");

    let mut tampered = token.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (why, _) = ask(&app, TestRequest::get().with_session_token(&tampered)).await;
    assert_eq!(why, "Some(NotOpened)");

    let other_client = from_client(TestRequest::get().uri("/s/why"))
        .with_session_token(&token)
        .insert_header((header::USER_AGENT, "another browser"));
    let res = test::call_service(&app, other_client.to_request()).await;
    assert_eq!(
        common::body(res).await,
        "Some(NotOpened)",
        "another User-Agent"
    );

    let cross_site = TestRequest::post()
        .with_session_token(&token)
        .insert_header(("sec-fetch-site", "cross-site"));
    let (why, _) = ask(&app, cross_site).await;
    assert_eq!(why, "Some(CrossSite)");

    let res = test::call_service(
        &app,
        from_client(
            TestRequest::get()
                .uri("/s/purge-it")
                .with_session_token(&token),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (why, _) = ask(&app, TestRequest::get().with_session_token(&token)).await;
    assert_eq!(why, "Some(Gone)", "the store no longer has it");
}

#[actix_rt::test]
async fn expired_tokens_and_sessions_past_their_lifetime_say_expired() {
    // On a clock the test moves: no sleeps, and no margin a slow machine could eat.
    let clock = Clock::manual();
    let mut short = settings();
    short.token_max_age = Duration::from_secs(60);
    let app = app_timed(MemoryStore::default(), short, clock.clone(), routes).await;
    let (_, token) = ask(&app, TestRequest::get()).await;
    clock.advance(Duration::from_secs(61));
    let (why, _) = ask(&app, TestRequest::get().with_session_token(&token.unwrap())).await;
    assert_eq!(why, "Some(Expired)", "token_max_age");

    let clock = Clock::manual();
    let mut lifetime = settings();
    lifetime.session_max_lifetime = Duration::from_secs(120);
    let app = app_timed(MemoryStore::default(), lifetime, clock.clone(), routes).await;
    let (_, mut token) = ask(&app, TestRequest::get()).await;
    // In use all the while: each answer re-seals a fresh token, yet the session ages.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(30));
        let (why, next) = ask(&app, TestRequest::get().with_session_token(&token.unwrap())).await;
        assert_eq!(why, "None");
        token = next;
    }
    clock.advance(Duration::from_secs(1));
    let (why, _) = ask(&app, TestRequest::get().with_session_token(&token.unwrap())).await;
    assert_eq!(why, "Some(Expired)", "session_max_lifetime");
}

#[actix_rt::test]
async fn guards_and_handlers_reach_the_session_through_session_ext() {
    let app = app_with_routes(MemoryStore::default(), settings(), routes).await;
    let members = |token: Option<&str>| {
        let req = from_client(TestRequest::get().uri("/s/members"));
        match token {
            Some(token) => req.with_session_token(token),
            None => req,
        }
        .to_request()
    };
    let res = test::call_service(&app, members(None)).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the guard kept a stranger out"
    );

    let (_, token) = ask(&app, TestRequest::get()).await;
    let (_, token) = ask(&app, TestRequest::get().with_session_token(&token.unwrap())).await;
    let res = test::call_service(&app, members(token.as_deref())).await;
    assert_eq!(common::body(res).await, "member after 2 visits");
}
