//! The request body's bound (`proxy.max_body_bytes`) on a body whose length is not announced:
//! past it the stream fails, the upstream request is abandoned, and the browser gets 413.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use actix_web::{error::PayloadError, web::Bytes};
use futures_core::Stream;

/// `body`, failing once more than `max` bytes went through; `exceeded` tells afterwards.
pub(super) struct Limited<S> {
    body: S,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<S> Limited<S> {
    pub(super) fn new(body: S, max: u64) -> (Self, Arc<AtomicBool>) {
        let exceeded = Arc::new(AtomicBool::new(false));
        let limited = Self {
            body,
            left: max,
            exceeded: Arc::clone(&exceeded),
        };
        (limited, exceeded)
    }
}

impl<S> Stream for Limited<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            let len = chunk.len() as u64;
            if len > self.left {
                self.exceeded.store(true, Ordering::Relaxed);
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
            self.left -= len;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[actix_rt::test]
    async fn a_body_past_the_bound_fails_and_says_so() {
        let chunks = || {
            futures_util::stream::iter(
                [b"abc".as_slice(), b"def", b"g"].map(|c| Ok(Bytes::from_static(c))),
            )
        };
        let (mut within, exceeded) = Limited::new(chunks(), 7);
        let mut read = 0;
        while let Some(chunk) = within.next().await {
            read += chunk.unwrap().len();
        }
        assert_eq!((read, exceeded.load(Ordering::Relaxed)), (7, false));

        let (mut over, exceeded) = Limited::new(chunks(), 6);
        assert_eq!(over.next().await.unwrap().unwrap(), "abc");
        assert_eq!(over.next().await.unwrap().unwrap(), "def");
        assert!(matches!(
            over.next().await,
            Some(Err(PayloadError::Overflow))
        ));
        assert!(exceeded.load(Ordering::Relaxed));
    }
}
