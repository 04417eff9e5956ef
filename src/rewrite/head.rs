//! The first bytes of a page that streams, read before its charset is declared.
//!
//! A page whose `Content-Type` names no charset is decoded by a browser in what its first 1024
//! bytes declare (byte order mark, `<meta charset>`). The glue must send the header, with the
//! charset the rewriter will read in, before the body; for a page that streams (every page of
//! `cookieless-proxy`, a handler's stream) it therefore reads up to those 1024 bytes first, as
//! a browser would, and declares what they say. The wait is bounded: a page that stalls sooner
//! is declared from what came (a browser that waited as long would decode it alike, since the
//! header then names the charset).

use std::{
    collections::VecDeque,
    future::Future,
    pin::{Pin, pin},
    task::{Context, Poll},
    time::Duration,
};

use super::charset::PRESCAN_BYTES;

/// How long a streamed page's first bytes are waited for before its charset is declared.
pub(crate) const HEAD_WAIT: Duration = Duration::from_millis(500);

/// A streamed body's first items, and how it ended if it ended meanwhile.
pub(crate) struct Head<T, E> {
    pub(crate) items: VecDeque<T>,
    /// `None`: the body goes on; `Some(Ok(()))`: it ended; `Some(Err(_))`: it failed.
    pub(crate) end: Option<Result<(), E>>,
}

/// Reads items through `poll_next` until `len` of them adds up to the prescan's 1024 bytes, the
/// body ends or fails, or [`HEAD_WAIT`] passes.
pub(crate) async fn read_head<T, E>(
    mut poll_next: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<T, E>>>,
    len: impl Fn(&T) -> usize,
) -> Head<T, E> {
    let mut deadline = pin!(tokio::time::sleep(HEAD_WAIT));
    let mut head = Head {
        items: VecDeque::new(),
        end: None,
    };
    let mut read = 0;
    while read < PRESCAN_BYTES {
        let next = std::future::poll_fn(|cx| match poll_next(cx) {
            Poll::Ready(next) => Poll::Ready(Some(next)),
            Poll::Pending => deadline.as_mut().poll(cx).map(|()| None),
        })
        .await;
        match next {
            // The page stalled: declare from what came.
            None => break,
            Some(None) => {
                head.end = Some(Ok(()));
                break;
            }
            Some(Some(Err(err))) => {
                head.end = Some(Err(err));
                break;
            }
            Some(Some(Ok(item))) => {
                read += len(&item);
                head.items.push_back(item);
            }
        }
    }
    head
}

/// A body read ahead, as it goes on: the items of its [`Head`], then the failure that ended it
/// (if one did), then the rest of it (if it goes on). The glues' body types poll it through
/// their own trait (actix's `MessageBody`, `http_body::Body`).
pub(crate) struct Replay<T, E, R> {
    head: VecDeque<T>,
    error: Option<E>,
    rest: Option<Pin<Box<R>>>,
}

impl<T, E, R> Replay<T, E, R> {
    /// `head`, then `rest` unless the head's body ended or failed.
    pub(crate) fn new(head: Head<T, E>, rest: Pin<Box<R>>) -> Self {
        let (error, rest) = match head.end {
            Some(Err(err)) => (Some(err), None),
            Some(Ok(())) => (None, None),
            None => (None, Some(rest)),
        };
        Self::from_parts(head.items, error, rest)
    }

    pub(crate) fn from_parts(
        head: VecDeque<T>,
        error: Option<E>,
        rest: Option<Pin<Box<R>>>,
    ) -> Self {
        Self { head, error, rest }
    }

    /// The next item: `poll_rest` polls the rest once the head and its failure are out.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        poll_rest: impl FnOnce(Pin<&mut R>, &mut Context<'_>) -> Poll<Option<Result<T, E>>>,
    ) -> Poll<Option<Result<T, E>>> {
        if let Some(item) = self.head.pop_front() {
            return Poll::Ready(Some(Ok(item)));
        }
        if let Some(err) = self.error.take() {
            return Poll::Ready(Some(Err(err)));
        }
        match self.rest.as_mut() {
            Some(rest) => poll_rest(rest.as_mut(), cx),
            None => Poll::Ready(None),
        }
    }

    /// The items still to replay, and the rest (for a body's end and size).
    #[cfg(feature = "tower")]
    pub(crate) fn parts(&self) -> (&VecDeque<T>, bool, Option<&R>) {
        (&self.head, self.error.is_some(), self.rest.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn chunks(parts: &[&'static str]) -> VecDeque<Result<Bytes, ()>> {
        parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect()
    }

    #[tokio::test]
    async fn it_stops_at_the_prescan_window_and_leaves_the_rest() {
        let big = "x".repeat(700).leak();
        let mut body = chunks(&[big, big, big]);
        let head = read_head(|_| Poll::Ready(body.pop_front()), Bytes::len).await;
        assert_eq!(head.items.len(), 2);
        assert!(head.end.is_none());
        assert_eq!(body.len(), 1);
    }

    #[tokio::test]
    async fn it_keeps_the_end_or_the_failure_of_a_short_body() {
        let mut body = chunks(&["<p>a", "b</p>"]);
        let head = read_head(|_| Poll::Ready(body.pop_front()), Bytes::len).await;
        assert_eq!(head.items.len(), 2);
        assert!(matches!(head.end, Some(Ok(()))));

        let mut body = chunks(&["<p>a"]);
        body.push_back(Err(()));
        let head = read_head(|_| Poll::Ready(body.pop_front()), Bytes::len).await;
        assert_eq!(head.items.len(), 1);
        assert!(matches!(head.end, Some(Err(()))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_stalls_is_declared_from_what_came_after_the_wait() {
        let mut first = Some(Ok::<_, ()>(Bytes::from_static(b"<p>a")));
        let started = tokio::time::Instant::now();
        let head = read_head(
            |_| first.take().map_or(Poll::Pending, |c| Poll::Ready(Some(c))),
            Bytes::len,
        )
        .await;
        assert_eq!(head.items.len(), 1);
        assert!(head.end.is_none());
        assert_eq!(started.elapsed(), HEAD_WAIT);
    }
}
