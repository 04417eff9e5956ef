//! One request, forwarded: the browser's request to the upstream (the token kept here, the
//! cookies from the visitor's jar, forwarding headers the proxy's own), streamed; the response
//! goes back through `respond.rs`.

use std::{future::poll_fn, net::IpAddr, pin::Pin};

use actix_web::{
    HttpRequest, HttpResponse,
    error::PayloadError,
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    web::{self, Bytes},
};
use futures_core::Stream;
use url::Url;

use super::{
    Proxy, access_log,
    hop_by_hop::is_hop_by_hop,
    jar::Jar,
    limit::Limited,
    strip::{Stripped, Stripper},
    upstream::{Failure, RequestBody, Upstream},
};
use crate::{Session, client, url_param};

/// The request headers the upstream must not get from the browser: the proxy sets its own
/// (`Host`, forwarding, `Cookie` from the jar, identity encoding) and keeps the token to itself.
fn is_replaced(name: &HeaderName, token_header: &str) -> bool {
    name == header::HOST
        || name == header::COOKIE
        || name == header::ACCEPT_ENCODING
        || name == header::CONTENT_LENGTH
        || name == header::EXPECT
        || name == header::FORWARDED
        || name.as_str() == token_header
        || name.as_str().starts_with("x-forwarded")
        || CLIENT_ADDRESS_HEADERS.contains(&name.as_str())
        // PHP and CGI read `X_Forwarded_For` as `HTTP_X_FORWARDED_FOR`, the same as
        // `X-Forwarded-For`: no name with `_` passes (nginx's default too).
        || name.as_str().contains('_')
}

/// Headers in which proxies and CDNs tell an app the client's address: from a browser they are
/// lies, so none passes; the proxy sets `X-Forwarded-For`, `X-Real-IP` and `Forwarded` itself.
const CLIENT_ADDRESS_HEADERS: [&str; 12] = [
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-proxyuser-ip",
];

/// Forwards the request to the upstream and its answer back (the default service of
/// [`Proxy::configure`]), and logs it.
pub(crate) async fn forward(
    req: HttpRequest,
    body: web::Payload,
    session: Session,
    proxy: web::Data<Proxy>,
    upstream: web::Data<Upstream>,
) -> HttpResponse {
    let entry = proxy
        .inner
        .settings
        .access_log
        .then(|| access_log::Entry::start(&session));
    let response = answer(req.clone(), body, session, proxy.clone(), upstream).await;
    if let Some(entry) = entry {
        entry.finish(&req, &proxy.inner.session.param_name, response.status());
    }
    response
}

