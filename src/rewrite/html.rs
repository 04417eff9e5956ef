//! The streaming HTML rewriter: chunks in, rewritten chunks out, memory bounded.

use std::{borrow::Cow, cell::RefCell, rc::Rc, sync::LazyLock};

use encoding_rs::Encoding;
use lol_html::{
    AsciiCompatibleEncoding, ElementContentHandlers, HandlerResult, HtmlRewriter, MemorySettings,
    OutputSink, Selector, Settings,
    html_content::{ContentType, Element},
};
use url::Url;

use super::policy::{LinkPolicy, decode_entities, encode_attribute, split_refresh};

/// lol_html's own buffers (a tag split across chunks, and the like) may not grow past this;
/// beyond it the rest of the page passes through untouched.
const MAX_PARSER_MEMORY: usize = 1024 * 1024;
/// The output of a form that carries the token is held back (so the token can still be taken
/// out if a submitter sends the form to another site) up to this many bytes.
const MAX_FORM_HOLD: usize = 256 * 1024;

/// The selectors, in handler order: the first three always, the rest with `use_get`.
///
/// They name elements only: the handlers check the attributes themselves, which costs less
/// than making lol_html's selector engine match on attributes (measured: 5-9% faster with links).
const SELECTOR_TEXTS: [&str; 6] = [
    "base",
    "form",
    "button, input",
    "a, area",
    "iframe, frame",
    "meta",
];
const FORM_SELECTOR_COUNT: usize = 3;

struct Selectors {
    base: Selector,
    form: Selector,
    formaction: Selector,
    links: Selector,
    frames: Selector,
    refresh: Selector,
}

static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| {
    let [base, form, formaction, links, frames, refresh] =
        SELECTOR_TEXTS.map(|s| s.parse::<Selector>().expect("static selector"));
    Selectors {
        base,
        form,
        formaction,
        links,
        frames,
        refresh,
    }
});

/// The base of a document whose `<base href>` could not be read: nothing resolves against it.
static NOWHERE: LazyLock<Url> = LazyLock::new(|| Url::parse("data:,").expect("static URL"));

/// What the handlers share with the rewriter and with each other.
struct State {
    policy: LinkPolicy,
    use_get: bool,
    /// The document's base URL: the page, until the first `<base href>`.
    base: Url,
    base_seen: bool,
    /// The `<input type="hidden" ...>` inserted into the open form.
    held_input: String,
    /// Output not yet handed out.
    out: Vec<u8>,
    /// Where the held output of an open token-bearing form begins in `out`.
    hold_from: Option<usize>,
    /// A form is open (token or not): a browser ignores a `<form>` inside it, and would send
    /// an input put into the inner one with the outer form, wherever that one posts.
    form_open: bool,
}

impl State {
    fn release_hold(&mut self) {
        self.hold_from = None;
    }

    /// A submitter sends the open form elsewhere: take the token input back out.
    fn strip_held_token(&mut self) {
        let Some(from) = self.hold_from else {
            tracing::debug!("a form posting elsewhere was too large to hold; its token stayed");
            return;
        };
        let needle = self.held_input.as_bytes();
        if let Some(at) = memchr::memmem::find(&self.out[from..], needle) {
            let at = from + at;
            self.out.drain(at..at + needle.len());
        }
        self.hold_from = None;
    }
}

struct SharedSink(Rc<RefCell<State>>);

impl OutputSink for SharedSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().out.extend_from_slice(chunk);
    }
}

/// Puts the session token into an HTML document as it streams past: POST forms (and GET forms,
/// links, frames and refreshes with `use_get`) that stay on this site.
///
/// It knows nothing of any web framework: feed it chunks with [`write`](Self::write) and finish
/// with [`end`](Self::end); each returns the output that is ready. Memory stays bounded whatever
/// the document's size, and if the parser ever gives up, the rest passes through untouched.
///
/// ```
/// use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
///
/// let policy = LinkPolicy::new("https://example.com/step1", &[], "sessionid", "TOKEN").unwrap();
/// let mut rewriter = TokenRewriter::new(policy, true, encoding_rs::UTF_8).unwrap();
/// let mut html = rewriter.write(br#"<form method="post"><input name="a"></form>"#);
/// html.extend(rewriter.write(br#"<a href="/step2">next</a> <a href="https://other.example/">away</a>"#));
/// html.extend(rewriter.end());
/// assert_eq!(
///     String::from_utf8(html).unwrap(),
///     r#"<form method="post"><input type="hidden" name="sessionid" value="TOKEN" /><input name="a"></form><a href="/step2?sessionid=TOKEN">next</a> <a href="https://other.example/">away</a>"#
/// );
/// ```
pub struct TokenRewriter {
    rewriter: Option<HtmlRewriter<'static, SharedSink>>,
    state: Rc<RefCell<State>>,
}

