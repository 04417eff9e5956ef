//! `cookieless-proxy`: gives any app behind it cookieless sessions.
//!
//! ```text
//! cookieless-proxy --upstream http://127.0.0.1:9000 [--listen 127.0.0.1:8080] [--config cookieless.toml]
//! ```
//!
//! Session settings come from `cookieless.toml` and `COOKIELESS_*` (`COOKIELESS_SECRET` is
//! required), proxy settings from its `[proxy]` table and `COOKIELESS_PROXY__*`; flags win.

use std::{path::PathBuf, process::ExitCode};

use actix_cookieless::{
    CookielessSession, MemoryStore, Settings,
    proxy::{Proxy, ProxySettings},
    store::SessionStore,
};
use actix_web::{App, HttpServer, middleware::Compress};

const USAGE: &str = "\
cookieless-proxy: cookieless sessions for any app behind it

usage: cookieless-proxy --upstream URL [--listen ADDR] [--config FILE]

  --upstream URL   the app, like http://127.0.0.1:9000    (proxy.upstream)
  --listen ADDR    where browsers connect, 127.0.0.1:8080 (proxy.listen)
  --config FILE    the settings file, cookieless.toml      (optional)

Session settings: COOKIELESS_SECRET (required, 32+ bytes) and the other COOKIELESS_* variables
or keys of the settings file; proxy settings under its [proxy] table or COOKIELESS_PROXY__*.
";

struct Args {
    upstream: Option<String>,
    listen: Option<String>,
    config: PathBuf,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        upstream: None,
        listen: None,
        config: PathBuf::from("cookieless.toml"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--upstream" => args.upstream = Some(value()?),
            "--listen" => args.listen = Some(value()?),
            "--config" => args.config = PathBuf::from(value()?),
            "-h" | "--help" => return Ok(None),
            "-V" | "--version" => {
                println!("cookieless-proxy {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: a log file or a journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}\n{}", settings_help());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("cookieless-proxy: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cookieless-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Every setting with its environment name and default, read from the settings types
/// themselves, so a new setting is listed without anyone remembering to.
fn settings_help() -> String {
    let mut out = String::from("Every setting (file key, environment variable, default):\n");
    let mut list = |title: &str, table: &str, env: &str, defaults: serde_json::Value| {
        out.push_str(&format!("\n{title}\n"));
        for (key, default) in defaults.as_object().into_iter().flatten() {
            let default = match (key.as_str(), default) {
                ("secret", _) => "(required, 32+ bytes)".to_owned(),
                (_, serde_json::Value::String(text)) => format!("{text:?}"),
                (_, other) => other.to_string(),
            };
            let env_name = format!("{env}{}", key.to_ascii_uppercase());
            out.push_str(&format!("  {table}{key:<28} {env_name:<44} {default}\n"));
        }
    };
    list(
        "Sessions:",
        "",
        "COOKIELESS_",
        serde_json::to_value(ProxySettings::session_defaults()).unwrap_or_default(),
    );
    list(
        "Proxy ([proxy] table):",
        "proxy.",
        "COOKIELESS_PROXY__",
        serde_json::to_value(ProxySettings::default()).unwrap_or_default(),
    );
    out
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load_from_over(&args.config, ProxySettings::session_defaults())?;
    let mut proxy_settings = ProxySettings::load_from(&args.config)?;
    if let Some(upstream) = args.upstream {
        proxy_settings.upstream = upstream;
    }
    if let Some(listen) = args.listen {
        proxy_settings.listen = listen;
    }
    proxy_settings.validate()?;
    let proxy = Proxy::new(proxy_settings, &settings)?;
    actix_web::rt::System::new().block_on(async move {
        #[cfg(feature = "redis")]
        {
            use actix_cookieless::store::RedisStore;
            let redis = proxy.settings();
            let store = if !redis.redis_cluster.is_empty() {
                Some((
                    "proxy.redis_cluster",
                    RedisStore::cluster(&redis.redis_cluster),
                ))
            } else if !redis.redis_url.is_empty() {
                Some(("proxy.redis_url", RedisStore::from_url(&redis.redis_url)))
            } else {
                None
            };
            if let Some((setting, store)) = store {
                let connect_error = |err| format!("{setting}: could not connect: {err}");
                let store = store.map_err(connect_error)?;
                store.ping().await.map_err(connect_error)?;
                return serve(store, settings, proxy).await;
            }
        }
        serve(MemoryStore::default(), settings, proxy).await
    })
}

async fn serve<St>(
    store: St,
    settings: Settings,
    proxy: Proxy,
) -> Result<(), Box<dyn std::error::Error>>
where
    St: SessionStore,
{
    let cookieless = CookielessSession::builder(store, settings).build()?;
    let listen = proxy.settings().listen.clone();
    let upstream = proxy.settings().upstream.clone();
    let shutdown = proxy.settings().shutdown_timeout;
    let workers = proxy.settings().workers;
    let proxy_for_app = proxy.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .configure(|cfg| proxy_for_app.configure(cfg))
            .wrap(cookieless.clone())
            .wrap(Compress::default())
    })
    // SIGINT and SIGTERM stop accepting, then wait this long for requests in flight.
    .shutdown_timeout(shutdown.as_secs())
    // A page streams out in many writes: with Nagle's algorithm the last one waits for the
    // client's delayed ACK (40 ms a response on keep-alive connections, measured).
    .tcp_nodelay(true)
    .bind(listen.as_str())
    .map_err(|err| format!("proxy.listen: cannot listen on {listen}: {err}"))?;
    if workers > 0 {
        server = server.workers(workers);
    }
    tracing::info!(%listen, %upstream, "cookieless-proxy started");
    eprintln!("cookieless-proxy: listening on http://{listen}, forwarding to {upstream}");
    server.run().await?;
    Ok(())
}
