//! Just enough of a W3C WebDriver client to drive headless Chromium through `chromedriver`:
//! plain HTTP/1.1 and JSON over loopback, blocking, no TLS stack to build.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a page may take to show what a step waits for.
const WAIT: Duration = Duration::from_secs(20);

fn browser_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// One headless Chromium with a profile of its own (so two are two independent browsers) in
/// which every cookie is blocked, driven by a `chromedriver` of its own.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    profile: PathBuf,
}

/// Which cookies the browser keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookies {
    /// None, first- or third-party, as a hardened browser (the default here).
    Blocked,
    /// Every cookie.
    Allowed,
    /// First-party cookies and partitioned (CHIPS) third-party ones; other third-party
    /// cookies are blocked, as Safari and Chrome's third-party cookie setting do.
    FirstPartyOnly,
}

/// An element found on the current page (or frame).
#[derive(Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a browser; panics, saying what is missing, when either cannot.
    pub fn start() -> Self {
        Self::start_with(true, Cookies::Blocked)
    }

    /// [`start`](Self::start), with JavaScript off, as in a hardened browser: `<noscript>`
    /// content is then markup.
    pub fn start_without_javascript() -> Self {
        Self::start_with(false, Cookies::Blocked)
    }

    /// [`start`](Self::start), keeping cookies as `cookies` says.
    pub fn start_with_cookies(cookies: Cookies) -> Self {
        Self::start_with(true, cookies)
    }

    fn start_with(javascript: bool, cookies: Cookies) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let driver = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start chromedriver ({err}): install Debian's `chromium` and \
                     `chromium-driver` (./scripts/test-all does)"
            )
        });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let profile =
            std::env::temp_dir().join(format!("cookieless-chromium-{}-{port}", std::process::id()));
        let mut browser = Self {
            driver,
            addr,
            session: String::new(),
            profile,
        };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser_binary(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=900,760",
                    format!("--user-data-dir={}", browser.profile.display()),
                ],
                "prefs": {
                    "profile.default_content_setting_values.cookies": match cookies {
                        Cookies::Blocked => 2,
                        Cookies::Allowed | Cookies::FirstPartyOnly => 1,
                    },
                    "profile.block_third_party_cookies": cookies == Cookies::FirstPartyOnly,
                    "profile.cookie_controls_mode": u8::from(cookies == Cookies::FirstPartyOnly),
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
                },
            },
            "goog:loggingPrefs": { "performance": "ALL" },
        }}});
        // chromedriver may take the connection before it can answer it: a session request
        // that finds the connection reset is sent again (a few times, then it fails).
        let created = (1..=5)
            .find_map(
                |attempt| match browser.exchange("POST", "/session", Some(&caps)) {
                    Ok((_, value)) => Some(value),
                    Err(err) if attempt < 5 => {
                        eprintln!("chromedriver: {err}; asking again");
                        std::thread::sleep(Duration::from_millis(300));
                        None
                    }
                    Err(err) => panic!("chromedriver does not answer: {err}"),
                },
            )
            .unwrap_or(Value::Null);
        created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("the browser did not start: {created}"))
            .clone_into(&mut browser.session);
        browser
    }

    /// One WebDriver call; its `value`. Panics on a WebDriver error.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.try_request(method, path, body);
        assert!(status < 300, "WebDriver {method} {path}: {status} {value}");
        value
    }

    fn try_request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.exchange(method, path, body.as_ref())
            .expect("a chromedriver response")
    }

    /// One HTTP exchange with chromedriver: the status and the `value` of its JSON answer.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Value)> {
        let body = body
            .map(std::string::ToString::to_string)
            .unwrap_or_default();
        let mut stream = TcpStream::connect(self.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )?;
        // chromedriver keeps connections open whatever we ask: read by Content-Length.
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let (status, body) = loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            raw.extend_from_slice(&buf[..n]);
            let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if raw.len() >= end + 4 + length {
                let status: u16 = head[9..12].parse().unwrap();
                break (status, raw[end + 4..end + 4 + length].to_vec());
            }
        };
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok((status, json["value"].clone()))
    }

    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.request("POST", &self.path("/url"), Some(json!({ "url": url })));
    }

    /// The browser's reload button.
    pub fn refresh(&self) {
        self.request("POST", &self.path("/refresh"), Some(json!({})));
    }

    /// The browser's Back button.
    pub fn back(&self) {
        self.request("POST", &self.path("/back"), Some(json!({})));
    }

    /// The browser's Forward button.
    pub fn forward(&self) {
        self.request("POST", &self.path("/forward"), Some(json!({})));
    }

    /// The text of an open dialog (such as "Confirm Form Resubmission"), if one is open.
    pub fn alert_text(&self) -> Option<String> {
        let (status, value) = self.try_request("GET", &self.path("/alert/text"), None);
        (status < 300).then(|| value.as_str().unwrap_or_default().to_owned())
    }

    pub fn current_url(&self) -> String {
        self.request("GET", &self.path("/url"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits for an element matching `css` to appear.
    pub fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, value) = self.try_request(
                "POST",
                &self.path("/element"),
                Some(json!({ "using": "css selector", "value": css })),
            );
            if status < 300 {
                return Element(value[ELEMENT_KEY].as_str().unwrap().to_owned());
            }
            assert!(
                Instant::now() < deadline,
                "no `{css}` on {} after {WAIT:?}: {value}\n{}",
                self.current_url(),
                self.page_source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element matching `css` shows `text`.
    pub fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.text(&self.find(css)) == text {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never showed {text:?}: {}",
                self.page_source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, element: &Element) -> String {
        let (_, value) = self.try_request(
            "GET",
            &self.path(&format!("/element/{}/text", element.0)),
            None,
        );
        value.as_str().unwrap_or_default().to_owned()
    }

    pub fn clear_and_type(&self, element: &Element, text: &str) {
        self.request(
            "POST",
            &self.path(&format!("/element/{}/clear", element.0)),
            Some(json!({})),
        );
        self.request(
            "POST",
            &self.path(&format!("/element/{}/value", element.0)),
            Some(json!({ "text": text })),
        );
    }

    pub fn click(&self, element: &Element) {
        self.request(
            "POST",
            &self.path(&format!("/element/{}/click", element.0)),
            Some(json!({})),
        );
    }

    /// Runs `script` (a function body) in the page and gives its return value.
    pub fn execute(&self, script: &str) -> Value {
        self.request(
            "POST",
            &self.path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    pub fn page_source(&self) -> String {
        let (_, value) = self.try_request("GET", &self.path("/source"), None);
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Switches into the `<iframe>` matching `css`.
    pub fn enter_frame(&self, css: &str) {
        let frame = self.find(css);
        self.request(
            "POST",
            &self.path("/frame"),
            Some(json!({ "id": { ELEMENT_KEY: frame.0 } })),
        );
    }

    /// Opens a new tab and switches to it; gives the handle of the tab left.
    pub fn new_tab(&self) -> String {
        let left = self.request("GET", &self.path("/window"), None);
        let tab = self.request(
            "POST",
            &self.path("/window/new"),
            Some(json!({ "type": "tab" })),
        );
        self.switch_to(tab["handle"].as_str().expect("a tab handle"));
        left.as_str().expect("a window handle").to_owned()
    }

    /// Switches to the tab or window `handle`.
    pub fn switch_to(&self, handle: &str) {
        self.request(
            "POST",
            &self.path("/window"),
            Some(json!({ "handle": handle })),
        );
    }

    /// The current tab's handle.
    pub fn tab(&self) -> String {
        let handle = self.request("GET", &self.path("/window"), None);
        handle.as_str().expect("a window handle").to_owned()
    }

    pub fn leave_frames(&self) {
        self.request("POST", &self.path("/frame"), Some(json!({ "id": null })));
    }

    /// Saves a PNG of the viewport.
    pub fn screenshot(&self, to: &Path) {
        let png = self.request("GET", &self.path("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, png).unwrap();
    }

    /// The `X-Session-ID` values of the responses since the last call, having checked that no
    /// response set a cookie.
    pub fn session_tokens_and_no_cookie(&self) -> Vec<String> {
        let headers = self.response_headers();
        let set_cookie: Vec<_> = headers
            .iter()
            .filter(|(_, name, _)| name == "set-cookie")
            .collect();
        assert!(
            set_cookie.is_empty(),
            "a cookie reached the browser: {set_cookie:?}"
        );
        headers
            .into_iter()
            .filter(|(_, name, _)| name == "x-session-id")
            .map(|(_, _, value)| value)
            .collect()
    }

    /// Every response header the browser received since the last call, from the DevTools
    /// network log: `(url, header name lowercased, value)`.
    pub fn response_headers(&self) -> Vec<(String, String, String)> {
        let entries = self.request(
            "POST",
            &self.path("/se/log"),
            Some(json!({ "type": "performance" })),
        );
        let mut out = Vec::new();
        for entry in entries.as_array().into_iter().flatten() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            let message = &message["message"];
            let (url, headers) = match message["method"].as_str() {
                Some("Network.responseReceived") => (
                    message["params"]["response"]["url"]
                        .as_str()
                        .unwrap_or_default(),
                    &message["params"]["response"]["headers"],
                ),
                // The raw headers, as the network stack saw them (Set-Cookie included).
                Some("Network.responseReceivedExtraInfo") => ("", &message["params"]["headers"]),
                _ => continue,
            };
            for (name, value) in headers.as_object().into_iter().flatten() {
                out.push((
                    url.to_owned(),
                    name.to_ascii_lowercase(),
                    value.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        out
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
