//! The middleware under abuse: forwarding headers spoofed by clients, and form bodies sent
//! slowly or a byte at a time. (Session floods: `tests/flood.rs`; the store's memory bound:
//! `tests/store_memory.rs`.)

mod common;

use std::{net::SocketAddr, time::Duration};

use actix_cookieless::{MemoryStore, Session};
use actix_http::BoxedPayloadStream;
use actix_web::{
    HttpResponse,
    dev::{Payload, Service},
    http::header,
    test::{self, TestRequest},
    web::{self, Bytes},
};
use common::*;
use futures_util::StreamExt;

const PROXY: &str = "10.0.0.1";
const CLIENT: &str = "203.0.113.7";

fn peer(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40000)
}

fn behind_a_proxy() -> actix_cookieless::Settings {
    let mut settings = settings();
    settings.trusted_proxies = vec!["10.0.0.0/8".to_owned()];
    settings
}

/// Links to this host, to `evil.example` and to this host over https.
async fn links(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("seen", true)?;
    Ok(HttpResponse::Ok().content_type("text/html").body(
        r#"<a id=evil href="http://evil.example/x">e</a><a id=own href="http://shop.example/y">o</a><a id=tls href="https://shop.example/z">t</a>"#,
    ))
}

/// A redirect to `http://<query>/landing`.
async fn away(session: Session, req: actix_web::HttpRequest) -> actix_web::Result<HttpResponse> {
    session.insert("left", true)?;
    let to = format!("http://{}/landing", req.query_string());
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish())
}

fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/links", web::to(links))
        .route("/away", web::to(away));
}

async fn links_seen(app: &impl TestApp, req: TestRequest) -> String {
    let res = test::call_service(app, req.uri("/s/links").to_request()).await;
    assert!(token_of(&res).is_some());
    body(res).await
}

fn carries_token(page: &str, id: &str) -> bool {
    let at = page.find(&format!("id={id} ")).expect(id);
    page[at..].split('>').next().unwrap().contains("sessionid=")
}

const SPOOFS: [(&str, &str); 3] = [
    ("x-forwarded-host", "evil.example"),
    ("forwarded", "host=evil.example;proto=https"),
    ("x-forwarded-proto", "https"),
];

