//! The survey demo in a real browser: headless Chromium with every cookie blocked.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`./scripts/test-all` installs them); without
//! them these tests fail, they never skip. Screenshots of each step land in
//! `target/browser-screenshots/`.

#[path = "../../examples/survey/app.rs"]
#[allow(dead_code)]
mod app;
mod auto;
mod leaks;
mod recorder;
// Shared with tests/proxy_browser, which uses more of it.
#[allow(dead_code)]
mod webdriver;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use actix_cookieless::{CookielessSession, MemoryStore, Settings};
use actix_web::{App, HttpServer, dev::Service as _, http::header};
use webdriver::Browser;

/// What the server saw: responses sent, how many of them carried `Set-Cookie`, form posts,
/// and each request (its path and query, and whether it brought a `Cookie` header).
#[derive(Default)]
struct Seen {
    responses: AtomicUsize,
    set_cookie: AtomicUsize,
    posts: AtomicUsize,
    requests: std::sync::Mutex<Vec<(String, bool)>>,
}

/// Serves the demo app (as `cargo run --example survey` does) on a free loopback port.
fn serve_demo(use_get: bool) -> (SocketAddr, Arc<Seen>) {
    serve_demo_with(use_get, |_| {})
}

/// [`serve_demo`], with settings `tune` changes.
fn serve_demo_with(
    use_get: bool,
    tune: impl FnOnce(&mut Settings) + Send + 'static,
) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let server_seen = Arc::clone(&seen);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let mut settings = Settings::new("browser-test-secret-0123456789abcdef");
            settings.use_get = use_get;
            tune(&mut settings);
            let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
            let survey = Arc::new(app::Survey::new(&templates, use_get));
            let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
                .build()
                .unwrap();
            let server = HttpServer::new(move || {
                let seen = Arc::clone(&server_seen);
                App::new()
                    .wrap_fn(move |req, srv| {
                        let seen = Arc::clone(&seen);
                        if req.method() == actix_web::http::Method::POST {
                            seen.posts.fetch_add(1, Ordering::SeqCst);
                        }
                        let uri = req
                            .uri()
                            .path_and_query()
                            .map_or_else(String::new, ToString::to_string);
                        let cookie = req.headers().contains_key(header::COOKIE);
                        seen.requests.lock().unwrap().push((uri, cookie));
                        let res = srv.call(req);
                        async move {
                            let res = res.await?;
                            seen.responses.fetch_add(1, Ordering::SeqCst);
                            if res.headers().contains_key(header::SET_COOKIE) {
                                seen.set_cookie.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(res)
                        }
                    })
                    .configure(|cfg| app::configure(cfg, Arc::clone(&survey), cookieless.clone()))
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await
        })
    });
    (rx.recv().expect("the demo server started"), seen)
}

fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/browser-screenshots")
        .join(format!("{name}.png"))
}

/// Fills in the three steps through the UI and checks the summary.
fn complete_survey(
    browser: &Browser,
    name: &str,
    colour: &str,
    comments: &str,
    shots: Option<&str>,
) {
    let shot = |step: &str| {
        if let Some(prefix) = shots {
            browser.screenshot(&screenshot_path(&format!("{prefix}-{step}")));
        }
    };
    browser.clear_and_type(&browser.find("#name"), name);
    shot("1-name");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", &format!("Hello, {name}"));
    browser.click(&browser.find(&format!("#colour-{colour}")));
    shot("2-colour");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Last question");
    browser.clear_and_type(&browser.find("#comments"), comments);
    shot("3-comments");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Thank you!");
    shot("4-summary");
    assert_eq!(browser.text(&browser.find("#answer-name")), name);
    assert_eq!(browser.text(&browser.find("#answer-colour")), colour);
    assert_eq!(browser.text(&browser.find("#answer-comments")), comments);
}

