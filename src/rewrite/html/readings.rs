//! Where browsers' readings of a page part from lol_html's: text some tree builder reads as
//! markup, and foreign content lol_html leaves where a tree builder does not (`rules.rs` has the
//! rules, SECURITY.md the model).
//!
//! One selector ([`READINGS`]) watches every element concerned:
//!
//! - `<noscript>`, the raw text elements the "in select" mode ignores inside a `<select>`, and
//!   text elements inside foreign content (`<script>` and `<textarea>` too): their text is held
//!   and kept only when inert as markup ([`HeldText`]). Held, not emptied with lol_html's
//!   `set_inner_content`: on a `<textarea>` in an SVG `<title>` that moved the text after the
//!   next tag, where it was markup;
//! - `<svg>` and `<math>`: CDATA sections are held and judged, `<![CDATA[` read as a bogus
//!   comment becomes an empty comment, and one where a `<select>` may be open stops every token;
//! - foreign elements of those names (`<svg><style>`): what lol_html reads as markup inside them
//!   may be text, so no link there gets a token, and a change to the forms stops every token;
//!   inside nested foreign content their content goes.

use std::{
    borrow::Cow,
    sync::{Arc, LazyLock},
};

use lol_html::{
    HandlerResult, Selector,
    html_content::{Comment, ContentType, DocumentEnd, TextChunk, TextType},
    send::{DocumentContentHandlers, Element, ElementContentHandlers},
};

use super::{Shared, State, is_html};
use crate::rewrite::prescan::Present;
use crate::rewrite::rules::{HeldText, MAX_HELD_TEXT, inert_as_markup};

/// The elements concerned, in three groups, each watched only where the document may have it
/// (all three in a stream): lol_html charges every selector whose last part is a tag name on
/// every tag of the page (about 3% each on the HTML specs), so they are named by their
/// ancestors where they can be (`select style` costs nothing where there is no select), and
/// foreign content's by `svg *` and `math *`, whose elements [`on_element_start`] tells apart
/// (one part each, not ten: 5% of the time on cloudflare.com).
const NOSCRIPT: &str = "noscript";
const IGNORED_IN_SELECT: &str = concat!(
    "select style, select xmp, select title, select noembed, select noframes, ",
    "select iframe, select plaintext",
);
const FOREIGN: &str = "svg, math, svg *, math *";

/// The selector watching the groups `present` may have; `None` for none.
fn readings(present: &Present) -> Option<&'static Selector> {
    // Indexed by the groups' bits: noscript 1, ignored in select 2, foreign 4.
    static SELECTORS: LazyLock<[Option<Selector>; 8]> = LazyLock::new(|| {
        std::array::from_fn(|bits| {
            let groups = [NOSCRIPT, IGNORED_IN_SELECT, FOREIGN];
            let list: Vec<&str> = (0..3)
                .filter(|bit| bits & (1 << bit) != 0)
                .map(|bit| groups[bit])
                .collect();
            (!list.is_empty()).then(|| list.join(", ").parse().expect("static selector"))
        })
    });
    let bits = usize::from(present.noscript)
        | usize::from(present.ignored_in_select) << 1
        | usize::from(present.foreign || present.cdata) << 2;
    SELECTORS[bits].as_ref()
}

/// The element, text and comment handlers of the elements concerned, and the handler of the
/// document's end; `None` where `present` says the document has none of them.
pub(super) fn handlers(
    shared: &Shared,
    present: &Present,
) -> Option<(
    (Cow<'static, Selector>, ElementContentHandlers<'static>),
    DocumentContentHandlers<'static>,
)> {
    let selector = readings(present)?;
    let on_element = Arc::clone(shared);
    let on_text = Arc::clone(shared);
    let on_comment = Arc::clone(shared);
    let handlers = ElementContentHandlers::default()
        .element(move |el: &mut Element<'_, '_>| on_element_start(&on_element, el))
        .text(move |chunk: &mut TextChunk<'_>| on_text_chunk(&on_text, chunk))
        // Only comments inside these elements: in `<svg>` and `<math>` (the others hold text),
        // or where lol_html reads markup in text after a start tag it misreads.
        .comments(move |comment: &mut Comment<'_>| {
            drop_cdata_opener(&on_comment, comment);
            Ok(())
        });
    Some(((Cow::Borrowed(selector), handlers), at_end(shared)))
}

/// The names of the elements that are integration points (SVG `foreignObject`, `desc`,
/// `title`; MathML `mi`, `mo`, `mn`, `ms`, `mtext`), as lol_html gives them (lowercase).
const INTEGRATION_POINTS: [&str; 8] = [
    "foreignobject",
    "desc",
    "title",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
];

