//! The fast path for a plain page held whole: one pass over its bytes, without lol_html.
//!
//! lol_html costs most where the rewriter needs it least: once any element handler exists, it
//! lexes every tag into an element and runs its selector program on it (BENCHMARKS.md, "The
//! wall inside lol_html"), some 20 µs on a 5 KB page before the rewriter does anything. Most
//! pages are plain: links, a form or two, scripts, styles, comments. This module tokenizes such
//! a page as the WHATWG tokenizer does and gives up (`None`: the caller runs the full
//! rewriter) at the first thing outside that subset: SVG with anything but drawing elements
//! inside ([`SVG_ELEMENTS`]), MathML, a template holding a form or closed by another end tag,
//! `<base>`, frames with `use_get`, `<meta name=referrer>` and `http-equiv=referrer-policy`,
//! pings, referrer policies, controls naming a form, an action or a method, script data that
//! may enter the double-escaped state (`<!--`, then `<script`), text some browser reads as
//! markup that is not inert as markup (`rules.rs`), a `<select>` closed by another element's
//! end tag, `<svg>` after a `<select>`, markup a tokenizer reports as an error, a byte order
//! mark, a NUL, a document that is not UTF-8, a form whose token the full rewriter would take
//! back at its hold limit. It follows the same rules as the full rewriter: both take them from
//! `rules.rs`.
//!
//! On every page it accepts, its output is the full rewriter's, byte for byte: it keeps the
//! element stack lol_html keeps (for which form an end tag closes, and which form outputs the
//! full rewriter still holds), and writes a changed tag back the way lol_html does.
//! `tests/plain_page.rs` holds it to that on generated pages, the bench's page and the rewrite
//! table, and the html5ever judge of `tests/fuzz_properties.rs` runs on its output; the full
//! rewriter is itself judged by html5ever and Chromium.

use std::{cell::Cell, ops::Range, sync::LazyLock};

use memchr::{memchr, memmem};
use url::Url;

use super::{
    attribute::decode_entities,
    misread_tags::{misread_at, spend_on_tag_read_right},
    policy::LinkPolicy,
    prescan::has_redirecting_submitter,
    rules::{
        HeldText, MAX_FORM_HOLD, MAX_HELD_TEXT, Meta, form_token_at, inert_as_markup, keyword,
        token_input,
    },
    tokenizer::{Attr, Tag, closes, markup_declaration, next_lt, parse_tag},
};

/// `<!--`, searched for in every script (built once).
static SCRIPT_COMMENT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("<!--"));

/// Deeper than this, lol_html may run into its memory limit and give up: not plain.
const MAX_DEPTH: usize = 512;

/// `document` rewritten as the full rewriter would, or `None` when it is not plain.
pub(super) fn rewrite(document: &[u8], policy: &LinkPolicy) -> Option<Vec<u8>> {
    let use_get = policy.use_get();
    // A byte order mark may name another encoding; a NUL is a tokenizer error; values are
    // read as UTF-8, as lol_html reads them for a UTF-8 page.
    if matches!(document.first(), Some(0xEF | 0xFE | 0xFF)) || memchr(0, document).is_some() {
        return None;
    }
    let text = std::str::from_utf8(document).ok()?;
    let mut page = Plain {
        doc: document,
        text,
        starts_with_a_mark: Cell::new(false),
        policy,
        use_get,
        // Links grow a page most (cloudflare.com by 18%): room for that without a `realloc`.
        out: Vec::with_capacity(document.len() + document.len() / if use_get { 4 } else { 16 }),
        copied: 0,
        attrs: Vec::with_capacity(8),
        stack: Vec::with_capacity(32),
        pointer: Pointer::Null,
        next_form: 0,
        selects_open: 0,
        select_seen: false,
        templates_open: 0,
        svg_open: Vec::new(),
        holds: Vec::new(),
        url: String::new(),
        misread_budget: document.len(),
    };
    page.run()?;
    Some(page.out)
}

/// An element on lol_html's stack: its name, and what the full rewriter follows it for.
struct Open {
    name: Range<usize>,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    /// A form's number, and its index in `holds` when it got the token.
    Form(u32, Option<usize>),
    Select,
    Template,
    Other,
}

