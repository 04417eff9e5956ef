//! The streaming HTML rewriter: chunks in, rewritten chunks out, memory bounded.

use std::{
    borrow::Cow,
    sync::{Arc, LazyLock},
};

use atomic_refcell::AtomicRefCell;
use encoding_rs::Encoding;
use lol_html::{
    AsciiCompatibleEncoding, HandlerResult, MemorySettings, OutputSink, Selector,
    html_content::{ContentType, DocumentEnd},
    send::{DocumentContentHandlers, Element, ElementContentHandlers, HtmlRewriter, Settings},
};
use url::Url;

use super::{
    attribute::{Refresh, decode_entities, encode_attribute},
    forms::Forms,
    plain,
    policy::{LinkPolicy, has_scheme, sends_nothing},
    prescan::Present,
    rules::{
        MAX_FORM_HOLD, MAX_UNREAD_REST, form_token_at, keyword, mentions_leaky_words, token_input,
    },
};
use crate::settings::is_safe_referrer_policy;

mod readings;

/// lol_html's own buffers (a tag split across chunks, and the like) may not grow past this;
/// beyond it the rest of the page passes through untouched.
const MAX_PARSER_MEMORY: usize = 1024 * 1024;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The selectors, in handler order: the first five always, the rest with `use_get`.
///
/// They name elements only: the handlers check the attributes themselves, which costs less
/// than making lol_html's selector engine match on attributes (measured: 5-9% faster with links).
/// A document known whole keeps only those whose elements it may have ([`NEEDED`]).
const SELECTOR_TEXTS: [&str; 9] = [
    "base",
    "template, select",
    // Before "form": a form inside a form is a child of the outer one, not of itself.
    "form > *",
    "form",
    "button, input",
    "a, area",
    "iframe, frame",
    "meta",
    // `<image>` is an `<img>` to the tree builder.
    "img, image, link, script",
];
const FORM_SELECTOR_COUNT: usize = 5;

/// Whether a document with these elements needs each selector. Without a `<form>`, no
/// submitter, form child or form needs judging: no form gets the token.
const NEEDED: [fn(&Present) -> bool; 9] = [
    |p| p.base,
    |p| p.containers,
    |p| p.forms,
    |p| p.forms,
    |p| p.forms,
    |p| p.links,
    |p| p.frames,
    |p| p.meta,
    |p| p.referrer_policies,
];

static SELECTORS: LazyLock<[Selector; 9]> =
    LazyLock::new(|| SELECTOR_TEXTS.map(|s| s.parse::<Selector>().expect("static selector")));

static HEAD_OR_BODY: LazyLock<Selector> =
    LazyLock::new(|| "head, body".parse().expect("static selector"));

/// What the handlers share with the rewriter and with each other.
struct State {
    policy: LinkPolicy,
    /// The document's base URL: the page, until the first `<base href>`.
    base: Url,
    base_seen: bool,
    /// A token went into a URL that a later `<base href>` would move: from now on, a base
    /// that would move it to another site loses its `href`.
    relied_on_base: bool,
    /// The forms, and the output not yet handed out.
    forms: Forms,
    /// The script client's `<script>` element, until it is placed.
    script: Option<String>,
    /// `<select>` elements open in lol_html's view, in any namespace: where a browser may be
    /// in the "in select" mode (lol_html's implicit closes are made explicit in the output).
    selects_open: usize,
    /// No token goes anywhere from here on (an `<svg>` or `<math>` that the "in select" mode
    /// may ignore: lol_html reads markup where that browser reads script text).
    tokens_stopped: bool,
    /// lol_html's tokenizer stays in foreign content that its element stack (and a browser)
    /// left: what follows is held in `rest` and judged whole at the end
    /// ([`TokenRewriter::cut_short`]).
    view_lost: bool,
    /// The output after the view was lost, up to [`MAX_UNREAD_REST`] bytes.
    rest: Vec<u8>,
    /// The output after the view was lost outgrew [`MAX_UNREAD_REST`], or named what could
    /// send a token elsewhere: it is dropped.
    rest_dropped: bool,
    /// lol_html may be in foreign content where a browser is not: an `<svg>` or `<math>` opened
    /// inside another (a `<div>` in it leaves all of them in a tree builder, one in lol_html)
    /// or where a `<select>` may be open, until lol_html closes the outermost by its end tag
    /// ([`on_foreign_text_element`]).
    foreign_unsure: bool,
    /// `<svg>` and `<math>` elements open, in lol_html's view.
    foreign_open: usize,
    /// Foreign elements open (lol_html's view) that a tree builder which left foreign content
    /// reads as HTML text elements (`<svg><script>`): what lol_html reads as markup inside
    /// them may be text ([`on_foreign_text_element`]).
    in_foreign_text: usize,
    /// The text of the element being read that some browser reads as markup ([`HeldText`]),
    /// held back until its end tag judges it; `None` outside one, or once it outgrew
    /// [`MAX_HELD_TEXT`].
    held: Option<String>,
    in_held: bool,
    /// A CDATA section's text, held until the section ends.
    cdata: Option<String>,
    in_cdata: bool,
}

