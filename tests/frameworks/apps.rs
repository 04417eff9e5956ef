//! The same app in both frameworks: the same routes and handler logic, behind the actix
//! middleware or the tower layer, reached through one plain request type.

use std::{collections::HashMap, future::Future};

use actix_cookieless::{Clock, Session, Settings, store::SessionStore};

/// A request as a test writes it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: &'static str,
    pub uri: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// The client's address (`ip:port`).
    pub peer: String,
}

impl Req {
    pub fn get(uri: impl Into<String>) -> Self {
        Self {
            method: "GET",
            uri: uri.into(),
            headers: vec![("user-agent", UA.to_owned())],
            body: String::new(),
            peer: PEER.to_owned(),
        }
    }

    pub fn from(mut self, ip: &str) -> Self {
        self.peer = format!("{ip}:40000");
        self
    }

    pub fn token(self, token: &str) -> Self {
        self.header("x-session-id", token)
    }

    pub fn post(uri: impl Into<String>) -> Self {
        Self {
            method: "POST",
            ..Self::get(uri)
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub fn form(self, body: impl Into<String>) -> Self {
        self.body("application/x-www-form-urlencoded", body)
    }

    pub fn body(self, content_type: &str, body: impl Into<String>) -> Self {
        let mut req = self.header("content-type", content_type.to_owned());
        req.body = body.into();
        req
    }
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy); `bytes` as sent.
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn token(&self) -> Option<String> {
        self.header("x-session-id").map(str::to_owned)
    }

    /// Every value of header `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// An app a test sends requests to.
pub trait App {
    fn send(&self, req: Req) -> impl Future<Output = Res>;
}

/// A framework a scenario builds its apps with (for scenarios that need more than one app).
pub trait Framework {
    fn app<St: SessionStore>(store: St, settings: Settings) -> impl Future<Output = impl App> {
        Self::timed(store, settings, Clock::system())
    }

    /// The app, telling the time by `clock`.
    fn timed<St: SessionStore>(
        store: St,
        settings: Settings,
        clock: Clock,
    ) -> impl Future<Output = impl App>;
}

pub struct Actix;

impl Framework for Actix {
    fn timed<St: SessionStore>(
        store: St,
        settings: Settings,
        clock: Clock,
    ) -> impl Future<Output = impl App> {
        with_actix::timed(store, settings, clock)
    }
}

#[cfg(feature = "tower")]
pub struct Axum;

#[cfg(feature = "tower")]
impl Framework for Axum {
    fn timed<St: SessionStore>(
        store: St,
        settings: Settings,
        clock: Clock,
    ) -> impl Future<Output = impl App> {
        with_axum::timed(store, settings, clock)
    }
}

/// A response as a handler of the rewrite suite makes it, before a framework builds it.
pub struct Page {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Sent as a stream (no length known to the middleware).
    pub streamed: bool,
}

impl Page {
    /// The body in 5-byte chunks, as a stream sends it: cut inside tags and characters.
    pub fn chunks(&self) -> Vec<bytes::Bytes> {
        self.body
            .chunks(5)
            .map(bytes::Bytes::copy_from_slice)
            .collect()
    }
}

/// The rewrite suite's page: its form, a same-site and an away link, and a `<title>` and a
/// script that hold markup that is no markup.
pub const REWRITE_PAGE: &str = r#"<html><head><title><a href="/x"></title></head><body>
<form method="post" action="/s/next"><input name="a"></form>
<a href="/s/next?x=1">next</a> <a href="https://other.example/">away</a>
<script>var s = '<a href="/x">';</script></body></html>"#;

/// The rewrite suite's pages, written once for both frameworks.
pub mod pages {
    use super::*;

    fn page(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Page {
        Page {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
            streamed: false,
        }
    }

    /// Writes to the session (so it has a token), then answers as the query asks.
    pub fn rewrite(s: &Session, query: &str) -> Page {
        s.insert("seen", true).unwrap();
        let status = match query {
            q if q.contains("status=204") => 204,
            q if q.contains("status=304") => 304,
            q if q.contains("redirect=own") => 302,
            q if q.contains("redirect=other") => 303,
            _ => 200,
        };
        let content_type = if query.contains("json") {
            "application/json"
        } else {
            "text/html; charset=utf-8"
        };
        let mut res = page(status, content_type, REWRITE_PAGE);
        if query.contains("redirect=own") {
            res.headers.push(("location", "/s/next?a=1#frag".into()));
        }
        if query.contains("redirect=other") {
            res.headers
                .push(("location", "https://other.example/x".into()));
        }
        if query.contains("length") {
            res.streamed = true;
        }
        if query.contains("pregzipped") {
            res.headers.push(("content-encoding", "br".into()));
        }
        // `policy=a&policy=b`: a `Referrer-Policy` line each, in order.
        for policy in query.split('&').filter_map(|p| p.strip_prefix("policy=")) {
            res.headers
                .push(("referrer-policy", policy.replace("%20", " ")));
        }
        res
    }

    /// Writes nothing: a fresh session has no token and its page is left alone.
    pub fn lazy() -> Page {
        page(200, "text/html", REWRITE_PAGE)
    }

    /// A page in the charset `name` names, with that charset's own bytes in it.
    pub fn charset(s: &Session, name: &str) -> Page {
        s.insert("seen", true).unwrap();
        let (label, bytes): (&str, Vec<u8>) = match name {
            // "café" in windows-1252, and in a link's title
            "1252" => ("windows-1252", b"<p>caf\xe9</p><a title=\"caf\xe9\" href=\"/s/n\">x</a>".to_vec()),
            // Shift_JIS: "ソ" is 0x83 0x5C, whose second byte is '\'
            "sjis" => ("Shift_JIS", b"<p>\x83\x5c</p><a title=\"\x83\x5c\" href=\"/s/n\">x</a><form method=post>\x82\xa0</form>".to_vec()),
            _ => ("utf-16le", "<a href=\"/s/n\">x</a>".encode_utf16().flat_map(u16::to_le_bytes).collect()),
        };
        page(200, &format!("text/html; charset={label}"), bytes)
    }

    /// A page whose `Content-Type` names no charset; `<meta>` in it may name one.
    pub fn undeclared(s: &Session, name: &str) -> Page {
        s.insert("seen", true).unwrap();
        let body: &'static [u8] = match name {
            // Decoded as ISO-2022-JP, "/ESC(J/other.example/x" is "//other.example/x".
            "2022" | "2022-streamed" => {
                b"<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/other.example/x\">x</a><form method=post></form>"
            }
            "sjis" | "sjis-streamed" | "xhtml" => {
                b"<meta charset=shift_jis><p>\x83\x5c</p><a href=\"/s/n\">x</a>"
            }
            _ => b"<a href=\"/s/n\">x</a>",
        };
        let essence = if name == "xhtml" {
            "application/xhtml+xml"
        } else {
            "text/html"
        };
        let mut res = page(200, essence, body);
        res.streamed = name.ends_with("streamed");
        res
    }
}

pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Frameworks/1.0";
pub const PEER: &str = "203.0.113.7:5000";

/// The page `/start` serves: a form that posts to this site, a link to this site and one to
/// another host.
const START_PAGE: &str = r#"<!doctype html><html><head><title>start</title></head><body>
<form method="post" action="/answer"><input name="answer"></form>
<a id="here" href="/read">read</a> <a id="away" href="https://other.example/x">away</a>
</body></html>"#;

/// The handlers' logic, written once against `Session`.
mod logic {
    use super::*;

    pub fn count(s: &Session) -> String {
        let n: u32 = s.get("n").unwrap().unwrap_or(0) + 1;
        s.insert("n", n).unwrap();
        n.to_string()
    }

    pub fn start(s: &Session) -> &'static str {
        s.insert("step", 1).unwrap();
        START_PAGE
    }

    pub fn answer(s: &Session, form: &HashMap<String, String>) -> String {
        let why = format!("{:?}", s.why_new());
        if let Some(answer) = form.get("answer") {
            s.insert("answer", answer).unwrap();
        }
        why
    }

    pub fn read(s: &Session) -> String {
        let answer: String = s.get("answer").unwrap().unwrap_or_default();
        format!("{:?}|{answer}", s.why_new())
    }

    /// The entries as `k=v;k=v`, sorted, values as stored (JSON).
    pub fn render(s: &Session) -> String {
        let entries: std::collections::BTreeMap<_, _> = s.entries().into_iter().collect();
        entries
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    pub fn write(s: &Session, name: String, value: String) -> String {
        s.insert(name, value).unwrap();
        render(s)
    }

    /// Stores every form field except the token, as a multipage form would.
    pub fn form(s: &Session, form: HashMap<String, String>) -> String {
        for (name, value) in form {
            if name != "sessionid" {
                s.insert(name, value).unwrap();
            }
        }
        render(s)
    }

    pub fn transport(s: &Session) -> String {
        format!("{:?}", s.transport())
    }

    pub fn purge(s: &Session) -> String {
        s.purge();
        render(s)
    }

    pub fn renew(s: &Session) -> String {
        s.renew();
        render(s)
    }

    /// Writes an entry; the handler also sets a cookie, which the middleware must drop.
    pub fn cookie(s: &Session) -> String {
        s.insert("c", 1).unwrap();
        render(s)
    }
}

/// The app behind the actix middleware.
pub mod with_actix {
    use actix_cookieless::CookielessSession;
    use actix_web::{
        App as ActixApp, HttpResponse,
        body::MessageBody,
        dev::{Service, ServiceResponse},
        test, web,
    };

    use super::*;

    pub struct Actix<S>(S);

    pub async fn app<St: SessionStore>(store: St, settings: Settings) -> impl App {
        timed(store, settings, Clock::system()).await
    }

    pub async fn timed<St: SessionStore>(store: St, settings: Settings, clock: Clock) -> impl App {
        let cookieless = CookielessSession::builder(store, settings)
            .clock(clock)
            .build()
            .unwrap();
        let html = |page: &'static str| {
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page)
        };
        Actix(
            test::init_service(
                ActixApp::new()
                    .wrap(cookieless)
                    .route(
                        "/count",
                        web::post().to(|s: Session| async move { logic::count(&s) }),
                    )
                    .route(
                        "/start",
                        web::get().to(move |s: Session| async move { html(logic::start(&s)) }),
                    )
                    .route(
                        "/answer",
                        web::post().to(
                            |s: Session, form: web::Form<HashMap<String, String>>| async move {
                                logic::answer(&s, &form)
                            },
                        ),
                    )
                    .route(
                        "/read",
                        web::get().to(|s: Session| async move { logic::read(&s) }),
                    )
                    .configure(session_routes),
            )
            .await,
        )
    }