impl std::fmt::Debug for TokenRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRewriter")
            .field("passing_through", &self.rewriter.is_none())
            .finish_non_exhaustive()
    }
}

impl TokenRewriter {
    /// A rewriter for one document in `encoding`; `None` when lol_html cannot parse that
    /// encoding (UTF-16 and other encodings that are not ASCII-compatible).
    pub fn new(policy: LinkPolicy, use_get: bool, encoding: &'static Encoding) -> Option<Self> {
        let encoding = AsciiCompatibleEncoding::new(encoding)?;
        let state = Rc::new(RefCell::new(State {
            base: policy.page().clone(),
            policy,
            use_get,
            base_seen: false,
            held_input: String::new(),
            out: Vec::new(),
            hold_from: None,
            form_open: false,
        }));
        let selectors = &*SELECTORS;
        let handler = |f: fn(&mut State, &mut Element<'_, '_>) -> HandlerResult| {
            let state = Rc::clone(&state);
            ElementContentHandlers::default()
                .element(move |el: &mut Element<'_, '_>| f(&mut state.borrow_mut(), el))
        };
        let mut settings = Settings::new()
            .with_encoding(encoding)
            .with_strict(false)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(MAX_PARSER_MEMORY)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            .append_element_content_handler((Cow::Borrowed(&selectors.base), handler(on_base)))
            .append_element_content_handler((Cow::Borrowed(&selectors.form), {
                let state = Rc::clone(&state);
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_>| on_form(&state, el))
            }))
            .append_element_content_handler((
                Cow::Borrowed(&selectors.formaction),
                handler(on_formaction),
            ));
        if use_get {
            settings = settings
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.links),
                    handler(on_link_href),
                ))
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.frames),
                    handler(on_frame_src),
                ))
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.refresh),
                    handler(on_refresh),
                ));
        }
        let rewriter = HtmlRewriter::new(settings, SharedSink(Rc::clone(&state)));
        Some(Self {
            rewriter: Some(rewriter),
            state,
        })
    }

    /// The CSS selectors of the elements this rewriter looks at, with `use_get` or without:
    /// for auditing, and for benchmarking it against bare lol_html with the same selectors.
    ///
    /// ```
    /// use actix_cookieless::rewrite::TokenRewriter;
    ///
    /// assert!(TokenRewriter::selectors(false).contains(&"form"));
    /// assert!(TokenRewriter::selectors(true).contains(&"a, area"));
    /// ```
    pub fn selectors(use_get: bool) -> &'static [&'static str] {
        if use_get {
            &SELECTOR_TEXTS
        } else {
            &SELECTOR_TEXTS[..FORM_SELECTOR_COUNT]
        }
    }

    /// Feeds the next chunk; returns the output that is ready.
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.rewriter {
            Some(rewriter) => {
                // Room for the chunk and some tokens: one allocation instead of a run of
                // doublings as lol_html hands its output over piece by piece.
                self.state
                    .borrow_mut()
                    .out
                    .reserve(chunk.len() + chunk.len() / 4);
                if let Err(err) = rewriter.write(chunk) {
                    // The graceful bail-out already flushed what it had, raw; from here on,
                    // everything passes through.
                    tracing::warn!(error = %err, "HTML rewriting stopped; the rest of the page passes through");
                    self.rewriter = None;
                    self.state.borrow_mut().release_hold();
                }
                self.take_ready()
            }
            None => {
                let mut out = self.take_all();
                out.extend_from_slice(chunk);
                out
            }
        }
    }

    /// The document ended; returns the rest of the output.
    pub fn end(&mut self) -> Vec<u8> {
        if let Some(rewriter) = self.rewriter.take()
            && let Err(err) = rewriter.end()
        {
            tracing::warn!(error = %err, "HTML rewriting failed at the end of the page");
        }
        self.take_all()
    }

    fn take_ready(&mut self) -> Vec<u8> {
        let mut state = self.state.borrow_mut();
        match state.hold_from {
            Some(from) if state.out.len() - from > MAX_FORM_HOLD => {
                state.hold_from = None;
                std::mem::take(&mut state.out)
            }
            Some(from) => {
                let rest = state.out.split_off(from);
                state.hold_from = Some(0);
                std::mem::replace(&mut state.out, rest)
            }
            None => std::mem::take(&mut state.out),
        }
    }

    fn take_all(&mut self) -> Vec<u8> {
        let mut state = self.state.borrow_mut();
        state.hold_from = None;
        std::mem::take(&mut state.out)
    }
}

