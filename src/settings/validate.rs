//! Checking settings once, at start-up, into the parsed form the middleware runs on.

use super::{MIN_SECRET_LEN, Settings, SettingsError};
use crate::{net::Cidr, session_cookie::SessionCookie};

impl Settings {
    /// Checks every setting and returns the parsed form the middleware runs on.
    ///
    /// Each error names the setting and says how to fix it.
    pub fn validate(&self) -> Result<ValidSettings, SettingsError> {
        check_secret("secret", &self.secret)?;
        for secret in &self.previous_secrets {
            check_secret("previous_secrets", secret)?;
        }
        let param_name = check_name("param_name", &self.param_name)?;
        // Its characters are all valid in a header name; header maps keep names in lowercase.
        let header_name = check_name("header_name", &self.header_name)?.to_ascii_lowercase();
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
        if self.new_sessions_ipv4_prefix > 32 {
            return Err(SettingsError::new(
                "new_sessions_ipv4_prefix",
                "must be between 0 and 32",
            ));
        }
        if self.new_sessions_ipv6_prefix > 128 {
            return Err(SettingsError::new(
                "new_sessions_ipv6_prefix",
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

        let cookie = check_cookie(self, &param_name)?;

        // Every field named: a new setting must be checked here, or said to need no check.
        let Settings {
            secret,
            previous_secrets,
            rewrite,
            use_get,
            client_id,
            url_specific,
            hosts: _,
            no_cookie_persist,
            delete_cookies,
            exclude: _,
            param_name: _,
            header_name: _,
            session_ttl,
            token_max_age,
            session_max_lifetime,
            redirect_token_max_age,
            trusted_proxies: _,
            referrer_policy: _,
            reject_cross_site,
            ipv4_prefix,
            ipv6_prefix,
            body_scan_limit,
            body_scan_timeout,
            new_sessions_per_minute,
            new_sessions_ipv4_prefix,
            new_sessions_ipv6_prefix,
            rewrite_cache_bytes,
            client_script,
            client_script_path,
            cookie: _,
            cookie_name: _,
            cookie_same_site: _,
            cookie_partitioned: _,
            proxy: _,
        } = self.clone();
        Ok(ValidSettings {
            settings: self.clone(),
            secret,
            previous_secrets,
            rewrite,
            use_get,
            client_id,
            url_specific,
            hosts,
            no_cookie_persist,
            delete_cookies,
            exclude,
            param_name,
            header_name,
            session_ttl,
            token_max_age,
            session_max_lifetime,
            redirect_token_max_age,
            trusted_proxies,
            referrer_policy,
            reject_cross_site,
            ipv4_prefix,
            ipv6_prefix,
            body_scan_limit,
            body_scan_timeout,
            new_sessions_per_minute,
            new_sessions_ipv4_prefix,
            new_sessions_ipv6_prefix,
            rewrite_cache_bytes,
            client_script,
            client_script_path,
            cookie,
        })
    }
}

/// `cookie`, `cookie_name`, `cookie_same_site` and `cookie_partitioned`: the session cookie of
/// `auto` mode, `None` with `off`.
fn check_cookie(
    settings: &Settings,
    param_name: &str,
) -> Result<Option<SessionCookie>, SettingsError> {
    match settings.cookie.to_ascii_lowercase().as_str() {
        "off" => return Ok(None),
        "auto" => {}
        other => {
            return Err(SettingsError::new(
                "cookie",
                format!(
                    "`{other}` is not a cookie mode; write `off` (no cookie, the default) or `auto`"
                ),
            ));
        }
    }
    let name = if settings.cookie_name.is_empty() {
        format!("__Host-{param_name}")
    } else {
        check_name("cookie_name", &settings.cookie_name)?
    };
    let same_site = match settings.cookie_same_site.to_ascii_lowercase().as_str() {
        "none" => "None",
        "lax" => "Lax",
        "strict" => "Strict",
        other => {
            return Err(SettingsError::new(
                "cookie_same_site",
                format!("`{other}` is not a SameSite value; write `none`, `lax` or `strict`"),
            ));
        }
    };
    Ok(Some(SessionCookie::new(
        name,
        same_site,
        settings.cookie_partitioned,
    )))
}

/// Settings that passed [`Settings::validate`]: each setting checked, and parsed into the form
/// the middleware runs on (see [`Settings`] for what each means). No field is reached through
/// the unchecked [`Settings`]: [`settings`](Self::settings) gives those as they were given.
#[derive(Debug, Clone)]
pub struct ValidSettings {
    settings: Settings,
    pub(crate) secret: String,
    pub(crate) previous_secrets: Vec<String>,
    pub(crate) rewrite: bool,
    pub(crate) use_get: bool,
    pub(crate) client_id: bool,
    pub(crate) url_specific: bool,
    /// In lowercase, `host` or `host:port`.
    pub(crate) hosts: Vec<String>,
    pub(crate) no_cookie_persist: bool,
    pub(crate) delete_cookies: bool,
    pub(crate) exclude: Vec<String>,
    pub(crate) param_name: String,
    /// In lowercase.
    pub(crate) header_name: String,
    pub(crate) session_ttl: std::time::Duration,
    pub(crate) token_max_age: std::time::Duration,
    pub(crate) session_max_lifetime: std::time::Duration,
    pub(crate) redirect_token_max_age: std::time::Duration,
    pub(crate) trusted_proxies: Vec<Cidr>,
    pub(crate) referrer_policy: &'static str,
    pub(crate) reject_cross_site: bool,
    pub(crate) ipv4_prefix: u8,
    pub(crate) ipv6_prefix: u8,
    pub(crate) body_scan_limit: usize,
    pub(crate) body_scan_timeout: std::time::Duration,
    pub(crate) new_sessions_per_minute: u32,
    pub(crate) new_sessions_ipv4_prefix: u8,
    pub(crate) new_sessions_ipv6_prefix: u8,
    pub(crate) rewrite_cache_bytes: u64,
    pub(crate) client_script: bool,
    pub(crate) client_script_path: String,
    /// `cookie = "auto"`: the session cookie; `None` with `off`.
    pub(crate) cookie: Option<SessionCookie>,
}

impl ValidSettings {
    /// The settings as given.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether responses to `path` are rewritten (tokens put into their `Location` and HTML):
    /// `rewrite` is on and `path` lies under no `exclude` prefix.
    pub(crate) fn rewrites(&self, path: &str) -> bool {
        self.rewrite && !self.is_excluded(path)
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

fn check_referrer_policy(value: &str) -> Result<&'static str, SettingsError> {
    if is_safe_referrer_policy(value) {
        Ok(SAFE_REFERRER_POLICIES
            .iter()
            .find(|p| value.trim().eq_ignore_ascii_case(p))
            .copied()
            .unwrap_or("same-origin"))
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
