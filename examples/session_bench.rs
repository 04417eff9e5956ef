//! The server `scripts/compare-sessions` loads: one handler (read a counter from the session,
//! add one, answer a page), behind actix-session's cookie sessions or behind actix-cookieless,
//! so that going cookieless is measured against what a user would use instead.
//!
//! ```text
//! MODE=cookie|cookieless-norewrite|cookieless|cookieless-nocache|cookieless-auto PAGE=small|path/to/page.html \
//!     STORE=memory|redis BIND=127.0.0.1:8091 WORKERS=1 cargo run --release --example session_bench
//! ```
//!
//! `STORE=redis` (built with `--features redis`; `REDIS_URL`, default `redis://127.0.0.1:6379`)
//! keeps the sessions in Redis on both sides: actix-session's `RedisSessionStore` for `cookie`,
//! this crate's `RedisStore` for the others. `cookieless-auto` is `cookie = "auto"`: a client
//! that brings the session cookie back is served without rewriting.
//!
//! - `cookie`: actix-session's `SessionMiddleware` with `CookieSessionStore` (the session in a
//!   signed and encrypted cookie: no store at all, its cheapest configuration), or with its
//!   `RedisSessionStore` (`STORE=redis`);
//! - `cookieless-norewrite`: this crate with `rewrite = false` (the session's own cost);
//! - `cookieless`: the defaults (links and forms rewritten; the same page again comes from the
//!   rewrite cache);
//! - `cookieless-nocache`: the same with `rewrite_cache_bytes = 0`, as for a page that differs
//!   on every request.
//!
//! `PAGE=small` is 5 KB with a form and 20 links; otherwise the HTML file named. `WORK_US=95`
//! makes the page handler burn 95 µs of CPU first (a control: a handler that much slower).
//! `POST /start` starts a session (its cookie or token comes back in the response headers);
//! `GET /page` runs the handler; `GET /stream` sends 1 MB of HTML (forms and links) in 64
//! chunks of 16 KB, one every 5 ms, as a slow backend would: for the time to the first byte.

use actix_web::{App, HttpResponse, HttpServer, cookie::Key, web, web::Bytes};

#[path = "../benches/support/small_page.rs"]
mod small;
use small::small_page;

macro_rules! counter_handlers {
    ($session:ty) => {
        pub(super) async fn start(session: $session) -> actix_web::Result<HttpResponse> {
            session.insert("n", 0u64)?;
            Ok(HttpResponse::Ok().finish())
        }

        pub(super) async fn stream(session: $session) -> actix_web::Result<HttpResponse> {
            let n: u64 = session.get("n")?.unwrap_or(0);
            session.insert("n", n + 1)?;
            Ok(super::slow_stream())
        }

        pub(super) async fn page(
            session: $session,
            page: web::Data<Bytes>,
            work: web::Data<super::Work>,
        ) -> actix_web::Result<HttpResponse> {
            let n: u64 = session.get("n")?.unwrap_or(0);
            session.insert("n", n + 1)?;
            work.burn();
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page.get_ref().clone()))
        }
    };
}

mod cookie {
    use super::*;
    counter_handlers!(actix_session::Session);
}

mod cookieless {
    use super::*;
    counter_handlers!(actix_cookieless::Session);
}

/// CPU time the page handler burns (`WORK_US`; none by default): a control that tells what a
/// handler slower by that much scores, to set against the rewriter's own cost.
#[derive(Clone, Copy)]
struct Work(std::time::Duration);

impl Work {
    fn burn(self) {
        let start = std::time::Instant::now();
        while start.elapsed() < self.0 {
            std::hint::spin_loop();
        }
    }
}