/// A form with the token, as the full rewriter holds its output: from where its start tag is
/// written until it is released. A form whose output is still held more than
/// [`MAX_FORM_HOLD`] bytes before the end loses its token there: such a page is not plain.
struct Hold {
    /// Where its start tag is in the output.
    from: usize,
    /// Never released: it has an `id` (a `form=` control may come anywhere), or a form began
    /// inside it (whose `</form>` leaves its child open at close).
    pinned: bool,
    /// Closed by its own `</form>` with nothing left open inside it.
    released: bool,
}

/// The tree builder's form element pointer as the full rewriter follows it (`forms.rs`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pointer {
    Null,
    Set(u32),
    Unknown,
}

struct Plain<'a> {
    doc: &'a [u8],
    /// The same document as text (validated once; values are sliced from it, not re-checked).
    text: &'a str,
    /// A value read starts with a byte order mark (U+FEFF), which lol_html misreads
    /// (`html/mod.rs`, `MISREAD`): not plain.
    starts_with_a_mark: Cell<bool>,
    policy: &'a LinkPolicy,
    use_get: bool,
    out: Vec<u8>,
    /// The document up to here is in `out`.
    copied: usize,
    /// The current tag's attributes (kept to reuse the allocation).
    attrs: Vec<Attr>,
    stack: Vec<Open>,
    pointer: Pointer,
    next_form: u32,
    /// `<select>` elements open (`forms.rs`: no form gets the token inside a select; a page
    /// that closes one by another element's end tag is not plain).
    selects_open: usize,
    /// A `<select>` start tag was seen: text the "in select" mode reads as markup is judged.
    select_seen: bool,
    /// `<template>` elements open.
    templates_open: usize,
    /// The elements open inside the current `<svg>` (kept to reuse the allocation).
    svg_open: Vec<Range<usize>>,
    /// The forms that got the token, whose output the full rewriter holds (`forms.rs`).
    holds: Vec<Hold>,
    /// A link's URL with the token (kept to reuse the allocation).
    url: String,
    /// What [`misread_at`] may still look at, as the full rewriter's prescan spends it.
    misread_budget: usize,
}

/// The SVG elements the plain path takes inside `<svg>` (ASCII case-insensitive): what icons
/// and drawings (railroad diagrams: links too) are made of. Nothing else the full rewriter
/// judges (forms, frames, text elements other than `<title>` and `<desc>`, `<foreignObject>`,
/// nested `<svg>` or `<math>`) nor any HTML element, which may take a tree builder out of
/// foreign content.
const SVG_ELEMENTS: [&[u8]; 25] = [
    b"a",
    b"path",
    b"g",
    b"circle",
    b"ellipse",
    b"line",
    b"polyline",
    b"polygon",
    b"rect",
    b"defs",
    b"symbol",
    b"use",
    b"lineargradient",
    b"radialgradient",
    b"stop",
    b"clippath",
    b"mask",
    b"pattern",
    b"filter",
    b"fegaussianblur",
    b"feoffset",
    b"text",
    b"tspan",
    b"title",
    b"desc",
];

/// Whether `script_data` holds `<script` followed by what ends a tag name (whitespace, `/`,
/// `>`): in the escaped states, the start of the double-escaped state (WHATWG "script data
/// double escape start state"). Also where a `-->` left the escaped states first: a script
/// judged not plain that could have been costs only speed.
fn starts_a_script(script_data: &[u8]) -> bool {
    memchr::memchr_iter(b'<', script_data).any(|lt| {
        let name = lt + 1..lt + 7;
        script_data
            .get(name)
            .is_some_and(|n| n.eq_ignore_ascii_case(b"script"))
            && script_data
                .get(lt + 7)
                .is_some_and(|&b| matches!(b, b'\t' | b'\n' | b'\x0C' | b' ' | b'/' | b'>'))
    })
}

/// What an element is to the plain path, from its name (ASCII case-insensitive).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Form,
    Select,
    /// `<a>`, and `<area>` (void).
    Link {
        void: bool,
    },
    Meta,
    Svg,
    Template,
    /// Raw text too, when frames are not judged (without `use_get`).
    Iframe,
    /// Its content is text up to its own end tag, for lol_html (script data, raw text,
    /// RCDATA; `<noscript>` as with scripting on).
    Text(&'static [u8]),
    /// lol_html's void elements: never on its stack.
    Void,
    /// The full rewriter judges pages with these.
    NotPlain,
    Other,
}

