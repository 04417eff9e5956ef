//! The streaming HTML rewriter: chunks in, rewritten chunks out, memory bounded. This module
//! drives lol_html and holds the state its handlers share; the handlers live by role:
//! `document` (base, templates and selects, the script client), `forms`, `links` (and what
//! could send the page's URL elsewhere), `readings` (where browsers read a page otherwise than
//! lol_html). The rules they share with the plain path are in `rewrite/rules.rs`.

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
    forms::Forms,
    misread_tags::MisreadTags,
    plain,
    policy::{LinkPolicy, has_scheme},
    prescan::Present,
    rules::{MAX_FORM_HOLD, MAX_UNREAD_REST, mentions_leaky_words},
};

mod document;
mod forms;
mod links;
mod marks;
mod readings;

use document::{on_base, on_container, on_select_closer, place_script};
use forms::{on_form, on_form_child, on_submitter};
use links::{on_frame, on_link, on_meta, on_referrer_only};
use marks::Marks;

/// lol_html's own buffers (a tag split across chunks, and the like) may not grow past this;
/// beyond it the rest of the page passes through untouched.
const MAX_PARSER_MEMORY: usize = 1024 * 1024;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The selectors, in handler order: the first five always, the rest with `use_get`.
///
/// They name elements only: the handlers check the attributes themselves, which costs less
/// than making lol_html's selector engine match on attributes (measured: 5-9% faster with links).
/// A document known whole keeps only those whose elements it may have ([`NEEDED`]).
const SELECTOR_TEXTS: [&str; 10] = [
    "base",
    "template, select",
    // Start tags some reading takes out of a `<select>` where lol_html stays in it.
    "select table, select caption, select tbody, select tfoot, select thead, select tr, \
     select td, select th, select input, select keygen, select textarea",
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
const FORM_SELECTOR_COUNT: usize = 6;

/// Whether a document with these elements needs each selector. Without a `<form>`, no
/// submitter, form child or form needs judging: no form gets the token.
const NEEDED: [fn(&Present) -> bool; 10] = [
    |p| p.base,
    |p| p.containers,
    |p| p.containers,
    |p| p.forms,
    |p| p.forms,
    |p| p.forms,
    |p| p.links,
    |p| p.frames,
    |p| p.meta,
    |p| p.referrer_policies,
];

static SELECTORS: LazyLock<[Selector; 10]> =
    LazyLock::new(|| SELECTOR_TEXTS.map(|s| s.parse::<Selector>().expect("static selector")));

static HEAD_OR_BODY: LazyLock<Selector> =
    LazyLock::new(|| "head, body".parse().expect("static selector"));

/// What the handlers share with the rewriter and with each other.
struct State {
    policy: LinkPolicy,
    /// Where the stream holds byte order marks, which lol_html misreads at a value's start.
    marks: Marks,
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
    /// Of those, the ones some browser may read as HTML `<select>` elements: HTML ones, and
    /// foreign ones opened where lol_html's foreign content may not be a browser's.
    selects_maybe_html: usize,
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
    /// Elements named as integration points open inside foreign content
    /// (`readings::on_integration_point_name`).
    integration_points_open: usize,
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
    /// Held text the page never closed, judged inert at its end, to go back before what
    /// lol_html flushes there (`readings::at_end`).
    held_at_end: Option<String>,
    /// A start tag lol_html misreads was seen (`misread_tags`): the text types lol_html gives
    /// after it are its tree builder's, not its tokenizer's, so no text is held from there on.
    misread_seen: bool,
    /// A CDATA section's text, held until the section ends.
    cdata: Option<String>,
    in_cdata: bool,
}

impl State {
    /// Where lol_html's output goes: the page's, or the rest held since the view was lost.
    fn output(&mut self) -> &mut Vec<u8> {
        if self.view_lost {
            &mut self.rest
        } else {
            self.forms.output()
        }
    }

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
    /// Follows the stream for a start tag lol_html misreads: from there on, no token.
    misread_tags: MisreadTags,
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

    /// The plain path only: `None` for a page it leaves to lol_html (for differential tests
    /// and fuzzing; feature `testing`, not a stable API).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn rewrite_plain_document(policy: &LinkPolicy, document: &[u8]) -> Option<Vec<u8>> {
        plain::rewrite(document, policy)
    }

    /// The full rewriter only, for a document held whole (the plain path's oracle in
    /// differential tests; feature `testing`, not a stable API).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
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
        const HANDLERS: [Handler; 10] = [
            on_base,
            on_container,
            on_select_closer,
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
            marks: Marks::default(),
            base_seen: false,
            relied_on_base: false,
            forms: Forms::new(MAX_FORM_HOLD).with_reopened_after(present.forms_reopened_after()),
            script,
            selects_open: 0,
            selects_maybe_html: 0,
            tokens_stopped: false,
            view_lost: false,
            rest: Vec::new(),
            rest_dropped: false,
            foreign_unsure: false,
            integration_points_open: 0,
            foreign_open: 0,
            in_foreign_text: 0,
            held: None,
            in_held: false,
            misread_seen: false,
            held_at_end: None,
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
        if let Some((on_elements, at_end)) = readings::handlers(&state, &present) {
            watched += 1;
            settings = settings.append_element_content_handler(on_elements);
            settings = settings.append_document_content_handler(at_end);
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
            // A document scanned without such a tag need not be followed again.
            misread_tags: MisreadTags::following(present.misread_tags),
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
                {
                    let mut state = self.state.borrow_mut();
                    state.forms.output().reserve(chunk.len() + chunk.len() / 4);
                    state.marks.see(chunk);
                }
                // A tag lol_html misreads: what comes before it is read as it is; from its `>`
                // on, no token. Cut at the same place however the page is chunked.
                let mut unwritten: &[u8] = &[];
                let written = match self.misread_tags.see(chunk) {
                    Some(at) => rewriter.write(&chunk[..at]).map_or_else(
                        |err| {
                            // Never given to lol_html: it passes through below.
                            unwritten = &chunk[at..];
                            Err(err)
                        },
                        |()| {
                            let mut state = self.state.borrow_mut();
                            state.misread_seen = true;
                            readings::reading_parts(
                                &mut state,
                                "lol_html misreads a text element's start tag",
                            );
                            drop(state);
                            rewriter.write(&chunk[at..])
                        },
                    ),
                    None => rewriter.write(chunk),
                };
                if let Err(err) = written {
                    // At its memory bound lol_html bails out gracefully: it flushed what it had,
                    // raw; from here on, everything passes through, and no submitter further on
                    // can be judged. Any other error is a handler's fault (lol_html writes no
                    // more of that chunk), which no handler here returns.
                    if matches!(
                        err,
                        lol_html::errors::RewritingError::MemoryLimitExceeded(_)
                    ) {
                        tracing::warn!(error = %err, "HTML rewriting stopped; the rest of the page passes through");
                    } else {
                        tracing::error!(error = %err, "HTML rewriting failed; the rest of this chunk was lost, and the rest of the page passes through");
                    }
                    self.rewriter = None;
                    self.gave_up = true;
                    let mut state = self.state.borrow_mut();
                    state.forms.strip_all();
                    let mut out = state.forms.take_all();
                    out.extend_from_slice(unwritten);
                    return out;
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
        if let Some(rewriter) = self.rewriter.take() {
            // Where lol_html's last output starts: what it held back (a tag cut by the end).
            let flushed_from = self.state.borrow_mut().output().len();
            let ended = rewriter.end();
            let mut state = self.state.borrow_mut();
            if let Err(err) = ended {
                tracing::warn!(error = %err, "HTML rewriting failed at the end of the page");
                // Taking tokens out moves what follows them: the held text is not put back.
                state.forms.strip_all();
                state.held_at_end = None;
            }
            if let Some(text) = state.held_at_end.take()
                && !state.rest_dropped
            {
                let output = state.output();
                output.splice(flushed_from..flushed_from, text.into_bytes());
            }
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

/// Writes `el`'s start tag anew with `attributes` alone (such as ` form=""`, or none), its name
/// and self-closing flag kept: for a tag lol_html cannot write back with its attributes
/// ([`Attrs`]'s `faithful`) that must lose some. The element stays, so the tree around it is
/// built as before: taking `<a ping/=x>` out (content kept) let a later `<a>` close other
/// elements than it did (`rewrite_html`).
fn write_bare(el: &mut Element<'_, '_>, attributes: &str) {
    let slash = if el.is_self_closing() { "/" } else { "" };
    let tag = format!("<{}{attributes}{slash}>", el.tag_name());
    el.start_tag().replace(&tag, ContentType::Html);
}

/// The attributes a handler reads, in one pass over the tag.
///
/// lol_html's `get_attribute` allocates the lowercased name on every call, found or not; a
/// link handler asking for four attributes paid that four times over. Here each attribute's
/// name is built once, and a value only for the attributes asked for.
struct Attrs<const N: usize> {
    /// The first value of each name asked for (a browser ignores later duplicates); one that
    /// lol_html misread is [`MISREAD`].
    values: [Option<String>; N],
    /// Whether lol_html can write this start tag back, modified, with the same meaning. It
    /// puts a space between attributes, which turns `<a href=x b/="c>` (an attribute `b`, then
    /// one named `="c`) into `<a href=y b ="c>`: `b` then takes a value that swallows the rest
    /// of the page. Only malformed HTML has an attribute name starting with `=`; such a tag is
    /// left as it is.
    faithful: bool,
    /// The values (by their index in `names`) that lol_html may have misread ([`misread`]).
    misread: [bool; N],
}

/// What a value lol_html misread stands for: it begins with a byte order mark ([`marks`]),
/// which a browser reads as characters of the page (U+FEFF, U+FFFD in a UTF-8 page), so its
/// value starts with a character no keyword, scheme or host starts with. As a keyword it is an
/// invalid value (a `<button>` of this type submits, a `method` is GET), as an `action` a path
/// on this site. A handler that would write such a value back, or that cannot judge what
/// follows the mark (a `ping` list, a `srcdoc` document, a form's `id` and a submitter's
/// `form`, which may name any form), leaves it, drops it or fails closed.
const MISREAD: &str = "\u{FFFD}";

impl<const N: usize> Attrs<N> {
    /// `names` in ASCII lowercase; `marks`, the stream's byte order marks so far.
    fn read(el: &Element<'_, '_>, names: [&str; N], marks: &Marks) -> Self {
        let mut values = [const { None }; N];
        let mut misread = [false; N];
        let mut faithful = true;
        for attr in el.attributes() {
            let name = attr.name();
            faithful &= !name.starts_with('=');
            // lol_html drops a mark at a name's start too (`<form \u{FEFF}method=post>`
            // reads `method` to it): to a browser that is another attribute, and the form's
            // method is GET (`rewrite_html` with the dictionary, seed 45).
            if attr
                .name_source_location()
                .is_some_and(|name| marks.starts_at(name.bytes().start))
            {
                continue;
            }
            if let Some(i) = names.iter().position(|n| *n == name)
                && values[i].is_none()
            {
                // No location: no value in the source (`<a href>`), or one a handler wrote.
                misread[i] = attr
                    .value_source_location()
                    .is_some_and(|value| marks.starts_at(value.bytes().start));
                values[i] = Some(if misread[i] {
                    MISREAD.to_owned()
                } else {
                    attr.value()
                });
            }
        }
        Self {
            values,
            faithful,
            misread,
        }
    }
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
