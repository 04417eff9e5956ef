//! The same app in both frameworks: the same routes and handler logic, behind the actix
//! middleware or the tower layer, reached through one plain request type.

use std::{collections::HashMap, future::Future, net::SocketAddr};

use actix_cookieless::{Session, Settings, store::SessionStore};

/// A request as a test writes it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: &'static str,
    pub uri: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Req {
    pub fn get(uri: impl Into<String>) -> Self {
        Self {
            method: "GET",
            uri: uri.into(),
            headers: vec![("user-agent", UA.to_owned())],
            body: String::new(),
        }
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
        let mut req = self.header("content-type", "application/x-www-form-urlencoded");
        req.body = body.into();
        req
    }
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
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
}

/// An app a test sends requests to.
pub trait App {
    fn send(&self, req: Req) -> impl Future<Output = Res>;
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
        let cookieless = CookielessSession::builder(store, settings).build().unwrap();
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
                    ),
            )
            .await,
        )
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
                .peer_addr(PEER.parse().unwrap())
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
            let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            Res {
                status,
                headers,
                body,
            }
        }
    }
}

/// The app behind the tower layer, as an axum router.
pub mod with_axum {
    use ::axum::{
        Form, Router,
        body::Body,
        response::Html,
        routing::{get, post},
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
        let layer = CookielessLayer::builder(store, settings).build().unwrap();
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
                .layer(layer),
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
                .insert(PEER.parse::<SocketAddr>().unwrap());
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
                body: String::from_utf8(body.to_vec()).unwrap(),
            }
        }
    }
}