    fn respond(page: Page) -> HttpResponse {
        let mut res =
            HttpResponse::build(actix_web::http::StatusCode::from_u16(page.status).unwrap());
        let chunks = page.streamed.then(|| page.chunks());
        for (name, value) in page.headers {
            res.append_header((name, value));
        }
        if let Some(chunks) = chunks {
            let chunks = chunks.into_iter().map(Ok::<_, actix_web::Error>);
            return res.streaming(futures_util::stream::iter(chunks));
        }
        res.body(page.body)
    }

    /// The session suite's routes under `/s`.
    fn session_routes(cfg: &mut web::ServiceConfig) {
        let rewrite = |s: Session, req: actix_web::HttpRequest| async move {
            respond(pages::rewrite(&s, req.query_string()))
        };
        cfg.route("/s/page", web::to(rewrite))
            .route("/s/admin/page", web::to(rewrite))
            .route("/s/lazy", web::to(|| async { respond(pages::lazy()) }))
            .route(
                "/s/charset/{name}",
                web::get().to(|s: Session, name: web::Path<String>| async move {
                    respond(pages::charset(&s, &name))
                }),
            )
            .route(
                "/s/undeclared/{name}",
                web::get().to(|s: Session, name: web::Path<String>| async move {
                    respond(pages::undeclared(&s, &name))
                }),
            );
        cfg.route(
            "/s/write/{name}/{value}",
            web::to(|s: Session, path: web::Path<(String, String)>| async move {
                let (name, value) = path.into_inner();
                logic::write(&s, name, value)
            }),
        )
        .route(
            "/s/read",
            web::to(|s: Session| async move { logic::render(&s) }),
        )
        .route(
            "/s/form",
            web::post().to(
                |s: Session, form: web::Form<HashMap<String, String>>| async move {
                    logic::form(&s, form.into_inner())
                },
            ),
        )
        .route(
            "/s/transport",
            web::to(|s: Session| async move { logic::transport(&s) }),
        )
        .route(
            "/s/purge",
            web::to(|s: Session| async move { logic::purge(&s) }),
        )
        .route(
            "/s/renew",
            web::to(|s: Session| async move { logic::renew(&s) }),
        )
        .route(
            "/s/cookie",
            web::to(|s: Session| async move {
                HttpResponse::Ok()
                    .cookie(actix_web::cookie::Cookie::new("tracker", "1"))
                    .body(logic::cookie(&s))
            }),
        );
    }

