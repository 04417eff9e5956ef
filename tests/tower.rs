//! What only the tower layer has to get right: request and response bodies as tower streams
//! them, the axum extractor, the handler's own token across an `.await`, the peer address
//! hook. (What both frameworks share is in `tests/frameworks`.) Feature `tower`.

use std::{convert::Infallible, net::SocketAddr};

use actix_cookieless::{MemoryStore, Session, SessionError, Settings, tower::CookielessLayer};
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SECRET: &str = "tower-test-secret-0123456789abcdef0123456";

fn layer() -> CookielessLayer<MemoryStore> {
    CookielessLayer::builder(MemoryStore::default(), Settings::new(SECRET))
        .build()
        .unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> (Response<()>, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, ()),
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn token(res: &Response<()>) -> String {
    res.headers()["x-session-id"].to_str().unwrap().to_owned()
}

/// A body that arrives one byte at a time.
fn trickle(body: String) -> Body {
    let chunks: Vec<Result<Bytes, Infallible>> = body
        .into_bytes()
        .into_iter()
        .map(|b| Ok(Bytes::from(vec![b])))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[actix_rt::test]
async fn a_form_body_in_one_byte_chunks_finds_its_token_and_reaches_the_handler_whole() {
    let app = Router::new()
        .route(
            "/start",
            post(|s: Session| async move {
                s.insert("n", 1).unwrap();
            }),
        )
        .route(
            "/answer",
            post(|s: Session, body: String| async move { format!("{:?} {body}", s.why_new()) }),
        )
        .layer(layer());
    let (started, _) = send(&app, Request::post("/start").body(Body::empty()).unwrap()).await;
    let long = "x".repeat(5000);
    let form = format!("sessionid={}&answer={long}", token(&started));
    let req = Request::post("/answer")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(trickle(form.clone()))
        .unwrap();
    let (res, body) = send(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body,
        format!("None {form}"),
        "the session opened, and every byte arrived"
    );
}

#[actix_rt::test]
async fn a_streamed_page_is_rewritten_as_it_streams() {
    let page = || async {
        let chunks: Vec<Result<Bytes, Infallible>> = [
            "<form method=po",
            "st><input name=a></fo",
            "rm><a href=/next>n</a>",
        ]
        .into_iter()
        .map(|c| Ok(Bytes::from_static(c.as_bytes())))
        .collect();
        // With its charset named: a page that names none and ends within the 1024 bytes a
        // browser prescans is read whole first.
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Body::from_stream(futures_util::stream::iter(chunks)),
        )
    };
    let app = Router::new()
        .route(
            "/page",
            get(move |s: Session| async move {
                s.insert("n", 1).unwrap();
                page().await
            }),
        )
        .layer(layer());
    let (res, body) = send(&app, Request::get("/page").body(Body::empty()).unwrap()).await;
    let token = token(&res);
    assert_eq!(
        body,
        format!(
            r#"<form method=post><input type="hidden" name="sessionid" value="{token}" /><input name=a></form><a href="/next?sessionid={token}">n</a>"#
        )
    );
    assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
}

#[actix_rt::test]
async fn a_route_without_the_layer_answers_500_not_a_panic() {
    let app = Router::new().route("/", get(|_: Session| async { "unreachable" }));
    let (res, body) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "Internal Server Error");
}

#[actix_rt::test]
async fn a_handler_places_its_own_token_across_an_await_and_its_cookies_are_dropped() {
    async fn manual(s: Session) -> Result<Response, SessionError> {
        s.insert("n", 1).ok();
        let token = s.token().await?;
        let html = format!("<form method=post>{}</form>", token.hidden_input());
        Ok((
            [
                (header::CONTENT_TYPE, "text/html"),
                (header::SET_COOKIE, "tracking=1"),
            ],
            html,
        )
            .into_response())
    }
    let app = Router::new().route("/", get(manual)).layer(layer());
    let (res, body) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(body.matches("sessionid").count(), 1, "left alone: {body}");
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert!(res.headers().contains_key("x-session-id"));
}

#[actix_rt::test]
async fn tokens_are_bound_to_the_peer_the_hook_reads() {
    let layer = CookielessLayer::builder(MemoryStore::default(), Settings::new(SECRET))
        .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/",
            post(|s: Session| async move {
                let why = format!("{:?}", s.why_new());
                s.insert("n", 1).unwrap();
                why
            }),
        )
        .layer(layer);
    let from = |peer: &str, token: Option<&str>| {
        let mut req = Request::post("/");
        if let Some(token) = token {
            req = req.header("x-session-id", token);
        }
        let mut req = req.body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        req
    };
    let (first, _) = send(&app, from("198.51.100.7:1000", None)).await;
    let token = token(&first);
    let (_, same) = send(&app, from("198.51.100.7:2000", Some(&token))).await;
    assert_eq!(same, "None", "the same address opens it");
    let (_, other) = send(&app, from("192.0.2.7:1000", Some(&token))).await;
    assert_eq!(other, "Some(NotOpened)", "another network does not");
}

#[actix_rt::test]
async fn the_event_hook_sees_each_stored_change_with_the_request_head() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let layer = CookielessLayer::builder(MemoryStore::default(), Settings::new(SECRET))
        .on_session_event(move |head, event| {
            log.lock()
                .unwrap()
                .push(format!("{} {event:?}", head.uri.path()));
        })
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/write",
            post(|s: Session| async move { s.insert("n", 1).unwrap() }),
        )
        .route(
            "/read",
            get(|s: Session| async move { s.get::<u32>("n").unwrap().unwrap_or(0).to_string() }),
        )
        .route("/purge", post(|s: Session| async move { s.purge() }))
        .layer(layer);
    let (res, _) = send(&app, Request::post("/write").body(Body::empty()).unwrap()).await;
    let token = token(&res);
    let with = |method: &str, path: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("x-session-id", &token)
            .body(Body::empty())
            .unwrap()
    };
    send(&app, with("POST", "/write")).await;
    send(&app, with("GET", "/read")).await;
    send(&app, with("POST", "/purge")).await;
    assert_eq!(
        *seen.lock().unwrap(),
        ["/write Created", "/write Updated", "/purge Purged"]
    );
}
