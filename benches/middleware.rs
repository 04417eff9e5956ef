//! The middleware in-process, request to rewritten response, against the same handler without
//! it, on the generated 50 KB page: what a request pays for its session (find and open the
//! token, load the session, rewrite the page, seal the next token, headers).

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
        let page = page.clone();
        cfg.route("/start", web::post().to(start)).route(
            "/page",
            web::get().to(move || {
                let page = page.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(page)
                }
            }),
        );
    }
}

fn middleware(c: &mut Criterion) {
    let page = Bytes::from(page::generated(50 * 1024));
    let system = actix_rt::System::new();
    let mut group = c.benchmark_group("middleware/50KB page");
    group.throughput(Throughput::BytesDecimal(page.len() as u64));

    let plain = system.block_on(test::init_service(
        App::new().configure(app_config(page.clone())),
    ));
    let get = |token: Option<&str>| {
        let req = test::TestRequest::get()
            .uri("/page")
            .insert_header(("user-agent", UA));
        match token {
            Some(token) => req.insert_header(("x-session-id", token)).to_request(),
            None => req.to_request(),
        }
    };
    group.bench_function("without middleware", |b| {
        b.iter(|| {
            system.block_on(async {
                let res = test::call_service(&plain, get(None)).await;
                black_box(test::read_body(res).await.len())
            })
        })
    });

    for (name, use_get) in [
        ("with middleware, forms", false),
        ("with middleware, forms+links", true),
    ] {
        let mut settings = Settings::new("benchmark-secret-0123456789abcdef0123456789");
        settings.use_get = use_get;
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
        // Sanity: the session opens, and the page really is rewritten.
        let body = system.block_on(async {
            test::read_body(test::call_service(&app, get(Some(&token))).await).await
        });
        assert!(
            body.len() > page.len(),
            "{name}: the page was not rewritten"
        );

        group.bench_function(name, |b| {
            b.iter(|| {
                system.block_on(async {
                    let res = test::call_service(&app, get(Some(&token))).await;
                    black_box(test::read_body(res).await.len())
                })
            })
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