    impl<S, B> App for Actix<S>
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        async fn send(&self, req: Req) -> Res {
            let mut test = test::TestRequest::default()
                .method(req.method.parse().unwrap())
                .uri(&req.uri)
                .peer_addr(req.peer.parse().unwrap())
                .set_payload(req.body);
            for (name, value) in req.headers {
                test = test.insert_header((name, value));
            }
            let res = test::call_service(&self.0, test.to_request()).await;
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            let bytes = test::read_body(res).await.to_vec();
            Res {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                bytes,
            }
        }
    }
}

/// The app behind the tower layer, as an axum router.
#[cfg(feature = "tower")]
pub mod with_axum {
    use ::axum::{
        Form, Router,
        body::Body,
        extract::Path as UrlPath,
        response::Html,
        routing::{any, get, post},
    };
    use actix_cookieless::tower::CookielessLayer;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    pub struct Axum(Router);

    impl Axum {
        pub fn new(router: Router) -> Self {
            Self(router)
        }
    }

    pub async fn app<St: SessionStore>(store: St, settings: Settings) -> impl App {
        timed(store, settings, Clock::system()).await
    }

    pub async fn timed<St: SessionStore>(store: St, settings: Settings, clock: Clock) -> impl App {
        let layer = CookielessLayer::builder(store, settings)
            .clock(clock)
            .build()
            .unwrap();
        Axum(
            Router::new()
                .route("/count", post(|s: Session| async move { logic::count(&s) }))
                .route(
                    "/start",
                    get(|s: Session| async move { Html(logic::start(&s)) }),
                )
                .route(
                    "/answer",
                    post(
                        |s: Session, Form(form): Form<HashMap<String, String>>| async move {
                            logic::answer(&s, &form)
                        },
                    ),
                )
                .route("/read", get(|s: Session| async move { logic::read(&s) }))
                .merge(session_routes())
                .layer(layer),
        )
    }

