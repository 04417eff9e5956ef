//! The response side: the token's headers, and the token put into `Location` and HTML bodies.

use std::sync::Arc;

use actix_web::{
    HttpResponse,
    body::{BodySize, MessageBody},
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
};

use crate::{
    client, client_script,
    engine::{Engine, Refusal, retry_after_seconds},
    rewrite::{
        Charset, LinkPolicy, PathSealer, RewriteBody, TokenRewriter, body_charset, rewritable,
        sniff_charset,
    },
    settings::{ValidSettings, is_safe_referrer_policy},
};

/// The engine's refusal as a response.
pub(super) fn refused(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::CrossSite => opaque(StatusCode::FORBIDDEN, "Forbidden"),
        Refusal::TooManyNewSessions(wait) => {
            let mut res = opaque(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_seconds(wait)),
            );
            res
        }
        Refusal::Store { what, error } => unavailable(what, &error),
    }
}

/// The store failed: the cause goes to the log, the client gets an opaque 503.
pub(super) fn unavailable(what: &str, err: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %err, "actix-cookieless: session store failed to {what}");
    let mut res = opaque(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// The script client, served at `client_script_path`.
pub(super) fn client_script() -> HttpResponse {
    let mut res = HttpResponse::Ok();
    for header in client_script::HEADERS {
        res.insert_header(header);
    }
    res.body(client_script::SCRIPT)
}

/// A short plain-text answer that says nothing about the cause and is never cached.
pub(super) fn opaque(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// A response body as the rewrite finds it: held whole by the handler, or streamed.
enum Page<B> {
    Whole(actix_web::web::Bytes),
    Streamed(B),
}

/// For an HTML response whose `Content-Type` names no charset: the encoding a browser would
/// sniff from the page held whole (byte order mark, then for `text/html` `<meta charset>` in
/// the first 1024 bytes), else UTF-8, declared in the header so that browser and rewriter read the page
/// alike (a header charset beats any later `<meta>`). `None`: an encoding lol_html cannot
/// parse (ISO-2022-JP, UTF-16), the page passes through without tokens.
fn declare_charset(
    head: &mut actix_web::dev::ResponseHead,
    whole: Option<&[u8]>,
) -> Option<&'static encoding_rs::Encoding> {
    let content_type = head.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    // XHTML is XML: a browser reads no `<meta>` for its encoding.
    let is_html = content_type
        .get(..9)
        .is_some_and(|essence| essence.eq_ignore_ascii_case("text/html"));
    let sniffed = match whole {
        Some(bytes) if is_html => sniff_charset(bytes),
        Some(bytes) => encoding_rs::Encoding::for_bom(bytes).map(|(encoding, _)| encoding),
        None => None,
    };
    let encoding = rewritable(sniffed.unwrap_or(encoding_rs::UTF_8))?;
    let declared = format!("{content_type}; charset={}", encoding.name());
    head.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_str(&declared).ok()?);
    Some(encoding)
}

