//! What becomes of a response, whatever the door: the engine edits its headers (no cookie
//! leaves, the token's headers, `Location`) and says what becomes of its body. The glues only
//! read their body types and write the result back.

use std::sync::Arc;

use encoding_rs::Encoding;

use super::{Engine, Finished, Refusal, add_token_headers};
use crate::{
    cookies,
    headers::{HeaderEdit, HeaderView, as_text},
    rewrite::{Charset, PageRewrite, PathSealer, body_charset, declare_charset},
    session_cookie::SessionCookie,
    settings::ValidSettings,
    token::Sealer,
};

/// The page a response answers: where links on it resolve, and whose host the script client
/// names. Built only for a response that is rewritten (see [`Engine::plan`]).
pub(crate) struct RequestPage {
    /// `scheme://host`
    pub(crate) origin: String,
    pub(crate) host: String,
    pub(crate) path_and_query: String,
}

impl RequestPage {
    /// The page at `scheme://host` + `path_and_query`.
    pub(crate) fn new((scheme, host): (&str, String), path_and_query: &str) -> Self {
        Self {
            origin: format!("{scheme}://{host}"),
            host,
            path_and_query: path_and_query.to_owned(),
        }
    }
}

/// What the response side needs of a request, taken before the request goes to the app.
pub(crate) struct RequestFacts {
    /// The path the request asked for (exclusions are judged on it).
    pub(crate) path: String,
    /// With `delete_cookies`: a `Set-Cookie` expiring each cookie the request carried (never
    /// the session cookie of `cookie = "auto"`).
    pub(crate) expired_cookies: Vec<String>,
    /// The request carried the session cookie (`cookie = "auto"`), good or not.
    pub(crate) session_cookie_came: bool,
}

impl RequestFacts {
    /// `session_cookie_came`: the request brought the session cookie (`cookie = "auto"`).
    pub(crate) fn new(
        settings: &ValidSettings,
        path: &str,
        headers: &impl HeaderView,
        session_cookie_came: bool,
    ) -> Self {
        let session_cookie = settings.cookie.as_ref();
        let mut expired_cookies = if settings.delete_cookies {
            cookies::expired(headers)
        } else {
            Vec::new()
        };
        if let Some(cookie) = session_cookie
            && !expired_cookies.is_empty()
        {
            let own = format!("{}=", cookie.name);
            expired_cookies.retain(|expired| !expired.starts_with(&own));
        }
        Self {
            path: path.to_owned(),
            expired_cookies,
            session_cookie_came,
        }
    }
}

/// The page a response answers: built when first needed.
enum Page<F> {
    Pending(F),
    Built(RequestPage),
}

impl<F: FnOnce() -> RequestPage> Page<F> {
    fn take(self) -> RequestPage {
        match self {
            Self::Pending(build) => build(),
            Self::Built(page) => page,
        }
    }
}

/// What becomes of a response's body.
pub(crate) enum BodyPlan<'a> {
    /// It passes as it is.
    Untouched,
    /// It is rewritten by `page`: in the charset its header names, or (`Charset::Undeclared`)
    /// in the one its start names, which the glue reads first (see [`BodyPlan::needs_start`]).
    Rewrite {
        page: PageRewrite<'a>,
        charset: Charset,
    },
}

impl<St> Engine<St> {
    /// Edits the headers of the response (with `status`, and a body of `len` bytes when known)
    /// to the request `facts` tell of: every `Set-Cookie` goes (`delete_cookies` expires the
    /// client's), a session's token goes into its headers (and, with `cookie = "auto"`, into
    /// the session cookie, unless the request's cookie holds that very token) and, with
    /// `use_get`, into a redirect's `Location`. What becomes of the body (`page` is called for
    /// a response that is rewritten, or that may set the session cookie): a request the
    /// session cookie opened is not rewritten. `Err`: the token could not be sealed (503).
    pub(crate) fn plan(
        &self,
        facts: &RequestFacts,
        page: impl FnOnce() -> RequestPage,
        mut finished: Finished,
        sealer: &Sealer,
        (status, len): (u16, Option<u64>),
        headers: &mut impl HeaderEdit,
    ) -> Result<BodyPlan<'_>, Refusal> {
        let settings = &self.settings;
        cookies::replace_set_cookies(headers, &facts.expired_cookies);
        // Another site's request never touches the visitor's cookie (it rides on cross-site
        // requests with SameSite=None, and is ignored there): neither replaced nor removed.
        let cookie = settings.cookie.as_ref().filter(|_| !finished.cross_site);
        let Some(key) = finished.key.take() else {
            // No session (purged, or the cookie's token opened nothing): its cookie goes too.
            if let Some(cookie) = cookie
                && facts.session_cookie_came
            {
                headers.append("set-cookie", &cookie.expired());
            }
            return Ok(BodyPlan::Untouched);
        };
        let cookie_current = finished.cookie_current;
        // One sealer for the request: the handler's `token()`, this header and the rewriter.
        let token = finished.token(&key, sealer).map_err(Refusal::Seal)?;
        add_token_headers(settings, headers, &token);
        let mut page = Page::Pending(page);
        if let Some(cookie) = cookie {
            // A cookie that already holds this token needs no `Set-Cookie`.
            if !cookie_current {
                let built = page.take();
                let scheme = built
                    .origin
                    .split_once("://")
                    .map_or("", |(scheme, _)| scheme);
                if SessionCookie::may_set(scheme, &built.host) {
                    headers.append("set-cookie", &cookie.set(&token));
                }
                page = Page::Built(built);
            }
            // The browser kept the cookie: it carries the session, no URL or form need.
            if finished.cookie_kept {
                return Ok(BodyPlan::Untouched);
            }
        }
        if finished.placed_by_handler || !settings.rewrites(&facts.path) {
            return Ok(BodyPlan::Untouched);
        }
        let rewrite = PageRewrite {
            settings,
            page: page.take(),
            token,
            sealer: settings.url_specific.then(|| {
                let sealer = sealer.clone();
                Arc::new(move |path: &str| sealer.seal(&key, Some(path)).ok()) as PathSealer
            }),
            cache: self.rewrites.as_ref(),
        };
        let location = headers.first("location").and_then(as_text);
        if let Some(location) = rewrite.location(status, location) {
            headers.set("location", &location);
        }
        Ok(match body_charset(status, &*headers, len) {
            Some(charset) => BodyPlan::Rewrite {
                page: rewrite,
                charset,
            },
            None => BodyPlan::Untouched,
        })
    }
}

impl BodyPlan<'_> {
    /// Whether the glue must read the body's start (up to the prescan's 1024 bytes, see
    /// `rewrite::read_head`) before it can tell the encoding: a page that names no charset,
    /// unless the glue holds it whole.
    pub(crate) fn needs_start(&self) -> bool {
        matches!(
            self,
            Self::Rewrite {
                charset: Charset::Undeclared,
                ..
            }
        )
    }
}

impl PageRewrite<'_> {
    /// The encoding the body is rewritten in (the header's; else the one `start`, the body's
    /// first bytes, names, then declared in `headers`), with the body's length dropped from
    /// `headers` (rewriting changes it); `None` to leave the body alone.
    pub(crate) fn encoding(
        &self,
        charset: Charset,
        headers: &mut impl HeaderEdit,
        start: Option<&[u8]>,
    ) -> Option<&'static Encoding> {
        let encoding = match charset {
            Charset::Declared(encoding) => encoding,
            Charset::Undeclared => declare_charset(headers, start)?,
        };
        headers.remove("content-length");
        Some(encoding)
    }
}
