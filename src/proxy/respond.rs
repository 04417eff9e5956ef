//! The upstream's response, back to the browser: hop-by-hop headers dropped, cookies into the
//! visitor's jar (never to the browser), `Location` and `Content-Location` in the public URL
//! space, a redirect after a POST given its redirect token when `use_get` is off. Everything
//! else (the token's headers, Cache-Control, Referrer-Policy, charset, rewriting) is the
//! response plan's, applied by the middleware this app runs inside.

use std::{future::poll_fn, io, pin::Pin};

use actix_web::{
    HttpResponse,
    body::{BodyStream, SizedStream},
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    web::{Bytes, BytesMut},
};
use futures_core::Stream;
use url::Url;

use super::{
    Inner,
    hop_by_hop::is_hop_by_hop,
    jar::Jar,
    upstream::{Response, ResponseBody},
};
use crate::{
    Session,
    engine::Answer,
    rewrite::{body_charset, redirect_token_path},
};

/// A page the middleware may rewrite, announced at most this long, is read whole before it is
/// answered: held whole, it takes the plain path and the rewrite cache, as an app's own page
/// does in the middleware (streamed, lol_html parses it every time, several times slower). The
/// app sent its length first, so it had the page ready; holding it delays the first byte by
/// the time the page takes to cross from the app.
const HOLD_WHOLE_BYTES: u64 = 256 * 1024;

/// The browser's answer to the upstream's `response` to the page at `public_url` (`head`: the
/// request was a HEAD, whose answer has no body).
pub(super) async fn respond(
    response: Response,
    mut jar: Jar,
    (public_url, head): (&Url, bool),
    session: &Session,
    inner: &Inner,
) -> HttpResponse {
    let mut out = HttpResponse::build(response.status);
    let mut location = None;
    for (name, value) in &response.headers {
        if is_hop_by_hop(name, &response.headers) || name == header::CONTENT_LENGTH {
            continue;
        }
        if name == header::SET_COOKIE {
            if let Ok(value) = value.to_str() {
                jar.set_cookie(value, public_url);
            }
            continue;
        }
        if name == header::LOCATION
            && let Ok(value) = value.to_str()
        {
            location = Some(inner.localize(value).unwrap_or_else(|| value.to_owned()));
            continue;
        }
        if name == header::CONTENT_LOCATION
            && let Some(local) = value.to_str().ok().and_then(|v| inner.localize(v))
            && let Ok(local) = HeaderValue::from_str(&local)
        {
            out.append_header((name.clone(), local));
            continue;
        }
        out.append_header((name.clone(), value.clone()));
    }
    jar.save(session, inner.settings.max_jar_bytes);
    if let Some(location) = location {
        let path = redirect_token_path(
            inner.session.use_get,
            response.status.as_u16(),
            public_url,
            &location,
        );
        let location = match path {
            Some(path) if !session.is_empty() => match session.redirect_location(&path).await {
                Ok(with_token) => with_token,
                Err(err) => {
                    tracing::warn!(error = %err, "no redirect token for the upstream's redirect");
                    location
                }
            },
            _ => location,
        };
        if let Ok(value) = HeaderValue::from_str(&location) {
            out.insert_header((header::LOCATION, value));
        }
    }

    let no_body = matches!(
        response.status,
        StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
    );
    if no_body {
        return out.finish();
    }
    let length = response
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let rewritable = || body_charset(response.status.as_u16(), &response.headers, length).is_some();
    match length {
        Some(len) if len <= HOLD_WHOLE_BYTES && !head && rewritable() => {
            match read_whole(response.body, len).await {
                Ok(page) => out.body(page),
                Err(err) => {
                    tracing::warn!(error = %err, "cookieless-proxy: the upstream's page broke off");
                    crate::middleware::answered(Answer::opaque(502, "Bad Gateway"))
                }
            }
        }
        Some(len) => out.body(SizedStream::new(len, response.body)),
        None => out.body(BodyStream::new(response.body)),
    }
}

/// The body of `len` bytes, read to its end; an error when it ends sooner or runs longer.
async fn read_whole(mut body: ResponseBody, len: u64) -> io::Result<Bytes> {
    let mut page = BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
    while let Some(piece) = poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
        page.extend_from_slice(&piece?);
        if page.len() as u64 > len {
            return Err(io::Error::other("the page ran past its Content-Length"));
        }
    }
    if (page.len() as u64) < len {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(page.freeze())
}