/// Puts the token into the response: its `Location` and, for HTML, its body.
pub(super) fn rewrite<B: MessageBody, St>(
    engine: &Engine<St>,
    mut res: ServiceResponse<B>,
    token: &str,
    sealer: Option<PathSealer>,
) -> ServiceResponse<RewriteBody<B>> {
    let settings = &engine.settings;
    if !settings.rewrites(res.request().path()) {
        return res.map_body(|_, body| RewriteBody::untouched(body));
    }
    let (origin, host, page_url) = {
        let req = res.request();
        let (scheme, host) = client::request_origin(req, &settings.trusted_proxies);
        let origin = format!("{scheme}://{host}");
        let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let page_url = format!("{origin}{path}");
        (origin, host, page_url)
    };
    // The script client's element, with the token it starts from (header tokens are
    // path-less, also with url_specific).
    let script_for = |token: &str| {
        settings.client_script.then(|| {
            client_script::tag(
                &host,
                &settings.client_script_path,
                &settings.settings().header_name,
                token,
            )
        })
    };
    // `None` when the page URL is not http(s): then nothing is rewritten.
    let policy_for =
        |token: &str| LinkPolicy::new(&page_url, &settings.hosts, &settings.param_name, token);
    // Built only when needed: a page from the rewrite cache needs none.
    let policy = || {
        let policy = policy_for(token)?;
        Some(match &sealer {
            Some(sealer) => policy.bound_to_paths(Arc::clone(sealer)),
            None => policy,
        })
    };
    if settings.use_get && res.status().is_redirection() {
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        if let Some(value) = location.and_then(|l| policy()?.location(l))
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            res.headers_mut().insert(header::LOCATION, value);
        }
    }
    let size = res.response().body().size();
    let len = match size {
        BodySize::None => Some(0),
        BodySize::Sized(len) => Some(len),
        BodySize::Stream => None,
    };
    let Some(charset) = body_charset(res.status().as_u16(), res.headers(), len) else {
        return res.map_body(|_, body| RewriteBody::untouched(body));
    };
    // A body the handler holds whole (`String`, `Bytes`) may come from the cache; with
    // url_specific every URL has its own token, which the cache cannot splice.
    let cache = engine.rewrites.as_ref().filter(|cache| {
        !settings.url_specific
            && matches!(size, BodySize::Sized(n) if usize::try_from(n).is_ok_and(|n| cache.fits(n)))
    });
    let use_get = settings.use_get;
    res.map_body(|head, body| {
        // Read once: the charset sniff and the cache need the bytes of a page held whole.
        let page = match body.try_into_bytes() {
            Ok(bytes) => Page::Whole(bytes),
            Err(body) => Page::Streamed(body),
        };
        let encoding = match (charset, &page) {
            (Charset::Declared(encoding), _) => Some(encoding),
            (Charset::Undeclared, Page::Whole(bytes)) => declare_charset(head, Some(bytes)),
            (Charset::Undeclared, Page::Streamed(_)) => declare_charset(head, None),
        };
        let Some(encoding) = encoding else {
            return match page {
                Page::Whole(bytes) => RewriteBody::ready(bytes),
                Page::Streamed(body) => RewriteBody::untouched(body),
            };
        };
        // The length changes: drop a length the handler set.
        head.headers.remove(header::CONTENT_LENGTH);
        head.no_chunking(false);
        // A page held whole is scanned first: lol_html then watches only the elements
        // it may have.
        let rewriter = |policy: Option<LinkPolicy>, token: &str, whole: Option<&[u8]>| {
            TokenRewriter::with_script(policy?, use_get, encoding, whole, script_for(token))
        };
        match page {
            Page::Whole(page) => match cache {
                Some(cache) => {
                    // With one token for every URL, only the page's origin decides
                    // where it goes (a relative URL keeps it, an absolute one names its
                    // own): the same page at `/a?sessionid=…` and `/b` is one entry.
                    let context = format!("{origin}\n{}", encoding.name());
                    let rewritten = cache.rewrite(&page, &context, token, |placeholder| {
                        rewriter(policy_for(placeholder), placeholder, Some(&page))
                    });
                    RewriteBody::ready(rewritten.unwrap_or(page))
                }
                None => match rewriter(policy(), token, Some(&page)) {
                    Some(mut rewriter) => {
                        let mut out = rewriter.write(&page);
                        out.extend(rewriter.end());
                        RewriteBody::ready(out.into())
                    }
                    None => RewriteBody::ready(page),
                },
            },
            Page::Streamed(body) => match rewriter(policy(), token, None) {
                Some(rewriter) => RewriteBody::new(body, rewriter),
                None => RewriteBody::untouched(body),
            },
        }
    })
}

pub(super) fn add_token_headers(settings: &ValidSettings, headers: &mut HeaderMap, token: &str) {
    // A checked name (`check_name`) and base64url are always valid; nothing to send otherwise.
    let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(settings.header_name.as_bytes()),
        HeaderValue::from_str(token),
    ) else {
        return;
    };
    headers.insert(name, value);
    // A shared cache must never hand one visitor's token to another.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    // Keep a policy the handler chose if it leaks nothing; otherwise ours.
    let keep = headers
        .get(header::REFERRER_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_safe_referrer_policy);
    if !keep {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static(settings.referrer_policy),
        );
    }
}
