//! The response side: the middleware's own answers, and the engine's plan for a handler's
//! response carried out on actix bodies.

use std::{borrow::Cow, pin::Pin};

use actix_web::{
    HttpResponse,
    body::MessageBody,
    dev::ServiceResponse,
    http::{StatusCode, header},
    web::Bytes,
};

use super::RewriteBody;
use crate::{
    client_script,
    engine::{Answer, BodyPlan, Refusal},
    rewrite::{Head, read_head},
};

/// The engine's refusal as a response.
pub(super) fn refused(refusal: Refusal) -> HttpResponse {
    answered(refusal.answer())
}

/// One of the crate's own opaque answers (a refusal, a session error, the proxy's failures)
/// as an actix response: every one is rendered here.
pub(crate) fn answered(answer: Answer) -> HttpResponse {
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

/// Carries out the engine's plan for the response's body (its headers hold the plan's
/// edits already): read as the plan needs, rewritten or passed on.
pub(super) async fn apply<B: MessageBody>(
    res: ServiceResponse<B>,
    plan: BodyPlan<'_>,
) -> ServiceResponse<RewriteBody<B>> {
    let needs_start = plan.needs_start();
    let BodyPlan::Rewrite { page, charset } = plan else {
        return res.map_body(|_, body| RewriteBody::untouched(body));
    };
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    // Read once: the charset sniff and the cache need the bytes of a page held whole.
    let mut body = match body.try_into_bytes() {
        Ok(whole) => Body::Whole(whole),
        Err(streamed) => Body::Streamed(streamed),
    };
    if needs_start && let Body::Streamed(streamed) = body {
        let mut streamed = Box::pin(streamed);
        let head = read_head(|cx| streamed.as_mut().poll_next(cx), Bytes::len).await;
        body = match head.end {
            Some(Ok(())) => Body::Whole(head.items.into_iter().flatten().collect()),
            _ => Body::Head(head, streamed),
        };
    }
    let body = match page.encoding(charset, res.headers_mut(), body.start().as_deref()) {
        None => body.untouched(),
        Some(encoding) => {
            res.head_mut().no_chunking(false);
            match body {
                Body::Whole(whole) => RewriteBody::ready(page.whole(whole, encoding)),
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