impl State {
    /// Notes that a token went into `url`, and whether a later base could move it.
    fn token_placed_in(&mut self, url: &str) {
        if !has_scheme(url) {
            self.relied_on_base = true;
        }
    }
}

/// The state the handlers and the output sink share. `Send` (so a response body holding the
/// rewriter can cross threads, as tower requires); borrowed like a `RefCell`, so a conflicting
/// borrow is a panic the tests see rather than a deadlock.
type Shared = Arc<AtomicRefCell<State>>;

struct SharedSink(Shared);

impl OutputSink for SharedSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        let mut state = self.0.borrow_mut();
        if !state.view_lost {
            state.forms.output().extend_from_slice(chunk);
        } else if !state.rest_dropped {
            if state.rest.len() + chunk.len() > MAX_UNREAD_REST {
                tracing::warn!(
                    max = MAX_UNREAD_REST,
                    "the rest of a page the rewriter could not read as a browser does is too large to judge; it is dropped"
                );
                state.rest_dropped = true;
                state.rest = Vec::new();
            } else {
                state.rest.extend_from_slice(chunk);
            }
        }
    }
}

/// How the first bytes of a document decide its encoding: a byte order mark overrides what
/// the headers say, in a browser.
enum Start {
    /// Fewer than 3 bytes seen, all of them possibly a byte order mark.
    Sniffing(Vec<u8>),
    Decided,
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
/// let mut rewriter = TokenRewriter::new(policy, encoding_rs::UTF_8).unwrap();
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
    state: Shared,
    start: Start,
    encoding: &'static Encoding,
    /// lol_html gave up, or the byte order mark named another encoding.
    gave_up: bool,
}

impl std::fmt::Debug for TokenRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRewriter")
            .field("passing_through", &self.rewriter.is_none())
            .field("gave_up", &self.gave_up)
            .finish_non_exhaustive()
    }
}

type Handler = fn(&Shared, &mut Element<'_, '_>) -> HandlerResult;

impl TokenRewriter {
    /// A rewriter for one document in `encoding`; `None` when lol_html cannot parse that
    /// encoding (UTF-16 and other encodings that are not ASCII-compatible). A document whose
    /// byte order mark names another encoding than `encoding` passes through untouched (a
    /// browser follows the mark).
    pub fn new(policy: LinkPolicy, encoding: &'static Encoding) -> Option<Self> {
        Self::watching(policy, encoding, Present::ANY, None)
    }

    /// A rewriter for `document`, which the caller holds whole and then passes to
    /// [`write`](Self::write): it first scans the bytes for the tags it looks at, and leaves
    /// lol_html only the selectors the document may match (none at all for a page without
    /// forms, with `use_get` off). The output follows the same rules as [`new`](Self::new)'s,
    /// sooner; it keeps more where a stream must fail closed for want of knowing what comes
    /// later (a late `<base>` after a submitter, on a page that has no form at all).
    ///
    /// ```
    /// use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
    ///
    /// let page = br#"<p>No forms.</p><a href="/next">next</a>"#;
    /// let policy = LinkPolicy::new("https://example.com/", &[], "sessionid", "TOKEN")
    ///     .unwrap()
    ///     .with_use_get(false);
    /// let mut rewriter = TokenRewriter::for_document(policy, encoding_rs::UTF_8, page).unwrap();
    /// let mut html = rewriter.write(page);
    /// html.extend(rewriter.end());
    /// assert_eq!(html, page);
    /// ```
    pub fn for_document(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        document: &[u8],
    ) -> Option<Self> {
        let present = Present::scan(document, policy.guards_page_url());
        Self::watching(policy, encoding, present, None)
    }

