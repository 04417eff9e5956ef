//! The `CookielessSession` middleware: the request path (find, open, load) and the response
//! path (save, seal, headers).

use std::{collections::HashMap, future::Future, net::IpAddr, pin::Pin, rc::Rc, sync::Arc};

use actix_session::storage::{LoadError, SessionKey, SessionStore};
use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::{BodySize, EitherBody, MessageBody},
    cookie::time::Duration as TtlDuration,
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
};

use crate::{
    budget::SessionBudget,
    client, client_script, cookies,
    rewrite::{
        Charset, LinkPolicy, PathSealer, RewriteBody, RewriteCache, TokenRewriter, html_charset,
        rewritable, sniff_charset,
    },
    session::{
        Session, SessionError, SessionInner, SessionStatus, Stored, TokenIssuer, WhyNew,
        from_store_state, to_store_state,
    },
    settings::{Settings, SettingsError, ValidSettings, is_safe_referrer_policy},
    site::{self, Site},
    token::{ClientKey, Keyring, NotOpened, Opened, SealError, Sealer, now_secs},
    transport::{self, Transport},
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
    inner: Arc<Inner<S>>,
}

impl<S> Clone for CookielessSession<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> std::fmt::Debug for CookielessSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessSession")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The callback of [`CookielessSessionBuilder::on_session_event`].
type EventHook = Arc<dyn Fn(&HttpRequest, SessionEvent) + Send + Sync>;

struct Inner<S> {
    store: S,
    settings: ValidSettings,
    keyring: Keyring,
    ttl: TtlDuration,
    on_event: Option<EventHook>,
    /// Rewritten pages served again; `None` with `rewrite_cache_bytes = 0`.
    rewrites: Option<RewriteCache>,
    /// New sessions per client; `None` with `new_sessions_per_minute = 0`.
    budget: Option<SessionBudget>,
}

/// What a request did to its session, for [`CookielessSessionBuilder::on_session_event`]
/// (django-cookieless's `cookieless_signal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A new session was stored.
    Created,
    /// An existing session was changed and saved.
    Updated,
    /// An existing session moved to a new key ([`Session::renew`]).
    Renewed,
    /// An existing session was deleted ([`Session::purge`]).
    Purged,
}

impl<S: SessionStore + 'static> CookielessSession<S> {
    /// Starts a builder with the session store and the settings.
    pub fn builder(store: S, settings: Settings) -> CookielessSessionBuilder<S> {
        CookielessSessionBuilder {
            store,
            settings,
            on_event: None,
        }
    }
}

/// Builds a [`CookielessSession`]; [`build`](Self::build) checks the settings.
#[must_use = "call .build() to get the middleware"]
pub struct CookielessSessionBuilder<S> {
    store: S,
    settings: Settings,
    on_event: Option<EventHook>,
}

impl<S> std::fmt::Debug for CookielessSessionBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessSessionBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S: SessionStore + 'static> CookielessSessionBuilder<S> {
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

    /// Validates the settings and builds the middleware.
    ///
    /// Fails, naming the setting, when a setting is missing or wrong: call this at start-up.
    pub fn build(self) -> Result<CookielessSession<S>, SettingsError> {
        let settings = self.settings.validate()?;
        let previous: Vec<&[u8]> = settings
            .previous_secrets
            .iter()
            .map(|s| s.as_bytes())
            .collect();
        let keyring = Keyring::new(
            settings.secret.as_bytes(),
            &previous,
            settings.token_max_age,
        );
        let ttl = TtlDuration::try_from(settings.session_ttl).unwrap_or(TtlDuration::MAX);
        let rewrites = (settings.rewrite_cache_bytes > 0)
            .then(|| RewriteCache::new(settings.rewrite_cache_bytes));
        let budget = SessionBudget::per_minute(settings.new_sessions_per_minute);
        Ok(CookielessSession {
            inner: Arc::new(Inner {
                store: self.store,
                settings,
                keyring,
                ttl,
                on_event: self.on_event,
                rewrites,
                budget,
            }),
        })
    }
}

