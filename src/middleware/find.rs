//! Finding the token in an actix request: header, then form body, then query string, then
//! (`cookie = "auto"`) the session cookie. The form body's bytes read are replayed to the
//! handler ahead of the rest of its stream.

use std::{
    collections::VecDeque,
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::{
    dev::{Payload, ServiceRequest},
    error::PayloadError,
    http::{Method, header},
    web::Bytes,
};
use futures_core::Stream;

use crate::{
    settings::ValidSettings,
    transport::{self, Transport},
};

/// The token the request carries, and how.
pub(crate) async fn find(
    req: &mut ServiceRequest,
    settings: &ValidSettings,
) -> Option<(Transport, String)> {
    if let Some(in_header) = transport::from_header(req.headers(), settings) {
        return in_header;
    }
    if let Some(token) = from_body(req, settings).await {
        return Some((Transport::FormField, token));
    }
    let get_or_head = matches!(*req.method(), Method::GET | Method::HEAD);
    transport::in_url(req.query_string(), get_or_head, settings)
        .or_else(|| transport::from_cookie(req.headers(), settings))
}

async fn from_body(req: &mut ServiceRequest, settings: &ValidSettings) -> Option<String> {
    if !transport::may_carry_form(req.method().as_str()) {
        return None;
    }
    let content_type = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let content_type = content_type.to_owned();
    let mut payload = req.parts_mut().1.take();
    let Some(scan) = transport::scan_body(&mut payload, &content_type, settings).await else {
        req.set_payload(payload);
        return None;
    };
    let rest = (!scan.ended && scan.error.is_none()).then_some(payload);
    req.set_payload(Payload::Stream {
        payload: Box::pin(Replay {
            read: scan.read,
            error: scan.error,
            rest,
        }),
    });
    scan.found
}

/// The bytes already read, then any error met, then the rest of the original stream.
struct Replay {
    read: VecDeque<Bytes>,
    error: Option<PayloadError>,
    rest: Option<Payload>,
}

impl Stream for Replay {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(chunk) = self.read.pop_front() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        if let Some(err) = self.error.take() {
            return Poll::Ready(Some(Err(err)));
        }
        match self.rest.as_mut() {
            Some(rest) => Pin::new(rest).poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}
