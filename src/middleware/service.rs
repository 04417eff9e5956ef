//! The service the middleware wraps around the app's: a request's way through the engine.

use std::{future::Future, pin::Pin, rc::Rc, sync::Arc};

use crate::store::SessionStore;
use actix_web::{
    Error,
    body::{BodySize, EitherBody, MessageBody},
    dev::{Service, ServiceRequest, ServiceResponse, forward_ready},
    http::Method,
};

use super::{EventFn, EventHook, find, respond};
use crate::{
    client,
    engine::{Engine, RequestAt, RequestFacts, RequestIssuer, RequestPage},
    rewrite::RewriteBody,
    site,
    transport::{self, Transport},
};

/// The service [`CookielessSession`](crate::CookielessSession) wraps around the inner one
/// (what its `Transform` builds; applications do not build it themselves).
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

    let found = find::find(&mut req, settings).await;
    let at = RequestAt {
        path: req.path(),
        get_or_head: matches!(*req.method(), Method::GET | Method::HEAD),
        cookie: transport::cookie_beside(found.as_ref(), req.headers(), settings),
    };
    let cookie_came = at.cookie.is_some() || matches!(found, Some((Transport::Cookie, _)));
    let cross_site = || {
        let (_, host) = crate::middleware::request_origin(req.request(), &settings.trusted_proxies);
        site::judge(false, req.headers(), &host, &settings.hosts)
    };
    let started = engine
        .start(&client_key, found, &at, req.method().is_safe(), cross_site)
        .await;
    let session = match started {
        Ok(session) => session,
        Err(refusal) => {
            return Ok(req
                .into_response(respond::refused(refusal))
                .map_into_right_body());
        }
    };

    let sealer = client_key.sealer();
    let session = RequestIssuer::session(&engine, session, &sealer, budget_client);
    let facts = RequestFacts::new(settings, req.path(), req.headers(), cookie_came);
    actix_web::HttpMessage::extensions_mut(&req).insert(session.clone());
    let mut res = service.call(req).await?;
    let finished = match engine.finish(session.take(), budget_client).await {
        Ok(finished) => finished,
        Err(refusal) => {
            let (req, _) = res.into_parts();
            return Ok(ServiceResponse::new(req, respond::refused(refusal)).map_into_right_body());
        }
    };
    if let (Some(hook), Some(event)) = (on_event, finished.event) {
        hook(res.request(), event);
    }
    let response = (res.status().as_u16(), body_len(res.response().body()));
    let request = res.request().clone();
    let page = || {
        let (scheme, host) = crate::middleware::request_origin(&request, &settings.trusted_proxies);
        let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        RequestPage::new((&scheme, host), path_and_query)
    };
    match engine.plan(&facts, page, finished, &sealer, response, res.headers_mut()) {
        Ok(plan) => Ok(respond::apply(res, plan).await.map_into_left_body()),
        Err(refusal) => {
            let (req, _) = res.into_parts();
            Ok(ServiceResponse::new(req, respond::refused(refusal)).map_into_right_body())
        }
    }
}

/// A body's length when known (`Some(0)` for none).
fn body_len(body: &impl MessageBody) -> Option<u64> {
    match body.size() {
        BodySize::None => Some(0),
        BodySize::Sized(len) => Some(len),
        BodySize::Stream => None,
    }
}
