//! Settings: what the middleware can be told, where it is loaded from, and how it is checked.
//!
//! [`Settings`] is a plain serde struct. [`Settings::load`] reads an optional `cookieless.toml`
//! and `COOKIELESS_*` environment variables with the `config` crate; [`Settings::new`] builds one
//! in code. Either way nothing is trusted until [`Settings::validate`] (called by the middleware
//! builder) has turned it into the checked, parsed form the middleware runs on.

mod duration;
mod error;
mod load;
mod validate;

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

pub(crate) use duration::{deserialize_duration, serialize_duration};
pub use error::SettingsError;
#[cfg(test)]
pub(crate) use load::test_env;
pub use validate::ValidSettings;
pub(crate) use validate::is_safe_referrer_policy;

/// The shortest secret accepted, in bytes: AES-256 keys are 32 bytes, and a shorter secret
/// would make every derived key weaker than the cipher.
pub const MIN_SECRET_LEN: usize = 32;

/// Everything the cookieless middleware can be configured with.
///
/// Defaults follow django-cookieless where that was safe. Durations accept whole seconds
/// (`1800`) or a number with a unit (`"90s"`, `"30m"`, `"24h"`, `"7d"`).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `secret` | required, ≥ 32 bytes | seals and opens tokens |
/// | `previous_secrets` | `[]` | only open tokens: rotate a secret without losing sessions |
/// | `rewrite` | `true` | inject tokens into HTML responses |
/// | `use_get` | `true` | tokens in links and GET forms, and accepted from the query string |
/// | `client_id` | `true` | bind tokens to the client IP and User-Agent (`false` needs `use_get = false`) |
/// | `url_specific` | `false` | bind each token to the path it is sent to |
/// | `hosts` | `[]` | extra hosts counted as same-origin |
/// | `no_cookie_persist` | `true` | never open a session that this crate did not create |
/// | `delete_cookies` | `false` | expire every cookie the client sent |
/// | `exclude` | `[]` | path prefixes never rewritten (segment-aware) |
/// | `param_name` | `sessionid` | form field and query parameter name |
/// | `header_name` | `X-Session-ID` | request and response header name |
/// | `session_ttl` | 30 min | idle expiry of a session in the store |
/// | `token_max_age` | 24 h | maximum age of a token |
/// | `session_max_lifetime` | 0 (none) | maximum age of a session, however active; 0: no limit |
/// | `redirect_token_max_age` | 10 min | how long the `Location` token of `Session::see_other` opens its page (never longer than `token_max_age`) |
/// | `trusted_proxies` | `[]` | CIDRs whose `Forwarded`/`X-Forwarded-For` are believed |
/// | `referrer_policy` | `same-origin` | sent with token-bearing responses |
/// | `reject_cross_site` | `false` | answer 403 to cross-site unsafe requests with a token |
/// | `ipv4_prefix`, `ipv6_prefix` | 32, 64 | how much of the client IP a token is bound to |
/// | `body_scan_limit` | 65536 | bytes of a form body read to find the token field |
/// | `body_scan_timeout` | 10 s | how long a form body may take to reach the token field |
/// | `new_sessions_per_minute` | 120 | new sessions one client (address prefix) may create; 0: no limit |
/// | `new_sessions_ipv4_prefix`, `new_sessions_ipv6_prefix` | 24, 56 | the address prefix that shares one budget of new sessions |
/// | `rewrite_cache_bytes` | 33554432 | memory for rewritten pages served again (0: no cache) |
/// | `client_script` | `false` | serve the script client and put it into rewritten HTML pages |
/// | `client_script_path` | `/__cookieless/session.js` | where the script client is served |
/// | `cookie` | `off` | `auto`: also carry the token in a cookie; pages whose request brought it are not rewritten |
/// | `cookie_name` | `__Host-` + `param_name` | the cookie's name (`auto`) |
/// | `cookie_same_site` | `none` | the cookie's `SameSite`: `none` (it works inside another site's iframe), `lax` or `strict` |
/// | `cookie_partitioned` | `true` | the cookie is `Partitioned` (CHIPS: kept per top-level site, allowed where third-party cookies are blocked) |
///
/// A `[proxy]` table in the same file belongs to `cookieless-proxy` (feature `proxy`) and is
/// ignored here.
///
/// # Example
/// ```
/// use actix_cookieless::Settings;
///
/// let mut settings = Settings::new("a secret of at least thirty-two bytes!!");
/// settings.use_get = false;
/// settings.validate().expect("valid settings");
///
/// let short = Settings::new("too short");
/// let err = short.validate().unwrap_err();
/// assert_eq!(err.setting(), "secret");
/// ```
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// The server secret (at least 32 bytes). Seals and opens tokens.
    pub secret: String,
    /// Earlier secrets: tokens sealed under them still open, and are re-sealed under `secret`.
    pub previous_secrets: Vec<String>,
    /// Inject the token into HTML responses (forms, and links with `use_get`).
    pub rewrite: bool,
    /// Put tokens in links and GET forms, and accept a token from the query string.
    pub use_get: bool,
    /// Bind tokens to the client IP and User-Agent.
    pub client_id: bool,
    /// Bind each token to the path it is sent to.
    pub url_specific: bool,
    /// Extra hosts (`host` or `host:port`) counted as same-origin.
    pub hosts: Vec<String>,
    /// Never open a session this crate did not create (a store shared with cookie sessions).
    pub no_cookie_persist: bool,
    /// Expire every cookie the client sent.
    pub delete_cookies: bool,
    /// Path prefixes whose responses are never rewritten (`/admin` does not cover `/administrator`).
    pub exclude: Vec<String>,
    /// Name of the form field and query parameter that carry the token.
    pub param_name: String,
    /// Name of the request and response header that carries the token.
    pub header_name: String,
    /// Idle expiry of a session in the store.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub session_ttl: Duration,
    /// Maximum age of a token, however active the session.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub token_max_age: Duration,
    /// Maximum age of a session, however active (an absolute lifetime beside the idle
    /// `session_ttl`): an older session is deleted and the visitor starts anew. Zero: no limit.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub session_max_lifetime: Duration,
    /// How long the token in a [`Session::redirect_location`](crate::Session::redirect_location) `Location`
    /// opens its page (for the GET that follows, and for Back and reload after it); never
    /// longer than `token_max_age`, since it stands for the session's token.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub redirect_token_max_age: Duration,
    /// Proxies (CIDRs) whose `Forwarded` / `X-Forwarded-For` headers are believed.
    pub trusted_proxies: Vec<String>,
    /// `Referrer-Policy` sent with every response that carries a token.
    pub referrer_policy: String,
    /// Answer 403 (instead of an empty session) to a cross-site unsafe request that carries a token.
    pub reject_cross_site: bool,
    /// Leading bits of an IPv4 address a token is bound to.
    pub ipv4_prefix: u8,
    /// Leading bits of an IPv6 address a token is bound to (privacy addresses rotate below /64).
    pub ipv6_prefix: u8,
    /// How many bytes of a form body are read, at most, to find the token field.
    pub body_scan_limit: usize,
    /// How long the middleware waits, at most, for a form body to reach the token field; a
    /// slower body goes on to the handler without a token (a new session).
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub body_scan_timeout: Duration,
    /// New sessions one client may create per minute (all at once, or spread out), the client
    /// being its address cut to `new_sessions_ipv4_prefix` / `new_sessions_ipv6_prefix`; past
    /// it, a request that would create one gets 429. 0 turns the limit off.
    pub new_sessions_per_minute: u32,
    /// Leading bits of an IPv4 address that share one budget of new sessions (a /24: one
    /// attacker commonly holds a whole block). Never finer than `ipv4_prefix`.
    pub new_sessions_ipv4_prefix: u8,
    /// Leading bits of an IPv6 address that share one budget of new sessions (a /56: the
    /// smallest block providers hand a customer, who holds 256 /64s in it). Never finer than
    /// `ipv6_prefix`.
    pub new_sessions_ipv6_prefix: u8,
    /// Memory (bytes) for keeping rewritten pages that are served again, so the next visitor's
    /// copy is a splice rather than a parse; 0 turns the cache off.
    pub rewrite_cache_bytes: u64,
    /// Serve a small script at `client_script_path` and put a `<script src>` for it into every
    /// rewritten HTML page: it adds the token header to the page's same-origin `fetch` and
    /// `XMLHttpRequest` calls and keeps the token each response carries.
    pub client_script: bool,
    /// The path the script client is served at (and excluded from the session).
    pub client_script_path: String,
    /// `off` (the default): no cookie at all. `auto`: every response that carries a token also
    /// sets it as a cookie (`Secure; HttpOnly; Path=/`, on https pages and on `localhost`,
    /// which browsers treat as secure); a request that brings a valid cookie and no token is
    /// served without rewriting. Where the browser refuses the cookie, the tokens carry on.
    pub cookie: String,
    /// The cookie's name in `auto` mode; empty: `__Host-` followed by `param_name`.
    pub cookie_name: String,
    /// The cookie's `SameSite` attribute: `none` (sent inside another site's iframe, which is
    /// what embedded apps need; cross-site unsafe requests are judged by their `Origin` and
    /// `Sec-Fetch-Site` as ever), `lax` or `strict`.
    pub cookie_same_site: String,
    /// Whether the cookie is `Partitioned` (CHIPS): a browser keeps it per top-level site, and
    /// allows it in third-party iframes where it blocks other third-party cookies.
    pub cookie_partitioned: bool,
    /// The `[proxy]` table of a shared `cookieless.toml`: read by `cookieless-proxy`, not here.
    #[serde(skip_serializing)]
    #[doc(hidden)]
    proxy: serde::de::IgnoredAny,
}