async fn answer(
    req: HttpRequest,
    body: web::Payload,
    session: Session,
    proxy: web::Data<Proxy>,
    upstream: web::Data<Upstream>,
) -> HttpResponse {
    if let Some(refused) = refuse_upgrade(&req) {
        return refused;
    }
    let inner = &proxy.inner;
    let settings = &inner.session;
    let (scheme, host) = crate::middleware::request_origin(&req, &settings.trusted_proxies);
    // The URL the browser asked for, as the jar's cookies were set for it; and the upstream's,
    // without the token (query tokens stay with the proxy).
    let query = url_param::without_param(req.query_string(), &settings.param_name);
    let query = query.as_deref().unwrap_or(req.query_string());
    let path_and_query = if query.is_empty() {
        req.path().to_owned()
    } else {
        format!("{}?{query}", req.path())
    };
    let Ok(public_url) = Url::parse(&format!("{scheme}://{host}{path_and_query}")) else {
        return opaque(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let upstream_url = inner.upstream_url(&path_and_query);

    let jar = Jar::load(&session);
    let http10 = inner.settings.upstream_version == "1.0";
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers() {
        if is_hop_by_hop(name, req.headers()) || is_replaced(name, &settings.header_name) {
            continue;
        }
        // A page whose URL carried the token (use_get, a redirect token) names it as `Referer`.
        let value = if name == header::REFERER {
            referer_without_token(value, &settings.param_name).unwrap_or_else(|| value.clone())
        } else {
            value.clone()
        };
        headers.append(name.clone(), value);
    }
    let upstream_host = inner.upstream_authority.as_str();
    let sent_host = if inner.settings.preserve_host {
        host.as_str()
    } else {
        upstream_host
    };
    if let Ok(value) = HeaderValue::from_str(sent_host) {
        headers.insert(header::HOST, value);
    }
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let client_ip = client::client_ip(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        &settings.trusted_proxies,
    );
    for (name, value) in forwarded_headers(client_ip, &scheme, &host) {
        headers.insert(name, value);
    }
    if let Some(cookies) = jar.cookie_header(&public_url)
        && let Ok(value) = HeaderValue::from_str(&cookies)
    {
        headers.insert(header::COOKIE, value);
    }

    let mut length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let max_body = inner.settings.max_body_bytes;
    if length.is_some_and(|len| len > max_body) {
        return body_too_large(max_body);
    }
    // The token's form fields stay here: the app gets the form without them.
    let stripper = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|content_type| Stripper::new(content_type, &settings.param_name))
        .filter(|_| length.is_some() || chunked);
    let mut body = Stripped {
        head: None,
        body,
        stripper,
    };
    if body.stripper.is_some() {
        match strip_ahead(&mut body).await {
            // All of it: its length is known now, whatever the browser announced.
            Ok(true) => {
                length = body.head.as_ref().map(|head| head.len() as u64);
                chunked = false;
            }
            Ok(false) => {
                if let (Some(len), Some(stripper)) = (length, body.stripper.as_mut()) {
                    length = Some(len.saturating_sub(stripper.removed()));
                    stripper.mask_from_now();
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "the request body failed before it reached the app");
                return opaque(StatusCode::BAD_REQUEST, "Bad Request");
            }
        }
    }
    let (body, exceeded) = Limited::new(body, max_body);
    let body = match (length, chunked) {
        // HTTP/1.0 has no chunked bodies.
        (None, true) if http10 => return opaque(StatusCode::LENGTH_REQUIRED, "Length Required"),
        (Some(0) | None, false) => RequestBody::empty(),
        (Some(len), false) => RequestBody::stream(body, Some(len)),
        (_, true) => RequestBody::stream(body, None),
    };
    let Some(request) = upstream_request(req.method(), &upstream_url, http10, &headers, body)
    else {
        return opaque(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let response = match upstream.send(request).await {
        Ok(response) => response,
        Err(_) if exceeded.load(std::sync::atomic::Ordering::Relaxed) => {
            return body_too_large(max_body);
        }
        Err(failure) => return upstream_failed(&failure),
    };
    if response.status == StatusCode::SWITCHING_PROTOCOLS {
        tracing::error!(
            "cookieless-proxy: the upstream switched protocols unasked (101); \
             the proxy does not tunnel upgraded connections"
        );
        return opaque(StatusCode::BAD_GATEWAY, "Bad Gateway");
    }

    let head = req.method() == actix_web::http::Method::HEAD;
    super::respond::respond(response, jar, (&public_url, head), &session, inner).await
}

/// `referer` without the token's query parameters; `None` when it has none.
fn referer_without_token(referer: &HeaderValue, param: &str) -> Option<HeaderValue> {
    let referer = referer.to_str().ok()?;
    let (before, query) = referer.split_once('?')?;
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let query = url_param::without_param(query, param)?;
    let mut stripped = before.to_owned();
    if !query.is_empty() {
        stripped.push('?');
        stripped.push_str(&query);
    }
    if let Some(fragment) = fragment {
        stripped.push('#');
        stripped.push_str(fragment);
    }
    HeaderValue::from_str(&stripped).ok()
}

/// How far the proxy reads a form body ahead, stripping token fields exactly (the length it
/// tells the upstream is then known); past it, they are masked.
const STRIP_AHEAD: usize = 64 * 1024;

/// Reads `body` ahead through its stripper, [`STRIP_AHEAD`] bytes (more to finish a token
/// field met at the end, up to as much again), into its `head`. `true` when the body ended.
async fn strip_ahead(body: &mut Stripped<web::Payload>) -> Result<bool, PayloadError> {
    let Some(stripper) = body.stripper.as_mut() else {
        return Ok(true);
    };
    let mut head = Vec::new();
    let mut read = 0;
    loop {
        let far_enough =
            read >= STRIP_AHEAD && (!stripper.inside_taken_field() || read >= 2 * STRIP_AHEAD);
        if far_enough {
            body.head = Some(Bytes::from(head));
            return Ok(false);
        }
        match poll_fn(|cx| Pin::new(&mut body.body).poll_next(cx)).await {
            Some(Ok(chunk)) => {
                read += chunk.len();
                stripper.feed(&chunk, &mut head);
            }
            Some(Err(err)) => return Err(err),
            None => {
                stripper.finish(&mut head);
                body.stripper = None;
                body.head = Some(Bytes::from(head));
                return Ok(true);
            }
        }
    }
}

/// A request to switch protocols (a WebSocket) gets 501: the proxy does not tunnel upgraded
/// connections. `h2c` is let be: a server may ignore an upgrade, and the request is answered
/// in HTTP/1.1 (its `Upgrade` header stops here as every hop-by-hop one).
fn refuse_upgrade(req: &HttpRequest) -> Option<HttpResponse> {
    let asks_for_upgrade = req
        .headers()
        .get_all(header::UPGRADE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|protocol| {
            let protocol = protocol.trim();
            !protocol.is_empty() && !protocol.eq_ignore_ascii_case("h2c")
        });
    asks_for_upgrade.then(|| {
        opaque(
            StatusCode::NOT_IMPLEMENTED,
            "cookieless-proxy does not proxy protocol upgrades (WebSocket)",
        )
    })
}

/// The request for the upstream, in hyper's `http` types; `None` when the URL is not one.
fn upstream_request(
    method: &Method,
    url: &str,
    http10: bool,
    headers: &HeaderMap,
    body: RequestBody,
) -> Option<http::Request<RequestBody>> {
    let mut request = http::Request::builder()
        .method(http::Method::from_bytes(method.as_str().as_bytes()).ok()?)
        .uri(url)
        .version(if http10 {
            http::Version::HTTP_10
        } else {
            http::Version::HTTP_11
        });
    let sent = request.headers_mut()?;
    for (name, value) in headers {
        // Both are checked bytes already; the two `http` versions only differ in type.
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            sent.append(name, value);
        }
    }
    request.body(body).ok()
}

/// `X-Forwarded-For` (the client as this proxy judged it, never a chain the client wrote),
/// `X-Forwarded-Proto` and `X-Forwarded-Host`, and the same in RFC 7239's `Forwarded`.
fn forwarded_headers(
    client: Option<IpAddr>,
    scheme: &str,
    host: &str,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::with_capacity(5);
    let mut forwarded = String::new();
    if let Some(ip) = client {
        let ip_value = HeaderValue::from_str(&ip.to_string()).expect("an IP is a header value");
        out.push((HeaderName::from_static("x-real-ip"), ip_value.clone()));
        out.push((HeaderName::from_static("x-forwarded-for"), ip_value));
        forwarded = match ip {
            IpAddr::V4(v4) => format!("for={v4};"),
            IpAddr::V6(v6) => format!("for=\"[{v6}]\";"),
        };
    }
    if let Ok(value) = HeaderValue::from_str(scheme) {
        out.push((HeaderName::from_static("x-forwarded-proto"), value));
    }
    if let Ok(value) = HeaderValue::from_str(host) {
        out.push((HeaderName::from_static("x-forwarded-host"), value));
    }
    forwarded.push_str(&format!("proto={scheme};host=\"{host}\""));
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        out.push((header::FORWARDED, value));
    }
    out
}

/// The upstream did not answer in time (504) or at all (502): an opaque answer, the cause in
/// the log.
fn upstream_failed(failure: &Failure) -> HttpResponse {
    match failure {
        Failure::TimedOut => {
            tracing::warn!("cookieless-proxy: the upstream did not answer in time");
            opaque(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout")
        }
        Failure::Failed(err) => {
            tracing::warn!(error = %err, "cookieless-proxy: the upstream could not be reached");
            opaque(StatusCode::BAD_GATEWAY, "Bad Gateway")
        }
    }
}

fn body_too_large(max: u64) -> HttpResponse {
    tracing::warn!(
        max_body_bytes = max,
        "cookieless-proxy: a request body larger than proxy.max_body_bytes was refused (413)"
    );
    opaque(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large")
}

/// The proxy's own opaque answer (its cause in the log), rendered as every answer of the
/// crate is.
fn opaque(status: StatusCode, body: &'static str) -> HttpResponse {
    crate::middleware::answered(crate::engine::Answer::opaque(status.as_u16(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referer_loses_the_token_and_nothing_else() {
        let strip = |referer: &'static str| {
            referer_without_token(&HeaderValue::from_static(referer), "sessionid")
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            strip("https://a.example/p?x=1&sessionid=T0K&y=2").as_deref(),
            Some("https://a.example/p?x=1&y=2")
        );
        assert_eq!(
            strip("https://a.example/p?session%69d=T0K").as_deref(),
            Some("https://a.example/p")
        );
        assert_eq!(strip("https://a.example/p?x=1"), None);
        assert_eq!(strip("https://a.example/p"), None);
    }

    #[test]
    fn forwarding_headers_name_the_judged_client() {
        let headers = forwarded_headers(Some("2001:db8::1".parse().unwrap()), "https", "a.example");
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("x-forwarded-for").as_deref(), Some("2001:db8::1"));
        assert_eq!(get("x-forwarded-proto").as_deref(), Some("https"));
        assert_eq!(get("x-forwarded-host").as_deref(), Some("a.example"));
        assert_eq!(
            get("forwarded").as_deref(),
            Some("for=\"[2001:db8::1]\";proto=https;host=\"a.example\"")
        );
    }
}
