//! The visitor's cookie jar, kept in the session: what the upstream sets with `Set-Cookie` stays
//! on the server and goes back upstream as `Cookie`, by RFC 6265's rules (`cookie_store`:
//! domain, path, expiry, `Secure`, `HttpOnly`). The browser never sees a cookie.

use std::convert::Infallible;

use cookie_store::{Cookie, CookieStore};
use url::Url;

use crate::Session;

/// The session entry that holds the jar.
pub(crate) const JAR_KEY: &str = "cookieless-proxy.jar";

/// One visitor's cookies for this request, and what the session held before it.
pub(crate) struct Jar {
    cookies: CookieStore,
    stored: Option<String>,
}

impl Jar {
    /// The jar the session holds; an unreadable one is dropped (the app sees a new visitor).
    pub(crate) fn load(session: &Session) -> Self {
        let stored = session.get::<String>(JAR_KEY).ok().flatten();
        let cookies = stored
            .as_deref()
            .and_then(|json| match serde_json::from_str::<Vec<Cookie<'static>>>(json) {
                Ok(cookies) => Some(cookies),
                Err(err) => {
                    tracing::warn!(error = %err, "a stored cookie jar could not be read; dropped");
                    None
                }
            })
            .map(|cookies| CookieStore::from_cookies(cookies.into_iter().map(Ok::<_, Infallible>), false))
            .and_then(Result::ok)
            .unwrap_or_default();
        Self { cookies, stored }
    }

    /// The `Cookie` header value for a request to `url` (the public URL the browser asked for,
    /// so `Secure`, domain and path match as they would in a browser).
    pub(crate) fn cookie_header(&self, url: &Url) -> Option<String> {
        // RFC 6265 5.4: longer paths first; the store's maps give no order of their own.
        let mut cookies = self.cookies.matches(url);
        cookies.sort_by(|a, b| {
            let (pa, pb): (&str, &str) = (a.path.as_ref(), b.path.as_ref());
            pb.len().cmp(&pa.len()).then_with(|| a.name().cmp(b.name()))
        });
        let mut header = String::new();
        for (name, value) in cookies.iter().map(|c| c.name_value()) {
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(name);
            header.push('=');
            header.push_str(value);
        }
        (!header.is_empty()).then_some(header)
    }

    /// Takes one `Set-Cookie` value of a response to `url`; a cookie the rules refuse (a
    /// domain that is not the URL's, `Secure` over http) is dropped, as a browser would.
    pub(crate) fn set_cookie(&mut self, value: &str, url: &Url) {
        if let Err(err) = self.cookies.parse(value, url) {
            tracing::debug!(error = %err, "the upstream set a cookie the jar refused");
        }
    }

    /// Writes the jar back into the session if it changed. A jar larger than `max_bytes` is
    /// not kept (the old one stays), so one visitor cannot grow the store without end.
    pub(crate) fn save(self, session: &Session, max_bytes: usize) {
        let Some(json) = to_json(&self.cookies) else {
            if self.stored.is_some() {
                session.remove(JAR_KEY);
            }
            return;
        };
        if self.stored.as_deref() == Some(json.as_str()) {
            return;
        }
        if json.len() > max_bytes {
            tracing::warn!(
                bytes = json.len(),
                max_jar_bytes = max_bytes,
                "the upstream's cookies outgrew proxy.max_jar_bytes; the new ones are dropped"
            );
            return;
        }
        if let Err(err) = session.insert(JAR_KEY, json) {
            tracing::warn!(error = %err, "the cookie jar could not be kept in the session");
        }
    }
}

/// The unexpired cookies in a fixed order (the store's maps are unordered), so an unchanged
/// jar serialises to the same text and costs no store write; `None` for an empty jar.
fn to_json(jar: &CookieStore) -> Option<String> {
    let mut cookies: Vec<&Cookie<'static>> = jar.iter_unexpired().collect();
    if cookies.is_empty() {
        return None;
    }
    cookies.sort_by(|a, b| {
        let key = |c: &Cookie<'_>| (String::from(&c.domain), String::from(&c.path));
        key(a).cmp(&key(b)).then_with(|| a.name().cmp(b.name()))
    });
    match serde_json::to_string(&cookies) {
        Ok(json) => Some(json),
        Err(err) => {
            tracing::warn!(error = %err, "the cookie jar could not be written");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(set: &[&str], url: &Url) -> Jar {
        let mut jar = Jar {
            cookies: CookieStore::default(),
            stored: None,
        };
        for value in set {
            jar.set_cookie(value, url);
        }
        jar
    }

    #[test]
    fn cookies_follow_rfc_6265_path_secure_and_expiry() {
        let http = Url::parse("http://app.example/shop/cart").unwrap();
        let jar = jar(
            &[
                "PHPSESSID=abc; path=/; HttpOnly; SameSite=Lax",
                "cart=1; Path=/shop",
                "admin=1; Path=/admin",
                "tls=1; Secure",
                "gone=1; Max-Age=0",
                "other=1; Domain=other.example",
            ],
            &http,
        );
        assert_eq!(
            jar.cookie_header(&http).as_deref(),
            Some("cart=1; PHPSESSID=abc")
        );
        let admin = Url::parse("http://app.example/admin/x").unwrap();
        assert_eq!(
            jar.cookie_header(&admin).as_deref(),
            Some("admin=1; PHPSESSID=abc")
        );
        let https = Url::parse("https://app.example/").unwrap();
        assert_eq!(jar.cookie_header(&https).as_deref(), Some("PHPSESSID=abc"));
    }

    #[test]
    fn an_expired_cookie_is_removed_and_an_unchanged_jar_serialises_alike() {
        let url = Url::parse("http://app.example/").unwrap();
        let mut jar = jar(&["a=1", "b=2", "c=3", "d=4", "e=5"], &url);
        let first = to_json(&jar.cookies).unwrap();
        let reloaded: Vec<Cookie<'static>> = serde_json::from_str(&first).unwrap();
        let reloaded =
            CookieStore::from_cookies(reloaded.into_iter().map(Ok::<_, Infallible>), false)
                .unwrap();
        assert_eq!(to_json(&reloaded).unwrap(), first);

        jar.set_cookie("b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", &url);
        assert_eq!(
            jar.cookie_header(&url).as_deref(),
            Some("a=1; c=3; d=4; e=5")
        );
    }
}