    /// Rewrites `document`, held whole: the output [`for_document`](Self::for_document) then
    /// [`write`](Self::write) and [`end`](Self::end) give, sooner. A plain UTF-8 page (links,
    /// forms, scripts and styles, nothing the rewriter must judge with care) is rewritten in
    /// one pass without lol_html; any other goes through lol_html. `None` when lol_html cannot
    /// parse `encoding`.
    ///
    /// ```
    /// use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
    ///
    /// let page = br#"<form method="post"><input name="a"></form><a href="/next">next</a>"#;
    /// let policy = LinkPolicy::new("https://example.com/", &[], "sessionid", "TOKEN").unwrap();
    /// let html = TokenRewriter::rewrite_document(policy, encoding_rs::UTF_8, page).unwrap();
    /// assert_eq!(
    ///     String::from_utf8(html).unwrap(),
    ///     r#"<form method="post"><input type="hidden" name="sessionid" value="TOKEN" /><input name="a"></form><a href="/next?sessionid=TOKEN">next</a>"#
    /// );
    /// ```
    pub fn rewrite_document(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        document: &[u8],
    ) -> Option<Vec<u8>> {
        Self::rewrite_whole(policy, encoding, document, None)
    }

    /// [`rewrite_document`](Self::rewrite_document), with the script client's element (see
    /// [`with_script`](Self::with_script)).
    pub(crate) fn rewrite_whole(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        document: &[u8],
        script: Option<String>,
    ) -> Option<Vec<u8>> {
        let guards = policy.guards_page_url();
        if script.is_none() {
            // Without `use_get` only forms get the token: a page without one is left as it is
            // (the prescan stops at the first `<form`), unless its own URL carries one.
            if !guards && !Present::may_have_form(document) {
                AsciiCompatibleEncoding::new(encoding)?;
                return Some(document.to_vec());
            }
            // The plain path guards a page's URL only with `use_get`.
            if encoding == encoding_rs::UTF_8
                && guards == policy.use_get()
                && let Some(out) = plain::rewrite(document, &policy)
            {
                return Some(out);
            }
        }
        let mut rewriter = Self::with_script(policy, encoding, Some(document), script)?;
        let mut out = rewriter.write(document);
        out.extend(rewriter.end());
        Some(out)
    }

    /// The plain path only: `None` for a page it leaves to lol_html (for its tests).
    #[doc(hidden)]
    pub fn rewrite_plain_document(policy: &LinkPolicy, document: &[u8]) -> Option<Vec<u8>> {
        plain::rewrite(document, policy)
    }

    /// The full rewriter only, for a document held whole (the plain path's oracle in tests).
    #[doc(hidden)]
    pub fn rewrite_document_with_lol_html(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        document: &[u8],
    ) -> Option<Vec<u8>> {
        let mut rewriter = Self::for_document(policy, encoding, document)?;
        let mut out = rewriter.write(document);
        out.extend(rewriter.end());
        Some(out)
    }

    /// Like [`new`](Self::new) (`document: None`) or [`for_document`](Self::for_document), and
    /// puts `script` (the script client's element) at the start of the page's `<head>`, else
    /// of its `<body>`, else at its end.
    pub(crate) fn with_script(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        document: Option<&[u8]>,
        script: Option<String>,
    ) -> Option<Self> {
        let guards = policy.guards_page_url();
        let mut present = document.map_or(Present::ANY, |doc| Present::scan(doc, guards));
        // A `<head>` inside a `<template>` is no head of the document's: templates are followed.
        present.containers |= script.is_some();
        Self::watching(policy, encoding, present, script)
    }

