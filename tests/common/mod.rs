//! Shared test harness: an app wrapped in the middleware, and a store that can be made to fail.
#![allow(dead_code)] // each test binary uses a part of the harness

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use actix_cookieless::{
    Clock, CookielessSession, MemoryStore, Session, Settings,
    store::{SessionState as State, SessionStore, StoreError},
};
use actix_web::{
    App, HttpResponse,
    cookie::Cookie,
    dev::ServiceResponse,
    http::{StatusCode, header},
    test::{self, TestRequest},
    web,
};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Test/1.0";

pub fn settings() -> Settings {
    Settings::new(SECRET)
}

/// The entries as `k=v;k=v`, sorted, values as stored (JSON).
pub fn render(session: &Session) -> String {
    let entries: BTreeMap<_, _> = session.entries().clone().into_iter().collect();
    entries
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

async fn write(
    session: Session,
    path: web::Path<(String, String)>,
) -> actix_web::Result<HttpResponse> {
    let (name, value) = path.into_inner();
    session.insert(name, value)?;
    Ok(HttpResponse::Ok().body(render(&session)))
}

async fn read(session: Session) -> HttpResponse {
    HttpResponse::Ok().body(render(&session))
}

/// Stores every form field except the token, as a multipage form would.
async fn form(
    session: Session,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    for (name, value) in form.into_inner() {
        if name != "sessionid" {
            session.insert(name, value)?;
        }
    }
    Ok(HttpResponse::Ok().body(render(&session)))
}

async fn transport(session: Session) -> HttpResponse {
    HttpResponse::Ok().body(format!("{:?}", session.transport()))
}

async fn cookie(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("c", 1)?;
    Ok(HttpResponse::Ok()
        .cookie(Cookie::new("tracker", "1"))
        .body(render(&session)))
}

async fn purge(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().body(render(&session))
}

async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().body(render(&session))
}

/// The routes every test app has, under `/s`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/write/{name}/{value}", web::to(write))
        .route("/read", web::to(read))
        .route("/form", web::post().to(form))
        .route("/transport", web::to(transport))
        .route("/cookie", web::to(cookie))
        .route("/purge", web::to(purge))
        .route("/renew", web::to(renew));
}

/// The service type of the test apps.
pub trait TestApp:
    actix_web::dev::Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
{
}
impl<T> TestApp for T where
    T: actix_web::dev::Service<
            actix_http::Request,
            Response = ServiceResponse,
            Error = actix_web::Error,
        >
{
}

/// An app whose `/s` scope is cookieless, over `store`, with the common routes plus `extra`.
pub async fn app_with_routes<S: SessionStore>(
    store: S,
    settings: Settings,
    extra: fn(&mut web::ServiceConfig),
) -> impl TestApp {
    app_timed(store, settings, Clock::system(), extra).await
}

/// [`app_with_routes`], telling the time by `clock` (a test moves a manual one).
pub async fn app_timed<S: SessionStore>(
    store: S,
    settings: Settings,
    clock: Clock,
    extra: fn(&mut web::ServiceConfig),
) -> impl TestApp {
    let cookieless = CookielessSession::builder(store, settings)
        .clock(clock)
        .build()
        .expect("valid settings");
    test::init_service(
        App::new().service(
            web::scope("/s")
                .wrap(cookieless)
                .configure(routes)
                .configure(extra),
        ),
    )
    .await
}

/// An app whose `/s` scope is cookieless, over `store`.
pub async fn app_with<S: SessionStore>(store: S, settings: Settings) -> impl TestApp {
    app_with_routes(store, settings, |_| {}).await
}

pub async fn app() -> impl TestApp {
    app_with(MemoryStore::default(), settings()).await
}

/// The token a response carries, if any.
pub fn token_of<B>(res: &ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get("x-session-id")
        .map(|v| v.to_str().unwrap().to_owned())
}

pub async fn body<B: actix_web::body::MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// A store whose every operation fails while `down` is set; otherwise a `MemoryStore`.
#[derive(Clone, Default)]
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub down: Arc<AtomicBool>,
}

impl FlakyStore {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::backend(
                "connection refused (secret internal detail 10.9.8.7:6379)",
            ))
        } else {
            Ok(())
        }
    }
}

impl SessionStore for FlakyStore {
    async fn load(&self, key: &str) -> Result<Option<State>, StoreError> {
        self.check()?;
        self.inner.load(key).await
    }

    async fn save(&self, state: State, ttl: Duration) -> Result<String, StoreError> {
        self.check()?;
        self.inner.save(state, ttl).await
    }

    async fn update(&self, key: &str, state: State, ttl: Duration) -> Result<String, StoreError> {
        self.check()?;
        self.inner.update(key, state, ttl).await
    }

    async fn update_ttl(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_ttl(key, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
}

/// A memory figure of this process from `/proc/self/status`, in KiB: `VmRSS:` now, `VmHWM:` the
/// peak since the last `echo 5 > /proc/self/clear_refs`.
pub fn rss_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}

/// One HTTP/1.1 exchange as read off the wire.
#[derive(Debug)]
pub struct WireResponse {
    pub status: u16,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl WireResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn token(&self) -> Option<String> {
        self.header("x-session-id").map(str::to_owned)
    }
}

/// Sends one request over a fresh connection (`Connection: close`) on a blocking thread, as
/// the user agent [`UA`], and reads the whole response.
pub async fn wire(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> WireResponse {
    use std::io::{Read, Write};
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {UA}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let request = format!("{head}\r\n{body}");
    let raw = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the test server");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        raw
    })
    .await
    .unwrap();
    parse_response(&raw, method == "HEAD")
}

/// A whole HTTP/1.1 response read off the wire (`head_only`: the answer to a HEAD, which must
/// have no body), its chunked body decoded.
pub fn parse_response(raw: &[u8], head_only: bool) -> WireResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&raw[..split]).expect("a text head");
    let rest = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if head_only {
        assert!(rest.is_empty(), "a body after a HEAD response: {rest:?}");
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    WireResponse {
        status,
        headers,
        body: String::from_utf8(body).expect("a UTF-8 body"),
    }
}

/// Decodes a chunked HTTP/1.1 body.
pub fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Serves the common routes under a cookieless `/s` on a free loopback port, one worker.
pub fn serve<S>(
    store: S,
    settings: Settings,
) -> (std::net::SocketAddr, actix_web::dev::ServerHandle)
where
    S: SessionStore + Send + Sync + 'static,
{
    let cookieless = CookielessSession::builder(store, settings)
        .build()
        .expect("valid settings");
    let server = actix_web::HttpServer::new(move || {
        App::new().service(web::scope("/s").wrap(cookieless.clone()).configure(routes))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind a loopback port");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

/// `req` as a browser at `ip` sends it to `shop.example`.
pub fn from(ip: &str, req: TestRequest) -> TestRequest {
    req.peer_addr(std::net::SocketAddr::new(ip.parse().unwrap(), 40000))
        .insert_header((header::HOST, "shop.example"))
        .insert_header((header::USER_AGENT, UA))
}

/// `count` new sessions, one from each of `addresses` in turn; how many were refused with 429
/// (the budget of new sessions per address prefix).
pub async fn flood_from(app: &impl TestApp, addresses: &[String], count: usize) -> usize {
    let mut refused = 0;
    for i in 0..count {
        let ip = &addresses[i % addresses.len()];
        let req = from(ip, TestRequest::get().uri("/s/write/step/1"));
        let res = test::call_service(app, req.to_request()).await;
        match res.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("the flood got {other}"),
        }
    }
    refused
}
