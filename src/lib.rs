//! Server-side sessions for actix-web (and, with the `tower` feature, axum and any tower stack)
//! **without cookies**.
//!
//! Browsers block third-party cookies (apps in iframes, embedded widgets, checkout and survey
//! forms), privacy law makes cookies a consent question, and some clients refuse them. This
//! crate keeps a server-side session anyway, carried by a *token*:
//!
//! - in the `X-Session-ID` request header (scripts and APIs; the response carries a fresh one),
//! - in a hidden form field of a POST body (forms),
//! - or in a query parameter on links (only with `use_get`).
//!
//! # The token
//!
//! A token is the session's store key sealed with AES-256-GCM under a key derived with
//! HKDF-SHA256 from the server secret, the client IP and the User-Agent, with its issue time
//! inside. A token that is forged, tampered with, expired, or replayed from another client opens
//! nothing: that request simply gets a fresh, empty session. Never an error page.
//! See [`token`] for the format.
//!
//! # Sessions
//!
//! The [`Session`] extractor feels like actix-session's: `get`, `insert`, `remove`, `clear`,
//! `purge`, `renew`. Sessions are lazy: a request that writes nothing stores nothing and gets
//! no token, so crawlers and one-page visitors cost nothing. Data lives in a
//! [`SessionStore`](store::SessionStore): the bounded [`MemoryStore`] by default,
//! `store::RedisStore` (feature `redis`) for many instances, or any actix-session store through
//! `store::ActixSessionStore`.
//!
//! # Quick start
//!
//! ```
//! use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
//! use actix_web::{App, HttpResponse, test, web};
//!
//! async fn count(session: Session) -> actix_web::Result<HttpResponse> {
//!     let n: u32 = session.get("n")?.unwrap_or(0) + 1;
//!     session.insert("n", n)?;
//!     Ok(HttpResponse::Ok().body(n.to_string()))
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let settings = Settings::new("a secret of at least thirty-two bytes!!");
//! let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build().unwrap();
//! let app = test::init_service(
//!     App::new().service(web::scope("/api").wrap(cookieless).route("/count", web::post().to(count))),
//! )
//! .await;
//!
//! // The first call starts a session and answers with its token in a header...
//! let res = test::call_service(&app, test::TestRequest::post().uri("/api/count").to_request()).await;
//! let token = res.headers().get("x-session-id").unwrap().clone();
//! assert_eq!(test::read_body(res).await, "1");
//!
//! // ...which the client sends back.
//! let req = test::TestRequest::post().uri("/api/count").insert_header(("x-session-id", token)).to_request();
//! assert_eq!(test::read_body(test::call_service(&app, req).await).await, "2");
//! # });
//! ```
//!
//! # Responses
//!
//! Every response that carries a token also carries `Cache-Control: private, no-store` (a shared
//! cache must never hand one visitor's token to another) and a `Referrer-Policy` that keeps
//! token-bearing URLs on this site. `Set-Cookie` headers set inside the wrapped scope are removed.
//! A store that fails gives `503 Service Unavailable` with an opaque body, the cause in the log.
//!
//! # HTML rewriting
//!
//! With `rewrite` on (the default), HTML responses of a session with a token stream through
//! `lol_html`: POST forms get a hidden input as their first child, and with `use_get`, GET forms,
//! links, frames, refreshes and `Location` headers that stay on this site get the token as a
//! query parameter. Other hosts never get it; scripts, styles and comments are never touched.
//! Put `Compress` outside (wrap it last) so it compresses the rewritten page. See [`rewrite`].
//! With `rewrite` off, templates place the token with [`Session::token`].
//!
//! # axum and tower
//!
//! With the `tower` feature, `tower::CookielessLayer` runs the same engine for axum and any
//! tower stack, and [`Session`] is an axum extractor; `default-features = false` leaves actix
//! out. See the `tower` module.
//!
//! # Cross-site requests
//!
//! A session carried by the header ([`Transport::Header`]) cannot be used by another site: a
//! browser sends a custom header cross-site only after a CORS preflight that this site would
//! have to allow. Such requests need no CSRF token, as with django-session-header.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs, rust_2018_idioms, unreachable_pub)]
#![warn(missing_debug_implementations)]
// Without any framework's glue (neither `actix` nor `tower`) the engine's steps have no caller:
// that build only proves the core needs no framework, and CI checks it.
#![cfg_attr(
    not(any(feature = "actix", feature = "tower")),
    allow(dead_code, unused_imports)
)]

mod budget;
mod client;
mod client_script;
mod clock;
mod cookies;
mod engine;
mod form;
mod headers;
#[cfg(feature = "actix")]
mod middleware;
mod net;
#[cfg(feature = "proxy")]
#[cfg_attr(docsrs, doc(cfg(feature = "proxy")))]
pub mod proxy;
pub mod rewrite;
mod session;
mod session_cookie;
pub mod settings;
mod site;
pub mod store;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use middleware::testing;
pub mod token;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
mod transport;
mod url_param;

pub use clock::Clock;
pub use engine::SessionEvent;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use middleware::CookielessSessionService;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use middleware::SessionExt;
#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use middleware::{CookielessSession, CookielessSessionBuilder};
pub use session::{
    Session, SessionError, SessionGetError, SessionInsertError, SessionStatus, SessionToken,
    SessionUpdateError, WhyNew,
};
pub use settings::{Settings, SettingsError, ValidSettings};
pub use store::MemoryStore;
pub use transport::Transport;