impl Default for Settings {
    /// Every default, with an empty `secret` (which [`Settings::validate`] refuses).
    fn default() -> Self {
        Self {
            secret: String::new(),
            previous_secrets: Vec::new(),
            rewrite: true,
            use_get: true,
            client_id: true,
            url_specific: false,
            hosts: Vec::new(),
            no_cookie_persist: true,
            delete_cookies: false,
            exclude: Vec::new(),
            param_name: "sessionid".to_owned(),
            header_name: "X-Session-ID".to_owned(),
            session_ttl: Duration::from_secs(30 * 60),
            token_max_age: Duration::from_secs(24 * 60 * 60),
            session_max_lifetime: Duration::ZERO,
            redirect_token_max_age: Duration::from_secs(10 * 60),
            trusted_proxies: Vec::new(),
            referrer_policy: "same-origin".to_owned(),
            reject_cross_site: false,
            ipv4_prefix: 32,
            ipv6_prefix: 64,
            body_scan_limit: 64 * 1024,
            body_scan_timeout: Duration::from_secs(10),
            new_sessions_per_minute: 120,
            new_sessions_ipv4_prefix: 24,
            new_sessions_ipv6_prefix: 56,
            rewrite_cache_bytes: 32 * 1024 * 1024,
            client_script: false,
            client_script_path: "/__cookieless/session.js".to_owned(),
            cookie: "off".to_owned(),
            cookie_name: String::new(),
            cookie_same_site: "none".to_owned(),
            cookie_partitioned: true,
            proxy: serde::de::IgnoredAny,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets never reach a log line.
        f.debug_struct("Settings")
            .field("secret", &"<redacted>")
            .field(
                "previous_secrets",
                &format!("<{} redacted>", self.previous_secrets.len()),
            )
            .field("rewrite", &self.rewrite)
            .field("use_get", &self.use_get)
            .field("client_id", &self.client_id)
            .field("url_specific", &self.url_specific)
            .field("hosts", &self.hosts)
            .field("no_cookie_persist", &self.no_cookie_persist)
            .field("delete_cookies", &self.delete_cookies)
            .field("exclude", &self.exclude)
            .field("param_name", &self.param_name)
            .field("header_name", &self.header_name)
            .field("session_ttl", &self.session_ttl)
            .field("token_max_age", &self.token_max_age)
            .field("session_max_lifetime", &self.session_max_lifetime)
            .field("redirect_token_max_age", &self.redirect_token_max_age)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("referrer_policy", &self.referrer_policy)
            .field("reject_cross_site", &self.reject_cross_site)
            .field("ipv4_prefix", &self.ipv4_prefix)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .field("body_scan_limit", &self.body_scan_limit)
            .field("body_scan_timeout", &self.body_scan_timeout)
            .field("new_sessions_per_minute", &self.new_sessions_per_minute)
            .field("new_sessions_ipv4_prefix", &self.new_sessions_ipv4_prefix)
            .field("new_sessions_ipv6_prefix", &self.new_sessions_ipv6_prefix)
            .field("rewrite_cache_bytes", &self.rewrite_cache_bytes)
            .field("client_script", &self.client_script)
            .field("client_script_path", &self.client_script_path)
            .field("cookie", &self.cookie)
            .field("cookie_name", &self.cookie_name)
            .field("cookie_same_site", &self.cookie_same_site)
            .field("cookie_partitioned", &self.cookie_partitioned)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
