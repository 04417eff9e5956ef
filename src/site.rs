//! Whether an unsafe request comes from this site: the check that keeps a cross-site form post
//! from riding a visitor's token (the token is in the page, so the browser will send it along).

use url::Url;

use crate::headers::{HeaderView, as_text};

/// Where an unsafe request says it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// A safe method, this host or one in `hosts`, or no browser signal at all (a script).
    Same,
    /// Another site, or a signal that cannot be read (failing closed).
    Cross(&'static str),
}

/// Judges a request to `own_host` (the `Host` it was sent to, `host[:port]`): `Origin`, else
/// `Referer`, else `Sec-Fetch-Site`. Safe methods are always [`Site::Same`]: they change nothing.
pub(crate) fn judge(
    safe_method: bool,
    headers: &impl HeaderView,
    own_host: &str,
    hosts: &[String],
) -> Site {
    if safe_method {
        return Site::Same;
    }
    let own = split_host(own_host);
    if let Some(origin) = headers.first("origin") {
        return match as_text(origin).map(str::trim) {
            // Sandboxed frames, `data:` pages and privacy-sensitive redirects send `null`.
            Some("null") => Site::Cross("Origin: null"),
            Some(origin) => judge_url(origin, own, hosts, "Origin"),
            None => Site::Cross("Origin is not text"),
        };
    }
    if let Some(referer) = headers.first("referer") {
        return match as_text(referer) {
            Some(referer) => judge_url(referer.trim(), own, hosts, "Referer"),
            None => Site::Cross("Referer is not text"),
        };
    }
    match headers.first("sec-fetch-site") {
        // `none`: the user typed it or chose a bookmark.
        None | Some(b"same-origin" | b"none") => Site::Same,
        Some(_) => Site::Cross("Sec-Fetch-Site"),
    }
}

fn judge_url(
    url: &str,
    own: Option<(String, Option<u16>)>,
    hosts: &[String],
    header: &'static str,
) -> Site {
    let Some(url) = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return Site::Cross(header);
    };
    let Some(host) = url.host_str() else {
        return Site::Cross(header);
    };
    let port = url.port_or_known_default();
    // Behind a TLS-terminating proxy the request may look like http while the page was https:
    // compare hosts, and ports only where the `Host` header names one.
    let own_site = own.is_some_and(|(own_host, own_port)| {
        own_host == host && own_port.is_none_or(|p| Some(p) == port)
    });
    if own_site || host_listed(hosts, host, port) {
        Site::Same
    } else {
        Site::Cross(header)
    }
}

/// `host[:port]` (IPv6 in brackets) as a lowercase host and an optional port.
fn split_host(host: &str) -> Option<(String, Option<u16>)> {
    let url = Url::parse(&format!("http://{host}/")).ok()?;
    let name = url.host_str()?.to_owned();
    Some((name, url.port()))
}

/// Whether `host` (with `port`) is in `hosts` (lowercase `host` or `host:port`; IPv6 in
/// brackets). An entry without a port allows any port.
pub(crate) fn host_listed(hosts: &[String], host: &str, port: Option<u16>) -> bool {
    hosts.iter().any(|allowed| match allowed.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
            h == host && p.parse::<u16>().ok() == port
        }
        _ => allowed == host,
    })
}

