//! A Django app (database or signed-cookie sessions, the CSRF middleware, gunicorn) behind the
//! proxy with the `cookieless-proxy` binary's own defaults
//! ([`ProxySettings::session_defaults`]): the wizard with redirect-after-POST, CSRF refusing a
//! forged field, and the visitor's requests overlapping (a session Django creates during a slow
//! page, a logout during a slow page, ten cookie-setting requests at once). Django must never
//! receive the token: its own recording middleware and gunicorn's access log are read.

use std::{net::SocketAddr, time::Duration};

use actix_cookieless::proxy::{PROXY_PARAM_NAME, ProxySettings};
use actix_web::dev::ServerHandle;
use serde_json::Value;

use crate::{
    SECRET,
    backends::{self, Backend, DjangoSessions},
    proxy_support::serve_proxy,
    visitor::{UA, Visitor},
};

fn proxy_in_front_of(django: &Backend) -> (SocketAddr, ServerHandle) {
    let mut settings = ProxySettings::session_defaults();
    SECRET.clone_into(&mut settings.secret);
    serve_proxy(&django.url(), settings, Duration::from_secs(20))
}

/// The value of the field `name` in the visitor's current form.
fn field(visitor: &Visitor, name: &str) -> String {
    let form = visitor
        .form()
        .unwrap_or_else(|| panic!("no form on {}: {}", visitor.url, visitor.html));
    form.fields
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name} on {}: {}", visitor.url, visitor.html))
        .1
}

/// The visitor's own scripts: requests with its token in the `X-Session-ID` header, as the
/// script client sends them.
struct Script {
    client: awc::Client,
    proxy: SocketAddr,
    token: String,
}

impl Script {
    fn of(visitor: &Visitor, proxy: SocketAddr) -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(20))
                .finish(),
            proxy,
            token: field(visitor, PROXY_PARAM_NAME),
        }
    }

    async fn send(&self, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let req = self
            .client
            .request(method, format!("http://{}{path}", self.proxy))
            .insert_header(("user-agent", UA))
            .insert_header(("x-session-id", self.token.as_str()));
        let mut res = if form.is_empty() {
            req.send().await
        } else {
            req.send_form(&form).await
        }
        .expect("the proxy answers");
        let body = res.body().limit(1 << 20).await.expect("a body");
        (res.status().as_u16(), String::from_utf8_lossy(&body).into())
    }

    async fn whoami(&self) -> Value {
        let (status, body) = self.send("GET", "/whoami", &[]).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["name"].clone()
    }
}

#[actix_web::test]
async fn a_django_wizard_with_csrf_works_through_the_proxy_with_its_defaults() {
    let django = backends::django(DjangoSessions::Database);
    let (proxy, _server) = proxy_in_front_of(&django);
    let mut ada = Visitor::new(proxy);
    let mut tokens = Vec::new();

    ada.get("/").await;
    assert_eq!(ada.heading(), "Step 1", "{}", ada.html);
    tokens.push(field(&ada, PROXY_PARAM_NAME));
    ada.submit(&[("name", "Ada")]).await;
    assert_eq!(
        (ada.status, ada.heading().as_str()),
        (200, "Hello, Ada"),
        "{}",
        ada.html
    );
    tokens.push(field(&ada, PROXY_PARAM_NAME));
    ada.submit(&[("colour", "green")]).await;
    assert_eq!(ada.heading(), "Thank you", "{}", ada.html);
    assert!(ada.html.contains("Ada likes green"), "{}", ada.html);
    tokens.push(field(&ada, PROXY_PARAM_NAME));

    // CSRF still guards the forms: the visitor's session with a forged field is refused.
    let mut mallory = Visitor::new(proxy);
    mallory.get("/").await;
    let genuine = field(&mallory, "csrfmiddlewaretoken");
    tokens.push(field(&mallory, PROXY_PARAM_NAME));
    mallory.html = mallory.html.replace(&genuine, &"x".repeat(genuine.len()));
    mallory.submit(&[("name", "Mallory")]).await;
    assert_eq!(mallory.status, 403, "{}", mallory.html);

    // Log out (a POST with its CSRF field): Django's session is gone, the next step says so.
    ada.submit(&[]).await;
    assert_eq!(ada.heading(), "Step 1", "{}", ada.html);
    let script = Script::of(&ada, proxy);
    assert_eq!(script.whoami().await, Value::Null);

    for visitor in [&ada, &mallory] {
        assert!(
            visitor.cookies_seen.is_empty(),
            "{:?}",
            visitor.cookies_seen
        );
    }
    django.assert_django_never_received(PROXY_PARAM_NAME, &tokens);
}

