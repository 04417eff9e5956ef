//! The service the middleware wraps around the app's: a request's way through the engine.

use std::{future::Future, pin::Pin, rc::Rc, sync::Arc};

use crate::store::SessionStore;
use actix_web::{
    Error,
    body::{EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, forward_ready},
    http::{
        Method, StatusCode,
        header::{self, HeaderValue},
    },
};

use super::{EventFn, EventHook, find, issuer::RequestIssuer, respond};
use crate::{
    client, cookies,
    engine::{Engine, Found, Loaded, RequestAt, outcome},
    rewrite::{PathSealer, RewriteBody},
    session::{Session, SessionInner, WhyNew},
    site::{self, Site},
    token::NotOpened,
};

/// The service [`CookielessSession`] wraps around the inner one.
#[doc(hidden)]
pub struct CookielessSessionService<S, St> {
    pub(super) service: Rc<S>,
    pub(super) engine: Arc<Engine<St>>,
    pub(super) on_event: Option<EventHook>,
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
    St: SessionStore,
{
    type Response = ServiceResponse<EitherBody<RewriteBody<B>>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let engine = Arc::clone(&self.engine);
        let on_event = self.on_event.clone();
        Box::pin(async move { handle(engine, on_event.as_deref(), req, &*service).await })
    }
}

/// One request through the engine: find, open and load its session, run the handler, then
/// store what it did and put the token into the response.
async fn handle<S, B, St>(
    engine: Arc<Engine<St>>,
    on_event: Option<&EventFn>,
    mut req: ServiceRequest,
    service: &S,
) -> Result<ServiceResponse<EitherBody<RewriteBody<B>>>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
    St: SessionStore,
{
    let settings = &engine.settings;
    if settings.client_script
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && req.path() == settings.client_script_path
    {
        return Ok(req
            .into_response(respond::client_script())
            .map_into_right_body());
    }
    let peer = req.peer_addr().map(|a| a.ip());
    // The client, cut to the prefix: what the token is bound to, and whose budget a new
    // session comes from.
    let budget_client = client::client_prefix(peer, req.headers(), settings);
    let binding = client::binding(budget_client, req.headers(), settings);
    let client_key = engine.keyring.client(&binding);

    let mut session = SessionInner::fresh(WhyNew::NoToken);
    let mut found = find::find(&mut req, settings).await;
    // Safe methods change nothing: only unsafe ones with a token are judged.
    if found.is_some() && !req.method().is_safe() {
        let (_, host) = client::request_origin(req.request(), &settings.trusted_proxies);
        if let Site::Cross(signal) = site::judge(
            req.method().is_safe(),
            req.headers(),
            &host,
            &settings.hosts,
        ) {
            if settings.reject_cross_site {
                tracing::info!(signal, "cross-site request with a session token refused");
                return Ok(req
                    .into_response(respond::opaque(StatusCode::FORBIDDEN, "Forbidden"))
                    .map_into_right_body());
            }
            tracing::debug!(signal, "cross-site request: its session token is ignored");
            found = None;
            session = SessionInner::fresh(WhyNew::CrossSite);
        }
    }
    if let Some((transport, token)) = found {
        let at = RequestAt {
            path: req.path(),
            get_or_head: matches!(*req.method(), Method::GET | Method::HEAD),
        };
        let (opened, transport) = engine.open(
            &client_key,
            Found {
                transport,
                token: &token,
            },
            &at,
        );
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
            Ok(opened) => match engine.load(opened.into_session_key()).await {
                Ok(Loaded::Live(key, stored)) => SessionInner::loaded(key, stored, transport),
                Ok(Loaded::Gone) => SessionInner::fresh(WhyNew::Gone),
                Ok(Loaded::TooOld) => SessionInner::fresh(WhyNew::Expired),
                Err(err) => {
                    return Ok(req
                        .into_response(respond::unavailable("load a session", &err))
                        .map_into_right_body());
                }
            },
        };
    }

    let sealer = client_key.sealer();
    session.issuer = Some(Arc::new(RequestIssuer {
        engine: Arc::clone(&engine),
        sealer: sealer.clone(),
        client: budget_client,
    }));
    let existed = session.key.is_some();
    let session = Session::new(session);
    actix_web::HttpMessage::extensions_mut(&req).insert(session.clone());
    let mut res = service.call(req).await?;
    let SessionInner {
        state,
        status,
        key,
        placed_by_handler,
        created_at,
        ..
    } = session.take();

    if outcome::creates(key.as_deref(), status, &state)
        && let Err(wait) = engine.take_from_budget(budget_client)
    {
        tracing::info!(
            client = ?budget_client,
            "a client used up its budget of new sessions; answered 429"
        );
        let (req, _) = res.into_parts();
        let mut refused = respond::opaque(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return Ok(ServiceResponse::new(req, refused).map_into_right_body());
    }
    let key = match engine.persist(status, key, state, created_at).await {
        Ok(key) => key,
        Err(err) => {
            let (req, _) = res.into_parts();
            return Ok(
                ServiceResponse::new(req, respond::unavailable("save a session", &err))
                    .map_into_right_body(),
            );
        }
    };

    if let Some(hook) = on_event
        && let Some(event) = outcome::event(existed, status, key.as_deref())
    {
        hook(res.request(), event);
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
        if let Ok(value) = HeaderValue::try_from(expired) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    let Some(key) = key else {
        return Ok(res
            .map_body(|_, body| RewriteBody::untouched(body))
            .map_into_left_body());
    };
    // One sealer for the request: the handler's `token()`, this header and the rewriter.
    let token = match sealer.seal(&key, None) {
        Ok(token) => token,
        Err(err) => {
            let (req, _) = res.into_parts();
            return Ok(
                ServiceResponse::new(req, respond::unavailable("seal a token", &err))
                    .map_into_right_body(),
            );
        }
    };
    respond::add_token_headers(settings, res.headers_mut(), &token);
    if placed_by_handler {
        return Ok(res
            .map_body(|_, body| RewriteBody::untouched(body))
            .map_into_left_body());
    }
    let sealer = settings.url_specific.then(|| {
        let sealer = sealer.clone();
        Rc::new(move |path: &str| sealer.seal(&key, Some(path)).ok()) as PathSealer
    });
    Ok(respond::rewrite(&engine, res, &token, sealer).map_into_left_body())
}
