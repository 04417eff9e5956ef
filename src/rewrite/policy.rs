//! Which URLs may carry the token, and how the token is put into them. Pure: no I/O, no HTML
//! (attribute text is decoded and encoded in [`attribute`](super::attribute)).
//!
//! A URL is same-origin when, resolved the way a browser resolves it (WHATWG URL parsing:
//! `//host`, `/\host` and `\\host` are other hosts, surrounding whitespace is stripped, schemes
//! are case-insensitive), it is `http` or `https`, carries no user info, and its host and port
//! are the page's own (with the page's scheme) or listed in `hosts`. Empty URLs, fragment-only
//! URLs and every other scheme (`javascript:`, `data:`, `mailto:`, `tel:`, ...) never qualify.

use std::{borrow::Cow, sync::Arc};

use url::Url;

use crate::{
    site::host_listed,
    url_param::{push_with_param, with_param},
};

/// Seals a token bound to a URL path (`url_specific`): given the path a link or form points
/// to, the token to put there (`None` when sealing failed: that URL gets no token).
pub type PathSealer = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// One token for every URL, or one sealed for each URL's path.
#[derive(Clone)]
enum Tokens {
    Fixed(String),
    PerPath(PathSealer),
}

/// Decides where the token may go, for one page.
#[derive(Clone)]
pub struct LinkPolicy {
    page: Url,
    /// Whether the page itself is this site's (no user info): what every relative link asks.
    page_is_own: bool,
    hosts: Vec<String>,
    param_name: String,
    tokens: Tokens,
    /// `use_get`: links, GET forms, frames, refreshes and redirects get the token too.
    use_get: bool,
}

impl std::fmt::Debug for LinkPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkPolicy")
            .field("page", &self.page.as_str())
            .field("hosts", &self.hosts)
            .field("param_name", &self.param_name)
            .field("per_path", &matches!(self.tokens, Tokens::PerPath(_)))
            .field("use_get", &self.use_get)
            .finish_non_exhaustive()
    }
}

impl LinkPolicy {
    /// A policy for the page at `page_url` (absolute: scheme, host, port, path), which counts
    /// `hosts` (`host` or `host:port`) as its own too, with `use_get` on (the setting's
    /// default; see [`with_use_get`](Self::with_use_get)). `None` when `page_url` is not an
    /// absolute http(s) URL: then nothing is rewritten.
    pub fn new(page_url: &str, hosts: &[String], param_name: &str, token: &str) -> Option<Self> {
        let page = Url::parse(page_url).ok()?;
        if !matches!(page.scheme(), "http" | "https") || page.host_str().is_none() {
            return None;
        }
        let mut policy = Self {
            page,
            page_is_own: false,
            hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            param_name: param_name.to_owned(),
            tokens: Tokens::Fixed(token.to_owned()),
            use_get: true,
        };
        policy.page_is_own = policy.is_own(&policy.page);
        Some(policy)
    }

    /// Seals each URL's token for its path instead of using one token (`url_specific`), so a
    /// token copied to another URL opens nothing.
    ///
    /// ```
    /// use actix_cookieless::rewrite::LinkPolicy;
    /// use std::sync::Arc;
    ///
    /// let policy = LinkPolicy::new("https://example.com/a", &[], "sessionid", "unused")
    ///     .unwrap()
    ///     .bound_to_paths(Arc::new(|path: &str| Some(format!("for{}", path.replace('/', "-")))));
    /// assert_eq!(policy.location("/b/c?x=1").unwrap(), "/b/c?x=1&sessionid=for-b-c");
    /// ```
    pub fn bound_to_paths(mut self, sealer: PathSealer) -> Self {
        self.tokens = Tokens::PerPath(sealer);
        self
    }

    /// Whether only POST forms get the token (`use_get` off) or also GET forms, links, frames,
    /// refreshes and redirects (`use_get` on, the default).
    ///
    /// ```
    /// use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
    ///
    /// let page = br#"<a href="/next">next</a>"#;
    /// let policy = LinkPolicy::new("https://example.com/", &[], "sessionid", "TOKEN").unwrap();
    /// let html = TokenRewriter::rewrite_document(policy.clone().with_use_get(false), encoding_rs::UTF_8, page);
    /// assert_eq!(html.unwrap(), page);
    /// let html = TokenRewriter::rewrite_document(policy, encoding_rs::UTF_8, page);
    /// assert_eq!(html.unwrap(), br#"<a href="/next?sessionid=TOKEN">next</a>"#);
    /// ```
    pub fn with_use_get(mut self, use_get: bool) -> Self {
        self.use_get = use_get;
        self
    }

