//! The `CookielessSession` middleware for actix-web: glue between actix's request and response
//! types and the framework-neutral [`engine`](crate::engine). `service` runs a request through
//! it, `issuer` lends handlers the request's sealer, `respond` writes the token into the
//! response.

mod body;
mod error;
mod extract;
mod find;
mod request;
mod respond;
mod service;
pub mod testing;

use std::{rc::Rc, sync::Arc};

use crate::store::SessionStore;
use actix_web::{
    Error, HttpRequest,
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, Transform},
};

pub use body::RewriteBody;
pub use extract::SessionExt;
pub(crate) use request::request_origin;
pub(crate) use respond::answered;
pub use service::CookielessSessionService;

use crate::{
    Clock,
    engine::{Engine, SessionEvent},
    settings::{Settings, SettingsError},
};

/// The cookieless session middleware. Wrap an `App`, a `scope` or a `resource` with it.
///
/// Build it once, with the store every worker shares, and clone it into the app factory.
///
/// ```no_run
/// use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
/// use actix_web::{App, HttpServer, web};
///
/// async fn step(session: Session) -> actix_web::Result<String> {
///     let n: u32 = session.get("n")?.unwrap_or(0);
///     session.insert("n", n + 1)?;
///     Ok(format!("step {}", n + 1))
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let settings = Settings::load()?; // cookieless.toml + COOKIELESS_* variables
///     let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build()?;
///     HttpServer::new(move || {
///         App::new().service(
///             web::scope("/survey")
///                 .wrap(cookieless.clone())
///                 .route("/{step}", web::to(step)),
///         )
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
///     Ok(())
/// }
/// ```
pub struct CookielessSession<S> {
    engine: Arc<Engine<S>>,
    on_event: Option<EventHook>,
}

impl<S> Clone for CookielessSession<S> {
    fn clone(&self) -> Self {
        Self {
            engine: Arc::clone(&self.engine),
            on_event: self.on_event.clone(),
        }
    }
}

impl<S> std::fmt::Debug for CookielessSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessSession")
            .field("settings", &self.engine.settings)
            .finish_non_exhaustive()
    }
}

/// The callback of [`CookielessSessionBuilder::on_session_event`].
pub(crate) type EventHook = Arc<EventFn>;

/// The hook itself, as a handler of [`SessionEvent`]s sees it.
pub(crate) type EventFn = dyn Fn(&HttpRequest, SessionEvent) + Send + Sync;

impl<S: SessionStore> CookielessSession<S> {
    /// Starts a builder with the session store and the settings.
    pub fn builder(store: S, settings: Settings) -> CookielessSessionBuilder<S> {
        CookielessSessionBuilder {
            store,
            settings,
            on_event: None,
            clock: Clock::system(),
        }
    }
}

/// Builds a [`CookielessSession`]; [`build`](Self::build) checks the settings.
#[must_use = "call .build() to get the middleware"]
pub struct CookielessSessionBuilder<S> {
    store: S,
    settings: Settings,
    on_event: Option<EventHook>,
    clock: Clock,
}

impl<S> std::fmt::Debug for CookielessSessionBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessSessionBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S: SessionStore> CookielessSessionBuilder<S> {
    /// Replaces the settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Calls `hook` once the store has recorded what a request did to its session: created,
    /// updated, renewed or purged. Requests that leave their session unchanged (or write
    /// nothing, and so create nothing) call nothing. The hook runs on the request's worker,
    /// before the response is sent: keep it short (log, count, queue).
    ///
    /// ```
    /// use actix_cookieless::{CookielessSession, MemoryStore, SessionEvent, Settings};
    ///
    /// let cookieless = CookielessSession::builder(MemoryStore::default(), Settings::new("a secret of at least thirty-two bytes!"))
    ///     .on_session_event(|req, event| {
    ///         if event == SessionEvent::Created {
    ///             tracing::info!(path = req.path(), "new anonymous session");
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(cookieless);
    /// ```
    pub fn on_session_event<F>(mut self, hook: F) -> Self
    where
        F: Fn(&HttpRequest, SessionEvent) + Send + Sync + 'static,
    {
        self.on_event = Some(Arc::new(hook));
        self
    }

    /// Tells the time by `clock` (token and session ages): [`Clock::manual`] lets a test move
    /// time instead of sleeping. The default is the system clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Validates the settings and builds the middleware.
    ///
    /// Fails, naming the setting, when a setting is missing or wrong: call this at start-up.
    pub fn build(self) -> Result<CookielessSession<S>, SettingsError> {
        let settings = self.settings.validate()?;
        Ok(CookielessSession {
            engine: Arc::new(Engine::new(self.store, settings, self.clock)),
            on_event: self.on_event,
        })
    }
}

impl<S, B, St> Transform<S, ServiceRequest> for CookielessSession<St>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    St: SessionStore,
{
    type Response = ServiceResponse<EitherBody<RewriteBody<B>>>;
    type Error = Error;
    type Transform = CookielessSessionService<S, St>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(CookielessSessionService {
            service: Rc::new(service),
            engine: Arc::clone(&self.engine),
            on_event: self.on_event.clone(),
        }))
    }
}
