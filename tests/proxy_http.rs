//! `cookieless-proxy` and HTTP/1.1's framing, byte by byte: interim (1xx) responses from the
//! upstream, `Expect: 100-continue` from the browser, protocol upgrades, bodies ended by
//! closing. Both sides are raw sockets, so nothing here is read by the HTTP code under test.

mod common;
#[path = "support/proxy.rs"]
mod proxy_support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_cookieless::Settings;
use common::{SECRET, UA};
use proxy_support::serve_proxy;

/// An upstream that reads each request (head, and a `Content-Length` body) and writes
/// `answer(n, request)`, `n` counting the requests of all its connections from 1. It closes the
/// connection after an answer that says `Connection: close`.
fn serve_raw_upstream(answer: fn(usize, &str) -> String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                while let Some(request) = read_message(&mut stream) {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    let reply = answer(n, &request);
                    if stream.write_all(reply.as_bytes()).is_err()
                        || reply.to_ascii_lowercase().contains("connection: close\r\n")
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// One message from `stream`: its head and its body (`Content-Length` or chunked, decoded), as
/// text; `None` at the end of the connection.
fn read_message(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked\r\n")
    {
        return Some(head + &read_chunked(stream)?);
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some(head + &String::from_utf8_lossy(&body))
}

/// A chunked body, decoded.
fn read_chunked(stream: &mut TcpStream) -> Option<String> {
    let mut body = Vec::new();
    loop {
        let mut line = Vec::new();
        let mut byte = [0];
        while !line.ends_with(b"\r\n") {
            if stream.read(&mut byte).ok()? == 0 {
                return None;
            }
            line.push(byte[0]);
        }
        let size = std::str::from_utf8(&line).ok()?.trim_end();
        let size = usize::from_str_radix(size.split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(String::from_utf8_lossy(&body).into_owned());
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A connection to the proxy, as a browser opens it.
fn connect(proxy: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(proxy).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// `GET /` on a connection that closes after the answer, read to its end (however it ends).
fn get_to_the_end(proxy: SocketAddr) -> String {
    let mut browser = connect(proxy);
    write!(
        browser,
        "GET / HTTP/1.1\r\nHost: {proxy}\r\nUser-Agent: {UA}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = browser.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// The status code of a response head.
fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {response:?}"))
}

fn settings() -> Settings {
    Settings::new(SECRET)
}

/// Every page comes after three interim responses, one of which has headers.
fn page_after_interims(n: usize, _request: &str) -> String {
    let body = format!("page {n}");
    format!(
        "HTTP/1.1 100 Continue\r\n\r\n\
         HTTP/1.1 102 Processing\r\n\r\n\
         HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Interim responses are the upstream's business with the proxy: they are read past, and the
/// browser gets the page that follows, on every request of a kept-alive upstream connection
/// (no page ever answers the next request).
#[test]
fn interim_responses_are_read_past_and_the_page_follows() {
    let up = serve_raw_upstream(page_after_interims);
    let (proxy, _server) = serve_proxy(&format!("http://{up}"), settings(), secs(10));
    pages_follow_interims(proxy);
}

/// Three requests on one connection to `proxy`, whose upstream is [`page_after_interims`].
fn pages_follow_interims(proxy: SocketAddr) {
    let mut browser = connect(proxy);
    for n in 1..=3 {
        write!(
            browser,
            "GET /p{n} HTTP/1.1\r\nHost: {proxy}\r\nUser-Agent: {UA}\r\n\r\n"
        )
        .unwrap();
        let response = read_message(&mut browser).expect("an answer");
        assert_eq!(status(&response), 200, "{response}");
        assert!(
            response.ends_with(&format!("\r\n\r\npage {n}")),
            "{response}"
        );
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The upstream that echoes the request it got as its body.
fn echo(_n: usize, request: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{request}",
        request.len()
    )
}

/// A browser that asks `Expect: 100-continue` gets `100 Continue`, sends its body, and the app
/// gets the body (the form's token field stays with the proxy) and answers.
#[test]
fn expect_100_continue_works_end_to_end() {
    let up = serve_raw_upstream(echo);
    let (proxy, _server) = serve_proxy(&format!("http://{up}"), settings(), secs(10));
    bodies_follow_100_continue(proxy, "sessionid");
}

/// Posts with `Expect: 100-continue` to `proxy`, whose upstream is [`echo`]; `param`: the
/// token's name, which the proxy takes out of the form.
fn bodies_follow_100_continue(proxy: SocketAddr, param: &str) {
    let form = format!("{param}=x&name=ann");
    for (content_type, body, app_gets) in [
        ("application/octet-stream", "0123456789", "0123456789"),
        (
            "application/x-www-form-urlencoded",
            form.as_str(),
            "name=ann",
        ),
    ] {
        for chunked in [false, true] {
            let mut browser = connect(proxy);
            let framing = if chunked {
                "Transfer-Encoding: chunked".to_owned()
            } else {
                format!("Content-Length: {}", body.len())
            };
            write!(
                browser,
                "POST /upload HTTP/1.1\r\nHost: {proxy}\r\nUser-Agent: {UA}\r\n\
             Content-Type: {content_type}\r\n{framing}\r\nExpect: 100-continue\r\n\r\n"
            )
            .unwrap();
            let interim = read_message(&mut browser).expect("100 Continue");
            assert_eq!(status(&interim), 100, "{interim}");
            if chunked {
                let (first, second) = body.split_at(4);
                write!(
                    browser,
                    "{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                    first.len(),
                    second.len()
                )
                .unwrap();
            } else {
                browser.write_all(body.as_bytes()).unwrap();
            }
            let response = read_message(&mut browser).expect("the app's answer");
            assert_eq!(status(&response), 200, "{response}");
            let (head, got) = response.split_once("\r\n\r\n").unwrap();
            assert!(
                got.ends_with(&format!("\r\n\r\n{app_gets}")),
                "{head}\n{got}"
            );
            assert!(
                !got.to_ascii_lowercase().contains("expect:"),
                "the proxy answers the expectation itself: {got}"
            );
        }
    }
}

/// The upstream that accepts any upgrade it is asked for.
fn upgrading(_n: usize, _request: &str) -> String {
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        .to_owned()
}

/// The proxy does not tunnel upgraded connections (WebSocket): a browser asking for one gets
/// 501 saying so, the request never reaching the app; and an upstream that switches protocols
/// unasked is a 502, not a `101` the browser would wait on.
#[test]
fn protocol_upgrades_are_refused_clearly() {
    let up = serve_raw_upstream(upgrading);
    let (proxy, _server) = serve_proxy(&format!("http://{up}"), settings(), secs(10));
    let mut browser = connect(proxy);
    write!(
        browser,
        "GET /chat HTTP/1.1\r\nHost: {proxy}\r\nUser-Agent: {UA}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let response = read_message(&mut browser).expect("an answer");
    assert_eq!(status(&response), 501, "{response}");
    assert!(response.contains("WebSocket"), "{response}");

    let mut browser = connect(proxy);
    write!(
        browser,
        "GET /page HTTP/1.1\r\nHost: {proxy}\r\nUser-Agent: {UA}\r\n\r\n"
    )
    .unwrap();
    let response = read_message(&mut browser).expect("an answer");
    assert_eq!(status(&response), 502, "{response}");
}

/// An HTTP/1.1 body without a length, ended by closing the connection (PHP's `php -S`, old
/// CGI gateways), arrives whole.
#[test]
fn a_body_ended_by_closing_arrives_whole() {
    fn closing(n: usize, _request: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\npage {n}, to the end"
        )
    }
    let up = serve_raw_upstream(closing);
    let (proxy, _server) = serve_proxy(&format!("http://{up}"), settings(), secs(10));
    for n in 1..=2 {
        let response = get_to_the_end(proxy);
        assert_eq!(status(&response), 200, "{response}");
        assert!(
            response.contains(&format!("page {n}, to the end")),
            "{response}"
        );
    }
}

/// A page to rewrite, held whole before it is answered (its length announced), that the app
/// cuts short gets `502`: never a page rewritten from half of it.
#[test]
fn a_page_cut_short_by_the_app_gets_502() {
    fn cut_short(_n: usize, _request: &str) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 200\r\nConnection: close\r\n\r\n\
         <a href=\"/next\">next</a>"
            .to_owned()
    }
    fn whole(_n: usize, _request: &str) -> String {
        let page = "<a href=\"/next\">next</a>";
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{page}",
            page.len()
        )
    }
    for (upstream, expected) in [(cut_short as fn(usize, &str) -> String, 502), (whole, 200)] {
        let up = serve_raw_upstream(upstream);
        let (proxy, _server) = serve_proxy(&format!("http://{up}"), settings(), secs(10));
        let response = get_to_the_end(proxy);
        assert_eq!(status(&response), expected, "{response}");
        if expected == 200 {
            assert!(
                response.ends_with("<a href=\"/next\">next</a>"),
                "{response}"
            );
        }
    }
}

/// The `cookieless-proxy` binary, killed when dropped.
struct Binary(std::process::Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary in front of `upstream` on a free port, and waits until it listens.
fn start_binary(upstream: SocketAddr) -> (Binary, SocketAddr) {
    let listen = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_cookieless-proxy"))
        .args(["--upstream", &format!("http://{upstream}")])
        .args(["--listen", &listen.to_string()])
        .args(["--config", "/nonexistent/cookieless.toml"])
        .env_clear()
        .env("COOKIELESS_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let binary = Binary(child);
    let deadline = std::time::Instant::now() + secs(20);
    while TcpStream::connect(listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (binary, listen)
}

/// The same through the real binary, as users run it.
#[test]
fn the_binary_reads_past_interim_responses_and_answers_100_continue() {
    let (_binary, proxy) = start_binary(serve_raw_upstream(page_after_interims));
    pages_follow_interims(proxy);
    let (_binary, proxy) = start_binary(serve_raw_upstream(echo));
    // The binary's own default name.
    bodies_follow_100_continue(proxy, actix_cookieless::proxy::PROXY_PARAM_NAME);
}
