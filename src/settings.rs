//! Settings: what the middleware can be told, where it is loaded from, and how it is checked.
//!
//! [`Settings`] is a plain serde struct. [`Settings::load`] reads an optional `cookieless.toml`
//! and `COOKIELESS_*` environment variables with the `config` crate; [`Settings::new`] builds one
//! in code. Either way nothing is trusted until [`Settings::validate`] (called by the middleware
//! builder) has turned it into the checked, parsed form the middleware runs on.

use std::{fmt, net::IpAddr, path::Path, time::Duration};

use actix_web::http::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
/// | `redirect_token_max_age` | 10 min | how long the `Location` token of `Session::see_other` opens its page |
/// | `trusted_proxies` | `[]` | CIDRs whose `Forwarded`/`X-Forwarded-For` are believed |
/// | `referrer_policy` | `same-origin` | sent with token-bearing responses |
/// | `reject_cross_site` | `false` | answer 403 to cross-site unsafe requests with a token |
/// | `ipv4_prefix`, `ipv6_prefix` | 32, 64 | how much of the client IP a token is bound to |
/// | `body_scan_limit` | 65536 | bytes of a form body read to find the token field |
/// | `body_scan_timeout` | 10 s | how long a form body may take to reach the token field |
/// | `new_sessions_per_minute` | 120 | new sessions one client (address prefix) may create; 0: no limit |
/// | `rewrite_cache_bytes` | 33554432 | memory for rewritten pages served again (0: no cache) |
/// | `client_script` | `false` | serve the script client and put it into rewritten HTML pages |
/// | `client_script_path` | `/__cookieless/session.js` | where the script client is served |
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
    /// How long the token in a [`Session::see_other`](crate::Session::see_other) `Location`
    /// opens its page (for the GET that follows, and for Back and reload after it).
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
    /// being its address cut to `ipv4_prefix` / `ipv6_prefix`; past it, a request that would
    /// create one gets 429. 0 turns the limit off.
    pub new_sessions_per_minute: u32,
    /// Memory (bytes) for keeping rewritten pages that are served again, so the next visitor's
    /// copy is a splice rather than a parse; 0 turns the cache off.
    pub rewrite_cache_bytes: u64,
    /// Serve a small script at `client_script_path` and put a `<script src>` for it into every
    /// rewritten HTML page: it adds the token header to the page's same-origin `fetch` and
    /// `XMLHttpRequest` calls and keeps the fresh token each response carries.
    pub client_script: bool,
    /// The path the script client is served at (and excluded from the session).
    pub client_script_path: String,
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
            rewrite_cache_bytes: 32 * 1024 * 1024,
            client_script: false,
            client_script_path: "/__cookieless/session.js".to_owned(),
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
            .field("rewrite_cache_bytes", &self.rewrite_cache_bytes)
            .field("client_script", &self.client_script)
            .field("client_script_path", &self.client_script_path)
            .finish_non_exhaustive()
    }
}

/// Keys whose environment variable holds a comma-separated list.
const LIST_KEYS: [&str; 4] = ["previous_secrets", "hosts", "exclude", "trusted_proxies"];