    /// Whether links, GET forms, frames and refreshes get the token (`use_get`).
    pub fn use_get(&self) -> bool {
        self.use_get
    }

    /// Whether what could send the page's own URL elsewhere (pings, referrer policies,
    /// `srcdoc`) is judged: with `use_get`, and on a page whose URL carries a token without it
    /// (the page a `see_other` redirect token opened; its links still get none).
    pub(crate) fn guards_page_url(&self) -> bool {
        self.use_get || self.page_carries_token()
    }

    /// The `Location` a redirect (`status` 3xx) gets instead of `location`: with `use_get`,
    /// `location` with the token when it stays on this site; `None` to leave it as it is.
    pub(crate) fn redirect(&self, status: u16, location: &str) -> Option<String> {
        if !(self.use_get && (300..400).contains(&status)) {
            return None;
        }
        self.location(location)
    }

    /// The page URL relative URLs resolve against until a `<base href>` says otherwise.
    pub(crate) fn page(&self) -> &Url {
        &self.page
    }

    /// Whether the page's own URL carries a token (with `use_get`, or a `see_other` redirect
    /// token without it): then its pings, referrer policies and `srcdoc` frames are judged
    /// as they are with `use_get`, or they would send that URL elsewhere.
    pub(crate) fn page_carries_token(&self) -> bool {
        query_carries_token(self.page.query().unwrap_or(""), &self.param_name)
    }

    /// The form field / query parameter name.
    pub fn param_name(&self) -> &str {
        &self.param_name
    }

    /// The token for `url` (entity-decoded) resolved against `base`, when it is this site's.
    pub(crate) fn token_at(&self, url: &str, base: &Url) -> Option<Cow<'_, str>> {
        match &self.tokens {
            Tokens::Fixed(token) => self
                .is_same_origin(url, base)
                .then_some(Cow::Borrowed(token)),
            Tokens::PerPath(seal) => {
                let resolved = self.resolve(url, base).filter(|u| self.is_own(u))?;
                seal(resolved.path()).map(Cow::Owned)
            }
        }
    }

    /// Resolves `url` (already entity-decoded) against `base`; `None` for what can never
    /// carry a token.
    pub(crate) fn resolve(&self, url: &str, base: &Url) -> Option<Url> {
        let trimmed = trim_url(url);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        base.join(trimmed).ok()
    }

    /// Whether an absolute URL is this site's.
    pub(crate) fn is_own(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        let port = url.port_or_known_default();
        let same_page_origin = url.scheme() == self.page.scheme()
            && Some(host) == self.page.host_str()
            && port == self.page.port_or_known_default();
        // Extra hosts never get a token over plain http from an https page.
        let secure_enough = url.scheme() == "https" || url.scheme() == self.page.scheme();
        same_page_origin || secure_enough && host_listed(&self.hosts, host, port)
    }

    /// Whether `url` (entity-decoded) resolved against `base` is this site's.
    pub(crate) fn is_same_origin(&self, url: &str, base: &Url) -> bool {
        // Most links on a page are relative (`/next`, `next`, `?page=2`): they keep `base`'s
        // origin, and need no URL parsing.
        let trimmed = trim_url(url);
        if keeps_base_origin(trimmed) {
            // Asked once per page, not once per link.
            return if std::ptr::eq(base, &self.page) || *base == self.page {
                self.page_is_own
            } else {
                self.is_own(base)
            };
        }
        // Links to other sites are the next most common: told apart by their plain host.
        if let Some(host) = plain_http_host(trimmed)
            && !self.may_be_own_host(host)
        {
            return false;
        }
        self.resolve(url, base).is_some_and(|u| self.is_own(&u))
    }

    /// Whether `host` (plain ASCII, any case, no port) is the page's host or a listed one.
    fn may_be_own_host(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.page
            .host_str()
            .is_some_and(|page| page.eq_ignore_ascii_case(host))
            || self.hosts.iter().any(|listed| {
                listed
                    .rsplit_once(':')
                    .map_or(listed.as_str(), |(h, _)| h)
                    .eq_ignore_ascii_case(host)
            })
    }

    /// `url` with the token added, when it is this site's; `url`'s own form (relative or
    /// absolute) is kept.
    pub(crate) fn add_token(&self, url: &str, base: &Url) -> Option<String> {
        let token = self.token_at(url, base)?;
        Some(with_param(trim_url(url), &self.param_name, &token))
    }

    /// [`add_token`](Self::add_token) into `out` (cleared first); `false` when `url` is not
    /// this site's.
    pub(crate) fn add_token_into(&self, url: &str, base: &Url, out: &mut String) -> bool {
        let Some(token) = self.token_at(url, base) else {
            return false;
        };
        out.clear();
        push_with_param(out, trim_url(url), &self.param_name, &token);
        true
    }

    /// `location` (a link, or a `Location` header value) with the token, when it points to this
    /// site, resolved against the page.
    pub fn location(&self, location: &str) -> Option<String> {
        self.add_token(location, &self.page)
    }
}

