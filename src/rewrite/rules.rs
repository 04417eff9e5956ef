//! The rules both rewriting paths follow (lol_html's in `html.rs`, the plain one in `plain.rs`):
//! how a keyword attribute reads, which form gets the token and how, how long a form is held,
//! and which text some browser reads as markup, judged before it is kept.
//!
//! A tokenizer decides raw text by tag name; the tree builder decides whether it ever gets
//! there. Where browsers' readings differ, this text is held and kept only when it does nothing
//! as markup either ([`inert_as_markup`]):
//!
//! - `<noscript>` content is text with JavaScript (lol_html's reading) and markup without it.
//! - The "in select" insertion mode (Gecko, WebKit, html5lib) *ignores* the start tags of
//!   `<style>`, `<xmp>`, `<title>`, `<noembed>`, `<noframes>`, `<iframe>`, `<noscript>`,
//!   `<plaintext>`, `<svg>` and `<math>`: their content is markup there, while Chromium 135+
//!   (the standard's relaxed `<select>`) and lol_html read raw text, or a CDATA section.
//!   Whether a `<select>` is still open depends on the parser (`</div>` closes it in one, not
//!   the other; `<template>` hides `</select>`): where lol_html closes one (or a template in
//!   one) implicitly, the rewriter writes the end tag in, so that every reading leaves it
//!   there, and these are held inside a select.
//! - Inside foreign content, where lol_html takes an element for an integration point
//!   (`<math><mtext>`), every text element (`<script>` and `<textarea>` too): a tree builder
//!   may not agree (`<svg><math><mtext>` is all SVG to it) and read its content as markup.
//! - CDATA sections in `<svg>` and `<math>` (`html.rs`): the "in select" mode and the nested
//!   `<svg>` breakout read `<![CDATA[` as a bogus comment with markup after it.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use url::Url;

use super::{
    attribute::decode_entities,
    policy::{LinkPolicy, sends_nothing},
    tokenizer::{closing_tag, markup_declaration, next_lt, parse_tag},
};

/// The output of a form that carries the token is held back (so the token can still be taken
/// out if a submitter sends the form to another site) up to this many bytes; past it, the
/// form loses its token.
pub(super) const MAX_FORM_HOLD: usize = 256 * 1024;

/// The most text held to be judged as markup ([`HeldText`]); past it, the element's content
/// goes.
pub(super) const MAX_HELD_TEXT: usize = 64 * 1024;

/// The most output held after lol_html lost a browser's view of the page
/// (`TokenRewriter::cut_short`); past it, the rest of the page is dropped.
pub(super) const MAX_UNREAD_REST: usize = 256 * 1024;

/// A keyword attribute (`type`, `method`, `form`, `id`, `name`, ...) as a browser reads it:
/// lol_html hands values over raw, and `type="subm&#105;t"` is a submit button all the same.
pub(super) fn keyword(raw: Option<String>) -> Option<String> {
    raw.map(|raw| match decode_entities(&raw) {
        std::borrow::Cow::Borrowed(_) => raw,
        std::borrow::Cow::Owned(decoded) => decoded,
    })
}

/// The token for a form's hidden input in a document with this `base`: `None` when the form
/// does not send it to this site (by GET without `use_get`, or to another site's action). Also
/// whether the token went into an action a later `<base>` could move.
pub(super) fn form_token_at(
    policy: &LinkPolicy,
    base: &Url,
    method: Option<String>,
    action: Option<String>,
) -> Option<(String, bool)> {
    // Enumerated attributes are matched whole: `method=" post "` is invalid, so GET.
    let method = method.unwrap_or_default();
    let is_post = method.eq_ignore_ascii_case("post");
    if !is_post && (method.eq_ignore_ascii_case("dialog") || !policy.use_get()) {
        return None;
    }
    let action = action.unwrap_or_default();
    let action = decode_entities(&action);
    let page = policy.page();
    // No action, or an empty one, submits to the document's own URL; a `javascript:` one
    // sends nothing (a submitter's `formaction` may still send the form here).
    if action.trim().is_empty() || sends_nothing(&action) {
        let token = policy.token_at(page.as_str(), page)?;
        return Some((token.into_owned(), false));
    }
    let token = policy.token_at(&action, base)?.into_owned();
    Some((token, !super::policy::has_scheme(&action)))
}

/// What a `<meta>` (its `name`, `http-equiv` and `content`, raw as in the page) is to both
/// paths: judged as a document referrer policy, a refresh, or nothing.
pub(super) enum Meta {
    /// `name=referrer` or `http-equiv=referrer-policy`.
    ReferrerPolicy,
    /// `http-equiv=refresh` whose `content` names a URL of this site: the new `content`
    /// (not yet encoded for an attribute), with the token in that URL, and whether the URL is
    /// relative (a later `<base>` would move it).
    RefreshWithToken(String, bool),
    /// Anything else, a refresh elsewhere too: left as it is.
    Other,
}

