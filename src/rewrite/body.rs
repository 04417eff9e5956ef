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

use super::TokenRewriter;

pin_project! {
    /// A response body, rewritten chunk by chunk when a rewriter is given, or passed through
    /// untouched (keeping its size) when not.
    pub struct RewriteBody<B> {
        #[pin]
        inner: B,
        rewriter: Option<TokenRewriter>,
        finished: bool,
    }
}

impl<B> std::fmt::Debug for RewriteBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewriteBody")
            .field("rewriting", &self.rewriter.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: MessageBody> RewriteBody<B> {
    /// Rewrites `inner` through `rewriter`.
    pub fn new(inner: B, rewriter: TokenRewriter) -> Self {
        Self {
            inner,
            rewriter: Some(rewriter),
            finished: false,
        }
    }

    /// Passes `inner` through untouched.
    pub fn untouched(inner: B) -> Self {
        Self {
            inner,
            rewriter: None,
            finished: false,
        }
    }
}

impl<B: MessageBody> MessageBody for RewriteBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        match self.rewriter {
            // The rewritten length is known only at the end: stream it.
            Some(_) => BodySize::Stream,
            None => self.inner.size(),
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let mut this = self.project();
        let Some(rewriter) = this.rewriter.as_mut() else {
            return this.inner.poll_next(cx);
        };
        loop {
            if *this.finished {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => {
                    let out = rewriter.write(&chunk);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Bytes::from(out))));
                    }
                }
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => {
                    *this.finished = true;
                    let out = rewriter.end();
                    return Poll::Ready((!out.is_empty()).then(|| Ok(Bytes::from(out))));
                }
            }
        }
    }
}
