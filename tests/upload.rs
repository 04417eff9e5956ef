//! A 50 MB multipart upload whose first part is the token: the session is kept, the handler
//! receives every byte, and the middleware buffers nothing beyond the token part.
//! (Its own test binary, so the process's peak memory is this test's alone.)

mod common;

use std::pin::Pin;

use actix_cookieless::{MemoryStore, Session};
use actix_web::{
    HttpResponse,
    dev::Payload,
    error::PayloadError,
    http::header,
    test::{self, TestRequest},
    web::{self, Bytes},
};
use common::*;
use futures_util::{Stream, StreamExt, stream};

const FILE_LEN: usize = 50 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// FNV-1a over every byte: cheap, order-sensitive.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The body, produced chunk by chunk: never whole in memory.
fn body_stream(token: String) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    let head = format!(
        "--BoUnDaRy\r\nContent-Disposition: form-data; name=\"sessionid\"\r\n\r\n{token}\r\n\
         --BoUnDaRy\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = "\r\n--BoUnDaRy--\r\n";
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let file = stream::iter((0..FILE_LEN / CHUNK).map(move |_| {
        let mut chunk = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            chunk.extend_from_slice(&seed.to_le_bytes());
        }
        Ok(Bytes::from(chunk))
    }));
    stream::once(async move { Ok(Bytes::from(head)) })
        .chain(file)
        .chain(stream::once(async move {
            Ok(Bytes::from_static(tail.as_bytes()))
        }))
}

async fn upload(session: Session, mut payload: web::Payload) -> actix_web::Result<HttpResponse> {
    let mut len = 0usize;
    let mut hash = Fnv::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        len += chunk.len();
        hash.update(&chunk);
    }
    let step: Option<String> = session.get("step")?;
    Ok(HttpResponse::Ok().body(format!("{len} {:x} {}", hash.0, step.unwrap_or_default())))
}

#[actix_rt::test]
async fn fifty_megabyte_upload_keeps_the_session_and_every_byte() {
    let app = app_with_routes(MemoryStore::default(), settings(), |cfg| {
        cfg.route("/upload", web::post().to(upload));
    })
    .await;

    let res = test::call_service(
        &app,
        TestRequest::get().uri("/s/write/step/one").to_request(),
    )
    .await;
    let token = token_of(&res).unwrap();

    // The expected length and hash, computed from the same generator without keeping it.
    let mut expected = Fnv::new();
    let mut expected_len = 0;
    let mut gen_stream = Box::pin(body_stream(token.clone()));
    while let Some(chunk) = gen_stream.next().await {
        let chunk = chunk.unwrap();
        expected_len += chunk.len();
        expected.update(&chunk);
    }
    assert!(expected_len > FILE_LEN);

    // Reset the peak-RSS mark so that VmHWM measures this upload alone.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = rss_kib("VmRSS:");

    let req = TestRequest::post()
        .uri("/s/upload")
        .insert_header((
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=BoUnDaRy",
        ))
        .to_request();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(body_stream(token));
    let (req, _) = req.replace_payload(Payload::Stream { payload: stream });
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    let text = body(res).await;

    let growth_kib = rss_kib("VmHWM:").saturating_sub(before);
    assert_eq!(
        text,
        format!("{expected_len} {:x} one", expected.0),
        "every byte, in order, and the session"
    );
    assert!(
        growth_kib < 4 * 1024,
        "peak memory grew by {growth_kib} KiB for a 50 MB upload"
    );
    eprintln!("50 MB upload: peak RSS growth {growth_kib} KiB");
}
