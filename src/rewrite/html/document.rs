//! The handlers for what shapes the document: `<base>` (where relative URLs go), `<template>`
//! and `<select>` (what lol_html reads as markup and a tree builder may not), and the place of
//! the script client's element.

use lol_html::{HandlerResult, html_content::ContentType, send::Element};

use std::sync::Arc;

use super::{Attrs, Shared, is_html, readings};
use crate::rewrite::attribute::decode_entities;

/// Puts the script client's element first into the page's `<head>` (or `<body>`, when the page
/// names no head), once.
pub(super) fn place_script(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
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

pub(super) fn on_base(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    // A base in a template's contents is no base of the document's. One in what lol_html
    // takes for foreign content may or may not be: after nested `<svg>`s, a `<p>` breaks out
    // of foreign content in the tree builder and lol_html does not follow, so it may be the
    // document's; or it is an SVG element, and a later `<base>` is the document's
    // (`<svg><base href=/a/><table><base href=//evil.example/>`: `<table>` leaves the `<svg>`).
    // So it is judged as a base, and leaves the first-base slot to the next one. The same for
    // one inside a `<select>`: the "in select" mode ignores it, the relaxed `<select>` parser
    // keeps it (`<select><base href=/a/><input>` then `<base href=//evil.example/>`: the
    // `<input>` closes the select, and the evil base is the first one to that reading; found by
    // `rewrite_pieces`).
    if state.forms.in_template() {
        return Ok(());
    }
    let Attrs {
        values: [href],
        faithful,
        ..
    } = Attrs::read(el, ["href"], &state.marks);
    let Some(href) = href else {
        return Ok(());
    };
    // An empty or unparsable base leaves the page's URL, as in a browser.
    let base = state
        .policy
        .resolve(&decode_entities(&href), state.policy.page())
        .unwrap_or_else(|| state.policy.page().clone());
    let own = state.policy.is_own(&base);
    // A base some reading may not take as the document's.
    let maybe_ignored = !is_html(el) || state.selects_maybe_html > 0;
    if (state.relied_on_base || maybe_ignored) && !own {
        // The first base applies to every URL of the document, also the ones already sent:
        // this one would take their tokens to another site.
        tracing::debug!(
            "a late <base href> would send earlier tokens elsewhere; its href is removed"
        );
        if faithful {
            el.remove_attribute("href");
        } else {
            // lol_html would write the rest back with another meaning (`Attrs::faithful`): a
            // bare `<base>` in its place (found by `rewrite_html`: a value swallowed the page).
            // One lol_html reads as foreign has content, which stays (`replace` took it along,
            // the rest of the page: `rewrite_html`).
            el.before("<base>", ContentType::Html);
            if el.can_have_content() {
                el.remove_and_keep_content();
            } else {
                el.remove();
            }
        }
        return Ok(());
    }
    if !state.base_seen {
        state.base_seen = !maybe_ignored;
        state.base = base;
    }
    Ok(())
}

/// A start tag inside a `<select>` (lol_html's view) that some reading takes out of it: the
/// "in select" mode closes the select at `<input>`, `<keygen>` and `<textarea>`, the relaxed
/// parser at table parts too. The browser then ignores the `</select>` after it, and lol_html
/// pops at that end tag what the browser keeps open: in
/// `<form method=post><select><table></select></form><button formaction=//evil.example/>` the
/// table stays open, so `</form>` (its form out of scope) is ignored and the button belongs to
/// the form, whose token went to another site (found by `rewrite_pieces`). From here on the
/// rewriter is unsure where selects end, as where one closed at another end tag.
pub(super) fn on_select_closer(shared: &Shared, _: &mut Element<'_, '_>) -> HandlerResult {
    let mut state = shared.borrow_mut();
    readings::form_state_unsure(&mut state);
    state.forms.select_may_have_closed();
    Ok(())
}

/// `<template>` and `<select>`: where a form may not get the token.
pub(super) fn on_container(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let template = el.tag_name() == "template";
    let html = is_html(el);
    let mut state = shared.borrow_mut();
    readings::form_state_unsure(&mut state);
    if !el.can_have_content() {
        // A self-closed foreign `<select/>` or `<template/>` holds nothing (and can have no
        // end-tag handler: asking for one stopped lol_html, and the rest of the chunk was lost;
        // found by `rewrite_html`). A browser whose foreign content ended where lol_html's did
        // not reads an HTML `<select>` there, left open.
        if !template && state.foreign_unsure {
            readings::stop_tokens(
                &mut state,
                "a self-closed <select> some browser may read as an open HTML one",
            );
        }
        return Ok(());
    }
    // Selects in any namespace: lol_html's view of foreign content is not every tree builder's.
    // A template is taken out of one only where it may be an HTML select to some browser.
    let inside_select = state.selects_maybe_html > 0;
    // A foreign `<select>` is one to every browser unless lol_html's foreign content may not
    // be theirs.
    let maybe_html_select = !template && (html || state.foreign_unsure);
    if !template {
        state.selects_open += 1;
    }
    if maybe_html_select {
        state.selects_maybe_html += 1;
    }
    // After nested foreign content lol_html may read an HTML `<template>` where a browser is
    // still in foreign content (`<svg><math><mtext>`: a `<math>` inside `<svg>` is SVG to a tree
    // builder, so no integration point), and reads a foreign element whose content is live
    // markup: a `<div>` in it breaks out, and a `<base>` after that is the document's. Such a
    // template is not followed as one: its bases are judged and its forms are forms.
    let followed = !(template && state.foreign_unsure);
    if html {
        if template {
            if followed {
                state.forms.template_opened();
            }
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
            if followed {
                state.forms.template_closed(by_own_end_tag);
            }
        } else {
            state.selects_open = state.selects_open.saturating_sub(1);
            if maybe_html_select {
                state.selects_maybe_html = state.selects_maybe_html.saturating_sub(1);
            }
            if html {
                state.forms.select_closed(by_own_end_tag);
            }
        }
        Ok(())
    }))
}