fn role(name: &[u8]) -> Role {
    // No name this matches is longer than 9 bytes.
    if name.len() > 9 {
        return Role::Other;
    }
    // A byte loop, not `copy_from_slice`: that is a `memcpy` call on every tag.
    let mut buffer = [0u8; 9];
    for (lower, byte) in buffer.iter_mut().zip(name) {
        *lower = byte.to_ascii_lowercase();
    }
    match &buffer[..name.len()] {
        b"a" => Role::Link { void: false },
        b"area" => Role::Link { void: true },
        b"form" => Role::Form,
        b"select" => Role::Select,
        b"meta" => Role::Meta,
        b"svg" => Role::Svg,
        b"iframe" => Role::Iframe,
        b"script" => Role::Text(b"script"),
        b"style" => Role::Text(b"style"),
        b"title" => Role::Text(b"title"),
        b"textarea" => Role::Text(b"textarea"),
        b"noscript" => Role::Text(b"noscript"),
        b"noembed" => Role::Text(b"noembed"),
        b"noframes" => Role::Text(b"noframes"),
        b"xmp" => Role::Text(b"xmp"),
        b"template" => Role::Template,
        b"base" | b"math" | b"frame" | b"frameset" | b"plaintext" => Role::NotPlain,
        b"basefont" | b"bgsound" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input"
        | b"keygen" | b"link" | b"param" | b"source" | b"track" | b"wbr" => Role::Void,
        _ => Role::Other,
    }
}

/// The start tags some reading takes out of an open `<select>`: `<input>`, `<keygen>` and
/// `<textarea>` in the "in select" mode, table parts in the relaxed parser.
fn closes_a_select(name: &[u8]) -> bool {
    [
        &b"table"[..],
        b"caption",
        b"tbody",
        b"tfoot",
        b"thead",
        b"tr",
        b"td",
        b"th",
        b"input",
        b"keygen",
        b"textarea",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

/// Attributes whose handling is not plain, on any element: controls naming a form, an action
/// or a method; pings; referrer policies.
#[inline]
fn is_plain_attribute(name: &[u8]) -> bool {
    !(matches!(name.len(), 4 | 10 | 14)
        && [
            &b"form"[..],
            b"formaction",
            b"formmethod",
            b"ping",
            b"referrerpolicy",
        ]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n)))
}

impl<'a> Plain<'a> {
    fn run(&mut self) -> Option<()> {
        let doc = self.doc;
        let mut at = 0;
        while let Some(lt) = next_lt(doc, at) {
            at = match *doc.get(lt + 1)? {
                b'a'..=b'z' | b'A'..=b'Z' => self.start_tag(lt)?,
                b'/' => self.end_tag(lt)?,
                b'!' => self.unread(lt, markup_declaration(doc, lt)?)?,
                // `<?xml ...?>` (XHTML's declaration): a bogus comment up to the first `>`,
                // to every tokenizer.
                b'?' => self.unread(lt, lt + memchr(b'>', &doc[lt..])? + 1)?,
                // `<` that starts no tag is text (and no tag lol_html could misread).
                _ => lt + 1,
            };
        }
        self.out.extend_from_slice(&doc[self.copied..]);
        // Past its hold limit the full rewriter takes a held form's token back out.
        let end = self.out.len();
        let past_limit = |hold: &&Hold| end - hold.from > MAX_FORM_HOLD;
        // It holds every form to the end where the page names `formaction` or `formmethod`
        // anywhere (`forms.rs`); looked for only where that could matter.
        let stripped = self
            .holds
            .iter()
            .filter(past_limit)
            .any(|hold| !hold.released)
            || self.holds.iter().any(|hold| past_limit(&hold))
                && has_redirecting_submitter(self.doc);
        (!stripped && !self.starts_with_a_mark.get()).then_some(())
    }

    fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs
            .iter()
            .find(|a| self.doc[a.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The first value of `name`, as lol_html gives it (raw).
    fn raw_value(&self, name: &str) -> Option<&'a str> {
        let text: &'a str = self.text;
        let attr = self.attr(name)?;
        // A value starts and ends next to an ASCII byte: always on a character boundary.
        let value = attr.value.clone().map_or(Some(""), |v| text.get(v))?;
        if value.starts_with('\u{FEFF}') {
            self.starts_with_a_mark.set(true);
        }
        Some(value)
    }

    fn value(&self, name: &str) -> Option<String> {
        self.raw_value(name).map(str::to_owned)
    }

    /// The start tag at `lt`, its attributes in `attrs`; `None` when it is not plain (a
    /// tokenizer error, or an attribute the full rewriter judges).
    #[inline(always)]
    fn plain_start_tag(&mut self, lt: usize) -> Option<Tag> {
        let doc = self.doc;
        let tag = parse_tag(doc, lt + 1, &mut self.attrs)?;
        // A loop, not `Iterator::all`: that stayed a call on every tag.
        for attr in &self.attrs {
            if !is_plain_attribute(&doc[attr.name.clone()]) {
                return None;
            }
        }
        if tag.lt_in_values {
            self.unread(lt, tag.end)?;
        }
        Some(tag)
    }

    /// `None` where the `<` at `lt` starts a text element's start tag lol_html misreads
    /// (`misread_tags`), read from there whatever the context. The full rewriter's prescan
    /// asks this of every `<` of the page, and stops tokens after the first such tag; the plain
    /// path asks it of every `<` it does not read as a tag itself ([`unread`](Self::unread)),
    /// and spends the same budget on each text element's start tag
    /// ([`spend_on_tag`](Self::spend_on_tag)): on a page with one, both give lol_html's
    /// output.
    fn not_misread(&mut self, lt: usize) -> Option<()> {
        (!misread_at(self.doc, lt, &mut self.misread_budget)).then_some(())
    }

    /// For a text element's start tag at `lt`, read right (`parse_tag` takes no tag lol_html
    /// misreads): the budget [`not_misread`](Self::not_misread) would spend, without
    /// following it byte by byte.
    fn spend_on_tag(&mut self, lt: usize, tag: &Tag) -> Option<()> {
        spend_on_tag_read_right(self.doc, lt, tag.end, &mut self.misread_budget).then_some(())
    }

    /// [`not_misread`](Self::not_misread) for every `<` after `lt` up to `end`, which the
    /// plain path reads as a comment, a declaration or attribute values; returns `end`.
    fn unread(&mut self, lt: usize, end: usize) -> Option<usize> {
        for inner in memchr::memchr_iter(b'<', &self.doc[lt + 1..end]) {
            self.not_misread(lt + 1 + inner)?;
        }
        Some(end)
    }

    /// Returns where scanning goes on.
    fn start_tag(&mut self, lt: usize) -> Option<usize> {
        let doc = self.doc;
        let tag = self.plain_start_tag(lt)?;
        let role = role(&doc[tag.name.clone()]);
        // Some reading takes these out of a select where lol_html stays in it: the full
        // rewriter is unsure from there where selects end (`html/document.rs`).
        if self.selects_open > 0 && closes_a_select(&doc[tag.name.clone()]) {
            return None;
        }
        let mut kind = Kind::Other;
        match role {
            Role::NotPlain => return None,
            // With `use_get` a frame's `src` and `srcdoc` are judged.
            Role::Iframe if self.use_get => return None,
            // SVG is foreign content: plain when it holds only the drawing elements of
            // [`SVG_ELEMENTS`], well nested, and not after a `<select>` (the "in select" mode
            // ignores it: the full rewriter stops tokens).
            Role::Svg if self.select_seen || tag.self_closing => return None,
            Role::Svg => return self.svg(&tag),
            // A template's contents are inert: its forms get no token and leave the form
            // element pointer alone (`forms.rs`), which the plain path does not follow.
            Role::Template if self.selects_open > 0 => return None,
            Role::Template => {
                self.templates_open += 1;
                kind = Kind::Template;
            }
            Role::Form if tag.self_closing || self.templates_open > 0 => return None,
            Role::Form => kind = self.form(lt, &tag),
            Role::Select => {
                self.selects_open += 1;
                self.select_seen = true;
                kind = Kind::Select;
            }
            Role::Link { .. } if self.use_get => self.link(lt, &tag, "href"),
            Role::Meta if self.use_get => self.meta(lt, &tag)?,
            _ => {}
        }
        if !matches!(role, Role::Void | Role::Meta | Role::Link { void: true }) {
            if self.stack.len() == MAX_DEPTH {
                return None;
            }
            self.stack.push(Open {
                name: tag.name.clone(),
                kind,
            });
        }
        let text = match role {
            Role::Text(text) => text,
            Role::Iframe => b"iframe",
            _ => return Some(tag.end),
        };
        self.spend_on_tag(lt, &tag)?;
        // Text that holds no tags, up to the end tag that closes it; each `<` in it is one the
        // plain path does not read as a tag.
        let mut at = tag.end;
        let end = loop {
            let inner = next_lt(doc, at)?;
            if closes(doc, inner, text) {
                break inner;
            }
            self.not_misread(inner)?;
            at = inner + 1;
        };
        let content = &doc[tag.end..end];
        // `<!--` in a script starts the escaped states. `</script>` ends the script there
        // too, unless a `<script` start took the tokenizer on into the double-escaped state,
        // where it does not: such a script is not plain.
        if text == b"script"
            && let Some(comment) = SCRIPT_COMMENT.find(content)
            && starts_a_script(&content[comment..])
        {
            return None;
        }
        // The full rewriter drops such text where some browser reads it as markup that could
        // act (`rules::HeldText`).
        if HeldText::of(text, self.selects_open > 0, false).is_some()
            && (content.len() > MAX_HELD_TEXT
                || self
                    .text
                    .get(tag.end..end)
                    .is_none_or(|text| !inert_as_markup(text)))
        {
            return None;
        }
        Some(end)
    }

    /// An `<svg>` element, whose start tag is `svg`: read here to its `</svg>`, with the
    /// drawing elements of [`SVG_ELEMENTS`] inside, each end tag closing the innermost (where
    /// lol_html's foreign content and a tree builder's could part, it is not plain), and only
    /// comments the full rewriter leaves as they are (it empties one that starts `[CDATA[`
    /// there, and lol_html reads `<![CDATA[` as a section). Returns where scanning goes on.
    #[inline(never)]
    fn svg(&mut self, svg: &Tag) -> Option<usize> {
        let doc = self.doc;
        let mut open = std::mem::take(&mut self.svg_open);
        open.clear();
        let mut at = svg.end;
        let end = loop {
            let lt = next_lt(doc, at)?;
            at = match *doc.get(lt + 1)? {
                b'a'..=b'z' | b'A'..=b'Z' => self.svg_child(lt, &mut open)?,
                b'/' => {
                    if !doc.get(lt + 2)?.is_ascii_alphabetic() {
                        return None;
                    }
                    let tag = parse_tag(doc, lt + 2, &mut self.attrs)?;
                    if tag.lt_in_values {
                        self.unread(lt, tag.end)?;
                    }
                    let name = &doc[tag.name.clone()];
                    let Some(innermost) = open.last() else {
                        break name.eq_ignore_ascii_case(b"svg").then_some(tag.end)?;
                    };
                    if !doc[innermost.clone()].eq_ignore_ascii_case(name) {
                        return None;
                    }
                    open.pop();
                    tag.end
                }
                b'!' if doc[lt..].starts_with(b"<!--")
                    && !doc[lt + 4..].starts_with(b"[CDATA[") =>
                {
                    self.unread(lt, markup_declaration(doc, lt)?)?
                }
                b'!' => return None,
                b'?' => self.unread(lt, lt + memchr(b'>', &doc[lt..])? + 1)?,
                _ => lt + 1,
            };
        };
        self.svg_open = open;
        Some(end)
    }

    /// A start tag at `lt` inside `<svg>` (its open elements `open`): one of
    /// [`SVG_ELEMENTS`], whose `<title>` and `<desc>` hold text alone, and whose `<a>` is a
    /// link. A self-closing one is closed there (foreign content), as lol_html reads it.
    fn svg_child(&mut self, lt: usize, open: &mut Vec<Range<usize>>) -> Option<usize> {
        let doc = self.doc;
        let tag = self.plain_start_tag(lt)?;
        let name = &doc[tag.name.clone()];
        if !SVG_ELEMENTS
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        {
            return None;
        }
        // The one text element's name among them (see `not_misread`).
        if name.eq_ignore_ascii_case(b"title") {
            self.spend_on_tag(lt, &tag)?;
        }
        // A link: `href`, or the older `xlink:href` where it has none, as the full rewriter
        // reads an SVG `<a>`.
        if self.use_get && name.eq_ignore_ascii_case(b"a") {
            let url = if self.attr("href").is_some() {
                "href"
            } else {
                "xlink:href"
            };
            self.link(lt, &tag, url);
        }
        if tag.self_closing {
            return Some(tag.end);
        }
        if self.stack.len() + open.len() >= MAX_DEPTH {
            return None;
        }
        open.push(tag.name.clone());
        // Text to some tree builders (an HTML integration point), markup to lol_html: plain
        // only with no `<` in it.
        let text_only = [&b"title"[..], b"desc"]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known));
        if text_only && !closes(doc, next_lt(doc, tag.end)?, name) {
            return None;
        }