    fn watching(
        policy: LinkPolicy,
        encoding: &'static Encoding,
        present: Present,
        script: Option<String>,
    ) -> Option<Self> {
        const HANDLERS: [Handler; 9] = [
            on_base,
            on_container,
            on_form_child,
            on_form,
            on_submitter,
            on_link,
            on_frame,
            on_meta,
            on_referrer_only,
        ];
        let lol_encoding = AsciiCompatibleEncoding::new(encoding)?;
        let guards = policy.guards_page_url();
        let state = Arc::new(AtomicRefCell::new(State {
            base: policy.page().clone(),
            policy,
            base_seen: false,
            relied_on_base: false,
            forms: Forms::new(MAX_FORM_HOLD),
            script,
            selects_open: 0,
            tokens_stopped: false,
            view_lost: false,
            rest: Vec::new(),
            rest_dropped: false,
            foreign_unsure: false,
            foreign_open: 0,
            in_foreign_text: 0,
            held: None,
            in_held: false,
            cdata: None,
            in_cdata: false,
        }));
        // Links, frames, metas and referrer policies: with `use_get`, or where the page's own
        // URL carries a token (then only judged: links get none without `use_get`).
        let count = if guards {
            SELECTOR_TEXTS.len()
        } else {
            FORM_SELECTOR_COUNT
        };
        let mut settings = Settings::new_send()
            .with_encoding(lol_encoding)
            .with_strict(false)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(MAX_PARSER_MEMORY)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            );
        let mut watched = 0;
        for ((selector, handler), needed) in SELECTORS.iter().zip(HANDLERS).zip(NEEDED).take(count)
        {
            if !needed(&present) {
                continue;
            }
            watched += 1;
            let state = Arc::clone(&state);
            settings = settings.append_element_content_handler((
                Cow::Borrowed(selector),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_>| handler(&state, el)),
            ));
        }
        if present.held_text || present.foreign || present.cdata || present.containers {
            watched += 1;
            settings = settings.append_element_content_handler(readings::handlers(&state));
            settings = settings.append_document_content_handler(readings::at_end(&state));
        }
        if state.borrow().script.is_some() {
            watched += 1;
            let on_start = Arc::clone(&state);
            settings = settings.append_element_content_handler((
                Cow::Borrowed(&HEAD_OR_BODY),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_>| place_script(&on_start, el)),
            ));
            let at_end = Arc::clone(&state);
            settings = settings.append_document_content_handler(
                DocumentContentHandlers::default().end(move |end: &mut DocumentEnd<'_>| {
                    // Released before appending: the output sink borrows the state too.
                    let script = at_end.borrow_mut().script.take();
                    if let Some(script) = script {
                        end.append(&script, ContentType::Html);
                    }
                    Ok(())
                }),
            );
        }
        // Nothing to watch: the document passes through as it is, without lol_html.
        let rewriter =
            (watched > 0).then(|| HtmlRewriter::new(settings, SharedSink(Arc::clone(&state))));
        Some(Self {
            rewriter,
            state,
            start: Start::Sniffing(Vec::new()),
            encoding,
            gave_up: false,
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
        if let Start::Sniffing(seen) = &mut self.start {
            seen.extend_from_slice(chunk);
            if seen.len() < 3 && BOMS.iter().any(|bom| bom.starts_with(seen)) {
                return Vec::new();
            }
            let seen = std::mem::take(seen);
            self.start = Start::Decided;
            self.follow_byte_order_mark(&seen);
            return self.feed(&seen);
        }
        self.feed(chunk)
    }

    /// A byte order mark that names another encoding than the one the rewriter parses
    /// with: the browser follows the mark, so the page passes through untouched.
    fn follow_byte_order_mark(&mut self, start: &[u8]) {
        let marked = Encoding::for_bom(start).map(|(encoding, _)| encoding);
        if marked.is_some_and(|marked| marked != self.encoding) {
            tracing::debug!("the page's byte order mark names another encoding; not rewritten");
            self.rewriter = None;
            self.gave_up = true;
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.rewriter {
            Some(rewriter) => {
                // Room for the chunk and some tokens: one allocation instead of a run of
                // doublings as lol_html hands its output over piece by piece.
                self.state
                    .borrow_mut()
                    .forms
                    .output()
                    .reserve(chunk.len() + chunk.len() / 4);
                if let Err(err) = rewriter.write(chunk) {
                    // The graceful bail-out already flushed what it had, raw; from here on,
                    // everything passes through, and no submitter further on can be judged.
                    tracing::warn!(error = %err, "HTML rewriting stopped; the rest of the page passes through");
                    self.rewriter = None;
                    self.gave_up = true;
                    let mut state = self.state.borrow_mut();
                    state.forms.strip_all();
                    return state.forms.take_all();
                }
                self.state.borrow_mut().forms.take_ready()
            }
            None => {
                let mut out = self.state.borrow_mut().forms.take_all();
                out.extend_from_slice(chunk);
                out
            }
        }
    }

    /// Whether lol_html gave up on this document (a tag larger than its memory cap: the rest
    /// passed through unread). No form held at that point kept its token.
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// Whether the end of the document was dropped (known once [`end`](Self::end) returned).
    /// Where lol_html's reading of a page parts from every browser's (it closes an `<svg>` or
    /// `<math>` at another element's end tag, `<div><svg></div>`, and its tokenizer stays in
    /// foreign content), the rest gets no token and is held; at the end it is kept only if it
    /// names nothing that could send a token elsewhere (a `<base>`, a referrer policy, a ping,
    /// a `srcdoc`, a form-naming attribute) and is at most 256 KiB.
    pub fn cut_short(&self) -> bool {
        self.state.borrow().rest_dropped
    }

    /// The document ended; returns the rest of the output.
    pub fn end(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Start::Sniffing(seen) = &mut self.start {
            let seen = std::mem::take(seen);
            self.start = Start::Decided;
            self.follow_byte_order_mark(&seen);
            out = self.feed(&seen);
        }
        if let Some(rewriter) = self.rewriter.take()
            && let Err(err) = rewriter.end()
        {
            tracing::warn!(error = %err, "HTML rewriting failed at the end of the page");
            self.state.borrow_mut().forms.strip_all();
        }
        let mut state = self.state.borrow_mut();
        out.extend(state.forms.take_all());
        if state.view_lost && !state.rest_dropped {
            let rest = std::mem::take(&mut state.rest);
            if mentions_leaky_words(&String::from_utf8_lossy(&rest)) {
                tracing::warn!(
                    "the rest of a page the rewriter could not read as a browser does names a base, referrer policy, ping or form; it is dropped"
                );
                state.rest_dropped = true;
            } else {
                out.extend(rest);
            }
        }
        out
    }
}

/// The byte order marks a browser looks for: UTF-8, UTF-16BE, UTF-16LE.
const BOMS: [&[u8]; 3] = [b"\xEF\xBB\xBF", b"\xFE\xFF", b"\xFF\xFE"];

fn is_html(el: &Element<'_, '_>) -> bool {
    el.namespace_uri() == HTML_NS
}

/// The attributes a handler reads, in one pass over the tag.
///
/// lol_html's `get_attribute` allocates the lowercased name on every call, found or not; a
/// link handler asking for four attributes paid that four times over. Here each attribute's
/// name is built once, and a value only for the attributes asked for.
struct Attrs<const N: usize> {
    /// The first value of each name asked for (a browser ignores later duplicates).
    values: [Option<String>; N],
    /// Whether lol_html can write this start tag back, modified, with the same meaning. It
    /// puts a space between attributes, which turns `<a href=x b/="c>` (an attribute `b`, then
    /// one named `="c`) into `<a href=y b ="c>`: `b` then takes a value that swallows the rest
    /// of the page. Only malformed HTML has an attribute name starting with `=`; such a tag is
    /// left as it is.
    faithful: bool,
}

impl<const N: usize> Attrs<N> {
    /// `names` in ASCII lowercase.
    fn read(el: &Element<'_, '_>, names: [&str; N]) -> Self {
        let mut values = [const { None }; N];
        let mut faithful = true;
        for attr in el.attributes() {
            let name = attr.name();
            faithful &= !name.starts_with('=');
            if let Some(i) = names.iter().position(|n| *n == name)
                && values[i].is_none()
            {
                values[i] = Some(attr.value());
            }
        }
        Self { values, faithful }
    }
}

/// Puts the script client's element first into the page's `<head>` (or `<body>`, when the page
/// names no head), once.
fn place_script(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let script = {
        let mut state = shared.borrow_mut();
        if !is_html(el) || state.forms.in_template() {
            return Ok(());
        }
        state.script.take()
    };
    if let Some(script) = script {
        el.prepend(&script, ContentType::Html);
    }
    Ok(())
}

fn on_base(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    // A base in a template's contents is no base of the document's. One in what lol_html
    // takes for foreign content may or may not be: after nested `<svg>`s, a `<p>` breaks out
    // of foreign content in the tree builder and lol_html does not follow, so it may be the
    // document's; or it is an SVG element, and a later `<base>` is the document's
    // (`<svg><base href=/a/><table><base href=//evil.example/>`: `<table>` leaves the `<svg>`).
    // So it is judged as a base, and leaves the first-base slot to the next one.
    if state.forms.in_template() {
        return Ok(());
    }
    let Attrs { values: [href], .. } = Attrs::read(el, ["href"]);
    let Some(href) = href else {
        return Ok(());
    };
    // An empty or unparsable base leaves the page's URL, as in a browser.
    let base = state
        .policy
        .resolve(&decode_entities(&href), state.policy.page())
        .unwrap_or_else(|| state.policy.page().clone());
    let own = state.policy.is_own(&base);
    let foreign = !is_html(el);
    if (state.relied_on_base || foreign) && !own {
        // The first base applies to every URL of the document, also the ones already sent:
        // this one would take their tokens to another site.
        tracing::debug!(
            "a late <base href> would send earlier tokens elsewhere; its href is removed"
        );
        el.remove_attribute("href");
        return Ok(());
    }
    if !state.base_seen {
        state.base_seen = !foreign;
        state.base = base;
    }
    Ok(())
}

/// `<template>` and `<select>`: where a form may not get the token.
fn on_container(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let template = el.tag_name() == "template";
    let html = is_html(el);
    let mut state = shared.borrow_mut();
    readings::form_state_unsure(&mut state);
    // Selects in any namespace: lol_html's view of foreign content is not every tree builder's.
    let inside_select = state.selects_open > 0;
    if !template {
        state.selects_open += 1;
    }
    if html {
        if template {
            state.forms.template_opened();
        } else {
            state.forms.select_opened();
        }
    } else if template {
        return Ok(());
    }
    let shared = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let mut state = shared.borrow_mut();
        readings::form_state_unsure(&mut state);
        let own = if template { "template" } else { "select" };
        let by_own_end_tag = end.name().eq_ignore_ascii_case(own);
        // lol_html closes a `<select>` (or a `<template>` in one) at an ancestor's end tag
        // (`<div><select></div>`) or a `<template>` at `</select>`, where the "in select"
        // mode stays inside: the end tag goes in, so every reading leaves here (and the
        // selectors that watch inside a `<select>` see all a browser may read in one). Written
        // `</select >`, which reads the same, so that a reader of the page can tell it.
        if !by_own_end_tag && (!template || inside_select) {
            end.before(&format!("</{own} >"), ContentType::Html);
        }
        if template {
            state.forms.template_closed(by_own_end_tag);
        } else {
            state.selects_open = state.selects_open.saturating_sub(1);
            if html {
                state.forms.select_closed(by_own_end_tag);
            }
        }
        Ok(())
    }))
}