fn on_base(state: &mut State, el: &mut Element<'_, '_>) -> HandlerResult {
    // Only the first <base> with an href counts, as in a browser.
    if state.base_seen {
        return Ok(());
    }
    let Some(href) = el.get_attribute("href") else {
        return Ok(());
    };
    state.base_seen = true;
    match decode_entities(&href) {
        // An empty, fragment-only or unparsable base leaves the page's URL, as in a browser.
        Some(href) => {
            if let Some(base) = state.policy.resolve(&href, state.policy.page()) {
                state.base = base;
            }
        }
        // A base we cannot read is nobody's: relative URLs then get no token.
        None => state.base = NOWHERE.clone(),
    }
    Ok(())
}

fn on_form(shared: &Rc<RefCell<State>>, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    if state.form_open {
        return Ok(()); // a form inside a form: browsers ignore the inner one
    }
    if el.can_have_content() {
        state.form_open = true;
        let shared = Rc::clone(shared);
        el.on_end_tag(Box::new(move |_| {
            let mut state = shared.borrow_mut();
            state.form_open = false;
            state.release_hold();
            Ok(())
        }))?;
    }
    let method = el.get_attribute("method").unwrap_or_default();
    let method = method.trim();
    let is_post = method.eq_ignore_ascii_case("post");
    if !is_post && (method.eq_ignore_ascii_case("dialog") || !state.use_get) {
        return Ok(());
    }
    // No action, or an empty one, submits to the document's own URL.
    let action = el.get_attribute("action").unwrap_or_default();
    let Some(action) = decode_entities(&action) else {
        return Ok(());
    };
    let token = if action.trim().is_empty() {
        let page = state.policy.page();
        state.policy.token_at(page.as_str(), page)
    } else {
        state.policy.token_at(&action, &state.base)
    };
    let Some(token) = token else {
        return Ok(());
    };
    let input = format!(
        r#"<input type="hidden" name="{}" value="{token}" />"#,
        state.policy.param_name()
    );
    el.prepend(&input, ContentType::Html);
    state.held_input = input;
    if state.form_open {
        state.hold_from = Some(state.out.len());
    }
    Ok(())
}

fn on_formaction(state: &mut State, el: &mut Element<'_, '_>) -> HandlerResult {
    if state.hold_from.is_none() {
        return Ok(());
    }
    let target = el.get_attribute("formaction").unwrap_or_default();
    let elsewhere = match decode_entities(&target) {
        Some(target) => {
            !target.trim().is_empty() && !state.policy.is_same_origin(&target, &state.base)
        }
        None => true,
    };
    if elsewhere {
        state.strip_held_token();
    }
    Ok(())
}

/// Whether lol_html can write this start tag back, modified, with the same meaning. It puts a
/// space between attributes, which turns `<a href=x b/="c>` (an attribute `b`, then one named
/// `="c`) into `<a href=y b ="c>`: `b` then takes a value that swallows the rest of the page.
/// Only malformed HTML has an attribute name starting with `=`; such a tag is left as it is.
fn rewrites_faithfully(el: &Element<'_, '_>) -> bool {
    !el.attributes()
        .iter()
        .any(|attr| attr.name_preserve_case().starts_with('='))
}

fn rewrite_url_attribute(state: &State, el: &mut Element<'_, '_>, name: &str) -> HandlerResult {
    let Some(raw) = el.get_attribute(name) else {
        return Ok(());
    };
    if !rewrites_faithfully(el) {
        return Ok(());
    }
    if let Some(url) =
        decode_entities(&raw).and_then(|url| state.policy.add_token(&url, &state.base))
    {
        el.set_attribute(name, &encode_attribute(&url))?;
    }
    Ok(())
}

fn on_link_href(state: &mut State, el: &mut Element<'_, '_>) -> HandlerResult {
    rewrite_url_attribute(state, el, "href")
}

fn on_frame_src(state: &mut State, el: &mut Element<'_, '_>) -> HandlerResult {
    rewrite_url_attribute(state, el, "src")
}

fn on_refresh(state: &mut State, el: &mut Element<'_, '_>) -> HandlerResult {
    let is_refresh = el
        .get_attribute("http-equiv")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"));
    let Some(content) = el.get_attribute("content").filter(|_| is_refresh) else {
        return Ok(());
    };
    let Some(content) = decode_entities(&content) else {
        return Ok(());
    };
    if let Some((prefix, url)) = split_refresh(&content)
        && let Some(url) = state.policy.add_token(url, &state.base)
        && rewrites_faithfully(el)
    {
        el.set_attribute("content", &encode_attribute(&format!("{prefix}{url}")))?;
    }
    Ok(())
}
