//! `cookie = "auto"` in Chromium: the cookie where the browser keeps it, tokens where it does
//! not, in the same session and with no visible difference.

use std::sync::atomic::Ordering;

use super::{Seen, complete_survey, serve_demo_with, webdriver::Browser, webdriver::Cookies};

/// How many hidden `sessionid` inputs the current page (or frame) has.
fn hidden_tokens(browser: &Browser) -> u64 {
    browser
        .execute(r#"return document.querySelectorAll('input[name="sessionid"]').length;"#)
        .as_u64()
        .unwrap()
}

/// Of the survey's requests after the first that brought the cookie back: those that carried
/// a token in their URL, and those that came without the cookie. (Before it, the session's
/// first response cannot know whether the browser keeps its cookie: its redirect carries the
/// token too.)
fn after_the_cookie_came_back(seen: &Seen) -> (Vec<String>, Vec<String>) {
    let requests = seen.requests.lock().unwrap();
    let survey: Vec<_> = requests
        .iter()
        .filter(|(uri, _)| uri.starts_with("/survey/") && !uri.contains("session.js"))
        .skip_while(|(_, cookie)| !cookie)
        .skip(1)
        .collect();
    let with_token = survey
        .iter()
        .filter(|(uri, _)| uri.contains("sessionid="))
        .map(|(uri, _)| uri.clone())
        .collect();
    let without_cookie = survey
        .iter()
        .filter(|(_, cookie)| !cookie)
        .map(|(uri, _)| uri.clone())
        .collect();
    (with_token, without_cookie)
}

/// Once the cookie came back, every request of the survey brought it and none carried a token.
fn assert_the_cookie_alone_carried_the_session(seen: &Seen) {
    let (with_token, without_cookie) = after_the_cookie_came_back(seen);
    assert!(
        with_token.is_empty(),
        "URLs carried a token: {with_token:?}"
    );
    assert!(
        without_cookie.is_empty(),
        "requests came without the cookie: {without_cookie:?}"
    );
}

#[test]
fn auto_where_cookies_work_no_url_carries_a_token_after_the_first_page() {
    let (addr, seen) = serve_demo_with(true, |s| s.cookie = "auto".into());
    let browser = Browser::start_with_cookies(Cookies::Allowed);
    browser.goto(&format!("http://localhost:{}/survey/", addr.port()));
    browser.clear_and_type(&browser.find("#name"), "Ada");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Hello, Ada");
    assert_eq!(
        hidden_tokens(&browser),
        0,
        "the cookie came back: no token in the form"
    );
    let links = browser
        .execute(r#"return [...document.querySelectorAll("a")].map(a => a.href).join(" ");"#);
    assert!(!links.as_str().unwrap().contains("sessionid"), "{links}");
    browser.click(&browser.find("#back"));
    browser.wait_for_text("h1", "Tell us about yourself");
    complete_survey(
        &browser,
        "Ada Lovelace",
        "green",
        "A cookie, where it works.",
        None,
    );
    assert!(
        !browser.current_url().contains("sessionid"),
        "{}",
        browser.current_url()
    );
    assert_the_cookie_alone_carried_the_session(&seen);
    assert!(seen.set_cookie.load(Ordering::SeqCst) > 0);
}

/// The survey inside a cross-site iframe (the outer page on `localhost`, the survey on
/// `127.0.0.1`) in a browser that blocks third-party cookies.
fn embedded(partitioned: bool) -> (Browser, std::sync::Arc<Seen>, u64) {
    let (addr, seen) = serve_demo_with(true, move |s| {
        s.cookie = "auto".into();
        s.cookie_partitioned = partitioned;
    });
    let browser = Browser::start_with_cookies(Cookies::FirstPartyOnly);
    browser.goto(&format!("http://localhost:{}/embed", addr.port()));
    browser.enter_frame("#survey");
    browser.clear_and_type(&browser.find("#name"), "Grace");
    browser.click(&browser.find("#next"));
    browser.wait_for_text("h1", "Hello, Grace");
    let tokens = hidden_tokens(&browser);
    browser.click(&browser.find("#back"));
    browser.wait_for_text("h1", "Tell us about yourself");
    assert_eq!(
        browser.execute(r#"return document.getElementById("name").value;"#),
        "Grace",
        "the back link kept the session"
    );
    complete_survey(&browser, "Grace Hopper", "blue", "Framed, and fine.", None);
    browser.leave_frames();
    (browser, seen, tokens)
}

#[test]
fn auto_third_party_cookies_blocked_in_an_iframe_the_tokens_carry_the_survey() {
    // Not partitioned: a browser that blocks third-party cookies refuses it in the iframe.
    let (_browser, seen, tokens) = embedded(false);
    assert_eq!(tokens, 1, "no cookie came back: the form carries the token");
    let requests = seen.requests.lock().unwrap();
    assert!(
        requests.iter().any(|(uri, _)| uri.contains("sessionid=")),
        "the links carried the token (use_get): {requests:?}"
    );
    assert!(
        requests
            .iter()
            .all(|(uri, cookie)| !cookie || !uri.starts_with("/survey/")),
        "the blocked cookie reached the survey: {requests:?}"
    );
}

#[test]
fn auto_a_partitioned_cookie_carries_the_survey_in_a_cross_site_iframe() {
    let (_browser, seen, tokens) = embedded(true);
    assert_eq!(
        tokens, 0,
        "the partitioned cookie came back: no token in the form"
    );
    assert_the_cookie_alone_carried_the_session(&seen);
}