fn on_form(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    readings::form_state_unsure(&mut state);
    if !is_html(el) {
        // `<svg><form>` is no form; but lol_html's view of foreign content is not the tree
        // builder's in every case, and an HTML form here would set the pointer.
        state.forms.foreign_form_seen();
        return Ok(());
    }
    let (form, owns_next_input) = state.forms.form_started(el.can_have_content());
    if el.can_have_content() {
        let shared = Arc::clone(shared);
        el.on_end_tag(Box::new(move |end| {
            let by_form_end_tag = end.name().eq_ignore_ascii_case("form");
            let mut state = shared.borrow_mut();
            readings::form_state_unsure(&mut state);
            state.forms.form_ended(form, by_form_end_tag);
            Ok(())
        }))?;
    }
    let Attrs {
        values: [id, method, action],
        ..
    } = Attrs::read(el, ["id", "method", "action"]);
    let (id, method) = (keyword(id), keyword(method));
    if !owns_next_input || state.forms.id_tainted(id.as_deref()) {
        return Ok(());
    }
    let Some(token) = form_token(&mut state, method, action) else {
        return Ok(());
    };
    let input = token_input(&state.policy, &token);
    el.prepend(&input, ContentType::Html);
    state.forms.hold(form, input, id);
    Ok(())
}

