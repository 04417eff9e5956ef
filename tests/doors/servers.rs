//! The three doors, each a real server on loopback serving the same routes: the actix
//! middleware, the tower layer (an axum router) and `cookieless-proxy` in front of a cookie app
//! (an actix app without the crate, whose session is a cookie the proxy keeps in its jar).
//!
//! Routes, alike on every door:
//! - `GET /d/start`: starts a session (a session entry, or the app's `started=1` cookie) and
//!   answers [`PAGE`];
//! - `GET|HEAD /d/page`: [`PAGE`], touching nothing;
//! - `/d/whoami` (any method): `started=1` when the request's session is the started one;
//! - `POST /d/redirect`: `303` to `/d/page?from=post` (a handler's `see_other`; the app's
//!   plain redirect through the proxy);
//! - `GET /d/away`: `302` to another site;
//! - `GET /d/streamed`: [`STREAMED_PAGE`] in two chunks and no length (rewritten as a stream).

use std::{net::SocketAddr, sync::mpsc, thread};

use actix_cookieless::{Settings, store::SessionStore};

/// The page every door serves: a form, links to this site (relative and absolute), links to
/// other sites (one of them the host a forged forwarding header names), and what would send the
/// page's own URL elsewhere (a ping, a weak referrer policy).
pub const PAGE: &str = r#"<!doctype html><html><head><title>door</title></head><body>
<form method="post" action="/d/whoami"><input name="a"></form>
<a id="who" href="/d/whoami">who</a> <a id="abs" href="http://site.example/d/page">abs</a>
<a id="spoofed" href="https://evil.example/x">evil</a> <a id="away" href="https://other.example/">away</a>
<a id="pinging" href="/d/page" ping="https://other.example/ping">pinging</a>
<img id="img" src="https://other.example/i.png" referrerpolicy="unsafe-url">
</body></html>"#;

/// A page a browser builds the button into the form after `</form>` (the `<b>` the input makes
/// again inside the form stays open), served in two chunks, cut at [`STREAMED_CUT`]: a stream,
/// which the rewriter cannot read ahead.
pub const STREAMED_PAGE: &str = r#"<!doctype html><html><body><form method="post" action="/d/whoami"><p><b>y</p><input name="a"></form><button id="go" formaction="https://other.example/steal">go</button></body></html>"#;
pub const STREAMED_CUT: usize = 90;

/// [`STREAMED_PAGE`]'s two chunks, as a body stream.
fn streamed_chunks()
-> futures_util::stream::Iter<std::array::IntoIter<Result<bytes::Bytes, std::io::Error>, 2>> {
    let (first, second) = STREAMED_PAGE.split_at(STREAMED_CUT);
    futures_util::stream::iter([
        Ok(bytes::Bytes::from_static(first.as_bytes())),
        Ok(bytes::Bytes::from_static(second.as_bytes())),
    ])
}

/// [`STREAMED_PAGE`] as an actix response of unknown length.
fn streamed() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .streaming(streamed_chunks())
}

/// Which door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Actix,
    #[cfg(feature = "tower")]
    Axum,
    #[cfg(feature = "proxy")]
    Proxy,
}

/// Starts `kind`'s server with `store` and `settings`; its address.
pub fn start<St: SessionStore + Clone>(kind: Kind, store: St, settings: Settings) -> SocketAddr {
    match kind {
        Kind::Actix => in_thread(move || actix_door::serve(store, settings)),
        #[cfg(feature = "tower")]
        Kind::Axum => axum_door::serve(store, settings),
        #[cfg(feature = "proxy")]
        Kind::Proxy => {
            let upstream = in_thread(cookie_app::serve);
            in_thread(move || proxy_door::serve(upstream, store, settings))
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("{kind:?} needs its feature"),
    }
}

/// Runs the actix server `serve` binds, in a system of its own thread; its address.
fn in_thread<F>(serve: F) -> SocketAddr
where
    F: FnOnce() -> (actix_web::dev::Server, SocketAddr) + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let (server, addr) = serve();
            tx.send(addr).unwrap();
            server.await
        })
    });
    rx.recv().expect("the server started")
}

/// Binds an `HttpServer` (one worker) on a free loopback port: the server and its address.
macro_rules! bind {
    ($server:expr) => {{
        let server = $server
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("a loopback port");
        let addr = server.addrs()[0];
        (server.run(), addr)
    }};
}

mod actix_door {
    use actix_cookieless::{CookielessSession, Session, Settings, store::SessionStore};
    use std::net::SocketAddr;