/// Whether a page whose query is `query` carries a token in its URL (a parameter `param`).
pub(crate) fn query_carries_token(query: &str, param: &str) -> bool {
    crate::url_param::without_param(query, param).is_some()
}

/// Without `use_get` no ordinary token goes into a URL, but a redirect after a POST that the
/// browser follows with a GET to this site needs one, or the next page loses its session: the
/// *redirect token* (`Session::see_other`, and every such redirect the proxy passes on). The
/// path and query on this site that redirect goes to; `None` with `use_get` (the redirect gets
/// an ordinary token, [`LinkPolicy::redirect`]), for another site, and for 307/308, which
/// repeat the method.
#[cfg(feature = "proxy")]
pub(crate) fn redirect_token_path(
    use_get: bool,
    status: u16,
    page: &Url,
    location: &str,
) -> Option<String> {
    if use_get || !matches!(status, 301..=303) {
        return None;
    }
    let target = page.join(location).ok()?;
    if target.origin() != page.origin() {
        return None;
    }
    let mut path = target.path().to_owned();
    if let Some(query) = target.query() {
        path.push('?');
        path.push_str(query);
    }
    Some(path)
}

/// Whether `url` (trimmed) is a relative reference that keeps its base's scheme, host and
/// port: not empty, not fragment-only, no scheme, and not scheme-relative (`//host`, and `\\`
/// which http(s) URLs read as `/`). A tab or newline anywhere (which parsers drop, so
/// `/\t/host` is `//host`) sends it to the full parser instead.
fn keeps_base_origin(url: &str) -> bool {
    let bytes = url.as_bytes();
    if memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_some() {
        return false;
    }
    match bytes {
        [] | [b'#', ..] | [b'/' | b'\\', b'/' | b'\\', ..] => false,
        [b'/' | b'\\' | b'?' | b'.', ..] => true,
        _ => !starts_with_scheme(bytes),
    }
}

