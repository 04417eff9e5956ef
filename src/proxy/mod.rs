//! `cookieless-proxy`: cookieless sessions for an app that keeps its session in cookies (PHP,
//! Django, Rails, Node), without changing it. Feature `proxy`.
//!
//! The proxy sits in front of the app. Each visitor gets a cookieless session (this crate's
//! middleware: tokens in forms, links with `use_get`, the `X-Session-ID` header); the cookies
//! the app sets live in that session, in a server-side jar with RFC 6265's rules, and go back
//! to the app on the visitor's next request. The browser never sees a cookie. Pages stream both
//! ways and are rewritten on the fly, so uploads and large pages pass with flat memory.
//!
//! The `cookieless-proxy` binary is this module with settings from `cookieless.toml` and
//! `COOKIELESS_*`; an actix app can mount the same forwarder itself:
//!
//! ```no_run
//! use actix_cookieless::{CookielessSession, MemoryStore, Settings, proxy::{Proxy, ProxySettings}};
//! use actix_web::{App, HttpServer, middleware::Compress};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The binary's defaults: the token named `cookieless`, the script client on.
//! let settings = Settings::load_over(ProxySettings::session_defaults())?;
//! let mut proxy_settings = ProxySettings::default();
//! proxy_settings.upstream = "http://127.0.0.1:9000".into();
//! let proxy = Proxy::new(proxy_settings, &settings)?;
//! let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build()?;
//! # actix_web::rt::System::new().block_on(async move {
//! HttpServer::new(move || {
//!     App::new()
//!         .configure(|cfg| proxy.configure(cfg))
//!         .wrap(cookieless.clone())
//!         .wrap(Compress::default()) // outermost: compresses the rewritten page
//! })
//! // Pages stream out in many writes: without this, Nagle's algorithm holds the last one
//! // for the client's delayed ACK (40 ms per response on a kept-alive connection).
//! .tcp_nodelay(true)
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # })?;
//! # Ok(())
//! # }
//! ```

mod access_log;
mod forward;
mod hop_by_hop;
mod jar;
mod limit;
mod respond;
mod settings;
mod strip;
mod upstream;

use std::sync::Arc;

use actix_web::web;
use url::Url;

pub use self::settings::{PROXY_PARAM_NAME, ProxySettings};
use self::upstream::Upstream;
use crate::{Settings, SettingsError, ValidSettings};

/// A forwarder to one upstream app: what [`Proxy::configure`] mounts as the default service.
#[derive(Clone, Debug)]
pub struct Proxy {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: ProxySettings,
    upstream: Url,
    /// `host:port` of the upstream, as its `Host` header and as `Location`s name it.
    upstream_authority: String,
    /// Places for requests at the upstream, `max_upstream_connections` of them, shared by the
    /// workers.
    upstream_requests: Arc<tokio::sync::Semaphore>,
    /// The session settings (token names, trusted proxies) the middleware runs with.
    session: ValidSettings,
}

impl Proxy {
    /// A forwarder to `proxy.upstream`, for a middleware built from `session`.
    ///
    /// Fails, naming the setting, when either is invalid.
    pub fn new(proxy: ProxySettings, session: &Settings) -> Result<Self, SettingsError> {
        let upstream = proxy.validate()?;
        let session = session.validate()?;
        let host = upstream.host_str().unwrap_or_default();
        let upstream_authority = match upstream.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let upstream_requests =
            Arc::new(tokio::sync::Semaphore::new(proxy.max_upstream_connections));
        Ok(Self {
            inner: Arc::new(Inner {
                settings: proxy,
                upstream,
                upstream_authority,
                upstream_requests,
                session,
            }),
        })
    }

    /// The settings this proxy runs with.
    pub fn settings(&self) -> &ProxySettings {
        &self.inner.settings
    }