    use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};

    use super::PAGE;

    pub fn serve<St: SessionStore + Clone>(store: St, settings: Settings) -> (Server, SocketAddr) {
        let cookieless = CookielessSession::builder(store, settings)
            .build()
            .expect("valid settings");
        bind!(HttpServer::new(move || {
            App::new()
                .wrap(cookieless.clone())
                .route(
                    "/d/start",
                    web::get().to(|s: Session| async move {
                        s.insert("started", 1).unwrap();
                        html()
                    }),
                )
                .route("/d/page", web::to(|| async { html() }))
                .route(
                    "/d/whoami",
                    web::to(|s: Session| async move {
                        let started = s.get::<u32>("started").unwrap() == Some(1);
                        if started { "started=1" } else { "" }
                    }),
                )
                .route(
                    "/d/redirect",
                    web::post()
                        .to(|s: Session| async move { s.see_other("/d/page?from=post").await }),
                )
                .route("/d/away", web::get().to(|| async { away() }))
                .route("/d/streamed", web::get().to(|| async { super::streamed() }))
        }))
    }

    fn html() -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(PAGE)
    }

    fn away() -> HttpResponse {
        HttpResponse::Found()
            .insert_header(("location", "https://other.example/x"))
            .finish()
    }
}

#[cfg(feature = "tower")]
mod axum_door {
    use std::net::SocketAddr;

    use actix_cookieless::{
        Session, SessionError, Settings, store::SessionStore, tower::CookielessLayer,
    };
    use axum::{
        Router,
        extract::ConnectInfo,
        http::StatusCode,
        response::{Html, IntoResponse, Redirect},
        routing::{any, get, post},
    };

    use super::PAGE;

    pub fn serve<St: SessionStore + Clone>(store: St, settings: Settings) -> SocketAddr {
        let layer = CookielessLayer::builder(store, settings)
            .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
            .build()
            .expect("valid settings");
        let app = Router::new()
            .route(
                "/d/start",
                get(|s: Session| async move {
                    s.insert("started", 1).unwrap();
                    Html(PAGE)
                }),
            )
            .route("/d/page", get(|| async { Html(PAGE) }))
            .route(
                "/d/whoami",
                any(|s: Session| async move {
                    let started = s.get::<u32>("started").unwrap() == Some(1);
                    if started { "started=1" } else { "" }
                }),
            )
            .route(
                "/d/redirect",
                post(|s: Session| async move {
                    Ok::<_, SessionError>(Redirect::to(
                        &s.redirect_location("/d/page?from=post").await?,
                    ))
                }),
            )
            .route(
                "/d/away",
                get(|| async {
                    (StatusCode::FOUND, [("location", "https://other.example/x")]).into_response()
                }),
            )
            .route(
                "/d/streamed",
                get(|| async {
                    (
                        [("content-type", "text/html; charset=utf-8")],
                        axum::body::Body::from_stream(super::streamed_chunks()),
                    )
                }),
            )
            .layer(layer);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(
                        listener,
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .await
                    .unwrap();
                });
        });
        addr
    }
}

/// The app behind the proxy: its session is the cookie `started=1`.
#[cfg(feature = "proxy")]
mod cookie_app {
    use std::net::SocketAddr;

    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::Server, web};

    use super::PAGE;

    pub fn serve() -> (Server, SocketAddr) {
        bind!(HttpServer::new(|| {
            App::new()
                .route(
                    "/d/start",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .insert_header(("set-cookie", "started=1; Path=/; HttpOnly"))
                            .content_type("text/html; charset=utf-8")
                            .body(PAGE)
                    }),
                )
                .route(
                    "/d/page",
                    web::to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(PAGE)
                    }),
                )
                .route(
                    "/d/whoami",
                    web::to(|req: HttpRequest| async move {
                        let cookie = req.headers().get("cookie");
                        let started = cookie.is_some_and(|c| c.as_bytes() == b"started=1");
                        if started { "started=1" } else { "" }
                    }),
                )
                .route(
                    "/d/redirect",
                    web::post().to(|| async {
                        HttpResponse::SeeOther()
                            .insert_header(("location", "/d/page?from=post"))
                            .finish()
                    }),
                )
                .route(
                    "/d/away",
                    web::get().to(|| async {
                        HttpResponse::Found()
                            .insert_header(("location", "https://other.example/x"))
                            .finish()
                    }),
                )
                .route("/d/streamed", web::get().to(|| async { super::streamed() }))
        }))
    }
}

#[cfg(feature = "proxy")]
mod proxy_door {
    use std::net::SocketAddr;

    use actix_cookieless::{
        CookielessSession, Settings,
        proxy::{Proxy, ProxySettings},
        store::SessionStore,
    };
    use actix_web::{App, HttpServer, dev::Server};

    pub fn serve<St: SessionStore + Clone>(
        upstream: SocketAddr,
        store: St,
        settings: Settings,
    ) -> (Server, SocketAddr) {
        let mut proxy_settings = ProxySettings::default();
        proxy_settings.upstream = format!("http://{upstream}");
        let proxy = Proxy::new(proxy_settings, &settings).expect("valid proxy settings");
        let cookieless = CookielessSession::builder(store, settings)
            .build()
            .expect("valid settings");
        bind!(HttpServer::new(move || {
            App::new()
                .configure(|cfg| proxy.configure(cfg))
                .wrap(cookieless.clone())
        }))
    }
}