impl Settings {
    /// Settings with every default and the given secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            ..Self::default()
        }
    }

    /// Loads `cookieless.toml` from the working directory (if it exists), then `COOKIELESS_*`
    /// environment variables over it, and validates the result.
    ///
    /// Environment names are the setting names in upper case (`COOKIELESS_SECRET`,
    /// `COOKIELESS_USE_GET=false`); lists are comma-separated (`COOKIELESS_HOSTS=a.example,b.example`).
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from("cookieless.toml")
    }

    /// Like [`Settings::load`], with the TOML file at `path` (still optional).
    pub fn load_from(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        Self::from_sources(&Self::default(), Some(path.as_ref()), None)
    }

    /// Like [`Settings::load`], starting from `base` instead of the defaults: what the file and
    /// the environment do not set keeps `base`'s value.
    ///
    /// ```
    /// use actix_cookieless::Settings;
    ///
    /// let mut base = Settings::default();
    /// base.secret = "a secret of at least thirty-two bytes!!".into(); // e.g. from a vault
    /// base.use_get = false;
    /// let settings = Settings::load_over(base).unwrap(); // COOKIELESS_* may still override
    /// # let _ = settings;
    /// ```
    pub fn load_over(base: Settings) -> Result<Self, SettingsError> {
        Self::from_sources(&base, Some(Path::new("cookieless.toml")), None)
    }

    /// Builds settings from `base`, an optional TOML file and an environment; `env: None` reads
    /// the process environment. Separate so tests need not touch the process environment.
    pub(crate) fn from_sources(
        base: &Settings,
        file: Option<&Path>,
        env: Option<config::Map<String, String>>,
    ) -> Result<Self, SettingsError> {
        let mut environment = config::Environment::with_prefix("COOKIELESS")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .source(env);
        for key in LIST_KEYS {
            environment = environment.with_list_parse_key(key);
        }
        let base = config::Config::try_from(base).map_err(SettingsError::from_config)?;
        let mut builder = config::Config::builder().add_source(base);
        if let Some(file) = file {
            builder = builder.add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(false),
            );
        }
        let settings: Self = builder
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(SettingsError::from_config)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every setting and returns the parsed form the middleware runs on.
    ///
    /// Each error names the setting and says how to fix it.
    pub fn validate(&self) -> Result<ValidSettings, SettingsError> {
        check_secret("secret", &self.secret)?;
        for secret in &self.previous_secrets {
            check_secret("previous_secrets", secret)?;
        }
        let param_name = check_name("param_name", &self.param_name)?;
        let header_name = HeaderName::try_from(check_name("header_name", &self.header_name)?)
            .map_err(|_| SettingsError::new("header_name", "is not a valid HTTP header name"))?;
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|cidr| {
                Cidr::parse(cidr).ok_or_else(|| {
                    SettingsError::new(
                        "trusted_proxies",
                        format!("`{cidr}` is not a CIDR; write an address with a prefix length, like `10.0.0.0/8` or `::1/128`"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let referrer_policy = check_referrer_policy(&self.referrer_policy)?;
        if self.session_ttl.is_zero() {
            return Err(SettingsError::new(
                "session_ttl",
                "must be longer than zero, like `30m`",
            ));
        }
        if self.redirect_token_max_age.is_zero() {
            return Err(SettingsError::new(
                "redirect_token_max_age",
                "must be longer than zero, like `10m`",
            ));
        }
        if self.body_scan_timeout.is_zero() {
            return Err(SettingsError::new(
                "body_scan_timeout",
                "must be longer than zero, like `10s`",
            ));
        }
        if self.token_max_age.is_zero() {
            return Err(SettingsError::new(
                "token_max_age",
                "must be longer than zero, like `24h`",
            ));
        }
        if self.ipv4_prefix > 32 {
            return Err(SettingsError::new(
                "ipv4_prefix",
                "must be between 0 and 32",
            ));
        }
        if self.ipv6_prefix > 128 {
            return Err(SettingsError::new(
                "ipv6_prefix",
                "must be between 0 and 128",
            ));
        }
        if !self.client_id && self.use_get {
            // An unbound token opens from any browser: a link carrying an attacker's token
            // would put a victim into the attacker's session (session fixation).
            return Err(SettingsError::new(
                "client_id",
                "is false while use_get is true: a link carrying an attacker's token would open \
                 the attacker's session in a victim's browser, and the attacker could read what the \
                 victim types. Set use_get = false too (tokens then travel only in form fields and \
                 headers, which another site cannot plant), or keep client_id = true",
            ));
        }
        if self.body_scan_limit < 1024 {
            return Err(SettingsError::new(
                "body_scan_limit",
                "must be at least 1024 bytes so the first form field always fits",
            ));
        }
        let hosts = self
            .hosts
            .iter()
            .map(|host| {
                let host = host.trim().to_ascii_lowercase();
                if host.is_empty() || host.contains(['/', '@', ' ', '\\']) {
                    Err(SettingsError::new(
                        "hosts",
                        format!(
                            "`{host}` is not a host; write `example.com` or `example.com:8443`"
                        ),
                    ))
                } else {
                    Ok(host)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let exclude = self
            .exclude
            .iter()
            .map(|prefix| {
                if prefix.starts_with('/') {
                    Ok(prefix.trim_end_matches('/').to_owned())
                } else {
                    Err(SettingsError::new(
                        "exclude",
                        format!("`{prefix}` must be a path starting with `/`, like `/admin`"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let path = &self.client_script_path;
        if !path.starts_with('/')
            || path.starts_with("//")
            || path.contains(['?', '#', '"', '<', '>', ' ', '\\'])
        {
            return Err(SettingsError::new(
                "client_script_path",
                format!(
                    "`{path}` must be a plain path starting with one `/`, like `/__cookieless/session.js`"
                ),
            ));
        }

        Ok(ValidSettings {
            settings: self.clone(),
            param_name,
            header_name,
            referrer_policy,
            trusted_proxies,
            hosts,
            exclude,
        })
    }
}

/// Settings that passed [`Settings::validate`], with the parsed values the middleware uses.
#[derive(Debug, Clone)]
pub struct ValidSettings {
    settings: Settings,
    pub(crate) param_name: String,
    pub(crate) header_name: HeaderName,
    pub(crate) referrer_policy: HeaderValue,
    pub(crate) trusted_proxies: Vec<Cidr>,
    pub(crate) hosts: Vec<String>,
    pub(crate) exclude: Vec<String>,
}

impl ValidSettings {
    /// The settings as given.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether `path` lies under an `exclude` prefix, segment by segment: `/admin` covers
    /// `/admin` and `/admin/users`, not `/administrator`.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.exclude.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

impl std::ops::Deref for ValidSettings {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        &self.settings
    }
}

fn check_secret(setting: &'static str, secret: &str) -> Result<(), SettingsError> {
    if secret.is_empty() {
        return Err(SettingsError::new(
            setting,
            "is missing; set COOKIELESS_SECRET (or `secret` in cookieless.toml) to a random string of at least 32 bytes, e.g. the output of `openssl rand -base64 48`",
        ));
    }
    if secret.len() < MIN_SECRET_LEN {
        return Err(SettingsError::new(
            setting,
            format!(
                "is {} bytes; it must be at least {MIN_SECRET_LEN} bytes of random text, e.g. the output of `openssl rand -base64 48`",
                secret.len()
            ),
        ));
    }
    Ok(())
}

/// Names travel in headers, form bodies and query strings unescaped, so only characters that
/// none of those encodings change are allowed.
fn check_name(setting: &'static str, name: &str) -> Result<String, SettingsError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(SettingsError::new(
            setting,
            format!("`{name}` must be 1 to 64 characters of A-Z, a-z, 0-9, `-`, `_` or `.`"),
        ))
    }
}

/// Policies that never send a token-bearing URL to another origin.
const SAFE_REFERRER_POLICIES: [&str; 6] = [
    "no-referrer",
    "same-origin",
    "origin",
    "strict-origin",
    "origin-when-cross-origin",
    "strict-origin-when-cross-origin",
];

pub(crate) fn is_safe_referrer_policy(value: &str) -> bool {
    SAFE_REFERRER_POLICIES
        .iter()
        .any(|policy| value.trim().eq_ignore_ascii_case(policy))
}

fn check_referrer_policy(value: &str) -> Result<HeaderValue, SettingsError> {
    if is_safe_referrer_policy(value) {
        Ok(HeaderValue::from_static(
            SAFE_REFERRER_POLICIES
                .iter()
                .find(|p| value.trim().eq_ignore_ascii_case(p))
                .copied()
                .unwrap_or("same-origin"),
        ))
    } else {
        Err(SettingsError::new(
            "referrer_policy",
            format!(
                "`{value}` would send token-bearing URLs to other sites; use one of {}",
                SAFE_REFERRER_POLICIES.join(", ")
            ),
        ))
    }
}

/// An IP network: an address and how many leading bits of it count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128`, or a bare address (a single host).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (
                addr.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// Whether `ip` lies inside this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr.to_canonical(), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask_bits(&net.octets(), self.prefix) == mask_bits(&ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_bits(&net.octets(), self.prefix) == mask_bits(&ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// The first `prefix` bits of `bytes`, the rest zeroed.
pub(crate) fn mask_bits<const N: usize>(bytes: &[u8; N], prefix: u8) -> [u8; N] {
    let mut out = [0u8; N];
    let mut bits = usize::from(prefix);
    for (o, b) in out.iter_mut().zip(bytes) {
        let take = bits.min(8);
        if take == 0 {
            break;
        }
        *o = b & (0xffu8 << (8 - take));
        bits -= take;
    }
    out
}

/// A setting that could not be loaded or is not acceptable.
///
/// [`SettingsError::setting`] names the setting; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    setting: String,
    problem: String,
}

impl SettingsError {
    pub(crate) fn new(setting: &str, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn from_config(err: config::ConfigError) -> Self {
        let setting = match &err {
            config::ConfigError::Type { key: Some(key), .. } => key.clone(),
            config::ConfigError::At { key: Some(key), .. } => key.clone(),
            config::ConfigError::NotFound(key) => key.clone(),
            _ => "cookieless settings".to_owned(),
        };
        Self::new(&setting, format!("could not be loaded: {err}"))
    }

    /// The name of the setting at fault, as written in `cookieless.toml`.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid cookieless setting `{}`: {}",
            self.setting, self.problem
        )
    }
}

impl std::error::Error for SettingsError {}

/// Accepts whole seconds (`1800`) or a number with a unit: `s`, `m`, `h`, `d`.
pub(crate) fn deserialize_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("seconds, or a duration like \"90s\", \"30m\", \"24h\", \"7d\"")
        }

        fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(secs))
        }

        fn visit_i64<E: serde::de::Error>(self, secs: i64) -> Result<Duration, E> {
            u64::try_from(secs)
                .map(Duration::from_secs)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
            parse_duration(text).ok_or_else(|| {
                E::custom(format!(
                    "`{text}` is not a duration; write seconds or a number with s, m, h or d, like \"30m\""
                ))
            })
        }
    }
    de.deserialize_any(Visitor)
}

pub(crate) fn serialize_duration<S: Serializer>(
    duration: &Duration,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_u64(duration.as_secs())
}

pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return None,
    };
    number.checked_mul(scale).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    fn env(pairs: &[(&str, &str)]) -> Option<config::Map<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = Settings::new(SECRET);
        assert!(s.rewrite && s.use_get && s.client_id && s.no_cookie_persist);
        assert!(!s.url_specific && !s.delete_cookies);
        assert_eq!(s.param_name, "sessionid");
        assert_eq!(s.header_name, "X-Session-ID");
        assert_eq!(s.session_ttl, Duration::from_secs(1800));
        assert_eq!(s.token_max_age, Duration::from_secs(86400));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn missing_secret_names_the_setting_and_the_fix() {
        let err = Settings::from_sources(&Settings::default(), None, env(&[])).unwrap_err();
        assert_eq!(err.setting(), "secret");
        assert!(err.to_string().contains("COOKIELESS_SECRET"), "{err}");
    }

    #[test]
    fn short_secret_is_refused() {
        let err = Settings::new("short").validate().unwrap_err();
        assert_eq!(err.setting(), "secret");
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    }

    #[test]
    fn short_previous_secret_is_refused() {
        let mut s = Settings::new(SECRET);
        s.previous_secrets.push("old".into());
        assert_eq!(s.validate().unwrap_err().setting(), "previous_secrets");
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "session id", "sess;id", "a=b", "ü"] {
            let mut s = Settings::new(SECRET);
            s.param_name = bad.into();
            assert_eq!(s.validate().unwrap_err().setting(), "param_name", "{bad:?}");
            let mut s = Settings::new(SECRET);
            s.header_name = bad.into();
            assert_eq!(
                s.validate().unwrap_err().setting(),
                "header_name",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bad_cidr_is_refused_with_an_example() {
        let mut s = Settings::new(SECRET);
        s.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()];
        let err = s.validate().unwrap_err();
        assert_eq!(err.setting(), "trusted_proxies");
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn leaky_referrer_policy_is_refused() {
        let mut s = Settings::new(SECRET);
        s.referrer_policy = "unsafe-url".into();
        assert_eq!(s.validate().unwrap_err().setting(), "referrer_policy");
        s.referrer_policy = "No-Referrer".into();
        assert_eq!(s.validate().unwrap().referrer_policy, "no-referrer");
    }

    #[test]
    fn other_bad_values_are_refused() {
        type Spoil = fn(&mut Settings);
        let cases: [(&str, Spoil); 6] = [
            ("session_ttl", |s| s.session_ttl = Duration::ZERO),
            ("token_max_age", |s| s.token_max_age = Duration::ZERO),
            ("ipv4_prefix", |s| s.ipv4_prefix = 33),
            ("ipv6_prefix", |s| s.ipv6_prefix = 129),
            ("hosts", |s| s.hosts = vec!["http://x/".into()]),
            ("exclude", |s| s.exclude = vec!["admin".into()]),
        ];
        for (name, spoil) in cases {
            let mut s = Settings::new(SECRET);
            spoil(&mut s);
            assert_eq!(s.validate().unwrap_err().setting(), name);
        }
    }

    #[test]
    fn environment_overrides_everything() {
        let s = Settings::from_sources(
            &Settings::default(),
            None,
            env(&[
                ("COOKIELESS_SECRET", SECRET),
                ("COOKIELESS_USE_GET", "false"),
                ("COOKIELESS_SESSION_TTL", "15m"),
                ("COOKIELESS_TOKEN_MAX_AGE", "3600"),
                ("COOKIELESS_HOSTS", "a.example,b.example:8443"),
                ("COOKIELESS_PARAM_NAME", "sid"),
                ("COOKIELESS_REWRITE_CACHE_BYTES", "0"),
                ("OTHER_VAR", "ignored"),
            ]),
        )
        .unwrap();
        assert!(!s.use_get);
        assert_eq!(s.rewrite_cache_bytes, 0);
        assert_eq!(s.session_ttl, Duration::from_secs(900));
        assert_eq!(s.token_max_age, Duration::from_secs(3600));
        assert_eq!(s.hosts, ["a.example", "b.example:8443"]);
        assert_eq!(s.param_name, "sid");
    }

    #[test]
    fn toml_file_is_read_and_env_wins() {
        let dir = std::env::temp_dir().join(format!("cookieless-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cookieless.toml");
        std::fs::write(
            &file,
            format!("secret = \"{SECRET}\"\nrewrite = false\nexclude = [\"/admin/\"]\nsession_ttl = \"2h\"\n"),
        )
        .unwrap();
        let s = Settings::from_sources(
            &Settings::default(),
            Some(&file),
            env(&[("COOKIELESS_REWRITE", "true")]),
        )
        .unwrap();
        assert!(s.rewrite);
        assert_eq!(s.session_ttl, Duration::from_secs(7200));
        assert_eq!(s.validate().unwrap().exclude, ["/admin"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loading_over_a_base_keeps_what_is_not_set() {
        let mut base = Settings::new(SECRET);
        base.use_get = false;
        base.session_ttl = Duration::from_secs(42);
        let s =
            Settings::from_sources(&base, None, env(&[("COOKIELESS_CLIENT_ID", "false")])).unwrap();
        assert!(!s.use_get && !s.client_id);
        assert_eq!(s.session_ttl, Duration::from_secs(42));
        assert_eq!(s.secret, SECRET);
    }

    #[test]
    fn unbound_tokens_are_refused_in_urls() {
        let mut s = Settings::new(SECRET);
        s.client_id = false;
        let err = s.validate().unwrap_err();
        assert_eq!(err.setting(), "client_id");
        assert!(err.to_string().contains("use_get = false"), "{err}");
        s.use_get = false;
        assert!(s.validate().is_ok());
    }

    #[test]
    fn type_errors_name_the_setting() {
        let err = Settings::from_sources(
            &Settings::default(),
            None,
            env(&[
                ("COOKIELESS_SECRET", SECRET),
                ("COOKIELESS_SESSION_TTL", "soon"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("session_ttl"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Settings::from_sources(
            &Settings::default(),
            None,
            env(&[
                ("COOKIELESS_SECRET", SECRET),
                ("COOKIELESS_USE_GETT", "false"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("use_gett"), "{err}");
    }

    #[test]
    fn exclusions_are_segment_aware() {
        let mut s = Settings::new(SECRET);
        s.exclude = vec!["/admin".into(), "/api/".into()];
        let v = s.validate().unwrap();
        assert!(
            v.is_excluded("/admin") && v.is_excluded("/admin/users") && v.is_excluded("/api/x")
        );
        assert!(
            !v.is_excluded("/administrator") && !v.is_excluded("/") && !v.is_excluded("/apiary")
        );
        s.exclude = vec!["/".into()];
        assert!(s.validate().unwrap().is_excluded("/anything"));
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!("{:?}", Settings::new(SECRET));
        assert!(!shown.contains(SECRET));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("5 m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5y"), None);
    }

    #[test]
    fn cidrs_match_by_prefix() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("10.1.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse("127.0.0.1").unwrap().prefix, 32);
        assert!(Cidr::parse("not an ip/8").is_none());
    }
}
