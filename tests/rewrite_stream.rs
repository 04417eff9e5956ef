//! A generated 100 MB HTML response goes through the middleware: every form and link is
//! rewritten, and peak memory grows by less than 4 MiB (about 1 MiB measured). (Its own test binary, so the process's
//! peak memory is this test's alone.)

mod common;

use std::future::poll_fn;

use actix_cookieless::{MemoryStore, Session};
use actix_web::{
    HttpResponse,
    body::MessageBody,
    http::header,
    test::{self, TestRequest},
    web::{self, Bytes},
};
use common::{app_with_routes, rss_kib, settings, token_of};

const TOTAL: usize = 100 * 1024 * 1024;
/// One block of the page: a form and two links, one of them to another site.
const BLOCK: &str = r#"<div><form method="post" action="/s/next"><input name="q"></form><a href="/s/page?n=1">same</a> <a href="https://other.example/">other</a><script>var a = '<a href="/x">';</script></div>
"#;

async fn huge(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("big", true)?;
    let chunk = Bytes::from(BLOCK.repeat(64 * 1024 / BLOCK.len()));
    let count = TOTAL / chunk.len();
    let chunks = futures_util::stream::iter(
        (0..count).map(move |_| Ok::<_, actix_web::Error>(chunk.clone())),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .streaming(chunks))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(haystack, needle).count()
}

#[actix_rt::test]
async fn a_100_mb_page_streams_with_flat_memory() {
    let app = app_with_routes(MemoryStore::default(), settings(), |cfg| {
        cfg.route("/huge", web::get().to(huge));
    })
    .await;

    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = rss_kib("VmRSS:");

    let req = TestRequest::get()
        .uri("/s/huge")
        .insert_header((header::HOST, "site.example"))
        .to_request();
    let res = test::call_service(&app, req).await;
    let token = token_of(&res).unwrap();
    assert!(res.headers().get(header::CONTENT_LENGTH).is_none());
    let hidden = format!(r#"value="{token}" />"#);
    let same_link = format!(r#"href="/s/page?n=1&amp;sessionid={token}""#);

    let mut body = Box::pin(res.into_body());
    let (mut bytes, mut forms, mut links, mut leaked) = (0usize, 0usize, 0usize, 0usize);
    let mut carry: Vec<u8> = Vec::new();
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        let chunk = chunk.unwrap();
        bytes += chunk.len();
        // Search the seam between chunks too: keep the tail of the previous chunk.
        let mut window = std::mem::take(&mut carry);
        let seam = window.len();
        window.extend_from_slice(&chunk);
        let starts_after_seam = |needle: &[u8]| -> usize {
            // Matches wholly inside the carried tail were counted with the previous chunk.
            count(&window, needle) - count(&window[..seam], needle)
        };
        forms += starts_after_seam(hidden.as_bytes());
        links += starts_after_seam(same_link.as_bytes());
        leaked +=
            starts_after_seam(b"other.example/?sessionid") + starts_after_seam(b"/x?sessionid");
        let keep = window.len().min(256);
        carry = window[window.len() - keep..].to_vec();
    }
    let growth_kib = rss_kib("VmHWM:").saturating_sub(before);

    let per_chunk = 64 * 1024 / BLOCK.len();
    let blocks = (TOTAL / (per_chunk * BLOCK.len())) * per_chunk;
    assert_eq!(forms, blocks, "every form got the token");
    assert_eq!(links, blocks, "every same-site link got the token");
    assert_eq!(leaked, 0, "no token went to another site or into a script");
    assert!(bytes > TOTAL, "{bytes} bytes");
    assert!(
        growth_kib < 4 * 1024,
        "peak memory grew by {growth_kib} KiB"
    );
    eprintln!("100 MB page: {bytes} bytes out, peak RSS growth {growth_kib} KiB");
}