impl Meta {
    /// `base` is the document's base URL where the refresh would go; without `use_get` no
    /// refresh gets the token.
    pub(super) fn judge(
        policy: &LinkPolicy,
        base: &Url,
        name: Option<String>,
        http_equiv: Option<String>,
        content: Option<&str>,
    ) -> Self {
        let is = |value: &Option<String>, keyword: &str| {
            value
                .as_deref()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(keyword))
        };
        let (name, http_equiv) = (keyword(name), keyword(http_equiv));
        if is(&name, "referrer") || is(&http_equiv, "referrer-policy") {
            return Self::ReferrerPolicy;
        }
        // A NUL is U+FFFD to a browser's tokenizer and stays a NUL in lol_html's value.
        let Some(content) = content.filter(|c| !c.contains('\0')) else {
            return Self::Other;
        };
        if !is(&http_equiv, "refresh") || !policy.use_get() {
            return Self::Other;
        }
        let content = decode_entities(content);
        let Some(refresh) = super::attribute::Refresh::parse(&content) else {
            return Self::Other;
        };
        match policy.add_token(refresh.url, base) {
            Some(url) => Self::RefreshWithToken(
                format!("{}{url}{}", refresh.before, refresh.after),
                !super::policy::has_scheme(refresh.url),
            ),
            None => Self::Other,
        }
    }
}

/// The hidden input that carries `token` in a form.
pub(super) fn token_input(policy: &LinkPolicy, token: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{token}" />"#,
        policy.param_name()
    )
}

/// Elements whose text some browser reads as markup: their text is held and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeldText {
    /// Always: markup to a browser without JavaScript.
    Noscript,
    /// Raw text (or the rest of the page, for `<plaintext>`) that the "in select" mode leaves
    /// markup: held inside a `<select>`. lol_html's view of where a select ends is made every
    /// browser's: where lol_html closes one implicitly (`<div><select></div>`, where the "in
    /// select" mode stays inside), `</select>` is written before that end tag.
    IgnoredInSelect,
    /// Any text element (scripts and textareas too) that lol_html reads as HTML inside
    /// foreign content (at what it takes for an integration point): a tree builder may still
    /// be in foreign content there (`<svg><math><mtext>` is all SVG to it), where the element
    /// is foreign and its content markup. (The lol_html path drops a script's or textarea's
    /// content there unjudged; the plain path takes no foreign content.)
    InForeignContent,
}

impl HeldText {
    /// What an HTML element named `name` (any case) holds, inside a `<select>` or not, inside
    /// foreign content or not (lol_html's view of both).
    pub(super) fn of(name: &[u8], in_select: bool, in_foreign: bool) -> Option<Self> {
        if name.eq_ignore_ascii_case(b"noscript") {
            return Some(Self::Noscript);
        }
        let is = |names: &[&[u8]]| names.iter().any(|t| name.eq_ignore_ascii_case(t));
        if !is(&Self::IGNORED_IN_SELECT) {
            return (in_foreign && is(&[b"script", b"textarea"])).then_some(Self::InForeignContent);
        }
        if in_foreign {
            Some(Self::InForeignContent)
        } else {
            in_select.then_some(Self::IgnoredInSelect)
        }
    }

    /// Whether an element named `name` (any case) can be one of these somewhere: what is
    /// worth a closer look.
    pub(super) fn may_be(name: &[u8]) -> bool {
        Self::of(name, true, true).is_some()
    }

    /// Raw-text start tags that the "in select" insertion mode ignores (besides `<noscript>`).
    const IGNORED_IN_SELECT: [&'static [u8]; 7] = [
        b"style",
        b"xmp",
        b"title",
        b"noembed",
        b"noframes",
        b"iframe",
        b"plaintext",
    ];
}

/// Whether `text` (raw, as in the page), read as markup where some browser reads it so, can do
/// nothing the rewriter would have to judge: no form, base, `<select>`, foreign content,
/// template, table or frameset; no referrer policy, ping, `srcdoc` or form-naming control;
/// and nothing left open at its end that would change how the markup after it reads (a
/// comment, a tag, a raw text element, a script with `<!--`). Read with the plain path's strict
/// tokenizer, anything it cannot read is not inert.
pub(super) fn inert_as_markup(text: &str) -> bool {
    // No `<`, no markup (a reference to `<` is text).
    let Some(first) = memchr::memchr(b'<', text.as_bytes()) else {
        return true;
    };
    if mentions_leaky_words(text) {
        return false;
    }
    let doc = text.as_bytes();
    let mut attrs = Vec::new();
    let mut at = first;
    while let Some(lt) = next_lt(doc, at) {
        at = match doc.get(lt + 1) {
            Some(b'!') => match markup_declaration(doc, lt) {
                Some(end) => end,
                None => return false,
            },
            Some(b'/') => {
                if !doc.get(lt + 2).is_some_and(u8::is_ascii_alphabetic) {
                    return false;
                }
                match parse_tag(doc, lt + 2, &mut attrs) {
                    Some(tag) => tag.end,
                    None => return false,
                }
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let Some(tag) = parse_tag(doc, lt + 1, &mut attrs) else {
                    return false;
                };
                let name = &doc[tag.name.clone()];
                if NOT_INERT.iter().any(|n| name.eq_ignore_ascii_case(n)) {
                    return false;
                }
                match TEXT_ELEMENTS.iter().find(|n| name.eq_ignore_ascii_case(n)) {
                    Some(&text_element) => {
                        let Some(end) = closing_tag(doc, tag.end, text_element) else {
                            return false;
                        };
                        // `<!--` in a script starts the escaped states.
                        if text_element == b"script"
                            && SCRIPT_COMMENT.find(&doc[tag.end..end]).is_some()
                        {
                            return false;
                        }
                        end
                    }
                    None => tag.end,
                }
            }
            // `<` at the very end (with the end tag after it, the browser reads a tag), and
            // bogus comments.
            None | Some(b'?') => return false,
            Some(_) => lt + 1,
        };
    }
    true
}