    /// Mounts the forwarder as the default service, with an HTTP client for this worker (it
    /// does not follow redirects: the browser does, through the proxy). Wrap the app in
    /// [`CookielessSession`](crate::CookielessSession), and `Compress` outside it.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let settings = &self.inner.settings;
        let upstream = Upstream::new(
            Arc::clone(&self.inner.upstream_requests),
            settings.max_upstream_connections,
            settings.upstream_timeout,
        );
        cfg.app_data(web::Data::new(self.clone()))
            .app_data(web::Data::new(upstream))
            .default_service(web::to(forward::forward));
    }
}

impl Inner {
    /// The upstream URL for the browser's `path_and_query` (under the upstream's own path).
    fn upstream_url(&self, path_and_query: &str) -> String {
        let base = self.upstream.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }

    /// A `Location` (or `Content-Location`) that names the upstream itself, made relative so
    /// the browser comes back through the proxy; `None`: leave it as it is.
    fn localize(&self, location: &str) -> Option<String> {
        let url = Url::parse(location).ok()?;
        let same = url.scheme() == self.upstream.scheme()
            && url.host_str() == self.upstream.host_str()
            && url.port_or_known_default() == self.upstream.port_or_known_default();
        if !same {
            return None;
        }
        let prefix = self.upstream.path().trim_end_matches('/');
        let path = url.path().strip_prefix(prefix).unwrap_or(url.path());
        let path = path.strip_prefix('/').unwrap_or(path);
        // `//host/` or `/\host/` is another host to a browser: the upstream's `//evil.example/`
        // path stays a path, its leading slashes escaped (the upstream decodes them back).
        let slashes = path.len() - path.trim_start_matches(['/', '\\']).len();
        let mut local = String::from("/");
        for c in path[..slashes].chars() {
            local.push_str(if c == '/' { "%2F" } else { "%5C" });
        }
        local.push_str(&path[slashes..]);
        if let Some(query) = url.query() {
            local.push('?');
            local.push_str(query);
        }
        if let Some(fragment) = url.fragment() {
            local.push('#');
            local.push_str(fragment);
        }
        Some(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(upstream: &str) -> Proxy {
        let settings = ProxySettings {
            upstream: upstream.into(),
            ..ProxySettings::default()
        };
        Proxy::new(
            settings,
            &Settings::new("a secret of at least thirty-two bytes!!"),
        )
        .unwrap()
    }

    #[test]
    fn upstream_locations_come_back_through_the_proxy() {
        let p = proxy("http://127.0.0.1:9000/app");
        let inner = &p.inner;
        assert_eq!(
            inner.upstream_url("/step2?a=1"),
            "http://127.0.0.1:9000/app/step2?a=1"
        );
        assert_eq!(
            inner
                .localize("http://127.0.0.1:9000/app/step2?a=1#f")
                .as_deref(),
            Some("/step2?a=1#f")
        );
        assert_eq!(inner.localize("/step2"), None);
        assert_eq!(inner.localize("http://127.0.0.1:9001/app/x"), None);
        assert_eq!(inner.localize("https://127.0.0.1:9000/app/x"), None);
        assert_eq!(inner.localize("https://other.example/"), None);
        // The upstream's own `//evil.example/` path must not become a protocol-relative URL.
        for (upstream_location, local) in [
            (
                "http://127.0.0.1:9000/app//evil.example/x",
                "/%2Fevil.example/x",
            ),
            // The url crate reads `\` as `/` in http URLs.
            (
                "http://127.0.0.1:9000/app/\\evil.example/",
                "/%2Fevil.example/",
            ),
            (
                "http://127.0.0.1:9000/app///evil.example/",
                "/%2F%2Fevil.example/",
            ),
        ] {
            assert_eq!(inner.localize(upstream_location).as_deref(), Some(local));
        }
        let root = proxy("http://app.internal");
        assert_eq!(
            root.inner.localize("http://app.internal:80/x").as_deref(),
            Some("/x")
        );
    }
}
