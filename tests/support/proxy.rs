//! The proxy as the `cookieless-proxy` binary builds it, on a free loopback port.

use std::{net::SocketAddr, time::Duration};

use actix_cookieless::{
    CookielessSession, MemoryStore, Settings,
    proxy::{Proxy, ProxySettings},
};
use actix_web::{App, HttpServer, dev::ServerHandle, middleware::Compress};

/// Proxy settings for `upstream` (`http://host:port`) with `timeout`.
pub fn to(upstream: &str, timeout: Duration) -> ProxySettings {
    let mut proxy_settings = ProxySettings::default();
    upstream.clone_into(&mut proxy_settings.upstream);
    proxy_settings.upstream_timeout = timeout;
    proxy_settings
}

/// Serves the proxy to `upstream` (`http://host:port`) in a server of its own thread, so that
/// blocking clients (a browser driver) may use it from the test's thread.
pub fn serve_proxy(
    upstream: &str,
    settings: Settings,
    timeout: Duration,
) -> (SocketAddr, ServerHandle) {
    serve_proxy_with(to(upstream, timeout), settings)
}

/// Like [`serve_proxy`], with proxy settings of the caller's.
pub fn serve_proxy_with(
    proxy_settings: ProxySettings,
    settings: Settings,
) -> (SocketAddr, ServerHandle) {
    let proxy = Proxy::new(proxy_settings, &settings).expect("valid proxy settings");
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .expect("valid settings");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .configure(|cfg| proxy.configure(cfg))
                    .wrap(cookieless.clone())
                    .wrap(Compress::default())
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .expect("bind a loopback port");
            let addr = server.addrs()[0];
            let server = server.run();
            tx.send((addr, server.handle())).unwrap();
            server.await
        })
    });
    rx.recv().expect("the proxy started")
}
