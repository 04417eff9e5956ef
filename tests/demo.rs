//! The survey demo in-process (no browser): the landing page, the footers, redirect after
//! each post, and what a visitor reads when the session is gone.

#[path = "../examples/survey/app.rs"]
#[allow(dead_code)]
mod app;

use std::{path::Path, sync::Arc, time::Duration};

use actix_cookieless::{CookielessSession, MemoryStore, Settings};
use actix_web::{
    App,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    test,
};

/// The demo app, with `use_get` and `session_ttl` as given.
async fn demo(
    use_get: bool,
    session_ttl: Duration,
) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
    let mut settings = Settings::new("demo-test-secret-0123456789abcdef0123");
    settings.use_get = use_get;
    settings.session_ttl = session_ttl;
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let survey = Arc::new(app::Survey::new(&templates, use_get));
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .unwrap();
    test::init_service(
        App::new().configure(|cfg| app::configure(cfg, Arc::clone(&survey), cookieless.clone())),
    )
    .await
}

fn from_visitor(req: test::TestRequest) -> actix_http::Request {
    req.peer_addr("203.0.113.7:4000".parse().unwrap())
        .insert_header((header::HOST, "127.0.0.1:8080"))
        .to_request()
}

/// GETs `uri`; the page.
async fn get(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    uri: &str,
) -> String {
    let res = test::call_service(app, from_visitor(test::TestRequest::get().uri(uri))).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {uri}");
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// POSTs a form to `uri` and follows the `303 See Other` the demo answers with, as a
/// browser does; the page and the URL it came from. A post the demo does not redirect (the
/// session is lost) gives its own page.
async fn post(
    app: &impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    uri: &str,
    form: &str,
) -> (String, String) {
    let req = test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(form.to_owned());
    let res = test::call_service(app, from_visitor(req)).await;
    if res.status() != StatusCode::SEE_OTHER {
        let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        return (page, uri.to_owned());
    }
    let location = res
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    (get(app, &location).await, location)
}

/// The hidden token input's value in a page.
fn form_token(page: &str) -> &str {
    let marker = r#"name="sessionid" value=""#;
    let at = page.find(marker).expect("a token input") + marker.len();
    page[at..].split('"').next().unwrap()
}

/// The footer's account of how the page carries the token and how the request brought it.
fn footer(page: &str) -> &str {
    let at = page.find(r#"<span id="transport">"#).expect("a footer") + 21;
    page[at..].split("</span>").next().unwrap()
}

#[actix_rt::test]
async fn the_landing_page_links_every_demo_and_footers_name_the_transport() {
    let app = demo(true, Duration::from_secs(60)).await;
    let landing = get(&app, "/").await;
    for link in [
        r#"href="/survey/""#,
        r#"href="/survey/counter""#,
        r#"href="/embed""#,
    ] {
        assert!(landing.contains(link), "{link} in {landing}");
    }
    let step1 = get(&app, "/survey/").await;
    assert!(
        footer(&step1).contains("brought it nowhere (a new session)"),
        "{}",
        footer(&step1)
    );

    let (step2, url) = post(&app, "/survey/step/2", "name=Ada").await;
    assert!(
        url.starts_with("/survey/step/2?sessionid="),
        "redirected to {url}"
    );
    assert!(step2.contains("Hello, Ada"), "{step2}");
    let footer2 = footer(&step2);
    assert!(footer2.contains("forms and links"), "{footer2}");
    assert!(
        footer2.contains("brought it in the URL of the redirect"),
        "{footer2}"
    );

    let token = form_token(&step2).to_owned();
    let (step3, _) = post(
        &app,
        "/survey/step/3",
        &format!("sessionid={token}&colour=blue"),
    )
    .await;
    assert!(footer(&step3).contains("manual mode"), "{}", footer(&step3));

    let back = get(&app, &format!("/survey/step/2?sessionid={token}")).await;
    assert!(
        footer(&back).contains("brought it in the URL."),
        "{}",
        footer(&back)
    );
}

/// Redirect after every post, in both use_get settings: the page after a post is a GET that
/// can be fetched again (reload, Back) and still shows the answers; its token opens nothing
/// else.
#[actix_rt::test]
async fn every_post_is_answered_with_a_redirect_that_keeps_the_session() {
    for use_get in [false, true] {
        let app = demo(use_get, Duration::from_secs(60)).await;
        let (step2, url2) = post(&app, "/survey/step/2", "name=Ada").await;
        assert!(step2.contains("Hello, Ada"), "use_get={use_get}: {step2}");
        let (step3, url3) = post(
            &app,
            "/survey/step/3",
            &format!("sessionid={}&colour=green", form_token(&step2)),
        )
        .await;
        assert!(
            step3.contains("Last question"),
            "use_get={use_get}: {step3}"
        );
        let (summary, url4) = post(
            &app,
            "/survey/summary",
            &format!("sessionid={}&comments=fine", form_token(&step3)),
        )
        .await;
        for answer in ["Ada", "green", "fine"] {
            assert!(
                summary.contains(answer),
                "use_get={use_get}: {answer} in {summary}"
            );
        }
        // Reload and Back: the same GETs again, nothing lost.
        assert!(get(&app, &url2).await.contains("Hello, Ada"));
        assert!(get(&app, &url3).await.contains("Last question"));
        assert!(get(&app, &url4).await.contains("green"));
        // A redirect token opens only its own page.
        let token = url2.split("sessionid=").nth(1).unwrap();
        let elsewhere = get(&app, &format!("/survey/summary?sessionid={token}")).await;
        assert!(
            elsewhere.contains("We lost your answers"),
            "use_get={use_get}: {elsewhere}"
        );
    }
}

#[actix_rt::test]
async fn a_visitor_back_after_session_ttl_reads_that_the_session_expired() {
    let app = demo(false, Duration::from_secs(1)).await;
    let (step2, _) = post(&app, "/survey/step/2", "name=Ada").await;
    let (step3, _) = post(
        &app,
        "/survey/step/3",
        &format!("sessionid={}&colour=blue", form_token(&step2)),
    )
    .await;
    assert!(
        step3.contains("Last question"),
        "step 3, not the lost page: {step3}"
    );
    actix_web::rt::time::sleep(Duration::from_millis(2200)).await;
    let (page, _) = post(
        &app,
        "/survey/summary",
        &format!("sessionid={}&comments=late", form_token(&step3)),
    )
    .await;
    assert!(page.contains("Your session expired"), "{page}");
}
