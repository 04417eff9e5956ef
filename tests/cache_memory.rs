//! The rewrite cache's bound is the process's memory: 120 distinct 600 KB pages, each served
//! twice (so each is kept), grow the process by no more than 1.25x `rewrite_cache_bytes`
//! beyond what the same traffic costs with the cache off. (Alone in its test binary: another
//! test's allocations would count.)

mod common;

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{
    App, HttpResponse,
    http::header,
    test::{self, TestRequest},
    web,
};
use common::{SECRET, rss_kib};

const BOUND: u64 = 32 * 1024 * 1024;
const PAGES: usize = 120;
const PAGE_BYTES: usize = 600 * 1024;

/// A survey page of about 600 KB, different for each `n`: a form and links in every row.
fn page(n: usize) -> String {
    let mut html = format!("<!doctype html><html><head><title>Page {n}</title></head><body>");
    let mut row = 0;
    while html.len() < PAGE_BYTES {
        html.push_str(&format!(
            "<form method=post action=/s/answer/{n}/{row}><p>Question {row} of page {n}</p>\
             <input name=a><button>Next</button></form><a href=/s/page/{row}>row {row}</a>\n"
        ));
        row += 1;
    }
    html.push_str("</body></html>");
    html
}

async fn serve(path: web::Path<usize>, session: Session) -> HttpResponse {
    let n = path.into_inner();
    session.insert("page", n).expect("a small value");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page(n))
}

/// How much the process grew serving every page twice with a cache of `cache_bytes`.
async fn growth_serving_pages_twice(cache_bytes: u64) -> u64 {
    let mut settings = Settings::new(SECRET);
    settings.rewrite_cache_bytes = cache_bytes;
    // Every request starts a session: 240 of them from one client.
    settings.new_sessions_per_minute = 0;
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .expect("valid settings");
    let app = test::init_service(
        App::new().service(
            web::scope("/s")
                .wrap(cookieless)
                .route("/page/{n}", web::get().to(serve)),
        ),
    )
    .await;
    let get = |n: usize| {
        TestRequest::get()
            .uri(&format!("/s/page/{n}"))
            .insert_header((header::HOST, "shop.example"))
            .insert_header((header::USER_AGENT, common::UA))
            .to_request()
    };
    // Warm up: allocator and runtime, one page rewritten.
    let warm = test::call_service(&app, get(PAGES)).await;
    assert!(test::read_body(warm).await.len() > PAGE_BYTES);
    let before = rss_kib("VmRSS:");
    let mut peak = before;
    for round in 0..2 {
        for n in 0..PAGES {
            let res = test::call_service(&app, get(n)).await;
            let body = test::read_body(res).await;
            assert!(
                body.windows(9).any(|w| w == b"sessionid"),
                "page {n}, round {round}: rewritten"
            );
            peak = peak.max(rss_kib("VmRSS:"));
        }
    }
    (peak.saturating_sub(before) as u64) * 1024
}

#[actix_rt::test]
async fn a_full_rewrite_cache_costs_the_process_what_it_was_given() {
    let without = growth_serving_pages_twice(0).await;
    let with = growth_serving_pages_twice(BOUND).await;
    let cache = with.saturating_sub(without);
    eprintln!(
        "{PAGES} pages of {} KiB served twice: RSS grew {} KiB with a {} KiB cache, {} KiB \
         without ({:.2}x the bound for the cache)",
        PAGE_BYTES / 1024,
        with / 1024,
        BOUND / 1024,
        without / 1024,
        cache as f64 / BOUND as f64
    );
    assert!(
        cache as f64 <= 1.25 * BOUND as f64,
        "the cache grew the process by {} KiB, over 1.25x its {} KiB bound",
        cache / 1024,
        BOUND / 1024
    );
}
