//! Time to the first byte of a response body, and to the first token in it, over a raw socket
//! (curl's `time_starttransfer` stops at the headers, which a streamed response sends at once).
//!
//! ```text
//! cargo run --release --example first_byte -- 127.0.0.1:8091 /stream "X-Session-ID: TOKEN"
//! ```
//!
//! Prints `first-body-byte-ms first-token-ms` (the token as `sessionid`, or `-` if none came).

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Instant,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: first_byte HOST:PORT PATH [HEADER]...";
    let addr = args.next().expect(usage);
    let path = args.next().expect(usage);
    let headers: String = args.map(|h| format!("{h}\r\n")).collect();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let started = Instant::now();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: compare-sessions/1.0\r\n{headers}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (mut body_at, mut token_at) = (None, None);
    loop {
        let n = stream.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let body_from = memchr::memmem::find(&seen, b"\r\n\r\n").map(|at| at + 4);
        if let Some(from) = body_from {
            // A chunked body starts with its first chunk's size line.
            let body = &seen[from..];
            if body_at.is_none() && body.iter().filter(|&&b| b == b'<').count() > 0 {
                body_at = Some(started.elapsed());
            }
            if token_at.is_none() && memchr::memmem::find(body, b"sessionid").is_some() {
                token_at = Some(started.elapsed());
                break;
            }
        }
    }
    let ms = |d: Option<std::time::Duration>| {
        d.map_or("-".to_owned(), |d| {
            format!("{:.2}", d.as_secs_f64() * 1000.0)
        })
    };
    println!("{} {}", ms(body_at), ms(token_at));
}
