//! Which elements a whole document can contain at all, from one pass over its bytes.
//!
//! Every selector lol_html watches costs on every tag of the page, matched or not; a page held
//! whole can be asked first which of them it could ever match. A tag name or attribute name is
//! ASCII, and ASCII is itself in every encoding the rewriter parses (the ASCII-compatible
//! ones): a document without the bytes `<form` (in any case) has no `<form>` tag, and one
//! without `referrerpolicy` no such attribute. Bytes that only look like one (inside a
//! comment, a script, a multibyte character) merely keep a selector that finds nothing.

use wide::u8x16;

use super::{
    misread_tags::misread_at,
    rules::{MAX_HELD_TEXT, inert_as_markup},
    tokenizer::{closing_tag, parse_tag},
};

/// The element kinds the rewriter has selectors for; `true` where the document may have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Present {
    pub(super) base: bool,
    /// `<template>` or `<select>`.
    pub(super) containers: bool,
    pub(super) forms: bool,
    /// `<a>` or `<area>` (and anything else starting `<a`).
    pub(super) links: bool,
    /// `<iframe>` or `<frame>`.
    pub(super) frames: bool,
    pub(super) meta: bool,
    /// A `referrerpolicy` attribute, on whatever element.
    pub(super) referrer_policies: bool,
    /// A `<noscript>`: text some browser reads as markup (`rules::HeldText`).
    pub(super) noscript: bool,
    /// A raw text element the "in select" mode ignores, after a `<select>` (one scan in
    /// document order: a superset of "inside"): text some browser reads as markup.
    pub(super) ignored_in_select: bool,
    /// `<![CDATA[`: a section or a bogus comment, depending on the tree builder.
    pub(super) cdata: bool,
    /// `<svg>` or `<math>`: foreign content, which tree builders may leave where lol_html
    /// does not.
    pub(super) foreign: bool,
    /// A text element's start tag lol_html misreads (`misread_tags`): the stream is followed
    /// for it.
    pub(super) misread_tags: bool,
    /// `formaction` or `formmethod`, anywhere, in any case: a submitter that may send a form
    /// elsewhere.
    pub(super) redirecting_submitters: bool,
    /// Where the first start tag of a formatting element (`FORMATTING`) may be: forms after
    /// it may be built in after their `</form>` (`forms.rs`). `usize::MAX` for none.
    pub(super) first_formatting: usize,
}

impl Present {
    /// What a stream not seen yet may hold: everything.
    pub(super) const ANY: Self = Self {
        base: true,
        containers: true,
        forms: true,
        links: true,
        frames: true,
        meta: true,
        referrer_policies: true,
        noscript: true,
        ignored_in_select: true,
        cdata: true,
        foreign: true,
        misread_tags: true,
        redirecting_submitters: true,
        // Not followed in a stream: holding every form after a link to the end would take the
        // token from each form of a long page (a later submitter is given no form instead).
        first_formatting: usize::MAX,
    };

    const NONE: Self = Self {
        base: false,
        containers: false,
        forms: false,
        links: false,
        frames: false,
        meta: false,
        referrer_policies: false,
        noscript: false,
        ignored_in_select: false,
        cdata: false,
        foreign: false,
        misread_tags: false,
        redirecting_submitters: false,
        first_formatting: usize::MAX,
    };

    /// What a rewriter with `use_get` (or without) needs to know of `document`. Without it
    /// only forms get the token, and the rest matters only where there is a form: the scan
    /// stops at the first `<form`.
    pub(super) fn scan(document: &[u8], use_get: bool) -> Self {
        if use_get {
            return Self::scan_all(document);
        }
        // A page without a form (the prescan stops at the first) needs nothing watched.
        if !Self::may_have_form(document) {
            return Self::NONE;
        }
        let mut held = Held::new(document);
        for (lt, name) in tags(document) {
            held.see(document, lt, name);
        }
        Self {
            forms: true,
            base: true,
            containers: true,
            noscript: held.noscript,
            ignored_in_select: held.ignored_in_select_after_select,
            cdata: held.cdata,
            foreign: held.foreign,
            misread_tags: held.misread_tags,
            redirecting_submitters: has_redirecting_submitter(document),
            first_formatting: held.first_formatting,
            ..Self::NONE
        }
    }