/// The host of an absolute `http(s)://host[:port]/...` URL, as written, when it is plain:
/// ASCII letters, digits, `-` and `.` only. `None` for anything a URL parser might read
/// differently (user info, percent escapes, IPv6, non-ASCII, tabs and newlines): those go
/// through the full parser, which has the last word on every URL this does not reject.
fn plain_http_host(url: &str) -> Option<&str> {
    let starts = |prefix: &str| {
        url.as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    let scheme_len = if starts("https://") {
        8
    } else if starts("http://") {
        7
    } else {
        return None;
    };
    let rest = &url[scheme_len..];
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.split_once(':').map_or(authority, |(h, _)| h);
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let port_plain = authority[host.len()..]
        .strip_prefix(':')
        .is_none_or(|port| port.bytes().all(|b| b.is_ascii_digit()));
    (plain && port_plain && memchr::memchr3(b'\t', b'\n', b'\r', url.as_bytes()).is_none())
        .then_some(host)
}

/// Whether `url` is absolute: it starts with a scheme, so no `<base href>` can move it.
/// A URL with a tab or newline in its scheme or its slashes counts as relative (a parser
/// would drop them). A special scheme (`http`, `https`, `ws`, `wss`, `ftp`, `file`) must be
/// followed by two slashes (`/` or `\`): `https:next` and `https:/next` are read against a
/// base of the same scheme (a path on its host), and against one of another scheme take
/// `next` for the host, so a later `<base>` moves them (found by `rewrite_html`).
pub(crate) fn has_scheme(url: &str) -> bool {
    let url = trim_url(url).as_bytes();
    if !starts_with_scheme(url) {
        return false;
    }
    let Some(colon) = url.iter().position(|&b| b == b':') else {
        return false;
    };
    let special = ["http", "https", "ws", "wss", "ftp", "file"]
        .iter()
        .any(|scheme| url[..colon].eq_ignore_ascii_case(scheme.as_bytes()));
    !special
        || matches!(
            url.get(colon + 1..colon + 3),
            Some([b'/' | b'\\', b'/' | b'\\'])
        )
}

/// Whether a URL opens with `javascript:`, which sends no request anywhere.
pub(crate) fn sends_nothing(url: &str) -> bool {
    let scheme: String = trim_url(url)
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(11)
        .collect();
    scheme.eq_ignore_ascii_case("javascript:")
}

/// Whether `url` starts with a scheme: a letter, then letters, digits, `+`, `-` or `.`, then `:`.
fn starts_with_scheme(url: &[u8]) -> bool {
    url.first().is_some_and(u8::is_ascii_alphabetic)
        && url
            .iter()
            .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            == Some(&b':')
}

/// Strips what the URL parser strips: leading and trailing C0 controls and spaces.
fn trim_url(url: &str) -> &str {
    url.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_special_scheme_is_absolute_only_with_two_slashes() {
        for absolute in [
            "https://a/",
            "HTTP://a",
            "https:\\\\a",
            "https:/\\a",
            " wss://a",
            "mailto:x",
            "javascript:x",
            "data:,x",
            "foo:bar",
        ] {
            assert!(has_scheme(absolute), "{absolute:?}");
        }
        for moved_by_a_base in [
            "https:/next",
            "https:next",
            "https:",
            "FILE:x",
            "ftp:/x",
            "https:\t//a",
            "ht\ttps://a",
            "/next",
            "//a/x",
            "",
        ] {
            assert!(!has_scheme(moved_by_a_base), "{moved_by_a_base:?}");
        }
    }

    fn policy() -> LinkPolicy {
        LinkPolicy::new(
            "https://shop.example:8443/cart/view?x=1",
            &["partner.example".into(), "pay.example:9000".into()],
            "sid",
            "TOK",
        )
        .unwrap()
    }

    #[test]
    #[cfg(feature = "proxy")]
    fn redirects_followed_with_a_get_to_this_site_are_paths() {
        let page = Url::parse("http://a.example/shop/cart?x=1").unwrap();
        let see = 303;
        assert_eq!(
            redirect_token_path(false, see, &page, "checkout.php?s=2").as_deref(),
            Some("/shop/checkout.php?s=2")
        );
        assert_eq!(
            redirect_token_path(false, 302, &page, "/").as_deref(),
            Some("/")
        );
        assert_eq!(
            redirect_token_path(false, see, &page, "http://a.example/x#f").as_deref(),
            Some("/x")
        );
        assert_eq!(redirect_token_path(false, see, &page, "//b.example/"), None);
        assert_eq!(
            redirect_token_path(false, see, &page, "https://a.example/"),
            None
        );
        assert_eq!(redirect_token_path(false, 307, &page, "/"), None);
        assert_eq!(
            redirect_token_path(true, see, &page, "/"),
            None,
            "use_get: an ordinary token"
        );
    }

    #[test]
    fn same_origin_cases() {
        let p = policy();
        let base = p.page().clone();
        let yes = [
            "/a",
            "a",
            "../a",
            "?q=1",
            "https://shop.example:8443/a",
            "HTTPS://SHOP.EXAMPLE:8443/a",
            "  /a  ",
            "\t/a\n",
            "//shop.example:8443/a",
            "https://partner.example/x",
            "https://pay.example:9000/",
            ".",
            "/a#frag",
        ];
        for url in yes {
            assert!(
                p.is_same_origin(url, &base),
                "{url:?} should be same-origin"
            );
        }
        let no = [
            "",
            "   ",
            "#top",
            "//evil.example/a",
            "/\\evil.example/a",
            "\\\\evil.example/a",
            "https://evil.example/",
            "https://shop.example/a",
            "http://shop.example:8443/a",
            "https://shop.example:8444/",
            "https://user@shop.example:8443/",
            "https://a:b@shop.example:8443/",
            "https://evil.example@shop.example:8443/",
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "mailto:a@b.example",
            "tel:+123",
            "ftp://shop.example:8443/",
            "https://pay.example/",
            "https://pay.example:9001/",
            "https://shop.example.evil.example:8443/",
            "http://[::1",
            "https://partner.example.evil/",
            "http://partner.example/",
        ];
        for url in no {
            assert!(
                !p.is_same_origin(url, &base),
                "{url:?} must not be same-origin"
            );
        }
    }

    #[test]
    fn the_relative_url_shortcut_agrees_with_full_parsing() {
        let p = policy();
        let bases = [
            p.page().clone(),
            Url::parse("https://partner.example/x/").unwrap(),
            Url::parse("http://partner.example/x/").unwrap(),
            Url::parse("https://evil.example/").unwrap(),
            Url::parse("https://u@shop.example:8443/").unwrap(),
            Url::parse("data:text/html,x").unwrap(),
        ];
        let urls = [
            "/a",
            "a",
            "./a",
            "../a",
            "?q=1",
            ".",
            "..",
            "a:b",
            "./a:b",
            "a/b:c",
            "ab+c-d.e:x",
            "1a:b",
            "\\evil.example/",
            "\\/evil.example/",
            "/\\evil.example/",
            "\\a",
            "//evil.example/",
            "/\t/evil.example/",
            "\t//evil.example/",
            "java\nscript:x",
            "/a\rb",
            "#x",
            "",
            " /a",
            "\u{0}/a",
            "\u{e9}:x",
            "C:/x",
            "https://evil.example/",
            "HTTPS://shop.example:8443/",
            "mailto:x",
            "/a b",
            "?",
            "#",
            "https://SHOP.example:8443/a",
            "https://shop.example.:8443/",
            "https://shop.example/",
            "https://partner.example:1/",
            "http://partner.example/",
            "https://partner.example./x",
            "https://other.example/",
            "https://evil@shop.example:8443/",
            "https://shop%2eexample:8443/",
            "https://shop.example:8443\\x",
            "https://other.example\\@shop.example:8443/",
            "https:/shop.example:8443/",
            "https:shop.example:8443",
            "https://xn--shp-kka.example/",
            "https://shop.example:08443/",
            "https://0x7f.1/",
            "http://[::1]/",
            "https://pay.example:9000/",
            "https://pay.example:9001/",
            "https://a.pay.example:9000/",
            "https://shop.example:8443\t/",
            "https://other.example:8443@shop.example:8443/",
            "ab\u{e9}\u{e9}\u{e9}\u{e9}",
            "http:/\u{e9}",
        ];
        for base in &bases {
            for url in urls {
                let full = p.resolve(url, base).is_some_and(|u| p.is_own(&u));
                assert_eq!(p.is_same_origin(url, base), full, "{url:?} against {base}");
            }
        }
    }

    #[test]
    fn base_href_changes_resolution() {
        let p = policy();
        let evil = Url::parse("https://evil.example/").unwrap();
        assert!(!p.is_same_origin("/a", &evil));
        assert!(p.is_same_origin("https://shop.example:8443/a", &evil));
    }

    #[test]
    fn token_is_added_keeping_the_url_form() {
        let p = policy();
        let base = p.page().clone();
        assert_eq!(
            p.add_token("/a?x=1#f", &base).as_deref(),
            Some("/a?x=1&sid=TOK#f")
        );
        assert_eq!(p.add_token(" a ", &base).as_deref(), Some("a?sid=TOK"));
        assert_eq!(
            p.add_token("/a?sid=old", &base).as_deref(),
            Some("/a?sid=TOK")
        );
        assert_eq!(p.add_token("https://evil.example/", &base), None);
        assert_eq!(p.location("/next").as_deref(), Some("/next?sid=TOK"));
        assert_eq!(p.location("https://evil.example/next"), None);
    }

    #[test]
    fn pages_that_are_not_http_are_refused() {
        assert!(LinkPolicy::new("file:///x", &[], "s", "t").is_none());
        assert!(LinkPolicy::new("not a url", &[], "s", "t").is_none());
    }

    #[test]
    fn javascript_urls_send_nothing() {
        assert!(sends_nothing(" JavaScript:void(0)"));
        assert!(sends_nothing("java\tscript:x"));
        assert!(!sends_nothing("/javascript:x"));
        assert!(!sends_nothing("javascrip"));
    }
}