/// An element named as an integration point, inside foreign content. One inside another
/// (`<svg><title><title>`) is HTML to a browser, and at its end tag lol_html leaves the
/// integration point where a browser does not: the browser then reads HTML (a third `<title>`'s
/// text) where lol_html reads foreign markup (a `<form>` it gave the token; found by
/// `rewrite_pieces`). Every token stops there, and the rest of the page is judged as where
/// lol_html's view is lost (a `<base>` after it may be hidden from lol_html).
fn on_integration_point_name(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    if state.foreign_open == 0 {
        return Ok(());
    }
    if state.integration_points_open > 0 {
        stop_tokens(
            &mut state,
            "an element named as an integration point inside one",
        );
        // What follows may be hidden from lol_html (a `<script><!--` it reads as SVG hid a
        // `<base>` the browser read): the rest is held and judged, as where the view is lost.
        state.view_lost = true;
    }
    if !el.can_have_content() {
        return Ok(());
    }
    state.integration_points_open += 1;
    drop(state);
    let shared = Arc::clone(shared);
    let name = el.tag_name();
    el.on_end_tag(Box::new(move |end| {
        let mut state = shared.borrow_mut();
        state.integration_points_open = state.integration_points_open.saturating_sub(1);
        // Closed by another end tag (`<svg><title></svg>`): a browser ignores that one (an
        // integration point is special), lol_html does not, and reads the next `<title>`'s end
        // as leaving it; a `<script><!--` it then reads as SVG hid a `<base>` (`rewrite_pieces`).
        if !end.name().eq_ignore_ascii_case(&name) {
            stop_tokens(&mut state, "an integration point closed by another end tag");
            state.view_lost = true;
        }
        Ok(())
    }))
}

/// An HTML element inside foreign content, outside any integration point: a tag that breaks
/// out of it (`<svg><table>`, `<math><p>`, `<svg><img>`). A browser pops every foreign element
/// there; lol_html's element stack keeps them, and closes them (with what it opened since) at
/// their own end tags, which the browser then ignores or reads as HTML: from there the two
/// stacks differ. In `<svg><table></svg><svg></table><textarea><!--</textarea>` the browser's
/// `</table>` closed the second `<svg>` (foster parented into the table), lol_html had no table
/// open and stayed in it, and read the `<!--` in what a browser reads as the textarea's text:
/// it hid the `<meta name=referrer content=unsafe-url>` after it, and the page's URL, token and
/// all, went to another site (found by `rewrite_pieces`). Every token stops, and the rest is
/// judged as where the view is lost. Drawings keep to SVG's own elements; this costs tokens
/// only on pages whose SVG holds HTML outside a `<foreignObject>`.
fn on_breakout(shared: &Shared) {
    reading_parts(
        &mut shared.borrow_mut(),
        "an HTML element breaks out of foreign content",
    );
}

/// An HTML element inside an integration point (`<svg><title><form>`). A browser reads the
/// integration point's end tag there by the "in body" rules, which stop at a special element
/// (the integration point is one) and ignore it: the `<title>` and the form stay open. lol_html
/// closes both at `</title>`, and read a later `<title>` as an SVG one where a browser reads an
/// HTML one, whose text took the links after it, tokens and all (`rewrite_pieces`). Where such
/// an element is closed by another end tag, every token stops and the rest of the page is
/// judged as where the view is lost (a browser closes it too in places, `<b>` at `</div>`:
/// that costs only tokens).
fn on_html_in_integration_point(
    shared: &Shared,
    el: &mut Element<'_, '_>,
    name: &str,
) -> HandlerResult {
    let shared = Arc::clone(shared);
    let name = name.to_owned();
    el.on_end_tag(Box::new(move |end| {
        if !end.name().eq_ignore_ascii_case(&name) {
            let mut state = shared.borrow_mut();
            stop_tokens(
                &mut state,
                "an element inside an integration point closed by another end tag",
            );
            state.view_lost = true;
        }
        Ok(())
    }))
}

/// Held text the page never closes (`<plaintext>` never is): judged at the end, and put back
/// by [`TokenRewriter::end`](super::TokenRewriter::end) where it was: before what lol_html
/// flushes at the end (an end tag the page never finishes, `</noscript\r a`, which every
/// browser drops there; appended after it, a `>` in the text finished that tag, and the rest
/// showed outside the element: `rewrite_html`).
fn at_end(shared: &Shared) -> DocumentContentHandlers<'static> {
    let at_end = Arc::clone(shared);
    DocumentContentHandlers::default().end(move |_: &mut DocumentEnd<'_>| {
        let mut state = at_end.borrow_mut();
        state.held_at_end = state.held.take().filter(|text| inert_as_markup(text));
        Ok(())
    })
}

