use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{App, HttpServer, web};

async fn step(session: Session) -> actix_web::Result<String> {
    let n: u32 = session.get("n")?.unwrap_or(0);
    session.insert("n", n + 1)?;
    Ok(format!("step {}", n + 1))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load()?; // cookieless.toml + COOKIELESS_* variables
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build()?;
    HttpServer::new(move || {
        App::new().service(
            web::scope("/survey")
                .wrap(cookieless.clone()) // this scope is cookieless; the rest keeps what it had
                .route("/{step}", web::to(step)),
        )
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await?;
    Ok(())
}
