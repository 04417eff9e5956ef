//! The `[proxy]` settings of `cookieless-proxy`: the same `cookieless.toml` and `COOKIELESS_*`
//! environment as the session settings (`COOKIELESS_PROXY__UPSTREAM=http://127.0.0.1:9000`).

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    Settings,
    settings::{SettingsError, deserialize_duration, serialize_duration},
};

/// The token's name in the proxy's forms and links: Django's session cookie is `sessionid` (the
/// crate's default, from django-cookieless), and one name for two things behind a proxy that
/// keeps Django's cookies confuses logs, jars and people. No common framework uses this one
/// (`PHPSESSID`, `sessionid`, `csrftoken`, `_session_id`, `connect.sid`, `JSESSIONID`).
pub const PROXY_PARAM_NAME: &str = "cookieless";

/// How `cookieless-proxy` reaches its upstream and listens for browsers.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `upstream` | required | the app's base URL, `http://host:port` (a path prefix is kept) |
/// | `listen` | `127.0.0.1:8080` | the address browsers (or the TLS proxy in front) connect to |
/// | `upstream_timeout` | 30 s | connect, send the request body and get the response head; past it, 504 |
/// | `upstream_version` | `1.1` | the HTTP version spoken upstream: `1.1`, or `1.0` for servers that speak only 1.0 |
/// | `preserve_host` | `true` | send the browser's `Host` upstream (else the upstream's own) |
/// | `workers` | 0 | worker threads; 0: one per core |
/// | `shutdown_timeout` | 30 s | how long a stop (SIGTERM, Ctrl-C) waits for requests in flight |
/// | `max_jar_bytes` | 16384 | size of one visitor's cookie jar, serialised; past it, new cookies are dropped |
/// | `max_body_bytes` | 1 GiB | the largest request body passed on; past it, 413 |
/// | `max_upstream_connections` | 256 | requests at the upstream at once, all workers together; more wait their turn |
/// | `redis_url` | none | keep sessions (and jars) in Redis, shared by several proxies (feature `redis`) |
/// | `redis_cluster` | none | instead, a Redis Cluster: the URLs of one or more of its nodes (feature `redis`) |
/// | `access_log` | `true` | a line per forwarded request on stderr; `false` when another proxy in front logs them |
///
/// ```
/// use actix_cookieless::proxy::ProxySettings;
///
/// let mut proxy = ProxySettings::default();
/// proxy.upstream = "http://127.0.0.1:9000".into();
/// assert!(proxy.upstream_url().is_ok());
/// proxy.upstream = "ftp://files.example".into();
/// assert_eq!(proxy.upstream_url().unwrap_err().setting(), "proxy.upstream");
/// ```
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxySettings {
    /// The upstream app's base URL.
    pub upstream: String,
    /// The address to listen on.
    pub listen: String,
    /// Connect, send the request (its body too) and receive the response head within this.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub upstream_timeout: Duration,
    /// The HTTP version spoken to the upstream: `"1.1"` (kept-alive connections), or `"1.0"`
    /// for a server that speaks only HTTP/1.0; with `"1.0"` a request body needs a
    /// `Content-Length`. Bodies ended by closing the connection are read to the end either way.
    pub upstream_version: String,
    /// Send the browser's `Host` to the upstream (as most reverse proxies are set up), so the
    /// app builds its absolute URLs for the public host; `false` sends the upstream's host.
    pub preserve_host: bool,
    /// Worker threads; 0 for one per core.
    pub workers: usize,
    /// How long a graceful stop waits for requests in flight.
    #[serde(
        deserialize_with = "deserialize_duration",
        serialize_with = "serialize_duration"
    )]
    pub shutdown_timeout: Duration,
    /// The largest cookie jar kept for one visitor, in bytes of its stored form.
    pub max_jar_bytes: usize,
    /// The largest request body passed on to the upstream, in bytes: a larger announced length
    /// gets 413 at once, a chunked body 413 once it grows past it.
    pub max_body_bytes: u64,
    /// Requests at the upstream at once, all workers together (so busy connections; idle ones
    /// are kept up to this many per worker); past it, a request waits its turn (within
    /// `upstream_timeout`).
    pub max_upstream_connections: usize,
    /// Redis for sessions and jars (needs the `redis` feature); empty: the in-memory store.
    pub redis_url: String,
    /// A Redis Cluster for sessions and jars instead: one or more of its nodes' URLs
    /// (`COOKIELESS_PROXY__REDIS_CLUSTER=redis://10.0.0.1:6379,redis://10.0.0.2:6379`).
    #[serde(deserialize_with = "list_or_commas")]
    pub redis_cluster: Vec<String>,
    /// A line per forwarded request on stderr (target `cookieless_proxy::access`); `false`
    /// spares its cost where the server in front keeps the access log already.
    pub access_log: bool,
}