#[actix_rt::test]
async fn forwarding_headers_from_a_client_change_no_origin() {
    let app = app_with_routes(MemoryStore::default(), behind_a_proxy(), pages).await;
    let res = test::call_service(
        &app,
        from(CLIENT, TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    let token = token_of(&res).unwrap();
    for spoof in SPOOFS {
        // A cross-site post from evil.example claiming to be for evil.example.
        let post = from(CLIENT, TestRequest::post().uri("/s/form"))
            .insert_header(spoof)
            .insert_header(("origin", "http://evil.example"))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(format!("sessionid={token}&answer=forged"));
        let res = test::call_service(&app, post.to_request()).await;
        assert_eq!(
            body(res).await,
            r#"answer="forged""#,
            "{spoof:?}: the token is ignored, the post lands in an empty session"
        );

        // The page's own origin stays the Host's: links to evil.example get no token.
        let page = links_seen(&app, from(CLIENT, TestRequest::get()).insert_header(spoof)).await;
        assert!(!carries_token(&page, "evil"), "{spoof:?}: {page}");
        assert!(carries_token(&page, "own"), "{spoof:?}: {page}");
        assert!(!carries_token(&page, "tls"), "{spoof:?}: {page}");

        for (to, gets_token) in [("evil.example", false), ("shop.example", true)] {
            let res = test::call_service(
                &app,
                from(CLIENT, TestRequest::get().uri(&format!("/s/away?{to}")))
                    .insert_header(spoof)
                    .to_request(),
            )
            .await;
            let location = res
                .headers()
                .get(header::LOCATION)
                .unwrap()
                .to_str()
                .unwrap();
            assert_eq!(
                location.contains("sessionid="),
                gets_token,
                "{spoof:?}: {location}"
            );
        }
    }
}

#[actix_rt::test]
async fn forwarding_headers_from_a_trusted_proxy_set_the_origin() {
    let app = app_with_routes(MemoryStore::default(), behind_a_proxy(), pages).await;
    // Behind the proxy the app is `internal:8080`; the public origin is https://shop.example.
    let via_proxy = |req: TestRequest| {
        req.peer_addr(peer(PROXY))
            .insert_header((header::HOST, "internal:8080"))
            .insert_header((header::USER_AGENT, UA))
            .insert_header(("x-forwarded-for", CLIENT))
            .insert_header(("x-forwarded-host", "shop.example"))
            .insert_header(("x-forwarded-proto", "https"))
    };
    let res = test::call_service(
        &app,
        via_proxy(TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    let token = token_of(&res).unwrap();
    let post = via_proxy(TestRequest::post().uri("/s/form"))
        .insert_header(("origin", "https://shop.example"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(format!("sessionid={token}&answer=yes"));
    let res = test::call_service(&app, post.to_request()).await;
    assert_eq!(body(res).await, r#"answer="yes";step="1""#);

    let page = links_seen(&app, via_proxy(TestRequest::get())).await;
    assert!(carries_token(&page, "tls"), "{page}");
    assert!(
        !carries_token(&page, "own"),
        "http is another origin: {page}"
    );
    assert!(!carries_token(&page, "evil"), "{page}");
}

/// A form post to `/s/form` from the client whose body is `chunks`, as they come.
fn streamed_form_post(chunks: BoxedPayloadStream) -> actix_http::Request {
    let req = from(CLIENT, TestRequest::post().uri("/s/form"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .to_request();
    req.replace_payload(Payload::Stream { payload: chunks }).0
}

/// A form body that stalls before its token field: after `body_scan_timeout` the request goes
/// on to the handler, without a token and with every byte of the body.
#[actix_rt::test]
async fn a_body_too_slow_to_reach_its_token_goes_on_without_one() {
    let mut settings = settings();
    settings.body_scan_timeout = Duration::from_millis(200);
    let app = app_with(MemoryStore::default(), settings).await;
    let res = test::call_service(
        &app,
        from(CLIENT, TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    let token = token_of(&res).unwrap();

    // Tokio's clock stands still and jumps to the next timer when all is idle: the scan's
    // timeout fires before the late chunk's, whatever the machine's speed.
    tokio::time::pause();
    let late = format!("&sessionid={token}");
    let delivered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let late_delivered = std::sync::Arc::clone(&delivered);
    let chunks = futures_util::stream::iter([Bytes::from_static(b"answer=slow")])
        .chain(futures_util::stream::once(async move {
            actix_web::rt::time::sleep(Duration::from_millis(600)).await;
            late_delivered.store(true, std::sync::atomic::Ordering::SeqCst);
            Bytes::from(late)
        }))
        .map(Ok::<_, actix_web::error::PayloadError>);
    let req = streamed_form_post(Box::pin(chunks));
    let res = app.call(req).await.unwrap();
    assert!(
        delivered.load(std::sync::atomic::Ordering::SeqCst),
        "the handler read it all"
    );
    assert_ne!(token_of(&res).unwrap(), token, "a new session");
    assert_eq!(body(res).await, r#"answer="slow""#);
}

/// 15 KB of form fields sent a byte per chunk (actix's `Form` takes 16 KiB), the token last:
/// found, and the handler gets the body whole.
#[actix_rt::test]
async fn a_body_sent_a_byte_at_a_time_still_finds_its_token() {
    let app = app().await;
    let res = test::call_service(
        &app,
        from(CLIENT, TestRequest::get().uri("/s/write/step/1")).to_request(),
    )
    .await;
    let token = token_of(&res).unwrap();
    let body_text = format!("pad={}&answer=yes&sessionid={token}", "x".repeat(15_000));
    let bytes: Vec<Bytes> = body_text
        .as_bytes()
        .iter()
        .map(|b| Bytes::copy_from_slice(&[*b]))
        .collect();
    let chunks = futures_util::stream::iter(bytes).map(Ok::<_, actix_web::error::PayloadError>);
    let req = streamed_form_post(Box::pin(chunks));
    let res = app.call(req).await.unwrap();
    let page = body(res).await;
    assert!(
        page.contains(r#"answer="yes""#),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(r#"step="1""#), "the token opened the session");
    assert!(
        page.contains(&"x".repeat(15_000)),
        "every byte reached the handler"
    );
}
