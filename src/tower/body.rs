//! The bodies the layer hands on: the request's (the bytes read looking for a form's token,
//! replayed ahead of the rest) and the response's (rewritten as it streams).

use std::{
    collections::VecDeque,
    pin::Pin,
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::rewrite::{Head, Replay, TokenRewriter};

/// A request body as the app gets it: the bytes the layer read looking for a form's token,
/// then the error it met (if any), then the rest of the original body. Nothing is lost, and
/// nothing beyond `body_scan_limit` was held.
pub struct RequestBody<B: Body> {
    replay: Replay<Frame<Bytes>, B::Error, B>,
}

// Never pinned structurally: the original body is boxed.
impl<B: Body> Unpin for RequestBody<B> {}

impl<B: Body> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("replayed_chunks", &self.replay.parts().0.len())
            .finish_non_exhaustive()
    }
}

impl<B: Body> RequestBody<B> {
    pub(super) fn untouched(body: B) -> Self {
        Self::replayed(VecDeque::new(), None, Some(Box::pin(body)))
    }

    pub(super) fn replayed(
        read: VecDeque<Frame<Bytes>>,
        error: Option<B::Error>,
        rest: Option<Pin<Box<B>>>,
    ) -> Self {
        Self {
            replay: Replay::from_parts(read, error, rest),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.get_mut().replay.poll_next(cx, Body::poll_frame)
    }

    fn is_end_stream(&self) -> bool {
        let (read, failed, rest) = self.replay.parts();
        read.is_empty() && !failed && rest.is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let (read, _, rest) = self.replay.parts();
        let read: usize = read
            .iter()
            .filter_map(Frame::data_ref)
            .map(Bytes::len)
            .sum();
        let read = read as u64;
        match rest {
            Some(rest) => {
                let rest = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(rest.lower() + read);
                if let Some(upper) = rest.upper() {
                    hint.set_upper(upper + read);
                }
                hint
            }
            None => SizeHint::with_exact(read),
        }
    }
}

/// The data frames of a body as a stream, for the form scan; other frames (trailers) end it.
pub(super) struct DataFrames<'a, B>(pub(super) &'a mut Pin<Box<B>>);

impl<B: Body<Data = Bytes>> futures_core::Stream for DataFrames<'_, B> {
    type Item = Result<Bytes, B::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.0.as_mut().poll_frame(cx)) {
            Some(Ok(frame)) => Poll::Ready(frame.into_data().ok().map(Ok)),
            Some(Err(err)) => Poll::Ready(Some(Err(err))),
            None => Poll::Ready(None),
        }
    }
}

/// The error of a [`ResponseBody`]: the app's body's own.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// A response body: rewritten chunk by chunk as it streams, a page held whole and already
    /// rewritten, the layer's own answer, or the app's passed through untouched (keeping its
    /// size).
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Untouched { #[pin] inner: Source<B> },
        Streaming {
            #[pin] inner: Source<B>,
            rewriter: TokenRewriter,
            finished: bool,
            // Trailers wait until the rewriter's last output went out.
            trailers: Option<http::HeaderMap>,
        },
        Ready { bytes: Option<Bytes> },
        // The app's body failed while the layer read it whole.
        Failed { error: Option<BoxError> },
    }
}

pin_project! {
    /// Where the frames come from: the app's body, or its first frames (read ahead for the
    /// charset sniff), the failure met reading them, then the rest of it.
    #[project = SourceProj]
    enum Source<B> {
        Direct { #[pin] inner: B },
        Replayed { replay: Replay<Frame<Bytes>, BoxError, B> },
    }
}

impl<B> Body for Source<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project() {
            SourceProj::Direct { inner } => inner.poll_frame(cx).map_err(Into::into),
            SourceProj::Replayed { replay } => {
                replay.poll_next(cx, |rest, cx| rest.poll_frame(cx).map_err(Into::into))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Direct { inner } => inner.is_end_stream(),
            Self::Replayed { replay } => {
                let (head, failed, rest) = replay.parts();
                head.is_empty() && !failed && rest.is_none_or(Body::is_end_stream)
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Direct { inner } => inner.size_hint(),
            // Part of it was read already.
            Self::Replayed { .. } => SizeHint::default(),
        }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Untouched { .. } => "untouched",
            Kind::Streaming { .. } => "streaming",
            Kind::Ready { .. } => "ready",
            Kind::Failed { .. } => "failed",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl<B> ResponseBody<B> {
    pub(super) fn untouched(inner: B) -> Self {
        Self::through(Source::Direct { inner }, None)
    }

    pub(super) fn rewritten(inner: B, rewriter: TokenRewriter) -> Self {
        Self::through(Source::Direct { inner }, Some(rewriter))
    }

    /// The frames of `head` (and the failure that ended it), then `rest`: through `rewriter`,
    /// or untouched.
    pub(super) fn replayed<E: Into<BoxError>>(
        head: Head<Frame<Bytes>, E>,
        rest: Pin<Box<B>>,
        rewriter: Option<TokenRewriter>,
    ) -> Self {
        let head = Head {
            items: head.items,
            end: head.end.map(|end| end.map_err(Into::into)),
        };
        let replay = Replay::new(head, rest);
        Self::through(Source::Replayed { replay }, rewriter)
    }

    fn through(inner: Source<B>, rewriter: Option<TokenRewriter>) -> Self {
        let kind = match rewriter {
            Some(rewriter) => Kind::Streaming {
                inner,
                rewriter,
                finished: false,
                trailers: None,
            },
            None => Kind::Untouched { inner },
        };
        Self { kind }
    }

    pub(super) fn ready(bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: Kind::Ready {
                bytes: Some(bytes.into()),
            },
        }
    }

    pub(super) fn failed(error: impl Into<BoxError>) -> Self {
        Self {
            kind: Kind::Failed {
                error: Some(error.into()),
            },
        }
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Untouched { inner } => inner.poll_frame(cx),
            KindProj::Failed { error } => Poll::Ready(error.take().map(Err)),
            KindProj::Ready { bytes } => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            KindProj::Streaming {
                mut inner,
                rewriter,
                finished,
                trailers,
            } => loop {
                if *finished {
                    return Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                let frame = match ready!(inner.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => frame,
                    Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                    None => {
                        *finished = true;
                        let out = rewriter.end();
                        if out.is_empty() {
                            continue;
                        }
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                };
                match frame.into_data() {
                    Ok(chunk) => {
                        let out = rewriter.write(&chunk);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                    Err(frame) => {
                        *finished = true;
                        *trailers = frame.into_trailers().ok();
                        let out = rewriter.end();
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Untouched { inner } => inner.is_end_stream(),
            Kind::Streaming { .. } => false,
            Kind::Ready { bytes } => bytes.as_ref().is_none_or(Bytes::is_empty),
            Kind::Failed { error } => error.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Untouched { inner } => inner.size_hint(),
            // The rewritten length is known only at the end.
            Kind::Streaming { .. } | Kind::Failed { .. } => SizeHint::default(),
            Kind::Ready { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
