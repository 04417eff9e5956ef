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
    engine::{Answer, Engine, Refusal, token_headers},
    rewrite::{Charset, PageRewrite, PathSealer, RewriteBody, body_charset, declared_charset},
    settings::ValidSettings,
};

/// The engine's refusal as a response.
pub(super) fn refused(refusal: Refusal) -> HttpResponse {
    let answer = refusal.answer();
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut res = HttpResponse::build(status);
    for header in Answer::HEADERS {
        res.insert_header(header);
    }
    if let Some(seconds) = answer.retry_after {
        res.insert_header((header::RETRY_AFTER, seconds));
    }
    res.body(answer.body)
}

/// The script client, served at `client_script_path`.
pub(super) fn client_script() -> HttpResponse {
    let mut res = HttpResponse::Ok();
    for header in client_script::HEADERS {
        res.insert_header(header);
    }
    res.body(client_script::SCRIPT)
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
    let (origin, host) = {
        let (scheme, host) = client::request_origin(res.request(), &settings.trusted_proxies);
        (format!("{scheme}://{host}"), host)
    };
    let uri = res.request().uri().clone();
    let page = PageRewrite {
        settings,
        origin: &origin,
        host: &host,
        path_and_query: uri.path_and_query().map_or("/", |pq| pq.as_str()),
        token,
        sealer,
    };
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    if let Some(value) = page.location(res.status().as_u16(), location)
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        res.headers_mut().insert(header::LOCATION, value);
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
    for (name, value) in token_headers(settings, token, &*headers) {
        // Checked names, base64url tokens and known policies are always valid.
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
}