/// Start tags that make markup after them read differently, or act beyond their element.
const NOT_INERT: [&[u8]; 12] = [
    b"form",
    b"base",
    b"select",
    b"svg",
    b"math",
    b"template",
    b"table",
    b"frameset",
    b"frame",
    b"plaintext",
    b"keygen",
    b"isindex",
];

/// Elements whose content is text to the tokenizer, up to their own end tag.
pub(super) const TEXT_ELEMENTS: [&[u8]; 9] = [
    b"script",
    b"style",
    b"title",
    b"textarea",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
    b"noscript",
];

static SCRIPT_COMMENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("<!--"));

/// Anything about `referrer` (`<meta name=referrer>`, `referrerpolicy`), or a `ping`,
/// `srcdoc`, `form`, `formaction` or `formmethod` attribute, after character references are
/// decoded (they may spell any of these; no reference decodes to `<`-free markup otherwise).
/// Also how the rest of a page that lol_html could not read as a browser does is judged.
pub(super) fn mentions_leaky_words(raw: &str) -> bool {
    let text = decode_entities(raw).to_ascii_lowercase();
    text.contains("referrer")
        || text.contains("<base")
        || LEAKY_ATTRIBUTES
            .iter()
            .any(|name| has_attribute(&text, name))
}

/// The attribute names [`mentions_leaky_words`] looks for, their searchers built once.
static LEAKY_ATTRIBUTES: LazyLock<[Finder<'static>; 5]> =
    LazyLock::new(|| ["ping", "srcdoc", "form", "formaction", "formmethod"].map(Finder::new));

/// Whether `name` appears in `text` (lowercase) as an attribute: after a space, quote or `/`,
/// and followed by `=` (spaces allowed).
fn has_attribute(text: &str, name: &Finder<'_>) -> bool {
    name.find_iter(text.as_bytes()).any(|at| {
        let before = text.as_bytes().get(at.wrapping_sub(1)).copied();
        let after = text[at + name.needle().len()..].trim_start();
        at > 0
            && before.is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'/'))
            && after.starts_with('=')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_that_does_nothing_is_inert() {
        for text in [
            "",
            "Please turn on JavaScript.",
            "a > b { color: red }",
            r#"<iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0" style="display:none"></iframe>"#,
            r#"<img height="1" src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"/>"#,
            r#"<p>Enable <a href="/help">JavaScript</a>.</p><!-- note -->"#,
            "<style>p { color: red }</style><div>x</div>",
            "1 < 2",
        ] {
            assert!(inert_as_markup(text), "{text:?}");
        }
    }

    #[test]
    fn markup_that_acts_or_leaves_something_open_is_not() {
        for text in [
            r#"<form action="https://evil.example/">"#,
            "<FORM method=post></form>",
            "<base href=//evil.example/>",
            r#"<meta name="referrer" content="unsafe-url">"#,
            r#"<meta name="r&#101;ferrer" content="unsafe-url">"#,
            r#"<a href="/x" ping="//evil.example/">"#,
            r#"<iframe srcdoc="x"></iframe>"#,
            "<button formaction=//evil.example/>",
            "<input form=f>",
            "<!--",
            "<!-- a --!> b -->",
            "<select>",
            "<svg><![CDATA[",
            "<math>",
            "<template>",
            "<table>",
            "<textarea>",
            "<style>",
            "<title>x",
            "<script><!--</script>",
            "<plaintext>",
            r#"<a href="x"#,
            "<a",
            "<",
            "</",
            "</>",
            "<?php",
            "<![CDATA[x]]>",
        ] {
            assert!(!inert_as_markup(text), "{text:?}");
        }
    }

    #[test]
    fn held_text_is_noscript_always_and_ignored_raw_text_inside_a_select() {
        assert_eq!(
            HeldText::of(b"NoScript", false, false),
            Some(HeldText::Noscript)
        );
        assert_eq!(HeldText::of(b"style", false, false), None);
        assert_eq!(
            HeldText::of(b"STYLE", true, false),
            Some(HeldText::IgnoredInSelect)
        );
        assert_eq!(HeldText::of(b"textarea", true, false), None);
        assert_eq!(HeldText::of(b"script", true, false), None);
        for name in [&b"script"[..], b"textarea", b"noframes", b"style"] {
            assert_eq!(
                HeldText::of(name, false, true),
                Some(HeldText::InForeignContent)
            );
        }
        assert_eq!(HeldText::of(b"div", true, true), None);
    }
}