    /// Where forms may be built in after their `</form>` in a page with a submitter that could
    /// send one elsewhere (`Forms::reopened_after`).
    pub(super) fn forms_reopened_after(&self) -> Option<usize> {
        (self.redirecting_submitters && self.first_formatting != usize::MAX)
            .then_some(self.first_formatting)
    }

    /// Whether `document` may have a `<form>`: what a page without `use_get` is asked first
    /// (a page without one is passed as it is), without [`scan`](Self::scan)'s second pass.
    pub(super) fn may_have_form(document: &[u8]) -> bool {
        tags(document).any(|(_, name)| starts_with_tag(name, "form"))
    }

    fn scan_all(document: &[u8]) -> Self {
        let mut present = Self {
            referrer_policies: has_referrer_policy(document),
            redirecting_submitters: has_redirecting_submitter(document),
            ..Self::NONE
        };
        let mut held = Held::new(document);
        for (lt, name) in tags(document) {
            let is = |tag: &str| starts_with_tag(name, tag);
            // Told apart by the first letter: most tags are none of these.
            match name.first().map(u8::to_ascii_lowercase) {
                Some(b'a') => present.links = true,
                Some(b'b') => present.base |= is("base"),
                Some(b'f') => {
                    present.forms |= is("form");
                    present.frames |= is("frame");
                }
                Some(b'i') => present.frames |= is("iframe"),
                Some(b'm') => present.meta |= is("meta"),
                Some(b's') => present.containers |= is("select"),
                Some(b't') => present.containers |= is("template"),
                _ => {}
            }
            held.see(document, lt, name);
        }
        present.noscript = held.noscript;
        present.ignored_in_select = held.ignored_in_select_after_select;
        present.cdata = held.cdata;
        present.foreign = held.foreign;
        present.misread_tags = held.misread_tags;
        present.first_formatting = held.first_formatting;
        present
    }
}

/// What a document holds that tree builders may read otherwise than lol_html, in document
/// order: the elements whose text may be held (`rules::HeldText`, after the first `<select>`
/// for all but `<noscript>`), `<![CDATA[`, foreign content, and text element start tags
/// lol_html misreads.
struct Held {
    /// A `<noscript>` whose content the held-text rule may not keep as it is.
    noscript: bool,
    select: bool,
    ignored_in_select_after_select: bool,
    cdata: bool,
    foreign: bool,
    misread_tags: bool,
    /// Bytes [`misread_at`] may still look at: as many as the document has.
    misread_budget: usize,
    first_formatting: usize,
}

impl Held {
    fn new(document: &[u8]) -> Self {
        Self {
            noscript: false,
            select: false,
            ignored_in_select_after_select: false,
            cdata: false,
            foreign: false,
            misread_tags: false,
            misread_budget: document.len(),
            first_formatting: usize::MAX,
        }
    }

    /// Notes the tag at `lt` of `document`, whose name starts `name`.
    fn see(&mut self, document: &[u8], lt: usize, name: &[u8]) {
        self.misread_tags = self.misread_tags || misread_at(document, lt, &mut self.misread_budget);
        if self.first_formatting == usize::MAX && is_formatting(name) {
            self.first_formatting = lt;
        }
        let is =
            |tag: &[u8]| name.len() >= tag.len() && name[..tag.len()].eq_ignore_ascii_case(tag);
        match name.first().map(u8::to_ascii_lowercase) {
            Some(b'n') => {
                self.noscript = self.noscript || (is(b"noscript") && !kept_as_it_is(document, lt));
                self.ignored_in_select_after_select |=
                    self.select && (is(b"noembed") || is(b"noframes"));
            }
            Some(b's') => {
                self.select |= is(b"select");
                self.ignored_in_select_after_select |= self.select && is(b"style");
                self.foreign |= is(b"svg");
            }
            Some(b'm') => self.foreign |= is(b"math"),
            // Case-sensitive, as the tokenizer matches it.
            Some(b'!') => self.cdata |= name.starts_with(b"![CDATA["),
            Some(b'i' | b't' | b'x' | b'p') if self.select => {
                self.ignored_in_select_after_select |=
                    is(b"iframe") || is(b"title") || is(b"xmp") || is(b"plaintext");
            }
            _ => {}
        }
    }
}

