//! `cookieless-proxy` in front of real apps that keep their sessions in cookies: a PHP app
//! (`session_start()`, a three-step form, a login that regenerates the session id) and a Flask
//! app (signed cookie session, CSRF cookie). The visitor sends no cookie and no session header;
//! the apps must work all the same, and no `Set-Cookie` may reach the visitor.
//! Needs `php` (Debian's php-cli) and a Python with Flask; ./scripts/test-all installs both.

mod backends;
#[path = "../support/dom.rs"]
mod dom;
#[path = "../support/proxy.rs"]
mod proxy_support;
mod visitor;

use std::time::Duration;

use actix_cookieless::Settings;
use proxy_support::{serve_proxy, serve_proxy_with};
use visitor::Visitor;

const SECRET: &str = "proxy-backends-secret-0123456789abcdef";

fn settings(use_get: bool) -> Settings {
    let mut settings = Settings::new(SECRET);
    settings.use_get = use_get;
    settings
}

/// `version`: the HTTP version spoken to PHP. Over 1.1 `php -S` ends its bodies by closing the
/// connection, which the proxy reads to the end.
async fn php_form_and_login(use_get: bool, version: &str) {
    let php = backends::php();
    let mut to_php = proxy_support::to(&php.url(), Duration::from_secs(10));
    version.clone_into(&mut to_php.upstream_version);
    let (proxy, _server) = serve_proxy_with(to_php, settings(use_get));
    let mut ada = Visitor::new(proxy);
    let mut bob = Visitor::new(proxy);

    ada.get("/").await;
    assert_eq!(ada.heading(), "Step 1");
    ada.submit(&[("name", "Ada")]).await;
    assert_eq!(
        (ada.status, ada.heading().as_str()),
        (200, "Hello, Ada"),
        "{}",
        ada.html
    );

    // Another visitor in between keeps a session of its own.
    bob.get("/").await;
    bob.submit(&[("name", "Bob")]).await;
    assert_eq!(bob.heading(), "Hello, Bob");

    ada.submit(&[("colour", "green")]).await;
    assert_eq!(ada.heading(), "Thank you", "{}", ada.html);
    assert!(ada.html.contains("Ada likes green"), "{}", ada.html);
    bob.submit(&[("colour", "blue")]).await;
    assert!(bob.html.contains("Bob likes blue"), "{}", bob.html);

    // A login that regenerates PHP's session id: the jar takes the new cookie.
    ada.get("/login").await;
    ada.submit(&[("user", "ada"), ("password", "secret")]).await;
    assert_eq!(ada.heading(), "Welcome, ada", "{}", ada.html);
    // The page's links keep the session with use_get; without, a fresh GET is a new visitor.
    let mut stranger = Visitor::new(proxy);
    stranger.get("/account").await;
    assert_eq!(
        (stranger.status, stranger.heading().as_str()),
        (403, "Please log in")
    );

    for visitor in [&ada, &bob, &stranger] {
        assert!(
            visitor.cookies_seen.is_empty(),
            "a cookie reached the visitor: {:?}",
            visitor.cookies_seen
        );
    }
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_with_tokens_in_links() {
    php_form_and_login(true, "1.1").await;
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_with_tokens_in_forms_only() {
    php_form_and_login(false, "1.1").await;
}

#[actix_web::test]
async fn a_php_session_app_works_through_the_proxy_over_http_1_0() {
    php_form_and_login(true, "1.0").await;
}

#[actix_web::test]
async fn a_flask_app_with_a_cookie_session_and_a_csrf_cookie_works_through_the_proxy() {
    let flask = backends::flask();
    let (proxy, _server) = serve_proxy(&flask.url(), settings(false), Duration::from_secs(10));
    let mut visitor = Visitor::new(proxy);
    visitor.get("/").await;
    let form = visitor.form().expect("the CSRF form");
    let csrf = form
        .fields
        .iter()
        .find(|(name, _)| name == "csrfmiddlewaretoken")
        .map(|(_, value)| value.clone())
        .expect("a CSRF field");
    visitor.submit(&[("name", "Grace")]).await;
    assert_eq!(
        (visitor.status, visitor.heading().as_str()),
        (200, "Hello, Grace"),
        "{}",
        visitor.html
    );
    assert!(
        visitor.cookies_seen.is_empty(),
        "{:?}",
        visitor.cookies_seen
    );

    // The CSRF cookie is the visitor's own: a post that copies the field but carries no
    // session (so no jar, no cookie) is refused by the app.
    let mut forger = Visitor::new(proxy);
    forger.get("/").await;
    let forged = forger.form().unwrap();
    assert_ne!(
        forged
            .fields
            .iter()
            .find(|(n, _)| n == "csrfmiddlewaretoken")
            .unwrap()
            .1,
        csrf
    );
    forger.html = forger.html.replace(
        &forged
            .fields
            .iter()
            .find(|(n, _)| n == "sessionid")
            .unwrap()
            .1,
        "not-a-token",
    );
    forger.html = forger.html.replace(
        &forged
            .fields
            .iter()
            .find(|(n, _)| n == "csrfmiddlewaretoken")
            .unwrap()
            .1,
        &csrf,
    );
    forger.submit(&[("name", "Mallory")]).await;
    assert_eq!(forger.status, 403, "{}", forger.html);
}
