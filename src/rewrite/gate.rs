//! Whether a response is an HTML document we may rewrite, and what its header says of its charset.

use std::sync::atomic::{AtomicBool, Ordering};

use encoding_rs::Encoding;

use crate::headers::{HeaderView, as_text};

/// The charset a response's `Content-Type` gives an HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// Named in the header: the browser decodes the page in it, whatever `<meta>` says.
    Declared(&'static Encoding),
    /// Not named: the browser sniffs the page's first bytes (see `charset::sniff`).
    Undeclared,
}

/// The charset the body of a response is rewritten in, or `None` to leave the body alone: an
/// empty body (`len` is the body's length when known, `Some(0)` for none), or one
/// [`html_charset`] refuses. The one place that decides whether a body is
/// rewritten (whether the response is, `rewrite` and `exclude` decide, in
/// `ValidSettings::rewrites`).
pub(crate) fn body_charset(
    status: u16,
    headers: &impl HeaderView,
    len: Option<u64>,
) -> Option<Charset> {
    if len == Some(0) {
        return None;
    }
    html_charset(status, headers)
}

/// The charset of a response to rewrite, or `None` to leave it alone: not HTML or XHTML,
/// already compressed, a status without a body, or a charset lol_html cannot parse (see
/// [`rewritable`]).
///
/// A response to HEAD is rewritten like the GET it stands for: the server sends no body, but
/// its `Content-Length` is then the length GET sends, not the handler's shorter one.
pub(crate) fn html_charset(status: u16, headers: &impl HeaderView) -> Option<Charset> {
    // Informational, No Content and Not Modified answers have no body.
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return None;
    }
    if let Some(coding) = headers.first("content-encoding")
        && !coding.eq_ignore_ascii_case(b"identity")
    {
        return None;
    }
    let content_type = as_text(headers.first("content-type")?)?;
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim();
    if !essence.eq_ignore_ascii_case("text/html")
        && !essence.eq_ignore_ascii_case("application/xhtml+xml")
    {
        return None;
    }
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"'));
    match charset {
        None => Some(Charset::Undeclared),
        Some(label) => rewritable(Encoding::for_label(label.as_bytes())?).map(Charset::Declared),
    }
}

/// `encoding` when lol_html can parse it; `None` for UTF-16 and the other encodings that are
/// not ASCII-compatible (those pages pass through without tokens, said once in the log).
pub(crate) fn rewritable(encoding: &'static Encoding) -> Option<&'static Encoding> {
    if !encoding.is_ascii_compatible() {
        static SAID: AtomicBool = AtomicBool::new(false);
        if !SAID.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                charset = encoding.name(),
                "actix-cookieless cannot rewrite {} pages; they pass through without tokens (said once)",
                encoding.name()
            );
        }
        return None;
    }
    Some(encoding)
}

// The tests build requests with actix's header types.
#[cfg(all(test, feature = "actix"))]
mod tests {
    use super::*;
    use actix_web::http::{
        StatusCode,
        header::{self, HeaderMap, HeaderValue},
    };

    const OK: u16 = 200;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    fn enc(ct: &'static str) -> Option<&'static str> {
        let charset = html_charset(OK, &headers(&[(header::CONTENT_TYPE, ct)]))?;
        Some(match charset {
            Charset::Declared(encoding) => encoding.name(),
            Charset::Undeclared => "undeclared",
        })
    }

    #[test]
    fn content_types_and_charsets() {
        assert_eq!(enc("text/html"), Some("undeclared"));
        assert_eq!(enc("text/html; q=1"), Some("undeclared"));
        assert_eq!(
            enc("Text/HTML; charset=\"windows-1252\""),
            Some("windows-1252")
        );
        assert_eq!(enc("text/html; charset=latin1"), Some("windows-1252"));
        assert_eq!(enc("text/html;charset=Shift_JIS"), Some("Shift_JIS"));
        assert_eq!(enc("application/xhtml+xml; charset=utf-8"), Some("UTF-8"));
        assert_eq!(enc("text/html; charset=utf-16"), None);
        assert_eq!(enc("text/html; charset=nonsense"), None);
        assert_eq!(enc("text/plain"), None);
        assert_eq!(enc("application/json"), None);
        assert_eq!(enc("text/htmlx"), None);
    }

    #[test]
    fn methods_statuses_and_encodings() {
        let html = headers(&[(header::CONTENT_TYPE, "text/html")]);
        assert!(html_charset(OK, &html).is_some());
        assert!(html_charset(StatusCode::NO_CONTENT.as_u16(), &html).is_none());
        assert!(html_charset(StatusCode::NOT_MODIFIED.as_u16(), &html).is_none());
        assert!(html_charset(StatusCode::NOT_FOUND.as_u16(), &html).is_some());
        let gz = headers(&[
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "gzip"),
        ]);
        assert!(html_charset(OK, &gz).is_none());
        let id = headers(&[
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "identity"),
        ]);
        assert!(html_charset(OK, &id).is_some());
        assert!(html_charset(OK, &HeaderMap::new()).is_none());
    }
}