/// The token for a form's hidden input: `None` when the form does not send it to this site
/// (by GET without `use_get`, or to another site's action).
fn form_token(state: &mut State, method: Option<String>, action: Option<String>) -> Option<String> {
    if state.tokens_stopped {
        return None;
    }
    let (token, relies_on_base) = form_token_at(&state.policy, &state.base, method, action)?;
    state.relied_on_base |= relies_on_base;
    Some(token)
}

fn on_form_child(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    if !el.can_have_content() {
        return Ok(());
    }
    let Some(form) = shared.borrow_mut().forms.child_started() else {
        return Ok(());
    };
    let shared = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let at_form_end_tag = end.name().eq_ignore_ascii_case("form");
        shared.borrow_mut().forms.child_ended(form, at_form_end_tag);
        Ok(())
    }))
}

/// Whether `el` (with this `type`) submits its form: `<button>` unless `type` is `button` or
/// `reset`, and `<input type=submit|image>`.
fn is_submitter(el: &Element<'_, '_>, kind: Option<&str>) -> bool {
    // Of the two HTML elements matched, `<input>` is the void one (no `tag_name()` String).
    if el.can_have_content() {
        !kind.is_some_and(|t| t.eq_ignore_ascii_case("button") || t.eq_ignore_ascii_case("reset"))
    } else {
        // Matched trimmed: judging ` submit` a submitter costs nothing if it is not one.
        kind.is_some_and(|t| {
            let t = t.trim();
            t.eq_ignore_ascii_case("submit") || t.eq_ignore_ascii_case("image")
        })
    }
}

