use std::net::SocketAddr;

use actix_cookieless::{MemoryStore, Session, SessionError, Settings, tower::CookielessLayer};
use axum::{Router, extract::ConnectInfo, routing::post};

async fn step(session: Session) -> Result<String, SessionError> {
    let n: u32 = session.get("n").ok().flatten().unwrap_or(0) + 1;
    session.insert("n", n).ok();
    Ok(format!("step {n}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = CookielessLayer::builder(MemoryStore::default(), Settings::load()?)
        // Tokens are bound to the client's address: tell the layer where axum keeps it.
        .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
        .build()?;
    let app = Router::new()
        .route("/survey/{step}", post(step))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