fn on_element_start(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let name = el.tag_name();
    if name == "svg" || name == "math" {
        return on_foreign_start(shared, el, name);
    }
    if INTEGRATION_POINTS.contains(&name.as_str()) {
        on_integration_point_name(shared, el)?;
    } else if is_html(el) {
        let (in_foreign, inside_one) = {
            let state = shared.borrow();
            (state.foreign_open > 0, state.integration_points_open > 0)
        };
        if in_foreign && !inside_one {
            on_breakout(shared);
        } else if in_foreign && el.can_have_content() {
            on_html_in_integration_point(shared, el, &name)?;
        }
    }
    // `svg *` and `math *` match every element inside: only text elements concern us.
    if !HeldText::may_be(name.as_bytes()) {
        return Ok(());
    }
    if !el.can_have_content() {
        return Ok(());
    }
    // Where lol_html's foreign content may not be a browser's, an element it names HTML may
    // still have been tokenized as foreign: after `<svg><svg><img>` (the `<img>` takes a
    // browser out of both), lol_html gives an HTML `<title>` whose text it reads as markup, a
    // `<!--` there hiding the `<base>` a browser reads after `</title>` (`rewrite_pieces`).
    if !is_html(el) || shared.borrow().foreign_unsure {
        return on_foreign_text_element(shared, el, name);
    }
    let (in_select, in_foreign, misread_seen) = {
        let state = shared.borrow();
        (
            state.selects_open > 0,
            state.foreign_open > 0,
            state.misread_seen,
        )
    };
    // The misread start tag is this one, or came before: lol_html reads this element's text
    // as markup, and names it text (`<select><title a=>t<</title>`: held, the `<` went, and
    // text after a bogus comment lol_html read there moved to the end). Tokens stopped at
    // the misread tag, and what could move those placed before is judged (`reading_parts`):
    // the text is left as it is.
    if misread_seen || HeldText::of(name.as_bytes(), in_select, in_foreign).is_none() {
        return Ok(());
    }
    {
        let mut state = shared.borrow_mut();
        state.held = Some(String::new());
        state.in_held = true;
    }
    let at_end = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        // Released before inserting: the output sink borrows the state too.
        let (was_held, held) = {
            let mut state = at_end.borrow_mut();
            let was_held = std::mem::take(&mut state.in_held);
            (was_held, state.held.take())
        };
        // Not held any more: lol_html read markup in it after all.
        if !was_held {
            return Ok(());
        }
        match held {
            Some(text) if inert_as_markup(&text) => end.before(&text, ContentType::Html),
            _ => tracing::debug!(
                "text that some browser reads as markup, and that could act there, was removed"
            ),
        }
        Ok(())
    }))
}

fn on_text_chunk(shared: &Shared, chunk: &mut TextChunk<'_>) -> HandlerResult {
    // Nested matches (`<svg><svg>`) each see the chunk: the first one takes it.
    if chunk.removed() {
        return Ok(());
    }
    let mut state = shared.borrow_mut();
    if chunk.text_type() == TextType::CDataSection {
        return hold_cdata(state, chunk);
    }
    if !state.in_held {
        return Ok(());
    }
    // lol_html reads markup in this element after all (its view of foreign content differs
    // in places): what was held goes back, in place, and nothing more is held.
    if !matches!(
        chunk.text_type(),
        TextType::RawText | TextType::RCData | TextType::PlainText | TextType::ScriptData
    ) {
        state.in_held = false;
        // Outside foreign content (where an integration point is read as HTML by both), a
        // browser may read text where lol_html reads markup (a `<noscript>` start tag lol_html
        // reads otherwise): a token placed after this could be in that text.
        if state.foreign_open == 0 {
            stop_tokens(&mut state, "lol_html reads markup in text it held");
        }
        if let Some(held) = state.held.take() {
            chunk.before(&held, ContentType::Html);
        }
        return Ok(());
    }
    hold(&mut state.held, chunk.as_str());
    chunk.remove();
    Ok(())
}

/// Adds `text` to what is `held`, or gives up holding past [`MAX_HELD_TEXT`].
fn hold(held: &mut Option<String>, text: &str) {
    if let Some(so_far) = held {
        if so_far.len() + text.len() > MAX_HELD_TEXT {
            *held = None;
        } else {
            so_far.push_str(text);
        }
    }
}