/// 1 MB of HTML in 64 chunks of 16 KB, one every 5 ms.
fn slow_stream() -> HttpResponse {
    let mut chunk = small_page().repeat(4);
    chunk.truncate(16 * 1024);
    let chunk = Bytes::from(chunk);
    let body = futures_util::stream::unfold(0, move |sent| {
        let chunk = chunk.clone();
        async move {
            if sent == 64 {
                return None;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
            Some((Ok::<_, std::convert::Infallible>(chunk), sent + 1))
        }
    });
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .streaming(body)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// What the server shares: the page, the work, the address and the worker count.
struct Server {
    page: Bytes,
    work: Work,
    bind: String,
    workers: usize,
}

impl Server {
    /// Serves the handlers behind actix-session with the store `store` makes (one per worker).
    async fn cookie<S, F>(self, store: F) -> std::io::Result<()>
    where
        S: actix_session::storage::SessionStore + 'static,
        F: Fn() -> S + Clone + Send + 'static,
    {
        let key = Key::from(&[7u8; 64]);
        let Self {
            page,
            work,
            bind,
            workers,
        } = self;
        HttpServer::new(move || {
            let sessions = actix_session::SessionMiddleware::builder(store(), key.clone())
                .cookie_secure(false)
                .build();
            App::new()
                .app_data(web::Data::new(page.clone()))
                .app_data(web::Data::new(work))
                .service(
                    web::scope("")
                        .wrap(sessions)
                        .route("/start", web::post().to(cookie::start))
                        .route("/stream", web::get().to(cookie::stream))
                        .route("/page", web::get().to(cookie::page)),
                )
        })
        .workers(workers)
        .bind(bind)?
        .run()
        .await
    }

    /// Serves the handlers behind actix-cookieless with `store`.
    async fn cookieless<S>(
        self,
        store: S,
        settings: actix_cookieless::Settings,
    ) -> Result<(), Box<dyn std::error::Error>>
    where
        S: actix_cookieless::store::SessionStore,
    {
        let cookieless = actix_cookieless::CookielessSession::builder(store, settings).build()?;
        let Self {
            page,
            work,
            bind,
            workers,
        } = self;
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(page.clone()))
                .app_data(web::Data::new(work))
                .service(
                    web::scope("")
                        .wrap(cookieless.clone())
                        .route("/start", web::post().to(cookieless::start))
                        .route("/stream", web::get().to(cookieless::stream))
                        .route("/page", web::get().to(cookieless::page)),
                )
        })
        .workers(workers)
        .bind(bind)?
        .run()
        .await?;
        Ok(())
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = env_or("MODE", "cookieless");
    let store = env_or("STORE", "memory");
    let bind = env_or("BIND", "127.0.0.1:8091");
    let workers: usize = env_or("WORKERS", "1").parse()?;
    let page = match env_or("PAGE", "small").as_str() {
        "small" => Bytes::from(small_page()),
        path => Bytes::from(std::fs::read(path).map_err(|e| format!("PAGE={path}: {e}"))?),
    };
    let work = Work(std::time::Duration::from_micros(
        env_or("WORK_US", "0")
            .parse()
            .map_err(|e| format!("WORK_US: {e}"))?,
    ));
    let mut settings = actix_cookieless::Settings::new("session-bench-secret-0123456789abcdef01");
    // One client address makes every request: no budget of new sessions here.
    settings.new_sessions_per_minute = 0;
    match mode.as_str() {
        "cookie" | "cookieless" => {}
        "cookieless-norewrite" => settings.rewrite = false,
        "cookieless-nocache" => settings.rewrite_cache_bytes = 0,
        "cookieless-auto" => "auto".clone_into(&mut settings.cookie),
        other => return Err(format!("MODE={other:?}: expected cookie, cookieless-norewrite, cookieless, cookieless-nocache or cookieless-auto").into()),
    }
    eprintln!(
        "session_bench: MODE={mode}, STORE={store}, {} byte page, {workers} worker(s), http://{bind}/page",
        page.len()
    );
    let server = Server {
        page,
        work,
        bind,
        workers,
    };
    match (mode.as_str(), store.as_str()) {
        ("cookie", "memory") => {
            server
                .cookie(actix_session::storage::CookieSessionStore::default)
                .await?;
        }
        (_, "memory") => {
            server
                .cookieless(actix_cookieless::MemoryStore::default(), settings)
                .await?;
        }
        #[cfg(feature = "redis")]
        (mode, "redis") => {
            let url = env_or("REDIS_URL", "redis://127.0.0.1:6379");
            if mode == "cookie" {
                let store = actix_session::storage::RedisSessionStore::new(url).await?;
                server.cookie(move || store.clone()).await?;
            } else {
                let store = actix_cookieless::store::RedisStore::from_url(&url)?;
                store.ping().await?;
                server.cookieless(store, settings).await?;
            }
        }
        (_, other) => {
            return Err(format!(
                "STORE={other:?}: expected memory, or redis (built with --features redis)"
            )
            .into());
        }
    }
    Ok(())
}
