//! The proxy's HTTP client to the upstream: hyper's HTTP/1, which reads past interim (1xx)
//! responses to the final one and reads a body ended by closing to its end (actix's own client
//! does neither, and a kept-alive connection then answers the next request with the last
//! page). Connections are pooled per worker; at most `max_upstream_connections` requests are
//! at the upstream at once, all workers together.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use actix_web::{
    error::PayloadError,
    http::{StatusCode, header::HeaderMap},
    web::Bytes,
};
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};
use hyper_util::{
    client::legacy::{Client, Error, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// Chunks of a request body in flight from the browser's connection to the upstream's.
const BODY_CHANNEL_CHUNKS: usize = 4;

/// One worker's pooled client to the upstream.
pub(super) struct Upstream {
    client: Client<HttpConnector, RequestBody>,
    requests: Arc<Semaphore>,
    timeout: Duration,
}

/// Why the upstream gave no response.
#[derive(Debug)]
pub(super) enum Failure {
    /// No response head within `upstream_timeout` (waiting for a free connection included).
    TimedOut,
    /// No connection, or it failed while the request was sent or the head read.
    Failed(Error),
}

/// The upstream's final response: its head in actix's types, its body as a stream.
pub(super) struct Response {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: ResponseBody,
}

impl Upstream {
    /// A client for one worker; `requests` bounds the requests of all workers together.
    pub(super) fn new(requests: Arc<Semaphore>, idle: usize, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        // Pages stream in many writes: without it Nagle holds the last one for a delayed ACK.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(idle)
            .build(connector);
        Self {
            client,
            requests,
            timeout,
        }
    }

    /// Sends `request` and gives the final response; its body holds the request's place among
    /// `max_upstream_connections` until it ends or is dropped.
    pub(super) async fn send(
        &self,
        request: http::Request<RequestBody>,
    ) -> Result<Response, Failure> {
        let sent = async {
            // The semaphore is never closed.
            let place = Arc::clone(&self.requests).acquire_owned().await.ok();
            self.client.request(request).await.map(|r| (r, place))
        };
        let (response, place) = tokio::time::timeout(self.timeout, sent)
            .await
            .map_err(|_| Failure::TimedOut)?
            .map_err(Failure::Failed)?;
        let (head, body) = response.into_parts();
        let mut headers = HeaderMap::with_capacity(head.headers.len());
        for (name, value) in &head.headers {
            // Both are checked bytes already; the two `http` versions only differ in type.
            if let (Ok(name), Ok(value)) = (
                actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
                actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(name, value);
            }
        }
        Ok(Response {
            status: StatusCode::from_u16(head.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
            headers,
            body: ResponseBody { body, place },
        })
    }
}

/// A request body for hyper, which needs it `Send`: actix's payload is not, so a task on the
/// browser's worker reads it and passes the chunks over a short channel.
pub(super) struct RequestBody {
    chunks: Option<mpsc::Receiver<Result<Bytes, io::Error>>>,
    length: Option<u64>,
}

impl RequestBody {
    /// No body.
    pub(super) fn empty() -> Self {
        Self {
            chunks: None,
            length: Some(0),
        }
    }

    /// `body`, read by a task of this worker; `length` is sent as `Content-Length`, else the
    /// body goes chunked. A failing `body` fails the upstream request.
    pub(super) fn stream<S>(body: S, length: Option<u64>) -> Self
    where
        S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
    {
        let (sender, chunks) = mpsc::channel(BODY_CHANNEL_CHUNKS);
        actix_web::rt::spawn(async move {
            let mut body = body;
            while let Some(chunk) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await
            {
                let failed = chunk.is_err();
                let chunk = chunk.map_err(|err| io::Error::other(err.to_string()));
                // A closed channel: the upstream answered, or the request was abandoned.
                if sender.send(chunk).await.is_err() || failed {
                    break;
                }
            }
        });
        Self {
            chunks: Some(chunks),
            length,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let Some(chunks) = self.chunks.as_mut() else {
            return Poll::Ready(None);
        };
        let chunk = ready!(chunks.poll_recv(cx));
        if chunk.is_none() {
            self.chunks = None;
        }
        Poll::Ready(chunk.map(|c| c.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.length.map_or_else(SizeHint::new, SizeHint::with_exact)
    }
}

/// The upstream's response body, as actix streams it out.
pub(super) struct ResponseBody {
    body: hyper::body::Incoming,
    /// The request's place among `max_upstream_connections`, free when the body ends.
    place: Option<OwnedSemaphorePermit>,
}

impl Stream for ResponseBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                // Trailers are not passed on (as every hop-by-hop header).
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => return Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
                Some(Err(err)) => return Poll::Ready(Some(Err(io::Error::other(err)))),
                None => {
                    drop(self.place.take());
                    return Poll::Ready(None);
                }
            }
        }
    }
}