impl<S, B, St> Transform<S, ServiceRequest> for CookielessSession<St>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    St: SessionStore + 'static,
{
    type Response = ServiceResponse<EitherBody<RewriteBody<B>>>;
    type Error = Error;
    type Transform = CookielessSessionService<S, St>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(CookielessSessionService {
            service: Rc::new(service),
            inner: Arc::clone(&self.inner),
        }))
    }
}

/// The service [`CookielessSession`] wraps around the inner one.
#[doc(hidden)]
pub struct CookielessSessionService<S, St> {
    service: Rc<S>,
    inner: Arc<Inner<St>>,
}

impl<S, St> std::fmt::Debug for CookielessSessionService<S, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessSessionService")
            .finish_non_exhaustive()
    }
}

impl<S, B, St> Service<ServiceRequest> for CookielessSessionService<S, St>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    St: SessionStore + 'static,
{
    type Response = ServiceResponse<EitherBody<RewriteBody<B>>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { inner.handle(req, &*service).await })
    }
}

/// The store failed: the cause goes to the log, the client gets an opaque 503.
fn unavailable(what: &str, err: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %err, "actix-cookieless: session store failed to {what}");
    let mut res = opaque(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// A short plain-text answer that says nothing about the cause and is never cached.
fn opaque(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// A response body as the rewrite finds it: held whole by the handler, or streamed.
enum Page<B> {
    Whole(actix_web::web::Bytes),
    Streamed(B),
}

/// For an HTML response whose `Content-Type` names no charset: the encoding a browser would
/// sniff from the page held whole (byte order mark, then for `text/html` `<meta charset>` in
/// the first 1024 bytes), else UTF-8, declared in the header so that browser and rewriter read the page
/// alike (a header charset beats any later `<meta>`). `None`: an encoding lol_html cannot
/// parse (ISO-2022-JP, UTF-16), the page passes through without tokens.
fn declare_charset(
    head: &mut actix_web::dev::ResponseHead,
    whole: Option<&[u8]>,
) -> Option<&'static encoding_rs::Encoding> {
    let content_type = head.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    // XHTML is XML: a browser reads no `<meta>` for its encoding.
    let is_html = content_type
        .get(..9)
        .is_some_and(|essence| essence.eq_ignore_ascii_case("text/html"));
    let sniffed = match whole {
        Some(bytes) if is_html => sniff_charset(bytes),
        Some(bytes) => encoding_rs::Encoding::for_bom(bytes).map(|(encoding, _)| encoding),
        None => None,
    };
    let encoding = rewritable(sniffed.unwrap_or(encoding_rs::UTF_8))?;
    let declared = format!("{content_type}; charset={}", encoding.name());
    head.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_str(&declared).ok()?);
    Some(encoding)
}

/// What the store gave for a token's session key.
enum Loaded {
    Live(String, Stored),
    /// Nothing (readable, and created by this crate) under that key.
    Gone,
    /// There, but older than `session_max_lifetime`: deleted.
    TooOld,
}

/// Lends a handler the store and this client's sealing key, for [`Session::token`].
struct RequestIssuer<St> {
    inner: Arc<Inner<St>>,
    /// The client's key, derived once for the whole request.
    sealer: Sealer,
    /// Whose budget a new session comes from.
    client: Option<IpAddr>,
}

impl<St: SessionStore + 'static> TokenIssuer for RequestIssuer<St> {
    fn create<'a>(
        &'a self,
        state: HashMap<String, String>,
    ) -> Pin<Box<dyn Future<Output = Result<(String, u64), SessionError>> + 'a>> {
        Box::pin(async move {
            if self.inner.take_from_budget(self.client).is_err() {
                return Err(SessionError::TooManyNewSessions);
            }
            let created_at = now_secs();
            self.inner
                .store
                .save(to_store_state(state, created_at), &self.inner.ttl)
                .await
                .map(|key| (String::from(key), created_at))
                .map_err(|err| SessionError::Store(Box::new(err)))
        })
    }

    fn seal(&self, key: &str, path: Option<&str>) -> Result<String, SealError> {
        let path = path.filter(|_| self.inner.settings.url_specific);
        self.sealer.seal(key, path)
    }

    fn seal_redirect(&self, key: &str, path: &str) -> Result<String, SealError> {
        self.sealer.seal_redirect(key, path)
    }

    fn param_name(&self) -> &str {
        &self.inner.settings.param_name
    }
}

