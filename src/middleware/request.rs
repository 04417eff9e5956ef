//! What the engine reads of an actix request: its headers (as [`HeaderView`], and as
//! [`HeaderEdit`] for a response's), and the origin it was sent to.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::{
    client,
    headers::{HeaderEdit, HeaderView},
};

impl HeaderView for HeaderMap {
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name).map(HeaderValue::as_bytes)
    }
}

impl HeaderEdit for HeaderMap {
    fn set(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            self.insert(name, value);
        }
    }

    fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            self.append(name, value);
        }
    }

    fn remove(&mut self, name: &str) {
        self.remove(name);
    }
}

/// [`client::origin`] for an actix request: the scheme and host it was sent to.
pub(crate) fn request_origin(
    req: &actix_web::HttpRequest,
    trusted: &[crate::net::Cidr],
) -> (String, String) {
    let config = req.app_config();
    let uri = req.uri();
    let target = client::Target {
        peer: req.peer_addr().map(|addr| addr.ip()),
        uri_scheme: uri.scheme_str(),
        uri_authority: uri.authority().map(actix_web::http::uri::Authority::as_str),
        secure: config.secure(),
        default_host: config.host(),
    };
    client::origin(&target, req.headers(), trusted)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header;

    use super::*;
    use crate::{headers::as_text, net::Cidr};

    fn proxies() -> Vec<Cidr> {
        vec![Cidr::parse("10.0.0.0/8").unwrap()]
    }

    fn request(peer: &str, pairs: &[(&'static str, &'static str)]) -> actix_web::HttpRequest {
        let mut req = actix_web::test::TestRequest::default()
            .peer_addr(format!("{peer}:5000").parse().unwrap())
            .insert_header((header::HOST, "shop.example"));
        for pair in pairs {
            req = req.insert_header(*pair);
        }
        req.to_http_request()
    }

    const SPOOFED: [(&str, &str); 3] = [
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "host=evil.example;proto=https"),
    ];

    #[test]
    fn forwarded_host_and_scheme_from_an_untrusted_peer_are_ignored() {
        for header in SPOOFED {
            let origin = request_origin(&request("203.0.113.9", &[header]), &proxies());
            assert_eq!(origin, ("http".into(), "shop.example".into()), "{header:?}");
        }
    }

    #[test]
    fn forwarded_host_and_scheme_from_a_trusted_proxy_count() {
        let req = request("10.0.0.1", &[SPOOFED[0], SPOOFED[1]]);
        assert_eq!(
            request_origin(&req, &proxies()),
            ("https".into(), "evil.example".into())
        );
        let req = request("10.0.0.1", &[SPOOFED[2]]);
        assert_eq!(
            request_origin(&req, &proxies()),
            ("https".into(), "evil.example".into())
        );
    }

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
