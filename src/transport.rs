//! Finding the token in a request: header, then form body, then query string.
//!
//! A form body is read only as far as the token field (the rewriter makes it the first field),
//! `body_scan_limit` bytes or `body_scan_timeout`, whichever comes first; what was read is then
//! replayed to the handler ahead of the rest of the stream, so uploads are never buffered
//! whole. The scan is linear in the bytes read however they are chunked (a body sent a byte
//! at a time costs no more CPU than one sent at once), and what it holds is those bytes, once.

use std::{collections::VecDeque, future::poll_fn, pin::Pin};

use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, timeout_at};

use crate::{
    form::{FormScanner, MAX_TOKEN_LEN, Scan},
    headers::{HeaderView, as_text},
    settings::ValidSettings,
};

/// How the request carried the token that opened its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The request header (`X-Session-ID` by default): scripts and APIs. A browser sends a
    /// custom header cross-site only after a CORS preflight, so these requests are not
    /// forgeable cross-site (django-session-header marks them `csrf_exempt` for that reason).
    Header,
    /// The hidden form field of a POST body.
    FormField,
    /// The query string of the URL (only with `use_get`).
    Query,
    /// The redirect token of a `303 See Other` ([`Session::redirect_location`](crate::Session::redirect_location), as `see_other` sends it), in the URL of the
    /// GET that follows it.
    Redirect,
    /// The session cookie (`cookie = "auto"`), on a request that carried no token otherwise:
    /// the browser keeps the cookie, so its pages are not rewritten.
    Cookie,
    /// No token opened a session: the session is new.
    None,
}

/// The session cookie's token beside the token `found` otherwise (`cookie = "auto"`): whether
/// the browser keeps the cookie is told by it. `None` when the token came by cookie (that
/// tells it already) or there is none.
pub(crate) fn cookie_beside<'h>(
    found: Option<&(Transport, String)>,
    headers: &'h impl HeaderView,
    settings: &ValidSettings,
) -> Option<&'h str> {
    if matches!(found, Some((Transport::Cookie, _))) {
        return None;
    }
    settings.cookie.as_ref()?.in_request(headers)
}

/// The session cookie's token (`cookie = "auto"`): what a request that carries no token in a
/// header, form or URL is opened with.
pub(crate) fn from_cookie(
    headers: &impl HeaderView,
    settings: &ValidSettings,
) -> Option<(Transport, String)> {
    let token = settings.cookie.as_ref()?.in_request(headers)?;
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN)
        .then(|| (Transport::Cookie, token.to_owned()))
}

/// The token header: `None` when the request has none (look further); `Some(None)` when it
/// has one that is no token (a header that is not text, or empty: first match wins, so stop).
pub(crate) fn from_header(
    headers: &impl HeaderView,
    settings: &ValidSettings,
) -> Option<Option<(Transport, String)>> {
    let value = headers.first(settings.header_name.as_str())?;
    let token = as_text(value).map(str::trim).filter(|t| !t.is_empty());
    Some(token.map(|token| (Transport::Header, token.to_owned())))
}

/// The token in the query string: with `use_get` any request's; without, only a GET's or a
/// HEAD's, and then as a redirect token (`Session::see_other`), which opens only a GET of the
/// path it was sealed for.
pub(crate) fn in_url(
    query: &str,
    get_or_head: bool,
    settings: &ValidSettings,
) -> Option<(Transport, String)> {
    let transport = if settings.use_get {
        Transport::Query
    } else if get_or_head {
        Transport::Redirect
    } else {
        return None;
    };
    from_query(query, &settings.param_name).map(|token| (transport, token))
}

/// The first value of `param` in a query string.
pub(crate) fn from_query(query: &str, param: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == param)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty() && value.len() <= MAX_TOKEN_LEN)
}

/// What [`scan_body`] read of a form body: the token if it found one, and what the handler
/// must still get, in order: the bytes read, then the error met, then (unless the body ended)
/// the rest of the stream.
pub(crate) struct BodyScan<E> {
    pub(crate) found: Option<String>,
    pub(crate) read: VecDeque<Bytes>,
    pub(crate) error: Option<E>,
    pub(crate) ended: bool,
}

