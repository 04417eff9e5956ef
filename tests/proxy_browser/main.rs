//! The PHP app through `cookieless-proxy` in headless Chromium with every cookie blocked: inside
//! a cross-site iframe, in two tabs at once, and from its own scripts through the script client.
//! No `Set-Cookie` may reach the browser, and a recorder on another origin must never receive a
//! token. The Django app of tests/proxy_backends goes through the same (`django.rs`). Needs
//! Chromium, chromedriver, php-cli and a Python with Django and gunicorn (./scripts/test-all
//! installs them).

// Shared with other test binaries, which use other parts of them.
#[path = "../proxy_backends/backends.rs"]
#[allow(dead_code)]
mod backends;
mod django;
#[path = "../support/proxy.rs"]
#[allow(dead_code)]
mod proxy_support;
#[path = "../browser/recorder.rs"]
mod recorder;
#[path = "../browser/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;

use std::{net::SocketAddr, time::Duration};

use actix_cookieless::Settings;
use actix_web::{App, HttpResponse, HttpServer, web};
use recorder::Recorder;
use webdriver::Browser;

/// Another site (`localhost` while the proxy is `127.0.0.1`) that embeds the app in an iframe.
fn serve_embedding_site(app: String) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let page = format!(
                r#"<!DOCTYPE html><title>LMS</title><h1>Course page</h1>
                <iframe id="app" src="{app}/" width="800" height="500"></iframe>"#
            );
            let server = HttpServer::new(move || {
                let page = page.clone();
                App::new().default_service(web::to(move || {
                    let page = page.clone();
                    async move { HttpResponse::Ok().content_type("text/html").body(page) }
                }))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await
        })
    });
    rx.recv().unwrap()
}

/// Fills in the app's three steps from the page it is on (Step 1) up to the colour question.
pub(crate) fn first_step(browser: &Browser, name: &str) {
    browser.wait_for_text("h1", "Step 1");
    browser.clear_and_type(&browser.find("#name"), name);
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", &format!("Hello, {name}"));
}

pub(crate) fn last_step(browser: &Browser, name: &str, colour: &str) {
    browser.clear_and_type(&browser.find("#colour"), colour);
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Thank you");
    assert_eq!(
        browser.text(&browser.find("#answers")),
        format!("{name} likes {colour}")
    );
}

#[test]
fn a_php_app_keeps_its_sessions_through_the_proxy_in_an_iframe_in_two_tabs_and_in_scripts() {
    let recorder = Recorder::start();
    let php = backends::php_linking_away_to(&format!("{}/away", recorder.origin()));
    let to_php = proxy_support::to(&php.url(), Duration::from_secs(10));
    let mut settings = Settings::new("proxy-browser-secret-0123456789abcdef");
    settings.client_script = true;
    let (proxy, _server) = proxy_support::serve_proxy_with(to_php, settings);
    let app = format!("http://127.0.0.1:{}", proxy.port());
    let embedding = serve_embedding_site(app.clone());
    let browser = Browser::start();

    // 1. In a cross-site iframe (third-party context, cookies blocked either way).
    browser.goto(&format!("http://localhost:{}/", embedding.port()));
    browser.wait_for_text("h1", "Course page");
    browser.enter_frame("#app");
    first_step(&browser, "Ada");
    last_step(&browser, "Ada", "green");
    let cookie = browser.execute(r#"document.cookie = "probe=1"; return document.cookie;"#);
    assert_eq!(cookie, "", "cookies must be blocked in this browser");
    browser.leave_frames();

    // 2. Two tabs, two visitors at once, each step interleaved with the other's.
    let first = browser.new_tab();
    let left = browser.tab();
    browser.goto(&format!("{app}/"));
    first_step(&browser, "Bob");
    let second = browser.new_tab();
    assert_ne!(second, first);
    let right = browser.tab();
    browser.goto(&format!("{app}/"));
    first_step(&browser, "Cy");
    browser.switch_to(&left);
    last_step(&browser, "Bob", "blue");
    browser.switch_to(&right);
    last_step(&browser, "Cy", "red");

    // 3. The page's own fetch() and XMLHttpRequest calls keep the session (the count goes on);
    // without the script client each call would be a new visitor, counting 1 every time.
    browser.goto(&format!("{app}/ajax"));
    browser.wait_for_text("h1", "Scripts");
    browser.click(&browser.find("#fetch"));
    browser.wait_for_text("#out", "f1");
    browser.click(&browser.find("#xhr"));
    browser.wait_for_text("#out", "f1 x2");
    browser.click(&browser.find("#fetch"));
    browser.wait_for_text("#out", "f1 x2 f3");
    // A script's request to another origin goes without the token header: a plain CORS GET,
    // no preflight asking to send it (the recorder checks).
    *recorder.during.lock().unwrap() = "a script's fetch to another origin".into();
    browser.click(&browser.find("#cross"));
    browser.wait_for_text("#out", "f1 x2 f3 c");
    let leftover = browser
        .execute(r#"return document.querySelector("script[data-cookieless-token]") === null;"#);
    assert_eq!(
        leftover, true,
        "the script empties the attribute that brought the token"
    );

    // 4. A link to another origin: followed, without a token.
    *recorder.during.lock().unwrap() = "away link".into();
    browser.click(&browser.find("#away"));
    browser.wait_for_text("p", "recorded");

    let tokens = browser.session_tokens_and_no_cookie();
    assert!(
        !tokens.is_empty(),
        "the network log shows the session header"
    );

    // Taken before the lock: `paths` locks the same list.
    let paths = recorder.paths();
    let requests = recorder.requests.lock().unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.raw.starts_with("GET /script-fetch")),
        "the script's cross-origin fetch did not arrive: {paths:?}"
    );
    assert!(
        requests.iter().any(|r| r.raw.starts_with("GET /away")),
        "the away link was not followed: {paths:?}"
    );
    for request in requests.iter() {
        // Not even asked for: a preflight naming the header would mean the script tried.
        assert!(
            !request.raw.to_ascii_lowercase().contains("x-session-id"),
            "the script tried to send the token header to another origin: {}",
            request.raw
        );
        assert!(
            !request.raw.contains("sessionid") && !tokens.iter().any(|t| request.raw.contains(t)),
            "a token reached another origin during {}: {}",
            request.during,
            request.raw
        );
    }
}
