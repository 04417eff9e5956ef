//! The response side: the token's headers, and the token put into `Location` and HTML bodies.

use actix_web::{
    HttpResponse,
    body::{BodySize, MessageBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
};

use crate::{
    client, client_script,
    engine::{Engine, Refusal, retry_after_seconds},
    rewrite::{Charset, PageRewrite, PathSealer, RewriteBody, body_charset, declared_charset},
    settings::{ValidSettings, is_safe_referrer_policy},
};

/// The engine's refusal as a response.
pub(super) fn refused(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::CrossSite => opaque(StatusCode::FORBIDDEN, "Forbidden"),
        Refusal::TooManyNewSessions(wait) => {
            let mut res = opaque(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_seconds(wait)),
            );
            res
        }
        Refusal::Store { what, error } => unavailable(what, &error),
    }
}

/// The store failed: the cause goes to the log, the client gets an opaque 503.
pub(super) fn unavailable(what: &str, err: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %err, "actix-cookieless: session store failed to {what}");
    let mut res = opaque(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// The script client, served at `client_script_path`.
pub(super) fn client_script() -> HttpResponse {
    let mut res = HttpResponse::Ok();
    for header in client_script::HEADERS {
        res.insert_header(header);
    }
    res.body(client_script::SCRIPT)
}

/// A short plain-text answer that says nothing about the cause and is never cached.
pub(super) fn opaque(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// Puts the token into the response: its `Location` and, for HTML, its body.
pub(super) fn rewrite<B: MessageBody, St>(
    engine: &Engine<St>,
    mut res: ServiceResponse<B>,
    token: &str,
    sealer: Option<PathSealer>,
) -> ServiceResponse<RewriteBody<B>> {
    let settings = &engine.settings;
    if !settings.rewrites(res.request().path()) {
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
    let page = PageRewrite {
        settings,
        origin: &origin,
        host: &host,
        page_url: &page_url,
        token,
        sealer,
    };
    if settings.use_get && res.status().is_redirection() {
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        if let Some(value) = location.and_then(|l| page.location(l))
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            res.headers_mut().insert(header::LOCATION, value);
        }
    }
    let len = match res.response().body().size() {
        BodySize::None => Some(0),
        BodySize::Sized(len) => Some(len),
        BodySize::Stream => None,
    };
    let Some(charset) = body_charset(res.status().as_u16(), res.headers(), len) else {
        return res.map_body(|_, body| RewriteBody::untouched(body));
    };
    res.map_body(|head, body| {
        // Read once: the charset sniff and the cache need the bytes of a page held whole.
        let body = body.try_into_bytes();
        let encoding = match charset {
            Charset::Declared(encoding) => Some(encoding),
            Charset::Undeclared => declare_charset(&mut head.headers, body.as_deref().ok()),
        };
        let Some(encoding) = encoding else {
            return match body {
                Ok(whole) => RewriteBody::ready(whole),
                Err(streamed) => RewriteBody::untouched(streamed),
            };
        };
        // The length changes: drop a length the handler set.
        head.headers.remove(header::CONTENT_LENGTH);
        head.no_chunking(false);
        match body {
            Ok(whole) => RewriteBody::ready(page.whole(whole, encoding, engine.rewrites.as_ref())),
            Err(streamed) => match page.streamed(encoding) {
                Some(rewriter) => RewriteBody::new(streamed, rewriter),
                None => RewriteBody::untouched(streamed),
            },
        }
    })
}

/// Names the charset [`declared_charset`] finds in an HTML response's `Content-Type` that
/// named none.
fn declare_charset(
    headers: &mut HeaderMap,
    whole: Option<&[u8]>,
) -> Option<&'static encoding_rs::Encoding> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (encoding, declared) = declared_charset(content_type, whole)?;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&declared).ok()?);
    Some(encoding)
}

pub(super) fn add_token_headers(settings: &ValidSettings, headers: &mut HeaderMap, token: &str) {
    // A checked name (`check_name`) and base64url are always valid; nothing to send otherwise.
    let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(settings.header_name.as_bytes()),
        HeaderValue::from_str(token),
    ) else {
        return;
    };
    headers.insert(name, value);
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
            HeaderValue::from_static(settings.referrer_policy),
        );
    }
}