    fn respond(page: Page) -> ::axum::response::Response {
        let mut builder = http::Response::builder().status(page.status);
        let chunks = page.streamed.then(|| page.chunks());
        for (name, value) in page.headers {
            builder = builder.header(name, value);
        }
        let body = if let Some(chunks) = chunks {
            let chunks = chunks.into_iter().map(Ok::<_, std::convert::Infallible>);
            Body::from_stream(futures_util::stream::iter(chunks))
        } else {
            Body::from(page.body)
        };
        builder.body(body).unwrap()
    }

    /// The session suite's routes under `/s`.
    fn session_routes() -> Router {
        let rewrite = |s: Session, uri: http::Uri| async move {
            respond(pages::rewrite(&s, uri.query().unwrap_or("")))
        };
        Router::new()
            .route("/s/page", any(rewrite))
            .route("/s/admin/page", any(rewrite))
            .route("/s/lazy", any(|| async { respond(pages::lazy()) }))
            .route(
                "/s/charset/{name}",
                get(|s: Session, UrlPath(name): UrlPath<String>| async move {
                    respond(pages::charset(&s, &name))
                }),
            )
            .route(
                "/s/undeclared/{name}",
                get(|s: Session, UrlPath(name): UrlPath<String>| async move {
                    respond(pages::undeclared(&s, &name))
                }),
            )
            .route(
                "/s/write/{name}/{value}",
                any(
                    |s: Session, UrlPath((name, value)): UrlPath<(String, String)>| async move {
                        logic::write(&s, name, value)
                    },
                ),
            )
            .route(
                "/s/read",
                any(|s: Session| async move { logic::render(&s) }),
            )
            .route(
                "/s/form",
                post(
                    |s: Session, Form(form): Form<HashMap<String, String>>| async move {
                        logic::form(&s, form)
                    },
                ),
            )
            .route(
                "/s/transport",
                any(|s: Session| async move { logic::transport(&s) }),
            )
            .route(
                "/s/purge",
                any(|s: Session| async move { logic::purge(&s) }),
            )
            .route(
                "/s/renew",
                any(|s: Session| async move { logic::renew(&s) }),
            )
            .route(
                "/s/cookie",
                any(|s: Session| async move {
                    (
                        [(::axum::http::header::SET_COOKIE, "tracker=1")],
                        logic::cookie(&s),
                    )
                }),
            )
    }

    impl App for Axum {
        async fn send(&self, req: Req) -> Res {
            let mut builder = http::Request::builder().method(req.method).uri(&req.uri);
            for (name, value) in req.headers {
                builder = builder.header(name, value);
            }
            let mut request = builder.body(Body::from(req.body)).unwrap();
            request
                .extensions_mut()
                .insert(req.peer.parse::<std::net::SocketAddr>().unwrap());
            let res = self.0.clone().oneshot(request).await.unwrap();
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            Res {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                bytes: body.to_vec(),
            }
        }
    }
}
