//! The service the layer wraps around the app's: a request's way through the engine.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::{Body, Frame};

use super::{
    EventFn, PeerFn,
    body::{BoxError, DataFrames, RequestBody, ResponseBody},
    respond,
};
use crate::{
    client,
    engine::{Engine, RequestAt, RequestFacts, RequestIssuer, RequestPage},
    settings::ValidSettings,
    site,
    store::SessionStore,
    transport::{self, Transport},
};

/// The service [`CookielessLayer`](super::CookielessLayer) wraps around the inner one.
pub struct CookielessService<S, St> {
    pub(super) inner: S,
    pub(super) engine: Arc<Engine<St>>,
    pub(super) peer: Arc<PeerFn>,
    pub(super) on_event: Option<Arc<EventFn>>,
}

impl<S: Clone, St> Clone for CookielessService<S, St> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            engine: Arc::clone(&self.engine),
            peer: Arc::clone(&self.peer),
            on_event: self.on_event.clone(),
        }
    }
}

impl<S, St> std::fmt::Debug for CookielessService<S, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookielessService").finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, St, ReqB, ResB> tower_service::Service<Request<ReqB>> for CookielessService<S, St>
where
    S: tower_service::Service<Request<RequestBody<ReqB>>, Response = Response<ResB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqB: Body<Data = Bytes> + Send + 'static,
    ReqB::Error: Send,
    ResB: Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<BoxError>,
    St: SessionStore,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh clone stays behind.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let engine = Arc::clone(&self.engine);
        let peer = Arc::clone(&self.peer);
        let on_event = self.on_event.clone();
        Box::pin(handle(engine, peer, on_event, inner, req))
    }
}

/// One request through the engine: find, open and load its session, run the handler, then
/// store what it did and put the token into the response.
async fn handle<S, St, ReqB, ResB>(
    engine: Arc<Engine<St>>,
    peer: Arc<PeerFn>,
    on_event: Option<Arc<EventFn>>,
    mut inner: S,
    req: Request<ReqB>,
) -> Result<Response<ResponseBody<ResB>>, S::Error>
where
    S: tower_service::Service<Request<RequestBody<ReqB>>, Response = Response<ResB>>,
    ReqB: Body<Data = Bytes>,
    ResB: Body<Data = Bytes>,
    ResB::Error: Into<BoxError>,
    St: SessionStore,
{
    let settings = &engine.settings;
    let (mut parts, body) = req.into_parts();
    let get_or_head = matches!(parts.method, Method::GET | Method::HEAD);
    if settings.client_script && get_or_head && parts.uri.path() == settings.client_script_path {
        return Ok(respond::client_script());
    }
    let peer = peer(&parts.extensions);
    if peer.is_none() {
        warn_no_peer();
    }
    // The client, cut to the prefix: what the token is bound to, and whose budget a new
    // session comes from.
    let budget_client = client::client_prefix(peer, &parts.headers, settings);
    let binding = client::binding(budget_client, &parts.headers, settings);
    let client_key = engine.keyring.client(&binding);
    let (scheme, host) = client::origin(
        &client::Target {
            peer,
            uri_scheme: parts.uri.scheme_str(),
            uri_authority: parts.uri.authority().map(http::uri::Authority::as_str),
            secure: false,
            default_host: "localhost",
        },
        &parts.headers,
        &settings.trusted_proxies,
    );

    let (found, body) = find(&parts, body, settings).await;
    let at = RequestAt {
        path: parts.uri.path(),
        get_or_head,
        cookie: transport::cookie_beside(found.as_ref(), &parts.headers, settings),
    };
    let cookie_came = at.cookie.is_some() || matches!(found, Some((Transport::Cookie, _)));
    let cross_site = || site::judge(false, &parts.headers, &host, &settings.hosts);
    let started = engine
        .start(&client_key, found, &at, parts.method.is_safe(), cross_site)
        .await;
    let session = match started {
        Ok(session) => session,
        Err(refusal) => return Ok(respond::refused(refusal)),
    };

    let sealer = client_key.sealer();
    let session = RequestIssuer::session(&engine, session, &sealer, budget_client);
    parts.extensions.insert(session.clone());
    let facts = RequestFacts::new(settings, parts.uri.path(), &parts.headers, cookie_came);
    let page = {
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        RequestPage::new((&scheme, host), path_and_query)
    };
    // The hook gets the request's head once the app has had the request.
    let head = on_event.as_ref().map(|_| parts.clone());
    let mut res = inner.call(Request::from_parts(parts, body)).await?;
    let finished = match engine.finish(session.take(), budget_client).await {
        Ok(finished) => finished,
        Err(refusal) => return Ok(respond::refused(refusal)),
    };
    if let (Some(hook), Some(head), Some(event)) = (&on_event, &head, finished.event) {
        hook(head, event);
    }
    let response = (res.status().as_u16(), res.body().size_hint().exact());
    match engine.plan(
        &facts,
        || page,
        finished,
        &sealer,
        response,
        res.headers_mut(),
    ) {
        Ok(plan) => Ok(respond::apply(res, plan).await),
        Err(refusal) => Ok(respond::refused(refusal)),
    }
}

/// Says once that requests come without the client's address: tokens then bind to the
/// User-Agent only, and all clients share one new-session budget.
fn warn_no_peer() {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "CookielessLayer found no client address in a request: tokens bind to the \
             User-Agent only and all clients share one new-session budget. With axum, serve \
             with into_make_service_with_connect_info and set CookielessLayerBuilder::peer_addr \
             (said once)"
        );
    }
}

/// The token the request carries, and how: header, then form body, then query string. The
/// body comes back whole, the bytes read for the form's token replayed ahead of the rest.
async fn find<B: Body<Data = Bytes>>(
    parts: &http::request::Parts,
    body: B,
    settings: &ValidSettings,
) -> (Option<(Transport, String)>, RequestBody<B>) {
    if let Some(in_header) = transport::from_header(&parts.headers, settings) {
        return (in_header, RequestBody::untouched(body));
    }
    let get_or_head = matches!(parts.method, Method::GET | Method::HEAD);
    // The URL's token, else (`cookie = "auto"`) the session cookie's.
    let in_url = || {
        transport::in_url(parts.uri.query().unwrap_or(""), get_or_head, settings)
            .or_else(|| transport::from_cookie(&parts.headers, settings))
    };
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(content_type) =
        content_type.filter(|_| transport::may_carry_form(parts.method.as_str()))
    else {
        return (in_url(), RequestBody::untouched(body));
    };
    let mut body = Box::pin(body);
    let Some(scan) = transport::scan_body(&mut DataFrames(&mut body), content_type, settings).await
    else {
        return (
            in_url(),
            RequestBody::replayed(Default::default(), None, Some(body)),
        );
    };
    let rest = (!scan.ended && scan.error.is_none()).then_some(body);
    let read = scan.read.into_iter().map(Frame::data).collect();
    let body = RequestBody::replayed(read, scan.error, rest);
    match scan.found {
        Some(token) => (Some((Transport::FormField, token)), body),
        None => (in_url(), body),
    }
}