/// A list from a TOML array, or from one comma-separated string (an environment variable's
/// value, which this table reads as written rather than parsing lists).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match ListOrCommas::deserialize(de)? {
        ListOrCommas::List(list) => list,
        ListOrCommas::Commas(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            upstream: String::new(),
            listen: "127.0.0.1:8080".to_owned(),
            upstream_timeout: Duration::from_secs(30),
            upstream_version: "1.1".to_owned(),
            preserve_host: true,
            workers: 0,
            shutdown_timeout: Duration::from_secs(30),
            max_jar_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024 * 1024,
            max_upstream_connections: 256,
            redis_url: String::new(),
            redis_cluster: Vec::new(),
            access_log: true,
        }
    }
}

/// Only the `[proxy]` table of the file; the rest belongs to [`Settings`](crate::Settings).
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    proxy: ProxySettings,
}

impl ProxySettings {
    /// The session settings `cookieless-proxy` starts from, before its file and environment:
    /// [`Settings::default`], except
    ///
    /// - `param_name` is [`PROXY_PARAM_NAME`] (`cookieless`), a name no app behind it uses for
    ///   a cookie of its own;
    /// - `client_script` is on: the apps behind a proxy call `fetch()` and `XMLHttpRequest`
    ///   (Django's CSRF-protected POSTs among them), and without the script client those
    ///   requests carry no session, so the app gets none of the visitor's cookies.
    ///
    /// ```
    /// use actix_cookieless::{Settings, proxy::ProxySettings};
    ///
    /// let mut settings = ProxySettings::session_defaults();
    /// settings.secret = "a secret of at least thirty-two bytes!!".into();
    /// assert_eq!(settings.param_name, "cookieless");
    /// assert!(settings.client_script);
    /// ```
    pub fn session_defaults() -> Settings {
        let mut settings = Settings::default();
        PROXY_PARAM_NAME.clone_into(&mut settings.param_name);
        settings.client_script = true;
        settings
    }

    /// Reads the `[proxy]` table of the TOML file at `path` (optional), then
    /// `COOKIELESS_PROXY__*` environment variables over it.
    pub fn load_from(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        Self::from_sources(path.as_ref(), None)
    }

