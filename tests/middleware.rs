//! What only the actix middleware has: a scope that wraps part of an app, the extractor
//! outside it, handlers that place their own tokens. The session suite that both frameworks
//! share (transports, tokens that must not open, expiry, headers, purge and renew, store
//! errors) is `tests/frameworks/sessions.rs`.

mod common;

use actix_cookieless::MemoryStore;
use actix_web::{
    http::{StatusCode, header},
    test::{self, TestRequest},
};
use common::*;

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
