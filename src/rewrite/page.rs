//! One response's HTML page, whatever the framework: the charset to declare, the rewriter
//! for a streamed page, and a page held whole rewritten (spliced from the cache when it can).

use bytes::Bytes;
use encoding_rs::Encoding;

use super::{LinkPolicy, PathSealer, RewriteCache, TokenRewriter, charset::sniff, rewritable};
use crate::{
    client_script,
    engine::RequestPage,
    headers::{HeaderEdit, as_text},
    settings::ValidSettings,
};

/// For an HTML response whose `Content-Type` names no charset: the encoding a browser would
/// sniff from the page's `start` (held whole, or a stream's first bytes: byte order mark, then
/// for `text/html` `<meta charset>` in the first 1024 bytes), else UTF-8, and the
/// `Content-Type` declaring it, so that browser and rewriter read the page alike (a header
/// charset beats any later `<meta>`). `None`: an encoding lol_html cannot parse (ISO-2022-JP,
/// UTF-16), the page passes through untouched.
pub(crate) fn declared_charset(
    content_type: &str,
    start: Option<&[u8]>,
) -> Option<(&'static Encoding, String)> {
    // XHTML is XML: a browser reads no `<meta>` for its encoding.
    let is_html = content_type
        .get(..9)
        .is_some_and(|essence| essence.eq_ignore_ascii_case("text/html"));
    let sniffed = match start {
        Some(bytes) if is_html => sniff(bytes),
        Some(bytes) => Encoding::for_bom(bytes).map(|(encoding, _)| encoding),
        None => None,
    };
    let encoding = rewritable(sniffed.unwrap_or(encoding_rs::UTF_8))?;
    Some((
        encoding,
        format!("{content_type}; charset={}", encoding.name()),
    ))
}

/// Names in an HTML response's `Content-Type`, which named none, the charset
/// [`declared_charset`] finds; the encoding to rewrite in, `None` to leave the body alone.
pub(crate) fn declare_charset(
    headers: &mut impl HeaderEdit,
    start: Option<&[u8]>,
) -> Option<&'static Encoding> {
    let content_type = as_text(headers.first("content-type")?)?;
    let (encoding, declared) = declared_charset(content_type, start)?;
    headers.set("content-type", &declared);
    Some(encoding)
}

/// Everything one page is rewritten with.
pub(crate) struct PageRewrite<'a> {
    pub(crate) settings: &'a ValidSettings,
    /// `scheme://host`, and the page's path and query: its URL is built only when a rewriter
    /// needs it (not for a page the cache splices).
    pub(crate) page: RequestPage,
    /// The response's token (sealed for no path).
    pub(crate) token: String,
    /// With `url_specific`: seals the session's token for each link's path.
    pub(crate) sealer: Option<PathSealer>,
    /// Rewritten pages served again; `None` with the cache off.
    pub(crate) cache: Option<&'a RewriteCache>,
}

impl PageRewrite<'_> {
    /// Where links go for a page carrying `token`; `None` when the page URL is not http(s)
    /// (then nothing is rewritten). `bound`: each path gets its own token (`url_specific`).
    fn policy(&self, token: &str, bound: bool) -> Option<LinkPolicy> {
        let settings = self.settings;
        let page_url = format!("{}{}", self.page.origin, self.page.path_and_query);
        let policy = LinkPolicy::new(&page_url, &settings.hosts, &settings.param_name, token)?
            .with_use_get(settings.use_get);
        Some(match (&self.sealer, bound) {
            (Some(sealer), true) => policy.bound_to_paths(std::sync::Arc::clone(sealer)),
            _ => policy,
        })
    }

    /// The `Location` a response with `status` gets instead of `location`
    /// ([`LinkPolicy::redirect`]); `None` to leave it as it is.
    pub(crate) fn location(&self, status: u16, location: Option<&str>) -> Option<String> {
        let location = location?;
        // Only a redirect's `Location` may get a token: the policy need not be built otherwise.
        if !(300..400).contains(&status) {
            return None;
        }
        self.policy(&self.token, true)?.redirect(status, location)
    }

    /// The script client's element for a page carrying `token`, when it is on.
    fn script(&self, token: &str) -> Option<String> {
        let settings = self.settings;
        // Header tokens are path-less, also with url_specific: the script starts from `token`.
        settings.client_script.then(|| {
            client_script::tag(
                &self.page.host,
                &settings.client_script_path,
                &settings.settings().header_name,
                token,
            )
        })
    }

    /// The rewriter for a page that streams.
    pub(crate) fn streamed(&self, encoding: &'static Encoding) -> Option<TokenRewriter> {
        let policy = self.policy(&self.token, true)?;
        let script = self.script(&self.token);
        TokenRewriter::with_script(policy, encoding, None, script)
    }

    /// A page held whole, rewritten: spliced from the cache when it may be kept there (with
    /// `url_specific` every URL has its own token, which the cache cannot splice), else now.
    pub(crate) fn whole(&self, page: Bytes, encoding: &'static Encoding) -> Bytes {
        let cache = self
            .cache
            .filter(|cache| !self.settings.url_specific && cache.fits(page.len()));
        if let Some(cache) = cache {
            // With one token for every URL, only the page's origin decides where it goes (a
            // relative URL keeps it, an absolute one names its own): the same page at
            // `/a?sessionid=…` and `/b` is one entry. Without use_get, a page whose URL carries
            // a token (a redirect token) is judged more strictly: an entry of its own.
            let query = self
                .page
                .path_and_query
                .split_once('?')
                .map_or("", |(_, q)| q);
            let guarded = !self.settings.use_get
                && super::policy::query_carries_token(query, &self.settings.param_name);
            let context = [
                self.page.origin.as_str(),
                encoding.name(),
                if guarded { "guarded" } else { "" },
            ];
            let rewritten = cache.rewrite(&page, &context, &self.token, |placeholder| {
                self.rewrite_whole(placeholder, encoding, &page, false)
            });
            return rewritten.unwrap_or(page);
        }
        self.rewrite_whole(&self.token, encoding, &page, true)
            .map_or(page, Bytes::from)
    }

    /// `page` held whole, rewritten for `token` (the plain path, else lol_html).
    fn rewrite_whole(
        &self,
        token: &str,
        encoding: &'static Encoding,
        page: &[u8],
        bound: bool,
    ) -> Option<Vec<u8>> {
        let policy = self.policy(token, bound)?;
        let script = self.script(token);
        TokenRewriter::rewrite_whole(policy, encoding, page, script)
    }
}
