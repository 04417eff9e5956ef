//! The response side: the token's headers, and the token put into `Location` and HTML bodies.

use std::{borrow::Cow, pin::Pin};

use actix_web::{
    HttpResponse,
    body::{BodySize, MessageBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    web::Bytes,
};

use crate::{
    client, client_script,
    engine::{Answer, Engine, Refusal},
    rewrite::{
        Charset, Head, PageRewrite, PathSealer, RewriteBody, body_charset, declare_charset,
        read_head,
    },
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
pub(super) async fn rewrite<B: MessageBody, St>(
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
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    // Read once: the charset sniff and the cache need the bytes of a page held whole.
    let mut body = match body.try_into_bytes() {
        Ok(whole) => Body::Whole(whole),
        Err(streamed) => Body::Streamed(streamed),
    };
    let encoding = match charset {
        Charset::Declared(encoding) => Some(encoding),
        Charset::Undeclared => {
            if let Body::Streamed(streamed) = body {
                // What the page's first bytes declare, as a browser would read them.
                let mut streamed = Box::pin(streamed);
                let head = read_head(|cx| streamed.as_mut().poll_next(cx), Bytes::len).await;
                body = match head.end {
                    Some(Ok(())) => Body::Whole(head.items.into_iter().flatten().collect()),
                    _ => Body::Head(head, streamed),
                };
            }
            declare_charset(res.headers_mut(), body.start().as_deref())
        }
    };
    let body = match encoding {
        None => body.untouched(),
        Some(encoding) => {
            // The length changes: drop a length the handler set.
            res.headers_mut().remove(header::CONTENT_LENGTH);
            res.head_mut().no_chunking(false);
            match body {
                Body::Whole(whole) => {
                    RewriteBody::ready(page.whole(whole, encoding, engine.rewrites.as_ref()))
                }
                Body::Streamed(streamed) => match page.streamed(encoding) {
                    Some(rewriter) => RewriteBody::new(streamed, rewriter),
                    None => RewriteBody::untouched(streamed),
                },
                Body::Head(head, rest) => {
                    RewriteBody::replayed(head, rest, page.streamed(encoding))
                }
            }
        }
    };
    ServiceResponse::new(req, res.set_body(body))
}

/// A response body as the rewrite found it.
enum Body<B: MessageBody> {
    /// Held whole, by the handler or because it ended within the charset sniff's window.
    Whole(Bytes),
    Streamed(B),
    /// The first chunks, read for the charset sniff, and the rest.
    Head(Head<Bytes, B::Error>, Pin<Box<B>>),
}

impl<B: MessageBody> Body<B> {
    /// The page's first bytes, for the charset sniff; `None` for a body that streams unread.
    fn start(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Self::Whole(whole) => Some(Cow::Borrowed(whole)),
            Self::Streamed(_) => None,
            Self::Head(head, _) => Some(Cow::Owned(head.items.iter().flatten().copied().collect())),
        }
    }

    fn untouched(self) -> RewriteBody<B> {
        match self {
            Self::Whole(whole) => RewriteBody::ready(whole),
            Self::Streamed(streamed) => RewriteBody::untouched(streamed),
            Self::Head(head, rest) => RewriteBody::replayed(head, rest, None),
        }
    }
}