/// Cookies really are blocked in this browser: a script cannot set one.
fn assert_no_cookies(browser: &Browser) {
    let cookie = browser.execute(r#"document.cookie = "probe=1; path=/"; return document.cookie;"#);
    assert_eq!(cookie, "", "document.cookie must stay empty");
}

/// Neither the browser's network log nor the server saw a `Set-Cookie`. `log_sees_sessions`:
/// the log must show the session header, proving it covers the cookieless responses (a
/// cross-site iframe runs in another renderer, whose traffic the log does not show).
fn assert_no_set_cookie(browser: &Browser, seen: &Seen, log_sees_sessions: bool) {
    let headers = browser.response_headers();
    assert!(!headers.is_empty(), "the network log is empty");
    assert_eq!(
        headers.iter().any(|(_, name, _)| name == "x-session-id"),
        log_sees_sessions,
        "the network log shows the session header: {headers:?}"
    );
    let set_cookie: Vec<_> = headers
        .iter()
        .filter(|(_, name, _)| name == "set-cookie")
        .collect();
    assert!(
        set_cookie.is_empty(),
        "a response set a cookie: {set_cookie:?}"
    );
    assert!(seen.responses.load(Ordering::SeqCst) > 0);
    assert_eq!(
        seen.set_cookie.load(Ordering::SeqCst),
        0,
        "the server sent Set-Cookie"
    );
}

#[test]
fn the_survey_completes_with_cookies_blocked() {
    let (addr, seen) = serve_demo(true);
    let browser = Browser::start();
    browser.goto(&format!("http://{addr}/survey/"));
    assert_no_cookies(&browser);

    // A detour through a link: back from step 2 to step 1 keeps the name (the link carries
    // the token with use_get).
    browser.clear_and_type(&browser.find("#name"), "Ada");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Hello, Ada");
    browser.click(&browser.find("#back"));
    browser.wait_for_text("h1", "Tell us about yourself");
    let value = browser.execute(r#"return document.getElementById("name").value;"#);
    assert_eq!(value, "Ada", "the link brought the session along");

    complete_survey(
        &browser,
        "Ada Lovelace",
        "green",
        "Cookies? No, thank you.",
        Some("survey"),
    );
    assert_no_cookies(&browser);
    assert_no_set_cookie(&browser, &seen, true);

    // Start over: a new, empty survey.
    browser.click(&browser.find("#restart"));
    browser.wait_for_text("h1", "Tell us about yourself");
    assert_eq!(
        browser.execute(r#"return document.getElementById("name").value;"#),
        ""
    );

    // The script client: fetch() with the X-Session-ID header keeps a counter.
    browser.goto(&format!("http://{addr}/survey/counter"));
    let increment = browser.find("#increment");
    for n in 1..=3 {
        browser.click(&increment);
        browser.wait_for_text("#count", &n.to_string());
    }
    browser.wait_for_text("#transport", "(token came by: Header)");
    browser.screenshot(&screenshot_path("counter"));
    browser.click(&browser.find("#reset"));
    browser.wait_for_text("#count", "0");
    assert_no_cookies(&browser);
    assert_no_set_cookie(&browser, &seen, true);
}

#[test]
fn two_browsers_keep_two_independent_surveys_with_no_token_in_a_link() {
    let (addr, seen) = serve_demo(false);
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(Browser::start);
        let b = s.spawn(Browser::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    let url = format!("http://{addr}/survey/");
    first.goto(&url);
    second.goto(&url);

    // Interleaved, step by step, so both sessions are open at once.
    first.clear_and_type(&first.find("#name"), "First");
    second.clear_and_type(&second.find("#name"), "Second");
    first.click(&first.find("#next"));
    second.click(&second.find("#next"));
    first.wait_for_text("h1", "Hello, First");
    second.wait_for_text("h1", "Hello, Second");
    first.click(&first.find("#colour-red"));
    second.click(&second.find("#colour-blue"));
    first.click(&first.find("#next"));
    second.click(&second.find("#next"));
    first.wait_for_text("h1", "Last question");
    second.wait_for_text("h1", "Last question");
    first.clear_and_type(&first.find("#comments"), "one");
    second.clear_and_type(&second.find("#comments"), "two");
    first.click(&first.find("#next"));
    second.click(&second.find("#next"));
    for (browser, name, colour, comments) in [
        (&first, "First", "red", "one"),
        (&second, "Second", "blue", "two"),
    ] {
        browser.wait_for_text("h1", "Thank you!");
        assert_eq!(browser.text(&browser.find("#answer-name")), name);
        assert_eq!(browser.text(&browser.find("#answer-colour")), colour);
        assert_eq!(browser.text(&browser.find("#answer-comments")), comments);
        // use_get = false: the only token in a URL is the redirect token of the page after
        // the post (it opens that page's GET only: tests/security.rs); no link carries one.
        let url = browser.current_url();
        assert!(url.contains("/survey/summary?sessionid="), "{url}");
        let links = browser
            .execute(r#"return [...document.querySelectorAll("a")].map(a => a.href).join(" ");"#);
        assert!(!links.as_str().unwrap().contains("sessionid"), "{links}");
        assert_no_cookies(browser);
        assert_no_set_cookie(browser, &seen, true);
    }
}

#[test]
fn the_survey_keeps_its_state_inside_a_cross_site_iframe() {
    let (addr, seen) = serve_demo(true);
    let browser = Browser::start();
    // The outer page on localhost; the iframe on 127.0.0.1: two sites.
    browser.goto(&format!("http://localhost:{}/embed", addr.port()));
    browser.wait_for_text("h1", &format!("A page on localhost:{}", addr.port()));
    let src = browser.execute(r#"return document.getElementById("survey").src;"#);
    assert_eq!(src, format!("http://127.0.0.1:{}/survey/", addr.port()));

    browser.enter_frame("#survey");
    assert_no_cookies(&browser);
    complete_survey(&browser, "Grace", "blue", "Framed, and fine.", None);
    browser.leave_frames();
    browser.screenshot(&screenshot_path("embedded-summary"));
    assert!(
        browser.current_url().starts_with("http://localhost:"),
        "the outer page stayed"
    );
    assert_no_set_cookie(&browser, &seen, false);
}

/// Redirect after every post: reload and Back on each step fetch a page (no "Confirm Form
/// Resubmission", no second post) and lose no answer, with use_get on and off.
#[test]
fn back_and_reload_on_every_step_resend_nothing_and_lose_nothing() {
    for use_get in [false, true] {
        let (addr, seen) = serve_demo(use_get);
        let browser = Browser::start();
        let posts = || seen.posts.load(Ordering::SeqCst);
        // Reload the current page: the same heading again, no dialog, no post.
        let reload = |heading: &str| {
            let before = posts();
            browser.refresh();
            assert_eq!(
                browser.alert_text(),
                None,
                "use_get={use_get}: a dialog on reload"
            );
            browser.wait_for_text("h1", heading);
            assert_eq!(
                posts(),
                before,
                "use_get={use_get}: reload sent the form again"
            );
        };
        browser.goto(&format!("http://{addr}/survey/"));
        browser.clear_and_type(&browser.find("#name"), "Grace");
        browser.click(&browser.find("#next"));
        browser.wait_for_text("h1", "Hello, Grace");
        reload("Hello, Grace");

        browser.click(&browser.find("#colour-blue"));
        browser.click(&browser.find("#next"));
        browser.wait_for_text("h1", "Last question");
        reload("Last question");

        let before = posts();
        browser.back();
        assert_eq!(
            browser.alert_text(),
            None,
            "use_get={use_get}: a dialog on Back"
        );
        browser.wait_for_text("h1", "Hello, Grace");
        assert_eq!(posts(), before, "use_get={use_get}: Back sent a form again");
        let checked = browser.execute(r#"return document.getElementById("colour-blue").checked;"#);
        assert_eq!(
            checked, true,
            "use_get={use_get}: step 2 after Back lost the colour"
        );
        browser.forward();
        browser.wait_for_text("h1", "Last question");

        browser.clear_and_type(&browser.find("#comments"), "Back and forth");
        browser.click(&browser.find("#next"));
        browser.wait_for_text("h1", "Thank you!");
        reload("Thank you!");
        assert_eq!(browser.text(&browser.find("#answer-name")), "Grace");
        assert_eq!(browser.text(&browser.find("#answer-colour")), "blue");
        assert_eq!(
            browser.text(&browser.find("#answer-comments")),
            "Back and forth"
        );

        browser.back();
        assert_eq!(
            browser.alert_text(),
            None,
            "use_get={use_get}: a dialog on Back"
        );
        browser.wait_for_text("h1", "Last question");
        let comments = browser.execute(r#"return document.getElementById("comments").value;"#);
        assert_eq!(
            comments, "Back and forth",
            "use_get={use_get}: step 3 after Back"
        );
        assert_eq!(posts(), 3, "use_get={use_get}: one post per step, no more");
    }
}