/// Reads a form `body` as far as the token field, `body_scan_limit` bytes or
/// `body_scan_timeout`, whichever comes first. `None` when the content type is no form.
pub(crate) async fn scan_body<E>(
    body: &mut (impl Stream<Item = Result<Bytes, E>> + Unpin),
    content_type: &str,
    settings: &ValidSettings,
) -> Option<BodyScan<E>> {
    let mut scanner =
        FormScanner::new(content_type, &settings.param_name, settings.body_scan_limit)?;
    // What the scanner did not keep of the last chunk read (past the byte limit).
    let mut tail = Bytes::new();
    let mut error = None;
    let mut ended = false;
    let mut found = None;
    let deadline = Instant::now() + settings.body_scan_timeout;
    loop {
        let next = poll_fn(|cx| Pin::new(&mut *body).poll_next(cx));
        let Ok(next) = timeout_at(deadline, next).await else {
            tracing::debug!(
                timeout = ?settings.body_scan_timeout,
                "form body too slow to reach the token field; the request goes on without a token"
            );
            break;
        };
        match next {
            Some(Ok(chunk)) => {
                let (scan, kept) = scanner.feed(&chunk);
                tail = chunk.slice(kept..);
                match scan {
                    Scan::Found(token) => {
                        found = Some(token);
                        break;
                    }
                    Scan::Absent => break,
                    Scan::NeedMore => {}
                }
            }
            Some(Err(err)) => {
                // The handler meets the same error where it would have without us.
                error = Some(err);
                break;
            }
            None => {
                ended = true;
                if let Scan::Found(token) = scanner.finish() {
                    found = Some(token);
                }
                break;
            }
        }
    }
    let read = [Bytes::from(scanner.into_bytes()), tail]
        .into_iter()
        .filter(|bytes| !bytes.is_empty())
        .collect();
    Some(BodyScan {
        found,
        read,
        error,
        ended,
    })
}

/// Whether a request with this method may carry a form body worth scanning.
pub(crate) fn may_carry_form(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(use_get: bool) -> ValidSettings {
        let mut settings = crate::Settings::new("transport-test-secret-0123456789abcdef");
        settings.use_get = use_get;
        settings.validate().unwrap()
    }

    #[test]
    #[cfg(feature = "actix")]
    fn the_header_wins_and_a_header_that_is_no_token_ends_the_search() {
        use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
        let with = |value: &'static [u8]| {
            let mut map = HeaderMap::new();
            map.insert(
                HeaderName::from_static("x-session-id"),
                HeaderValue::from_bytes(value).unwrap(),
            );
            map
        };
        let s = settings(true);
        assert_eq!(
            from_header(&with(b" T0K "), &s),
            Some(Some((Transport::Header, "T0K".to_owned())))
        );
        assert_eq!(from_header(&with(b"  "), &s), Some(None));
        assert_eq!(from_header(&with(b"caf\xe9"), &s), Some(None));
        assert_eq!(from_header(&HeaderMap::new(), &s), None);
    }

    #[test]
    fn a_url_token_is_ordinary_with_use_get_and_a_redirect_token_of_a_get_without() {
        let query = "a=1&sessionid=T0K";
        assert_eq!(
            in_url(query, false, &settings(true)),
            Some((Transport::Query, "T0K".to_owned()))
        );
        assert_eq!(
            in_url(query, true, &settings(false)),
            Some((Transport::Redirect, "T0K".to_owned()))
        );
        assert_eq!(in_url(query, false, &settings(false)), None, "a POST's URL");
        assert_eq!(in_url("a=1", true, &settings(true)), None);
    }

    #[test]
    fn query_parameter() {
        assert_eq!(
            from_query("a=1&sessionid=abc", "sessionid"),
            Some("abc".into())
        );
        assert_eq!(from_query("sessionid=", "sessionid"), None);
        assert_eq!(from_query("", "sessionid"), None);
    }
}
