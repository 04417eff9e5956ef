//! The response side: the layer's own answers, and the engine's plan for an app's response
//! carried out on `http_body` bodies.

use std::{
    borrow::Cow,
    collections::VecDeque,
    pin::Pin,
    task::{Poll, ready},
};

use http::{HeaderName, HeaderValue, Response, StatusCode, header};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;

use super::body::{BoxError, ResponseBody};
use crate::{
    client_script,
    engine::{Answer, BodyPlan, Refusal},
    rewrite::{Head, read_head},
};

/// The engine's refusal as a response.
pub(super) fn refused<B>(refusal: Refusal) -> Response<ResponseBody<B>> {
    answered(refusal.answer(), ResponseBody::ready)
}

/// One of the crate's own opaque answers (a refusal, a session error) as an `http` response
/// whose body `body` makes: every one is rendered here.
pub(super) fn answered<Bd>(answer: Answer, body: impl FnOnce(&'static str) -> Bd) -> Response<Bd> {
    let mut res = Response::new(body(answer.body));
    *res.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = res.headers_mut();
    for (name, value) in Answer::HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(seconds) = answer.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    res
}

/// The script client, served at `client_script_path`.
pub(super) fn client_script<B>() -> Response<ResponseBody<B>> {
    let mut res = Response::new(ResponseBody::ready(client_script::SCRIPT));
    for (name, value) in client_script::HEADERS {
        res.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    res
}

/// A response body of a known length up to this is read whole before it is rewritten, as
/// actix's `String` and `Bytes` bodies are: for the charset sniff, the prescan and the
/// rewrite cache.
const HOLD_WHOLE: u64 = 1024 * 1024;

/// Carries out the engine's plan for the app's response body (its headers hold the plan's
/// edits already): read as the plan needs, rewritten or passed on.
pub(super) async fn apply<B>(res: Response<B>, plan: BodyPlan<'_>) -> Response<ResponseBody<B>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let needs_start = plan.needs_start();
    let BodyPlan::Rewrite { page, charset } = plan else {
        return res.map(ResponseBody::untouched);
    };
    let len = res.body().size_hint().exact();
    let (mut head, body) = res.into_parts();
    let mut body = match len {
        Some(len) if len <= HOLD_WHOLE => match body.collect().await {
            Ok(collected) => Held::Whole(collected.to_bytes()),
            Err(err) => return Response::from_parts(head, ResponseBody::failed(err)),
        },
        _ => Held::Streamed(body),
    };
    if needs_start && let Held::Streamed(streamed) = body {
        body = read_start(streamed).await;
    }
    let Some(encoding) = page.encoding(charset, &mut head.headers, body.start().as_deref()) else {
        return Response::from_parts(head, body.untouched());
    };
    let body = match body {
        Held::Whole(whole) => ResponseBody::ready(page.whole(whole, encoding)),
        Held::Streamed(streamed) => match page.streamed(encoding) {
            Some(rewriter) => ResponseBody::rewritten(streamed, rewriter),
            None => ResponseBody::untouched(streamed),
        },
        Held::Head(start, rest) => ResponseBody::replayed(start, rest, page.streamed(encoding)),
    };
    Response::from_parts(head, body)
}

/// A response body as the rewrite found it.
enum Held<B: Body> {
    /// Read whole: its length was known and small, or it ended within the charset sniff's
    /// window.
    Whole(Bytes),
    Streamed(B),
    /// The first frames, read for the charset sniff, and the rest.
    Head(Head<Frame<Bytes>, BoxError>, Pin<Box<B>>),
}

impl<B> Held<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    /// The page's first bytes, for the charset sniff; `None` for a body that streams unread.
    fn start(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Self::Whole(whole) => Some(Cow::Borrowed(whole)),
            Self::Streamed(_) => None,
            Self::Head(head, _) => Some(Cow::Owned(data(&head.items).copied().collect())),
        }
    }

    fn untouched(self) -> ResponseBody<B> {
        match self {
            Self::Whole(whole) => ResponseBody::ready(whole),
            Self::Streamed(streamed) => ResponseBody::untouched(streamed),
            Self::Head(head, rest) => ResponseBody::replayed(head, rest, None),
        }
    }
}

/// The bytes of `frames`' data frames.
fn data(frames: &VecDeque<Frame<Bytes>>) -> impl Iterator<Item = &u8> {
    frames.iter().filter_map(Frame::data_ref).flatten()
}

/// Reads the start of a body that streams, for the charset sniff: whole if it ends there
/// (without trailers), else its first frames and the rest.
async fn read_start<B>(body: B) -> Held<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let mut body = Box::pin(body);
    let head = read_head(
        |cx| {
            let frame = ready!(body.as_mut().poll_frame(cx));
            Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
        },
        |frame: &Frame<Bytes>| frame.data_ref().map_or(0, Bytes::len),
    )
    .await;
    let only_data = head.items.iter().all(Frame::is_data);
    match head.end {
        Some(Ok(())) if only_data => Held::Whole(data(&head.items).copied().collect()),
        _ => Held::Head(head, body),
    }
}
