//! The survey demo in-process (no browser): what a visitor reads when the session is gone.

#[path = "../examples/survey/app.rs"]
#[allow(dead_code)]
mod app;

use std::{path::Path, sync::Arc, time::Duration};

use actix_cookieless::{CookielessSession, MemoryStore, Settings, testing::token_of};
use actix_web::{App, http::header, test};

/// The hidden token input's value in a page.
fn form_token(page: &str) -> &str {
    let marker = r#"name="sessionid" value=""#;
    let at = page.find(marker).expect("a token input") + marker.len();
    page[at..].split('"').next().unwrap()
}

/// The footer's account of how this request brought the token.
fn footer(page: &str) -> &str {
    let at = page.find(r#"<span id="transport">"#).expect("a footer") + 21;
    page[at..].split("</span>").next().unwrap()
}

#[actix_rt::test]
async fn the_landing_page_links_every_demo_and_footers_name_the_transport() {
    let settings = Settings::new("demo-test-secret-0123456789abcdef0123");
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let survey = Arc::new(app::Survey::new(&templates, true));
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new().configure(|cfg| app::configure(cfg, Arc::clone(&survey), cookieless.clone())),
    )
    .await;
    let call = |req: test::TestRequest| {
        req.peer_addr("203.0.113.7:4000".parse().unwrap())
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .to_request()
    };
    let read = |res| async move { String::from_utf8(test::read_body(res).await.to_vec()).unwrap() };

    let landing =
        read(test::call_service(&app, call(test::TestRequest::get().uri("/"))).await).await;
    for link in [
        r#"href="/survey/""#,
        r#"href="/survey/counter""#,
        r#"href="/embed""#,
    ] {
        assert!(landing.contains(link), "{link} in {landing}");
    }

    let res = test::call_service(
        &app,
        call(
            test::TestRequest::post()
                .uri("/survey/step/2")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload("name=Ada"),
        ),
    )
    .await;
    let page = read(res).await;
    assert!(
        footer(&page).contains("brought it nowhere (a new session)"),
        "{}",
        footer(&page)
    );
    assert!(
        footer(&page).contains("forms and links"),
        "{}",
        footer(&page)
    );
    let token = form_token(&page).to_owned();

    let res = test::call_service(
        &app,
        call(
            test::TestRequest::post()
                .uri("/survey/step/3")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(format!("sessionid={token}&colour=blue")),
        ),
    )
    .await;
    let page = read(res).await;
    assert!(
        footer(&page).contains("brought it in a form field"),
        "{}",
        footer(&page)
    );
    assert!(footer(&page).contains("manual mode"), "{}", footer(&page));

    let res = test::call_service(
        &app,
        call(test::TestRequest::get().uri(&format!("/survey/step/2?sessionid={token}"))),
    )
    .await;
    let page = read(res).await;
    assert!(
        footer(&page).contains("brought it in the URL"),
        "{}",
        footer(&page)
    );
}

#[actix_rt::test]
async fn a_visitor_back_after_session_ttl_reads_that_the_session_expired() {
    let mut settings = Settings::new("demo-test-secret-0123456789abcdef0123");
    settings.use_get = false;
    settings.session_ttl = Duration::from_secs(1);
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let survey = Arc::new(app::Survey::new(&templates, false));
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new().configure(|cfg| app::configure(cfg, Arc::clone(&survey), cookieless.clone())),
    )
    .await;
    let post = |path: &str, body: String| {
        test::TestRequest::post()
            .uri(path)
            .peer_addr("203.0.113.7:4000".parse().unwrap())
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body)
            .to_request()
    };
    let res = test::call_service(&app, post("/survey/step/2", "name=Ada".into())).await;
    assert!(token_of(&res).is_some());
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let token = form_token(&page).to_owned();

    // Within session_ttl the next step remembers; after it, the visitor is told why not.
    let res = test::call_service(
        &app,
        post("/survey/step/3", format!("sessionid={token}&colour=blue")),
    )
    .await;
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        page.contains("Last question"),
        "step 3, not the lost page: {page}"
    );
    let token = form_token(&page).to_owned();
    actix_web::rt::time::sleep(Duration::from_millis(2200)).await;
    let res = test::call_service(
        &app,
        post(
            "/survey/summary",
            format!("sessionid={token}&comments=late"),
        ),
    )
    .await;
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(page.contains("Your session expired"), "{page}");
}
