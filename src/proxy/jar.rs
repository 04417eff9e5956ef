//! The visitor's cookie jar, kept in the session: what the upstream sets with `Set-Cookie` stays
//! on the server and goes back upstream as `Cookie`, by RFC 6265's rules (`cookie_store`:
//! domain, path, expiry, `Secure`, `HttpOnly`). The browser never sees a cookie.
//!
//! Each cookie is its own session entry, and a response writes only the entries of the cookies
//! it changed: the store merges entries, so ten requests of one visitor at once, each setting a
//! cookie, leave all ten in the jar (one entry for the whole jar kept only the last).

use std::{collections::HashMap, convert::Infallible};

use cookie_store::{Cookie, CookieStore, RawCookie};
use url::Url;

use crate::Session;

/// The prefix of the session entries that hold cookies; the rest of the name is the cookie's
/// domain, path and name as a JSON array, which no two cookies share.
const COOKIE_PREFIX: &str = "cookieless-proxy.cookie";

/// The one entry that held the whole jar in earlier versions: read, then replaced by cookie entries.
const OLD_JAR_KEY: &str = "cookieless-proxy.jar";

/// One visitor's cookies for this request, and the entries the session held before it.
pub(crate) struct Jar {
    cookies: CookieStore,
    stored: HashMap<String, String>,
}

impl Jar {
    /// The jar the session holds; an unreadable cookie is dropped (the app sees it unset).
    pub(crate) fn load(session: &Session) -> Self {
        let stored: HashMap<String, String> = session
            .entries()
            .into_iter()
            .filter(|(name, _)| name.starts_with(COOKIE_PREFIX) || name == OLD_JAR_KEY)
            .collect();
        let mut cookies = Vec::with_capacity(stored.len());
        for (name, json) in &stored {
            let read = if name == OLD_JAR_KEY {
                // The whole jar's JSON, kept as a JSON string.
                serde_json::from_str::<String>(json)
                    .and_then(|jar| serde_json::from_str::<Vec<Cookie<'static>>>(&jar))
            } else {
                serde_json::from_str::<Cookie<'static>>(json).map(|cookie| vec![cookie])
            };
            match read {
                Ok(read) => cookies.extend(read),
                Err(err) => {
                    tracing::warn!(error = %err, "a stored cookie could not be read; dropped");
                }
            }
        }
        let cookies =
            CookieStore::from_cookies(cookies.into_iter().map(Ok::<_, Infallible>), false)
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
        // RFC 6265bis 5.7 (every browser since 2016): a page that is not secure sets no
        // `Secure` cookie, and does not overwrite one of the same name. cookie_store takes both.
        if !is_secure(url) {
            let Ok(cookie) = RawCookie::parse(value) else {
                return;
            };
            let shadows_secure = self
                .cookies
                .iter_any()
                .any(|kept| kept.secure() == Some(true) && kept.name() == cookie.name());
            if cookie.secure() == Some(true) || shadows_secure {
                tracing::debug!(
                    name = cookie.name(),
                    "the upstream set a Secure cookie (or one shadowing it) on an http page: dropped"
                );
                return;
            }
        }
        if let Err(err) = self.cookies.parse(value, url) {
            tracing::debug!(error = %err, "the upstream set a cookie the jar refused");
        }
    }

    /// Writes back the cookies this response changed, each as its own entry (the others are
    /// not written, so a concurrent request's cookies stay). A jar larger than `max_bytes` is
    /// not kept (the old cookies stay), so one visitor cannot grow the store without end.
    pub(crate) fn save(self, session: &Session, max_bytes: usize) {
        let now = to_entries(&self.cookies);
        let size: usize = now
            .iter()
            .map(|(name, (json, _))| name.len() + json.len())
            .sum();
        let changed = |name: &String, json: &String| self.stored.get(name) != Some(json);
        if size > max_bytes && now.iter().any(|(name, (json, _))| changed(name, json)) {
            tracing::warn!(
                bytes = size,
                max_jar_bytes = max_bytes,
                "the upstream's cookies outgrew proxy.max_jar_bytes; the new ones are dropped"
            );
            return;
        }
        for name in self.stored.keys().filter(|name| !now.contains_key(*name)) {
            session.remove(name);
        }
        for (name, (json, cookie)) in &now {
            if changed(name, json)
                && let Err(err) = session.insert(name.clone(), cookie)
            {
                tracing::warn!(error = %err, "a cookie could not be kept in the session");
            }
        }
    }
}

/// The unexpired cookies as session entries: each cookie's JSON (and the cookie) under a name
/// made of its domain, path and name.
fn to_entries(jar: &CookieStore) -> HashMap<String, (String, &Cookie<'static>)> {
    let mut entries = HashMap::new();
    for cookie in jar.iter_unexpired() {
        let id = (
            String::from(&cookie.domain),
            String::from(&cookie.path),
            cookie.name(),
        );
        match (serde_json::to_string(&id), serde_json::to_string(cookie)) {
            (Ok(id), Ok(json)) => {
                entries.insert(format!("{COOKIE_PREFIX}{id}"), (json, cookie));
            }
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!(error = %err, "a cookie could not be written");
            }
        }
    }
    entries
}

/// Whether a browser treats `url` as secure for cookies: https, or the local machine
/// (`localhost`, loopback addresses), as cookie_store does when it sends them.
fn is_secure(url: &Url) -> bool {
    match url.host() {
        _ if url.scheme() == "https" => true,
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(set: &[&str], url: &Url) -> Jar {
        let mut jar = Jar {
            cookies: CookieStore::default(),
            stored: HashMap::new(),
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
    fn a_secure_cookie_is_set_only_by_an_https_page_and_not_shadowed_over_http() {
        let (http, https) = (
            Url::parse("http://app.example/").unwrap(),
            Url::parse("https://app.example/").unwrap(),
        );
        let mut jar = jar(&["tls=1; Secure", "plain=1"], &http);
        assert_eq!(jar.cookie_header(&https).as_deref(), Some("plain=1"));
        jar.set_cookie("tls=2; Secure", &https);
        assert_eq!(jar.cookie_header(&https).as_deref(), Some("plain=1; tls=2"));
        assert_eq!(jar.cookie_header(&http).as_deref(), Some("plain=1"));
        // An http page neither overwrites it nor plants a plain cookie of its name.
        jar.set_cookie("tls=evil", &http);
        assert_eq!(jar.cookie_header(&https).as_deref(), Some("plain=1; tls=2"));
    }

    #[test]
    fn an_expired_cookie_is_removed_and_an_unchanged_cookie_serialises_alike() {
        let url = Url::parse("http://app.example/").unwrap();
        let mut jar = jar(&["a=1", "b=2", "c=3", "d=4", "e=5"], &url);
        let first: HashMap<String, String> = to_entries(&jar.cookies)
            .into_iter()
            .map(|(name, (json, _))| (name, json))
            .collect();
        let reloaded = first
            .values()
            .map(|json| serde_json::from_str::<Cookie<'static>>(json).unwrap());
        let reloaded = CookieStore::from_cookies(reloaded.map(Ok::<_, Infallible>), false).unwrap();
        let again: HashMap<String, String> = to_entries(&reloaded)
            .into_iter()
            .map(|(name, (json, _))| (name, json))
            .collect();
        assert_eq!(again, first);

        jar.set_cookie("b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", &url);
        assert_eq!(
            jar.cookie_header(&url).as_deref(),
            Some("a=1; c=3; d=4; e=5")
        );
    }
}