// The tests build requests with actix's header types.
#[cfg(all(test, feature = "actix"))]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, ORIGIN, REFERER};
    use proptest::prelude::*;

    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn post(pairs: &[(&str, &[u8])]) -> Site {
        judge(
            false,
            &headers(pairs),
            "shop.example",
            &["pay.example".to_owned()],
        )
    }

    #[test]
    fn origin_decides_first() {
        assert_eq!(post(&[("origin", b"https://shop.example")]), Site::Same);
        assert_eq!(post(&[("origin", b"http://shop.example")]), Site::Same);
        assert_eq!(post(&[("origin", b"https://pay.example")]), Site::Same);
        assert_eq!(
            post(&[("origin", b"https://evil.example")]),
            Site::Cross("Origin")
        );
        assert_eq!(
            post(&[("origin", b"https://shop.example.evil.example")]),
            Site::Cross("Origin")
        );
        assert_eq!(post(&[("origin", b"null")]), Site::Cross("Origin: null"));
        // The Referer cannot overrule a cross-site Origin.
        assert_eq!(
            post(&[
                ("origin", b"https://evil.example"),
                ("referer", b"https://shop.example/")
            ]),
            Site::Cross("Origin")
        );
    }

    #[test]
    fn referer_then_fetch_metadata() {
        assert_eq!(
            post(&[("referer", b"https://shop.example/cart?x=1")]),
            Site::Same
        );
        assert_eq!(
            post(&[("referer", b"https://evil.example/")]),
            Site::Cross("Referer")
        );
        assert_eq!(post(&[("sec-fetch-site", b"same-origin")]), Site::Same);
        assert_eq!(post(&[("sec-fetch-site", b"none")]), Site::Same);
        assert_eq!(
            post(&[("sec-fetch-site", b"same-site")]),
            Site::Cross("Sec-Fetch-Site")
        );
        assert_eq!(
            post(&[("sec-fetch-site", b"cross-site")]),
            Site::Cross("Sec-Fetch-Site")
        );
        // No browser signal at all: a script, which cannot be forged into sending a token.
        assert_eq!(post(&[]), Site::Same);
    }

    #[test]
    fn ports_count_where_the_host_names_one() {
        let judge_on =
            |own: &str, origin: &[u8]| judge(false, &headers(&[("origin", origin)]), own, &[]);
        assert_eq!(
            judge_on("shop.example:8443", b"https://shop.example:8443"),
            Site::Same
        );
        assert_eq!(
            judge_on("shop.example:8443", b"https://shop.example:9999"),
            Site::Cross("Origin")
        );
        assert_eq!(
            judge_on("127.0.0.1:8080", b"http://localhost:8080"),
            Site::Cross("Origin")
        );
        assert_eq!(judge_on("[::1]:8080", b"http://[::1]:8080"), Site::Same);
    }

    #[test]
    fn safe_methods_are_not_judged() {
        let h = headers(&[("origin", b"https://evil.example")]);
        assert_eq!(judge(true, &h, "shop.example", &[]), Site::Same);
        assert_eq!(judge(false, &h, "shop.example", &[]), Site::Cross("Origin"));
        assert_eq!(judge(false, &h, "shop.example", &[]), Site::Cross("Origin"));
    }

    #[test]
    fn unreadable_signals_fail_closed() {
        assert_eq!(
            post(&[("origin", b"\xff\xfe")]),
            Site::Cross("Origin is not text")
        );
        assert_eq!(
            post(&[("origin", b"javascript:alert(1)")]),
            Site::Cross("Origin")
        );
        assert_eq!(post(&[("referer", b"not a url")]), Site::Cross("Referer"));
        assert_eq!(
            post(&[("sec-fetch-site", b"\x80weird")]),
            Site::Cross("Sec-Fetch-Site")
        );
        assert_eq!(
            judge(
                false,
                &headers(&[("origin", b"https://a.example")]),
                "bad host\u{0}",
                &[]
            ),
            Site::Cross("Origin")
        );
    }

    /// Where a request may say it comes from, to `shop.example:8080` with `a.example:1`
    /// listed, and whether that is this site (written out by hand, not computed).
    fn signal() -> impl Strategy<Value = (Vec<u8>, bool)> {
        prop_oneof![
            Just((b"https://shop.example:8080".to_vec(), true)),
            Just((b"http://SHOP.example:8080/cart?x=1".to_vec(), true)),
            Just((b"https://a.example:1/p".to_vec(), true)),
            Just((b"https://shop.example".to_vec(), false)),
            Just((b"https://a.example:2".to_vec(), false)),
            Just((b"https://shop.example.evil:8080".to_vec(), false)),
            Just((b"https://user@evil.example:8080".to_vec(), false)),
            Just((b"ftp://shop.example:8080".to_vec(), false)),
            Just((b"null".to_vec(), false)),
            Just((b"/relative".to_vec(), false)),
            // Garbage is never this site.
            proptest::collection::vec(any::<u8>(), 0..80).prop_map(|bytes| (bytes, false)),
        ]
    }

    proptest! {
        /// Origin decides, else Referer, else Sec-Fetch-Site (absent, `same-origin` or `none`
        /// is this site); a value that is no header value is never sent, so the next decides.
        #[test]
        fn every_signal_is_judged_as_written(
            origin in proptest::option::of(signal()),
            referer in proptest::option::of(signal()),
            fetch_site in proptest::option::of(prop_oneof![
                Just("same-origin"), Just("none"), Just("same-site"), Just("cross-site"),
            ]),
        ) {
            let mut map = HeaderMap::new();
            let mut sent = |name, signal: &Option<(Vec<u8>, bool)>| {
                let (bytes, same) = signal.as_ref()?;
                map.insert(name, HeaderValue::from_bytes(bytes).ok()?);
                Some(*same)
            };
            let by_origin = sent(ORIGIN, &origin);
            let by_referer = sent(REFERER, &referer);
            if let Some(value) = fetch_site {
                map.insert(HeaderName::from_static("sec-fetch-site"), HeaderValue::from_static(value));
            }
            let expected_same = by_origin
                .or(by_referer)
                .unwrap_or(matches!(fetch_site, None | Some("same-origin" | "none")));
            let judged = judge(false, &map, "shop.example:8080", &["a.example:1".to_owned()]);
            prop_assert_eq!(judged == Site::Same, expected_same, "{:?}", map);
            prop_assert_eq!(judge(true, &map, "shop.example:8080", &[]), Site::Same);
        }
    }
}
