//! A plain HTTP server on another origin that keeps every request whole: the oracle of the
//! leak tests (what reached another origin), sharing nothing with the rewriter.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    time::Duration,
};

/// One request the other origin received, with the action that was running.
pub struct Recorded {
    pub during: String,
    pub raw: String,
}

/// A plain HTTP server on another origin that keeps every request whole.
pub struct Recorder {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    pub during: Arc<Mutex<String>>,
}

impl Recorder {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the recorder");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let during = Arc::new(Mutex::new(String::new()));
        let (kept, label) = (Arc::clone(&requests), Arc::clone(&during));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (kept, label) = (Arc::clone(&kept), Arc::clone(&label));
                std::thread::spawn(move || {
                    if let Some(raw) = read_request(stream) {
                        let during = label.lock().unwrap().clone();
                        kept.lock().unwrap().push(Recorded { during, raw });
                    }
                });
            }
        });
        Self {
            addr,
            requests,
            during,
        }
    }

    /// The origin pages name: `localhost` while the site is `127.0.0.1`, another site too.
    pub fn origin(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    pub fn paths(&self) -> Vec<String> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter_map(|r| r.raw.split(' ').nth(1).map(str::to_owned))
            .collect()
    }
}

/// Reads one request (head and `Content-Length` body), answers a small page and closes.
fn read_request(mut stream: TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut raw = Vec::new();
    let mut buf = [0; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let page = "<!doctype html><title>recorder</title><p>recorded";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    Some(String::from_utf8_lossy(&raw).into_owned())
}