impl<St: SessionStore + 'static> Inner<St> {
    async fn handle<S, B>(
        self: Arc<Self>,
        mut req: ServiceRequest,
        service: &S,
    ) -> Result<ServiceResponse<EitherBody<RewriteBody<B>>>, Error>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
        B: MessageBody,
    {
        let settings = &self.settings;
        if settings.client_script
            && matches!(*req.method(), Method::GET | Method::HEAD)
            && req.path() == settings.client_script_path
        {
            return Ok(req
                .into_response(client_script::response())
                .map_into_right_body());
        }
        let peer = req.peer_addr().map(|a| a.ip());
        // The client, cut to the prefix: what the token is bound to, and whose budget a new
        // session comes from.
        let budget_client = client::client_prefix(peer, req.headers(), settings);
        let binding = client::binding(budget_client, req.headers(), settings);
        let client_key = self.keyring.client(&binding);

        let mut session = SessionInner::fresh(WhyNew::NoToken);
        let mut found = transport::find(&mut req, settings).await;
        // Safe methods change nothing: only unsafe ones with a token are judged.
        if found.is_some() && !req.method().is_safe() {
            let (_, host) = client::request_origin(req.request(), &settings.trusted_proxies);
            if let Site::Cross(signal) =
                site::judge(req.method(), req.headers(), &host, &settings.hosts)
            {
                if settings.reject_cross_site {
                    tracing::info!(signal, "cross-site request with a session token refused");
                    return Ok(req
                        .into_response(opaque(StatusCode::FORBIDDEN, "Forbidden"))
                        .map_into_right_body());
                }
                tracing::debug!(signal, "cross-site request: its session token is ignored");
                found = None;
                session = SessionInner::fresh(WhyNew::CrossSite);
            }
        }
        if let Some((transport, token)) = found {
            let (opened, transport) = self.open(&client_key, transport, &token, &req);
            session = match opened {
                Err(why) => {
                    tracing::debug!(
                        ?transport,
                        ?why,
                        "session token did not open; starting a new session"
                    );
                    SessionInner::fresh(match why {
                        NotOpened::Expired => WhyNew::Expired,
                        _ => WhyNew::NotOpened,
                    })
                }
                Ok(opened) => match self.load(opened.into_session_key()).await {
                    Ok(Loaded::Live(key, stored)) => SessionInner::loaded(key, stored, transport),
                    Ok(Loaded::Gone) => SessionInner::fresh(WhyNew::Gone),
                    Ok(Loaded::TooOld) => SessionInner::fresh(WhyNew::Expired),
                    Err(err) => {
                        return Ok(req
                            .into_response(unavailable("load a session", &err))
                            .map_into_right_body());
                    }
                },
            };
        }

        let sealer = client_key.sealer();
        session.issuer = Some(Rc::new(RequestIssuer {
            inner: Arc::clone(&self),
            sealer: sealer.clone(),
            client: budget_client,
        }));
        let existed = session.key.is_some();
        let session = Session::attach(&req, session);
        let mut res = service.call(req).await?;
        let SessionInner {
            state,
            status,
            key,
            placed_by_handler,
            created_at,
            ..
        } = session.take();

        let creates = key.is_none()
            && match status {
                SessionStatus::Changed => !state.is_empty(),
                SessionStatus::Renewed => true,
                SessionStatus::Unchanged | SessionStatus::Purged => false,
            };
        if creates && let Err(wait) = self.take_from_budget(budget_client) {
            tracing::info!(
                client = ?budget_client,
                "a client used up its budget of new sessions; answered 429"
            );
            let (req, _) = res.into_parts();
            let mut refused = opaque(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return Ok(ServiceResponse::new(req, refused).map_into_right_body());
        }
        let key = match self.persist(status, key, state, created_at).await {
            Ok(key) => key,
            Err(err) => {
                let (req, _) = res.into_parts();
                return Ok(
                    ServiceResponse::new(req, unavailable("save a session", &err))
                        .map_into_right_body(),
                );
            }
        };

        if let Some(hook) = &self.on_event {
            let event = if existed {
                match status {
                    SessionStatus::Unchanged => None,
                    SessionStatus::Changed => Some(SessionEvent::Updated),
                    SessionStatus::Renewed => Some(SessionEvent::Renewed),
                    SessionStatus::Purged => Some(SessionEvent::Purged),
                }
            } else {
                key.is_some().then_some(SessionEvent::Created)
            };
            if let Some(event) = event {
                hook(res.request(), event);
            }
        }

        let expired_cookies = if settings.delete_cookies {
            cookies::expired(res.request().headers())
        } else {
            Vec::new()
        };
        let headers = res.headers_mut();
        // The scope promises no cookies: whatever a handler set is dropped, and with
        // `delete_cookies` every cookie the client sent is expired.
        headers.remove(header::SET_COOKIE);
        for expired in expired_cookies {
            headers.append(header::SET_COOKIE, expired);
        }
        let Some(key) = key else {
            return Ok(res
                .map_body(|_, body| RewriteBody::untouched(body))
                .map_into_left_body());
        };
        let token = match client_key.seal(&key, None) {
            Ok(token) => token,
            Err(err) => {
                let (req, _) = res.into_parts();
                return Ok(ServiceResponse::new(req, unavailable("seal a token", &err))
                    .map_into_right_body());
            }
        };
        self.add_token_headers(res.headers_mut(), &token);
        if placed_by_handler {
            return Ok(res
                .map_body(|_, body| RewriteBody::untouched(body))
                .map_into_left_body());
        }
        let sealer = settings.url_specific.then(|| {
            let sealer = sealer.clone();
            Rc::new(move |path: &str| sealer.seal(&key, Some(path)).ok()) as PathSealer
        });
        Ok(self.rewrite(res, &token, sealer).map_into_left_body())
    }

    /// Puts the token into the response: its `Location` and, for HTML, its body.
    fn rewrite<B: MessageBody>(
        &self,
        mut res: ServiceResponse<B>,
        token: &str,
        sealer: Option<PathSealer>,
    ) -> ServiceResponse<RewriteBody<B>> {
        let settings = &self.settings;
        if !settings.rewrite || settings.is_excluded(res.request().path()) {
            return res.map_body(|_, body| RewriteBody::untouched(body));
        }
        let (origin, host, page_url) = {
            let req = res.request();
            let (scheme, host) = client::request_origin(req, &settings.trusted_proxies);
            let origin = format!("{scheme}://{host}");
            let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let page_url = format!("{origin}{path}");
            (origin, host, page_url)
        };
        // The script client's element, with the token it starts from (header tokens are
        // path-less, also with url_specific).
        let script_for = |token: &str| {
            settings.client_script.then(|| {
                client_script::tag(
                    &host,
                    &settings.client_script_path,
                    &settings.settings().header_name,
                    token,
                )
            })
        };
        // `None` when the page URL is not http(s): then nothing is rewritten.
        let policy_for =
            |token: &str| LinkPolicy::new(&page_url, &settings.hosts, &settings.param_name, token);
        // Built only when needed: a page from the rewrite cache needs none.
        let policy = || {
            let policy = policy_for(token)?;
            Some(match &sealer {
                Some(sealer) => policy.bound_to_paths(Rc::clone(sealer)),
                None => policy,
            })
        };
        if settings.use_get && res.status().is_redirection() {
            let location = res
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            if let Some(value) = location.and_then(|l| policy()?.location(l))
                && let Ok(value) = HeaderValue::from_str(&value)
            {
                res.headers_mut().insert(header::LOCATION, value);
            }
        }
        let charset = html_charset(res.status(), res.headers());
        let size = res.response().body().size();
        let Some(charset) =
            charset.filter(|_| !matches!(size, BodySize::None | BodySize::Sized(0)))
        else {
            return res.map_body(|_, body| RewriteBody::untouched(body));
        };
        // A body the handler holds whole (`String`, `Bytes`) may come from the cache; with
        // url_specific every URL has its own token, which the cache cannot splice.
        let cache = self.rewrites.as_ref().filter(|cache| {
            !settings.url_specific
                && matches!(size, BodySize::Sized(n) if usize::try_from(n).is_ok_and(|n| cache.fits(n)))
        });
        let use_get = settings.use_get;
        res.map_body(|head, body| {
            // Read once: the charset sniff and the cache need the bytes of a page held whole.
            let page = match body.try_into_bytes() {
                Ok(bytes) => Page::Whole(bytes),
                Err(body) => Page::Streamed(body),
            };
            let encoding = match (charset, &page) {
                (Charset::Declared(encoding), _) => Some(encoding),
                (Charset::Undeclared, Page::Whole(bytes)) => declare_charset(head, Some(bytes)),
                (Charset::Undeclared, Page::Streamed(_)) => declare_charset(head, None),
            };
            let Some(encoding) = encoding else {
                return match page {
                    Page::Whole(bytes) => RewriteBody::ready(bytes),
                    Page::Streamed(body) => RewriteBody::untouched(body),
                };
            };
            // The length changes: drop a length the handler set.
            head.headers.remove(header::CONTENT_LENGTH);
            head.no_chunking(false);
            // A page held whole is scanned first: lol_html then watches only the elements
            // it may have.
            let rewriter = |policy: Option<LinkPolicy>, token: &str, whole: Option<&[u8]>| {
                TokenRewriter::with_script(policy?, use_get, encoding, whole, script_for(token))
            };
            match page {
                Page::Whole(page) => match cache {
                    Some(cache) => {
                        // With one token for every URL, only the page's origin decides
                        // where it goes (a relative URL keeps it, an absolute one names its
                        // own): the same page at `/a?sessionid=…` and `/b` is one entry.
                        let context = format!("{origin}\n{}", encoding.name());
                        let rewritten = cache.rewrite(&page, &context, token, |placeholder| {
                            rewriter(policy_for(placeholder), placeholder, Some(&page))
                        });
                        RewriteBody::ready(rewritten.unwrap_or(page))
                    }
                    None => match rewriter(policy(), token, Some(&page)) {
                        Some(mut rewriter) => {
                            let mut out = rewriter.write(&page);
                            out.extend(rewriter.end());
                            RewriteBody::ready(out.into())
                        }
                        None => RewriteBody::ready(page),
                    },
                },
                Page::Streamed(body) => match rewriter(policy(), token, None) {
                    Some(rewriter) => RewriteBody::new(body, rewriter),
                    None => RewriteBody::untouched(body),
                },
            }
        })
    }

    /// Opens the token the request carried by `transport`; gives how it really came (a query
    /// token may turn out to be a `see_other` redirect token).
    fn open(
        &self,
        client_key: &ClientKey<'_>,
        transport: Transport,
        token: &str,
        req: &ServiceRequest,
    ) -> (Result<Opened, NotOpened>, Transport) {
        let settings = &self.settings;
        // With url_specific, a token from a URL or a form opens only at the path it was
        // sealed for; header tokens are path-less (they never sit in a URL).
        let path = (settings.url_specific && transport != Transport::Header).then(|| req.path());
        let as_redirect =
            || client_key.try_open_redirect(token, req.path(), settings.redirect_token_max_age);
        match transport {
            Transport::Redirect => (as_redirect(), transport),
            // A query token may be an ordinary one or a redirect's (`see_other`).
            Transport::Query => match client_key.try_open(token, path) {
                Ok(opened) => (Ok(opened), transport),
                // A redirect token opens a GET (or HEAD) only: it sits in history and logs.
                Err(why) if !matches!(*req.method(), Method::GET | Method::HEAD) => {
                    (Err(why), transport)
                }
                Err(why) => match as_redirect() {
                    Ok(opened) => (Ok(opened), Transport::Redirect),
                    Err(_) => (Err(why), transport),
                },
            },
            _ => (client_key.try_open(token, path), transport),
        }
    }

    /// Takes one new session from `client`'s budget; `Err` with the wait when it is used up.
    fn take_from_budget(&self, client: Option<IpAddr>) -> Result<(), std::time::Duration> {
        self.budget
            .as_ref()
            .map_or(Ok(()), |budget| budget.take(client))
    }

    /// Loads a session by key: gone when the store has nothing (readable, and ours) under it;
    /// too old (and deleted) past `session_max_lifetime`.
    async fn load(&self, key: String) -> Result<Loaded, LoadError> {
        let Ok(session_key) = SessionKey::try_from(key.clone()) else {
            return Ok(Loaded::Gone);
        };
        let stored = match self.store.load(&session_key).await {
            Ok(Some(state)) => match from_store_state(state, self.settings.no_cookie_persist) {
                Some(stored) => stored,
                None => {
                    tracing::debug!(
                        "token names a session that actix-cookieless did not create; ignored"
                    );
                    return Ok(Loaded::Gone);
                }
            },
            Ok(None) => return Ok(Loaded::Gone),
            Err(LoadError::Deserialization(err)) => {
                tracing::warn!(error = %err, "stored session could not be read; starting a new session");
                return Ok(Loaded::Gone);
            }
            Err(err) => return Err(err),
        };
        let max = self.settings.session_max_lifetime.as_secs();
        if max > 0
            && let Some(created_at) = stored.created_at
            && now_secs().saturating_sub(created_at) > max
        {
            tracing::debug!("session older than session_max_lifetime; deleted, starting a new one");
            if let Err(err) = self.store.delete(&session_key).await {
                tracing::warn!(error = %err, "could not delete a session past its lifetime");
            }
            return Ok(Loaded::TooOld);
        }
        Ok(Loaded::Live(key, stored))
    }

    /// Writes what the handler did; gives the key the response's token is sealed for.
    async fn persist(
        &self,
        status: SessionStatus,
        key: Option<String>,
        state: HashMap<String, String>,
        created_at: Option<u64>,
    ) -> Result<Option<String>, anyhow::Error> {
        let to_key = |key: String| SessionKey::try_from(key).map_err(anyhow::Error::from);
        // A session stored before creation times were kept starts its lifetime now.
        let created_at = created_at.unwrap_or_else(now_secs);
        let to_store_state = |state| to_store_state(state, created_at);
        match status {
            SessionStatus::Unchanged => {
                if let Some(key) = &key
                    && let Err(err) = self
                        .store
                        .update_ttl(&to_key(key.clone())?, &self.ttl)
                        .await
                {
                    // Not a save: the data is intact, only its idle clock was not reset.
                    tracing::warn!(error = %err, "could not extend a session's lifetime");
                }
                Ok(key)
            }
            SessionStatus::Changed => match key {
                Some(key) => {
                    let key = self
                        .store
                        .update(to_key(key)?, to_store_state(state), &self.ttl)
                        .await?;
                    Ok(Some(key.into()))
                }
                // Lazy sessions: nothing written, nothing stored.
                None if state.is_empty() => Ok(None),
                None => Ok(Some(
                    self.store
                        .save(to_store_state(state), &self.ttl)
                        .await?
                        .into(),
                )),
            },
            SessionStatus::Purged => {
                if let Some(key) = key {
                    self.store.delete(&to_key(key)?).await?;
                }
                Ok(None)
            }
            SessionStatus::Renewed => {
                let new_key = self.store.save(to_store_state(state), &self.ttl).await?;
                if let Some(old) = key {
                    self.store.delete(&to_key(old)?).await?;
                }
                Ok(Some(new_key.into()))
            }
        }
    }

    fn add_token_headers(&self, headers: &mut HeaderMap, token: &str) {
        let Ok(value) = HeaderValue::from_str(token) else {
            return; // base64url is always a valid header value; nothing to send otherwise
        };
        headers.insert(self.settings.header_name.clone(), value);
        // A shared cache must never hand one visitor's token to another.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        // Keep a policy the handler chose if it leaks nothing; otherwise ours.
        let keep = headers
            .get(header::REFERRER_POLICY)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_safe_referrer_policy);
        if !keep {
            headers.insert(
                header::REFERRER_POLICY,
                self.settings.referrer_policy.clone(),
            );
        }
    }
}