/// Whether the held-text rule (`rules::HeldText`) keeps the content of the `<noscript` at `lt`
/// as it is: closed, within [`MAX_HELD_TEXT`], inert as markup, and ASCII (read alike in every
/// encoding the rewriter parses). A page whose every `<noscript>` is kept so needs no watching
/// of them: lol_html's selector for them cost about 14% of the time on cloudflare.com (26
/// tracking pixels and logos). A `<noscript` that is no element (in a script, a comment) is
/// judged all the same: at worst it keeps the selector.
fn kept_as_it_is(document: &[u8], lt: usize) -> bool {
    let Some(tag) = parse_tag(document, lt + 1, &mut Vec::new()) else {
        return false;
    };
    if !document[tag.name].eq_ignore_ascii_case(b"noscript") {
        return true; // `<noscripts>`: no such element
    }
    let Some(end) = closing_tag(document, tag.end, b"noscript") else {
        return false;
    };
    let content = &document[tag.end..end];
    content.len() <= MAX_HELD_TEXT
        && content.is_ascii()
        && std::str::from_utf8(content).is_ok_and(inert_as_markup)
}

/// Where each `<` is, and the bytes after it (enough for the longest tag name looked for,
/// `plaintext`).
fn tags(document: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    memchr::memchr_iter(b'<', document)
        .map(|at| (at, &document[at + 1..document.len().min(at + 10)]))
}

fn starts_with_tag(name: &[u8], tag: &str) -> bool {
    name.len() >= tag.len() && name[..tag.len()].eq_ignore_ascii_case(tag.as_bytes())
}

/// The formatting elements: those the tree builder keeps in its list of active formatting
/// elements and makes again where they were closed by another element.
const FORMATTING: [&[u8]; 14] = [
    b"a", b"b", b"big", b"code", b"em", b"font", b"i", b"nobr", b"s", b"small", b"strike",
    b"strong", b"tt", b"u",
];

