//! `delete_cookies`: expire every cookie the client sent, as django-cookieless's
//! DELETE_COOKIES does, so a cookieless scope also sheds cookies set elsewhere.

use crate::headers::{HeaderEdit, HeaderView, as_text};

/// The scope promises no cookies: every `Set-Cookie` the handler (or a proxied app) sent goes,
/// and with `delete_cookies` each cookie the client sent is expired (`expired`, from
/// [`expired`]).
pub(crate) fn replace_set_cookies(response: &mut impl HeaderEdit, expired: &[String]) {
    response.remove("set-cookie");
    for cookie in expired {
        response.append("set-cookie", cookie);
    }
}

/// At most this many cookies are expired per response (a browser sends far fewer).
const MAX_EXPIRED: usize = 64;

/// A `Set-Cookie` value that expires each cookie named in `request`'s `Cookie` headers (at path
/// `/`, where cookies usually live). Names that are not RFC 6265 tokens are skipped: they cannot
/// be written back safely.
pub(crate) fn expired(request: &impl HeaderView) -> Vec<String> {
    let names = request
        .values("cookie")
        .filter_map(as_text)
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.trim()))
        .filter(|name| !name.is_empty() && name.bytes().all(is_token_byte));
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for name in names {
        if seen.len() == MAX_EXPIRED {
            break;
        }
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        // A token name and fixed text: always a valid header value.
        out.push(format!(
            "{name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        ));
    }
    out
}

/// RFC 9110 `tchar`, which RFC 6265 cookie names are made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

// The tests build requests with actix's header types.
#[cfg(all(test, feature = "actix"))]
mod tests {
    use actix_web::http::header::{COOKIE, HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn every_sent_cookie_is_expired_once() {
        let mut request = HeaderMap::new();
        request.append(COOKIE, HeaderValue::from_static("a=1; b=2; a=3"));
        request.append(
            COOKIE,
            HeaderValue::from_static("c_d=x; bad name=1; =nameless; e"),
        );
        let set: Vec<_> = expired(&request);
        let set: Vec<_> = set.iter().map(String::as_str).collect();
        assert_eq!(
            set,
            [
                "a=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "b=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "c_d=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ]
        );
    }

    #[test]
    fn no_cookies_nothing_added_and_the_count_is_capped() {
        assert!(expired(&HeaderMap::new()).is_empty());
        let many: Vec<String> = (0..200).map(|i| format!("c{i}=1")).collect();
        let mut request = HeaderMap::new();
        request.insert(COOKIE, HeaderValue::from_str(&many.join("; ")).unwrap());
        assert_eq!(expired(&request).len(), MAX_EXPIRED);
    }
}
