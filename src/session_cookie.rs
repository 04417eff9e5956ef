//! The session cookie of `cookie = "auto"`: the session's sealed, client-bound token, set as a
//! cookie where the browser may keep it, read back from a request, expired when the session
//! ends. The token travels in URLs and forms only for the requests that come without it.

use crate::headers::{HeaderView, as_text};

/// The checked `cookie_*` settings: how the session cookie is named and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionCookie {
    pub(crate) name: String,
    /// `None`, `Lax` or `Strict`.
    pub(crate) same_site: &'static str,
    pub(crate) partitioned: bool,
    /// `; Path=/; Secure; ...`: what follows the value, written once.
    attributes: String,
}

impl SessionCookie {
    pub(crate) fn new(name: String, same_site: &'static str, partitioned: bool) -> Self {
        let partitioned_attribute = if partitioned { "; Partitioned" } else { "" };
        Self {
            attributes: format!(
                "; Path=/; Secure; HttpOnly; SameSite={same_site}{partitioned_attribute}"
            ),
            name,
            same_site,
            partitioned,
        }
    }

    /// The `Set-Cookie` value that carries `token` (a sealed token: URL-safe characters only,
    /// always a valid cookie value). Always `Secure` and `HttpOnly`, for the whole site.
    pub(crate) fn set(&self, token: &str) -> String {
        let mut out =
            String::with_capacity(self.name.len() + 1 + token.len() + self.attributes.len());
        out.push_str(&self.name);
        out.push('=');
        out.push_str(token);
        out.push_str(&self.attributes);
        out
    }

    /// The `Set-Cookie` value that removes the cookie (with the attributes it was set with:
    /// a partitioned cookie is removed from its partition only).
    pub(crate) fn expired(&self) -> String {
        format!(
            "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
            self.name, self.attributes
        )
    }

    /// The cookie's value in the request's `Cookie` headers: the first one of this name. Other
    /// cookies are not read as text (a browser may send bytes of any kind in theirs).
    pub(crate) fn in_request<'a>(&self, request: &'a impl HeaderView) -> Option<&'a str> {
        request
            .values("cookie")
            .flat_map(|line| line.split(|&byte| byte == b';'))
            .find_map(|pair| {
                let equals = pair.iter().position(|&byte| byte == b'=')?;
                let (name, value) = pair.split_at(equals);
                (name.trim_ascii() == self.name.as_bytes()).then_some(&value[1..])
            })
            .and_then(as_text)
            .map(|value| value.trim().trim_matches('"'))
    }

    /// Whether a browser keeps a `Secure` cookie from the page at `scheme://host`: https, and
    /// the local machine (`localhost`, `*.localhost`, loopback addresses), which browsers treat
    /// as secure. Elsewhere the cookie is not set: the tokens carry the session.
    pub(crate) fn may_set(scheme: &str, host: &str) -> bool {
        if scheme.eq_ignore_ascii_case("https") {
            return true;
        }
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let host = host.to_ascii_lowercase();
        host == "localhost"
            || host.ends_with(".localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(partitioned: bool) -> SessionCookie {
        SessionCookie::new("__Host-sessionid".into(), "None", partitioned)
    }

    #[test]
    fn the_cookie_is_secure_httponly_for_the_whole_site() {
        assert_eq!(
            cookie(true).set("T0K"),
            "__Host-sessionid=T0K; Path=/; Secure; HttpOnly; SameSite=None; Partitioned"
        );
        assert_eq!(
            cookie(false).expired(),
            "__Host-sessionid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; \
             Secure; HttpOnly; SameSite=None"
        );
    }

    /// The request headers of a test: `Cookie` lines given as bytes.
    struct CookieLines<'a>(&'a [&'a [u8]]);

    impl HeaderView for CookieLines<'_> {
        fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
            assert_eq!(name, "cookie");
            self.0.iter().copied()
        }
    }

    #[test]
    fn the_first_cookie_of_its_name_is_read_whatever_the_others_hold() {
        let session = cookie(true);
        let found = |lines: &[&[u8]]| session.in_request(&CookieLines(lines)).map(str::to_owned);
        assert_eq!(found(&[b"__Host-sessionid=T0K"]), Some("T0K".to_owned()));
        assert_eq!(
            found(&[b"a=1; __Host-sessionid=\"T0K\" ; __Host-sessionid=second"]),
            Some("T0K".to_owned())
        );
        assert_eq!(
            found(&[b"theme=caf\xc3\xa9; __Host-sessionid=T0K"]),
            Some("T0K".to_owned()),
            "another cookie's UTF-8 does not hide ours"
        );
        assert_eq!(
            found(&[b"x=1", b"__Host-sessionid=T0K"]),
            Some("T0K".to_owned())
        );
        assert_eq!(found(&[b"__Host-sessionidX=1; sessionid=2"]), None);
        assert_eq!(
            found(&[b"__Host-sessionid=caf\xc3\xa9"]),
            None,
            "not a token"
        );
        assert_eq!(found(&[]), None);
    }

    #[test]
    fn only_secure_pages_and_the_local_machine_get_it() {
        for (scheme, host) in [
            ("https", "shop.example"),
            ("http", "localhost:8080"),
            ("http", "app.localhost"),
            ("http", "127.0.0.1:9000"),
            ("http", "[::1]:9000"),
        ] {
            assert!(SessionCookie::may_set(scheme, host), "{scheme}://{host}");
        }
        for (scheme, host) in [
            ("http", "shop.example"),
            ("http", "localhost.example"),
            ("http", "10.0.0.1"),
            ("http", "[2001:db8::1]:80"),
        ] {
            assert!(!SessionCookie::may_set(scheme, host), "{scheme}://{host}");
        }
    }
}