/// Judged in any namespace, like `<base>`: lol_html's view of foreign content is not the tree
/// builder's, and taking an inert SVG element for a submitter only costs a token.
fn on_submitter(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [kind, formaction, formmethod, owner],
        ..
    } = Attrs::read(el, ["type", "formaction", "formmethod", "form"]);
    if !is_submitter(el, keyword(kind).as_deref()) {
        return Ok(());
    }
    let mut state = shared.borrow_mut();
    let action_elsewhere = match formaction {
        None => false,
        Some(raw) => match decode_entities(&raw) {
            target if target.trim().is_empty() || sends_nothing(&target) => false,
            target => {
                let own = state.policy.is_same_origin(&target, &state.base);
                if own {
                    state.token_placed_in(&target);
                }
                !own
            }
        },
    };
    // `formmethod` overrides the form's method; any value but `post` and `dialog` is GET,
    // which puts the form's token into a URL.
    let into_url = !state.policy.use_get()
        && keyword(formmethod)
            .is_some_and(|m| !(m.eq_ignore_ascii_case("post") || m.eq_ignore_ascii_case("dialog")));
    if action_elsewhere || into_url {
        state
            .forms
            .submitter_sends_elsewhere(keyword(owner).as_deref());
    }
    Ok(())
}

/// Puts the token into the URL attribute `name` (with value `raw`), when it stays on this site.
fn rewrite_url_attribute(
    state: &mut State,
    el: &mut Element<'_, '_>,
    name: &str,
    raw: Option<String>,
) -> HandlerResult {
    let places = state.policy.use_get() && !state.tokens_stopped && state.in_foreign_text == 0;
    let Some(raw) = raw.filter(|_| places) else {
        return Ok(());
    };
    // A NUL is U+FFFD to a browser's tokenizer and stays a NUL in lol_html's value: written
    // back with the token, the link would point elsewhere. (The plain path declines NULs.)
    if raw.contains('\0') {
        return Ok(());
    }
    let url = decode_entities(&raw);
    if let Some(with_token) = state.policy.add_token(&url, &state.base) {
        state.token_placed_in(&url);
        el.set_attribute(name, &encode_attribute(&with_token))?;
    }
    Ok(())
}

/// Whether a referrer policy keyword (raw, as in the page) is weaker than the safe ones.
fn is_weak_referrer_policy(raw: Option<String>) -> bool {
    keyword(raw).is_some_and(|p| !is_safe_referrer_policy(&p))
}

/// An element-level `referrerpolicy` weaker than the safe ones would send the page's URL,
/// token and all, to other sites: it goes, and the response's `Referrer-Policy` applies.
fn drop_weak_referrer_policy(el: &mut Element<'_, '_>, policy: Option<String>) {
    if is_weak_referrer_policy(policy) {
        tracing::debug!("a weak referrerpolicy attribute was removed");
        el.remove_attribute("referrerpolicy");
    }
}

fn on_link(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy, ping, href, xlink_href],
        faithful,
    } = Attrs::read(el, ["referrerpolicy", "ping", "href", "xlink:href"]);
    if !faithful {
        return Ok(());
    }
    drop_weak_referrer_policy(el, policy);
    let html = is_html(el);
    // In SVG only `<a>` is a link.
    if !html && el.tag_name() != "a" {
        return Ok(());
    }
    let mut state = shared.borrow_mut();
    // A ping tells its target the link's URL (`Ping-To`) and, from an http page, the page's
    // own URL (`Ping-From`): either may hold a token, so pings to other sites go.
    if let Some(ping) = ping {
        let stays = decode_entities(&ping)
            .split_ascii_whitespace()
            .all(|target| state.policy.is_same_origin(target, &state.base));
        if !stays {
            tracing::debug!("a ping to another site was removed");
            el.remove_attribute("ping");
        } else if ping.split_ascii_whitespace().any(|t| !has_scheme(t)) {
            state.relied_on_base = true;
        }
    }
    // SVG 2 links use `href`, older ones `xlink:href`; `href` wins when both are there.
    if html || href.is_some() {
        rewrite_url_attribute(&mut state, el, "href", href)
    } else {
        rewrite_url_attribute(&mut state, el, "xlink:href", xlink_href)
    }
}

fn on_frame(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy, src, srcdoc],
        faithful,
    } = Attrs::read(el, ["referrerpolicy", "src", "srcdoc"]);
    if !faithful {
        return Ok(());
    }
    drop_weak_referrer_policy(el, policy);
    if !is_html(el) {
        return Ok(());
    }
    if srcdoc.is_some_and(|doc| may_set_referrer_policy(&doc)) {
        tracing::debug!("an iframe srcdoc that may weaken the referrer policy was removed");
        el.remove_attribute("srcdoc");
    }
    rewrite_url_attribute(&mut shared.borrow_mut(), el, "src", src)
}