/// Checks that the `round`th request to `slow` (which sleeps 1.5 s) reached Django before the
/// round's request whose path starts with, or whose body holds, `other`: the two overlapped.
fn assert_overlapped(django: &Backend, slow: &str, other: &str, round: usize) {
    let (requests, _) = django.django_received();
    let position = |find: &dyn Fn(&Value) -> bool| {
        requests
            .iter()
            .enumerate()
            .filter(|(_, request)| find(request))
            .nth(round)
            .map(|(at, _)| at)
    };
    let slow_at = position(&|r| r["path"].as_str().is_some_and(|p| p.starts_with(slow)));
    let post_at = position(&|r| {
        r["path"].as_str().is_some_and(|p| p.starts_with(other))
            || r["body"].as_str().is_some_and(|b| b.contains(other))
    });
    assert!(
        matches!((slow_at, post_at), (Some(s), Some(p)) if s < p),
        "round {round}: the slow page (at {slow_at:?}) did not reach Django before {other} \
         (at {post_at:?})"
    );
}

/// Step 1's POST creates Django's session while a slow page of the same visitor is loading.
/// The slow page's answer, which sets no cookie, must not take the new `sessionid` away.
#[actix_web::test]
async fn a_session_django_creates_during_a_slow_page_is_kept() {
    let django = backends::django(DjangoSessions::Database);
    let (proxy, _server) = proxy_in_front_of(&django);
    for round in 0..3 {
        let mut ada = Visitor::new(proxy);
        ada.get("/").await;
        let script = Script::of(&ada, proxy);
        let slow = script.send("GET", "/slow?ms=1500", &[]);
        let step1 = async {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            ada.submit(&[("name", "Ada")]).await;
        };
        let ((status, slow_page), ()) = futures_util::future::join(slow, step1).await;
        assert_eq!(status, 200, "{slow_page}");
        assert_overlapped(&django, "/slow", "name=Ada", round);
        assert_eq!(ada.heading(), "Hello, Ada", "round {round}: {}", ada.html);
        // Once the slow page has answered, the session is still there.
        assert_eq!(script.whoami().await, "Ada", "round {round}");
        ada.submit(&[("colour", "blue")]).await;
        assert!(
            ada.html.contains("Ada likes blue"),
            "round {round}: {}",
            ada.html
        );
    }
}

/// With Django's `signed_cookies` sessions the cookie is the session: a logout while a slow
/// page is loading must stay a logout once the slow page answers.
#[actix_web::test]
async fn a_logout_during_a_slow_page_stays_a_logout() {
    let django = backends::django(DjangoSessions::SignedCookies);
    let (proxy, _server) = proxy_in_front_of(&django);
    let mut ada = Visitor::new(proxy);
    ada.get("/").await;
    ada.submit(&[("name", "Ada")]).await;
    assert_eq!(ada.heading(), "Hello, Ada", "{}", ada.html);
    let script = Script::of(&ada, proxy);
    assert_eq!(script.whoami().await, "Ada");
    let csrf = field(&ada, "csrfmiddlewaretoken");

    let slow = script.send("GET", "/slow?ms=1500", &[]);
    let logout = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        script
            .send("POST", "/logout", &[("csrfmiddlewaretoken", &csrf)])
            .await
    };
    let ((slow_status, slow_page), (logout_status, logout_page)) =
        futures_util::future::join(slow, logout).await;
    assert_overlapped(&django, "/slow", "/logout", 0);
    assert_eq!(slow_status, 200, "{slow_page}");
    assert!(slow_page.contains("Slow, Ada"), "{slow_page}");
    assert_eq!(logout_status, 302, "{logout_page}");
    assert_eq!(script.whoami().await, Value::Null, "the logout was undone");
}

/// Ten requests of one visitor at once, each making Django set a cookie of its own: all ten
/// come back to Django on the next request, beside the CSRF cookie.
#[actix_web::test]
async fn ten_cookies_set_at_once_all_reach_django() {
    let django = backends::django(DjangoSessions::Database);
    let (proxy, _server) = proxy_in_front_of(&django);
    let mut ada = Visitor::new(proxy);
    ada.get("/").await;
    let script = Script::of(&ada, proxy);
    let paths: Vec<String> = (0..10).map(|n| format!("/set?name={n}")).collect();
    let answers =
        futures_util::future::join_all(paths.iter().map(|path| script.send("GET", path, &[])))
            .await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    let (_, cookies) = script.send("GET", "/cookies", &[]).await;
    let mut expected: Vec<String> = (0..10).map(|n| format!("c_{n}")).collect();
    expected.push("csrftoken".into());
    expected.sort_unstable();
    let cookies: Vec<String> = serde_json::from_str(&cookies).unwrap();
    assert_eq!(cookies, expected, "cookies lost to concurrent requests");
}
