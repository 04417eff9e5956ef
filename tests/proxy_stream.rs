//! 100 MB up and 100 MB down through `cookieless-proxy`, with a session: every byte arrives,
//! the page is rewritten on the way, and the process's peak memory stays flat. (Its own test
//! binary, so the peak is this test's alone.)

mod common;

use std::net::SocketAddr;

use actix_cookieless::{
    CookielessSession, MemoryStore, Settings,
    proxy::{Proxy, ProxySettings},
};
use actix_web::{
    App, HttpResponse, HttpServer,
    body::SizedStream,
    http::header,
    web::{self, Bytes},
};
use common::{SECRET, UA, rss_kib};
use futures_util::{StreamExt, stream};

const LEN: usize = 100 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// FNV-1a: cheap and order-sensitive.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Chunk `i` of the upload: pseudo-random bytes, the same on both sides.
fn upload_chunk(i: usize) -> Bytes {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
    let mut chunk = Vec::with_capacity(CHUNK);
    while chunk.len() < CHUNK {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        chunk.extend_from_slice(&seed.to_le_bytes());
    }
    Bytes::from(chunk)
}

/// A row of the page: one POST form and one own link, 128 bytes.
const ROW: &[u8] = b"<form method=post action=/f><input name=a></form><a href=/n>next</a><p>padding padding padding padding pad</p>\n";

fn serve_upstream() -> SocketAddr {
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/start",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header((header::SET_COOKIE, "sid=1; Path=/"))
                        .body("started")
                }),
            )
            .route(
                "/upload",
                web::post().to(|mut body: web::Payload| async move {
                    let (mut len, mut hash) = (0usize, FNV_START);
                    while let Some(chunk) = body.next().await {
                        let chunk = chunk?;
                        len += chunk.len();
                        hash = fnv(hash, &chunk);
                    }
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(format!("{len} {hash:x}")))
                }),
            )
            .route(
                "/page",
                web::get().to(|| async {
                    let rows = LEN / ROW.len();
                    let chunks = stream::iter(
                        (0..rows / 512)
                            .map(|_| Ok::<_, std::io::Error>(Bytes::from(ROW.repeat(512)))),
                    );
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(SizedStream::new(
                            (rows / 512 * 512 * ROW.len()) as u64,
                            chunks,
                        ))
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    addr
}

fn serve_proxy(upstream: SocketAddr) -> SocketAddr {
    let settings = Settings::new(SECRET);
    let mut proxy_settings = ProxySettings::default();
    proxy_settings.upstream = format!("http://{upstream}");
    let proxy = Proxy::new(proxy_settings, &settings).unwrap();
    let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
        .build()
        .unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .configure(|cfg| proxy.configure(cfg))
            .wrap(cookieless.clone())
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    addr
}

#[actix_web::test]
async fn a_hundred_megabytes_each_way_pass_whole_with_flat_memory() {
    let proxy = serve_proxy(serve_upstream());
    let client = awc::Client::builder()
        .no_default_headers()
        .disable_timeout()
        .finish();
    let start = client
        .get(format!("http://{proxy}/start"))
        .insert_header((header::USER_AGENT, UA))
        .send()
        .await
        .unwrap();
    let token = start
        .headers()
        .get("x-session-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();

    let chunks = LEN / CHUNK;
    let expected = (0..chunks).fold(FNV_START, |h, i| fnv(h, &upload_chunk(i)));
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = rss_kib("VmRSS:");

    let upload = stream::iter((0..chunks).map(|i| Ok::<_, std::io::Error>(upload_chunk(i))));
    let mut res = client
        .post(format!("http://{proxy}/upload"))
        .insert_header((header::USER_AGENT, UA))
        .insert_header(("x-session-id", token.as_str()))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .send_body(SizedStream::new(LEN as u64, upload))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer = res.body().await.unwrap();
    assert_eq!(
        answer,
        format!("{LEN} {expected:x}").as_bytes(),
        "every byte, in order"
    );

    let mut res = client
        .get(format!("http://{proxy}/page"))
        .insert_header((header::USER_AGENT, UA))
        .insert_header(("x-session-id", token.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (mut len, mut forms_with_token, mut carry) = (0usize, 0usize, Vec::new());
    // Each response carries a freshly sealed token: the page's is in its header.
    let fresh = res.headers().get("x-session-id").unwrap().to_str().unwrap();
    let needle = format!(r#"name="sessionid" value="{fresh}""#);
    while let Some(chunk) = res.next().await {
        let chunk = chunk.unwrap();
        len += chunk.len();
        // Count the token in the forms across chunk borders.
        carry.extend_from_slice(&chunk);
        let text = String::from_utf8_lossy(&carry).into_owned();
        forms_with_token += text.matches(&needle).count();
        let keep = text.rfind(&needle).map_or(0, |i| i + needle.len());
        let keep = keep.max(carry.len().saturating_sub(needle.len()));
        carry.drain(..keep);
    }
    let rows = LEN / ROW.len() / 512 * 512;
    assert_eq!(forms_with_token, rows, "every form got the token");
    assert!(len > rows * ROW.len(), "the page grew by its tokens: {len}");

    let growth_kib = rss_kib("VmHWM:").saturating_sub(before);
    eprintln!("100 MB up, {len} bytes down through the proxy: peak RSS growth {growth_kib} KiB");
    assert!(
        growth_kib < 16 * 1024,
        "peak memory grew by {growth_kib} KiB for 100 MB each way"
    );
}