/// CDATA sections in `<svg>` and `<math>`, as lol_html reads them. A tree builder does not
/// always agree: the "in select" mode ignores `<svg>` and `<math>`, and a `<p>` breaks out of
/// nested `<svg>`s where lol_html does not follow, and there `<![CDATA[` is a bogus comment up
/// to the next `>`, with markup after it. Their text is held to the section's end and judged
/// as held text is.
fn hold_cdata(
    mut state: atomic_refcell::AtomicRefMut<'_, State>,
    chunk: &mut TextChunk<'_>,
) -> HandlerResult {
    if !state.in_cdata {
        state.in_cdata = true;
        state.cdata = Some(String::new());
    }
    hold(&mut state.cdata, chunk.as_str());
    chunk.remove();
    if !chunk.last_in_text_node() {
        return Ok(());
    }
    state.in_cdata = false;
    let text = state.cdata.take().filter(|text| inert_as_markup(text));
    drop(state);
    match text {
        Some(text) => chunk.after(&text, ContentType::Html),
        None => tracing::debug!("a CDATA section that could be markup was removed"),
    }
    Ok(())
}

/// `<svg>` or `<math>`. Where a browser may be in the "in select" mode, it ignores the tag, so
/// a `<script>` or `<textarea>` after it holds text there and markup to lol_html (a `</form>`
/// lol_html follows, a link it gives a token): every token stops, and the forms held so far
/// lose theirs. The same where lol_html closes it by another element's end tag
/// (`<div><svg></div>`): a tree builder leaves foreign content there, lol_html's tokenizer
/// does not, and reads what follows as foreign markup (a `<script>`'s text, a `</form>` in it)
/// where the browser reads HTML, out of reach of the selectors that watch inside `<svg>`.
fn on_foreign_start(shared: &Shared, el: &mut Element<'_, '_>, name: String) -> HandlerResult {
    {
        let mut state = shared.borrow_mut();
        state.foreign_unsure |= state.foreign_open > 0 || state.selects_open > 0;
        if state.selects_open > 0 {
            stop_tokens(&mut state, "<svg> or <math> where a <select> may be open");
        }
        if !el.can_have_content() {
            // Self-closed: every browser leaves it at once, lol_html's tokenizer does not (not
            // before `</svg>`, `</p>`, `</br>` or a tag that breaks out), and reads a `<title>`
            // or `<style>` after it as foreign, its text as markup, out of reach of the
            // selectors inside `<svg>` (found by `rewrite_html`: a link in a `<title>` got the
            // token).
            reading_parts(&mut state, "a self-closed <svg/> or <math/>");
            return Ok(());
        }
        state.foreign_open += 1;
    }
    let at_end = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let mut state = at_end.borrow_mut();
        state.foreign_open = state.foreign_open.saturating_sub(1);
        if !end.name().eq_ignore_ascii_case(&name) {
            stop_tokens(
                &mut state,
                "foreign content closed by another element's end tag",
            );
            state.view_lost = true;
        } else if state.foreign_open == 0 {
            // lol_html is out of foreign content, and so is every browser.
            state.foreign_unsure = false;
        }
        Ok(())
    }))
}

