//! The middleware in-process, request to rewritten response, against the same handler without
//! it, on the generated 50 KB page: what a request pays for its session (find and open the
//! token, load the session, rewrite the page, seal the next token, headers), with the page
//! from the rewrite cache (the same buffer, or a fresh buffer with the same bytes), and with
//! the cache off (every response parsed).

#[path = "support/page.rs"]
mod page;

use std::{hint::black_box, time::Duration};

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{App, HttpResponse, test, web, web::Bytes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async fn start(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("step", 1)?;
    Ok(HttpResponse::Ok().finish())
}

fn app_config(page: Bytes) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg| {
        let (shared, copied) = (page.clone(), page.clone());
        cfg.route("/start", web::post().to(start))
            // One shared buffer, as a static page is served.
            .route(
                "/page",
                web::get().to(move || {
                    let page = shared.clone();
                    async move { html(page) }
                }),
            )
            // A fresh buffer each time, as a rendered template is.
            .route(
                "/copy",
                web::get().to(move || {
                    let page = Bytes::copy_from_slice(&copied);
                    async move { html(page) }
                }),
            );
    }
}

fn html(page: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

fn middleware(c: &mut Criterion) {
    let page = Bytes::from(page::generated(50 * 1024));
    let system = actix_rt::System::new();
    let mut group = c.benchmark_group("middleware/50KB page");
    group.throughput(Throughput::BytesDecimal(page.len() as u64));

    let plain = system.block_on(test::init_service(
        App::new().configure(app_config(page.clone())),
    ));
    let get = |path: &str, token: Option<&str>| {
        let req = test::TestRequest::get()
            .uri(path)
            .insert_header(("user-agent", UA));
        match token {
            Some(token) => req.insert_header(("x-session-id", token)).to_request(),
            None => req.to_request(),
        }
    };
    group.bench_function("without middleware", |b| {
        b.iter(|| {
            system.block_on(async {
                let res = test::call_service(&plain, get("/page", None)).await;
                black_box(test::read_body(res).await.len())
            })
        });
    });

    // (name, path, rewrite, use_get, rewrite cache)
    let variants = [
        ("middleware, rewrite off", "/page", false, true, true),
        ("middleware, forms", "/page", true, false, true),
        ("middleware, forms+links", "/page", true, true, true),
        (
            "middleware, forms+links, fresh buffer",
            "/copy",
            true,
            true,
            true,
        ),
        (
            "middleware, forms+links, cache off",
            "/page",
            true,
            true,
            false,
        ),
    ];
    for (name, path, rewrite, use_get, cache) in variants {
        let mut settings = Settings::new("benchmark-secret-0123456789abcdef0123456789");
        settings.rewrite = rewrite;
        settings.use_get = use_get;
        if !cache {
            settings.rewrite_cache_bytes = 0;
        }
        let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
            .build()
            .expect("valid settings");
        let app = system.block_on(test::init_service(
            App::new()
                .wrap(cookieless)
                .configure(app_config(page.clone())),
        ));
        let token = system.block_on(async {
            let req = test::TestRequest::post()
                .uri("/start")
                .insert_header(("user-agent", UA));
            let res = test::call_service(&app, req.to_request()).await;
            let token = res.headers().get("x-session-id").expect("a session token");
            token.to_str().expect("ASCII token").to_owned()
        });
        // Sanity: the session opens, and the page really is rewritten (or not).
        let body = system.block_on(async {
            test::read_body(test::call_service(&app, get(path, Some(&token))).await).await
        });
        assert_eq!(body.len() > page.len(), rewrite, "{name}");

        group.bench_function(name, |b| {
            b.iter(|| {
                system.block_on(async {
                    let res = test::call_service(&app, get(path, Some(&token))).await;
                    black_box(test::read_body(res).await.len())
                })
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = middleware
}
criterion_main!(benches);