        Some(tag.end)
    }

    /// A `<form>` start tag at `lt`: the token input after it when it gets one.
    fn form(&mut self, lt: usize, tag: &Tag) -> Kind {
        // A form inside a held one: that one's `</form>` will find this form's child open.
        for open in &self.stack {
            if let Kind::Form(_, Some(hold)) = open.kind {
                self.holds[hold].pinned = true;
            }
        }
        let form = self.next_form;
        self.next_form += 1;
        let pointer_was_null = self.pointer == Pointer::Null;
        if pointer_was_null {
            self.pointer = Pointer::Set(form);
        }
        // An input inside a <select> would close it: the page would change.
        let owns_next_input = pointer_was_null && self.selects_open == 0;
        let (id, method) = (keyword(self.value("id")), keyword(self.value("method")));
        if !owns_next_input {
            return Kind::Form(form, None);
        }
        let page = self.policy.page();
        let action = self.value("action");
        let Some((token, _)) = form_token_at(self.policy, page, method, action) else {
            return Kind::Form(form, None);
        };
        self.holds.push(Hold {
            from: self.out.len() + (lt - self.copied),
            pinned: id.is_some(),
            released: false,
        });
        self.out.extend_from_slice(&self.doc[self.copied..tag.end]);
        self.copied = tag.end;
        self.out
            .extend_from_slice(token_input(self.policy, &token).as_bytes());
        Kind::Form(form, Some(self.holds.len() - 1))
    }

    /// `<a>` or `<area>` (or an SVG `<a>`): the URL in its attribute `attr` with the token
    /// when it stays on this site, the tag written back as lol_html writes a changed tag.
    fn link(&mut self, lt: usize, tag: &Tag, attr: &str) {
        let Some(raw) = self.raw_value(attr) else {
            return;
        };
        // Fragment-only (most links of a long document): never a token, nothing to decode.
        if raw.trim_start_matches(|c: char| c <= ' ').starts_with('#') {
            return;
        }
        let url = decode_entities(raw);
        let base: &Url = self.policy.page();
        let mut with_token = std::mem::take(&mut self.url);
        if !self.policy.add_token_into(&url, base, &mut with_token) {
            self.url = with_token;
            return;
        }
        self.write_with_value(lt, tag, attr.as_bytes(), &with_token);
        self.url = with_token;
    }

    /// Writes the current tag (at `lt`) with the value of its first attribute `name` replaced
    /// by `value`, as lol_html writes a changed tag.
    fn write_with_value(&mut self, lt: usize, tag: &Tag, name: &[u8], value: &str) {
        let doc = self.doc;
        if let Some(range) = self.canonical_value(tag, name) {
            // Written back as it was but for the value: what lol_html writes for such a tag.
            self.out.extend_from_slice(&doc[self.copied..range.start]);
            write_escaped(&mut self.out, value);
            self.copied = range.end;
            return;
        }
        let out = &mut self.out;
        out.extend_from_slice(&doc[self.copied..lt]);
        out.push(b'<');
        out.extend_from_slice(&doc[tag.name.clone()]);
        let mut replaced = false;
        for attr in &self.attrs {
            out.push(b' ');
            let attr_name = &doc[attr.name.clone()];
            if !replaced && attr_name.eq_ignore_ascii_case(name) {
                replaced = true;
                out.extend_from_slice(attr_name);
                out.extend_from_slice(b"=\"");
                // encode_attribute's `&` and `<`, then lol_html's `"`.
                write_escaped(out, value);
                out.push(b'"');
            } else {
                out.extend_from_slice(&doc[attr.raw.clone()]);
            }
        }
        out.extend_from_slice(if tag.self_closing { b" />" } else { b">" });
        self.copied = tag.end;
    }

    /// The value of the current tag's first attribute `name`, when lol_html would write the
    /// tag back byte for byte but for that value: one space before each attribute, that one
    /// written `name="..."`, then `>` (or ` />` when self-closing) right after the last.
    fn canonical_value(&self, tag: &Tag, name: &[u8]) -> Option<Range<usize>> {
        let doc = self.doc;
        let mut end = tag.name.end;
        let mut href = None;
        for attr in &self.attrs {
            if attr.raw.start != end + 1 || doc[end] != b' ' {
                return None;
            }
            if href.is_none() && doc[attr.name.clone()].eq_ignore_ascii_case(name) {
                let value = attr.value.clone()?;
                let quoted = value.start == attr.name.end + 2
                    && doc[attr.name.end..value.start] == *b"=\""
                    && value.end + 1 == attr.raw.end
                    && doc[value.end] == b'"';
                if !quoted {
                    return None;
                }
                href = Some(value);
            }
            end = attr.raw.end;
        }
        let close: &[u8] = if tag.self_closing { b" />" } else { b">" };
        (doc.get(end..tag.end)? == close).then_some(())?;
        href
    }

    /// A `<meta>` (with `use_get`): a refresh to this site gets the token, the tag written
    /// back as lol_html writes a changed tag; a document referrer policy is not plain.
    fn meta(&mut self, lt: usize, tag: &Tag) -> Option<()> {
        let meta = Meta::judge(
            self.policy,
            self.policy.page(),
            self.value("name"),
            self.value("http-equiv"),
            self.raw_value("content"),
        );
        match meta {
            Meta::ReferrerPolicy => return None,
            Meta::RefreshWithToken(content, _) => {
                self.write_with_value(lt, tag, b"content", &content);
            }
            Meta::Other => {}
        }
        Some(())
    }

    /// Returns where scanning goes on.
    fn end_tag(&mut self, lt: usize) -> Option<usize> {
        let doc = self.doc;
        if !doc.get(lt + 2)?.is_ascii_alphabetic() {
            return None;
        }
        let tag = parse_tag(doc, lt + 2, &mut self.attrs)?;
        if tag.lt_in_values {
            self.unread(lt, tag.end)?;
        }
        let name = &doc[tag.name.clone()];
        // lol_html closes the innermost open element of that name, and all inside it.
        if let Some(at) = self
            .stack
            .iter()
            .rposition(|open| doc[open.name.clone()].eq_ignore_ascii_case(name))
        {
            let by_form_end_tag = name.eq_ignore_ascii_case(b"form");
            // Where a `<select>` is open, the "in select" mode ignores a `</form>` and the
            // relaxed parser may leave that form open (`forms.rs`): the full rewriter judges it.
            if by_form_end_tag && self.selects_open > 0 {
                return None;
            }
            let by_select_end_tag = name.eq_ignore_ascii_case(b"select");
            let nothing_open_inside = at + 1 == self.stack.len();
            // By index, then truncated: a `Drain` cost a call on every end tag.
            for index in at..self.stack.len() {
                let kind = self.stack[index].kind;
                if let Kind::Form(_, Some(hold)) = kind {
                    let hold = &mut self.holds[hold];
                    hold.released = by_form_end_tag && nothing_open_inside && !hold.pinned;
                }
                match kind {
                    Kind::Form(..) if by_form_end_tag => self.pointer = Pointer::Null,
                    Kind::Form(form, _) if self.pointer == Pointer::Set(form) => {
                        self.pointer = Pointer::Unknown;
                    }
                    // The full rewriter writes `</select>` in where lol_html closes a select
                    // by another end tag (`rules::HeldText`): not plain.
                    Kind::Select if !by_select_end_tag => return None,
                    Kind::Select => self.selects_open -= 1,
                    // Closed by another end tag, a template leaves the full rewriter unsure
                    // where forms are (`forms.rs`): not plain.
                    Kind::Template if !name.eq_ignore_ascii_case(b"template") => return None,
                    Kind::Template => self.templates_open -= 1,
                    Kind::Form(..) | Kind::Other => {}
                }
            }
            self.stack.truncate(at);
        }
        Some(tag.end)
    }
}

/// `value` into a double-quoted attribute: `&`, `<` and `"` escaped.
fn write_escaped(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    let mut from = 0;
    for at in memchr::memchr3_iter(b'&', b'<', b'"', bytes) {
        out.extend_from_slice(&bytes[from..at]);
        out.extend_from_slice(match bytes[at] {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            _ => b"&quot;",
        });
        from = at + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}
