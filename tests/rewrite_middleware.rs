//! What only actix's stack shows of HTML rewriting: `Compress` outside the middleware, and
//! lengths on the wire (a handler's `Content-Length`, HEAD). The rewriting suite both
//! frameworks share is `tests/frameworks/rewriting.rs`.

mod common;

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{
    App, HttpRequest, HttpResponse,
    http::header,
    middleware::Compress,
    test::{self, TestRequest},
    web,
};
use common::{SECRET, token_of, wire};
use std::io::Read as _;

const PAGE: &str = r#"<html><head><title><a href="/x"></title></head><body>
<form method="post" action="/s/next"><input name="a"></form>
<a href="/s/next?x=1">next</a> <a href="https://other.example/">away</a>
<script>var s = '<a href="/x">';</script></body></html>"#;

/// Writes to the session (so it has a token) and answers with the body and content type the
/// query asks for.
async fn page(session: Session, req: HttpRequest) -> actix_web::Result<HttpResponse> {
    session.insert("seen", true)?;
    let query = req.query_string();
    let mut res = match query {
        q if q.contains("status=204") => HttpResponse::NoContent(),
        q if q.contains("status=304") => HttpResponse::NotModified(),
        q if q.contains("redirect=own") => {
            let mut r = HttpResponse::Found();
            r.insert_header((header::LOCATION, "/s/next?a=1#frag"));
            r
        }
        q if q.contains("redirect=other") => {
            let mut r = HttpResponse::SeeOther();
            r.insert_header((header::LOCATION, "https://other.example/x"));
            r
        }
        _ => HttpResponse::Ok(),
    };
    let content_type = if query.contains("json") {
        "application/json"
    } else {
        "text/html; charset=utf-8"
    };
    res.content_type(content_type);
    if query.contains("length") {
        // A streamed body with a length: actix then turns chunking off for this response.
        res.insert_header((header::CONTENT_LENGTH, PAGE.len().to_string()));
        let chunks = futures_util::stream::iter([Ok::<_, actix_web::Error>(
            web::Bytes::from_static(PAGE.as_bytes()),
        )]);
        return Ok(res.streaming(chunks));
    }
    if query.contains("pregzipped") {
        res.insert_header((header::CONTENT_ENCODING, "br"));
    }
    Ok(res.body(PAGE))
}

fn settings() -> Settings {
    let mut s = Settings::new(SECRET);
    s.exclude = vec!["/s/admin".into()];
    s
}

macro_rules! app {
    ($settings:expr) => {{
        let cookieless = CookielessSession::builder(MemoryStore::default(), $settings)
            .build()
            .unwrap();
        test::init_service(
            App::new().wrap(Compress::default()).service(
                web::scope("/s")
                    .wrap(cookieless)
                    .route("/page", web::to(page))
                    .route("/admin/page", web::to(page)),
            ),
        )
        .await
    }};
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header((header::HOST, "site.example"))
}

#[actix_rt::test]
async fn gzip_outside_compresses_the_rewritten_page() {
    let app = app!(settings());
    let res = test::call_service(
        &app,
        get("/s/page")
            .insert_header((header::ACCEPT_ENCODING, "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
    let token = token_of(&res).unwrap();
    let compressed = test::read_body(res).await;
    let mut html = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
}

/// The test page's route behind the middleware, served on a free loopback port.
fn serve_page() -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings())
        .build()
        .unwrap();
    let server = actix_web::HttpServer::new(move || {
        App::new().service(
            web::scope("/s")
                .wrap(cookieless.clone())
                .route("/page", web::to(page)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    (addr, handle)
}

/// Over a real socket: a handler that set `Content-Length` still sends a valid response whose
/// length matches what is sent.
#[actix_rt::test]
async fn a_handler_set_content_length_gives_a_valid_response_on_the_wire() {
    let (addr, handle) = serve_page();
    let res = wire(addr, "GET", "/s/page?length", &[], "").await;
    handle.stop(true).await;
    assert_eq!(res.status, 200);
    if let Some(length) = res.header("content-length") {
        assert_eq!(
            length,
            res.body.len().to_string(),
            "the length sent matches the body sent"
        );
    } else {
        assert_eq!(
            res.header("transfer-encoding"),
            Some("chunked"),
            "either chunked or a length"
        );
    }
    assert!(res.body.contains("type=\"hidden\""), "{}", res.body);
    assert!(
        res.body.ends_with("</html>"),
        "the whole page arrived: {}",
        res.body
    );
}

/// Over a real socket: HEAD announces the length GET sends (its token is as long), not the
/// length of the handler's page before the token went in.
#[actix_rt::test]
async fn head_announces_the_length_get_sends() {
    let (addr, handle) = serve_page();
    let get = wire(addr, "GET", "/s/page", &[], "").await;
    let head = wire(addr, "HEAD", "/s/page", &[], "").await;
    handle.stop(true).await;
    assert!(get.body.contains("type=\"hidden\""), "{}", get.body);
    assert_eq!(
        get.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert!(head.body.is_empty(), "HEAD sends no body: {}", head.body);
    assert_eq!(head.header("content-length"), get.header("content-length"));
}