    pub(crate) fn from_sources(
        file: &Path,
        env: Option<config::Map<String, String>>,
    ) -> Result<Self, SettingsError> {
        // Values stay strings (`try_parsing` read `UPSTREAM_VERSION=1.0` as a number, which a
        // string setting refused); numbers, booleans and durations parse from their strings.
        let environment = config::Environment::with_prefix("COOKIELESS")
            .prefix_separator("_")
            .separator("__")
            .source(env);
        let file: File = config::Config::builder()
            .add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(false),
            )
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(SettingsError::from_config)?;
        Ok(file.proxy)
    }

    /// The upstream as a URL: `http` or `https`, with a host, without query or credentials.
    pub fn upstream_url(&self) -> Result<Url, SettingsError> {
        let bad = |why: &str| {
            SettingsError::new(
                "proxy.upstream",
                format!(
                    "`{}` {why}; write the app's address, like `http://127.0.0.1:9000`",
                    self.upstream
                ),
            )
        };
        if self.upstream.is_empty() {
            return Err(SettingsError::new(
                "proxy.upstream",
                "is required: the app's address, like `http://127.0.0.1:9000` (or --upstream)",
            ));
        }
        let url = Url::parse(&self.upstream).map_err(|_| bad("is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("is not an http(s) URL with a host"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(bad("may not have a query, fragment or user name"));
        }
        if url.scheme() == "https" {
            return Err(bad(
                "uses https, which this build does not speak upstream; run the app on plain http on a private address",
            ));
        }
        Ok(url)
    }

    /// Checks the settings that do not need the upstream to be reachable.
    pub fn validate(&self) -> Result<Url, SettingsError> {
        let url = self.upstream_url()?;
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(SettingsError::new(
                "proxy.listen",
                format!(
                    "`{}` is not an address with a port, like `127.0.0.1:8080`",
                    self.listen
                ),
            ));
        }
        if self.upstream_timeout.is_zero() {
            return Err(SettingsError::new(
                "proxy.upstream_timeout",
                "must be longer than zero, like `30s`",
            ));
        }
        if !matches!(self.upstream_version.as_str(), "1.1" | "1.0") {
            return Err(SettingsError::new(
                "proxy.upstream_version",
                format!("`{}` is not `1.1` or `1.0`", self.upstream_version),
            ));
        }
        if self.max_jar_bytes < 4096 {
            return Err(SettingsError::new(
                "proxy.max_jar_bytes",
                "must be at least 4096 (one cookie of the largest size browsers keep)",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(SettingsError::new(
                "proxy.max_body_bytes",
                "must be at least 1, like 1073741824 (1 GiB)",
            ));
        }
        if self.max_upstream_connections == 0 {
            return Err(SettingsError::new(
                "proxy.max_upstream_connections",
                "must be at least 1, like 256",
            ));
        }
        let needs_redis =
            "needs the `redis` feature: cargo install actix-cookieless --features proxy,redis";
        if !self.redis_url.is_empty() && !cfg!(feature = "redis") {
            return Err(SettingsError::new("proxy.redis_url", needs_redis));
        }
        if !self.redis_cluster.is_empty() {
            if !cfg!(feature = "redis") {
                return Err(SettingsError::new("proxy.redis_cluster", needs_redis));
            }
            if !self.redis_url.is_empty() {
                return Err(SettingsError::new(
                    "proxy.redis_cluster",
                    "names a Redis Cluster, and proxy.redis_url one Redis: set one of them",
                ));
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::test_env;

    /// Settings naming Redis are valid with the `redis` feature; without it they are refused,
    /// naming `setting`.
    #[track_caller]
    fn assert_valid_where_redis_is_built(s: &ProxySettings, setting: &str) {
        let validated = s.validate();
        if cfg!(feature = "redis") {
            assert!(validated.is_ok(), "{s:?}");
        } else {
            assert_eq!(validated.expect_err("refused").setting(), setting);
        }
    }

    #[test]
    fn loads_the_proxy_table_and_the_environment_over_it() {
        let dir = std::env::temp_dir().join(format!("cookieless-proxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cookieless.toml");
        std::fs::write(
            &file,
            "secret = \"ignored here\"\n[proxy]\nupstream = \"http://127.0.0.1:9000\"\nupstream_timeout = \"5s\"\nredis_cluster = [\"redis://a:6379\", \"redis://b:6379\"]\n",
        )
        .unwrap();
        let s = ProxySettings::from_sources(
            &file,
            test_env(&[("COOKIELESS_PROXY__LISTEN", "0.0.0.0:9999")]),
        )
        .unwrap();
        assert_eq!(s.upstream, "http://127.0.0.1:9000");
        assert_eq!(s.upstream_timeout, Duration::from_secs(5));
        assert_eq!(s.listen, "0.0.0.0:9999");
        assert_eq!(s.redis_cluster, ["redis://a:6379", "redis://b:6379"]);
        assert_valid_where_redis_is_built(&s, "proxy.redis_cluster");

        std::fs::write(&file, "[proxy]\nupstrem = \"http://x\"\n").unwrap();
        let err = ProxySettings::from_sources(&file, test_env(&[])).unwrap_err();
        assert!(err.to_string().contains("upstrem"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every setting reads from the environment as written: a string that looks like a number
    /// stays that string, and numbers, booleans and durations parse.
    #[test]
    fn environment_values_are_read_as_written() {
        let s = ProxySettings::from_sources(
            Path::new("/nonexistent/cookieless.toml"),
            test_env(&[
                ("COOKIELESS_PROXY__UPSTREAM", "http://127.0.0.1:9000"),
                ("COOKIELESS_PROXY__UPSTREAM_VERSION", "1.0"),
                ("COOKIELESS_PROXY__WORKERS", "2"),
                ("COOKIELESS_PROXY__PRESERVE_HOST", "false"),
                ("COOKIELESS_PROXY__MAX_JAR_BYTES", "8192"),
                ("COOKIELESS_PROXY__UPSTREAM_TIMEOUT", "7s"),
                (
                    "COOKIELESS_PROXY__REDIS_CLUSTER",
                    "redis://10.0.0.1:6379,redis://10.0.0.2:6379",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.redis_cluster,
            ["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"]
        );
        assert_eq!(s.upstream_version, "1.0");
        assert_eq!(s.workers, 2);
        assert!(!s.preserve_host);
        assert_eq!(s.max_jar_bytes, 8192);
        assert_eq!(s.upstream_timeout, Duration::from_secs(7));
        assert_valid_where_redis_is_built(&s, "proxy.redis_cluster");
    }

    #[test]
    fn each_bad_setting_is_named() {
        type Spoil = fn(&mut ProxySettings);
        let ok = || ProxySettings {
            upstream: "http://127.0.0.1:9000/app".into(),
            ..ProxySettings::default()
        };
        assert!(ok().validate().is_ok());
        // Both Redis settings: refused as two, or (without the feature) for the first.
        let both_redis = if cfg!(feature = "redis") {
            "proxy.redis_cluster"
        } else {
            "proxy.redis_url"
        };
        let cases: [(&str, Spoil); 10] = [
            (both_redis, |s| {
                s.redis_url = "redis://10.0.0.1:6379".into();
                s.redis_cluster = vec!["redis://10.0.0.2:6379".into()];
            }),
            ("proxy.upstream_version", |s| {
                s.upstream_version = "2".into();
            }),
            ("proxy.upstream", |s| s.upstream = String::new()),
            ("proxy.upstream", |s| s.upstream = "127.0.0.1:9000".into()),
            ("proxy.upstream", |s| s.upstream = "http://app/?a=1".into()),
            ("proxy.listen", |s| s.listen = "localhost".into()),
            ("proxy.upstream_timeout", |s| {
                s.upstream_timeout = Duration::ZERO;
            }),
            ("proxy.max_jar_bytes", |s| s.max_jar_bytes = 10),
            ("proxy.max_body_bytes", |s| s.max_body_bytes = 0),
            ("proxy.max_upstream_connections", |s| {
                s.max_upstream_connections = 0;
            }),
        ];
        for (setting, spoil) in cases {
            let mut s = ok();
            spoil(&mut s);
            assert_eq!(s.validate().unwrap_err().setting(), setting, "{s:?}");
        }
    }
}
