//! Access to headers, whatever the web framework's header type is: read for what the client,
//! site and cookie checks read, written for the edits every door makes to a response (its
//! token's headers, cookies, charset), so that they are made once, with no framework.

/// A request's headers, read by lowercase name.
pub(crate) trait HeaderView {
    /// Every value of header `name`, in the order received.
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a;

    /// The first value of header `name`.
    fn first(&self, name: &str) -> Option<&[u8]> {
        self.values(name).next()
    }
}

#[cfg(feature = "actix")]
impl HeaderView for actix_web::http::header::HeaderMap {
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name)
            .map(actix_web::http::header::HeaderValue::as_bytes)
    }
}

#[cfg(feature = "tower")]
impl HeaderView for http::HeaderMap {
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name)
            .into_iter()
            .map(http::HeaderValue::as_bytes)
    }
}

/// Write access to a response's headers, by lowercase name. A name or value that is no
/// header's (never one of ours: names are checked settings, tokens, policies and charsets
/// plain ASCII) is not written.
pub(crate) trait HeaderEdit: HeaderView {
    /// Replaces every value of `name` with `value`.
    fn set(&mut self, name: &str, value: &str);
    /// Adds `value` after those of `name`.
    fn append(&mut self, name: &str, value: &str);
    fn remove(&mut self, name: &str);
}

#[cfg(feature = "actix")]
impl HeaderEdit for actix_web::http::header::HeaderMap {
    fn set(&mut self, name: &str, value: &str) {
        use actix_web::http::header::{HeaderName, HeaderValue};
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            self.insert(name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        use actix_web::http::header::{HeaderName, HeaderValue};
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            self.append(name, value);
        }
    }

    fn remove(&mut self, name: &str) {
        self.remove(name);
    }
}

#[cfg(feature = "tower")]
impl HeaderEdit for http::HeaderMap {
    fn set(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_str(value),
        ) {
            self.insert(name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::from_str(value),
        ) {
            self.append(name, value);
        }
    }

    fn remove(&mut self, name: &str) {
        self.remove(name);
    }
}

/// A header value as text, under HTTP's rule for it (visible ASCII, spaces and tabs): what
/// `HeaderValue::to_str` accepts. `None` for anything else, which callers treat as unreadable.
pub(crate) fn as_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

// The tests build requests with actix's header types.
#[cfg(all(test, feature = "actix"))]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn values_come_in_order_and_text_follows_http() {
        let mut map = HeaderMap::new();
        let name = HeaderName::from_static("x-forwarded-for");
        map.append(name.clone(), HeaderValue::from_static("192.0.2.1"));
        map.append(name, HeaderValue::from_static("198.51.100.2"));
        let values: Vec<&[u8]> = map.values("x-forwarded-for").collect();
        assert_eq!(values, [&b"192.0.2.1"[..], &b"198.51.100.2"[..]]);
        assert_eq!(map.first("x-forwarded-for"), Some(&b"192.0.2.1"[..]));
        assert_eq!(map.first("origin"), None);
        assert_eq!(as_text(b"a b\tc"), Some("a b\tc"));
        assert_eq!(as_text(b"caf\xc3\xa9"), None, "not visible ASCII");
        assert_eq!(as_text(b"a\nb"), None);
    }
}
