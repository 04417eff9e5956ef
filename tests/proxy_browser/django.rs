//! The Django app of tests/proxy_backends (database sessions, the CSRF middleware, gunicorn)
//! through `cookieless-proxy` with the binary's own defaults, in Chromium with every cookie
//! blocked: the wizard with reload, Back and Forward; a `fetch()` POST guarded by CSRF; logout;
//! two visitors in two tabs at once; a forged CSRF field refused. No `Set-Cookie` may reach
//! the browser, and Django must never receive a token, not even in `Referer`.

use std::time::Duration;

use actix_cookieless::proxy::{PROXY_PARAM_NAME, ProxySettings};

// The Django app's wizard has the PHP app's field ids, so the same steps fill in both.
use crate::{
    backends::{self, DjangoSessions},
    first_step, last_step, proxy_support,
    webdriver::Browser,
};

/// Whose session the page's scripts are in, asked the way a page's own script would.
fn whoami(browser: &Browser) -> serde_json::Value {
    let text = browser.execute(
        "var x = new XMLHttpRequest(); x.open('GET', '/whoami', false); x.send(); \
         return x.responseText;",
    );
    serde_json::from_str::<serde_json::Value>(text.as_str().unwrap()).unwrap()["name"].clone()
}

#[test]
fn a_django_app_works_through_the_proxy_in_chromium_with_every_cookie_blocked() {
    let django = backends::django(DjangoSessions::Database);
    let mut settings = ProxySettings::session_defaults();
    "proxy-browser-secret-0123456789abcdef".clone_into(&mut settings.secret);
    let (proxy, _server) =
        proxy_support::serve_proxy(&django.url(), settings, Duration::from_secs(20));
    let app = format!("http://127.0.0.1:{}", proxy.port());
    let browser = Browser::start();

    // 1. The wizard: a redirect after each POST; reload, Back and Forward on the way.
    browser.goto(&format!("{app}/"));
    first_step(&browser, "Ada");
    browser.refresh();
    browser.wait_for_text("h1", "Hello, Ada");
    browser.back();
    browser.wait_for_text("h1", "Step 1");
    browser.forward();
    browser.wait_for_text("h1", "Hello, Ada");
    last_step(&browser, "Ada", "green");
    let cookie = browser.execute(r#"document.cookie = "probe=1"; return document.cookie;"#);
    assert_eq!(cookie, "", "cookies must be blocked in this browser");

    // 2. The page's fetch() POSTs, with Django's CSRF header: the CSRF cookie comes from the
    // jar because the script client sends the session along.
    browser.click(&browser.find("#scripts"));
    browser.wait_for_text("h1", "Scripts");
    browser.click(&browser.find("#count"));
    browser.wait_for_text("#out", "n1");
    browser.click(&browser.find("#count"));
    browser.wait_for_text("#out", "n1 n2");
    assert_eq!(whoami(&browser), "Ada");

    // 3. Logout (a POST with its CSRF field): Django's session is gone for this visitor.
    browser.back();
    browser.wait_for_text("h1", "Thank you");
    browser.click(&browser.find("#logout"));
    browser.wait_for_text("h1", "Step 1");
    assert_eq!(whoami(&browser), serde_json::Value::Null);

    // 4. Two visitors in two tabs at once, each step interleaved with the other's.
    browser.new_tab();
    let bob = browser.tab();
    browser.goto(&format!("{app}/"));
    first_step(&browser, "Bob");
    browser.new_tab();
    let cy = browser.tab();
    browser.goto(&format!("{app}/"));
    first_step(&browser, "Cy");
    browser.switch_to(&bob);
    last_step(&browser, "Bob", "blue");
    browser.switch_to(&cy);
    last_step(&browser, "Cy", "red");

    // 5. A forged CSRF field is refused: the jar's CSRF cookie is checked as Django checks it.
    browser.goto(&format!("{app}/"));
    browser.wait_for_text("h1", "Step 1");
    browser.execute(
        "document.querySelector('[name=csrfmiddlewaretoken]').value = 'x'.repeat(64); \
         return null;",
    );
    browser.clear_and_type(&browser.find("#name"), "Mallory");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Forbidden (403)");

    let tokens = browser.session_tokens_and_no_cookie();
    assert!(
        !tokens.is_empty(),
        "the network log shows the session header"
    );
    django.assert_django_never_received(PROXY_PARAM_NAME, &tokens);
    let (requests, _) = django.django_received();
    let referers = requests
        .iter()
        .filter(|request| request["headers"]["HTTP_REFERER"].is_string())
        .count();
    assert!(
        referers > 5,
        "Chromium sent Referer to its own site ({referers} of {} requests): \
         the check above read them",
        requests.len()
    );
}
