//! The response body wrapper that streams HTML through the rewriter.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use actix_web::{
    body::{BodySize, MessageBody},
    web::Bytes,
};
use pin_project_lite::pin_project;

use crate::rewrite::{Head, Replay, TokenRewriter};

pin_project! {
    /// A response body: rewritten chunk by chunk as it streams, already rewritten whole (a
    /// body the handler held whole, spliced from the rewrite cache), or passed through
    /// untouched (keeping its size).
    pub struct RewriteBody<B: MessageBody> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B: MessageBody> {
        Untouched { #[pin] inner: Source<B> },
        Streaming { #[pin] inner: Source<B>, rewriter: TokenRewriter, finished: bool },
        Ready { bytes: Option<Bytes> },
    }
}

pin_project! {
    /// Where the chunks come from: the handler's body, or its first chunks (read ahead for the
    /// charset sniff) before the rest of it.
    #[project = SourceProj]
    enum Source<B: MessageBody> {
        Direct { #[pin] inner: B },
        Replayed { replay: Replay<Bytes, B::Error, B> },
    }
}

impl<B: MessageBody> Source<B> {
    fn size(&self) -> BodySize {
        match self {
            Self::Direct { inner } => inner.size(),
            // Part of it was read already.
            Self::Replayed { .. } => BodySize::Stream,
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, B::Error>>> {
        match self.project() {
            SourceProj::Direct { inner } => inner.poll_next(cx),
            SourceProj::Replayed { replay } => replay.poll_next(cx, MessageBody::poll_next),
        }
    }
}

impl<B: MessageBody> std::fmt::Debug for RewriteBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Untouched { .. } => "untouched",
            Kind::Streaming { .. } => "streaming",
            Kind::Ready { .. } => "ready",
        };
        f.debug_struct("RewriteBody")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl<B: MessageBody> RewriteBody<B> {
    /// Rewrites `inner` through `rewriter`.
    pub(crate) fn new(inner: B, rewriter: TokenRewriter) -> Self {
        Self::through(Source::Direct { inner }, Some(rewriter))
    }

    /// Passes `inner` through untouched.
    pub(crate) fn untouched(inner: B) -> Self {
        Self::through(Source::Direct { inner }, None)
    }

    /// The chunks of `head` (and the failure that ended it), then `rest`: through `rewriter`,
    /// or untouched.
    pub(crate) fn replayed(
        head: Head<Bytes, B::Error>,
        rest: Pin<Box<B>>,
        rewriter: Option<TokenRewriter>,
    ) -> Self {
        let replay = Replay::new(head, rest);
        Self::through(Source::Replayed { replay }, rewriter)
    }

    fn through(inner: Source<B>, rewriter: Option<TokenRewriter>) -> Self {
        let kind = match rewriter {
            Some(rewriter) => Kind::Streaming {
                inner,
                rewriter,
                finished: false,
            },
            None => Kind::Untouched { inner },
        };
        Self { kind }
    }

    /// A body already rewritten: `bytes` take the place of the handler's body.
    pub(crate) fn ready(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Ready { bytes: Some(bytes) },
        }
    }
}

impl<B: MessageBody> MessageBody for RewriteBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        match &self.kind {
            Kind::Untouched { inner } => inner.size(),
            // The rewritten length is known only at the end: stream it.
            Kind::Streaming { .. } => BodySize::Stream,
            Kind::Ready { bytes } => BodySize::Sized(bytes.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Untouched { inner } => inner.poll_next(cx),
            KindProj::Ready { bytes } => {
                Poll::Ready(bytes.take().filter(|b| !b.is_empty()).map(Ok))
            }
            KindProj::Streaming {
                mut inner,
                rewriter,
                finished,
            } => loop {
                if *finished {
                    return Poll::Ready(None);
                }
                match ready!(inner.as_mut().poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        let out = rewriter.write(&chunk);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Bytes::from(out))));
                        }
                    }
                    Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                    None => {
                        *finished = true;
                        let out = rewriter.end();
                        return Poll::Ready((!out.is_empty()).then(|| Ok(Bytes::from(out))));
                    }
                }
            },
        }
    }
}