/// Whether an iframe's `srcdoc` document (raw, as in the page) may set its own referrer
/// policy: such a document sends the page's URL, token and all, as its `Referer`, and a
/// `<meta name=referrer>` or `referrerpolicy` in it would send that to other sites. It is
/// not rewritten: one that mentions a referrer policy, holds a nested `srcdoc`, or still has
/// character references after decoding (which could spell either) goes.
fn may_set_referrer_policy(raw: &str) -> bool {
    let doc = decode_entities(raw).to_ascii_lowercase();
    doc.contains('&') || doc.contains("referrer") || doc.contains("srcdoc")
}

fn on_referrer_only(_: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy],
        faithful,
    } = Attrs::read(el, ["referrerpolicy"]);
    if faithful {
        drop_weak_referrer_policy(el, policy);
    }
    Ok(())
}

fn on_meta(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [name, http_equiv, content],
        faithful,
    } = Attrs::read(el, ["name", "http-equiv", "content"]);
    if !faithful {
        return Ok(());
    }
    let (name, http_equiv) = (keyword(name), keyword(http_equiv));
    let matches = |attr: &Option<String>, value: &str| {
        attr.as_deref()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    if matches(&name, "referrer") || matches(&http_equiv, "referrer-policy") {
        // A weak document policy would send the page's URL, token and all, elsewhere. Judged
        // in any namespace: `<svg><meta>` breaks out of foreign content in the tree builder and
        // is an HTML `<meta>` after all, which lol_html does not know.
        if content.is_some() && is_weak_referrer_policy(content) {
            tracing::debug!("a weak <meta name=referrer> lost its content");
            el.remove_attribute("content");
        }
        return Ok(());
    }
    // A refresh in what lol_html takes for foreign content gets no token (failing closed).
    if !is_html(el) || !matches(&http_equiv, "refresh") {
        return Ok(());
    }
    // A NUL would be written back where a browser reads U+FFFD (see `rewrite_url_attribute`).
    let Some(content) = content.filter(|content| !content.contains('\0')) else {
        return Ok(());
    };
    let content = decode_entities(&content);
    let Some(refresh) = Refresh::parse(&content) else {
        return Ok(());
    };
    let mut state = shared.borrow_mut();
    if !state.policy.use_get() || state.tokens_stopped || state.in_foreign_text > 0 {
        return Ok(());
    }
    if let Some(url) = state.policy.add_token(refresh.url, &state.base) {
        state.token_placed_in(refresh.url);
        let content = format!("{}{url}{}", refresh.before, refresh.after);
        el.set_attribute("content", &encode_attribute(&content))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "<script src=//h/s.js></script>";

    #[test]
    fn a_rewriter_can_move_between_threads_with_its_response_body() {
        let policy = LinkPolicy::new("https://h/p", &[], "sessionid", "T")
            .unwrap()
            .bound_to_paths(Arc::new(|path: &str| Some(format!("T{path}"))));
        let mut rewriter = TokenRewriter::new(policy, encoding_rs::UTF_8).unwrap();
        let first = rewriter.write(b"<a href=/a>a</a>");
        let rest = std::thread::spawn(move || {
            let mut out = rewriter.write(b"<a href=/b>b</a>");
            out.extend(rewriter.end());
            out
        })
        .join()
        .unwrap();
        let page = String::from_utf8([first, rest].concat()).unwrap();
        assert_eq!(
            page,
            r#"<a href="/a?sessionid=T/a">a</a><a href="/b?sessionid=T/b">b</a>"#
        );
    }

    fn with_script(page: &str, whole: bool) -> String {
        let policy = LinkPolicy::new("https://h/p", &[], "sessionid", "T").unwrap();
        let document = whole.then_some(page.as_bytes());
        let mut rewriter = TokenRewriter::with_script(
            policy.with_use_get(false),
            encoding_rs::UTF_8,
            document,
            Some(TAG.to_owned()),
        )
        .unwrap();
        let mut out = rewriter.write(page.as_bytes());
        out.extend(rewriter.end());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_script_goes_first_into_the_head_else_the_body_else_the_end_once() {
        let cases = [
            (
                "<html><head><title>t</title></head><body><head></head></body>",
                "<html><head><script src=//h/s.js></script><title>t</title></head><body><head></head></body>",
            ),
            (
                "<body><p>x</body>",
                "<body><script src=//h/s.js></script><p>x</body>",
            ),
            ("<p>fragment", "<p>fragment<script src=//h/s.js></script>"),
            ("", "<script src=//h/s.js></script>"),
            (
                "<template><head></head></template><body>",
                "<template><head></head></template><body><script src=//h/s.js></script>",
            ),
        ];
        for (page, expected) in cases {
            for whole in [false, true] {
                assert_eq!(
                    with_script(page, whole),
                    expected,
                    "{page:?}, whole: {whole}"
                );
            }
        }
    }
}
