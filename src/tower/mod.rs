//! Cookieless sessions for axum and any tower stack (feature `tower`): a [`CookielessLayer`] on
//! the same engine as the actix middleware, and [`Session`](crate::Session) as an axum
//! extractor. No actix in its dependency tree.
//!
//! ```
//! use actix_cookieless::{MemoryStore, Session, SessionError, Settings, tower::CookielessLayer};
//! use axum::{Router, routing::post};
//!
//! async fn count(session: Session) -> Result<String, SessionError> {
//!     let n: u32 = session.get("n").ok().flatten().unwrap_or(0) + 1;
//!     session.insert("n", n).ok();
//!     Ok(n.to_string())
//! }
//!
//! let settings = Settings::new("a secret of at least thirty-two bytes!!");
//! let layer = CookielessLayer::builder(MemoryStore::default(), settings).build().unwrap();
//! let app: Router = Router::new().route("/count", post(count)).layer(layer);
//! # let _ = app;
//! ```
//!
//! It does what the actix middleware does: finds the token (header, form body, query
//! string), opens it for this client, loads the session, and after the handler stores what it
//! did, answers with the token (header, forms, and with `use_get` links and `Location`) and
//! the same `Cache-Control`, `Referrer-Policy` and cookie rules. A response body of a known
//! length up to 1 MiB (a `String` or `Bytes` handler's) is read whole and rewritten at once,
//! through the rewrite cache, as actix's are; longer and streamed bodies are rewritten as they
//! stream.
//!
//! # The client's address
//!
//! Tokens are bound to the client's IP prefix. tower has no standard place for the peer
//! address: by default the layer reads a [`SocketAddr`](std::net::SocketAddr) from the
//! request's extensions. With axum, serve with `into_make_service_with_connect_info` and tell
//! the layer where axum puts it:
//!
//! ```
//! # use actix_cookieless::{MemoryStore, Settings, tower::CookielessLayer};
//! use axum::extract::ConnectInfo;
//! use std::net::SocketAddr;
//!
//! # let settings = Settings::new("a secret of at least thirty-two bytes!!");
//! let layer = CookielessLayer::builder(MemoryStore::default(), settings)
//!     .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
//!     .build()
//!     .unwrap();
//! # let _ = layer;
//! ```
//!
//! Without an address, tokens are bound to the User-Agent only, `trusted_proxies` cannot
//! apply (no peer to trust), and every client shares one new-session budget.

mod body;
mod error;
mod extract;
mod headers;
mod respond;
mod service;

use std::{net::IpAddr, sync::Arc};

pub use body::{BoxError, RequestBody, ResponseBody};
pub use service::CookielessService;

use crate::{
    Clock,
    engine::{Engine, SessionEvent},
    settings::{Settings, SettingsError},
    store::SessionStore,
};

/// Where the layer finds the client's address in a request's extensions.
type PeerFn = dyn Fn(&http::Extensions) -> Option<IpAddr> + Send + Sync;

/// The callback of [`CookielessLayerBuilder::on_session_event`].
type EventFn = dyn Fn(&http::request::Parts, SessionEvent) + Send + Sync;

/// The cookieless session layer for tower and axum. Build it once with
/// [`builder`](Self::builder) and add it with `Router::layer`; clones share the store.
pub struct CookielessLayer<St> {
    engine: Arc<Engine<St>>,
    peer: Arc<PeerFn>,
    on_event: Option<Arc<EventFn>>,
}

impl<St> Clone for CookielessLayer<St> {
    fn clone(&self) -> Self {
        Self {
            engine: Arc::clone(&self.engine),
            peer: Arc::clone(&self.peer),
            on_event: self.on_event.clone(),
        }
    }
}

impl<St> std::fmt::Debug for CookielessLayer<St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessLayer")
            .field("settings", &self.engine.settings)
            .finish_non_exhaustive()
    }
}

impl<St: SessionStore> CookielessLayer<St> {
    /// Starts a builder with the session store and the settings.
    pub fn builder(store: St, settings: Settings) -> CookielessLayerBuilder<St> {
        CookielessLayerBuilder {
            store,
            settings,
            peer: Arc::new(|ext: &http::Extensions| {
                ext.get::<std::net::SocketAddr>()
                    .map(std::net::SocketAddr::ip)
            }),
            on_event: None,
            clock: Clock::system(),
        }
    }
}

impl<S, St> tower_layer::Layer<S> for CookielessLayer<St> {
    type Service = CookielessService<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        CookielessService {
            inner,
            engine: Arc::clone(&self.engine),
            peer: Arc::clone(&self.peer),
            on_event: self.on_event.clone(),
        }
    }
}

/// Builds a [`CookielessLayer`]; [`build`](Self::build) checks the settings.
#[must_use = "call .build() to get the layer"]
pub struct CookielessLayerBuilder<St> {
    store: St,
    settings: Settings,
    peer: Arc<PeerFn>,
    on_event: Option<Arc<EventFn>>,
    clock: Clock,
}

impl<St> std::fmt::Debug for CookielessLayerBuilder<St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessLayerBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<St: SessionStore> CookielessLayerBuilder<St> {
    /// Replaces the settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Where the client's address is in a request's extensions (see the module docs for
    /// axum's `ConnectInfo`). The default reads a `SocketAddr`.
    pub fn peer_addr<F>(mut self, peer: F) -> Self
    where
        F: Fn(&http::Extensions) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Arc::new(peer);
        self
    }

    /// Calls `hook` once the store has recorded what a request did to its session: created,
    /// updated, renewed or purged (as the actix middleware's `on_session_event`). It gets the
    /// request's head; keep it short (log, count, queue).
    pub fn on_session_event<F>(mut self, hook: F) -> Self
    where
        F: Fn(&http::request::Parts, SessionEvent) + Send + Sync + 'static,
    {
        self.on_event = Some(Arc::new(hook));
        self
    }

    /// Tells the time by `clock` (token and session ages), as the actix middleware's
    /// [`clock`](crate::CookielessSessionBuilder::clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Validates the settings and builds the layer.
    ///
    /// Fails, naming the setting, when a setting is missing or wrong: call this at start-up.
    pub fn build(self) -> Result<CookielessLayer<St>, SettingsError> {
        let settings = self.settings.validate()?;
        Ok(CookielessLayer {
            engine: Arc::new(Engine::new(self.store, settings, self.clock)),
            peer: self.peer,
            on_event: self.on_event,
        })
    }
}
