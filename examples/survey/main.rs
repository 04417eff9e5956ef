//! A three-step anonymous survey that works with cookies blocked.
//!
//! ```sh
//! cargo run --example survey            # then open http://127.0.0.1:8080/survey/
//! ```
//!
//! - `BIND` sets the address (default `127.0.0.1:8080`).
//! - `COOKIELESS_SECRET` sets the secret; when it is unset the demo makes one up at start (its
//!   sessions then end with the process). Every other `COOKIELESS_*` setting applies too, e.g.
//!   `COOKIELESS_USE_GET=false` keeps ordinary tokens out of URLs (forms still carry them; the
//!   redirect after each post carries a token that opens only the page it points to).
//! - `REDIS_URL` (built with `--features redis`) keeps sessions in Redis, so several demo
//!   processes with one secret share them.
//!
//! Pages: `/survey/` (the survey), `/survey/counter` (a script client using the `X-Session-ID`
//! header), `/embed` (the survey in a cross-site iframe: open it on `localhost`).

mod app;

use std::{path::Path, sync::Arc};

use actix_cookieless::{CookielessSession, MemoryStore, Settings, store::SessionStore};
use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();

    let mut base = Settings::default();
    if std::env::var_os("COOKIELESS_SECRET").is_none() {
        base.secret = (0..2)
            .map(|_| actix_cookieless::store::new_session_key())
            .collect();
        tracing::warn!(
            "COOKIELESS_SECRET is unset: using a secret made up for this run \
             (set one to keep sessions across restarts or share them between processes)"
        );
    }
    let settings = Settings::load_over(base)?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());

    match std::env::var("REDIS_URL") {
        Ok(url) => serve(redis_store(&url).await?, settings, &bind).await,
        Err(_) => {
            tracing::info!("sessions in memory (set REDIS_URL to share them between processes)");
            serve(MemoryStore::default(), settings, &bind).await
        }
    }
}

#[cfg(feature = "redis")]
async fn redis_store(url: &str) -> anyhow::Result<actix_cookieless::store::RedisStore> {
    let store = actix_cookieless::store::RedisStore::from_url(url)?;
    store.ping().await?;
    tracing::info!(%url, "sessions in Redis");
    Ok(store)
}

#[cfg(not(feature = "redis"))]
async fn redis_store(_url: &str) -> anyhow::Result<MemoryStore> {
    anyhow::bail!(
        "REDIS_URL is set but this build has no Redis support: \
         run `cargo run --example survey --features redis`"
    )
}

async fn serve<St>(store: St, settings: Settings, bind: &str) -> anyhow::Result<()>
where
    St: SessionStore,
{
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let survey = Arc::new(app::Survey::new(&templates, settings.use_get));
    let cookieless = CookielessSession::builder(store, settings).build()?;
    let server = HttpServer::new(move || {
        App::new().configure(|cfg| app::configure(cfg, Arc::clone(&survey), cookieless.clone()))
    })
    .workers(2)
    .bind(bind)?;
    tracing::info!("survey demo: open http://{bind}/survey/");
    server.run().await?;
    Ok(())
}
