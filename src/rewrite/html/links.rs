//! The handlers for URLs outside forms: links, frames and refreshes get the token when they
//! stay on this site (with `use_get`); pings, referrer policies and `srcdoc` that could send the
//! page's own URL elsewhere are judged.

use lol_html::{HandlerResult, html_content::ContentType, send::Element};

use super::{Attrs, Shared, State, is_html, readings, write_bare};
use crate::{
    rewrite::{
        attribute::{decode_entities, encode_attribute},
        policy::has_scheme,
        rules::{Meta, keyword},
    },
    settings::is_safe_referrer_policy,
};

/// Puts the token into the URL attribute `name` (with value `raw`), when it stays on this site.
fn rewrite_url_attribute(
    state: &mut State,
    el: &mut Element<'_, '_>,
    name: &str,
    raw: Option<String>,
) -> HandlerResult {
    if state.policy.use_get() {
        readings::stop_tokens_in_held_text(state);
    }
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

/// A start tag lol_html cannot write back with the same meaning ([`super::Attrs`]'s
/// `faithful`) that must still lose something: a weak referrer policy or a ping would send the
/// page's URL, token and all, elsewhere, and left as it is it did (`<img
/// referrerpolicy=unsafe-url =x src=//evil.example/i>`, found while fixing a `rewrite_html`
/// finding on `<base>`). The tag is written bare instead, but for its URLs (`urls`: each name
/// with its first value as the page has it, `None` where absent or misread), so a link still
/// goes where it went, without a token.
fn write_unwritable_bare(el: &mut Element<'_, '_>, urls: &[(&str, Option<&str>)]) {
    tracing::debug!("a tag that could not be written back safely lost its other attributes");
    let mut kept = String::new();
    for (name, value) in urls {
        if let Some(value) = value {
            // References read the same in double quotes as in any other value.
            kept.push_str(&format!(r#" {name}="{}""#, value.replace('"', "&quot;")));
        }
    }
    write_bare(el, &kept);
}

pub(super) fn on_link(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy, ping, href, xlink_href],
        faithful,
        misread: [_, ping_misread, href_misread, xlink_href_misread],
    } = Attrs::read(
        el,
        ["referrerpolicy", "ping", "href", "xlink:href"],
        &shared.borrow().marks,
    );
    if !faithful {
        if is_weak_referrer_policy(policy) || ping.is_some() {
            let href = href.as_deref().filter(|_| !href_misread);
            let xlink_href = xlink_href.as_deref().filter(|_| !xlink_href_misread);
            write_unwritable_bare(el, &[("href", href), ("xlink:href", xlink_href)]);
        }
        return Ok(());
    }
    drop_weak_referrer_policy(el, policy);
    let html = is_html(el);
    // In SVG only `<a>` is a link.
    if !html && el.tag_name() != "a" {
        return Ok(());
    }
    let mut state = shared.borrow_mut();
    // Targets after a misread start could be anywhere.
    if ping_misread {
        tracing::debug!("a ping lol_html misread was removed");
        el.remove_attribute("ping");
    }
    // A ping tells its target the link's URL (`Ping-To`) and, from an http page, the page's
    // own URL (`Ping-From`): either may hold a token, so pings to other sites go.
    if let Some(ping) = ping.filter(|_| !ping_misread) {
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
    // SVG 2 links use `href`, older ones `xlink:href`; `href` wins when both are there. A
    // misread one gets no token: written back, it would point elsewhere.
    if html || href.is_some() {
        rewrite_url_attribute(&mut state, el, "href", href.filter(|_| !href_misread))
    } else {
        let xlink_href = xlink_href.filter(|_| !xlink_href_misread);
        rewrite_url_attribute(&mut state, el, "xlink:href", xlink_href)
    }
}

pub(super) fn on_frame(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy, src, srcdoc],
        faithful,
        misread: [_, src_misread, srcdoc_misread],
    } = Attrs::read(
        el,
        ["referrerpolicy", "src", "srcdoc"],
        &shared.borrow().marks,
    );
    if !faithful {
        if is_weak_referrer_policy(policy) || srcdoc.is_some() {
            write_unwritable_bare(el, &[("src", src.as_deref().filter(|_| !src_misread))]);
        }
        return Ok(());
    }
    drop_weak_referrer_policy(el, policy);
    if !is_html(el) {
        return Ok(());
    }
    // A misread document may hold anything after its first character.
    if srcdoc_misread || srcdoc.is_some_and(|doc| may_set_referrer_policy(&doc)) {
        tracing::debug!("an iframe srcdoc that may weaken the referrer policy was removed");
        el.remove_attribute("srcdoc");
    }
    let src = src.filter(|_| !src_misread);
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

pub(super) fn on_referrer_only(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [policy, src, href],
        faithful,
        misread: [_, src_misread, href_misread],
    } = Attrs::read(
        el,
        ["referrerpolicy", "src", "href"],
        &shared.borrow().marks,
    );
    if faithful {
        drop_weak_referrer_policy(el, policy);
    } else if is_weak_referrer_policy(policy) {
        let src = src.as_deref().filter(|_| !src_misread);
        let href = href.as_deref().filter(|_| !href_misread);
        write_unwritable_bare(el, &[("src", src), ("href", href)]);
    }
    Ok(())
}

pub(super) fn on_meta(shared: &Shared, el: &mut Element<'_, '_>) -> HandlerResult {
    let Attrs {
        values: [name, http_equiv, content],
        faithful,
        ..
    } = Attrs::read(
        el,
        ["name", "http-equiv", "content"],
        &shared.borrow().marks,
    );
    let mut state = shared.borrow_mut();
    let base = state.base.clone();
    let meta = Meta::judge(&state.policy, &base, name, http_equiv, content.as_deref());
    if !faithful {
        // A bare `<meta>` in its place: no policy, and the page's tree keeps its element.
        if matches!(meta, Meta::ReferrerPolicy) && is_weak_referrer_policy(content) {
            tracing::debug!("a weak <meta name=referrer> that could not be written back went");
            el.replace("<meta>", ContentType::Html);
        }
        return Ok(());
    }
    if matches!(meta, Meta::RefreshWithToken(..)) {
        readings::stop_tokens_in_held_text(&mut state);
    }
    match meta {
        Meta::ReferrerPolicy => {
            // A weak document policy would send the page's URL, token and all, elsewhere.
            // Judged in any namespace: `<svg><meta>` breaks out of foreign content in the tree
            // builder and is an HTML `<meta>` after all, which lol_html does not know.
            if content.is_some() && is_weak_referrer_policy(content) {
                tracing::debug!("a weak <meta name=referrer> lost its content");
                el.remove_attribute("content");
            }
        }
        // A refresh in what lol_html takes for foreign content gets no token (failing closed).
        Meta::RefreshWithToken(content, relative)
            if is_html(el) && !state.tokens_stopped && state.in_foreign_text == 0 =>
        {
            state.relied_on_base |= relative;
            el.set_attribute("content", &encode_attribute(&content))?;
        }
        Meta::RefreshWithToken(..) | Meta::Other => {}
    }
    Ok(())
}