/// A foreign element named as an HTML element whose content is text (`<svg><style>`,
/// `<svg><script>`, `<math><textarea>`): lol_html reads markup inside it, but a tree builder
/// that left foreign content where lol_html did not (`<div><svg></div>`: the `</div>` closes
/// the `<svg>`) reads text up to its end tag. Until lol_html closes it, no link gets a token (it
/// would land in text), and anything that changes which form gets one (a form's start or end,
/// a `<select>` or `<template>`) stops every token ([`form_state_unsure`]).
///
/// Where lol_html's foreign content may not be a browser's ([`State::foreign_unsure`]), the
/// content goes: a comment or an attribute lol_html reads there may hold the browser's
/// `</script>`, and hide from lol_html the markup after it
/// (`<svg><svg><div><script><!--</script><meta name=referrer content=unsafe-url>`: the `<div>`
/// took the browser out of both `<svg>`s, lol_html out of one). Ordinary inline SVG, with no
/// `<svg>` inside another, keeps its `<style>` and `<title>`.
fn on_foreign_text_element(
    shared: &Shared,
    el: &mut Element<'_, '_>,
    name: String,
) -> HandlerResult {
    let unsure = {
        let mut state = shared.borrow_mut();
        state.in_foreign_text += 1;
        if state.foreign_unsure {
            // What goes may be markup to a browser, which changes its tree from there on (an
            // `<img>` that took it out of foreign content: a `<form>` after it stays SVG, and
            // a token put into a later form joins an open one that sends by GET; found by
            // `rewrite_pieces`): no token after it can be placed safely. And what lol_html reads
            // from here may hide what a browser applies to the whole page: a `<noscript>` that
            // is text to a browser held a `<!--` to lol_html, which hid the live
            // `<meta name=referrer content=unsafe-url>` after it (`rewrite_pieces`).
            reading_parts(
                &mut state,
                "a text element in nested foreign content lost its content",
            );
        }
        state.foreign_unsure
    };
    if unsure {
        tracing::debug!("a text element in nested foreign content lost its content");
        el.set_inner_content("", ContentType::Text);
    }
    let shared = Arc::clone(shared);
    el.on_end_tag(Box::new(move |end| {
        let mut state = shared.borrow_mut();
        // Closed by another element's end tag (`</svg>`), the text may go on for that browser
        // up to a `</script>` lol_html does not report: lol_html's view is lost from here on.
        if !end.name().eq_ignore_ascii_case(&name) {
            form_state_unsure(&mut state);
        }
        state.in_foreign_text = state.in_foreign_text.saturating_sub(1);
        Ok(())
    }))
}

/// Called where lol_html sees a form, `<select>` or `<template>` start or end, or closes a
/// foreign text element by another end tag: inside a foreign text element a browser may read
/// it as text, and lol_html's view of which form owns what is unsure from there on.
pub(super) fn form_state_unsure(state: &mut State) {
    if state.in_foreign_text > 0 {
        stop_tokens(state, "markup a browser may read as text changed the forms");
    }
}

/// Called before a token is placed. While text is held outside foreign content, lol_html should
/// read none of it as markup; where it does (a `<noscript>` whose start tag it reads otherwise
/// than a browser, found by `rewrite_html`), a browser reads text there, and a token placed in it
/// would be in that text: every token stops.
pub(super) fn stop_tokens_in_held_text(state: &mut State) {
    if state.in_held && state.foreign_open == 0 {
        stop_tokens(state, "lol_html reads markup where a browser reads text");
    }
}

/// lol_html's tokenizer reads the page otherwise than every browser from here on (a start tag
/// it misreads, `misread_tags`; a self-closed `<svg/>` it stays inside): every token stops.
/// What it then reads may hide from it what a browser applies to the whole page: a `<base>`
/// that moves a token already placed in a relative URL, or a referrer policy, ping or `srcdoc`
/// that sends a page URL carrying a token elsewhere. Where either could be, the rest of the
/// page is held and judged as where the view is lost; elsewhere (no token out yet, as where a
/// template wrote `<script src=>` in the `<head>`) it streams on as it is.
pub(super) fn reading_parts(state: &mut State, why: &str) {
    stop_tokens(state, why);
    if state.relied_on_base || state.policy.guards_page_url() {
        state.view_lost = true;
    }
}

/// From here on lol_html's view may not be a browser's: no more tokens, and every held form
/// loses its own.
pub(super) fn stop_tokens(state: &mut State, why: &str) {
    if !state.tokens_stopped {
        tracing::debug!("{why}: no more tokens on this page");
        state.tokens_stopped = true;
        state.forms.strip_all();
    }
}

/// A `<![CDATA[` that lol_html reads as a bogus comment (up to the next `>`, with markup
/// after it) is a CDATA section to a tree builder whose adjusted current node is foreign, as in
/// `<math><mtext>` or `<svg><foreignObject>`: it would hide the markup lol_html judged (a
/// `</form>`) up to the next `]]>`. An empty comment in its place is a comment in every
/// reading, and every reading reads that markup (removed instead, it could join the text
/// around it into a tag: `<` + `t</title>`). Not after a start tag lol_html misreads: there
/// it reads markup in what a browser reads as text, and the comment it sees may span the
/// element's end tag (`<noscript a=><![CDATA[</noscript >x`: replaced, the `</noscript >` went
/// and the `x` after it with it; found by `rewrite_html`). Every token has stopped there, and
/// what could still send one elsewhere is judged where the view is lost: the page stays as it is.
fn drop_cdata_opener(shared: &Shared, comment: &mut Comment<'_>) {
    if comment.text().starts_with("[CDATA[") && !shared.borrow().misread_seen {
        tracing::debug!("a <![CDATA[ read as a bogus comment became an empty comment");
        comment.replace("<!---->", ContentType::Html);
    }
}
