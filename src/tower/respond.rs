//! The response side: the layer's own answers, the token's headers, and the token put into
//! `Location` and HTML bodies as they stream.

use std::{
    borrow::Cow,
    collections::VecDeque,
    pin::Pin,
    sync::Arc,
    task::{Poll, ready},
};

use http::{HeaderName, HeaderValue, Response, StatusCode, header};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;

use super::body::{BoxError, ResponseBody};
use crate::{
    client_script, cookies,
    engine::{Answer, Engine, Finished, Refusal, add_token_headers},
    rewrite::{Charset, Head, PageRewrite, PathSealer, body_charset, declare_charset, read_head},
    token::Sealer,
};

/// What the response side needs of the request, kept before the request went to the app.
pub(super) struct Page {
    /// `scheme://host`
    pub(super) origin: String,
    pub(super) host: String,
    pub(super) path_and_query: String,
    /// With `delete_cookies`: a `Set-Cookie` expiring each cookie the request carried.
    pub(super) expired_cookies: Vec<String>,
}

impl Page {
    fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or("/")
    }
}

/// The engine's refusal as a response.
pub(super) fn refused<B>(refusal: Refusal) -> Response<ResponseBody<B>> {
    let answer = refusal.answer();
    let mut res = Response::new(ResponseBody::ready(answer.body));
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

/// The app's response with the session's token in it: headers, `Location` and HTML body.
pub(super) async fn with_token<B, St>(
    engine: &Engine<St>,
    page: &Page,
    mut res: Response<B>,
    mut finished: Finished,
    sealer: &Sealer,
) -> Response<ResponseBody<B>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let settings = &engine.settings;
    cookies::replace_set_cookies(res.headers_mut(), &page.expired_cookies);
    let Some(key) = finished.key.take() else {
        return res.map(ResponseBody::untouched);
    };
    // One sealer for the request: the handler's `token()`, this header and the rewriter.
    let token = match finished.token(&key, sealer) {
        Ok(token) => token,
        Err(err) => return refused(Refusal::Seal(err)),
    };
    add_token_headers(settings, res.headers_mut(), &token);
    if finished.placed_by_handler || !settings.rewrites(page.path()) {
        return res.map(ResponseBody::untouched);
    }
    let rewrite = PageRewrite {
        settings,
        origin: &page.origin,
        host: &page.host,
        path_and_query: &page.path_and_query,
        token: &token,
        sealer: settings.url_specific.then(|| {
            let sealer = sealer.clone();
            Arc::new(move |path: &str| sealer.seal(&key, Some(path)).ok()) as PathSealer
        }),
    };
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    if let Some(value) = rewrite.location(res.status().as_u16(), location)
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        res.headers_mut().insert(header::LOCATION, value);
    }
    let len = res.body().size_hint().exact();
    let Some(charset) = body_charset(res.status().as_u16(), res.headers(), len) else {
        return res.map(ResponseBody::untouched);
    };
    let (mut head, body) = res.into_parts();
    let mut body = match len {
        Some(len) if len <= HOLD_WHOLE => match body.collect().await {
            Ok(collected) => Held::Whole(collected.to_bytes()),
            Err(err) => return Response::from_parts(head, ResponseBody::failed(err)),
        },
        _ => Held::Streamed(body),
    };
    let encoding = match charset {
        Charset::Declared(encoding) => Some(encoding),
        Charset::Undeclared => {
            if let Held::Streamed(streamed) = body {
                // What the page's first bytes declare, as a browser would read them.
                body = read_start(streamed).await;
            }
            declare_charset(&mut head.headers, body.start().as_deref())
        }
    };
    let Some(encoding) = encoding else {
        return Response::from_parts(head, body.untouched());
    };
    // The length changes: drop a length the handler set.
    head.headers.remove(header::CONTENT_LENGTH);
    let body = match body {
        Held::Whole(whole) => {
            ResponseBody::ready(rewrite.whole(whole, encoding, engine.rewrites.as_ref()))
        }
        Held::Streamed(streamed) => match rewrite.streamed(encoding) {
            Some(rewriter) => ResponseBody::rewritten(streamed, rewriter),
            None => ResponseBody::untouched(streamed),
        },
        Held::Head(start, rest) => ResponseBody::replayed(start, rest, rewrite.streamed(encoding)),
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
