//! The server `scripts/load-page` loads: the generated benchmark page (50 KB by default) with or
//! without the middleware, and a 100 MB HTML response for the memory check.
//!
//! ```text
//! MODE=plain|norewrite|forms|links|links-nocache BIND=127.0.0.1:8090 PAGE_KB=50 WORKERS=1 cargo run --release --example bench_server
//! ```
//!
//! - `GET /page`: the page: without the middleware (`plain`); with it but not rewritten
//!   (`norewrite`: the session's own cost); rewritten for POST forms (`forms`) or forms and
//!   links (`links`, the default settings), or the same with the rewrite cache off
//!   (`links-nocache`: every response parsed);
//! - `POST /start`: starts a session; its token comes back in `X-Session-ID`;
//! - `GET /big?mb=100`: that many MB of HTML, streamed in 64 KiB chunks, never held whole.

#[path = "../benches/support/page.rs"]
mod page;

use std::convert::Infallible;

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{App, HttpResponse, HttpServer, middleware::Condition, web, web::Bytes};

const BIG_CHUNK: usize = 64 * 1024;

async fn start(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("step", 1)?;
    Ok(HttpResponse::Ok().finish())
}

#[derive(serde::Deserialize)]
struct Big {
    mb: Option<usize>,
}

async fn big(query: web::Query<Big>, chunk: web::Data<Bytes>) -> HttpResponse {
    let total = query.mb.unwrap_or(100).min(1024) * 1_000_000;
    let chunk = chunk.get_ref().clone();
    let chunks = total.div_ceil(chunk.len());
    let body =
        futures_util::stream::iter((0..chunks).map(move |_| Ok::<_, Infallible>(chunk.clone())));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .streaming(body)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name}={value:?} is not valid")),
        Err(_) => Ok(default),
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode: String = env_or("MODE", "links".to_owned())?;
    let bind: String = env_or("BIND", "127.0.0.1:8090".to_owned())?;
    let page_kb: usize = env_or("PAGE_KB", 50)?;
    let workers: usize = env_or("WORKERS", 1)?;
    // (use_get, rewrite, rewrite cache)
    let (use_get, rewrite, cache) = match mode.as_str() {
        "plain" | "norewrite" => (false, false, true),
        "forms" => (false, true, true),
        "links" => (true, true, true),
        "links-nocache" => (true, true, false),
        other => {
            return Err(format!(
                "MODE={other:?}: expected plain, norewrite, forms, links or links-nocache"
            )
            .into());
        }
    };
    let page = Bytes::from(page::generated(page_kb * 1000));
    // A whole small page, repeated for the big response (HTML shrugs off the repeats).
    let chunk = Bytes::from(page::generated(BIG_CHUNK));
    let mut settings = Settings::new("bench-server-secret-0123456789abcdef0123");
    settings.use_get = use_get;
    settings.rewrite = rewrite;
    if !cache {
        settings.rewrite_cache_bytes = 0;
    }
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings).build()?;
    let with_middleware = mode != "plain";
    eprintln!(
        "bench_server: MODE={mode}, {} byte page, {workers} worker(s), http://{bind}/page",
        page.len()
    );
    HttpServer::new(move || {
        let page = page.clone();
        App::new()
            .wrap(Condition::new(with_middleware, cookieless.clone()))
            .app_data(web::Data::new(chunk.clone()))
            .route("/start", web::post().to(start))
            .route("/big", web::get().to(big))
            .route(
                "/page",
                web::get().to(move || {
                    let page = page.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(page)
                    }
                }),
            )
    })
    .workers(workers)
    .bind(bind)?
    .run()
    .await?;
    Ok(())
}
