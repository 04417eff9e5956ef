//! A client on the wire: each request on a fresh connection from the loopback address that
//! stands for its client (`203.0.113.7` comes from `127.0.113.7`), so that a door sees the
//! client's address as a browser's server would, and the proxy's own upstream hop is real.

use std::net::{Ipv4Addr, SocketAddr};

pub use crate::common::WireResponse as Res;
use crate::common::parse_response;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
};

pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Doors/1.0";

/// One request.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// The client's IPv4 address; the connection comes from `127.b.c.d`.
    pub client: Ipv4Addr,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: "GET",
            path: path.into(),
            headers: vec![("host", "site.example".to_owned())],
            body: String::new(),
            client: Ipv4Addr::new(203, 0, 113, 7),
        }
    }

    pub fn head(path: impl Into<String>) -> Self {
        Self {
            method: "HEAD",
            ..Self::get(path)
        }
    }

    pub fn post(path: impl Into<String>, form: impl Into<String>) -> Self {
        Self {
            method: "POST",
            body: form.into(),
            ..Self::get(path)
        }
        .header("content-type", "application/x-www-form-urlencoded")
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub fn token(self, token: &str) -> Self {
        self.header("x-session-id", token)
    }

    pub fn from(mut self, client: [u8; 4]) -> Self {
        self.client = client.into();
        self
    }
}

/// Sends `req` to `door` and reads the whole response (`Connection: close`).
pub async fn send(door: SocketAddr, req: Req) -> Res {
    let [_, b, c, d] = req.client.octets();
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from(([127, b, c, d], 0)))
        .expect("bind a loopback address");
    let mut stream = socket.connect(door).await.expect("connect to the door");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nConnection: close\r\n",
        req.method, req.path
    );
    if !req.headers.iter().any(|(name, _)| *name == "user-agent") {
        head.push_str(&format!("User-Agent: {UA}\r\n"));
    }
    if !req.body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    for (name, value) in &req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&req.body);
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut raw),
    )
    .await
    .expect("the door answered within 20 s")
    .unwrap();
    parse_response(&raw, req.method == "HEAD")
}
