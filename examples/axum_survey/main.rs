//! The survey demo on axum: the same templates and steps as `examples/survey`, behind the
//! tower layer (`actix_cookieless::tower::CookielessLayer`) on the same engine.
//!
//! ```sh
//! cargo run --example axum_survey --features tower   # then open http://127.0.0.1:8080/survey/
//! ```
//!
//! `BIND`, `COOKIELESS_SECRET` and every other `COOKIELESS_*` setting work as in the actix demo.

mod app;

use std::{net::SocketAddr, path::Path, sync::Arc};

use actix_cookieless::{MemoryStore, Settings, store::new_session_key, tower::CookielessLayer};
use axum::extract::ConnectInfo;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let mut base = Settings::default();
    if std::env::var_os("COOKIELESS_SECRET").is_none() {
        base.secret = (0..2).map(|_| new_session_key()).collect();
        tracing::warn!("COOKIELESS_SECRET is unset: using a secret made up for this run");
    }
    let settings = Settings::load_over(base)?;
    let survey = Arc::new(app::Survey::new(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        settings.use_get,
    ));
    let layer = CookielessLayer::builder(MemoryStore::default(), settings)
        // Tokens are bound to the client's address: axum keeps it in `ConnectInfo`.
        .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
        .build()?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("the survey on axum: http://{bind}/survey/");
    let app = app::router(survey, layer);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