/// Whether `name` (the bytes after a `<`) starts a formatting element's start tag: its name,
/// then what ends a tag name, in any case.
fn is_formatting(name: &[u8]) -> bool {
    FORMATTING.iter().any(|tag| {
        name.len() > tag.len()
            && name[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(
                name[tag.len()],
                b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>'
            )
    })
}

/// Whether `formaction` or `formmethod` appears anywhere, in any case. Sixteen starts per
/// step: an `f` with an `a` or an `m` four bytes on (in either case) is rare enough that only
/// those are compared whole (a `memchr2` for the `f` stopped at every one, a quarter of the
/// plain path's time on the generated bench page, whose forms are held past the hold limit).
pub(super) fn has_redirecting_submitter(document: &[u8]) -> bool {
    let word_at = |at: usize| {
        document.get(at..at + 10).is_some_and(|word| {
            word.eq_ignore_ascii_case(b"formaction") || word.eq_ignore_ascii_case(b"formmethod")
        })
    };
    // `| 0x20` lowercases an ASCII letter, and gives `f`, `a` and `m` from nothing else.
    let lower = u8x16::splat(0x20);
    let block_at = |at: usize| {
        document
            .get(at..)
            .and_then(<[u8]>::first_chunk::<16>)
            .map(|block| u8x16::from(*block) | lower)
    };
    let mut at = 0;
    while let (Some(first), Some(fifth)) = (block_at(at), block_at(at + 4)) {
        let fs = first.cmp_eq(u8x16::splat(b'f'));
        let pairs = fifth.cmp_eq(u8x16::splat(b'a')) | fifth.cmp_eq(u8x16::splat(b'm'));
        let mut candidates = (fs & pairs).move_mask();
        while candidates != 0 {
            if word_at(at + candidates.trailing_zeros() as usize) {
                return true;
            }
            candidates &= candidates - 1;
        }
        at += 16;
    }
    (at..document.len()).any(word_at)
}

/// Whether `referrerpolicy` appears anywhere, in any case: found from its rarer last letter.
fn has_referrer_policy(document: &[u8]) -> bool {
    const NAME: &[u8] = b"referrerpolicy";
    memchr::memchr2_iter(b'y', b'Y', document).any(|end| {
        end + 1 >= NAME.len() && document[end + 1 - NAME.len()..=end].eq_ignore_ascii_case(NAME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_prose_has_nothing() {
        let present = Present::scan_all(b"<!DOCTYPE html><p>Policy: <b>no</b> forms here.</p>");
        assert_eq!(
            present,
            Present {
                first_formatting: 26,
                ..Present::NONE
            }
        );
        assert_eq!(present.forms_reopened_after(), None, "no formaction");
    }

    #[test]
    fn formatting_elements_and_redirecting_submitters_are_found() {
        let page = b"<p>x<STRONG >y<form method=post></form><button FormAction=//e/>";
        let present = Present::scan_all(page);
        assert_eq!(present.first_formatting, 4);
        assert_eq!(present.forms_reopened_after(), Some(4));
        for not_formatting in ["<p><bdi>x<abbr>y<strongly>", "<p><br><ul><sup>"] {
            let present = Present::scan_all(not_formatting.as_bytes());
            assert_eq!(present.first_formatting, usize::MAX, "{not_formatting}");
        }
        assert!(has_redirecting_submitter(b"<input formmethod=get>"));
        assert!(!has_redirecting_submitter(b"<form action=/ method=get>"));
    }

    /// Found wherever it starts (in the sixteen-byte blocks, across them, in the tail), in any
    /// case, and not in near misses; against a byte-by-byte search.
    #[test]
    fn redirecting_submitters_are_found_at_every_offset() {
        let naive = |doc: &[u8]| {
            doc.windows(10).any(|w| {
                w.eq_ignore_ascii_case(b"formaction") || w.eq_ignore_ascii_case(b"formmethod")
            })
        };
        for word in [
            "formaction",
            "FORMMETHOD",
            "FormAction",
            "formMethod",
            "formactio",
            "formmetho",
            "fOrMaCtIoN",
            "form action",
            "forma",
        ] {
            for before in 0..40 {
                for after in [0, 1, 5, 17] {
                    let doc = format!("{}{word}{}", "x".repeat(before), "m".repeat(after));
                    assert_eq!(
                        has_redirecting_submitter(doc.as_bytes()),
                        naive(doc.as_bytes()),
                        "{doc}"
                    );
                }
            }
        }
    }

    #[test]
    fn tags_are_found_in_any_case_and_at_the_very_end() {
        let present =
            Present::scan_all(b"<BASE href=/><TeMpLaTe><FORM><A href=x><IFRAME><Meta><form");
        assert!(present.base && present.containers && present.forms && present.links);
        assert!(present.frames && present.meta && !present.referrer_policies);
        assert!(Present::scan_all(b"x<form").forms);
        assert!(!Present::scan_all(b"x<for").forms);
        assert!(Present::scan_all(b"<select>").containers);
        assert!(Present::scan_all(b"<frameset><frame src=x>").frames);
    }

    #[test]
    fn without_use_get_only_a_form_matters() {
        assert_eq!(
            Present::scan(b"<base href=x><a href=y><select>", false),
            Present::NONE
        );
        let with_form = Present::scan(b"<p><FORM method=post>", false);
        assert!(with_form.forms && with_form.base && with_form.containers);
        assert!(!with_form.links && !with_form.meta && !with_form.referrer_policies);
        assert_eq!(
            Present::scan(b"<a href=y>", true),
            Present::scan_all(b"<a href=y>")
        );
    }

    #[test]
    fn text_some_reading_takes_for_markup_is_found_in_document_order() {
        let noscript = Present::scan_all(b"<NoScript>");
        assert!(noscript.noscript && !noscript.ignored_in_select);
        assert!(!Present::scan_all(b"<style><select>").ignored_in_select);
        for tag in [
            "style",
            "XMP",
            "title",
            "noembed",
            "noframes",
            "iframe",
            "plaintext",
        ] {
            let page = format!("<select></select><{tag}>");
            let present = Present::scan_all(page.as_bytes());
            assert!(present.ignored_in_select && !present.noscript, "{tag}");
            assert!(
                Present::scan(page.as_bytes(), false) == Present::NONE,
                "{tag}"
            );
            let with_form = format!("<form>{page}");
            assert!(
                Present::scan(with_form.as_bytes(), false).ignored_in_select,
                "{tag}"
            );
        }
        let present = Present::scan_all(b"<svg><![CDATA[x]]></svg>");
        assert!(present.cdata && present.foreign && !present.noscript);
        assert!(!Present::scan_all(b"<![cdata[").cdata);
        assert!(Present::scan_all(b"<MATH>").foreign);
    }

    #[test]
    fn noscripts_kept_as_they_are_need_no_watching() {
        let pixel = b"<noscript><img src=\"/p.gif\" alt=\"\"></noscript><p>x</p>";
        assert!(!Present::scan_all(pixel).noscript);
        let mut with_form = b"<form method=post></form>".to_vec();
        with_form.extend_from_slice(pixel);
        assert!(!Present::scan(&with_form, false).noscript);
        for page in [
            &b"<noscript><form action=//evil.example/></noscript>"[..],
            b"<noscript><!--</noscript>",
            b"<noscript><select></noscript>",
            b"<NOSCRIPT><base href=//evil.example/></NOSCRIPT>",
            b"<noscript>never closed <img src=/p>",
            b"<noscript>caf\xc3\xa9</noscript>",
            b"<noscript class=\"a>b\"><meta name=referrer content=unsafe-url></noscript>",
            b"<noscript><img src=/ok></noscript><noscript><form></noscript>",
        ] {
            assert!(
                Present::scan_all(page).noscript,
                "{}",
                String::from_utf8_lossy(page)
            );
        }
        let long = format!("<noscript>{}</noscript>", "x".repeat(MAX_HELD_TEXT + 1));
        assert!(Present::scan_all(long.as_bytes()).noscript);
        // Not a noscript element: nothing to hold.
        assert!(!Present::scan_all(b"<noscripts><form></noscripts>").noscript);
    }

    #[test]
    fn text_element_start_tags_lol_html_misreads_are_found() {
        for page in [
            &b"<p>x<TITLE a=>"[..],
            b"<script src= >",
            b"<!-- <title a='--><script src=>'",
        ] {
            let present = Present::scan_all(page);
            assert!(present.misread_tags, "{}", String::from_utf8_lossy(page));
            assert!(Present::scan(&[b"<form>", page].concat(), false).misread_tags);
        }
        for page in [
            &b"<title a=b>"[..],
            b"<script a>",
            b"<div a=>",
            b"<title a=",
        ] {
            assert!(!Present::scan_all(page).misread_tags);
        }
        // Tags inside one another's quotes, each to the end: a bounded pass, then yes.
        let nested = "<script a='".repeat(100);
        assert!(Present::scan_all(nested.as_bytes()).misread_tags);
    }

    #[test]
    fn a_referrer_policy_is_found_in_any_case_anywhere() {
        assert!(Present::scan_all(b"<img ReferrerPolicy=unsafe-url>").referrer_policies);
        assert!(Present::scan_all(b"referrerpolicy").referrer_policies);
        assert!(!Present::scan_all(b"referrer policy").referrer_policies);
        assert!(!Present::scan_all(b"errerpolicy").referrer_policies);
    }
}
