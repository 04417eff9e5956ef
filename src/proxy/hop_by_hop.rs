//! Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection, not the message, and
//! the proxy passes none of them on, either way.

use actix_web::http::header::{self, HeaderMap, HeaderName};

/// Headers that describe one connection, not the message (RFC 9110 7.6.1), and are never
/// passed on; `proxy-connection` and `keep-alive` are their older spellings.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` is hop-by-hop: always-hop headers and those the `Connection` header lists.
pub(super) fn is_hop_by_hop(name: &HeaderName, headers: &HeaderMap) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
        || headers
            .get_all(header::CONNECTION)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|listed| listed.trim().eq_ignore_ascii_case(name.as_str()))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn connection_listed_headers_are_hop_by_hop() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, X-Secret"),
        );
        let secret = HeaderName::from_static("x-secret");
        assert!(is_hop_by_hop(&secret, &headers));
        assert!(is_hop_by_hop(&header::TRANSFER_ENCODING, &headers));
        assert!(!is_hop_by_hop(&header::CONTENT_TYPE, &headers));
    }
}
